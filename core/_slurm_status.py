"""The Slurm dialect, status side: what sbatch, squeue, scontrol, sacct and the job's files say.

Theory of operation: the backend submits with ``sbatch --parsable`` (:func:`parse_sbatch_parsable`
reads the job id), then asks about every job it tracks with *one* ``squeue`` call
(:func:`squeue_argv`, read by :func:`parse_squeue`). squeue forgets a job ``MinJobAge``
seconds after it ended; where the site keeps accounting, ``sacct`` (:func:`sacct_argv`,
:func:`parse_sacct`) still knows it, and where it does not, the per-container ``.status`` files
the pod script writes (:func:`container_results`) tell how it ended. ``scontrol show job``
(:func:`parse_scontrol_jobs`) reads the same facts for people and tools that use it.

Every output becomes a :class:`~._remote.RemoteState` through the state table of
:mod:`._slurm_states` and the same rules, whichever tool printed it:

* the state word is matched whole (long name or short code, ``CANCELLED by 1000`` and
  ``CANCELLED+`` included); a word of the right shape that the table does not know is
  ``unknown``;
* the reason is the table's, or for PENDING the scheduler's pending reason; the scheduler's
  reason, when it is not the state's reason and not ``None``, is the message;
* ``started_at`` is Slurm's StartTime once the job has an allocation (never for a queued job,
  whose StartTime is only an estimate); ``finished_at`` is its EndTime once the job has ended
  (for a running job it is the time limit). Slurm sets both to the same instant for a job
  cancelled before it started;
* the exit code and signal are reported for ended jobs only, as Slurm gives them: ``3:0`` is
  exit code 3, ``0:15`` signal 15 with exit code 0 (the status mapping turns a signal into
  ``128 + signal``); squeue's ``exit_code`` is the raw wait status (768 for ``exit 3``), read
  the same way.

Times: Slurm prints local times without a zone (``2026-11-23T16:04:16``), or ``N/A``,
``Unknown``, ``NONE``, ``None`` when there is none; the zone comes in as ``tz``. The backend
runs the tools with :data:`SLURM_ENV` (``TZ=UTC0``, ``SLURM_TIME_FORMAT=standard``) so that the
default ``tz=UTC`` holds whatever the site's zone, and the format is the documented one.

Every parser is total: it returns a value or raises :class:`SchedulerOutputError` whose path
names the line and the field (``line 3.exit_code``), or the file for a status file.
"""

from __future__ import annotations

import functools
import operator
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import Final, Literal

import attrs

from ._errors import SchedulerOutputError, join_path
from ._remote import TERMINAL_KINDS, ContainerResult, RemoteKind, RemoteState
from ._slurm_states import SlurmStateRow, slurm_state

__all__ = [
    "SACCT_FIELDS",
    "SACCT_FORMAT",
    "SLURM_ENV",
    "SQUEUE_FIELDS",
    "SQUEUE_FORMAT",
    "JobId",
    "SacctField",
    "SlurmJob",
    "SqueueField",
    "container_results",
    "parse_container_status",
    "parse_sacct",
    "parse_sbatch_parsable",
    "parse_scontrol_jobs",
    "parse_slurm_time",
    "parse_squeue",
    "sacct_argv",
    "sacct_jobs",
    "scontrol_argv",
    "scontrol_jobs",
    "squeue_argv",
    "squeue_format",
    "squeue_jobs",
]

SLURM_ENV: Final[Mapping[str, str]] = MappingProxyType(
    {"TZ": "UTC0", "SLURM_TIME_FORMAT": "standard"}
)
"""Environment for every Slurm command whose output these parsers read: times in UTC (parse
with the default ``tz``) and in the standard ``YYYY-MM-DDTHH:MM:SS`` format, whatever the
site or the user's profile set."""

SqueueField = Literal[
    "job_id", "state", "state_code", "reason", "start_time", "end_time", "exit_code", "name"
]
"""A column of squeue output: job id (``%i``), long state (``%T``), short state code
(``%t``), reason (``%r``), start and end time (``%S``, ``%e``), raw exit status (only with
``-O``: ``%`` has no letter for it), job name (``%j``)."""

