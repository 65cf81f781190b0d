"""The Slurm backend's decisions, as values: which command each operation runs, and what the
answers mean.

Theory of operation: the backend (``backends/slurm.py``) only runs the argv built here through
a :class:`CommandRunner` and hands the output back; everything else is decided here, so it is
testable without Slurm. The operations, and the round trips each costs:

* **create**, one command: a small ``sh -c`` program (:data:`CREATE_SCRIPT`) that first looks
  for an earlier submission of the pod (the ``JobID.jid`` file of its working directory, then
  ``squeue --name=<pod UID>``, the job name being the UID), and only when there is none makes
  the working directory, keeps the script as ``job.slurm`` and submits it on ``sbatch``'s
  standard input. The first line it prints says which happened (:func:`parse_create`). A
  refused submission removes what it made, so nothing is left behind.
* **status**, one ``squeue`` for every tracked job (by job id, or by name for jobs whose id is
  not known, as after a restart), and beside it one command that prints the ``JobID.jid`` and
  ``.status`` files of every working directory (:data:`FILES_SCRIPT`, the directories on its
  standard input, so the command line stays short however many pods there are). Jobs that
  left the queue are asked of ``sacct`` (one call) where the site keeps accounting. What all
  that means for each pod is :func:`pod_reports`.
* **delete**: ``scancel``, then ``rm -rf`` of the working directory when the site's
  :data:`KeepPolicy` says so (:func:`should_remove`).
* **logs**: one command reads a container's output file with its size and modification time
  (:func:`log_read_argv`); following runs ``tail`` until the container's ``.status`` file
  appears (:func:`log_follow_argv`).
* **ping**, one ``sinfo`` (:func:`sinfo_argv`, :func:`parse_sinfo`).
* **adoption**, one ``squeue`` of the user's jobs (:func:`adopt_argv`, :func:`parse_adopt`):
  every job whose name is a UID and whose output goes to ``<root>/<namespace>-<UID>/job.out``.

Every parser of tool output is total: a value or :class:`SchedulerOutputError`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Final, Literal, get_args

import attrs

from ._errors import InterlinkError, PodError, SchedulerOutputError
from ._quantity import parse_quantity
from ._remote import ContainerResult, RemoteState
from ._shell import quote
from ._site import SiteConfig
from ._slurm_states import SLURM_STATE_TABLE
from ._slurm_status import (
    SLURM_ENV,
    SQUEUE_FORMAT,
    SlurmJob,
    container_results,
    parse_sbatch_parsable,
    sacct_argv,
    squeue_argv,
    squeue_jobs,
)
from ._status import Observation
from ._wire import PingAccelerator, PingResources, PingResponse, PingTaint

__all__ = [
    "CREATE_SCRIPT",
    "FILES_SCRIPT",
    "KEEP_POLICIES",
    "LOG_FOLLOW_SCRIPT",
    "LOG_READ_SCRIPT",
    "LOG_REST_SCRIPT",
    "CreateOutcome",
    "KeepPolicy",
    "LogFile",
    "PodReport",
    "SlurmRefusedError",
    "SlurmUnavailableError",
    "Tracked",
    "WorkdirFiles",
    "accounting_disabled",
    "adopt_argv",
    "cancel_argv",
    "cleanup_argv",
    "create_argv",
    "files_argv",
    "files_stdin",
    "jobs_to_account",
    "log_follow_argv",
    "log_names",
    "log_read_argv",
    "log_rest_argv",
    "parse_adopt",
    "parse_create",
    "parse_files",
    "parse_log_read",
    "parse_sinfo",
    "pick_job",
    "pod_reports",
    "sacct_status_argv",
    "should_remove",
    "sinfo_argv",
    "squeue_missing_all",
    "status_squeue_argv",
    "with_command_prefix",
    "workdir_of",
]

KeepPolicy = Literal["always", "on-failure", "never"]
"""What delete does with the pod's working directory: keep it (``always``), keep it only when
the pod had failed, for debugging (``on-failure``, the default), or remove it (``never``). The
local backend's names."""

KEEP_POLICIES: Final[tuple[KeepPolicy, ...]] = get_args(KeepPolicy)

# The pod's identity, as translation checks it: it becomes a path and a job name.
_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", re.ASCII)
_CONTAINER_FILE = re.compile(r"(?:init|run)-[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.out", re.ASCII)


class SlurmRefusedError(PodError):
    """Slurm refused the pod's job (an unknown partition, an impossible request): retrying
    cannot help. The reason is Slurm's own message."""


class SlurmUnavailableError(InterlinkError):
    """A Slurm command failed for a reason that may pass (the controller unreachable or busy,
    the working directory not writable): worth retrying. The text is the tool's message."""


