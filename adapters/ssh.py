"""Commands on a remote host through the user's OpenSSH client, with connection multiplexing.

Theory of operation. The runner drives the ``ssh`` binary, not an SSH library, so whatever
makes ``ssh login-node`` work for the user works here too: ``~/.ssh/config``, jump hosts,
certificates, agents, Kerberos. The first command opens a master connection (``ssh -M -N
-f``) whose control socket lives in a private directory; every command after it is a new
channel over that connection (``ControlMaster=auto``), which costs a few milliseconds instead
of a handshake. ``ControlPersist`` ends an idle master by itself; :meth:`SSHRunner.aclose`
ends it at once (``ssh -O exit``).

sshd hands a command to the account's login shell as one string, so the argv is quoted
word by word for a POSIX shell (``shlex.quote``: nothing is left unquoted) and wrapped in a
small script, :func:`remote_command`, which

- checks that the program exists: a missing program is a :class:`TransportError`, as it is
  for :class:`~.local_process.LocalRunner`, not an exit status 127 to guess from;
- reports the shell's pid on stderr: sshd starts every session in a new session, so that
  pid names the command's process group, which a timeout, a cancellation or the end of a
  stream kills on the remote host (a separate ``kill`` over the same connection: closing an
  SSH channel does not stop a command that has no terminal), as locally: SIGTERM, and
  SIGKILL once the program has ended or after the grace period;
- runs the program through ``env``, with the environment additions as quoted
  ``NAME=value`` words (sshd refuses ``SendEnv`` unless configured; ``env`` needs nothing),
  and never as a shell function or builtin of the remote shell;
- reports the program's exit status on stderr before exiting with it.

These reports are lines marked with a token unique to the runner; they are removed from
stderr before the caller sees it. They also tell ssh's own failures (exit status 255, a
message such as ``Host key verification failed.``) from the command's: no report that the
command started means ssh failed, which is a :class:`TransportError`; a 255 after it is
the command's own status; a report of the start without one of the end means the
connection was lost while the command ran, a :class:`TransportError` too.

Differences from local commands: the remote login shell must be a POSIX shell (sh, bash,
dash, ksh, zsh; not csh or fish), its start-up files run before every command, and a command
killed by a signal reports the shell's ``128 + signal`` instead of a negative status.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Literal

import anyio
import attrs

from .commands import DEFAULT_MAX_OUTPUT, CommandResult
from .errors import CommandTimeoutError, TransportError
from .local_process import (
    DEFAULT_KILL_GRACE,
    check_argv,
    check_env,
    run_process,
    stream_process,
)

__all__ = ["SSHRunner", "SSHTarget", "StrictHostKeyChecking", "remote_command"]

StrictHostKeyChecking = Literal["yes", "accept-new"]
"""``yes``: only hosts whose key is in known_hosts; ``accept-new``: also add the key of a host
seen for the first time (trust on first use), still refusing a changed key."""

# Options the runner sets itself; SSHTarget has a field for those a user may choose.
_RESERVED_OPTIONS = {
    "batchmode": "is always yes (nobody can answer a prompt)",
    "stricthostkeychecking": "use SSHTarget.strict_host_key_checking",
    "userknownhostsfile": "use SSHTarget.known_hosts",
    "controlmaster": "the runner multiplexes itself",
    "controlpath": "the runner keeps its control socket in a private directory",
    "controlpersist": "use SSHTarget.control_persist",
    "connecttimeout": "use SSHTarget.connect_timeout",
    "port": "use SSHTarget.port",
    "user": "use SSHTarget.user",
    "identityfile": "use SSHTarget.identity_file",
    "requesttty": "commands run without a terminal",
    "remotecommand": "the runner sends the command",
}
_OPTION = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=|\s)\s*(\S.*)$")

_STDERR_KEPT = 64 * 1024
_MARKER_LINE_MAX = 128


def _optional_path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)


def _options(options: Iterable[str]) -> tuple[str, ...]:
    if isinstance(options, str):
        raise TypeError("SSHTarget.options is a list of Key=Value strings, not one string")
    return tuple(options)


def _check_config_path(
    _instance: object, attribute: attrs.Attribute[str | None], path: str | None
) -> None:
    if path is not None and '"' in path:
        raise ValueError(f"ssh cannot read a {attribute.name} path with a double quote: {path!r}")


def _check_host(_instance: object, _attribute: object, host: str) -> None:
    if not host or host.startswith("-") or any(c.isspace() for c in host):
        raise ValueError(f"invalid SSH host {host!r}")


def _check_port(_instance: object, _attribute: object, port: int | None) -> None:
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"invalid SSH port {port}")


def _check_positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, not {value}")


def _check_options(_instance: object, _attribute: object, options: tuple[str, ...]) -> None:
    for option in options:
        match = _OPTION.match(option)
        if match is None:
            raise ValueError(f"SSH option {option!r} is not of the form Key=Value")
        why = _RESERVED_OPTIONS.get(match.group(1).lower())
        if why is not None:
            raise ValueError(f"SSH option {option!r} cannot be set here: {why}")


@attrs.frozen(kw_only=True)
class SSHTarget:
    """Where and how to connect: the settings of one login node.

    Everything left ``None`` comes from the user's ssh configuration (``~/.ssh/config``, or
    ``config_file``) and OpenSSH's defaults. ``options`` are extra ``-o Key=Value`` settings
    (``ProxyJump=bastion``, ``ServerAliveInterval=15``...), which win over the configuration
    files; the settings the runner makes itself are refused there, with the field to use.
    """

    host: str = attrs.field(validator=_check_host)
    """Host name, address or ``Host`` alias of the ssh configuration."""
    port: int | None = attrs.field(default=None, validator=_check_port)
    user: str | None = None
    identity_file: str | None = attrs.field(default=None, converter=_optional_path)
    """A private key to use, and no other (``IdentitiesOnly=yes``)."""
    known_hosts: str | None = attrs.field(
        default=None, converter=_optional_path, validator=_check_config_path
    )
    """The known_hosts file to check the host's key against (``None``: ssh's default)."""
    strict_host_key_checking: StrictHostKeyChecking = attrs.field(
        default="yes", validator=attrs.validators.in_(("yes", "accept-new"))
    )
    """``yes`` (default): a host whose key is not known is refused. ``accept-new``: a new
    host's key is added to known_hosts (trust on first use); a changed key is refused."""
    config_file: str | None = attrs.field(default=None, converter=_optional_path)
    """``ssh -F``: ``None`` for the user's ``~/.ssh/config``, ``"none"`` to read none."""
    options: tuple[str, ...] = attrs.field(default=(), converter=_options, validator=_check_options)
    control_persist: int = attrs.field(default=300, validator=_check_positive)
    """Seconds an idle master connection stays open."""
    connect_timeout: int = attrs.field(default=10, validator=_check_positive)
    """Seconds to establish the connection (``ConnectTimeout``)."""
    max_sessions: int = attrs.field(default=10, validator=_check_positive)
    """Commands at once over the master connection: sshd's ``MaxSessions`` (10 unless the
    site says otherwise). Commands beyond it get a connection of their own."""
    ssh: str = "ssh"
    """The OpenSSH client to run."""

    @property
    def destination(self) -> str:
        """``user@host[:port]``, for messages."""
        where = self.host if self.port is None else f"{self.host}:{self.port}"
        return where if self.user is None else f"{self.user}@{where}"