# Each field as squeue's --Format (-O) names it.
_SQUEUE_NAMES: Final[Mapping[SqueueField, str]] = MappingProxyType(
    {
        "job_id": "JobID",
        "state": "State",
        "state_code": "StateCompact",
        "reason": "Reason",
        "start_time": "StartTime",
        "end_time": "EndTime",
        "exit_code": "exit_code",
        "name": "Name",
    }
)

SQUEUE_FIELDS: Final[tuple[SqueueField, ...]] = (
    "job_id",
    "state",
    "reason",
    "start_time",
    "end_time",
    "exit_code",
    "name",
)
"""The columns the backend asks squeue for. The name (the pod UID) comes last: it is the only
free text, and the last column takes the rest of the line, ``|`` included."""


def squeue_format(fields: Sequence[SqueueField]) -> str:
    """squeue's ``--Format`` (``-O``) value printing ``fields`` separated by ``|``.

    ``Field:|`` is a field of no minimum width (so never padded nor cut) followed by ``|``;
    the last field has no suffix. Without the ``:``, squeue pads and cuts fields to 20
    characters.
    """
    names = [_SQUEUE_NAMES[field] for field in fields]
    return ",".join([f"{name}:|" for name in names[:-1]] + [f"{name}:" for name in names[-1:]])


SQUEUE_FORMAT: Final[str] = squeue_format(SQUEUE_FIELDS)
"""``JobID:|,State:|,Reason:|,StartTime:|,EndTime:|,exit_code:|,Name:``, for ``--Format``."""

SacctField = Literal["job_id", "state", "exit_code", "start_time", "end_time", "reason", "name"]
"""A column of ``sacct --parsable2`` output."""

_SACCT_NAMES: Final[Mapping[SacctField, str]] = MappingProxyType(
    {
        "job_id": "JobID",
        "state": "State",
        "exit_code": "ExitCode",
        "start_time": "Start",
        "end_time": "End",
        "reason": "Reason",
        "name": "JobName",
    }
)

SACCT_FIELDS: Final[tuple[SacctField, ...]] = (
    "job_id",
    "state",
    "exit_code",
    "start_time",
    "end_time",
    "reason",
    "name",
)
"""The columns the backend asks sacct for; the job name last, as for squeue."""

SACCT_FORMAT: Final[str] = ",".join(_SACCT_NAMES[field] for field in SACCT_FIELDS)
"""``JobID,State,ExitCode,Start,End,Reason,JobName``, for ``sacct --format``."""

# A job as squeue and scontrol name it: 123, an array element 123_4 or a pending array
# 123_[1-5%2], a heterogeneous component 123+0. sacct adds steps: 123.batch, 123.0.
_JOB_ID = re.compile(
    r"[0-9]{1,10}(?:_(?:[0-9]{1,10}|\[[0-9,%:\-]{1,200}\]))?(?:\+[0-9]{1,10})?", re.ASCII
)
_STEP = re.compile(r"[A-Za-z0-9_\-]{1,64}", re.ASCII)
_PARSABLE = re.compile(r"([0-9]{1,10})(?:;([A-Za-z0-9][A-Za-z0-9_.\-]{0,63}))?", re.ASCII)
_STATE_WORD = re.compile(r"[A-Z][A-Z_]{0,63}", re.ASCII)
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}", re.ASCII)
_EXIT_PAIR = re.compile(r"([0-9]{1,3}):([0-9]{1,3})", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,10}", re.ASCII)
_STATUS_FILE = re.compile(r"(init|run)-(.+)\.status", re.DOTALL)
# Words Slurm prints where a time, reason or exit code is not set.
_NO_TIME: Final = frozenset({"", "N/A", "Unknown", "NONE", "None", "(null)"})
_NO_REASON: Final = frozenset({"", "None", "(null)"})
_NO_EXIT: Final = frozenset({"", "N/A"})
# A key of a scontrol record starts a word: JobState=, AllocNode:Sid=, CPUs/Task=.
_SCONTROL_KEY = re.compile(r"(?<!\S)([A-Za-z][A-Za-z0-9_:/]*)=", re.ASCII)
_NO_JOBS = "No jobs in the system"
_WAIT_STATUS_LIMIT = 1 << 16


