"""Commands as processes on this host, each in a process group of its own.

Theory of operation. Every command starts in a new session (``start_new_session``), so it
leads a process group that holds everything it starts (a shell's children, ``srun``'s
steps, a pipeline) unless one of those starts a session of its own. Ending a command means
ending its group: SIGTERM to the whole group, then, once the command itself has exited or
``kill_grace`` seconds have passed, SIGKILL to whatever is left of the group. That happens on
a timeout, on runaway output, on cancellation of the caller and when a stream is left; a
command that ends by itself is left alone, and so are children it left running in the
background (they end when they end, as with any shell).

Output is read concurrently with writing stdin, so neither side can block the other on a
full pipe; each of stdout and stderr is bounded separately.

The machinery here (:func:`run_process`, :func:`stream_process`) also drives the local
``ssh`` client of :mod:`.ssh`, which adds its hooks: a filter on stderr, and a remote kill
before the local one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Protocol

import anyio
import anyio.abc

from .commands import DEFAULT_MAX_OUTPUT, CommandResult
from .errors import CommandTimeoutError, OutputTooLargeError, TransportError

__all__ = ["DEFAULT_KILL_GRACE", "LocalRunner"]

DEFAULT_KILL_GRACE = 2.0
"""Seconds a command's process group gets between SIGTERM and SIGKILL."""

_CHUNK = 65536

Hook = Callable[[], Awaitable[None]]


class StreamFilter(Protocol):
    """Rewrites a byte stream chunk by chunk (the SSH runner strips its markers with it)."""

    def feed(self, data: bytes) -> bytes:
        """Take the next chunk; return what is ready to pass on."""
        ...

    def close(self) -> bytes:
        """The stream ended: return whatever is still held back."""
        ...


def check_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """``argv`` as a tuple, or ``ValueError`` when no process could ever receive it."""
    if isinstance(argv, str | bytes):
        raise TypeError("argv must be a sequence of words, not a string")
    words = tuple(argv)
    if not words:
        raise ValueError("argv is empty: there is no command to run")
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"argv words must be str, not {type(word).__name__}: {word!r}")
        if "\0" in word:
            raise ValueError(f"argv word {word!r} contains a NUL byte")
    return words


def check_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """Environment additions as a dict, or ``ValueError`` for names and values no process
    environment can hold (empty names, ``=`` in a name, NUL anywhere)."""
    checked: dict[str, str] = {}
    for name, value in (env or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"environment names and values must be str: {name!r}={value!r}")
        if not name or "=" in name or "\0" in name:
            raise ValueError(f"invalid environment variable name {name!r}")
        if "\0" in value:
            raise ValueError(f"environment variable {name} contains a NUL byte")
        checked[name] = value
    return checked


async def spawn(
    argv: Sequence[str],
    *,
    name: str,
    stdin: bool,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> anyio.abc.Process:
    """Start ``argv`` leading a new session (so a process group of its own).

    ``env`` is the whole environment (``None``: this process's). ``OSError`` (no such
    binary, permission denied, no such working directory) becomes :class:`TransportError`
    naming ``name``.
    """
    try:
        return await anyio.open_process(
            list(argv),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" (in {cwd})" if cwd is not None else ""
        raise TransportError(f"cannot run {name!r}{where}: {reason}") from exc


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def terminate_group(process: anyio.abc.Process, grace: float) -> None:
    """End ``process`` and its process group: SIGTERM to the group, then SIGKILL to what is
    left once the leader has exited or after ``grace`` seconds. Shielded from cancellation."""
    pgid = process.pid
    with anyio.CancelScope(shield=True):
        if process.returncode is None or _group_exists(pgid):
            _signal_group(pgid, signal.SIGTERM)
            with anyio.move_on_after(grace):
                await process.wait()
            if _group_exists(pgid):
                _signal_group(pgid, signal.SIGKILL)
        await process.aclose()


async def _end(process: anyio.abc.Process, grace: float, before_kill: Hook | None) -> None:
    with anyio.CancelScope(shield=True):
        if before_kill is not None and process.returncode is None:
            with contextlib.suppress(TransportError):
                await before_kill()
        await terminate_group(process, grace)


class _Sink:
    """Collects one output stream up to a limit; past it, records the overflow."""

    def __init__(self, limit: int, stream_filter: StreamFilter | None) -> None:
        self._limit = limit
        self._filter = stream_filter
        self._parts: list[bytes] = []
        self._size = 0
        self.overflow = False

    def add(self, data: bytes) -> None:
        if self._filter is not None:
            data = self._filter.feed(data)
        self._keep(data)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            self.overflow = True
        else:
            self._parts.append(data)

    def value(self) -> bytes:
        if self._filter is not None:
            self._keep(self._filter.close())
        return b"".join(self._parts)


async def _drain(
    stream: anyio.abc.ByteReceiveStream, sink: _Sink, scope: anyio.CancelScope
) -> None:
    with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError):
        while True:
            sink.add(await stream.receive(_CHUNK))
            if sink.overflow:
                scope.cancel()
                return


async def _feed(stream: anyio.abc.ByteSendStream, data: bytes) -> None:
    # A command that exits (or closes its stdin) without reading everything is not an error.
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        if data:
            await stream.send(data)
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await stream.aclose()


async def run_process(
    argv: Sequence[str],
    *,
    name: str,
    stdin: bytes | None,
    env: Mapping[str, str] | None,
    cwd: str | None,
    timeout: float | None,
    max_output: int,
    grace: float,
    stderr_filter: StreamFilter | None = None,
    before_kill: Hook | None = None,
) -> tuple[int, bytes, bytes]:
    """Run ``argv`` in its own process group: ``(returncode, stdout, stderr)``.

    ``env`` is the whole environment (``None``: inherited). ``before_kill`` runs (shielded,
    errors ignored) before the group is ended on a timeout, an overflow or cancellation.
    Raises :class:`CommandTimeoutError`, :class:`OutputTooLargeError`, and
    :class:`TransportError` from :func:`spawn`; ``name`` names the command in their messages.
    """
    process = await spawn(argv, name=name, stdin=stdin is not None, env=env, cwd=cwd)
    out = _Sink(max_output, None)
    err = _Sink(max_output, stderr_filter)
    returncode = 0
    try:
        with anyio.move_on_after(timeout) as deadline:
            async with anyio.create_task_group() as tg:
                if process.stdin is not None:
                    tg.start_soon(_feed, process.stdin, stdin or b"")
                assert process.stdout is not None
                assert process.stderr is not None
                tg.start_soon(_drain, process.stdout, out, tg.cancel_scope)
                tg.start_soon(_drain, process.stderr, err, tg.cancel_scope)
            if not (out.overflow or err.overflow):
                returncode = await process.wait()
    except BaseException:
        await _end(process, grace, before_kill)
        raise
    if deadline.cancelled_caught:
        await _end(process, grace, before_kill)
        raise CommandTimeoutError(f"{name!r} did not finish within {timeout:g} s; killed")
    if out.overflow or err.overflow:
        await _end(process, grace, before_kill)
        which = "stdout" if out.overflow else "stderr"
        raise OutputTooLargeError(f"{name!r} wrote more than {max_output} bytes to {which}; killed")
    await process.aclose()
    return returncode, out.value(), err.value()


class _Chunks:
    """The stdout of a streamed command, chunk by chunk; ends at end of file."""

    def __init__(self, stream: anyio.abc.ByteReceiveStream, on_eof: Hook | None) -> None:
        self._stream = stream
        self._on_eof = on_eof
        self._done = False

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            return await self._stream.receive(_CHUNK)
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._done = True
        if self._on_eof is not None:
            await self._on_eof()
        raise StopAsyncIteration


async def _drain_to(stream: anyio.abc.ByteReceiveStream, sink: Callable[[bytes], None]) -> None:
    with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError):
        while True:
            sink(await stream.receive(_CHUNK))


