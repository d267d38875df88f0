"""Forks (as multiprocessing's fork start method does) after its first loop ran: the child's
blockage is the child's business, not reported on the parent's pipe."""

import asyncio
import os
import time


async def blocked() -> None:
    await asyncio.sleep(0.05)
    time.sleep(0.2)
    await asyncio.sleep(0.1)


async def healthy() -> None:
    await asyncio.sleep(0.05)


asyncio.run(healthy())
pid = os.fork()
if pid == 0:
    asyncio.run(blocked())
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(f"child exited {os.waitstatus_to_exitcode(status)}")
