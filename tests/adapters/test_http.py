"""The HTTP adapter: our server and our client against each other over loopback TCP and a
unix socket, and the server against raw bytes on the wire. No traffic leaves loopback."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from pyinterlink.adapters import (
    HTTPClient,
    HTTPServer,
    HTTPTimeoutError,
    Request,
    Response,
    StreamingResponse,
    TransportError,
)

pytestmark = pytest.mark.anyio


async def echo(request: Request) -> Response:
    """Answers with what it received, so a test sees what crossed the wire."""
    if request.target == "/boom":
        raise RuntimeError("handler bug")
    if request.target == "/slow":
        await anyio.sleep(0.3)
    body = f"{request.method} {request.target} ".encode() + request.body
    return Response(status=200, headers=[("content-type", "text/plain")], body=body)


@asynccontextmanager
async def serving(handler: Any = echo, **options: Any) -> AsyncIterator[dict[str, Any]]:
    """A server on loopback TCP and on a unix socket; clients for both."""
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:  # unix paths must stay short
        path = str(Path(folder) / "s.sock")
        async with HTTPServer(handler, **options) as server:
            host, port = await server.listen_tcp("127.0.0.1", 0)
            await server.listen_unix(path)
            async with (
                HTTPClient(host=host, port=port, timeout=5) as tcp,
                HTTPClient(unix_path=path, timeout=5) as unix,
            ):
                yield {"server": server, "host": host, "port": port, "tcp": tcp, "unix": unix}


async def raw(host: str, port: int, data: bytes, *, until: bytes = b"") -> bytes:
    """Send ``data`` on a fresh socket and read until ``until`` appears or the server closes."""
    async with await anyio.connect_tcp(host, port) as stream:
        await stream.send(data)
        return await read_until(stream, until)


async def read_until(stream: anyio.abc.ByteStream, until: bytes = b"") -> bytes:
    received = b""
    with anyio.fail_after(5):
        while not (until and until in received):
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                break
    return received


@pytest.mark.parametrize("transport", ["tcp", "unix"])
async def test_requests_with_bodies_on_any_method_over_a_kept_alive_connection(
    transport: str,
) -> None:
    async with serving() as env:
        client: HTTPClient = env[transport]
        for method in ("GET", "DELETE", "POST", "PUT"):
            response = await client.request(method, "/status?x=1", body=b'[{"a":1}]')
            assert response.status == 200
            assert response.body == f'{method} /status?x=1 [{{"a":1}}]'.encode()
            assert response.header("Content-Type") == "text/plain"
        empty = await client.request("GET", "/ping")
        assert empty.body == b"GET /ping "
        assert len(client._idle) == 1  # one connection carried every request


async def test_keep_alive_on_the_wire_and_a_get_with_a_body() -> None:
    async with serving() as env:
        two = (
            b"GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            b"DELETE /delete HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        )
        received = await raw(env["host"], env["port"], two, until=b"DELETE /delete abc")
        assert received.count(b"HTTP/1.1 200 ") == 2
        assert b"GET /status hello" in received


async def test_a_chunked_response_is_flushed_chunk_by_chunk() -> None:
    release = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first line\n"
        await release.wait()
        yield b"second line\n"

    async def handler(request: Request) -> StreamingResponse:
        return StreamingResponse(status=200, chunks=chunks())

    async with serving(handler) as env:
        async with await anyio.connect_tcp(env["host"], env["port"]) as stream:
            await stream.send(b"GET /logs HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await read_until(stream, b"first line\n")
            assert b"transfer-encoding: chunked" in head.lower()
            assert b"second" not in head  # the first chunk arrived on its own
            release.set()
            rest = await read_until(stream, b"\r\n0\r\n\r\n")
            assert b"second line\n" in rest

        # Our client reads it incrementally too.
        release = anyio.Event()
        async with env["unix"].stream("GET", "/logs") as response:
            assert response.status == 200
            seen = []
            async for chunk in response:
                seen.append(chunk)
                release.set()
        assert b"".join(seen) == b"first line\nsecond line\n"


async def test_a_client_that_leaves_stops_the_handlers_stream() -> None:
    closed = anyio.Event()

    async def follow() -> AsyncIterator[bytes]:
        try:
            yield b"line\n"
            await anyio.sleep_forever()  # a followed log with nothing new
        finally:
            closed.set()

    async def handler(request: Request) -> StreamingResponse:
        return StreamingResponse(status=200, chunks=follow())

    async with serving(handler) as env:
        async with env["tcp"].stream("GET", "/logs?follow=1") as response:
            async for chunk in response:
                assert chunk == b"line\n"
                break
        with anyio.fail_after(3):
            await closed.wait()


async def test_too_large_bodies_get_413() -> None:
    async with serving(max_body_size=100) as env:
        response = await env["tcp"].request("POST", "/create", body=b"x" * 101)
        assert response.status == 413
        chunked = (
            b"POST /create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"40\r\n"
            + b"y" * 64
            + b"\r\n"
            + b"40\r\n"
            + b"y" * 64
            + b"\r\n0\r\n\r\n"
        )
        assert (await raw(env["host"], env["port"], chunked)).startswith(b"HTTP/1.1 413 ")
        assert (await env["tcp"].request("POST", "/create", body=b"x" * 100)).status == 200


async def test_too_large_headers_get_431() -> None:
    async with serving(max_header_size=1024) as env:
        big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n"
        assert (await raw(env["host"], env["port"], big)).startswith(b"HTTP/1.1 431 ")


async def test_malformed_requests_get_400_and_the_server_goes_on() -> None:
    async with serving() as env:
        for garbage in (
            b"NOT HTTP AT ALL\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
            b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
            b"\x00\xff\x16\x03\x01\r\n\r\n",
        ):
            received = await raw(env["host"], env["port"], garbage)
            assert received.startswith(b"HTTP/1.1 400 "), received
        assert (await env["tcp"].request("GET", "/still-up")).status == 200


async def test_a_request_that_stalls_gets_408_and_an_idle_connection_is_closed() -> None:
    async with serving(read_timeout=0.2, idle_timeout=0.2) as env:
        partial = b"POST /create HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
        assert (await raw(env["host"], env["port"], partial)).startswith(b"HTTP/1.1 408 ")
        assert await raw(env["host"], env["port"], b"") == b""  # idle: closed, no answer
        # Our client notices the server closed its idle connection and reconnects.
        assert (await env["tcp"].request("GET", "/a")).status == 200
        await anyio.sleep(0.4)
        assert (await env["tcp"].request("GET", "/b")).status == 200


async def test_a_failing_handler_gets_500() -> None:
    async with serving() as env:
        assert (await env["tcp"].request("GET", "/boom")).status == 500
        assert (await env["tcp"].request("GET", "/ok")).status == 200


async def test_shutdown_finishes_requests_in_flight() -> None:
    async with serving() as env:
        results: list[Response] = []

        async def slow() -> None:
            results.append(await env["tcp"].request("GET", "/slow"))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(slow)
            await anyio.sleep(0.1)
            await env["server"].aclose()
        assert results[0].status == 200
        assert results[0].header("connection") == "close"
        with pytest.raises(TransportError):
            await env["tcp"].request("GET", "/after")


async def test_client_failures_are_transport_errors() -> None:
    async with serving() as env:
        with pytest.raises(HTTPTimeoutError):
            await env["tcp"].request("GET", "/slow", timeout=0.05)
        port = env["port"]
    async with HTTPClient(host="127.0.0.1", port=port, timeout=2) as gone:
        with pytest.raises(TransportError):
            await gone.request("GET", "/")
    async with HTTPClient(unix_path="/nonexistent/s.sock") as nowhere:
        with pytest.raises(TransportError):
            await nowhere.request("GET", "/")
