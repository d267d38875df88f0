"""Closes the pipes it did not open, as a daemon closes descriptors it does not know, then
opens a file that gets the freed number, and blocks its loop: the watchdog must not write
into that file."""

import asyncio
import os
import sys
import time


def close_pipes() -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.close(fd)
        except OSError:
            pass


async def main() -> None:
    await asyncio.sleep(0.05)
    close_pipes()
    with open(sys.argv[1], "w", encoding="utf-8") as own:
        time.sleep(0.2)
        await asyncio.sleep(0.1)
        own.write("mine\n")


asyncio.run(main())
