"""The runtime every fake peer shares: its own event loop in a thread, loopback-only binding.

A peer runs in a background thread with its own asyncio loop so that a test may block the
probe's loop (to provoke a watchdog finding, say) without freezing the peer it talks to.
`Peer` is the context manager; `StreamPeer` adds a TCP listener whose connections are
tracked, so that stopping aborts every one of them: no thread, socket or transport outlives
the `with` block, and pytest's warnings-as-errors never sees a ResourceWarning.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

T = TypeVar("T")

LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0

logger = logging.getLogger(__name__)

EXPECTED_PEER_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncio.IncompleteReadError,
    ssl.SSLError,
    EOFError,
)
"""What a client may legitimately cause on our side (reset, bad handshake...): not a bug."""


def check_loopback(host: str, *, allow_external: bool = False) -> str:
    """Refuse any address but loopback: the simulators must never face a real network.

    Only IP literals are accepted, so that no name resolution can pick another interface.
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"simulated peers bind IP literals only, got {host!r}") from None
    if not address.is_loopback and not allow_external:
        raise ValueError(
            f"refusing to bind non-loopback address {host}: pass allow_external=True to do so"
        )
    return str(address)


class LoopThread:
    """An asyncio event loop running forever in a daemon thread, fed from other threads."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []
        """Unexpected errors reported by the loop (bugs in a peer, not client behaviour)."""

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"{self._name} is not running")
        return self._loop

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self._name} is already running")
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._on_loop_error)

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError(f"{self._name}: event loop did not start")

    def call(self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
        """Run a coroutine on the loop and wait for its result from the calling thread."""
        future = asyncio.run_coroutine_threadsafe(factory(), self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT)
        if self._thread.is_alive():  # pragma: no cover - would be a bug in a peer
            raise RuntimeError(f"{self._name}: loop thread did not stop")
        self._loop = None
        self._thread = None

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, EXPECTED_PEER_ERRORS):
            return
        self.errors.append(f"{context.get('message')}: {exc!r}")
        logger.error("%s: %s", self._name, context.get("message"), exc_info=exc)


class Peer(ABC):
    """A fake network peer: `with SomePeer(...) as peer:` binds, serves, then stops cleanly.

    Binds to loopback port 0 (ephemeral) unless told otherwise; `.host` and `.port` are the
    address actually bound.
    """

    def __init__(self, host: str = LOOPBACK_V4, port: int = 0, *, allow_external: bool = False):
        self.host = check_loopback(host, allow_external=allow_external)
        self.port = port
        self._runtime = LoopThread(f"{type(self).__name__}-loop")

    @property
    def errors(self) -> list[str]:
        """Unexpected errors inside the peer; a test can assert this stays empty."""
        return self._runtime.errors

    def start(self) -> Self:
        self._runtime.start()
        try:
            self._runtime.call(self._start, START_TIMEOUT)
        except BaseException:
            self._runtime.stop()
            raise
        return self

    def stop(self) -> None:
        """Release everything; a no-op when not running, so it is safe to call twice."""
        if not self._runtime.running:
            return
        try:
            self._runtime.call(self._stop, STOP_TIMEOUT)
        finally:
            self._runtime.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @abstractmethod
    async def _start(self) -> None:
        """Bind (on the peer's loop) and set `self.port` to the port actually bound."""

    @abstractmethod
    async def _stop(self) -> None:
        """Release every socket and task (on the peer's loop)."""


class StreamPeer(Peer):
    """A TCP listener whose connections each run `handle` until it returns or we stop."""

    def __init__(
        self,
        host: str = LOOPBACK_V4,
        port: int = 0,
        *,
        allow_external: bool = False,
        backlog: int = 100,
    ):
        super().__init__(host, port, allow_external=allow_external)
        self._backlog = backlog
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._lock = threading.Lock()
        self._accepted = 0

    @property
    def accepted(self) -> int:
        """How many TCP connections were accepted so far."""
        with self._lock:
            return self._accepted

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, backlog=self._backlog
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        with self._lock:
            self._accepted += 1
        try:
            await self.handle(reader, writer)
        except EXPECTED_PEER_ERRORS:
            pass
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a bug in a peer: keep it visible to the test
            self.errors.append(f"{type(self).__name__}.handle: {exc!r}")
            logger.exception("%s: connection handler failed", type(self).__name__)
        finally:
            writer.transport.abort()
            del self._connections[task]

    @abstractmethod
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one accepted connection. Expected client-caused errors may propagate."""
