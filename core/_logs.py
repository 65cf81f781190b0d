"""Container logs as the kubelet serves them, over the bytes of a container's output file.

Theory of operation
-------------------
``kubectl logs`` options reach a backend as :class:`~._wire.ContainerLogOpts`. The kubelet
reads them over the runtime's log file (``pkg/kubelet/kuberuntime/logs/logs.go``:
``NewLogOptions`` and ``ReadLogs``); every backend here reads them over the
``<init|run>-<name>.out`` file of the pod's working directory with the functions of this
module, so that the local, Slurm, HTCondor and UNICORE backends answer the same request with
the same bytes. The kubelet's rules, and ours:

* **tail** N: the last N lines, exactly. The kubelet seeks to the start of the N-th last line
  and then writes N lines. A *line* is what ends with ``\\n``, and also the final bytes after
  the last ``\\n``: the kubelet skips an unterminated last line when counting (in a CRI log
  file it is a record being written), but our files hold the container's raw output, where
  ``printf done`` is a whole last line once the container ended. ``0`` is unset (the wire's
  Go ``int`` cannot tell ``--tail=0`` from no option), and so is a negative value (the
  kubelet's ``-1``).
* **limitBytes** N: the output stops after N bytes, cut in the middle of a line if that is
  where the N-th byte falls (the kubelet's ``logWriter``). It counts what is written, so it
  applies after tail, after since, and after the timestamp prefixes. ``0`` is unset.
* **sinceSeconds** / **sinceTime**: the kubelet keeps the lines whose time is not before
  ``max(now - sinceSeconds, sinceTime)``.
* **timestamps**: each line starts with its time in the kubelet's fixed-width RFC 3339 form
  (``2026-11-23T16:04:16.123456000Z``, nine fraction digits, always UTC here) and a space.

The kubelet knows each line's time from the CRI log record; our output files record none.
What we do know is an *upper bound*: every byte already in a file was written no later than
the file's modification time, and every byte read while following was written no later than
the moment it was read. So each line's time here is that bound: the file's ``mtime`` for
lines read from the file at the request, the reading time for lines that arrive while
following. Both options follow from it. **since** keeps every line that may be recent: a
file that was not modified since the instant asked for is left out whole, one that was is
kept whole (older lines included: we cannot tell them apart). **timestamps** prefix each line
with its bound, "written no later than", which keeps the output in the kubelet's format for
the tools that read it back.

**follow** streams a file as it grows (:class:`LogFollower`): a pure step function is given
what the file gained and answers what to send. While following, only whole lines are sent; a
partial line waits for its end of line or for :meth:`LogFollower.finish` (the container
ended), as the kubelet waits for the runtime to complete a record. The stream is over when
the byte limit is reached (:attr:`LogFollower.done`).

**previous** asks for the log of an earlier instance of a restarted container. Containers
here never restart (pods run with ``restartPolicy: Never`` semantics on a batch system), so
there is none: the kubelet's answer is ``previous terminated container ... not found``, a
400 from the API server.

Where upstream interLink differs (the Slurm plugin's ``GetLogs.go``, which other plugins
copied): tail keeps one line too many (``lines[len-Tail-1:]`` after splitting on ``\\n``,
then adds a ``\\n`` to each, so the output gains an empty line or an extra line); limitBytes
keeps the *last* N+1 bytes instead of the first N; since is applied only together with
timestamps, to lines that start with a timestamp (container output does not), and
sinceSeconds keeps the lines *older* than the limit; timestamps are ignored; and ``job.out``
is prepended to the container's output. Its API server refuses a request with both Tail and
Bytes, which Kubernetes allows and composes (``--tail=10 --limit-bytes=100``): our validator
accepts both unless asked to be upstream-strict.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from ._errors import InputError
from ._wire import ContainerLogOpts, LogStruct

__all__ = [
    "LogFollower",
    "LogRequestError",
    "LogWindow",
    "check_log_struct",
    "follow_log",
    "format_log_time",
    "log_opts_errors",
    "log_struct_errors",
    "log_window",
    "select_log",
    "tail_start",
]

_EOL: Final = b"\n"

# Kubernetes names: an RFC 1123 label (namespaces, container names) and the UUID form of a
# pod UID, as upstream's API server checks them before building file paths from them.
_RFC1123_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class LogRequestError(InputError):
    """A log request that cannot be served as asked; ``path`` names the wire field
    (``Opts.Tail``). Servers answer it with :attr:`status_hint` and the error text."""

    status_hint: Final = 400


# --- validation --------------------------------------------------------------------------


def log_opts_errors(
    opts: ContainerLogOpts, *, upstream: bool = False
) -> tuple[LogRequestError, ...]:
    """Everything wrong with ``opts``, in field order (empty: the options are valid).

    The Kubernetes API server's rules (``ValidatePodLogOptions``): no negative tail, no
    negative byte limit or sinceSeconds (zero is unset on this wire), not both sinceSeconds
    and sinceTime. ``previous`` is refused: containers are never restarted here. With
    ``upstream``, also upstream interLink's rule that Tail and Bytes exclude each other.
    """
    errors: list[LogRequestError] = []
    if opts.tail < 0:
        errors.append(LogRequestError("must be greater than or equal to 0", path="Opts.Tail"))
    if opts.limit_bytes < 0:
        errors.append(LogRequestError("must be greater than 0", path="Opts.Bytes"))
    if upstream and opts.tail > 0 and opts.limit_bytes > 0:
        errors.append(
            LogRequestError("both Tail and Bytes set: set only one of them", path="Opts.Bytes")
        )
    if opts.since_seconds < 0:
        errors.append(LogRequestError("must be greater than 0", path="Opts.SinceSeconds"))
    if opts.since_seconds and opts.since_time is not None:
        errors.append(
            LogRequestError(
                "at most one of `sinceTime` or `sinceSeconds` may be specified",
                path="Opts.SinceTime",
            )
        )
    if opts.previous:
        errors.append(
            LogRequestError(
                "previous terminated container not found: containers are never restarted here",
                path="Opts.Previous",
            )
        )
    return tuple(errors)


def log_struct_errors(struct: LogStruct, *, upstream: bool = False) -> tuple[LogRequestError, ...]:
    """Everything wrong with a ``/getLogs`` request: the names (the namespace and the
    container an RFC 1123 label, the pod UID a lowercase UUID: they become file names),
    then the options (:func:`log_opts_errors`)."""
    errors: list[LogRequestError] = []
    if _RFC1123_LABEL.fullmatch(struct.namespace) is None:
        errors.append(
            LogRequestError(f"{struct.namespace!r} is not an RFC 1123 label", path="Namespace")
        )
    if _UUID.fullmatch(struct.pod_uid) is None:
        errors.append(LogRequestError(f"{struct.pod_uid!r} is not a UUID", path="PodUID"))
    if _RFC1123_LABEL.fullmatch(struct.container_name) is None:
        errors.append(
            LogRequestError(
                f"{struct.container_name!r} is not an RFC 1123 label", path="ContainerName"
            )
        )
    return (*errors, *log_opts_errors(struct.opts, upstream=upstream))


def check_log_struct(struct: LogStruct, *, upstream: bool = False) -> None:
    """Raise the first of :func:`log_struct_errors`, if any."""
    errors = log_struct_errors(struct, upstream=upstream)
    if errors:
        raise errors[0]


# --- the options at one instant ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LogWindow:
    """What :class:`ContainerLogOpts` ask of a log, resolved at one instant (the kubelet's
    ``NewLogOptions``). ``None`` is unset: the whole log, no byte limit, no time limit."""

    tail: int | None = None
    limit_bytes: int | None = None
    since: datetime | None = None
    timestamps: bool = False
    follow: bool = False


def log_window(opts: ContainerLogOpts, *, now: datetime) -> LogWindow:
    """``opts`` at the instant ``now`` (timezone-aware).

    Zero and negative numbers are unset. ``since`` is the later of ``now - sinceSeconds``
    and ``sinceTime``, as in the kubelet.
    """
    since: datetime | None = None
    if opts.since_seconds > 0:
        since = now - timedelta(seconds=opts.since_seconds)
    if opts.since_time is not None and (since is None or opts.since_time > since):
        since = opts.since_time
    return LogWindow(
        tail=opts.tail if opts.tail > 0 else None,
        limit_bytes=opts.limit_bytes if opts.limit_bytes > 0 else None,
        since=since,
        timestamps=opts.timestamps,
        follow=opts.follow,
    )


def format_log_time(when: datetime) -> str:
    """``when`` as the kubelet prefixes a log line: RFC 3339 in UTC with nine fraction digits
    (Go's ``RFC3339NanoFixed``), ``2026-11-23T16:04:16.123456000Z``."""
    utc = when.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}000Z"