@attrs.frozen(kw_only=True)
class JobId:
    """A submitted job: its id and, on a multi-cluster site, the cluster that holds it.

    ``str(job_id)`` is the id alone, as squeue, scontrol, sacct and scancel take it (with
    ``--clusters=<cluster>`` when ``cluster`` is set).
    """

    id: str
    cluster: str | None = None

    def __str__(self) -> str:
        return self.id


@attrs.frozen(kw_only=True)
class SlurmJob:
    """One job of squeue, sacct or scontrol output: its id, name (the pod UID for jobs of
    pyinterlink; ``None`` when not asked for) and state."""

    job_id: str
    name: str | None = None
    state: RemoteState


# --- commands ---------------------------------------------------------------------------------


def _job_list(job_ids: Iterable[str]) -> str:
    ids = [str(job_id) for job_id in job_ids]
    if not ids:
        raise ValueError("no job ids: squeue and sacct would list every job of the cluster")
    for job_id in ids:
        if not _JOB_ID.fullmatch(job_id):
            raise ValueError(f"not a Slurm job id: {job_id!r}")
    return ",".join(ids)


def squeue_argv(
    job_ids: Iterable[str], *, fields: Sequence[SqueueField] = SQUEUE_FIELDS
) -> tuple[str, ...]:
    """The squeue command line for the state of ``job_ids`` in one call, for :func:`parse_squeue`.

    Run it with :data:`SLURM_ENV`. ``--states=all`` keeps ended jobs (for ``MinJobAge``
    seconds). When *every* id is unknown to Slurm (long gone), squeue exits 1 with
    ``slurm_load_jobs error: Invalid job id specified`` instead of printing nothing; ids it
    does not know among others are simply missing from the output. Raises ``ValueError`` for
    an empty list or a string that is not a job id.
    """
    return (
        "squeue",
        "--noheader",
        "--states=all",
        f"--jobs={_job_list(job_ids)}",
        f"--Format={squeue_format(fields)}",
    )


def sacct_argv(
    job_ids: Iterable[str], *, fields: Sequence[SacctField] = SACCT_FIELDS
) -> tuple[str, ...]:
    """The sacct command line for ``job_ids`` and their steps, for :func:`parse_sacct`.

    Run it with :data:`SLURM_ENV`. With ``--jobs`` sacct searches from the epoch, so no time
    window is needed. On a site without accounting sacct fails with "Slurm accounting storage
    is disabled". Raises ``ValueError`` like :func:`squeue_argv`.
    """
    return (
        "sacct",
        "--parsable2",
        "--noheader",
        f"--jobs={_job_list(job_ids)}",
        "--format=" + ",".join(_SACCT_NAMES[field] for field in fields),
    )


def scontrol_argv(job_id: str | None = None) -> tuple[str, ...]:
    """``scontrol --oneliner show job [id]``: one job (it takes no list) or, without an id,
    every job Slurm still knows; for :func:`parse_scontrol_jobs`. Run it with :data:`SLURM_ENV`."""
    if job_id is None:
        return ("scontrol", "--oneliner", "show", "job")
    return ("scontrol", "--oneliner", "show", "job", _job_list([job_id]))


# --- sbatch -----------------------------------------------------------------------------------


def parse_sbatch_parsable(text: str) -> JobId:
    """The job id ``sbatch --parsable`` prints on standard output: ``123`` or ``123;cluster``.

    Blank lines and surrounding whitespace are ignored; anything else (a second line, a
    message, ``Submitted batch job 123`` from a submission without ``--parsable``) raises
    :class:`SchedulerOutputError`.
    """
    lines = [(number, line.strip()) for number, line in _lines(text) if line.strip()]
    if not lines:
        raise SchedulerOutputError("sbatch printed no job id")
    number, line = lines[0]
    where = f"line {number}"
    if len(lines) > 1:
        raise SchedulerOutputError(
            f"sbatch --parsable prints one line, got {len(lines)}", path=f"line {lines[1][0]}"
        )
    match = _PARSABLE.fullmatch(line)
    if match is None:
        raise SchedulerOutputError(
            f"expected a job id like 123 or 123;cluster, got {_shown(line)}", path=where
        )
    if int(match[1]) == 0:
        raise SchedulerOutputError("0 is not a job id", path=where)
    return JobId(id=match[1], cluster=match[2])


