"""pyinterlink.adapters: the transports (see DESIGN.md).

Every command transport implements :class:`CommandRunner`: :class:`LocalRunner` runs
processes on this host, :class:`SSHRunner` runs them on a login node through the user's
OpenSSH client (configured by an :class:`SSHTarget`). Only the :class:`TransportError`
family escapes them.
"""

from .commands import DEFAULT_MAX_OUTPUT, CommandResult, CommandRunner
from .errors import CommandTimeoutError, OutputTooLargeError, TransportError
from .local_process import DEFAULT_KILL_GRACE, LocalRunner
from .ssh import SSHRunner, SSHTarget, StrictHostKeyChecking

__all__ = [
    "DEFAULT_KILL_GRACE",
    "DEFAULT_MAX_OUTPUT",
    "CommandResult",
    "CommandRunner",
    "CommandTimeoutError",
    "LocalRunner",
    "OutputTooLargeError",
    "SSHRunner",
    "SSHTarget",
    "StrictHostKeyChecking",
    "TransportError",
]
