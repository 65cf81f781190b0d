"""One poll of 10,000 Slurm jobs: squeue output → job states → pod statuses, next to a plain split.

Run from the repository root::

    .venv/bin/python -m bench.status              # the table (about 5 s)
    .venv/bin/python -m bench.status --steady     # plus the poll after (about 10 s)
    .venv/bin/python -m bench.status --profile    # plus what memos cannot remove, and cProfile

The backend asks squeue about every job it tracks in one call (``squeue_argv``, format
``SQUEUE_FORMAT``) and publishes a status for every pod. This measures that poll for N jobs:

* ``parse_squeue``: the whole squeue text → ``{job id: RemoteState}``;
* ``pod_status``: for each of the N pods, its job's state looked up by job id, wrapped in an
  ``Observation`` and turned into a ``PodStatus`` (``previous=None``, one ``now`` per poll);
* ``total``: both, one after the other.

The floor is the least any Python reader of the text does: ``for line in text.splitlines():
line.split("|")``. The issue's goal: the total under 50 ms and within 5x of the floor.

Every repetition is a *first* poll: it reads its own squeue text, with job ids, times and
``now`` never seen before (each poll is a day after the one before), so nothing memoised
for one repetition serves the next. The pods stay the same, as they do from one poll to the
next. ``--steady`` adds the poll after each: the same jobs 30 s later, where squeue prints
the same text and every pod has the status the first poll published as ``previous``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import platform
import pstats
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from pyinterlink.core import (
    Container,
    ObjectMeta,
    Observation,
    Pod,
    PodSpec,
    PodStatus,
    RemoteState,
    pod_status,
)
from pyinterlink.core.slurm import SQUEUE_FIELDS, SQUEUE_FORMAT, parse_squeue

GOAL_MS: Final = 50.0
"""The issue's target for the total, in milliseconds."""
GOAL_RATIO: Final = 5.0
"""... and for the total over the floor."""

# What the fields the backend asks for are; the text below is written in this order.
EXPECTED_FIELDS: Final = (
    "job_id",
    "state",
    "reason",
    "start_time",
    "end_time",
    "exit_code",
    "name",
)
EXPECTED_FORMAT: Final = "JobID:|,State:|,Reason:|,StartTime:|,EndTime:|,exit_code:|,Name:"

BASE: Final = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
"""The first poll's ``now``; jobs started and ended in the day before it."""


# --- the workload -------------------------------------------------------------------------------


class Shape(NamedTuple):
    """A kind of pod: its init and app containers, as (name, image)."""

    label: str
    share: float
    inits: tuple[tuple[str, str], ...]
    apps: tuple[tuple[str, str], ...]


SHAPES: Final = (
    Shape("one container", 0.6, (), (("main", "docker://pytorch/pytorch:2.3.0"),)),
    Shape(
        "init + app",
        0.25,
        (("fetch", "docker://alpine:3.20"),),
        (("main", "docker://pytorch/pytorch:2.3.0"),),
    ),
    Shape(
        "two apps",
        0.15,
        (),
        (("main", "docker://pytorch/pytorch:2.3.0"), ("sidecar", "docker://busybox:1.36")),
    ),
)


def make_pods(count: int, rng: random.Random) -> list[Pod]:
    """``count`` pods of the shapes above, each with its own name, UID and arguments."""
    weights = [shape.share for shape in SHAPES]
    pods = []
    for i in range(count):
        shape = rng.choices(SHAPES, weights)[0]

        def container(name: str, image: str, i: int = i) -> Container:
            # Containers of one workload differ in their arguments, as real ones do.
            return Container(
                name=name, image=image, command=("python3",), args=("run.py", f"--index={i}")
            )

        pods.append(
            Pod(
                api_version="v1",
                kind="Pod",
                metadata=ObjectMeta(
                    name=f"job-{i}",
                    namespace="default",
                    uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                ),
                spec=PodSpec(
                    init_containers=tuple(container(n, img) for n, img in shape.inits),
                    containers=tuple(container(n, img) for n, img in shape.apps),
                    restart_policy="Never",
                ),
            )
        )
    return pods