# --- squeue -----------------------------------------------------------------------------------


def squeue_jobs(
    text: str, *, fields: Sequence[SqueueField] = SQUEUE_FIELDS, tz: tzinfo = UTC
) -> tuple[SlurmJob, ...]:
    """Every job of squeue output, in order: one ``|``-separated line per job, ``fields`` in
    the order printed (:data:`SQUEUE_FIELDS` by default; the format of
    ``-o '%i|%t|%T|%r|%S|%e'`` is ``("job_id", "state_code", "state", "reason",
    "start_time", "end_time")``).

    The last field takes the rest of the line. Blank lines are skipped. When both ``state``
    and ``state_code`` are given they must name the same state. Raises
    :class:`SchedulerOutputError` naming the line and field; ``ValueError`` when ``fields``
    has no job id or no state (a mistake of the caller, not of the output).
    """
    return tuple(
        SlurmJob(job_id=job_id, name=name, state=state)
        for job_id, name, state in _squeue_lines(text, tuple(fields), tz)
    )


def parse_squeue(
    text: str, *, fields: Sequence[SqueueField] = SQUEUE_FIELDS, tz: tzinfo = UTC
) -> dict[str, RemoteState]:
    """The state of every job of squeue output, by job id (see :func:`squeue_jobs`); a job
    listed twice keeps its last line."""
    return {job_id: state for job_id, _, state in _squeue_lines(text, tuple(fields), tz)}


def _squeue_lines(
    text: str, fields: tuple[SqueueField, ...], tz: tzinfo
) -> Iterator[tuple[str, str | None, RemoteState]]:
    """The job id, name and state of every line of squeue output (see :func:`squeue_jobs`)."""
    _check_fields(fields, "squeue", states={"state", "state_code"})
    count = len(fields)
    i_id = fields.index("job_id")
    i_name = fields.index("name") if "name" in fields else None
    # A line's state depends on every field but the job id and the name, and the jobs of one
    # answer share a few of those (PENDING/Priority with the same estimated start, the same
    # end): the state is read once per distinct rest of the line, and the next poll prints
    # most lines again. Memoised in UTC only (the backend's SLURM_ENV), as _memo_clock.
    rest = tuple(index for index in range(count) if index not in (i_id, i_name))
    shape = tuple(fields[index] for index in rest)
    # itemgetter picks the key fast, but returns a bare value when there is one index.
    pick: Callable[[list[str]], tuple[str, ...]] = (
        operator.itemgetter(*rest) if len(rest) > 1 else lambda values: (values[rest[0]],)
    )
    read = _memo_squeue_state if tz is UTC else _squeue_state
    for number, line in _lines(text):
        if not line.strip():
            continue
        values = _split(line, count, number)
        try:
            job_id = _job_id(values[i_id])
        except SchedulerOutputError as exc:
            raise _at(exc, number, _SQUEUE_NAMES["job_id"]) from None
        try:
            state = read(shape, pick(values), tz)
        except SchedulerOutputError as exc:
            raise exc.under(f"line {number}") from None
        yield job_id, values[i_name] if i_name is not None else None, state


def _squeue_state(
    shape: tuple[SqueueField, ...], values: tuple[str, ...], tz: tzinfo
) -> RemoteState:
    """The state a line of squeue output gives: ``values`` are its fields named in ``shape``
    (every field but the job id and name). Errors name the field (``StartTime``)."""
    at = dict(zip(shape, values, strict=True))
    field: SqueueField = "state"  # the field being read, for the error's path
    try:
        word = None
        if "state" in at:
            word = _state_text(at["state"])
        if "state_code" in at:
            field = "state_code"
            code = _state_text(at["state_code"])
            if word is not None and word.row is not code.row:
                field = "state"
                raise SchedulerOutputError(f"state {word.word} and state code {code.word} disagree")
            word = word or code
        assert word is not None  # _check_fields: one of the two is there
        exit_status = None
        if "exit_code" in at:
            field = "exit_code"
            exit_status = _wait_status(at["exit_code"])
        started = ended = None
        if "start_time" in at:
            field = "start_time"
            started = _time(at["start_time"], tz)
        if "end_time" in at:
            field = "end_time"
            ended = _time(at["end_time"], tz)
    except SchedulerOutputError as exc:
        raise SchedulerOutputError(exc.reason, path=_SQUEUE_NAMES[field]) from None
    return _remote_state(
        word,
        reason=at.get("reason"),
        started=started,
        ended=ended,
        exit_status=exit_status,
    )