def tail_start(data: bytes, lines: int | None) -> int:
    """The offset in ``data`` where its last ``lines`` lines begin (0 when it has fewer, or
    for ``None``). A final line without ``\\n`` counts as a line."""
    if lines is None:
        return 0
    end = len(data) - 1 if data.endswith(_EOL) else len(data)
    for _ in range(lines):
        newline = data.rfind(_EOL, 0, end)
        if newline < 0:
            return 0
        end = newline
    return end + 1


def _stamped(body: bytes, when: datetime) -> bytes:
    # Every line of ``body`` (the last one may lack its newline) prefixed with ``when``.
    if not body:
        return body
    prefix = format_log_time(when).encode("ascii") + b" "
    ends_line = body.endswith(_EOL)
    lines = (body[:-1] if ends_line else body).split(_EOL)
    return prefix + (_EOL + prefix).join(lines) + (_EOL if ends_line else b"")


def _shown(body: bytes, when: datetime | None, window: LogWindow) -> bytes:
    # Lines read at one time, as they are sent: dropped when older than since, stamped.
    if window.since is not None and when is not None and when < window.since:
        return b""
    if window.timestamps and when is not None:
        return _stamped(body, when)
    return body


def select_log(
    data: bytes, opts: ContainerLogOpts, *, now: datetime, mtime: datetime | None
) -> bytes:
    """The bytes ``kubectl logs`` shows for an output file holding ``data``, modified last at
    ``mtime`` (``None``: unknown, since and timestamps then do not apply), asked at ``now``.

    The options apply as the module docstring says: tail, then since (the whole file or
    nothing), then timestamps, then the byte limit. ``opts.follow`` is ignored: this is the
    answer to a request that does not follow, or what a follower starts with when the
    container has already ended (:func:`follow_log` holds back a partial last line).
    """
    window = log_window(opts, now=now)
    body = _shown(data[tail_start(data, window.tail) :], mtime, window)
    if window.limit_bytes is not None:
        body = body[: window.limit_bytes]
    return body


