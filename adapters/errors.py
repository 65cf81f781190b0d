"""The transport error family: the only exceptions an adapter lets escape.

Adapters map every third-party or OS exception (``OSError``, anyio's, ssh's exit 255) to one
of these at their boundary, so that backends and the state machine's drivers reason about
three things only: the transport failed (retry later), the command ran and failed (look at
its exit status and output), or it took too long.
"""

from __future__ import annotations

from pyinterlink.core import InterlinkError

__all__ = ["CommandTimeoutError", "OutputTooLargeError", "TransportError"]


class TransportError(InterlinkError):
    """The command could not be run or its result not received (connection lost, no such
    binary, SSH authentication refused): transient from the caller's point of view."""


class CommandTimeoutError(TransportError):
    """The command did not finish within its timeout; its whole process group was killed."""


class OutputTooLargeError(TransportError):
    """The command wrote more than the allowed bytes; it was killed."""