# See _squeue_lines. The size holds every distinct line of a poll of 10,000 jobs, so that the
# next poll, which prints most of them again, reads none of them twice.
_memo_squeue_state = functools.lru_cache(maxsize=16384)(_squeue_state)


# --- sacct ------------------------------------------------------------------------------------


def sacct_jobs(
    text: str, *, fields: Sequence[SacctField] = SACCT_FIELDS, tz: tzinfo = UTC
) -> tuple[SlurmJob, ...]:
    """Every job of ``sacct --parsable2 --noheader`` output, in order; ``fields`` as printed
    (:data:`SACCT_FIELDS` by default).

    A job's own line (``123``, ``123_4``, ``123+0``) decides its state; its steps
    (``123.batch``, ``123.extern``, ``123.0``) only refine the exit code: when the job line
    says ``0:0`` for a job that did not succeed, the exit code and signal are those of the
    ``batch`` step, or else of the first other step (``extern`` aside, which Slurm itself
    kills) that has any. Steps whose job line is missing are ignored; every line is checked
    all the same. Raises :class:`SchedulerOutputError` naming the line and field,
    ``ValueError`` when ``fields`` has no job id or no state.
    """
    _check_fields(fields, "sacct", states={"state"})
    names = [_SACCT_NAMES[field] for field in fields]
    count = len(fields)
    at = {field: index for index, field in enumerate(fields)}
    i_id, i_state, i_exit = at["job_id"], at["state"], at.get("exit_code")
    i_reason, i_start, i_end = at.get("reason"), at.get("start_time"), at.get("end_time")
    i_name = at.get("name")
    jobs: dict[str, tuple[SlurmJob, tuple[int, int | None] | None]] = {}
    steps: dict[str, list[tuple[str, tuple[int, int | None]]]] = {}
    for number, line in _lines(text):
        if not line.strip():
            continue
        values = _split(line, count, number)
        field = i_id  # as in squeue_jobs: the field being read, for the error's path
        try:
            job_id, step = _sacct_id(values[i_id])
            field = i_state
            word = _state_text(values[i_state])
            exit_status = None
            if i_exit is not None:
                field = i_exit
                exit_status = _exit_pair(values[i_exit])
            started = ended = None
            if i_start is not None:
                field = i_start
                started = _time(values[i_start], tz)
            if i_end is not None:
                field = i_end
                ended = _time(values[i_end], tz)
        except SchedulerOutputError as exc:
            raise _at(exc, number, names[field]) from None
        if step is not None:
            if exit_status is not None and step != "extern":
                steps.setdefault(job_id, []).append((step, exit_status))
            continue
        state = _remote_state(
            word,
            reason=values[i_reason] if i_reason is not None else None,
            started=started,
            ended=ended,
            exit_status=exit_status,
        )
        name = values[i_name] if i_name is not None else None
        jobs[job_id] = (SlurmJob(job_id=job_id, name=name, state=state), exit_status)
    return tuple(
        _refined(job, exit_status, steps.get(job_id, ()))
        for job_id, (job, exit_status) in jobs.items()
    )


def parse_sacct(
    text: str, *, fields: Sequence[SacctField] = SACCT_FIELDS, tz: tzinfo = UTC
) -> dict[str, RemoteState]:
    """The state of every job of sacct output, by job id (see :func:`sacct_jobs`)."""
    return {job.job_id: job.state for job in sacct_jobs(text, fields=fields, tz=tz)}