# --- follow ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LogFollower:
    """Where a followed log stands: feed it what the file gained, send what it answers.

    ``offset`` is how many bytes of the file have been read (read on from there); ``pending``
    the partial last line held back until its end of line arrives; ``remaining`` the bytes
    the limit still allows (``None``: no limit). The follower is a value: each step returns
    the next one.
    """

    window: LogWindow
    offset: int = 0
    pending: bytes = b""
    remaining: int | None = None

    @property
    def done(self) -> bool:
        """Whether the byte limit has been reached: nothing more will be sent."""
        return self.remaining is not None and self.remaining <= 0

    def _send(self, body: bytes, when: datetime | None) -> tuple[bytes, int | None]:
        out = _shown(body, when, self.window)
        if self.remaining is None:
            return out, None
        out = out[: self.remaining]
        return out, self.remaining - len(out)

    def feed(self, new: bytes, *, now: datetime) -> tuple[bytes, LogFollower]:
        """``new`` bytes appended to the file (read at ``offset``), read at ``now``: what to
        send (the whole lines completed now, within since and the limit) and the next state."""
        if self.done:
            return b"", attrs.evolve(self, offset=self.offset + len(new))
        held = self.pending + new
        cut = held.rfind(_EOL) + 1
        out, remaining = self._send(held[:cut], now)
        follower = attrs.evolve(
            self, offset=self.offset + len(new), pending=held[cut:], remaining=remaining
        )
        return out, follower

    def finish(self, *, now: datetime) -> tuple[bytes, LogFollower]:
        """The container ended (after a last :meth:`feed` of what the file gained): the partial
        last line held back, if any, to send before the stream ends."""
        if self.done or not self.pending:
            return b"", attrs.evolve(self, pending=b"")
        out, remaining = self._send(self.pending, now)
        return out, attrs.evolve(self, pending=b"", remaining=remaining)


def follow_log(
    data: bytes, opts: ContainerLogOpts, *, now: datetime, mtime: datetime | None
) -> tuple[bytes, LogFollower]:
    """Start following an output file that holds ``data`` now (``mtime`` as for
    :func:`select_log`): what to send at once, and the follower for what comes next.

    What is sent at once is :func:`select_log`'s answer without a partial last line, which
    the follower holds until its end of line (or :meth:`LogFollower.finish`).
    """
    window = log_window(opts, now=now)
    start = tail_start(data, window.tail)
    cut = max(start, data.rfind(_EOL) + 1)
    out = _shown(data[start:cut], mtime, window)
    remaining = window.limit_bytes
    if remaining is not None:
        out = out[:remaining]
        remaining -= len(out)
    follower = LogFollower(window=window, offset=len(data), pending=data[cut:], remaining=remaining)
    return out, follower
