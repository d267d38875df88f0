"""Two asyncio.run() in sequence, and a third loop in another thread: each blocks once."""

import asyncio
import threading
import time


async def first() -> None:
    await asyncio.sleep(0.05)
    time.sleep(0.2)
    await asyncio.sleep(0.1)


async def second() -> None:
    await asyncio.sleep(0.05)
    time.sleep(0.25)
    await asyncio.sleep(0.1)


async def in_worker() -> None:
    await asyncio.sleep(0.05)
    time.sleep(0.2)
    await asyncio.sleep(0.1)


asyncio.run(first())
asyncio.run(second())
worker = threading.Thread(target=asyncio.run, args=(in_worker(),), name="feed")
worker.start()
worker.join()