def _refined(
    job: SlurmJob,
    exit_status: tuple[int, int | None] | None,
    steps: Iterable[tuple[str, tuple[int, int | None]]],
) -> SlurmJob:
    state = job.state
    if state.kind not in ("failed", "cancelled") or exit_status not in (None, (0, None)):
        return job
    ordered = sorted(steps, key=lambda step: step[0] != "batch")  # stable: batch, then in order
    for _, (code, signal) in ordered:
        if code or signal:
            return attrs.evolve(job, state=attrs.evolve(state, exit_code=code, signal=signal))
    return job


def _sacct_id(text: str) -> tuple[str, str | None]:
    head, dot, step = text.strip().partition(".")
    job_id = _job_id(head)
    if not dot:
        return job_id, None
    if _STEP.fullmatch(step) is None:
        raise SchedulerOutputError(f"not a job step: {_shown(text)}")
    return job_id, step


# --- scontrol ---------------------------------------------------------------------------------


def scontrol_jobs(text: str, *, tz: tzinfo = UTC) -> tuple[SlurmJob, ...]:
    """Every job of ``scontrol show job`` output, in order, multi-line records or
    ``--oneliner``.

    A record starts at a line beginning with ``JobId=`` and holds ``Key=value`` pairs; a
    value runs to the next word that looks like ``Key=``, so a value with spaces
    (``JobState=CANCELLED by 1000``) stays whole, and of a key given twice the first counts.
    Read are ``JobId``, ``JobName``, ``JobState`` (required), ``Reason``, ``StartTime``,
    ``EndTime`` and ``ExitCode`` (``code:signal``). ``No jobs in the system`` is no job.
    Raises :class:`SchedulerOutputError` naming the line and key.
    """
    jobs: list[SlurmJob] = []
    record: dict[str, tuple[int, str]] | None = None
    for number, line in _lines(text):
        if line.startswith("JobId="):
            if record is not None:
                jobs.append(_scontrol_job(record, tz))
            record = {}
        elif record is None:
            if line.strip() in ("", _NO_JOBS):
                continue
            raise SchedulerOutputError(
                f"expected a record starting with JobId=, got {_shown(line)}",
                path=f"line {number}",
            )
        matches = list(_SCONTROL_KEY.finditer(line))
        if line.strip() and (not matches or line[: matches[0].start()].strip()):
            raise SchedulerOutputError(
                f"expected Key=value pairs, got {_shown(line)}", path=f"line {number}"
            )
        ends = [following.start() for following in matches[1:]] + [len(line)] * bool(matches)
        for match, end in zip(matches, ends, strict=True):
            record.setdefault(match[1], (number, line[match.end() : end].strip()))
    if record is not None:
        jobs.append(_scontrol_job(record, tz))
    return tuple(jobs)


def parse_scontrol_jobs(text: str, *, tz: tzinfo = UTC) -> dict[str, RemoteState]:
    """The state of every job of ``scontrol show job`` output, by job id (see
    :func:`scontrol_jobs`)."""
    return {job.job_id: job.state for job in scontrol_jobs(text, tz=tz)}


def _scontrol_job(record: Mapping[str, tuple[int, str]], tz: tzinfo) -> SlurmJob:
    key = "JobId"
    try:
        job_id = _job_id(record["JobId"][1])
        if "JobState" not in record:
            raise SchedulerOutputError(f"job {job_id} has no JobState")
        key = "JobState"
        word = _state_text(record["JobState"][1])
        values = {name: value for name, (_, value) in record.items()}
        exit_status = None
        if "ExitCode" in values:
            key = "ExitCode"
            exit_status = _exit_pair(values["ExitCode"])
        key = "StartTime"
        started = _time(values.get("StartTime"), tz)
        key = "EndTime"
        ended = _time(values.get("EndTime"), tz)
    except SchedulerOutputError as exc:
        number = record[key][0] if key in record else record["JobId"][0]
        raise _at(exc, number, key if key in record else "JobId") from None
    state = _remote_state(
        word, reason=values.get("Reason"), started=started, ended=ended, exit_status=exit_status
    )
    return SlurmJob(job_id=job_id, name=values.get("JobName"), state=state)


# --- the job's files --------------------------------------------------------------------------