def workdir_of(site: SiteConfig, namespace: str, uid: str) -> str:
    """The pod's working directory at ``site``: ``<DataRootFolder>/<namespace>-<uid>``, as
    translation names it. Raises ``ValueError`` when the namespace or UID could turn the path
    into something else (translation refuses such pods, so this is a caller's mistake)."""
    if _DNS_LABEL.fullmatch(namespace) is None:
        raise ValueError(f"not a namespace name: {namespace!r}")
    if _UID.fullmatch(uid) is None:
        raise ValueError(f"not a pod UID: {uid!r}")
    return f"{site.data_root_folder.rstrip('/')}/{namespace}-{uid}"


def _check_workdir(workdir: str) -> None:
    # A line of FILES_SCRIPT's input and a shell word: a newline or NUL would split it.
    if not workdir or "\n" in workdir or "\0" in workdir:
        raise ValueError(f"not a usable working directory: {workdir!r}")


def _env_words() -> str:
    # SLURM_ENV as shell assignments, for the commands of a script whose times we read.
    return " ".join(f"{name}={quote(value)}" for name, value in SLURM_ENV.items())


# --- create -----------------------------------------------------------------------------------

CREATE_SCRIPT: Final[str] = f"""\
uid=$1 dir=$2 squeue=$3 sbatch=$4
if [ -s "$dir/JobID.jid" ]; then
    echo recorded
    cat -- "$dir/JobID.jid"
    exit 0
fi
format={quote(SQUEUE_FORMAT)}
if ! found=$({_env_words()} "$squeue" --noheader --states=all --name="$uid" --Format="$format")
then
    echo lookup-failed
    exit 1
fi
if [ -n "$found" ]; then
    echo found
    printf '%s\\n' "$found"
    exit 0
fi
made=
[ -d "$dir" ] || made=1
if ! (umask 077 && mkdir -p -- "$dir" && cat >"$dir/job.slurm"); then
    echo prepare-failed
    exit 1
fi
id=$("$sbatch" --parsable <"$dir/job.slurm")
rc=$?
if [ "$rc" -eq 0 ]; then
    printf '%s\\n' "$id" >"$dir/JobID.jid"
    echo submitted
    printf '%s\\n' "$id"
    exit 0
fi
rm -f -- "$dir/job.slurm"
[ -n "$made" ] && rmdir -- "$dir" 2>/dev/null
echo refused
exit "$rc"
"""
"""The create program (``sh -c CREATE_SCRIPT sh <uid> <workdir> <squeue> <sbatch>``, the
script on standard input). It prints one word on its first line, then what the tool said:
``recorded`` and the id of ``JobID.jid``; ``found`` and squeue's lines (``SQUEUE_FORMAT``);
``submitted`` and sbatch's ``--parsable`` answer; or ``lookup-failed``, ``prepare-failed``,
``refused`` with a non-zero exit status and the tool's message on standard error. squeue
alone runs with :data:`SLURM_ENV`: sbatch passes its environment on to the job."""


def create_argv(site: SiteConfig, uid: str, workdir: str) -> tuple[str, ...]:
    """The create command of :data:`CREATE_SCRIPT` for the pod ``uid``; its standard input is
    the sbatch script (:func:`with_command_prefix` of ``render_slurm``'s ``job.slurm``)."""
    if _UID.fullmatch(uid) is None:
        raise ValueError(f"not a pod UID: {uid!r}")
    _check_workdir(workdir)
    return ("sh", "-c", CREATE_SCRIPT, "sh", uid, workdir, site.squeue_path, site.sbatch_path)


def with_command_prefix(script: str, prefix: str) -> str:
    """``script`` with the site's ``CommandPrefix`` (raw shell by contract, from the site
    administrator) placed after the ``#SBATCH`` block, so that it runs before anything else
    of the job and sbatch still reads every option. An empty prefix changes nothing."""
    if not prefix.strip():
        return script
    lines = script.split("\n")
    end = 1  # after the "#!" line
    while end < len(lines) and lines[end].startswith("#SBATCH"):
        end += 1
    block = "# The site's CommandPrefix.\n" + prefix.rstrip("\n")
    return "\n".join([*lines[:end], "", block, *lines[end:]])


# Words of sbatch's (and the shell's) messages that mean "not now" rather than "never": the
# controller could not be reached or is busy, or a submission limit was hit for the moment.
_TRANSIENT = re.compile(
    r"unable to contact slurm controller|socket timed out|timed out|temporarily|"
    r"zero bytes were transmitted|connection (?:failure|refused|reset)|communication|"
    r"not responding|standby mode|try again|job submit limit|MaxSubmitJob|"
    r"munge|authentication|command not found|no such file",
    re.IGNORECASE,
)


