"""A pure fake batch scheduler, and a pair harness that runs the per-pod machine against it.

The scheduler keeps its jobs in memory and answers from a script: how long a job stays
queued, starting and running, how it ends, when it vanishes or answers ``unknown``, and which
calls fail (transiently, permanently, or in transport). Submission is idempotent by pod UID,
as the real backends are. Nothing here does I/O or reads a clock.

:class:`Pair` is a discrete-event simulation: a heap of events ordered by time. Stepping the
machine yields actions; the harness performs them against the scheduler at the current time
and schedules the answers ``latency`` later; :class:`WakeAt` schedules a :class:`TimerFired`
(stale timers are left in the heap, as a real driver may leave them); the clock jumps to the
next event. A whole lifecycle of hours runs in milliseconds.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

import attrs
from pyinterlink.core._machine import (
    DEFAULT_POLICY,
    Action,
    Cancel,
    DeleteConfirmed,
    DeleteRequested,
    Event,
    FetchFinalLogs,
    Forget,
    JobNotFound,
    PodAdded,
    PodMachine,
    Poll,
    PollPolicy,
    PublishStatus,
    RecordJobId,
    State,
    StatusObserved,
    Submit,
    SubmitFailed,
    SubmitSucceeded,
    TimerFired,
    TransportFailed,
    WakeAt,
    step,
)
from pyinterlink.core._remote import ContainerResult, RemoteState

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ZERO = timedelta(0)

Outcome = Literal["succeeded", "failed", "cancelled"]
A = TypeVar("A", bound=Action)


@attrs.frozen(kw_only=True)
class JobScript:
    """What happens to a job, as offsets from its submission.

    ``outcome`` ``cancelled`` means an administrator cancelled it at the end of its run.
    ``requeue_after`` sends a running job back to the queue once, that long after it started
    (it then queues and runs again, in full). ``unknown`` is a window in which every answer
    is ``unknown``; from ``vanish_after`` on the scheduler no longer knows the job.
    """

    queued_for: timedelta = timedelta(seconds=20)
    pending_reason: str = "Priority"
    starting_for: timedelta = timedelta(seconds=2)
    running_for: timedelta = timedelta(minutes=5)
    outcome: Outcome = "succeeded"
    exit_code: int = 0
    reason: str | None = None
    requeue_after: timedelta | None = None
    unknown: tuple[timedelta, timedelta] | None = None
    vanish_after: timedelta | None = None
    containers: tuple[str, ...] = ("main",)

    @property
    def duration(self) -> timedelta:
        """Submission to end, requeue included."""
        once = self.queued_for + self.starting_for + self.running_for
        if self.requeue_after is None or self.requeue_after >= self.running_for:
            return once
        return self.queued_for + self.starting_for + self.requeue_after + once


@attrs.frozen(kw_only=True)
class Faults:
    """Which calls fail, and how.

    The first ``submit_transient`` submissions are answered with a transient error and make no
    job; the next ``submit_answer_lost`` make the job but their answer is lost in transport;
    ``submit_refused`` refuses every submission with that text. Polls fail in transport
    during ``poll_outage`` (absolute times). The first ``cancel_failures`` cancels fail in
    transport. A new job is unknown to status queries for ``register_delay``.
    """

    submit_transient: int = 0
    submit_answer_lost: int = 0
    submit_refused: str | None = None
    poll_outage: tuple[datetime, datetime] | None = None
    cancel_failures: int = 0
    register_delay: timedelta = ZERO


class TransientError(Exception):
    """The scheduler answered with an error worth retrying."""


class RefusedError(Exception):
    """The scheduler refused the request for good."""


class UnreachableError(Exception):
    """The call did not complete (the transport failed)."""


@attrs.define(kw_only=True)
class FakeJob:
    """One job the fake scheduler holds."""

    job_id: str
    uid: str
    created_at: datetime
    cancelled_at: datetime | None = None


@attrs.define(kw_only=True)
class FakeScheduler:
    """An in-memory scheduler following one :class:`JobScript` for every job."""

    script: JobScript = attrs.field(factory=JobScript)
    faults: Faults = attrs.field(factory=Faults)
    jobs: dict[str, FakeJob] = attrs.field(factory=dict)
    calls: Counter[str] = attrs.field(factory=Counter)
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1001))

    def add_job(self, uid: str, at: datetime) -> str:
        """Create a job directly (as if submitted by an earlier process); its id."""
        job_id = str(next(self._ids))
        self.jobs[job_id] = FakeJob(job_id=job_id, uid=uid, created_at=at)
        return job_id

    def submit(self, uid: str, at: datetime) -> str:
        """Idempotent create keyed by pod UID: the existing job's id, or a new job's."""
        self.calls["submit"] += 1
        faults = self.faults
        if faults.submit_refused is not None:
            raise RefusedError(faults.submit_refused)
        if self.calls["submit"] <= faults.submit_transient:
            raise TransientError(f"slurmctld busy, try again (call {self.calls['submit']})")
        existing = next((job for job in self.jobs.values() if job.uid == uid), None)
        job_id = existing.job_id if existing else self.add_job(uid, at)
        if self.calls["submit"] <= faults.submit_transient + faults.submit_answer_lost:
            raise UnreachableError("connection reset while reading the answer")
        return job_id

    def status(self, job_id: str, at: datetime) -> RemoteState | None:
        """The job's state at ``at``; ``None`` when the scheduler does not know the job."""
        self.calls["status"] += 1
        outage = self.faults.poll_outage
        if outage is not None and outage[0] <= at < outage[1]:
            raise UnreachableError("ssh: connect to host login: Connection refused")
        job = self.jobs.get(job_id)
        if job is None:
            return None
        offset = at - job.created_at
        script = self.script
        if offset < self.faults.register_delay:
            return None
        if script.vanish_after is not None and offset >= script.vanish_after:
            return None
        if script.unknown is not None and script.unknown[0] <= offset < script.unknown[1]:
            return RemoteState(kind="unknown", raw="?")
        cancelled = job.cancelled_at
        # A cancel after the job ended changes nothing (it only cleans up).
        if (
            cancelled is not None
            and cancelled <= at
            and cancelled < job.created_at + script.duration
        ):
            return RemoteState(kind="cancelled", raw="CANCELLED", finished_at=cancelled)
        return self._scripted(job, offset)

    def _scripted(self, job: FakeJob, offset: timedelta) -> RemoteState:
        script = self.script
        begin = script.queued_for + script.starting_for
        base = ZERO
        if script.requeue_after is not None and script.requeue_after < script.running_for:
            first_run_end = begin + script.requeue_after
            if begin <= offset < first_run_end:
                return self._running(job, begin)
            if offset >= first_run_end:
                offset, base = offset - first_run_end, first_run_end
        if offset < script.queued_for:
            return RemoteState(kind="queued", raw="PENDING", reason=script.pending_reason)
        if offset < begin:
            return RemoteState(kind="starting", raw="CONFIGURING")
        if offset < begin + script.running_for:
            return self._running(job, base + begin)
        raw = {"succeeded": "COMPLETED", "failed": "FAILED", "cancelled": "CANCELLED"}
        return RemoteState(
            kind=script.outcome,
            raw=raw[script.outcome],
            reason=script.reason,
            exit_code=None if script.outcome == "cancelled" else script.exit_code,
            finished_at=job.created_at + script.duration,
        )

    def _running(self, job: FakeJob, started: timedelta) -> RemoteState:
        return RemoteState(kind="running", raw="RUNNING", started_at=job.created_at + started)

    def containers(self, job_id: str, at: datetime) -> tuple[ContainerResult, ...]:
        """The per-container results the job's working directory shows at ``at``."""
        job = self.jobs.get(job_id)
        if job is None:
            return ()
        end = job.created_at + self.script.duration
        if at < end or (job.cancelled_at is not None and job.cancelled_at < end):
            return ()
        return tuple(
            ContainerResult(name=name, exit_code=self.script.exit_code, finished_at=end)
            for name in self.script.containers
        )

    def cancel(self, uid: str, at: datetime) -> None:
        """The backend's delete, by pod UID: cancel the job if it has not ended."""
        self.calls["cancel"] += 1
        if self.calls["cancel"] <= self.faults.cancel_failures:
            raise UnreachableError("scancel: Socket timed out on send/recv operation")
        for job in self.jobs.values():
            if job.uid == uid and job.cancelled_at is None:
                job.cancelled_at = at


