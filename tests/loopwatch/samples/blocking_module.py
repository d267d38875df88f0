"""Run as `python -m blocking_module`: blocks its loop once."""

import asyncio
import time


async def load_settings() -> None:
    time.sleep(0.2)  # a slow network file system, say


async def main() -> None:
    await asyncio.sleep(0.05)
    await load_settings()
    await asyncio.sleep(0.1)


if __name__ == "__main__":
    asyncio.run(main())
    print(f"ran as {__spec__.name if __spec__ else None}")
