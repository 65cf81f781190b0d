"""Running commands somewhere: the one interface every transport implements.

A :class:`CommandRunner` runs an argv (never a shell string: quoting is the runner's job
where a shell is in the way, as with SSH) on some host and returns its exit status and
output, or streams the output of a long-running command (``tail -f``). Implementations:
:class:`~.local_process.LocalRunner` (processes on this host) and
:class:`~.ssh.SSHRunner` (the user's OpenSSH client with connection multiplexing). One
conformance suite (``tests/adapters/``) runs against every implementation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs

__all__ = ["DEFAULT_MAX_OUTPUT", "CommandResult", "CommandRunner"]

DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024
"""Bytes of stdout (and separately stderr) kept before a command is killed as runaway."""


@attrs.frozen(kw_only=True)
class CommandResult:
    """How a command ended: its exit status (negative: killed by that signal) and output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def ok(self) -> bool:
        """Whether the command exited with status 0."""
        return self.returncode == 0

    def text(self) -> str:
        """Standard output as text (UTF-8, undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", errors="replace")

    def error_text(self) -> str:
        """Standard error as text, stripped: what a user needs to see when it failed."""
        return self.stderr.decode("utf-8", errors="replace").strip()


class CommandRunner(Protocol):
    """Runs commands on one host. Implementations are safe to use from many tasks at once."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> CommandResult:
        """Run ``argv`` to completion and return how it ended.

        ``argv[0]`` is a program (found on ``PATH``, the one in ``env`` if it sets one), never
        a shell builtin or function; every word arrives exactly as given. ``stdin`` is written
        to the command's standard input (closed after it; ``None``: empty). ``env`` adds
        variables to the command's environment. A non-zero exit status is not an error: it is
        in the result (a command killed by a signal: the negated signal locally, the remote
        shell's ``128 + signal`` over SSH).

        Raises :class:`~.errors.CommandTimeoutError` after ``timeout`` seconds and
        :class:`~.errors.OutputTooLargeError` past ``max_output`` bytes of stdout or of
        stderr; in both cases, and when the caller is cancelled, the command's whole process
        group is ended (SIGTERM, then SIGKILL after a grace period). Raises
        :class:`~.errors.TransportError` when the command cannot be run at all (no such
        program, not executable, host unreachable or refusing us), and ``ValueError`` for
        what no process can receive (an empty argv, NUL bytes, ``=`` in a variable's name).
        """
        ...

    def stream(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Run ``argv`` and yield its standard output in chunks as they come.

        Leaving the context (or cancelling) ends the command's whole process group. The
        iterator ends when the command ends; its exit status and stderr are not reported.
        Raises :class:`~.errors.TransportError` when it cannot be started (on entering the
        context) or when the transport is lost while it runs (from the iterator).
        """
        ...

    async def aclose(self) -> None:
        """Release what the runner holds (an SSH master connection); idempotent."""
        ...
