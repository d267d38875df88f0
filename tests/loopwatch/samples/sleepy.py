"""A coroutine that calls time.sleep(): the classic blocked loop. It sleeps 0.3 s, or what
LOOPWATCH_SAMPLE_SECONDS says (the tests scale it with BINANCE_DIAG_TEST_MS)."""

import asyncio
import os
import time

SECONDS = float(os.environ.get("LOOPWATCH_SAMPLE_SECONDS", "0.3"))


async def handler() -> None:
    time.sleep(SECONDS)


async def main() -> None:
    await asyncio.sleep(0.05)
    await handler()
    await asyncio.sleep(0.1)


asyncio.run(main())
