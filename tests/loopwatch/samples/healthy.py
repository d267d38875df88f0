"""A healthy program: only asyncio.sleep; echoes stdin to stdout to show both are untouched."""

import asyncio
import sys


async def tick(name: str, times: int) -> None:
    for _ in range(times):
        await asyncio.sleep(0.02)


async def main() -> None:
    await asyncio.gather(tick("a", 20), tick("b", 20))
    sys.stdout.write(sys.stdin.read().upper())
    print("stderr is mine", file=sys.stderr)


asyncio.run(main())