@attrs.frozen(kw_only=True)
class CreateOutcome:
    """What the create program did: ``job_id`` the pod's job, ``submitted`` whether this call
    made it (false: an earlier submission was found). On failure ``job_id`` is ``None``,
    ``message`` says why, and ``permanent`` whether retrying cannot help (Slurm refused)."""

    job_id: str | None = None
    submitted: bool = False
    message: str = ""
    permanent: bool = False


def parse_create(uid: str, returncode: int, stdout: str, stderr: str) -> CreateOutcome:
    """The outcome of the create program (:data:`CREATE_SCRIPT`) for the pod ``uid``.

    An earlier job found by name is chosen with :func:`pick_job`. A refusal is permanent unless
    sbatch's message says the controller was unreachable or busy. Raises
    :class:`SchedulerOutputError` when a tool answered something unreadable.
    """
    word, _, rest = stdout.partition("\n")
    word = word.strip()
    said = stderr.strip()
    if word == "recorded":
        recorded = [line.strip() for line in rest.split("\n") if line.strip()]
        job = parse_sbatch_parsable(recorded[0] if recorded else "")
        return CreateOutcome(job_id=job.id)
    if word == "found":
        chosen = pick_job(squeue_jobs(rest), uid)
        if chosen is None:
            raise SchedulerOutputError(f"squeue listed no job named {uid}")
        return CreateOutcome(job_id=chosen.job_id)
    if word == "submitted" and returncode == 0:
        return CreateOutcome(job_id=parse_sbatch_parsable(rest).id, submitted=True)
    if word == "refused":
        message = said or f"sbatch failed with exit status {returncode}"
        permanent = returncode > 0 and _TRANSIENT.search(said) is None
        return CreateOutcome(message=message, permanent=permanent)
    if word == "lookup-failed":
        return CreateOutcome(message=said or f"squeue failed with exit status {returncode}")
    if word == "prepare-failed":
        # The working directory cannot be made: a full or read-only file system is no fault
        # of the pod, so this is worth retrying.
        return CreateOutcome(message=said or "could not write the job's working directory")
    detail = said or stdout.strip() or f"exit status {returncode}"
    return CreateOutcome(message=f"the create command failed: {detail}")


def pick_job(jobs: Iterable[SlurmJob], uid: str, job_id: str | None = None) -> SlurmJob | None:
    """The job of the pod ``uid`` among ``jobs``: the one with ``job_id`` when given and
    listed (unless it bears another name: an id Slurm gave again after its state was reset),
    else the newest of those named ``uid`` that has not ended, else the newest."""
    named = [job for job in jobs if job.job_id == job_id or job.name == uid]
    if job_id is not None:
        for job in named:
            if job.job_id == job_id and job.name in (None, uid):
                return job
    named = [job for job in named if job.name == uid]
    if not named:
        return None
    live = [job for job in named if not job.state.terminal]
    return max(live or named, key=_id_order)


def _id_order(job: SlurmJob) -> tuple[int, str]:
    head = re.match(r"[0-9]+", job.job_id)
    return (int(head[0]) if head else -1, job.job_id)


# --- status -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Tracked:
    """A pod the status call asks about: its UID, working directory and job id if known."""

    uid: str
    workdir: str
    job_id: str | None = None


def status_squeue_argv(site: SiteConfig, jobs: Sequence[Tracked]) -> tuple[str, ...] | None:
    """The one squeue call for ``jobs`` (run with :data:`SLURM_ENV`), ``None`` for none.

    By job id when every job has one; when some have not (adopted after a restart, or a create
    whose answer was lost), by name (the pod UIDs) for all of them, which finds those with an
    id too: squeue's filters combine with "and", so two kinds of filter would need two calls.
    """
    if not jobs:
        return None
    if all(job.job_id is not None for job in jobs):
        argv = squeue_argv(dict.fromkeys(str(job.job_id) for job in jobs))
    else:
        for job in jobs:
            if _UID.fullmatch(job.uid) is None:
                raise ValueError(f"not a pod UID: {job.uid!r}")
        names = ",".join(dict.fromkeys(job.uid for job in jobs))
        argv = (
            "squeue",
            "--noheader",
            "--states=all",
            f"--name={names}",
            f"--Format={SQUEUE_FORMAT}",
        )
    return (site.squeue_path, *argv[1:])


def squeue_missing_all(returncode: int, stderr: str) -> bool:
    """Whether a failed squeue only says that none of the ids asked for exists any more
    (squeue exits 1 with "Invalid job id specified" when *every* id is unknown)."""
    return returncode == 1 and "invalid job id specified" in stderr.lower()


