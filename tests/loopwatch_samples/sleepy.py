"""A coroutine that calls time.sleep(0.3): the classic blocked loop."""

import asyncio
import time


async def handler() -> None:
    time.sleep(0.3)


async def main() -> None:
    await asyncio.sleep(0.05)
    await handler()
    await asyncio.sleep(0.1)


asyncio.run(main())
