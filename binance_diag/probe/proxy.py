"""The `proxy` stage: TCP to the proxy, then the CONNECT or SOCKS5 handshake to the target.

Only present when a proxy is in use. When it passes, the connection it leaves is a tunnel to
the target: the TLS stage runs through it exactly as it would on a direct connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from ..addresses import hostport
from ..config.probe import ProbeConfig
from ..model import JSON, ErrorKind
from ..timing import Deadline, format_seconds
from .base import ProbeState, StageOutcome, Tracer, failed, passed
from .connection import Connection
from .sansio.tunnel import HttpConnect, Socks5, TunnelHandshake
from .tcp import open_socket


async def open_tunnel(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline
) -> StageOutcome:
    proxy = config.proxy.proxy if config.proxy else None
    assert proxy is not None
    target = config.target
    common: dict[str, JSON] = {"proxy": proxy.url, "source": proxy.source,
                               "type": proxy.scheme}
    try:
        addresses = await _proxy_addresses(proxy.host, proxy.port, deadline)
    except (OSError, TimeoutError) as exc:
        message = f"cannot resolve proxy host {proxy.host}: {exc}"
        return failed(ErrorKind.UNREACHABLE if isinstance(exc, OSError) else ErrorKind.TIMEOUT,
                      message, **common)
    sock, peer = None, ("", 0)
    kind, message = ErrorKind.UNREACHABLE, "no address for the proxy"
    for index, address in enumerate(addresses):
        budget = deadline.remaining() / (len(addresses) - index)
        tracer.event(f"TCP connect to proxy {hostport(address, proxy.port)}")
        sock, error_kind, message = await open_socket(address, proxy.port, budget)
        if sock is not None:
            peer = (address, proxy.port)
            common["proxy_address"] = hostport(address, proxy.port)
            break
        kind = error_kind or ErrorKind.UNREACHABLE
    if sock is None:
        return failed(kind, f"proxy {proxy.url}: {message}", **common)
    connection = Connection(sock, peer)
    state.connection = connection
    goal = target.host if proxy.remote_dns or not state.addresses else state.addresses[0]
    handshake: TunnelHandshake
    if proxy.scheme == "http":
        handshake = HttpConnect(goal, target.port, proxy.username, proxy.password,
                                config.user_agent)
    else:
        handshake = Socks5(goal, target.port, proxy.username, proxy.password)
    tracer.event(f"{'CONNECT' if proxy.scheme == 'http' else 'SOCKS5'} "
                 f"{hostport(goal, target.port)} via {proxy.url}")
    try:
        while not (handshake.done or handshake.error):
            await connection.send(handshake.bytes_to_send(), deadline)
            handshake.feed(await connection.recv(deadline))
    except TimeoutError:
        return failed(ErrorKind.TIMEOUT, f"proxy did not answer the handshake in "
                      f"{format_seconds(deadline.budget)}", **common)
    except (ConnectionResetError, BrokenPipeError):
        return failed(ErrorKind.REJECTED, "proxy reset the connection during the handshake",
                      **common)
    if handshake.error is not None:
        error = handshake.error
        tracer.event(f"proxy handshake failed: {error.message}")
        return failed(error.kind, error.message, dict(error.extra), **common)
    if isinstance(handshake, HttpConnect):
        common["status"] = handshake.status
    tracer.event(f"tunnel to {hostport(goal, target.port)} open")
    return passed(**common, tunnel_to=hostport(goal, target.port))


async def _proxy_addresses(host: str, port: int, deadline: Deadline) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(deadline.remaining()):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