def _clock(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S")  # Slurm's standard format, TZ=UTC0


# (state, reason, share): the mix of one squeue answer for a busy user.
PENDING_REASONS: Final = (
    ("Priority", 0.55),
    ("Resources", 0.2),
    ("Dependency", 0.1),
    ("QOSMaxJobsPerUserLimit", 0.08),
    ("JobHeldUser", 0.04),
    ("BeginTime", 0.03),
)
STATES: Final = (
    ("PENDING", 0.55),
    ("RUNNING", 0.3),
    ("COMPLETING", 0.005),
    ("COMPLETED", 0.07),
    ("FAILED", 0.03),
    ("CANCELLED", 0.025),
    ("TIMEOUT", 0.012),
    ("OUT_OF_MEMORY", 0.008),
)


def squeue_line(job_id: int, name: str, rng: random.Random, now: datetime) -> str:
    """One line as ``squeue --Format=SQUEUE_FORMAT`` prints it (see tests/slurm_output)."""
    state = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
    limit = timedelta(hours=rng.choice((1, 4, 12, 24)))
    started = now - timedelta(seconds=rng.randrange(60, 86_400))
    start = end = "N/A"
    reason, exit_code = "None", 0
    if state == "PENDING":
        reason = rng.choices([r for r, _ in PENDING_REASONS], [w for _, w in PENDING_REASONS])[0]
        if reason in ("Priority", "Resources"):
            # The backfill scheduler's estimates: a few distinct instants for many jobs.
            estimate = now + timedelta(minutes=5 * rng.randrange(1, 40))
            start, end = _clock(estimate), _clock(estimate + limit)
        elif reason == "BeginTime":
            start, end = _clock(now + timedelta(hours=1)), "NONE"
    elif state in ("RUNNING", "COMPLETING"):
        start, end = _clock(started), _clock(started + limit)
    else:
        ran = timedelta(seconds=rng.randrange(1, int(limit.total_seconds())))
        finished = min(started + ran, now - timedelta(seconds=1))
        start, end = _clock(started), _clock(finished)
        if state == "FAILED":
            reason, exit_code = rng.choice((("NonZeroExitCode", 256), ("NonZeroExitCode", 768)))
            if rng.random() < 0.2:
                reason, exit_code = "JobLaunchFailure", 9
        elif state == "CANCELLED":
            exit_code = 15
            if rng.random() < 0.3:  # cancelled while held: StartTime = EndTime, as captured
                reason, exit_code, start = "JobHeldUser", 0, end
        elif state == "TIMEOUT":
            reason, exit_code = "TimeLimit", 15
            start, end = _clock(started), _clock(started + limit)
        elif state == "OUT_OF_MEMORY":
            reason, exit_code = "OutOfMemory", 9
    return f"{job_id}|{state}|{reason}|{start}|{end}|{exit_code}|{name}"


class Poll(NamedTuple):
    """One squeue answer and the pods it is about."""

    text: str
    now: datetime
    pairs: list[tuple[Pod, str]]  # each pod with its job id


def make_poll(pods: Sequence[Pod], *, first_job: int, now: datetime, seed: int) -> Poll:
    rng = random.Random(seed)
    lines, pairs = [], []
    for offset, pod in enumerate(pods):
        job_id = first_job + offset
        lines.append(squeue_line(job_id, pod.metadata.uid, rng, now))
        pairs.append((pod, str(job_id)))
    rng.shuffle(lines)  # squeue sorts by state and priority, not by our order
    return Poll(text="\n".join(lines) + "\n", now=now, pairs=pairs)


# --- the sides ----------------------------------------------------------------------------------


def floor(text: str) -> int:
    """The least a reader does: split the text into lines and every line into fields."""
    count = 0
    for line in text.splitlines():
        count += len(line.split("|"))
    return count


def statuses(
    states: dict[str, RemoteState], poll: Poll, previous: Sequence[PodStatus] | None = None
) -> list[PodStatus]:
    """What the backend does with the parsed answer: one status per pod (``previous``: the
    statuses the poll before published, in the same order; none on the first poll)."""
    now = poll.now
    if previous is None:
        return [
            pod_status(pod, Observation(job=states[job_id]), previous=None, now=now)
            for pod, job_id in poll.pairs
        ]
    return [
        pod_status(pod, Observation(job=states[job_id]), previous=before, now=now)
        for (pod, job_id), before in zip(poll.pairs, previous, strict=True)
    ]


class Sample(NamedTuple):
    parse: float
    status: float
    total: float
    floor: float


def measure(poll: Poll, previous: Sequence[PodStatus] | None = None) -> Sample:
    """One repetition: the floor, then parse and statuses, each timed on its own."""
    gc.collect()
    start = time.perf_counter()
    floor(poll.text)
    floor_time = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    states = parse_squeue(poll.text)
    parsed = time.perf_counter()
    statuses(states, poll, previous)
    done = time.perf_counter()
    return Sample(parsed - start, done - parsed, done - start, floor_time)


def next_poll(poll: Poll) -> tuple[Poll, list[PodStatus]]:
    """The poll after ``poll``, 30 s later, where squeue prints the same answer, with the
    statuses ``poll`` published (computed here, untimed)."""
    published = statuses(parse_squeue(poll.text), poll)
    return Poll(poll.text, poll.now + timedelta(seconds=30), poll.pairs), published


def check(poll: Poll) -> None:
    """Fail loudly if the workload stopped being what the backend reads and publishes."""
    if tuple(SQUEUE_FIELDS) != EXPECTED_FIELDS or SQUEUE_FORMAT != EXPECTED_FORMAT:
        raise SystemExit(f"SQUEUE_FORMAT changed to {SQUEUE_FORMAT}: update the generator")
    states = parse_squeue(poll.text)
    if len(states) != len(poll.pairs):
        raise SystemExit(f"{len(poll.pairs)} jobs written, {len(states)} parsed")
    phases: dict[str, int] = {}
    for status in statuses(states, poll):
        phases[status.phase] = phases.get(status.phase, 0) + 1
    if set(phases) != {"Pending", "Running", "Succeeded", "Failed"}:
        raise SystemExit(f"unexpected mix of phases: {phases}")


def profile(poll: Poll, other: Poll, top: int) -> None:
    """Where a first poll spends its time: ``poll`` read twice (the second time every line
    is memoised: what is left is the cost of a line that no memo removes), then cProfile of
    ``other``, another first poll."""
    first, again = measure(poll).parse, measure(poll).parse
    print(
        f"\nparse_squeue, first poll {first * 1e3:.1f} ms, the same text again "
        f"{again * 1e3:.1f} ms: {(first - again) * 1e3:.1f} ms go to reading the lines no "
        "memo holds yet"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    statuses(parse_squeue(other.text), other)
    profiler.disable()
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = out.getvalue()
        print(f"\ncProfile of one poll, top {top} by {key}:")
        print(text[text.find("   ncalls") :].rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.status", description="One squeue poll: text → job states → pod statuses."
    )
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs (and pods) per poll")
    parser.add_argument("--repeat", type=int, default=9, help="timed repetitions")
    parser.add_argument(
        "--steady", action="store_true", help="also time the poll after each (same jobs)"
    )
    parser.add_argument("--profile", action="store_true", help="profile one more first poll")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print")
    args = parser.parse_args(argv)

    rng = random.Random(1)
    pods = make_pods(args.jobs, rng)

    def poll(index: int) -> Poll:
        # A new poll: its own job ids, times a day later, its own now.
        return make_poll(
            pods,
            first_job=4_100_000 + index * args.jobs,
            now=BASE + timedelta(days=index),
            seed=index,
        )

    polls = [poll(index) for index in range(args.repeat + 3)]
    warm_up, timed, extra = polls[0], polls[1:-2], polls[-2:]
    check(warm_up)  # also the warm-up: imports, the pods' own caches
    samples = [measure(each) for each in timed]

    median = {
        field: statistics.median(getattr(s, field) for s in samples) for field in Sample._fields
    }
    mode = "assertions on" if __debug__ else "python -O"
    print(
        f"one squeue poll: {args.jobs:,} jobs and pods, {args.repeat} first polls, median "
        f"(Python {platform.python_version()}, {platform.machine()}, {mode})\n"
    )
    rows = [
        ("parse_squeue", "text → {job id: RemoteState}", median["parse"]),
        ("pod_status x N", "states → PodStatus per pod", median["status"]),
        ("total", "one poll", median["total"]),
        ("floor", "splitlines + split('|')", median["floor"]),
    ]
    header = f"{'step':<16} {'what':<32} {'ms':>7} {'µs/job':>7} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    for label, what, seconds in rows:
        print(
            f"{label:<16} {what:<32} {seconds * 1e3:>7.1f} {seconds / args.jobs * 1e6:>7.2f} "
            f"{seconds / median['floor']:>8.1f}"
        )
    if args.steady:
        again = [measure(*next_poll(each)) for each in timed]
        for label, what, field in (
            ("next: parse", "the same text again", "parse"),
            ("next: status", "previous = last poll's, new now", "status"),
            ("next: total", "the poll after", "total"),
        ):
            seconds = statistics.median(getattr(s, field) for s in again)
            print(
                f"{label:<16} {what:<32} {seconds * 1e3:>7.1f} {seconds / args.jobs * 1e6:>7.2f} "
                f"{seconds / median['floor']:>8.1f}"
            )
    ratio = median["total"] / median["floor"]
    total_ms = median["total"] * 1e3
    print(
        f"\ntotal {total_ms:.1f} ms, goal < {GOAL_MS:g} ms: "
        f"{'met' if total_ms < GOAL_MS else 'NOT met'}"
        f"\ntotal / floor {ratio:.1f}x, goal ≤ {GOAL_RATIO:g}x: "
        f"{'met' if ratio <= GOAL_RATIO else 'NOT met'}"
    )
    if args.profile:
        first_extra, second_extra = extra
        profile(first_extra, second_extra, top=args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