def parse_container_status(text: str, *, path: str = "") -> int:
    """The exit code in a container's ``.status`` file: a number 0..255 and a newline, as the
    pod script writes it (``128 + n`` for death by signal ``n``).

    Surrounding whitespace is ignored. Raises :class:`SchedulerOutputError` (with ``path``,
    the file's name) for anything else, an empty file included.
    """
    stripped = text.strip()
    if not re.fullmatch(r"[0-9]{1,3}", stripped, re.ASCII) or int(stripped) > 255:
        raise SchedulerOutputError(
            f"expected an exit code 0..255, got {_shown(stripped)}", path=path
        )
    return int(stripped)


def container_results(files: Mapping[str, str]) -> tuple[ContainerResult, ...]:
    """What the job's working directory says about its containers, from its status files.

    ``files`` maps file names (or paths: the last component counts) to contents. Every
    ``init-<name>.status`` and ``run-<name>.status`` (a non-empty name) gives one result;
    other files are ignored. An empty (or blank) file is one the pod script is writing at
    this moment: the container has ended but its code is not there yet, so it shows as not
    ended (``exit_code=None``). Results come init containers first, then by name. Raises
    :class:`SchedulerOutputError` naming the file whose content is not an exit code.
    """
    results = []
    for path, content in files.items():
        name = posixpath.basename(path)
        match = _STATUS_FILE.fullmatch(name)
        if match is None:
            continue
        code = parse_container_status(content, path=name) if content.strip() else None
        results.append(ContainerResult(name=match[2], init=match[1] == "init", exit_code=code))
    return tuple(sorted(results, key=lambda result: (not result.init, result.name)))


# --- shared pieces ----------------------------------------------------------------------------


def parse_slurm_time(text: str, *, tz: tzinfo = UTC, path: str = "") -> datetime | None:
    """A time as Slurm prints it (``2026-11-23T16:04:16``, in the zone ``tz``), or ``None``
    for ``N/A``, ``Unknown``, ``NONE``, ``None``, ``(null)`` or nothing. Raises
    :class:`SchedulerOutputError` (with ``path``) for anything else."""
    stripped = text.strip()
    if stripped in _NO_TIME:
        return None
    try:
        return (_memo_clock if tz is UTC else _clock)(stripped, tz)
    except SchedulerOutputError as exc:
        raise SchedulerOutputError(exc.reason, path=path) from None


def _clock(text: str, tz: tzinfo) -> datetime:
    if _TIME.fullmatch(text) is None:
        raise SchedulerOutputError(f"expected a time like 2026-11-23T16:04:16, got {_shown(text)}")
    try:
        # The pattern holds exactly what fromisoformat reads here, and it reads it fast. In
        # UTC (SLURM_ENV's zone) it also reads the zone: several times faster than replace().
        if tz is UTC:
            return datetime.fromisoformat(text + "+00:00")
        return datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError as exc:
        raise SchedulerOutputError(f"{text} is not a valid time: {exc}") from None


# The jobs of one answer share many start and end times. In UTC only: zones that are equal
# (the same offset) are one key, yet a time read in one would show the other's name.
_memo_clock = functools.lru_cache(maxsize=4096)(_clock)


@attrs.frozen(kw_only=True, cache_hash=True)  # a key of _meaning's memo, looked up per job
class _StateWord:
    word: str
    row: SlurmStateRow | None
    details: str


@functools.lru_cache(maxsize=256)
def _state_text(text: str) -> _StateWord:
    # Memoised: an answer repeats a handful of state words over thousands of lines.
    words = text.split()
    if not words:
        raise SchedulerOutputError("no job state")
    word = words[0].removesuffix("+")
    if _STATE_WORD.fullmatch(word) is None:
        raise SchedulerOutputError(f"not a Slurm job state: {_shown(words[0])}")
    return _StateWord(word=word, row=slurm_state(word), details=" ".join(words[1:]))


@attrs.frozen(kw_only=True)
class _Meaning:
    """What a state word and the scheduler's reason make of a job, times and exit aside."""

    kind: RemoteKind
    raw: str
    reason: str | None
    message: str | None
    started: bool
    ended: bool


