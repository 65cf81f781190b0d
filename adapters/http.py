"""HTTP/1.1 on h11 and anyio: the values both sides share.

h11 does the protocol (framing, keep-alive, chunked encoding, what may follow what); the
server in :mod:`.http_server` and the client in :mod:`.http_client` only move bytes between
a socket and an ``h11.Connection`` and ask it what to do. Only the
:class:`~.errors.TransportError` family escapes them.

This module holds the request and response values and the handler signature:

- :class:`Request`: what a handler receives (method, target, headers, the whole body);
- :class:`Response`: a status, headers and a body sent with ``Content-Length``;
- :class:`StreamingResponse`: a status, headers and an async iterable of chunks, sent with
  chunked encoding, each chunk flushed as it comes (log streaming);
- :data:`Handler`: ``async (Request) -> Response | StreamingResponse``.

Headers are tuples of ``(name, value)`` pairs as text; names arrive lowercased (h11 does
that), and :meth:`Request.header` looks one up case-insensitively.

Left for later (issue 5, item 1 and on): TLS and mutual TLS, metrics, bearer-token
authentication, the interLink endpoints themselves, HTTP trailers, request bodies streamed
to the handler (bodies are read whole, within a size limit).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable

import attrs

from .errors import TransportError

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "HTTPTimeoutError",
    "Handler",
    "Headers",
    "Request",
    "Response",
    "StreamingResponse",
]

DEFAULT_MAX_HEADER_SIZE = 64 * 1024
"""Bytes a request line plus headers (or a response head) may take (h11's
``max_incomplete_event_size``); past it the server answers 431."""

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
"""Bytes of body a request may carry (server: 413 past it) or a response (client)."""

Headers = tuple[tuple[str, str], ...]


def _headers(value: object) -> Headers:
    """Headers as a tuple of text pairs, from any iterable of pairs of str or bytes."""
    pairs = []
    for name, content in value:  # type: ignore[attr-defined]
        pairs.append((_text(name), _text(content)))
    return tuple(pairs)


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or ``None``."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


class HTTPTimeoutError(TransportError):
    """An HTTP exchange did not complete within its timeout."""


@attrs.frozen(kw_only=True)
class Request:
    """An HTTP request as a handler receives it (or as the client sends it)."""

    method: str
    target: str
    headers: Headers = attrs.field(default=(), converter=_headers)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return header_value(self.headers, name)


@attrs.frozen(kw_only=True)
class Response:
    """A whole response: sent with ``Content-Length`` (any given framing header is replaced)."""

    status: int
    headers: Headers = attrs.field(default=(), converter=_headers)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return header_value(self.headers, name)

    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


@attrs.frozen(kw_only=True)
class StreamingResponse:
    """A response whose body is produced as it is sent: chunked, one flush per chunk.

    The server stops iterating ``chunks`` (and closes it, when it is an async generator) as
    soon as the client disconnects, so a handler that follows a log stops following.
    """

    status: int
    headers: Headers = attrs.field(default=(), converter=_headers)
    chunks: AsyncIterable[bytes] = attrs.field(eq=False)


Handler = Callable[[Request], Awaitable[Response | StreamingResponse]]
"""What the server calls for every request."""
