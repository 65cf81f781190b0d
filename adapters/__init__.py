"""pyinterlink.adapters: the transports (see DESIGN.md).

Every command transport implements :class:`CommandRunner`: :class:`LocalRunner` runs
processes on this host, :class:`SSHRunner` runs them on a login node through the user's
OpenSSH client (configured by an :class:`SSHTarget`). Only the :class:`TransportError`
family escapes them.

HTTP/1.1 on h11 and anyio: :class:`HTTPServer` serves a :data:`Handler`
(``async (Request) -> Response | StreamingResponse``) over TCP and unix sockets;
:class:`HTTPClient` talks to one server.
"""

from .commands import DEFAULT_MAX_OUTPUT, CommandResult, CommandRunner
from .errors import CommandTimeoutError, OutputTooLargeError, TransportError
from .http import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEADER_SIZE,
    Handler,
    Headers,
    HTTPTimeoutError,
    Request,
    Response,
    StreamingResponse,
)
from .http_client import HTTPClient, ResponseStream
from .http_server import HTTPServer
from .local_process import DEFAULT_KILL_GRACE, LocalRunner
from .ssh import SSHRunner, SSHTarget, StrictHostKeyChecking

__all__ = [
    "DEFAULT_KILL_GRACE",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_OUTPUT",
    "CommandResult",
    "CommandRunner",
    "CommandTimeoutError",
    "HTTPClient",
    "HTTPServer",
    "HTTPTimeoutError",
    "Handler",
    "Headers",
    "LocalRunner",
    "OutputTooLargeError",
    "Request",
    "Response",
    "ResponseStream",
    "SSHRunner",
    "SSHTarget",
    "StreamingResponse",
    "StrictHostKeyChecking",
    "TransportError",
]
