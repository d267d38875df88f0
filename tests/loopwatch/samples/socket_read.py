"""A "requests-style" blocking call: a synchronous socket read from a slow local server."""

import asyncio
import socket
import sys


async def fetch_price(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /price HTTP/1.0\r\n\r\n")
        reply = sock.recv(1024)
    return reply


async def main() -> None:
    await asyncio.sleep(0.05)
    print((await fetch_price(int(sys.argv[1]))).decode().strip())
    await asyncio.sleep(0.1)


asyncio.run(main())