def remote_command(argv: Sequence[str], env: Mapping[str, str], tag: str) -> str:
    """The shell script that runs ``argv`` with ``env`` added, reporting on stderr.

    Every word of ``argv`` and every ``NAME=value`` is a single-quoted word of its own;
    ``tag`` (letters, digits and ``-`` only) marks the report lines: ``<tag> s <pid>`` (the
    program exists and starts; the pid leads its process group), ``<tag> n`` (no such
    program; exit status 127) and ``<tag> x <status>`` (it ended with that status).
    """
    if not re.fullmatch(r"[A-Za-z0-9-]+", tag):
        raise ValueError(f"invalid marker tag {tag!r}")
    q = shlex.quote
    name = argv[0]
    if "/" in name:
        found = f"[ -f {q(name)} ] && [ -x {q(name)} ]"
    elif "PATH" in env:
        found = f"(PATH={q(env['PATH'])}; command -v -- {q(name)}) >/dev/null 2>&1"
    else:
        found = f"command -v -- {q(name)} >/dev/null 2>&1"
    words = " ".join(q(word) for word in argv)
    assignments = "".join(f"{q(f'{key}={value}')} " for key, value in env.items())
    if "=" in name:
        # env would take the program's name for one more assignment.
        words = f"/bin/sh -c 'exec \"$@\"' sh {words}"
    report = f"printf '%s\\n' \"{tag} "
    # The shell outlives a SIGTERM to the group (a caught signal is reset to the default in
    # the program), so that the kill waits for the program, not for the shell, to end.
    return (
        f'trap : TERM; if {found}; then {report}s $$" >&2; env -- {assignments}{words}; s=$?; '
        f'{report}x $s" >&2; exit "$s"; fi; {report}n" >&2; exit 127'
    )


