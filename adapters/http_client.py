"""An HTTP/1.1 client on h11 and anyio, to one server over TCP or a unix socket.

Connections are kept alive and reused (at most ``max_idle`` kept idle). A request that fails
on a reused connection before any byte of the response arrived is retried once on a fresh
connection: the server may have closed the idle connection just as we sent it.

Request bodies go with ``Content-Length`` on any method, GET and DELETE included (the Go
virtual kubelet sends them). :meth:`HTTPClient.request` reads the whole response (within
``max_body_size``); :meth:`HTTPClient.stream` yields the body chunk by chunk as it arrives.

Every failure is a :class:`~.errors.TransportError` (:class:`~.http.HTTPTimeoutError` for
timeouts); a response with any status is a result, not an error. Left for later: TLS and
mutual TLS, authentication headers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from types import TracebackType

import anyio
import anyio.abc
import attrs
import h11

from .errors import TransportError
from .http import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEADER_SIZE,
    Headers,
    HTTPTimeoutError,
    Response,
    header_value,
)

__all__ = ["HTTPClient", "ResponseStream"]

_CHUNK = 65536
_NO_BODY_METHODS = {"GET", "HEAD", "DELETE", "OPTIONS"}


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Map what the socket, anyio and h11 raise to our transport errors."""
    try:
        yield
    except TimeoutError as exc:
        raise HTTPTimeoutError(f"{what}: timed out") from exc
    except (
        OSError,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
        anyio.EndOfStream,
        h11.ProtocolError,
    ) as exc:
        raise TransportError(f"{what}: {exc or type(exc).__name__}") from exc


@attrs.define(eq=False)
class _Connection:
    stream: anyio.abc.ByteStream
    protocol: h11.Connection
    reused: bool = False

    async def next_event(self) -> object:
        while True:
            event = self.protocol.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self.stream.receive(_CHUNK)
            except anyio.EndOfStream:
                data = b""
            self.protocol.receive_data(data)

    async def aclose(self) -> None:
        with contextlib.suppress(OSError, anyio.BrokenResourceError):
            await self.stream.aclose()


class ResponseStream:
    """A response whose body is read as it arrives: ``async for chunk in response``."""

    def __init__(self, connection: _Connection, status: int, headers: Headers) -> None:
        self.status = status
        self.headers = headers
        self._connection = connection
        self.complete = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return header_value(self.headers, name)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self.complete:
            with _mapped("reading a response body"):
                event = await self._connection.next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.complete = True
            else:
                raise TransportError(f"unexpected {type(event).__name__} in a response body")

    async def read(self, limit: int = DEFAULT_MAX_BODY_SIZE) -> bytes:
        """The rest of the body; :class:`TransportError` past ``limit`` bytes."""
        body = bytearray()
        async for chunk in self:
            body += chunk
            if len(body) > limit:
                raise TransportError(f"response body larger than {limit} bytes")
        return bytes(body)


