"""Slurm status: the state table, and the parsers of sbatch, squeue, scontrol and sacct output
and of the job's ``.status`` files.

Real output captured from the local Slurm (``tests/slurm_output/``, see its README) must parse
to what each scenario did; every state the table can produce survives a round trip through
small renderers that print it the way each tool does; state words match only whole; and every
parser is total (a value or :class:`SchedulerOutputError`, never another exception).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import attrs
import pyinterlink.core._slurm_status as slurm_status
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pyinterlink.core._errors import InputError, SchedulerOutputError
from pyinterlink.core._remote import TERMINAL_KINDS, ContainerResult, RemoteState
from pyinterlink.core._slurm_states import (
    SLURM_STATE_TABLE,
    SLURM_STATES,
    SlurmStateRow,
    slurm_state,
)
from pyinterlink.core._slurm_status import (
    SACCT_FORMAT,
    SLURM_ENV,
    SQUEUE_FIELDS,
    SQUEUE_FORMAT,
    JobId,
    SqueueField,
    container_results,
    parse_container_status,
    parse_sacct,
    parse_sbatch_parsable,
    parse_scontrol_jobs,
    parse_slurm_time,
    parse_squeue,
    sacct_argv,
    sacct_jobs,
    scontrol_argv,
    scontrol_jobs,
    squeue_argv,
    squeue_format,
    squeue_jobs,
)

OUTPUT = Path(__file__).resolve().parent.parent / "slurm_output"
# SLURM.md's `squeue -o '%i|%t|%T|%r|%S|%e'`.
SQUEUE_O: tuple[SqueueField, ...] = (
    "job_id",
    "state_code",
    "state",
    "reason",
    "start_time",
    "end_time",
)

# The states of SLURM.md (squeue(1), JOB STATE CODES), as written there.
DOCUMENTED_STATES = """
BOOT_FAIL BF, CANCELLED CA, COMPLETED CD, CONFIGURING CF, COMPLETING CG, DEADLINE DL, FAILED F,
NODE_FAIL NF, OUT_OF_MEMORY OOM, PENDING PD, PREEMPTED PR, RUNNING R, RESV_DEL_HOLD RD,
REQUEUE_FED RF, REQUEUE_HOLD RH, REQUEUED RQ, RESIZING RS, REVOKED RV, SIGNALING SI,
SPECIAL_EXIT SE, STAGE_OUT SO, STOPPED ST, SUSPENDED S, TIMEOUT TO
"""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the table --------------------------------------------------------------------------------


def test_the_table_has_every_documented_state_once() -> None:
    documented = {tuple(pair.split()) for pair in DOCUMENTED_STATES.replace("\n", " ").split(",")}
    assert len(documented) == 24
    assert {(row.state, row.code) for row in SLURM_STATE_TABLE} == documented
    assert len(SLURM_STATE_TABLE) == 24
    # Long names and codes never collide, so one lookup serves both.
    assert len(SLURM_STATES) == 48


@pytest.mark.parametrize(
    ("state", "kind", "reason"),
    [
        ("OUT_OF_MEMORY", "failed", "OOMKilled"),
        ("TIMEOUT", "failed", "DeadlineExceeded"),
        ("DEADLINE", "failed", "DeadlineExceeded"),
        ("PREEMPTED", "failed", "Preempted"),
        ("NODE_FAIL", "failed", "NodeFail"),
        ("BOOT_FAIL", "failed", "NodeFail"),
        ("CANCELLED", "cancelled", None),
        ("COMPLETED", "succeeded", None),
        ("FAILED", "failed", None),
        ("REQUEUED", "queued", "Requeued"),
        ("REQUEUE_FED", "queued", "Requeued"),
        ("REQUEUE_HOLD", "queued", "RequeueHold"),
        ("RESV_DEL_HOLD", "queued", "ReservationDeleted"),
        ("SPECIAL_EXIT", "queued", "SpecialExit"),
        ("CONFIGURING", "starting", "Configuring"),
        ("COMPLETING", "running", "Completing"),
        ("SUSPENDED", "running", "Suspended"),
        ("STOPPED", "running", "Stopped"),
        ("RUNNING", "running", None),
        ("REVOKED", "unknown", "Revoked"),
    ],
)
def test_the_table_decides(state: str, kind: str, reason: str | None) -> None:
    row = slurm_state(state)
    assert row is not None
    assert (row.kind, row.reason, row.pending_reason) == (kind, reason, False)
    assert slurm_state(row.code) is row


def test_only_pending_takes_the_schedulers_reason() -> None:
    assert [row.state for row in SLURM_STATE_TABLE if row.pending_reason] == ["PENDING"]


def test_every_row_cites_the_documentation() -> None:
    for row in SLURM_STATE_TABLE:
        assert "squeue(1)" in row.source or "sacct(1)" in row.source, row.state
        assert "https://slurm.schedmd.com/" in row.source


# --- renderers: how each tool prints a state --------------------------------------------------


@attrs.frozen(kw_only=True)
class Printed:
    """The fields a tool prints for one job, worked out from the state it should parse to."""

    word: str
    code: str
    said: str | None
    start: datetime | None
    end: datetime | None
    exit_code: int
    signal: int | None


@attrs.frozen(kw_only=True)
class Noise:
    """What a tool prints that the parser must ignore: a queued job's estimated start, a
    running job's end (its time limit), a live job's exit status."""

    start: datetime | None
    end: datetime | None
    exit_code: int
    signal: int | None


def _printed(state: RemoteState, noise: Noise) -> Printed:
    row = slurm_state(state.raw)
    assert row is not None
    ended = state.kind in TERMINAL_KINDS
    started = state.kind not in ("queued", "unknown")
    return Printed(
        word=row.state,
        code=row.code,
        said=state.reason if row.pending_reason else state.message,
        start=state.started_at if started else noise.start,
        end=state.finished_at if ended else noise.end,
        exit_code=state.exit_code if ended and state.exit_code is not None else noise.exit_code,
        signal=state.signal if ended else noise.signal,
    )


def _time(moment: datetime | None, tz: tzinfo, none: str) -> str:
    return none if moment is None else moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def render_squeue(job_id: str, name: str, p: Printed, tz: tzinfo) -> str:
    """A line of ``squeue -O`` with :data:`SQUEUE_FORMAT`."""
    wait_status = (p.exit_code << 8) | (p.signal or 0)
    fields = [
        job_id,
        p.word,
        p.said or "None",
        _time(p.start, tz, "N/A"),
        _time(p.end, tz, "NONE"),
        str(wait_status),
        name,
    ]
    return "|".join(fields)


def render_squeue_o(job_id: str, p: Printed, tz: tzinfo) -> str:
    """A line of ``squeue -o '%i|%t|%T|%r|%S|%e'``."""
    start, end = _time(p.start, tz, "N/A"), _time(p.end, tz, "NONE")
    return "|".join([job_id, p.code, p.word, p.said or "None", start, end])


def render_scontrol(job_id: str, name: str, p: Printed, tz: tzinfo, *, oneliner: bool) -> str:
    """A record of ``scontrol show job`` (an abridged one: the fields around those read)."""
    lines = [
        f"JobId={job_id} JobName={name}",
        "UserId=root(0) GroupId=root(0) MCS_label=N/A",
        f"JobState={p.word} Reason={(p.said or 'None').replace(' ', '_')} Dependency=(null)",
        f"Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode={p.exit_code}:{p.signal or 0}",
        f"StartTime={_time(p.start, tz, 'Unknown')} EndTime={_time(p.end, tz, 'Unknown')} "
        "Deadline=N/A",
        "AllocNode:Sid=localhost:9913 CPUs/Task=1 ReqB:S:C:T=0:0:*:*",
        "TRES=cpu=1,mem=256M,node=1,billing=1",
        "Power=",
    ]
    if oneliner:
        return " ".join(lines) + " \n"
    return "\n   ".join(lines) + "\n   \n\n"


def render_sacct(job_id: str, name: str, p: Printed, tz: tzinfo) -> str:
    """A job line of ``sacct --parsable2`` with :data:`SACCT_FORMAT`, and its batch step."""
    exit_pair = f"{p.exit_code}:{p.signal or 0}"
    start, end = _time(p.start, tz, "Unknown"), _time(p.end, tz, "Unknown")
    job = [job_id, p.word, exit_pair, start, end, p.said or "None", name]
    step = [f"{job_id}.batch", p.word, exit_pair, start, end, "", "batch"]
    return "|".join(job) + "\n" + "|".join(step) + "\n"


# --- strategies -------------------------------------------------------------------------------

times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=1)),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=30)),
    ]
)
# Reasons as Slurm prints them: the documented pending reasons and words of the same shape
# (no spaces: scontrol prints them with underscores).
reasons = st.sampled_from(
    [
        "Priority",
        "Resources",
        "BeginTime",
        "Dependency",
        "JobHeldUser",
        "ReqNodeNotAvail",
        "QOSMaxJobsPerUserLimit",
        "NonZeroExitCode",
        "TimeLimit",
        "RaisedSignal:9(Killed)",
    ]
) | st.from_regex(r"[A-Za-z][A-Za-z0-9_:(),]{0,30}", fullmatch=True).filter(
    lambda reason: reason != "None"
)
job_ids = st.from_regex(r"[1-9][0-9]{0,9}(_[0-9]{1,4})?", fullmatch=True)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)
exits = st.tuples(st.integers(0, 255), st.none() | st.integers(1, 126))


@st.composite
def states(draw: st.DrawFn) -> tuple[RemoteState, Noise]:
    """A state the table can produce, with what a tool prints besides it."""
    row: SlurmStateRow = draw(st.sampled_from(SLURM_STATE_TABLE))
    said = draw(st.none() | reasons)
    ended = row.kind in TERMINAL_KINDS
    started = row.kind not in ("queued", "unknown")
    code, signal = draw(exits) if ended else (None, None)
    state = RemoteState(
        kind=row.kind,
        raw=row.state,
        reason=said if row.pending_reason else row.reason,
        message=None if row.pending_reason else said,
        exit_code=code,
        signal=signal,
        started_at=draw(st.none() | times) if started else None,
        finished_at=draw(st.none() | times) if ended else None,
    )
    noise_exit = draw(exits)
    noise = Noise(
        start=draw(st.none() | times),
        end=draw(st.none() | times),
        exit_code=noise_exit[0],
        signal=noise_exit[1],
    )
    return state, noise


# --- round trips ------------------------------------------------------------------------------


@given(states(), job_ids, names, zones)
def test_squeue_round_trip(
    drawn: tuple[RemoteState, Noise], job_id: str, name: str, tz: tzinfo
) -> None:
    state, noise = drawn
    line = render_squeue(job_id, name, _printed(state, noise), tz)
    (job,) = squeue_jobs(line + "\n", tz=tz)
    assert (job.job_id, job.name, job.state) == (job_id, name, state)


@given(states(), job_ids, zones)
def test_squeue_o_round_trip(drawn: tuple[RemoteState, Noise], job_id: str, tz: tzinfo) -> None:
    state, noise = drawn
    line = render_squeue_o(job_id, _printed(state, noise), tz)
    # This form prints no exit status.
    assert parse_squeue(line, fields=SQUEUE_O, tz=tz) == {
        job_id: attrs.evolve(state, exit_code=None, signal=None)
    }


@given(states(), job_ids, names, zones, st.booleans())
def test_scontrol_round_trip(
    drawn: tuple[RemoteState, Noise], job_id: str, name: str, tz: tzinfo, oneliner: bool
) -> None:
    state, noise = drawn
    record = render_scontrol(job_id, name, _printed(state, noise), tz, oneliner=oneliner)
    (job,) = scontrol_jobs(record, tz=tz)
    assert (job.job_id, job.name, job.state) == (job_id, name, state)


@given(states(), job_ids, names, zones)
def test_sacct_round_trip(
    drawn: tuple[RemoteState, Noise], job_id: str, name: str, tz: tzinfo
) -> None:
    state, noise = drawn
    lines = render_sacct(job_id, name, _printed(state, noise), tz)
    (job,) = sacct_jobs(lines, tz=tz)
    assert (job.job_id, job.name, job.state) == (job_id, name, state)


@given(
    st.lists(st.tuples(states(), names), min_size=1, max_size=8, unique_by=lambda x: x[1]), zones
)
def test_many_jobs_in_one_answer(
    drawn: list[tuple[tuple[RemoteState, Noise], str]], tz: tzinfo
) -> None:
    # One squeue call answers for every job; each keeps its own line.
    lines = [
        render_squeue(str(number), name, _printed(state, noise), tz)
        for number, ((state, noise), name) in enumerate(drawn, start=1)
    ]
    parsed = parse_squeue("\n".join(lines) + "\n", tz=tz)
    assert parsed == {str(number): state for number, ((state, _), _) in enumerate(drawn, start=1)}


# --- memos: a line read again is what reading it gives -----------------------------------------

# UTC; a zone equal to UTC that prints differently; another offset.
MEMO_ZONES = (UTC, timezone(timedelta(0), "Z"), timezone(timedelta(hours=1)))


def _read_afresh(text: str, tz: tzinfo) -> dict[str, RemoteState]:
    """parse_squeue with every memo emptied first: what reading the text gives."""
    for memo in (
        slurm_status._memo_squeue_state,
        slurm_status._memo_clock,
        slurm_status._state_text,
        slurm_status._meaning,
        slurm_status._wait_status,
    ):
        memo.cache_clear()
    return parse_squeue(text, tz=tz)


@given(
    st.lists(st.tuples(states(), names), min_size=1, max_size=8),
    st.sampled_from(MEMO_ZONES),
    st.sampled_from(MEMO_ZONES),
)
def test_memoised_lines_are_what_reading_them_gives(
    drawn: list[tuple[tuple[RemoteState, Noise], str]], twin_tz: tzinfo, tz: tzinfo
) -> None:
    # Each state twice in the answer (two jobs in the same state), and first in another
    # answer (other job ids and names, times read in an equal or another zone), so that
    # every line of the answer can come from a memo.
    printed = [_printed(state, noise) for (state, noise), _ in drawn]
    twin = [render_squeue(f"9{n}", f"twin-{n}", p, tz) for n, p in enumerate(printed)]
    parse_squeue("\n".join(twin), tz=twin_tz)
    lines = [
        render_squeue(f"{copy}{n}", f"{name}-{copy}", p, tz)
        for copy in (1, 2)
        for n, (p, (_, name)) in enumerate(zip(printed, drawn, strict=True))
    ]
    text = "\n".join(lines) + "\n"
    parsed = parse_squeue(text, tz=tz)
    assert repr(parsed) == repr(_read_afresh(text, tz))
    assert parsed == {
        f"{copy}{n}": state for copy in (1, 2) for n, ((state, _), _) in enumerate(drawn)
    }


def test_a_bad_line_fails_every_time() -> None:
    # Errors are not memoised: the same bad line fails again, at its own line.
    good = "1|RUNNING|None|2026-11-23T16:04:16|NONE|0|a\n"
    bad = "2|RUNNING|None|2026-11-23T16:04:16|tomorrow|0|b\n"
    for text, path in ((bad, "line 1.EndTime"), (good + bad, "line 2.EndTime")):
        for _ in range(2):
            with pytest.raises(SchedulerOutputError) as caught:
                parse_squeue(text)
            assert caught.value.path == path


@given(st.integers(0, 255))
def test_status_file_round_trip(code: int) -> None:
    # What the pod script writes: printf '%s\n' "$rc".
    assert parse_container_status(f"{code}\n") == code


# --- whole tokens -----------------------------------------------------------------------------

state_words = st.sampled_from(sorted(SLURM_STATES))


@given(
    state_words,
    st.from_regex(r"[A-Z_]{0,3}", fullmatch=True),
    st.from_regex(r"[A-Z_]{0,3}", fullmatch=True),
)
def test_a_state_inside_another_word_is_not_that_state(word: str, prefix: str, suffix: str) -> None:
    composite = prefix + word + suffix
    assume(composite not in SLURM_STATES)
    assert slurm_state(composite) is None
    line = f"7|{composite}|None|2026-11-23T16:04:16|NONE|0|name"
    if composite[0] == "_":
        with pytest.raises(SchedulerOutputError):
            parse_squeue(line)
        return
    assert parse_squeue(line)["7"] == RemoteState(kind="unknown", raw=composite)


@pytest.mark.parametrize(
    ("code", "kind", "raw"),
    [
        # Upstream's substring match: CF holds F (FAILED), RQ holds R (RUNNING).
        ("CF", "starting", "CONFIGURING"),
        ("RQ", "queued", "REQUEUED"),
        ("F", "failed", "FAILED"),
        ("R", "running", "RUNNING"),
        ("OOM", "failed", "OUT_OF_MEMORY"),
        ("S", "running", "SUSPENDED"),
    ],
)
def test_short_codes_match_whole(code: str, kind: str, raw: str) -> None:
    line = f"5|{code}|{raw}|None|N/A|NONE"
    state = parse_squeue(line, fields=SQUEUE_O)["5"]
    assert (state.kind, state.raw) == (kind, raw)
    alone = parse_squeue(f"5|{code}", fields=("job_id", "state_code"))["5"]
    assert (alone.kind, alone.raw) == (kind, raw)


@pytest.mark.parametrize(
    "word", ["pending", "Pending", "PENDING-X", "1", "PENDING!", "_PENDING", "ÄRGER"]
)
def test_what_is_not_a_state_word_is_an_error(word: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_squeue(f"5|{word}", fields=("job_id", "state"))
    assert caught.value.path == "line 1.State"


def test_sacct_words_after_the_state_and_plus_marks() -> None:
    text = (
        "1|CANCELLED by 1000|0:0|2026-11-23T16:07:00|2026-11-23T16:07:30|None|a\n"
        "2|CANCELLED+|0:15|2026-11-23T16:07:00|2026-11-23T16:07:30|None|b\n"
        "3|CANCELLEDX|0:0|N/A|N/A|None|c\n"
    )
    parsed = parse_sacct(text)
    assert parsed["1"].kind == "cancelled"
    assert parsed["1"].message == "CANCELLED by 1000"
    assert (parsed["2"].kind, parsed["2"].raw, parsed["2"].signal) == ("cancelled", "CANCELLED", 15)
    assert (parsed["3"].kind, parsed["3"].raw) == ("unknown", "CANCELLEDX")
    record = "JobId=4 JobName=x JobState=CANCELLED by 1000 Reason=None ExitCode=0:15\n"
    state = parse_scontrol_jobs(record)["4"]
    assert (state.kind, state.message, state.signal) == ("cancelled", "CANCELLED by 1000", 15)


def test_state_and_code_must_agree() -> None:
    with pytest.raises(SchedulerOutputError, match="disagree") as caught:
        parse_squeue("5|R|PENDING|None|N/A|NONE", fields=SQUEUE_O)
    assert caught.value.path == "line 1.State"


# --- the real captures ------------------------------------------------------------------------

JOBS = dict(line.split() for line in (OUTPUT / "jobs.txt").read_text().splitlines())

# scenario: kind, reason, message, exit code, signal (in the snapshot "all", when every
# scenario had run: the jobs that went through transient states were cancelled by then).
ALL = {
    "completed": ("succeeded", None, None, 0, None),
    "failed_exit3": ("failed", None, "NonZeroExitCode", 3, None),
    "killed_sigkill": ("failed", None, "JobLaunchFailure", 0, 9),
    "cancelled_running": ("cancelled", None, None, 0, 15),
    "cancelled_pending": ("cancelled", None, "JobHeldUser", 0, None),
    "completing": ("cancelled", None, None, 0, 9),
    "suspended": ("cancelled", None, "BeginTime", 0, None),
    "running": ("running", None, None, None, None),
    "timeout": ("failed", "DeadlineExceeded", "TimeLimit", 0, 15),
    "pending_resources": ("queued", "Resources", None, None, None),
    "pending_priority": ("queued", "Priority", None, None, None),
    "pending_dependency": ("queued", "Dependency", None, None, None),
    "pending_begin": ("queued", "BeginTime", None, None, None),
    "held": ("queued", "JobHeldUser", None, None, None),
    "impossible_cpus": ("queued", "PartitionConfig", None, None, None),
    "bad_constraints": ("failed", None, "BadConstraints", 0, 1),
}


def _squeue_o(text: str) -> dict[str, RemoteState]:
    return parse_squeue(text, fields=SQUEUE_O)


READERS: dict[str, Callable[[str], dict[str, RemoteState]]] = {
    "squeue-O": parse_squeue,
    "squeue-o": _squeue_o,
    "scontrol": parse_scontrol_jobs,
    "scontrol-oneliner": parse_scontrol_jobs,
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_the_captured_snapshot_parses_to_what_each_job_did(reader: str) -> None:
    parsed = READERS[reader]((OUTPUT / f"{reader}-all.txt").read_text())
    for scenario, (kind, reason, message, code, signal) in ALL.items():
        state = parsed[JOBS[scenario]]
        # The -o form prints no exit status.
        exit_status = (None, None) if reader == "squeue-o" else (code, signal)
        found = (state.kind, state.reason, state.message, state.exit_code, state.signal)
        assert found == (kind, reason, message, *exit_status), scenario
        assert (state.started_at is not None) == (kind not in ("queued", "unknown")), scenario
        assert (state.finished_at is not None) == (kind in TERMINAL_KINDS), scenario
    timeout = parsed[JOBS["timeout"]]
    assert timeout.started_at is not None
    assert timeout.finished_at is not None
    assert timeout.finished_at - timeout.started_at >= timedelta(minutes=1)


def test_squeue_and_scontrol_agree_on_every_job() -> None:
    squeue = parse_squeue((OUTPUT / "squeue-O-all.txt").read_text())
    scontrol = parse_scontrol_jobs((OUTPUT / "scontrol-all.txt").read_text())
    oneliner = parse_scontrol_jobs((OUTPUT / "scontrol-oneliner-all.txt").read_text())
    assert oneliner == scontrol
    assert set(squeue) <= set(scontrol)
    for job_id, state in squeue.items():
        # Only the message may differ: scontrol writes reasons with underscores.
        other = scontrol[job_id]
        assert attrs.evolve(other, message=state.message) == state, job_id
        assert (other.message or "").replace("_", " ") == (state.message or "")


@pytest.mark.parametrize(
    ("snapshot", "scenario", "kind", "raw", "reason"),
    [
        ("completing", "completing", "running", "COMPLETING", "Completing"),
        ("suspended", "suspended", "running", "SUSPENDED", "Suspended"),
        ("requeued_completing", "suspended", "running", "COMPLETING", "Completing"),
        ("requeued", "suspended", "queued", "PENDING", "BeginTime"),
        ("requeue_hold", "requeue_hold", "queued", "PENDING", "job requeued in held state"),
        ("special_exit", "special_exit", "queued", "SPECIAL_EXIT", "SpecialExit"),
    ],
)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_captured_transient_states(
    reader: str, snapshot: str, scenario: str, kind: str, raw: str, reason: str
) -> None:
    parsed = READERS[reader]((OUTPUT / f"{reader}-{snapshot}.txt").read_text())
    state = parsed[JOBS[scenario]]
    assert (state.kind, state.raw) == (kind, raw)
    assert (state.reason or "").replace("_", " ") == reason
    assert state.exit_code is None
    assert state.finished_at is None


def test_captured_names_are_the_job_names() -> None:
    jobs = squeue_jobs((OUTPUT / "squeue-O-all.txt").read_text())
    by_id = {job.job_id: job.name for job in jobs}
    for scenario, job_id in JOBS.items():
        assert by_id[job_id] == f"pyil-{scenario}"
    records = {
        job.job_id: job.name for job in scontrol_jobs((OUTPUT / "scontrol-all.txt").read_text())
    }
    assert records[JOBS["timeout"]] == "pyil-timeout"


def test_captured_sbatch_answer() -> None:
    job = parse_sbatch_parsable((OUTPUT / "sbatch-parsable.txt").read_text())
    assert job.cluster is None
    assert job.id.isdigit()


def test_the_capture_used_the_backends_format() -> None:
    script = (OUTPUT / "capture").read_text()
    match = re.search(r"^SQUEUE_FORMAT='(.*)'$", script, re.MULTILINE)
    assert match is not None
    assert match[1] == SQUEUE_FORMAT
    assert "export TZ=UTC0 SLURM_TIME_FORMAT=standard" in script
    assert dict(SLURM_ENV) == {"TZ": "UTC0", "SLURM_TIME_FORMAT": "standard"}


# --- sacct (documented-format samples) --------------------------------------------------------

SACCT_EXPECTED = {
    "101": ("succeeded", None, None, 0, None),
    "102": ("failed", None, "NonZeroExitCode", 3, None),
    "103": ("failed", "OOMKilled", None, 0, 125),
    # The job line says 0:0; the batch step says how the cancellation ended it.
    "104": ("cancelled", None, "CANCELLED by 1000", 0, 15),
    "105": ("failed", "DeadlineExceeded", "TimeLimit", 0, 15),
    "106": ("failed", "NodeFail", None, 0, None),
    "107": ("failed", "Preempted", None, 0, None),
    "108": ("running", None, None, None, None),
    "109": ("queued", "Priority", None, None, None),
    "110": ("queued", "Dependency", None, None, None),
    "111": ("queued", "Requeued", None, None, None),
    "112": ("cancelled", None, "CANCELLED by 0; JobHeldUser", 0, None),
    "113": ("failed", "DeadlineExceeded", None, 0, None),
    "114": ("failed", "NodeFail", None, 0, None),
    "115": ("failed", None, "RaisedSignal:9(Killed)", 0, 9),
    # Batch step first, then the other steps in order.
    "116": ("failed", None, None, 2, None),
    "120_[3-5]": ("queued", "Resources", None, None, None),
    "120_1": ("succeeded", None, None, 0, None),
    "120_2": ("running", None, None, None, None),
    "130+0": ("succeeded", None, None, 0, None),
    "130+1": ("failed", None, "NonZeroExitCode", 1, None),
    "140": ("cancelled", None, None, 0, None),
}


def test_sacct_samples() -> None:
    parsed: dict[str, RemoteState] = {}
    for name in ("sacct-documented.txt", "sacct-documented-arrays.txt"):
        parsed |= parse_sacct((OUTPUT / name).read_text())
    found = {
        job_id: (s.kind, s.reason, s.message, s.exit_code, s.signal) for job_id, s in parsed.items()
    }
    assert found == SACCT_EXPECTED
    assert parsed["108"].started_at == _utc("2026-11-23T16:21:00")
    assert parsed["108"].finished_at is None
    assert parsed["112"].started_at is None


def test_sacct_names_take_the_rest_of_the_line() -> None:
    jobs = sacct_jobs((OUTPUT / "sacct-documented-arrays.txt").read_text())
    assert [job.name for job in jobs if job.job_id == "140"] == ["name with | a bar"]


def test_sacct_steps_without_their_job_are_ignored_but_checked() -> None:
    assert parse_sacct("7.batch|FAILED|3:0|N/A|N/A||batch\n") == {}
    with pytest.raises(SchedulerOutputError) as caught:
        parse_sacct("7|RUNNING|0:0|N/A|N/A|None|x\n7.batch|RUNNING|zero|N/A|N/A||batch\n")
    assert caught.value.path == "line 2.ExitCode"


def test_a_succeeded_job_keeps_its_own_exit_code() -> None:
    text = "8|COMPLETED|0:0|N/A|N/A|None|x\n8.0|FAILED|1:0|N/A|N/A||step\n"
    assert parse_sacct(text)["8"].exit_code == 0


def test_the_extern_step_does_not_count() -> None:
    text = "9|CANCELLED|0:0|N/A|N/A|None|x\n9.extern|CANCELLED|0:15|N/A|N/A||extern\n"
    state = parse_sacct(text)["9"]
    assert (state.exit_code, state.signal) == (0, None)


# --- sbatch -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123\n", JobId(id="123")),
        ("123", JobId(id="123")),
        ("\n  4567  \n\n", JobId(id="4567")),
        ("123;cluster\n", JobId(id="123", cluster="cluster")),
        ("99;hpc-east.1\n", JobId(id="99", cluster="hpc-east.1")),
    ],
)
def test_sbatch_parsable(text: str, expected: JobId) -> None:
    job = parse_sbatch_parsable(text)
    assert job == expected
    assert str(job) == expected.id


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", ""),
        ("   \n", ""),
        ("Submitted batch job 123\n", "line 1"),
        ("0\n", "line 1"),
        ("123\n124\n", "line 2"),
        ("123;\n", "line 1"),
        ("123;a;b\n", "line 1"),
        ("\uff11\uff12\uff13\n", "line 1"),  # fullwidth digits
        ("-5\n", "line 1"),
        ("12345678901\n", "line 1"),
    ],
)
def test_sbatch_parsable_refuses(text: str, path: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_sbatch_parsable(text)
    assert caught.value.path == path


# --- errors name the line and field -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("1|RUNNING|None|N/A|NONE|0|a\n2|FAILED|None|N/A|NONE|x|b\n", "line 2.exit_code"),
        ("\n\n1|RUNNING|None|2026-13-01T00:00:00|NONE|0|a\n", "line 3.StartTime"),
        ("1|RUNNING|None|N/A|yesterday|0|a\n", "line 1.EndTime"),
        ("1|RUNNING|None\n", "line 1"),
        ("x1|RUNNING|None|N/A|NONE|0|a\n", "line 1.JobID"),
        ("1||None|N/A|NONE|0|a\n", "line 1.State"),
        ("1|FAILED|None|N/A|NONE|99999999999|a\n", "line 1.exit_code"),
    ],
)
def test_squeue_errors_name_line_and_field(text: str, path: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_squeue(text)
    assert caught.value.path == path
    assert isinstance(caught.value, InputError)
    assert path in str(caught.value)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("JobId=1 JobName=a\n   JobState=FAILED Reason=None\n   ExitCode=3\n", "line 3.ExitCode"),
        ("JobId=1 JobName=a\n   Reason=None\n", "line 1.JobId"),
        ("JobId=x1 JobState=RUNNING\n", "line 1.JobId"),
        ("hello\nJobId=1 JobState=RUNNING\n", "line 1"),
        ("JobId=1 JobState=RUNNING\n   not a pair\n", "line 2"),
        ("JobId=1 JobState=RUNNING StartTime=2026-11-23\n", "line 1.StartTime"),
        ("JobId=1 JobState=FAILED ExitCode=256:0\n", "line 1.ExitCode"),
    ],
)
def test_scontrol_errors_name_line_and_key(text: str, path: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_scontrol_jobs(text)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("1.b@d|RUNNING|0:0|N/A|N/A|None|x\n", "line 1.JobID"),
        ("1|RUNNING|0:0|N/A|N/A\n", "line 1"),
        ("1|RUNNING|0:0|Tuesday|N/A|None|x\n", "line 1.Start"),
        ("1|COMPLETED|-1:0|N/A|N/A|None|x\n", "line 1.ExitCode"),
    ],
)
def test_sacct_errors_name_line_and_field(text: str, path: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_sacct(text)
    assert caught.value.path == path


def test_scontrol_without_jobs() -> None:
    assert parse_scontrol_jobs("No jobs in the system\n") == {}
    assert parse_scontrol_jobs("") == {}


def test_a_job_listed_twice_keeps_its_last_line() -> None:
    text = "1|PENDING|Priority|N/A|NONE|0|a\n1|RUNNING|None|2026-11-23T16:04:16|NONE|0|a\n"
    assert parse_squeue(text)["1"].kind == "running"


def test_unusable_wait_statuses_are_no_exit_code() -> None:
    # Slurm's "no value" (0xfffffffe) is not a wait status; N/A is nothing.
    for printed in ("4294967294", "N/A"):
        state = parse_squeue(f"1|FAILED|None|N/A|NONE|{printed}|a")["1"]
        assert (state.exit_code, state.signal) == (None, None)


@pytest.mark.parametrize(
    ("status", "code", "signal"),
    [
        ("0", 0, None),
        ("768", 3, None),
        ("9", 0, 9),
        ("15", 0, 15),
        ("137", 0, 9),
        ("1", 0, 1),
        ("32512", 127, None),
        ("127", 0, None),
    ],
)
def test_wait_status_reads_like_scontrol(status: str, code: int, signal: int | None) -> None:
    # 137 = 0x89: core dumped (0x80) by signal 9; 127 = 0x7f: stopped, not a death.
    state = parse_squeue(f"1|FAILED|None|N/A|NONE|{status}|a")["1"]
    assert (state.exit_code, state.signal) == (code, signal)


# --- times ------------------------------------------------------------------------------------


def test_times_are_read_in_the_given_zone() -> None:
    rome = timezone(timedelta(hours=1))
    assert parse_slurm_time("2026-11-23T16:04:16", tz=rome) == _utc("2026-11-23T15:04:16")
    assert parse_slurm_time("2026-11-23T16:04:16") == _utc("2026-11-23T16:04:16")
    for nothing in ("N/A", "Unknown", "NONE", "None", "(null)", "", "  "):
        assert parse_slurm_time(nothing) is None


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00",
        "2026-11-23 16:04:16",
        "2026-11-23T16:04",
        "16:04:16",
        "0000-01-01T00:00:00",
    ],
)
def test_bad_times(text: str) -> None:
    with pytest.raises(SchedulerOutputError):
        parse_slurm_time(text, path="x")


# --- status files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"), [("0\n", 0), ("3\n", 3), ("137\n", 137), (" 255 ", 255), ("7", 7)]
)
def test_status_files(text: str, code: int) -> None:
    assert parse_container_status(text) == code


@pytest.mark.parametrize("text", ["", "\n", "256\n", "-1\n", "3\n4\n", "x", "1e2", "٣"])
def test_bad_status_files(text: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_container_status(text, path="run-main.status")
    assert caught.value.path == "run-main.status"


def test_container_results_from_a_listing() -> None:
    files = {
        "run-main.status": "0\n",
        "run-sidecar.status": "137\n",
        "/work/pod/init-setup.status": "0\n",
        "init-fetch.status": "",
        "run-main.out": "hello\n",
        "job.out": "",
        "job.slurm": "#!/bin/bash\n",
        "run-.status": "1\n",  # no container has an empty name
    }
    assert container_results(files) == (
        ContainerResult(name="fetch", init=True, exit_code=None),
        ContainerResult(name="setup", init=True, exit_code=0),
        ContainerResult(name="main", init=False, exit_code=0),
        ContainerResult(name="sidecar", init=False, exit_code=137),
    )


def test_container_results_name_the_bad_file() -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        container_results({"run-a.status": "0\n", "dir/run-b.status": "oops\n"})
    assert caught.value.path == "run-b.status"


# --- commands ---------------------------------------------------------------------------------


def test_the_command_lines() -> None:
    assert SQUEUE_FORMAT == "JobID:|,State:|,Reason:|,StartTime:|,EndTime:|,exit_code:|,Name:"
    assert squeue_format(("job_id",)) == "JobID:"
    assert squeue_argv(["12", "13_2"]) == (
        "squeue",
        "--noheader",
        "--states=all",
        "--jobs=12,13_2",
        f"--Format={SQUEUE_FORMAT}",
    )
    assert SACCT_FORMAT == "JobID,State,ExitCode,Start,End,Reason,JobName"
    assert sacct_argv([JobId(id="5").id]) == (
        "sacct",
        "--parsable2",
        "--noheader",
        "--jobs=5",
        f"--format={SACCT_FORMAT}",
    )
    assert scontrol_argv("5") == ("scontrol", "--oneliner", "show", "job", "5")
    assert scontrol_argv() == ("scontrol", "--oneliner", "show", "job")


@pytest.mark.parametrize("ids", [[], ["1;rm -rf /"], ["1,2"], ["abc"], [""]])
def test_command_lines_refuse_what_is_not_a_job_id(ids: list[str]) -> None:
    with pytest.raises(ValueError, match="job id"):
        squeue_argv(ids)
    with pytest.raises(ValueError, match="job id"):
        sacct_argv(ids)


def test_fields_need_an_id_and_a_state() -> None:
    with pytest.raises(ValueError, match="job_id"):
        parse_squeue("", fields=("state",))
    with pytest.raises(ValueError, match="state"):
        parse_squeue("", fields=("job_id", "reason"))
    with pytest.raises(ValueError, match="twice"):
        parse_squeue("", fields=("job_id", "state", "state"))
    assert SQUEUE_FIELDS[-1] == "name"


# --- totality ---------------------------------------------------------------------------------

FRAGMENTS = [
    "|",
    "\n",
    " ",
    "=",
    "JobId=",
    "JobState=",
    "ExitCode=",
    "Reason=",
    "StartTime=",
    "PENDING",
    "CANCELLED by 1000",
    "CF",
    "+",
    "0:15",
    "768",
    "2026-11-23T16:04:16",
    "N/A",
    "Unknown",
    ".batch",
    "_[1-3]",
    "+0",
    "123",
    "99999999999999999999",
    "\r",
    "\x00",
    "é",
    "No jobs in the system",
    "JobName=a b",
    "run-",
    ".status",
    ";",
]
texts = st.text() | st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


def _total(parse: Callable[[str], object], text: str) -> None:
    with contextlib.suppress(SchedulerOutputError):
        parse(text)


@given(texts, zones)
def test_every_parser_is_total(text: str, tz: tzinfo) -> None:
    _total(parse_sbatch_parsable, text)
    _total(lambda t: parse_squeue(t, tz=tz), text)
    _total(lambda t: parse_squeue(t, fields=SQUEUE_O, tz=tz), text)
    _total(lambda t: parse_scontrol_jobs(t, tz=tz), text)
    _total(lambda t: parse_sacct(t, tz=tz), text)
    _total(parse_container_status, text)
    _total(lambda t: container_results({"run-a.status": t, t: t}), text)
    _total(lambda t: parse_slurm_time(t, tz=tz), text)


@given(texts)
def test_line_shaped_input_is_total(text: str) -> None:
    # Input with the right number of fields reaches the field parsers.
    _total(parse_squeue, "|".join([text] * 7))
    _total(parse_sacct, "|".join([text] * 7))
    _total(parse_scontrol_jobs, f"JobId=1 JobState={text} ExitCode={text} StartTime={text}")
