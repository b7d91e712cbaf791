"""A TCP forwarder on 127.0.0.1 whose link can be cut and healed like a network partition."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import Any


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """Forwards each connection to ``host:port``. :meth:`cut` stops the bytes both ways without
    closing anything (new connections are accepted and hear nothing), as a partitioned network
    does; :meth:`heal` lets them flow again, the bytes held meanwhile first. :attr:`accepted`:
    when (``time.monotonic()``) each connection came, so a test can time what a client does from
    its first connection on, leaving out how long the client took to start."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.accepted: list[float] = []

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cut(self) -> None:
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted.append(time.monotonic())
        accepting = asyncio.current_task()
        if accepting is not None:  # cancelled on exit too, when still waiting for the link to heal
            self._tasks.add(accepting)
            accepting.add_done_callback(self._tasks.discard)
        self._writers.append(writer)
        await self._flowing.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers.append(up_writer)
        self._start(self._pump(reader, up_writer))
        self._start(self._pump(up_reader, writer))

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                await self._flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.close()