class HTTPClient:
    """Sends requests to one server: ``HTTPClient(host=..., port=...)`` over TCP or
    ``HTTPClient(unix_path=...)`` over a unix socket. Safe to use from many tasks at once
    (each request holds a connection of its own). Use as an async context manager, or call
    :meth:`aclose`."""

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        unix_path: str | None = None,
        timeout: float = 30.0,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_idle: int = 8,
    ) -> None:
        if (unix_path is None) == (host is None or port is None):
            raise ValueError("give either host and port, or unix_path")
        self._host = host
        self._port = port
        self._unix_path = unix_path
        self._timeout = timeout
        self._max_header_size = max_header_size
        self._max_body_size = max_body_size
        self._max_idle = max_idle
        self._idle: list[_Connection] = []
        self._authority = f"{host}:{port}" if unix_path is None else "localhost"

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the idle connections; idempotent."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()

    async def request(
        self,
        method: str,
        target: str,
        *,
        headers: Headers = (),
        body: bytes = b"",
        timeout: float | None = None,
    ) -> Response:
        """Send a request and read the whole response, all within ``timeout`` seconds
        (default: the client's). Any status is returned; transport failures raise."""
        with _mapped(f"{method} {target}"), anyio.fail_after(self._timeout_of(timeout)):
            async with self.stream(method, target, headers=headers, body=body) as response:
                content = await response.read(self._max_body_size)
            return Response(status=response.status, headers=response.headers, body=content)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        target: str,
        *,
        headers: Headers = (),
        body: bytes = b"",
        timeout: float | None = None,
    ) -> AsyncIterator[ResponseStream]:
        """Send a request; yield the response once its head arrived (within ``timeout``).

        Reading the body has no timeout of its own (a followed log may be quiet for long):
        bound it with a cancel scope. Leaving the context early closes the connection.
        """
        with _mapped(f"{method} {target}"), anyio.fail_after(self._timeout_of(timeout)):
            connection, response = await self._send(method, target, headers, body)
        try:
            yield response
        except BaseException:
            await connection.aclose()
            raise
        if not self._release(connection, response):
            await connection.aclose()

    def _timeout_of(self, timeout: float | None) -> float:
        return self._timeout if timeout is None else timeout

    def _release(self, connection: _Connection, response: ResponseStream) -> bool:
        """Keep ``connection`` for reuse if h11 says it can be; whether it was kept."""
        conn = connection.protocol
        reusable = conn.our_state is h11.DONE and conn.their_state is h11.DONE
        if not (response.complete and reusable and len(self._idle) < self._max_idle):
            return False
        conn.start_next_cycle()
        connection.reused = True
        self._idle.append(connection)
        return True

    async def _connect(self) -> _Connection:
        stream: anyio.abc.ByteStream
        if self._unix_path is not None:
            stream = await anyio.connect_unix(self._unix_path)
        else:
            assert self._host is not None
            assert self._port is not None
            stream = await anyio.connect_tcp(self._host, self._port)
        return _Connection(
            stream=stream,
            protocol=h11.Connection(h11.CLIENT, max_incomplete_event_size=self._max_header_size),
        )

    async def _send(
        self, method: str, target: str, headers: Headers, body: bytes
    ) -> tuple[_Connection, ResponseStream]:
        """Send the request on an idle connection (or a new one); return the response head."""
        while True:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                return connection, await self._exchange(connection, method, target, headers, body)
            except _Stale:
                await connection.aclose()
            except BaseException:
                await connection.aclose()
                raise

    async def _exchange(
        self,
        connection: _Connection,
        method: str,
        target: str,
        headers: Headers,
        body: bytes,
    ) -> ResponseStream:
        names = {name.lower() for name, _ in headers}
        head = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        if "host" not in names:
            head.insert(0, (b"host", self._authority.encode("ascii")))
        if "content-length" not in names and (body or method.upper() not in _NO_BODY_METHODS):
            head.append((b"content-length", str(len(body)).encode()))
        conn = connection.protocol
        data = conn.send(h11.Request(method=method, target=target, headers=head)) or b""
        if body:
            data += conn.send(h11.Data(data=body)) or b""
        data += conn.send(h11.EndOfMessage()) or b""
        try:
            await connection.stream.send(data)
            event = await connection.next_event()
            while isinstance(event, h11.InformationalResponse):
                event = await connection.next_event()
        except (OSError, anyio.BrokenResourceError, h11.RemoteProtocolError):
            if connection.reused:
                raise _Stale from None
            raise
        if not isinstance(event, h11.Response):
            if connection.reused and isinstance(event, h11.ConnectionClosed):
                raise _Stale
            raise TransportError(f"expected a response, got {type(event).__name__}")
        headers_out = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers
        )
        return ResponseStream(connection, event.status_code, headers_out)


class _Stale(Exception):  # noqa: N818 - a signal within this module
    """A reused connection had been closed by the server before our request reached it."""