@contextlib.asynccontextmanager
async def stream_process(
    argv: Sequence[str],
    *,
    name: str,
    env: Mapping[str, str] | None,
    cwd: str | None,
    grace: float,
    on_stderr: Callable[[bytes], None],
    stderr_done: Callable[[], None] | None = None,
    after_start: Hook | None = None,
    on_eof: Hook | None = None,
    before_kill: Hook | None = None,
) -> AsyncIterator[AsyncIterator[bytes]]:
    """Start ``argv`` in its own process group and yield its stdout chunk by chunk.

    stderr goes to ``on_stderr`` as it comes (then ``stderr_done``), read in the background
    so a chatty command never blocks. ``after_start`` runs before the iterator is handed
    out (it may raise), ``on_eof`` when stdout ends (it may raise too). Leaving the context
    ends the process group, after ``before_kill``.
    """
    process = await spawn(argv, name=name, stdin=False, env=env, cwd=cwd)
    assert process.stdout is not None
    assert process.stderr is not None
    stderr = process.stderr

    async def read_stderr() -> None:
        try:
            await _drain_to(stderr, on_stderr)
        finally:
            if stderr_done is not None:
                stderr_done()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(read_stderr)
            try:
                if after_start is not None:
                    await after_start()
                yield _Chunks(process.stdout, on_eof)
            finally:
                await _end(process, grace, before_kill)
                tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # Only the body can fail here (the stderr reader does not): hand its exception on
        # as it was raised, not wrapped by the task group.
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


class LocalRunner:
    """Runs commands as processes on this host (see the module's theory of operation).

    ``kill_grace``: seconds between SIGTERM and SIGKILL when a command is ended. ``cwd``:
    the working directory of every command (``None``: this process's). Environment
    additions are laid over this process's environment. A command that cannot be started
    (no such binary, not executable) raises :class:`TransportError`: nothing ran.
    """

    def __init__(self, *, kill_grace: float = DEFAULT_KILL_GRACE, cwd: str | None = None) -> None:
        if kill_grace < 0:
            raise ValueError(f"kill_grace must be >= 0, not {kill_grace}")
        self.kill_grace = kill_grace
        self.cwd = cwd

    def __repr__(self) -> str:
        return f"LocalRunner(kill_grace={self.kill_grace!r}, cwd={self.cwd!r})"

    def _environment(self, env: Mapping[str, str] | None) -> dict[str, str] | None:
        additions = check_env(env)
        if not additions:
            return None
        return {**os.environ, **additions}

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> CommandResult:
        """See :meth:`CommandRunner.run <.commands.CommandRunner.run>`."""
        words = check_argv(argv)
        returncode, stdout, stderr = await run_process(
            words,
            name=words[0],
            stdin=stdin,
            env=self._environment(env),
            cwd=self.cwd,
            timeout=timeout,
            max_output=max_output,
            grace=self.kill_grace,
        )
        return CommandResult(argv=words, returncode=returncode, stdout=stdout, stderr=stderr)

    def stream(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """See :meth:`CommandRunner.stream <.commands.CommandRunner.stream>`. The command's
        stderr is read and dropped."""
        words = check_argv(argv)
        return stream_process(
            words,
            name=words[0],
            env=self._environment(env),
            cwd=self.cwd,
            grace=self.kill_grace,
            on_stderr=lambda _data: None,
        )

    async def aclose(self) -> None:
        """Nothing to release: every command's processes end with its call."""

    async def __aenter__(self) -> LocalRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