@functools.lru_cache(maxsize=1024)
def _meaning(word: _StateWord, reason: str | None) -> _Meaning:
    # Memoised: the lines of one answer repeat a few (state, reason) pairs.
    row = word.row
    kind: RemoteKind = row.kind if row is not None else "unknown"
    raw = row.state if row is not None else word.word
    said = reason.strip() if reason is not None and reason.strip() not in _NO_REASON else None
    messages = [f"{raw} {word.details}"] if word.details else []
    if row is not None and row.pending_reason:
        state_reason = said
    else:
        state_reason = row.reason if row is not None else None
        if said is not None:
            messages.append(said)
    return _Meaning(
        kind=kind,
        raw=raw,
        reason=state_reason,
        message="; ".join(messages) or None,
        started=kind not in ("queued", "unknown"),
        ended=kind in TERMINAL_KINDS,
    )


def _remote_state(
    word: _StateWord,
    *,
    reason: str | None,
    started: datetime | None,
    ended: datetime | None,
    exit_status: tuple[int, int | None] | None,
) -> RemoteState:
    meaning = _meaning(word, reason)
    code, signal = exit_status if meaning.ended and exit_status is not None else (None, None)
    return RemoteState(
        kind=meaning.kind,
        raw=meaning.raw,
        reason=meaning.reason,
        message=meaning.message,
        exit_code=code,
        signal=signal,
        started_at=started if meaning.started else None,
        finished_at=ended if meaning.ended else None,
    )


def _exit_pair(text: str) -> tuple[int, int | None] | None:
    stripped = text.strip()
    if stripped in _NO_EXIT:
        return None
    match = _EXIT_PAIR.fullmatch(stripped)
    if match is None or int(match[1]) > 255 or int(match[2]) > 255:
        raise SchedulerOutputError(
            f"expected an exit code like 3:0 (code:signal), got {_shown(stripped)}"
        )
    return int(match[1]), int(match[2]) or None


@functools.lru_cache(maxsize=256)
def _wait_status(text: str) -> tuple[int, int | None] | None:
    # Memoised: an answer holds a handful of exit statuses (0, 256, 15, 9 …).
    stripped = text.strip()
    if stripped in _NO_EXIT:
        return None
    if _NUMBER.fullmatch(stripped) is None:
        raise SchedulerOutputError(f"expected a wait status like 768, got {_shown(stripped)}")
    status = int(stripped)
    if status >= _WAIT_STATUS_LIMIT:
        # Slurm's "no value" markers (0xfffffffe …), not a status a process can have.
        return None
    # As waitpid(2) packs it and scontrol unpacks it: the code in the high byte, a signal
    # in the low seven bits (0x7f there means stopped, not killed).
    signal = status & 0x7F
    return (status >> 8) & 0xFF, signal if signal not in (0, 0x7F) else None


def _job_id(text: str) -> str:
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 10:
        return stripped  # the common case, without the pattern
    if _JOB_ID.fullmatch(stripped) is None:
        raise SchedulerOutputError(f"not a Slurm job id: {_shown(stripped)}")
    return stripped


def _time(text: str | None, tz: tzinfo) -> datetime | None:
    return None if text is None else parse_slurm_time(text, tz=tz)


def _at(error: SchedulerOutputError, number: int, field: str) -> SchedulerOutputError:
    return SchedulerOutputError(error.reason, path=join_path(f"line {number}", field))


def _split(line: str, count: int, number: int) -> list[str]:
    values = line.split("|", count - 1)
    if len(values) < count:
        raise SchedulerOutputError(
            f"expected {count} fields separated by |, got {len(values)}: {_shown(line)}",
            path=f"line {number}",
        )
    return values


def _check_fields(fields: Sequence[str], tool: str, *, states: set[str]) -> None:
    if "job_id" not in fields or not states & set(fields):
        raise ValueError(f"{tool} fields need job_id and a state: {tuple(fields)}")
    if len(set(fields)) != len(fields):
        raise ValueError(f"{tool} fields name a field twice: {tuple(fields)}")


def _lines(text: str) -> Iterable[tuple[int, str]]:
    # Tools end lines with \n; str.splitlines would also split at \x1c, \x85, \u2028 … that a
    # job name may hold.
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
