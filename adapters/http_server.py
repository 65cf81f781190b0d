"""An HTTP/1.1 server on h11 and anyio, over TCP and unix sockets.

Theory of operation. Each connection is one task looping over request/response cycles of
one ``h11.Connection``: wait (at most ``idle_timeout``) for the first bytes of the next
request, read the whole request (at most ``read_timeout``, at most ``max_body_size`` bytes
of body), call the handler, send what it returns, and start the next cycle if h11 says the
connection can be kept alive. h11 decides everything about the protocol: keep-alive,
framing (a :class:`~.http.StreamingResponse` goes out chunked because it has no
``Content-Length``), and which status a malformed request earns (``error_status_hint``: 400,
or 431 for a head larger than ``max_header_size``).

While a streaming response is sent, a second task keeps reading the socket: end of stream
or a reset means the client has gone, and the stream's iteration is cancelled (its
generator closed), so the handler stops producing.

Shutdown is graceful: listeners close first; idle keep-alive connections close at once;
requests in flight finish (their responses carry ``Connection: close``) within the grace
period, after which whatever is left is cancelled.

Handler exceptions become a 500 and are logged; no exception of a connection reaches the
server's caller. Left for later: TLS and mutual TLS, metrics, authentication.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import anyio
import anyio.abc
import attrs
import h11
from anyio.abc import SocketAttribute

from .errors import TransportError
from .http import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEADER_SIZE,
    Handler,
    Request,
    Response,
    StreamingResponse,
)

__all__ = ["HTTPServer"]

logger = logging.getLogger(__name__)

_CHUNK = 65536
_STREAM_ERRORS = (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError)
_FRAMING = {b"content-length", b"transfer-encoding"}


class _Close(Exception):  # noqa: N818 - a signal within this module, not an error
    """End this connection now (the peer left, or an error answer was sent)."""


async def _receive(stream: anyio.abc.ByteStream) -> bytes:
    """The next bytes from ``stream``; ``b""`` at its end (as h11 wants it)."""
    try:
        return await stream.receive(_CHUNK)
    except anyio.EndOfStream:
        return b""


@attrs.define(eq=False)
class _Connection:
    stream: anyio.abc.ByteStream
    protocol: h11.Connection
    idle_scope: anyio.CancelScope | None = None
    scope: anyio.CancelScope = attrs.Factory(anyio.CancelScope)


class HTTPServer:
    """Serves ``handler`` on any number of TCP and unix listeners.

    Use it as an async context manager; leaving it shuts down gracefully (see
    :meth:`aclose`)::

        async with HTTPServer(handler) as server:
            host, port = await server.listen_tcp("127.0.0.1", 0)
            await server.listen_unix("/run/interlink.sock")
            await anyio.sleep_forever()
    """

    def __init__(
        self,
        handler: Handler,
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        read_timeout: float = 30.0,
        idle_timeout: float = 60.0,
        shutdown_grace: float = 10.0,
    ) -> None:
        self._handler = handler
        self._max_header_size = max_header_size
        self._max_body_size = max_body_size
        self._read_timeout = read_timeout
        self._idle_timeout = idle_timeout
        self._shutdown_grace = shutdown_grace
        self._connections: set[_Connection] = set()
        self._listener_scopes: list[anyio.CancelScope] = []
        self._all_gone = anyio.Event()
        self._closing = False
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._task_group: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> HTTPServer:
        stack = contextlib.AsyncExitStack()
        self._task_group = await stack.enter_async_context(anyio.create_task_group())
        self._exit_stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        stack, self._exit_stack = self._exit_stack, None
        if stack is not None:
            await stack.aclose()

    async def listen_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Start serving on ``host:port`` (0: any free port); return the address bound."""
        try:
            listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
        except OSError as exc:
            raise TransportError(f"cannot listen on {host}:{port}: {exc}") from exc
        address = listener.listeners[0].extra(SocketAttribute.local_address)  # noqa: S610
        await self._serve(listener)
        return str(address[0]), int(address[1])

    async def listen_unix(self, path: str | Path) -> None:
        """Start serving on a unix socket at ``path`` (an existing socket file is replaced)."""
        try:
            if Path(path).is_socket():
                Path(path).unlink()
            listener = await anyio.create_unix_listener(path)
        except OSError as exc:
            raise TransportError(f"cannot listen on {path}: {exc}") from exc
        await self._serve(listener)

    async def _serve(self, listener: anyio.abc.Listener[Any]) -> None:
        if self._task_group is None or self._closing:
            await listener.aclose()
            raise RuntimeError("the server is not running: use it as an async context manager")
        scope = anyio.CancelScope()
        self._listener_scopes.append(scope)
        task_group = self._task_group

        async def accept() -> None:
            with scope:
                async with listener:
                    await listener.serve(self._connection, task_group=task_group)

        task_group.start_soon(accept)

    async def aclose(self) -> None:
        """Stop accepting, close idle connections, let requests in flight finish (up to
        ``shutdown_grace`` seconds, then cancel them). Idempotent; leaving the context
        calls it."""
        if self._closing:
            return
        self._closing = True
        for scope in self._listener_scopes:
            scope.cancel()
        for connection in list(self._connections):
            if connection.idle_scope is not None:
                # A shutdown of the socket ends the pending receive as an end of stream
                # would; cancelling or closing it instead races anyio's unix sockets (a
                # reader already queued fires on a future that is done).
                raw = connection.stream.extra(SocketAttribute.raw_socket, None)  # noqa: S610
                if raw is not None:
                    with contextlib.suppress(OSError):
                        raw.shutdown(socket.SHUT_RDWR)
        if self._connections:
            with anyio.move_on_after(self._shutdown_grace):
                await self._all_gone.wait()
        for connection in list(self._connections):
            connection.scope.cancel()

    async def _connection(self, stream: anyio.abc.ByteStream) -> None:
        if self._closing:
            await stream.aclose()
            return
        connection = _Connection(
            stream=stream,
            protocol=h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_header_size),
        )
        self._connections.add(connection)
        try:
            with connection.scope:
                async with stream:
                    while not self._closing:
                        request = await self._read_request(connection)
                        if request is None:
                            break
                        await self._respond(connection, request)
                        if connection.protocol.our_state is not h11.DONE:
                            break
                        connection.protocol.start_next_cycle()
        except (_Close, *_STREAM_ERRORS):
            pass
        except Exception:
            logger.exception("HTTP connection failed")
        finally:
            self._connections.discard(connection)
            if self._closing and not self._connections:
                self._all_gone.set()

    async def _send(self, connection: _Connection, *events: h11.Event) -> None:
        data = b"".join(connection.protocol.send(event) or b"" for event in events)
        if data:
            await connection.stream.send(data)

    async def _send_error(self, connection: _Connection, status: int, reason: str) -> NoReturn:
        """Answer ``status`` and end the connection (when h11 still lets us answer)."""
        if connection.protocol.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            body = f"{reason}\n".encode()
            headers = [
                ("content-type", "text/plain; charset=utf-8"),
                ("content-length", str(len(body))),
                ("connection", "close"),
            ]
            with contextlib.suppress(h11.LocalProtocolError, *_STREAM_ERRORS):
                await self._send(
                    connection,
                    h11.Response(status_code=status, headers=headers),
                    h11.Data(data=body),
                    h11.EndOfMessage(),
                )
        raise _Close

    async def _next_event(self, connection: _Connection) -> object:
        """The next event of the peer, reading as needed; 400/431 for malformed input."""
        while True:
            try:
                event = connection.protocol.next_event()
            except h11.RemoteProtocolError as exc:
                await self._send_error(connection, exc.error_status_hint, str(exc))
            if event is h11.NEED_DATA:
                connection.protocol.receive_data(await _receive(connection.stream))
                continue
            return event

    async def _read_request(self, connection: _Connection) -> Request | None:
        """The next whole request, or ``None`` when the connection should just end."""
        conn = connection.protocol
        if conn.trailing_data[0] == b"":
            # Idle keep-alive: wait for the first bytes; shutdown may cancel this wait.
            with anyio.move_on_after(self._idle_timeout) as scope:
                connection.idle_scope = scope
                if self._closing:
                    return None
                data = await _receive(connection.stream)
            connection.idle_scope = None
            if scope.cancelled_caught or not data:
                return None
            if self._closing:
                return None
            conn.receive_data(data)
        try:
            with anyio.fail_after(self._read_timeout):
                return await self._read_rest(connection)
        except TimeoutError:
            await self._send_error(connection, 408, "request timed out")

    async def _read_rest(self, connection: _Connection) -> Request | None:
        event = await self._next_event(connection)
        if isinstance(event, h11.ConnectionClosed):
            return None
        if not isinstance(event, h11.Request):
            await self._send_error(connection, 400, f"unexpected {type(event).__name__}")
        # h11 bounds only a head still incomplete; a whole one that came in one read is
        # bounded here.
        head_size = len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers)
        if head_size > self._max_header_size:
            await self._send_error(connection, 431, "request header fields too large")
        length = dict(event.headers).get(b"content-length")
        if length is not None and int(length) > self._max_body_size:
            await self._send_error(connection, 413, "request body too large")
        if connection.protocol.they_are_waiting_for_100_continue:
            await self._send(connection, h11.InformationalResponse(status_code=100, headers=[]))
        body = bytearray()
        while True:
            part = await self._next_event(connection)
            if isinstance(part, h11.Data):
                body += part.data
                if len(body) > self._max_body_size:
                    await self._send_error(connection, 413, "request body too large")
            elif isinstance(part, h11.EndOfMessage):
                break
            else:  # ConnectionClosed mid-body is a RemoteProtocolError in h11
                raise _Close
        return Request(
            method=event.method.decode("ascii"),
            target=event.target.decode("latin-1"),
            headers=tuple(event.headers),
            body=bytes(body),
        )

    async def _respond(self, connection: _Connection, request: Request) -> None:
        try:
            response = await self._handler(request)
        except Exception:
            logger.exception("handler failed on %s %s", request.method, request.target)
            await self._send_error(connection, 500, "internal server error")
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in response.headers
            if isinstance(response, StreamingResponse)
            or name.lower().encode("latin-1") not in _FRAMING
        ]
        if isinstance(response, Response):
            headers.append((b"content-length", str(len(response.body)).encode()))
        if self._closing:
            headers.append((b"connection", b"close"))
        head = h11.Response(status_code=response.status, headers=headers)
        if isinstance(response, Response):
            body = b"" if request.method == "HEAD" else response.body
            events: list[h11.Event] = [head]
            if body:
                events.append(h11.Data(data=body))
            await self._send(connection, *events, h11.EndOfMessage())
            return
        await self._send(connection, head)
        if request.method != "HEAD":
            await self._stream_body(connection, response)
        await self._send(connection, h11.EndOfMessage())

    async def _stream_body(self, connection: _Connection, response: StreamingResponse) -> None:
        """Send each chunk as it comes; stop (and close the chunks) if the client leaves."""
        gone = False
        async with anyio.create_task_group() as task_group:

            async def watch() -> None:
                nonlocal gone
                # Reading is also how a reset shows; bytes a client pipelines meanwhile
                # go to h11's buffer, up to a bound.
                with contextlib.suppress(*_STREAM_ERRORS):
                    while len(connection.protocol.trailing_data[0]) <= self._max_header_size:
                        data = await _receive(connection.stream)
                        if not data:
                            break
                        connection.protocol.receive_data(data)
                    else:
                        await anyio.sleep(math.inf)
                gone = True
                task_group.cancel_scope.cancel()

            task_group.start_soon(watch)
            try:
                async for chunk in response.chunks:
                    if chunk:
                        await self._send(connection, h11.Data(data=chunk))
            except _STREAM_ERRORS:
                gone = True
            finally:
                await _close_iterable(response.chunks)
            task_group.cancel_scope.cancel()
        if gone:
            raise _Close


async def _close_iterable(chunks: object) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await aclose()
