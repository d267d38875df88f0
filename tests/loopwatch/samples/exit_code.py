"""Exits with code 7 after a short asyncio run."""

import asyncio
import sys


async def main() -> None:
    await asyncio.sleep(0.01)


asyncio.run(main())
sys.exit(7)