def accounting_disabled(stderr: str) -> bool:
    """Whether sacct's message says the site keeps no accounting (checked once per backend)."""
    return "accounting storage is disabled" in stderr.lower()


def jobs_to_account(
    jobs: Sequence[Tracked], queue: Iterable[SlurmJob], files: Sequence[WorkdirFiles]
) -> tuple[str, ...]:
    """The ids of the jobs squeue no longer lists (they left the queue), known from the caller
    or from the ``JobID.jid`` files: those to ask sacct about."""
    listed = {job.job_id for job in queue} | {job.name for job in queue}
    ids = (job.job_id or found.job_id for job, found in zip(jobs, files, strict=True))
    return tuple(
        dict.fromkeys(
            job_id
            for job, job_id in zip(jobs, ids, strict=True)
            if job_id is not None and job_id not in listed and job.uid not in listed
        )
    )


def sacct_status_argv(job_ids: Sequence[str]) -> tuple[str, ...]:
    """The sacct call for jobs that left the queue (run with :data:`SLURM_ENV`)."""
    return sacct_argv(job_ids)


FILES_SCRIPT: Final[str] = """\
set -f
IFS='
'
set -- $(cat)
set +f
unset IFS
i=0
for d do
    for f in "$d"/*; do
        case ${f##*/} in
            JobID.jid | init-*.status | run-*.status) ;;
            *) continue ;;
        esac
        c=
        IFS= read -r c <"$f" || :
        printf '%s %s %s\\n' "$i" "${f##*/}" "$c"
    done
    i=$((i + 1))
done
"""
"""Prints, for the N-th directory of its standard input (one per line, from 0), a line
``N <file name> <first line of the file>`` for ``JobID.jid`` and every ``.status`` file it
holds. One process whatever the number of pods, and few system calls: the list is read in
one go (the shell's ``read`` takes a pipe byte by byte), each directory listed once, and
only shell builtins run per file."""


def files_argv() -> tuple[str, ...]:
    """The command of :data:`FILES_SCRIPT`; its standard input is :func:`files_stdin`."""
    return ("sh", "-c", FILES_SCRIPT)


def files_stdin(workdirs: Sequence[str]) -> bytes:
    """The working directories, one per line, for :data:`FILES_SCRIPT`."""
    for workdir in workdirs:
        _check_workdir(workdir)
    return "".join(f"{workdir}\n" for workdir in workdirs).encode()


@attrs.frozen(kw_only=True)
class WorkdirFiles:
    """What one working directory holds: the recorded job id and the containers' results."""

    job_id: str | None = None
    containers: tuple[ContainerResult, ...] = ()


_FILE_LINE = re.compile(r"([0-9]{1,9}) (\S+) (.*)", re.DOTALL)