@attrs.frozen(kw_only=True)
class StepRecord:
    """One event fed to the machine, with the machine before and after and the actions."""

    event: Event
    before: PodMachine
    after: PodMachine
    actions: tuple[Action, ...]


@attrs.define(kw_only=True)
class Pair:
    """The machine of one pod driven against a :class:`FakeScheduler` on a simulated clock.

    ``delete_at`` requests deletion at that time; ``cleanup_after`` requests it that long
    after the pod finished (as ``interlink run`` does when it is done). ``adopt`` starts the
    machine with ``PodAdded(job_id=adopt)`` instead of submitting.
    """

    scheduler: FakeScheduler
    uid: str = "3f2a9c1e-0000-4000-8000-000000000001"
    policy: PollPolicy = DEFAULT_POLICY
    start: datetime = T0
    latency: timedelta = timedelta(milliseconds=200)
    delete_at: datetime | None = None
    cleanup_after: timedelta | None = None
    adopt: str | None = None
    machine: PodMachine = attrs.field(init=False)
    clock: datetime = attrs.field(init=False)
    steps: list[StepRecord] = attrs.field(init=False, factory=list)
    published: list[PublishStatus] = attrs.field(init=False, factory=list)
    recorded: list[str] = attrs.field(init=False, factory=list)
    logs_fetched: list[str] = attrs.field(init=False, factory=list)
    forgotten: Forget | None = attrs.field(init=False, default=None)
    _queue: list[tuple[datetime, int, Event]] = attrs.field(init=False, factory=list)
    _seq: itertools.count[int] = attrs.field(init=False, factory=itertools.count)

    def __attrs_post_init__(self) -> None:
        self.machine = PodMachine(policy=self.policy)
        self.clock = self.start
        self.schedule(PodAdded(at=self.start, job_id=self.adopt))
        if self.delete_at is not None:
            self.schedule(DeleteRequested(at=self.delete_at))

    def schedule(self, event: Event) -> None:
        """Deliver ``event`` at its time."""
        heapq.heappush(self._queue, (event.at, next(self._seq), event))

    def run(self, *, max_steps: int = 20_000) -> Pair:
        """Run until no event is left (stale timers drain as ignored moves)."""
        while self._queue:
            if len(self.steps) >= max_steps:
                raise AssertionError(f"no quiescence after {max_steps} steps: {self.machine}")
            _, _, event = heapq.heappop(self._queue)
            self.clock = event.at
            before = self.machine
            self.machine, actions = step(before, event)
            self.steps.append(
                StepRecord(event=event, before=before, after=self.machine, actions=actions)
            )
            for action in actions:
                self._perform(action)
            if (
                self.cleanup_after is not None
                and before.state is not State.FINISHED
                and self.machine.state is State.FINISHED
            ):
                self.schedule(DeleteRequested(at=self.clock + self.cleanup_after))
        return self

    def _answer(self, event: Event) -> None:
        self.schedule(event)

    def _perform(self, action: Action) -> None:
        now, later = self.clock, self.clock + self.latency
        sched = self.scheduler
        if isinstance(action, Submit):
            try:
                job_id = sched.submit(self.uid, now)
            except TransientError as error:
                self._answer(SubmitFailed(at=later, message=str(error), permanent=False))
            except RefusedError as error:
                self._answer(SubmitFailed(at=later, message=str(error), permanent=True))
            except UnreachableError as error:
                self._answer(TransportFailed(at=later, operation="submit", message=str(error)))
            else:
                self._answer(SubmitSucceeded(at=later, job_id=job_id))
        elif isinstance(action, Poll):
            try:
                state = sched.status(action.job_id, now)
            except UnreachableError as error:
                self._answer(TransportFailed(at=later, operation="poll", message=str(error)))
            else:
                if state is None:
                    self._answer(JobNotFound(at=later, message="squeue: Invalid job id specified"))
                else:
                    containers = sched.containers(action.job_id, now)
                    self._answer(StatusObserved(at=later, state=state, containers=containers))
        elif isinstance(action, Cancel):
            try:
                sched.cancel(self.uid, now)
            except UnreachableError as error:
                self._answer(TransportFailed(at=later, operation="cancel", message=str(error)))
            else:
                self._answer(DeleteConfirmed(at=later))
        elif isinstance(action, WakeAt):
            self.schedule(TimerFired(at=action.at))
        elif isinstance(action, PublishStatus):
            self.published.append(action)
        elif isinstance(action, RecordJobId):
            self.recorded.append(action.job_id)
        elif isinstance(action, FetchFinalLogs):
            self.logs_fetched.append(action.job_id)
        else:
            self.forgotten = action

    def actions(self, kind: type[A]) -> list[A]:
        """Every action of one type, in the order the machine returned them."""
        return [
            action for record in self.steps for action in record.actions if isinstance(action, kind)
        ]

    def states(self) -> list[State]:
        """The machine's state after each step, repeats collapsed."""
        seen: list[State] = []
        for record in self.steps:
            if not seen or seen[-1] is not record.after.state:
                seen.append(record.after.state)
        return seen