def _kill_script(pid: int, grace: float) -> str:
    """End the process group led by ``pid``: SIGTERM, SIGKILL once the leader is gone or
    after ``grace`` seconds (``sleep 0.1`` where fractions work, whole seconds elsewhere)."""
    rounds = max(1, round(grace * 10))
    group = f"-{pid}"
    return (
        f"kill -s TERM -- {group} 2>/dev/null || exit 0; i=0; "
        f'while [ "$i" -lt {rounds} ] && kill -s 0 {pid} 2>/dev/null; '
        f"do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done; "
        f"kill -s KILL -- {group} 2>/dev/null; exit 0"
    )


class _Reports:
    """Takes the report lines of :func:`remote_command` out of stderr and keeps what they say.

    A :class:`~.local_process.StreamFilter`: chunks can split a line anywhere, so a possible
    start of a report at the end of a chunk is held back until the next one.
    """

    def __init__(self, tag: str) -> None:
        self._tag = tag.encode()
        self._pending = b""
        self.pid: int | None = None
        self.not_found = False
        self.status: int | None = None
        self.settled = anyio.Event()
        """Set when the program started, was not found, or stderr ended."""
        self.finished = anyio.Event()
        """Set when stderr ended."""

    @property
    def started(self) -> bool:
        return self.pid is not None

    def feed(self, data: bytes) -> bytes:
        buffer = self._pending + data
        passed: list[bytes] = []
        while True:
            at = buffer.find(self._tag)
            if at < 0:
                keep = self._partial_tag_at_end(buffer)
                passed.append(buffer[: len(buffer) - keep])
                self._pending = buffer[len(buffer) - keep :]
                break
            end = buffer.find(b"\n", at)
            if end < 0 and len(buffer) - at <= _MARKER_LINE_MAX:
                passed.append(buffer[:at])
                self._pending = buffer[at:]
                break
            if end < 0 or not self._take(buffer[at + len(self._tag) : end]):
                # Not one of ours after all: pass the tag through as text.
                passed.append(buffer[: at + len(self._tag)])
                buffer = buffer[at + len(self._tag) :]
                continue
            passed.append(buffer[:at])
            buffer = buffer[end + 1 :]
        return b"".join(passed)

    def close(self) -> bytes:
        rest, self._pending = self._pending, b""
        self.finished.set()
        self.settled.set()
        return rest

    def _partial_tag_at_end(self, buffer: bytes) -> int:
        for size in range(min(len(self._tag) - 1, len(buffer)), 0, -1):
            if buffer.endswith(self._tag[:size]):
                return size
        return 0

    def _take(self, report: bytes) -> bool:
        parts = report.split()
        if parts == [b"n"]:
            self.not_found = True
            self.settled.set()
            return True
        if len(parts) == 2 and parts[1].isdigit() and parts[0] in (b"s", b"x"):
            if parts[0] == b"s":
                self.pid = int(parts[1])
                self.settled.set()
            else:
                self.status = int(parts[1])
            return True
        return False