def parse_files(text: str, count: int) -> tuple[WorkdirFiles, ...]:
    """What :data:`FILES_SCRIPT` printed for ``count`` directories, one value per directory in
    input order. A ``JobID.jid`` or ``.status`` file that does not hold what the pod script
    writes (an id, an exit code 0..255) is left out, as no news: one damaged file must not hide
    the other pods of the call. Raises :class:`SchedulerOutputError` naming the line for output
    that is not the program's."""
    jids: dict[int, str] = {}
    statuses: dict[int, dict[str, str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        match = _FILE_LINE.fullmatch(line)
        if match is None or int(match[1]) >= count:
            raise SchedulerOutputError(
                f"expected '<index> <file> <content>', got {line[:80]!r}", path=f"line {number}"
            )
        index, name, content = int(match[1]), match[2], match[3]
        if name == "JobID.jid":
            jids[index] = content.strip()
        else:
            statuses.setdefault(index, {})[name] = content
    return tuple(
        WorkdirFiles(job_id=_recorded_id(jids.get(index)), containers=_results(statuses.get(index)))
        for index in range(count)
    )


def _recorded_id(text: str | None) -> str | None:
    # A JobID.jid that does not hold a job id (truncated, edited) is no news about the job.
    if not text:
        return None
    try:
        return parse_sbatch_parsable(text).id
    except SchedulerOutputError:
        return None


def _results(files: Mapping[str, str] | None) -> tuple[ContainerResult, ...]:
    # One unreadable status file must not hide the others, nor the other pods of the call:
    # a file that does not hold an exit code is no news about its container.
    if not files:
        return ()
    try:
        return container_results(files)
    except SchedulerOutputError:
        good = {}
        for name, content in files.items():
            try:
                container_results({name: content})
            except SchedulerOutputError:
                continue
            good[name] = content
        return container_results(good)


@attrs.frozen(kw_only=True)
class PodReport:
    """What the backend knows about one tracked pod (the backend's ``StatusAnswer``)."""

    uid: str
    found: bool
    observation: Observation = attrs.field(factory=Observation)
    job_id: str | None = None


def pod_reports(
    jobs: Sequence[Tracked],
    queue: Sequence[SlurmJob],
    files: Sequence[WorkdirFiles],
    *,
    accounted: Mapping[str, RemoteState] | None = None,
) -> tuple[PodReport, ...]:
    """What ``queue`` (squeue's jobs), ``accounted`` (sacct's states, by job id) and ``files``
    (one per job) say about each of ``jobs``, in order.

    The job's state is squeue's, else sacct's. A job neither lists, though it was submitted
    (an id is known, or its working directory has status files), has left the queue, so it has
    ended; with no accounting, its outcome is read from the status files: failed with the
    highest exit code if any container failed or did not record its code, else succeeded. The
    container results are the status files', for running jobs too (a finished init container
    shows as ended). A pod with no job anywhere and no status file is not found.
    """
    if len(files) != len(jobs):
        raise ValueError(f"{len(files)} file listings for {len(jobs)} jobs")
    accounted = accounted or {}
    # Each pod looks at the few jobs under its id or name, not at the whole queue.
    candidates: dict[str, list[SlurmJob]] = {}
    for listed_job in queue:
        candidates.setdefault(listed_job.job_id, []).append(listed_job)
        if listed_job.name is not None and listed_job.name != listed_job.job_id:
            candidates.setdefault(listed_job.name, []).append(listed_job)
    reports = []
    for job, found_files in zip(jobs, files, strict=True):
        job_id = job.job_id or found_files.job_id
        mine = candidates.get(job.uid, [])
        if job_id is not None and job_id != job.uid:
            mine = mine + candidates.get(job_id, [])
        listed = pick_job(mine, job.uid, job_id)
        containers = found_files.containers
        state: RemoteState | None
        if listed is not None:
            state, job_id = listed.state, listed.job_id
        elif job_id is not None and job_id in accounted:
            state = accounted[job_id]
        else:
            state = _ended_from_files(containers)
        if state is None and not containers:
            reports.append(PodReport(uid=job.uid, found=False, job_id=job_id))
            continue
        observation = Observation(job=state, containers=containers)
        reports.append(PodReport(uid=job.uid, found=True, observation=observation, job_id=job_id))
    return tuple(reports)


def _ended_from_files(containers: Sequence[ContainerResult]) -> RemoteState | None:
    if not containers:
        return None
    codes = [result.exit_code for result in containers]
    message = "Slurm no longer lists the job; its outcome is read from its status files"
    if any(code is None for code in codes):
        return RemoteState(
            kind="failed",
            message=message + " (a container ended without recording its exit code)",
        )
    highest = max(code for code in codes if code is not None)
    if highest == 0:
        return RemoteState(kind="succeeded", exit_code=0, message=message)
    return RemoteState(kind="failed", exit_code=highest, message=message)


# --- delete -----------------------------------------------------------------------------------


def cancel_argv(site: SiteConfig, uid: str, job_id: str | None) -> tuple[str, ...]:
    """``scancel <job id>``, or ``scancel --name=<pod UID>`` when the id is not known. scancel
    answers an id that no longer exists, or a job that already ended, with success."""
    if job_id is not None:
        if re.fullmatch(r"[0-9]{1,10}(?:_[0-9]{1,10})?", job_id) is None:
            raise ValueError(f"not a Slurm job id: {job_id!r}")
        return (site.scancel_path, job_id)
    if _UID.fullmatch(uid) is None:
        raise ValueError(f"not a pod UID: {uid!r}")
    return (site.scancel_path, f"--name={uid}")


def should_remove(keep: KeepPolicy, observation: Observation | None) -> bool:
    """Whether delete removes the working directory, given what was seen just before the
    cancellation (``None``: nothing, the job is unknown). ``on-failure`` keeps it when the job
    had failed by itself (a container's non-zero exit code, or a failed job) for debugging; a
    job cancelled by this very delete has not failed."""
    if keep == "always":
        return False
    if keep == "never" or observation is None:
        return True
    if any(result.exit_code not in (None, 0) for result in observation.containers):
        return False
    return observation.job is None or observation.job.kind != "failed"


def cleanup_argv(workdir: str) -> tuple[str, ...]:
    """``rm -rf`` of the pod's working directory (a path from :func:`workdir_of`)."""
    _check_workdir(workdir)
    name = posixpath.basename(workdir)
    if name in ("", ".", "..") or "-" not in name:
        raise ValueError(f"not a pod working directory: {workdir!r}")
    return ("rm", "-rf", "--", workdir)


# --- logs -------------------------------------------------------------------------------------

LOG_READ_SCRIPT: Final[str] = """\
cd -- "$1" 2>/dev/null || { echo none; exit 0; }
shift
for f in "$@"; do
    if [ -f "$f" ]; then
        s=$(stat -c '%s %.9Y' -- "$f" 2>/dev/null || stat -c '%s %Y' -- "$f") || exit 1
        e=; [ -e "${f%.out}.status" ] && e=ended
        printf '%s %s %s\\n' "$f" "$s" "$e"
        exec head -c "${s%% *}" -- "$f"
    fi
done
echo none
"""
"""Prints the first of the given files (relative to the directory ``$1``) that exists:
``<name> <size> <mtime> [ended]`` on one line, then the file's first ``size`` bytes (so the
bytes are no newer than ``mtime``); ``ended`` when the container's ``.status`` file exists.
Prints ``none`` when no file (or not the directory) exists."""


@attrs.frozen(kw_only=True)
class LogFile:
    """One read of an output file: its name, bytes, modification time and whether the
    container it belongs to had ended (its ``.status`` existed) when it was read."""

    name: str
    data: bytes
    mtime: datetime | None
    ended: bool


def _log_names(container: str, init: bool | None) -> tuple[str, ...]:
    if _DNS_LABEL.fullmatch(container) is None:
        raise ValueError(f"not a container name: {container!r}")
    if init is None:
        return (f"run-{container}.out", f"init-{container}.out")
    return (f"{'init' if init else 'run'}-{container}.out",)


def log_read_argv(
    workdir: str, container: str, init: bool | None, *, batch_output: bool = True
) -> tuple[str, ...]:
    """The command of :data:`LOG_READ_SCRIPT` for a container's output: ``run-<name>.out`` or
    ``init-<name>.out`` (both, in that order, when ``init`` is ``None``), and with
    ``batch_output`` then ``job.out``, the batch output where Slurm and the pod script say why a
    container did not run, for a container that has no output file."""
    _check_workdir(workdir)
    names = _log_names(container, init)
    if batch_output:
        names += ("job.out",)
    return ("sh", "-c", LOG_READ_SCRIPT, "sh", workdir, *names)


def parse_log_read(output: bytes) -> LogFile | None:
    """What :data:`LOG_READ_SCRIPT` printed: the file read, or ``None`` when there was none.
    Raises :class:`SchedulerOutputError` for a header it cannot read."""
    header, newline, data = output.partition(b"\n")
    text = header.decode("utf-8", errors="replace")
    if text == "none" and not data:
        return None
    parts = text.split(" ")
    if not newline or len(parts) not in (3, 4) or _log_file_name(parts[0]) is None:
        raise SchedulerOutputError(f"expected '<file> <size> <mtime>', got {text[:80]!r}")
    name, size, mtime = parts[0], parts[1], parts[2]
    ended = len(parts) == 4 and parts[3] == "ended"
    if not size.isdigit() or len(data) > int(size):
        raise SchedulerOutputError(f"{name}: expected at most {size} bytes, got {len(data)}")
    return LogFile(name=name, data=data, mtime=_epoch(mtime), ended=ended)


def _log_file_name(name: str) -> str | None:
    if name == "job.out" or _CONTAINER_FILE.fullmatch(name):
        return name
    return None


def _epoch(text: str) -> datetime:
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        raise SchedulerOutputError(f"not a modification time: {text[:40]!r}") from None
    if not seconds.is_finite() or seconds < 0 or seconds > 1 << 40:
        raise SchedulerOutputError(f"not a modification time: {text[:40]!r}")
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000)
    return datetime.fromtimestamp(whole, UTC).replace(microsecond=micros)


# The states in which a job may still write output (queued, starting, running), from the state
# table, so that a followed log also ends when the job ended without the container's status file.
_LIVE_STATES: Final = "|".join(
    row.state for row in SLURM_STATE_TABLE if row.kind in ("queued", "starting", "running")
)

LOG_FOLLOW_SCRIPT: Final[str] = f"""\
cd -- "$1" || exit 1
me=$$ squeue=$2 job=$3 from=$4
shift 4
(
    n=0
    while :; do
        for f do
            [ -e "${{f%.out}}.status" ] && break 2
        done
        kill -0 "$me" || exit 0
        sleep 0.5
        n=$((n + 1))
        [ -n "$job" ] && [ $((n % 4)) -eq 0 ] || continue
        if s=$("$squeue" --noheader --states=all --jobs="$job" --format=%T 2>&1); then
            case "$s" in {_LIVE_STATES}) ;; *) break ;; esac
        else
            case "$s" in *"Invalid job id"*) break ;; esac
        fi
    done
    kill "$me"
) </dev/null >/dev/null 2>&1 &
while :; do
    for f do
        [ -e "$f" ] && exec tail --sleep-interval=0.5 --follow=name -c "+$from" -- "$f"
    done
    sleep 0.5
done
"""
"""Follows, in the directory ``$1``, the first of the files ``$5 ...`` that exists (waiting
for one to appear: a container's ``run-`` or ``init-<name>.out``, only one of which can exist)
from byte ``$4`` (1-based), until the matching ``.status`` file exists, or, every two seconds,
until squeue (``$2``) says the job ``$3`` (when given) is in no state where it runs any more.
Then a watcher ends tail (or the wait): the caller reads what tail may not have sent yet with
:func:`log_rest_argv`. The watcher ends with tail, too."""


def _output_names(names: Sequence[str]) -> tuple[str, ...]:
    if not names:
        raise ValueError("no output file to follow")
    for name in names:
        if _CONTAINER_FILE.fullmatch(name) is None:
            raise ValueError(f"not a container output file: {name!r}")
    return tuple(names)


def log_follow_argv(
    site: SiteConfig, workdir: str, names: Sequence[str], offset: int, job_id: str | None
) -> tuple[str, ...]:
    """The command of :data:`LOG_FOLLOW_SCRIPT` for the first of the output files ``names``
    (``run-x.out``, ``init-x.out``) that exists, from ``offset`` bytes in; it ends once that
    container's ``.status`` file exists or the job ``job_id`` has ended."""
    _check_workdir(workdir)
    if offset < 0:
        raise ValueError(f"negative offset: {offset}")
    if job_id is not None and not job_id.isdigit():
        raise ValueError(f"not a Slurm job id: {job_id!r}")
    return (
        "sh",
        "-c",
        LOG_FOLLOW_SCRIPT,
        "sh",
        workdir,
        site.squeue_path,
        job_id or "",
        str(offset + 1),
        *_output_names(names),
    )


LOG_REST_SCRIPT: Final[str] = """\
cd -- "$1" || exit 1
from=$2
shift 2
for f do
    [ -f "$f" ] && exec tail -c "+$from" -- "$f"
done
"""
"""Prints what the first existing file of ``$3 ...`` in the directory ``$1`` holds from byte
``$2`` (1-based) on; nothing when none exists."""


def log_rest_argv(workdir: str, names: Sequence[str], offset: int) -> tuple[str, ...]:
    """The command of :data:`LOG_REST_SCRIPT`: what the output file holds past ``offset``
    bytes, read once a follow has ended."""
    _check_workdir(workdir)
    if offset < 0:
        raise ValueError(f"negative offset: {offset}")
    return ("sh", "-c", LOG_REST_SCRIPT, "sh", workdir, str(offset + 1), *_output_names(names))


def log_names(container: str, init: bool | None) -> tuple[str, ...]:
    """The output files a container's log may be in: ``run-<name>.out`` and
    ``init-<name>.out`` when ``init`` is unknown (``None``), else the one it says."""
    return _log_names(container, init)


# --- ping -------------------------------------------------------------------------------------

_SINFO_FORMAT: Final = "NodeList:|,StateLong:|,CPUsState:|,Memory:|,AllocMem:|,Gres:|,GresUsed:"
# Node states (sinfo's long form, flags such as "*" for not responding stripped) where a node
# takes new jobs.
_USABLE: Final = frozenset({"idle", "mixed", "allocated", "completing", "planned"})
_GRES = re.compile(r"([A-Za-z0-9_.-]+)(?::([A-Za-z0-9_.-]+))?:([0-9]+)(?:\(.*\))?", re.ASCII)


def sinfo_argv(site: SiteConfig) -> tuple[str, ...]:
    """One ``sinfo`` line per node (of the site's partition, if it names one): its state, CPUs
    (allocated/idle/other/total), memory and allocated memory in MB, GRES and GRES in use."""
    argv = [site.sinfo_path, "--noheader", "--Node", f"--Format={_SINFO_FORMAT}"]
    if site.partition is not None:
        argv.append(f"--partition={site.partition}")
    return tuple(argv)


def parse_sinfo(text: str, site: SiteConfig) -> PingResponse:
    """The site's free resources from :func:`sinfo_argv`'s output: idle CPUs, unallocated
    memory and unused GRES of the nodes that take jobs (each node once, though sinfo lists it
    per partition). A GRES counts as the first extended resource of the site's resource table
    that asks for it (``gpu`` is ``nvidia.com/gpu`` with the built-in table); others are left
    out. Taints are the site's. Raises :class:`SchedulerOutputError` naming the line."""
    seen: set[str] = set()
    cpus = 0
    memory_mb = 0
    free: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 7:
            raise SchedulerOutputError(
                f"expected 7 fields separated by |, got {len(fields)}", path=f"line {number}"
            )
        node, state, cpu_state, memory, allocated, gres, used = (f.strip() for f in fields)
        if node in seen:
            continue
        seen.add(node)
        if state.rstrip("*~#!%$@^-+") not in _USABLE or state.endswith("*"):
            continue
        try:
            counts = [int(part) for part in cpu_state.split("/")]
            if len(counts) != 4:
                raise ValueError(cpu_state)
            node_memory = int(memory) - int(allocated or 0)
            total = _gres_counts(gres)
            in_use = _gres_counts(used)
        except ValueError:
            raise SchedulerOutputError(
                f"unreadable node line {line[:80]!r}", path=f"line {number}"
            ) from None
        cpus += counts[1]
        memory_mb += max(node_memory, 0)
        for name, count in total.items():
            free[name] = free.get(name, 0) + max(count - in_use.get(name, 0), 0)
    accelerators = []
    named: set[str] = set()
    for gres_name, count in free.items():
        resource = _resource_for(site, gres_name)
        if resource is None or resource in named:
            continue
        named.add(resource)
        accelerators.append(PingAccelerator(resource_type=resource, available=count))
    return PingResponse(
        status="ok",
        resources=PingResources(
            cpu=parse_quantity(str(cpus)),
            memory=parse_quantity(f"{memory_mb}Mi"),
            accelerators=tuple(accelerators),
        ),
        taints=tuple(
            PingTaint(key=taint.key, value=taint.value, effect=taint.effect)
            for taint in site.taints
        ),
    )


def _gres_counts(text: str) -> dict[str, int]:
    # "gpu:2", "gpu:a100:2(S:0-1),fpga:1", "gpu:1(IDX:0)", "(null)": counts by GRES name.
    counts: dict[str, int] = {}
    if text in ("", "(null)", "N/A"):
        return counts
    for item in re.split(r",(?![^(]*\))", text):
        match = _GRES.fullmatch(item.strip())
        if match is None:
            raise ValueError(item)
        counts[match[1]] = counts.get(match[1], 0) + int(match[3])
    return counts


def _resource_for(site: SiteConfig, gres: str) -> str | None:
    pattern = re.compile(rf"--gres={re.escape(gres)}(?::[A-Za-z0-9_.-]+)?:\{{n\}}")
    for resource, mapping in site.resource_table.items():
        if any(pattern.fullmatch(option) for option in mapping.slurm):
            return resource
    return None


# --- adoption ---------------------------------------------------------------------------------

_ADOPT_FORMAT: Final = "JobID:|,STDOUT:|,Name:"


def adopt_argv(site: SiteConfig) -> tuple[str, ...]:
    """One squeue call listing every job of the calling user, with its output file and name."""
    return (
        site.squeue_path,
        "--noheader",
        "--states=all",
        "--me",
        f"--Format={_ADOPT_FORMAT}",
    )


def parse_adopt(text: str, site: SiteConfig) -> tuple[tuple[str, str, str], ...]:
    """``(pod UID, namespace, job id)`` of every job in :func:`adopt_argv`'s output that this
    site submitted: named after a UID, writing to ``<DataRootFolder>/<namespace>-<UID>/job.out``
    (squeue prints the path absolute; a relative root matches its end). Other jobs of the user
    are left out whatever their lines hold; for a pod with several jobs, the one
    :func:`pick_job` would choose (the newest) is kept, and squeue lists states alongside."""
    root = site.data_root_folder.rstrip("/")
    root = posixpath.normpath(root) if root else ""
    found: dict[str, tuple[str, str, str]] = {}
    for line in text.split("\n"):
        parts = line.strip().split("|", 2)
        if len(parts) != 3:
            continue
        job_id, output, uid = (part.strip() for part in parts)
        if not job_id.isdigit() or _UID.fullmatch(uid) is None:
            continue
        directory, leaf = posixpath.split(posixpath.normpath(output)) if output else ("", "")
        parent, name = posixpath.split(directory)
        if leaf != "job.out" or not name.endswith(f"-{uid}"):
            continue
        namespace = name[: -len(uid) - 1]
        if _DNS_LABEL.fullmatch(namespace) is None:
            continue
        if root.startswith("/"):
            if parent != root:
                continue
        elif root not in ("", ".") and not (parent == root or parent.endswith("/" + root)):
            continue
        previous = found.get(uid)
        if previous is None or int(job_id) > int(previous[2]):
            found[uid] = (uid, namespace, job_id)
    return tuple(found.values())
