"""Prints "ready", then: waits in asyncio until signalled (`wait`), blocks its loop for good
(`block`) or for 1.5 s (`stuck`; LOOPWATCH_SAMPLE_SECONDS overrides it, as the tests do to
scale it with BINANCE_DIAG_TEST_MS); or kills itself with SIGTERM at once (`kill`)."""

import asyncio
import os
import signal
import sys
import time

STUCK = float(os.environ.get("LOOPWATCH_SAMPLE_SECONDS", "1.5"))
BLOCK_SECONDS = {"block": 30.0, "stuck": STUCK}


async def main() -> None:
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    if sys.argv[1] in BLOCK_SECONDS:
        time.sleep(BLOCK_SECONDS[sys.argv[1]])
    await asyncio.sleep(30)


asyncio.run(main())