def _last_lines(stderr: bytes, limit: int = 600) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _quote_config_value(path: str, *, then: str = "") -> str:
    """``path`` (followed by ``then``, which may hold ssh's ``%`` tokens) as ssh's option
    parser reads it: ``%`` in the path escaped, quoted when it has spaces."""
    if '"' in path:
        raise ValueError(f"ssh cannot read a path with a double quote: {path!r}")
    value = path.replace("%", "%%") + then
    return f'"{value}"' if any(c.isspace() for c in value) else value


class SSHRunner:
    """Runs commands on ``target`` through the user's OpenSSH client (see the module's theory
    of operation). Use it as an async context manager, or call :meth:`aclose`, so that the
    master connection ends with it.

    ``kill_grace``: seconds between SIGTERM and SIGKILL when a command is ended, on both
    hosts. ``control_dir``: where the control socket lives; the default is a new private
    directory (removed by :meth:`aclose`), which keeps the master to this runner.
    """

    def __init__(
        self,
        target: SSHTarget,
        *,
        kill_grace: float = DEFAULT_KILL_GRACE,
        control_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if kill_grace < 0:
            raise ValueError(f"kill_grace must be >= 0, not {kill_grace}")
        self.target = target
        self.kill_grace = kill_grace
        self._control_dir = None if control_dir is None else os.fspath(control_dir)
        if self._control_dir is not None and '"' in self._control_dir:
            raise ValueError(f"ssh cannot read a control_dir with a double quote: {control_dir!r}")
        self._owns_control_dir = False
        self._tag = f"pyinterlink-{secrets.token_hex(8)}"
        self._master_lock = anyio.Lock()
        self._master_up = False
        self._sessions = anyio.Semaphore(target.max_sessions)

    def __repr__(self) -> str:
        return f"SSHRunner({self.target!r})"

    # --- the ssh command line -----------------------------------------------------------

    @property
    def control_path(self) -> str:
        """The control socket of the master connection, as the value of ssh's
        ``-o ControlPath=`` (``%C``: a hash of the destination), for ``ssh -O check``."""
        return _quote_config_value(self.control_directory, then="/%C")

    @property
    def control_directory(self) -> str:
        """The directory of the control socket (made when first needed)."""
        return self._control_directory()

    def _control_directory(self) -> str:
        if self._control_dir is None:
            base = os.environ.get("XDG_RUNTIME_DIR")
            if not base or not os.path.isdir(base) or len(base) > 40:
                base = None
            try:
                directory = tempfile.mkdtemp(prefix="pyinterlink-ssh-", dir=base)
                if len(directory) > 60:  # a socket's path has room for about 100 bytes
                    os.rmdir(directory)
                    directory = tempfile.mkdtemp(prefix="pyinterlink-ssh-", dir="/tmp")
            except OSError as exc:
                raise TransportError(
                    f"cannot make a private directory for the ssh control socket: {exc}"
                ) from exc
            self._control_dir = directory
            self._owns_control_dir = True
        return self._control_dir

    def _has_socket(self) -> bool:
        if self._control_dir is None:
            return False
        try:
            entries = list(os.scandir(self._control_dir))
            return any(stat.S_ISSOCK(entry.stat().st_mode) for entry in entries)
        except OSError:
            return False

    def _ssh(self, control: Literal["auto", "master", "none", "ctl"]) -> list[str]:
        target = self.target
        argv = [target.ssh]
        if target.config_file is not None:
            argv += ["-F", target.config_file]
        for option in target.options:
            argv += ["-o", option]
        argv += [
            "-o", "BatchMode=yes",
            "-o", f"StrictHostKeyChecking={target.strict_host_key_checking}",
            "-o", f"ConnectTimeout={target.connect_timeout}",
            "-o", "LogLevel=ERROR",
            "-o", "ClearAllForwardings=yes",
            "-o", "ForwardAgent=no",
            "-o", "ForwardX11=no",
            "-o", "RemoteCommand=none",
        ]  # fmt: skip
        if target.known_hosts is not None:
            argv += ["-o", f"UserKnownHostsFile={_quote_config_value(target.known_hosts)}"]
        if control == "none":
            argv += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        else:
            argv += ["-o", f"ControlPath={self.control_path}"]
            if control != "ctl":
                argv += [
                    "-o", "ControlMaster=" + ("yes" if control == "master" else "auto"),
                    "-o", f"ControlPersist={target.control_persist}",
                ]  # fmt: skip
        if target.port is not None:
            argv += ["-p", str(target.port)]
        if target.user is not None:
            argv += ["-l", target.user]
        if target.identity_file is not None:
            argv += ["-i", target.identity_file, "-o", "IdentitiesOnly=yes"]
        return argv

    def _command_argv(self, multiplexed: bool, script: str) -> list[str]:
        return [*self._ssh("auto" if multiplexed else "none"), "-T", "--", self.target.host, script]

    # --- the master connection --------------------------------------------------------------

    @contextlib.contextmanager
    def _session(self) -> Iterator[bool]:
        """A channel over the master connection when one is free (True), else a connection of
        the command's own (False): sshd refuses channels beyond its MaxSessions."""
        try:
            self._sessions.acquire_nowait()
        except anyio.WouldBlock:
            yield False
            return
        try:
            yield True
        finally:
            self._sessions.release()

    async def connect(self, timeout: float | None = None) -> None:
        """Open the master connection now (commands open it when needed). Raises
        :class:`TransportError` when the host cannot be reached or refuses us."""
        deadline = None if timeout is None else anyio.current_time() + timeout
        await self._ensure_master(deadline)

    async def _ensure_master(self, deadline: float | None) -> None:
        if self._master_up:
            return
        async with self._master_lock:
            if self._master_up:
                return
            target = self.target
            if self._has_socket():
                # A master that a command opened (ControlMaster=auto) or another runner's.
                check = [*self._ssh("ctl"), "-O", "check", "--", target.host]
                with contextlib.suppress(TransportError):
                    code, _, _ = await self._local(check, "ssh -O check", timeout=10.0)
                    if code == 0:
                        self._master_up = True
                        return
            # Authentication, a jump host and sshd's login all fit in three connect timeouts.
            budget = 3.0 * target.connect_timeout + 5.0
            remaining = None if deadline is None else deadline - anyio.current_time()
            limit = budget if remaining is None else max(0.0, min(budget, remaining))
            master = [*self._ssh("master"), "-N", "-f", "--", target.host]
            try:
                code, _, stderr = await self._local(master, target.ssh, timeout=limit)
            except CommandTimeoutError:
                if limit < budget:
                    raise CommandTimeoutError(
                        f"no connection to {target.destination} within the command's timeout"
                    ) from None
                raise TransportError(
                    f"ssh to {target.destination}: no connection within {budget:g} s"
                ) from None
            if code != 0:
                raise TransportError(
                    f"ssh to {target.destination} failed (exit {code}): "
                    f"{_last_lines(stderr) or 'no message'}"
                )
            self._master_up = True

    async def _local(
        self, argv: Sequence[str], name: str, *, timeout: float
    ) -> tuple[int, bytes, bytes]:
        return await run_process(
            argv,
            name=name,
            stdin=None,
            env=None,
            cwd=None,
            timeout=timeout,
            max_output=_STDERR_KEPT,
            grace=self.kill_grace,
        )

    async def _kill_remote(self, reports: _Reports) -> None:
        if reports.pid is None or reports.status is not None:
            return
        script = _kill_script(reports.pid, self.kill_grace)
        with self._session() as multiplexed:
            # Best effort, and bounded: a cancelled caller should not wait long for a host
            # that cannot be reached any more.
            timeout = self.kill_grace + min(self.target.connect_timeout, 5) + 1.0
            await self._local(self._command_argv(multiplexed, script), "kill", timeout=timeout)

    # --- CommandRunner ------------------------------------------------------------------

    def _verdict(self, argv: tuple[str, ...], reports: _Reports, code: int, err: bytes) -> int:
        where = self.target.destination
        if reports.not_found:
            raise TransportError(f"cannot run {argv[0]!r} on {where}: command not found")
        if reports.status is not None:
            return reports.status
        if not reports.started:
            raise TransportError(
                f"ssh to {where} failed (exit {code}): {_last_lines(err) or 'no message'}"
            )
        raise TransportError(
            f"ssh to {where}: connection lost while {argv[0]!r} ran (ssh exit {code})"
            + (f": {_last_lines(err)}" if err.strip() else "")
        )

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> CommandResult:
        """See :meth:`CommandRunner.run <.commands.CommandRunner.run>`. The timeout includes
        opening the master connection when the command has to."""
        words = check_argv(argv)
        script = remote_command(words, check_env(env), self._tag)
        deadline = None if timeout is None else anyio.current_time() + timeout
        reports = _Reports(self._tag)
        with self._session() as multiplexed:
            if multiplexed:
                await self._ensure_master(deadline)
            remaining = None if deadline is None else max(0.0, deadline - anyio.current_time())
            name = f"{words[0]} on {self.target.destination}"
            try:
                code, stdout, stderr = await run_process(
                    self._command_argv(multiplexed, script),
                    name=name,
                    stdin=stdin,
                    env=None,
                    cwd=None,
                    timeout=remaining,
                    max_output=max_output,
                    grace=self.kill_grace,
                    stderr_filter=reports,
                    before_kill=lambda: self._kill_remote(reports),
                )
            except CommandTimeoutError:
                raise CommandTimeoutError(
                    f"{name!r} did not finish within {timeout:g} s; killed"
                ) from None
        return CommandResult(
            argv=words,
            returncode=self._verdict(words, reports, code, stderr),
            stdout=stdout,
            stderr=stderr,
        )

    def stream(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """See :meth:`CommandRunner.stream <.commands.CommandRunner.stream>`. Entering waits
        until the remote program has started (so ssh's failures and a missing program raise
        there); the iterator ends when the program has ended."""
        words = check_argv(argv)
        return self._stream(words, remote_command(words, check_env(env), self._tag))

    @contextlib.asynccontextmanager
    async def _stream(
        self, words: tuple[str, ...], script: str
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        reports = _Reports(self._tag)
        kept = bytearray()

        def on_stderr(data: bytes) -> None:
            kept.extend(reports.feed(data))
            del kept[:-_STDERR_KEPT]

        def stderr_done() -> None:
            kept.extend(reports.close())

        async def after_start() -> None:
            await reports.settled.wait()
            if not reports.started:
                await reports.finished.wait()
                self._verdict(words, reports, 255, bytes(kept))

        async def on_eof() -> None:
            await reports.finished.wait()
            self._verdict(words, reports, 255, bytes(kept))

        with self._session() as multiplexed:
            if multiplexed:
                await self._ensure_master(None)
            async with stream_process(
                self._command_argv(multiplexed, script),
                name=f"{words[0]} on {self.target.destination}",
                env=None,
                cwd=None,
                grace=self.kill_grace,
                on_stderr=on_stderr,
                stderr_done=stderr_done,
                after_start=after_start,
                on_eof=on_eof,
                before_kill=lambda: self._kill_remote(reports),
            ) as chunks:
                yield chunks

    async def aclose(self) -> None:
        """End the master connection (``ssh -O exit``) and remove the private directory of
        its socket. Idempotent; a later command opens a new master."""
        with anyio.CancelScope(shield=True):
            async with self._master_lock:
                directory = self._control_dir
                if self._has_socket():
                    stop = [*self._ssh("ctl"), "-O", "exit", "--", self.target.host]
                    with contextlib.suppress(TransportError):
                        await self._local(stop, "ssh -O exit", timeout=10.0)
                self._master_up = False
                if directory is not None and self._owns_control_dir:
                    shutil.rmtree(directory, ignore_errors=True)
                    self._control_dir = None
                    self._owns_control_dir = False

    async def __aenter__(self) -> SSHRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
