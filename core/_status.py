"""What a pod shows: scheduler observations → container states → phase, reason, conditions.

Theory of operation
-------------------
A pod's job is seen through two windows: the scheduler's word about the whole job
(a :class:`~._remote.RemoteState`) and the working directory's word about each container
(a :class:`~._remote.ContainerResult`, from ``<init|run>-<name>.status``). Neither is complete:
the scheduler knows nothing of containers, and a status file exists only once a container
has ended. :func:`pod_status` merges the two into a ``v1.PodStatus`` that ``kubectl`` and
controllers read as if a kubelet had written it.

The pod script runs init containers one after another, stopping at the first failure, then
every app container side by side. So the containers form *stages*: one per init container,
then one for all app containers. Walking the stages in order tells which container runs
now: the first stage not yet completed is current, the ones after it wait
(``PodInitializing``, the kubelet's word), and after a failed init container nothing else
will ever run.

What each job state means for the walk is data (:data:`JOB_KIND_RULES`): the job *waits*
(queued, starting), *runs*, has *ended*, or gave *no news* (``unknown``, or no job
observation at all). Evidence beats inference: a container with an exit status is
terminated with that code whatever the job says; a container the job ended without one is
terminated with the job's code and reason.

Published statuses only move forward. The phase never goes back (Pending → Running →
Succeeded/Failed), a terminal status is returned unchanged forever, and an observation
without news (no job state, no container) returns the previous status as it was. While the
scheduler still reports the job alive, the pod does not turn terminal even if every app
container has an exit status: the job's own verdict (``OOMKilled``, ``DeadlineExceeded``)
usually arrives a poll later, and a terminal status could no longer take it.

Times come in as arguments (``now``); values already published (a running container's
``startedAt``, a condition's ``lastTransitionTime``) are taken from ``previous`` so that
observing the same thing twice publishes the same status.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, Literal, NamedTuple

import attrs

from ._kstatus import (
    ConditionStatus,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    PodCondition,
    PodPhase,
    PodStatus,
)
from ._model import Container, Pod
from ._remote import ContainerResult, RemoteKind, RemoteState

__all__ = [
    "JOB_KIND_RULES",
    "TERMINAL_PHASES",
    "JobKindRule",
    "JobProgress",
    "Observation",
    "failed_create_status",
    "kubectl_status",
    "pod_status",
    "signal_of",
]

# --- vocabulary ------------------------------------------------------------------------------

# Reasons the kubelet itself uses (pkg/kubelet/kubelet_pods.go, pkg/kubelet/status/generate.go).
POD_INITIALIZING: Final = "PodInitializing"
CONTAINER_CREATING: Final = "ContainerCreating"
COMPLETED: Final = "Completed"
ERROR: Final = "Error"
CONTAINERS_NOT_INITIALIZED: Final = "ContainersNotInitialized"
CONTAINERS_NOT_READY: Final = "ContainersNotReady"
POD_COMPLETED: Final = "PodCompleted"
POD_FAILED: Final = "PodFailed"
# Ours: a job still in the scheduler's queue, a job cancelled without a reason of its own,
# and a pod whose job could not be created (PROTOCOL.md, upstream's word).
QUEUED: Final = "Queued"
CANCELLED: Final = "Cancelled"
PROVIDER_FAILED: Final = "ProviderFailed"

_NO_STATE: Final = ContainerState()

TERMINAL_PHASES: Final[frozenset[PodPhase]] = frozenset({"Succeeded", "Failed"})
_PHASE_RANK: Final[Mapping[PodPhase, int]] = {
    "Pending": 0,
    "Unknown": 0,
    "Running": 1,
    "Succeeded": 2,
    "Failed": 2,
}

# Linux signals are 1..64 (SIGRTMAX); bash reports death by signal N as exit status 128 + N.
_MAX_SIGNAL: Final = 64

JobProgress = Literal["waits", "runs", "ended", "no news"]


@attrs.frozen(kw_only=True)
class JobKindRule:
    """How one neutral job state shows on the pod.

    ``progress`` decides the stage walk. ``waiting_reason`` is the waiting reason of app
    containers that have not started (containers behind an unfinished init container always
    wait with ``PodInitializing``). ``ended_reason`` is the reason given to a container the
    job ended without an exit status, and the pod's reason, when the job brings none of its
    own (``""``: ``Completed`` or ``Error`` by exit code, no pod reason). ``fails_pod`` makes
    the pod Failed whatever the containers' exit codes. ``summary`` is the reference page's
    sentence.
    """

    kind: RemoteKind
    progress: JobProgress
    waiting_reason: str = ""
    ended_reason: str = ""
    fails_pod: bool = False
    summary: str


JOB_KIND_RULES: Final[Mapping[RemoteKind, JobKindRule]] = {
    rule.kind: rule
    for rule in (
        JobKindRule(
            kind="queued",
            progress="waits",
            waiting_reason=QUEUED,
            summary="Pending; containers wait; the scheduler's reason is the pod's message",
        ),
        JobKindRule(
            kind="starting",
            progress="waits",
            waiting_reason=CONTAINER_CREATING,
            summary="Pending; containers wait while the job is set up",
        ),
        JobKindRule(
            kind="running",
            progress="runs",
            summary="the current stage runs: an init container, or every app container",
        ),
        JobKindRule(
            kind="succeeded",
            progress="ended",
            summary="Succeeded when every app container exited 0, else Failed",
        ),
        JobKindRule(
            kind="failed",
            progress="ended",
            fails_pod=True,
            summary="Failed with the job's reason",
        ),
        JobKindRule(
            kind="cancelled",
            progress="ended",
            ended_reason=CANCELLED,
            fails_pod=True,
            summary="Failed with the job's reason, `Cancelled` when it gives none",
        ),
        JobKindRule(
            kind="unknown",
            progress="no news",
            summary="no news: the previous status stands; container exit statuses still count",
        ),
    )
}


@attrs.frozen(kw_only=True)
class Observation:
    """One look at a pod's job.

    ``job`` is the scheduler's state of the job (``None``: not observed, which is no news,
    like ``unknown``). ``containers`` holds what the working directory says about each
    container: a container listed with ``exit_code=None`` has not ended; a container not
    listed at all is no news about it, so an empty tuple says nothing about any container.
    Results naming no container of the pod are ignored; for a name listed twice the last
    one counts.
    """

    job: RemoteState | None = None
    containers: tuple[ContainerResult, ...] = ()


def signal_of(exit_code: int) -> int | None:
    """The signal an exit status stands for: ``code - 128`` for 129..192 (bash's rule)."""
    if 128 < exit_code <= 128 + _MAX_SIGNAL:
        return exit_code - 128
    return None


# --- the public functions ------------------------------------------------------------------


def pod_status(
    pod: Pod,
    observation: Observation,
    *,
    previous: PodStatus | None,
    now: datetime,
) -> PodStatus:
    """The status to publish for ``pod`` after ``observation``, made at time ``now``.

    ``previous`` is the status published last (``None`` before the first). Contract:

    - a terminal ``previous`` (Succeeded, Failed) is returned unchanged;
    - an observation with no news (no job state or ``unknown``, and no container) returns
      ``previous`` unchanged, or the initial Pending status when there is none;
    - the phase never moves back: Pending → Running → Succeeded or Failed;
    - a container with an exit status shows that exit code (and the signal of a code in
      129..192); a container the ended job left without one shows the job's code and signal;
    - the result is a complete ``v1.PodStatus``: one status per container of the spec, in
      spec order, exactly one state each, and the conditions PodScheduled, Initialized,
      ContainersReady and Ready.

    ``now`` should be timezone-aware, like the times in the observation.
    """
    if previous is not None and previous.phase in TERMINAL_PHASES:
        return previous
    job = observation.job
    if job is not None and JOB_KIND_RULES[job.kind].progress == "no news":
        job = None
    if job is None and not observation.containers and previous is not None:
        return previous
    shape = _shape(pod)
    results = observation.containers
    derive = _derive
    if _observation_in_utc(now, job, results) and (
        previous is None or _in_utc(_status_times(previous))
    ):
        derive = _memo_derive
    return derive(shape, job, results, previous, now)


def _derive(
    shape: _Shape,
    job: RemoteState | None,
    results: tuple[ContainerResult, ...],
    previous: PodStatus | None,
    now: datetime,
) -> PodStatus:
    """The status :func:`pod_status` publishes, once it has ruled out a terminal ``previous``
    and an observation without news; ``job`` is ``None`` when the job state is no news."""
    if job is not None and previous is None and not results and not shape.inits and shape.apps:
        # Most pods of a poll: a first status from the job's state alone (see _first_status).
        return _first_status(shape.apps, job, now)
    return _Walk(shape, job, _index_results(shape, results), previous, now).status()


def _first_status(apps: tuple[_Spec, ...], job: RemoteState, now: datetime) -> PodStatus:
    """What the walk derives for app containers only, no init containers, no container
    results and no previous status, from a job with news (it waits, runs or has ended).

    A fast path: a first poll derives one status per distinct running or ended job (each has
    its own times), and this is most of them. With one stage and no evidence about any
    container, every container shows the same state, which the job's state alone decides,
    so the walk's per-container rules shrink to one case per job progress.
    """
    rule = JOB_KIND_RULES[job.kind]
    progress = rule.progress
    note = _job_note(job)
    reason = ""
    state: ContainerState
    phase: PodPhase
    if progress == "waits":
        state = _waiting(rule.waiting_reason, note)
        phase, message = "Pending", note
    elif progress == "runs":
        state = ContainerState(running=ContainerStateRunning(started_at=job.started_at or now))
        phase, message = "Running", (note if job.reason or job.message else "")
    elif progress == "ended":
        code, signal = _job_exit(job)
        state = ContainerState(
            terminated=ContainerStateTerminated(
                exit_code=code,
                signal=signal,
                reason=job.reason or rule.ended_reason or (COMPLETED if code == 0 else ERROR),
                message=f"no exit status was recorded for this container; {note}",
                finished_at=job.finished_at or now,
            )
        )
        if rule.fails_pod or code != 0:
            phase, reason, message = "Failed", job.reason or rule.ended_reason, note
        else:
            phase, message = "Succeeded", ""
    else:
        raise AssertionError(f"no news is not a first status: {job.kind}")
    running = progress == "runs"
    statuses = tuple(
        [
            ContainerStatus(name=name, state=state, ready=running, image=image, started=running)
            for name, image in apps
        ]
    )
    # What _assemble would find in these statuses, known here without looking at them.
    readiness = _Readiness(
        phase=phase,
        incomplete=(),
        app_started=progress != "waits",
        unready=() if running else tuple([name for name, _ in apps]),
        no_apps=False,
        waiting_note=note if progress == "waits" else "",
    )
    conditions = _memo_conditions if now.tzinfo is UTC else _conditions  # see _in_utc
    return PodStatus(
        phase=phase,
        reason=reason,
        message=message,
        conditions=conditions(readiness, (), now),
        container_statuses=statuses,
        start_time=now,
    )


# The pods of one workload share a shape, a poll shares ``now``, and pods whose jobs wait
# share their job state (PENDING, the same reason: one RemoteState from parse_squeue's memo)
# and, after the first poll, their previous status (one PodStatus from this memo): a poll
# of many pods derives a status per distinct running or ended job, not one per pod. Only
# inputs whose times are all in UTC come here (_in_utc).
_memo_derive = functools.lru_cache(maxsize=4096)(_derive)


def _in_utc(times: Iterable[datetime | None]) -> bool:
    """Whether every time is unset or in UTC, as the backends make them.

    Memos keyed by times take only these: two equal datetimes in different zones are one
    key, yet the value the memo returns would show the other zone. In UTC, equal is identical.
    """
    return all(time is None or time.tzinfo is UTC for time in times)


def _observation_in_utc(
    now: datetime, job: RemoteState | None, results: Iterable[ContainerResult]
) -> bool:
    """Whether ``now`` and every time of an observation are unset or in UTC (see _in_utc).

    Spelled out rather than built as a list for _in_utc: it runs for every pod of a poll.
    """
    if now.tzinfo is not UTC:
        return False
    if job is not None:
        started, finished = job.started_at, job.finished_at
        if started is not None and started.tzinfo is not UTC:
            return False
        if finished is not None and finished.tzinfo is not UTC:
            return False
    return _in_utc(time for r in results for time in (r.started_at, r.finished_at))


def _status_times(status: PodStatus | None) -> list[datetime | None]:
    """Every time of a status (none without one)."""
    if status is None:
        return []
    times = [status.start_time]
    for condition in status.conditions:
        times += (condition.last_probe_time, condition.last_transition_time)
    for container in status.init_container_statuses + status.container_statuses:
        for state in (container.state, container.last_state):
            if state.running is not None:
                times.append(state.running.started_at)
            if state.terminated is not None:
                times += (state.terminated.started_at, state.terminated.finished_at)
    return times


def failed_create_status(
    pod: Pod,
    error: str,
    *,
    previous: PodStatus | None,
    now: datetime,
    reason: str = PROVIDER_FAILED,
) -> PodStatus:
    """The status of a pod whose job could not be created: Failed, reason ``ProviderFailed``.

    Every container, init containers included, is terminated with exit code 1, ``reason``
    and ``error`` as its message, and so is the pod (upstream's convention, PROTOCOL.md). A
    terminal ``previous`` is returned unchanged, as by :func:`pod_status`. (A job lost after
    it was created is not this: observe it as a ``failed`` :class:`~._remote.RemoteState`
    with its reason, so that containers that reported an exit status keep it.)
    """
    if previous is not None and previous.phase in TERMINAL_PHASES:
        return previous
    prev = _PreviousIndex(previous)
    state = ContainerState(
        terminated=ContainerStateTerminated(
            exit_code=1, reason=reason, message=error, finished_at=now
        )
    )
    shape = _shape(pod)
    inits = tuple(
        _container_status(_Slot(name, image, True, None, prev.init.get(name)), state)
        for name, image in shape.inits
    )
    apps = tuple(
        _container_status(_Slot(name, image, False, None, prev.app.get(name)), state)
        for name, image in shape.apps
    )
    return _assemble(
        phase="Failed",
        reason=reason,
        message=error,
        inits=inits,
        apps=apps,
        waiting_note="",
        previous=previous,
        now=now,
    )


def kubectl_status(pod: Pod, status: PodStatus) -> str:
    """What ``kubectl get pod`` prints in its STATUS column for ``status``.

    A model of kubectl's pod printer for the pods this module produces (not being deleted,
    no scheduling gates, no sidecar containers): the phase, replaced by the pod's reason,
    replaced by the first unfinished init container's progress (``Init:1/2``,
    ``Init:Error``), or else by the first app container's waiting or terminated reason.
    """
    shown = status.reason or status.phase
    initializing = False
    total = len(pod.spec.init_containers)
    for done, init in enumerate(status.init_container_statuses):
        terminated, waiting = init.state.terminated, init.state.waiting
        if terminated is not None and terminated.exit_code == 0:
            continue
        initializing = True
        if terminated is not None:
            shown = "Init:" + (terminated.reason or _no_reason(terminated))
        elif waiting is not None and waiting.reason not in ("", POD_INITIALIZING):
            shown = "Init:" + waiting.reason
        else:
            shown = f"Init:{done}/{total}"
        break
    initialized = any(c.type == "Initialized" and c.status == "True" for c in status.conditions)
    if initializing and not initialized:
        return shown
    any_running = False
    # kubectl walks the app containers from last to first: the first one's word wins.
    for app in reversed(status.container_statuses):
        terminated, waiting = app.state.terminated, app.state.waiting
        if waiting is not None and waiting.reason:
            shown = waiting.reason
        elif terminated is not None:
            shown = terminated.reason or _no_reason(terminated)
        elif app.ready and app.state.running is not None:
            any_running = True
    if shown == COMPLETED and any_running:
        ready = any(c.type == "Ready" and c.status == "True" for c in status.conditions)
        shown = "Running" if ready else "NotReady"
    return shown


def _no_reason(terminated: ContainerStateTerminated) -> str:
    if terminated.signal:
        return f"Signal:{terminated.signal}"
    return f"ExitCode:{terminated.exit_code}"


# --- the walk -------------------------------------------------------------------------------


_Spec = tuple[str, str]
"""A container of the pod's spec as far as its status shows it: its name and image."""
_spec_of: Callable[[Container], _Spec] = operator.attrgetter("name", "image")


class _Shape(NamedTuple):
    """All that a status depends on of the pod itself: its containers' names and images.

    The walk sees the pod only through its shape, so that pods of one workload (same
    containers, different names, arguments, environments) share memoised statuses.
    """

    inits: tuple[_Spec, ...]
    apps: tuple[_Spec, ...]


def _shape(pod: Pod) -> _Shape:
    spec = pod.spec
    inits, apps = spec.init_containers, spec.containers
    if not inits and len(apps) == 1:
        # The most common pod, made without the general path's two maps and tuples: this
        # runs for every pod of every poll.
        app = apps[0]
        return _Shape((), ((app.name, app.image),))
    return _Shape(tuple(map(_spec_of, inits)), tuple(map(_spec_of, apps)))


def _index_results(
    shape: _Shape, results: Iterable[ContainerResult]
) -> dict[tuple[bool, str], ContainerResult]:
    names = {(True, name) for name, _ in shape.inits}
    names |= {(False, name) for name, _ in shape.apps}
    return {(r.init, r.name): r for r in results if (r.init, r.name) in names}


class _PreviousIndex:
    """The previous status's containers by name."""

    def __init__(self, previous: PodStatus | None) -> None:
        self.init: dict[str, ContainerStatus] = {}
        self.app: dict[str, ContainerStatus] = {}
        if previous is not None:
            self.init = {s.name: s for s in previous.init_container_statuses}
            self.app = {s.name: s for s in previous.container_statuses}


class _Slot(NamedTuple):
    """One container of the spec with everything known about it."""

    name: str
    image: str
    init: bool
    result: ContainerResult | None
    previous: ContainerStatus | None

    @property
    def ended(self) -> bool:
        """Evidence that it ended: an exit status now, or a terminated state published."""
        if self.result is not None:
            return self.result.exit_code is not None
        return self.previous is not None and self.previous.state.terminated is not None

    @property
    def started(self) -> bool:
        """Evidence that it started (so every stage before it has completed)."""
        if self.ended:
            return True
        if self.result is not None and self.result.started_at is not None:
            return True
        return self.previous is not None and self.previous.state.running is not None


class _Walk:
    """One derivation of a status: the stage walk, then the pod-level fields."""

    def __init__(
        self,
        shape: _Shape,
        job: RemoteState | None,
        results: Mapping[tuple[bool, str], ContainerResult],
        previous: PodStatus | None,
        now: datetime,
    ) -> None:
        self.job = job
        self.rule = JOB_KIND_RULES[job.kind] if job is not None else JOB_KIND_RULES["unknown"]
        self.previous = previous
        self.now = now
        prev = _PreviousIndex(previous)
        self.inits = [
            _Slot(
                name=name,
                image=image,
                init=True,
                result=results.get((True, name)),
                previous=prev.init.get(name),
            )
            for name, image in shape.inits
        ]
        self.apps = [
            _Slot(
                name=name,
                image=image,
                init=False,
                result=results.get((False, name)),
                previous=prev.app.get(name),
            )
            for name, image in shape.apps
        ]
        self.note = _job_note(job) if job is not None else ""
        # The init container whose failure stops everything after it.
        self.failed_init: str | None = None

    # -- containers --

    def states(self) -> tuple[list[ContainerState], list[ContainerState]]:
        """The state of every init container and every app container, in spec order."""
        stages: list[list[_Slot]] = [[slot] for slot in self.inits]
        if self.apps:
            stages.append(self.apps)
        reached = -1  # the last stage with evidence that it started
        for k, stage in enumerate(stages):
            if any(slot.started for slot in stage):
                reached = k
        states: list[ContainerState] = []
        passed_current = False
        stage_start = self.job.started_at if self.job is not None else None
        for k, stage in enumerate(stages):
            is_current = not passed_current
            stage_states = [
                self._state(
                    slot, before_reached=k < reached, current=is_current, stage_start=stage_start
                )
                for slot in stage
            ]
            states += stage_states
            if is_current and not (stage[0].init and _all_completed(stage_states)):
                passed_current = True
            last = stage_states[-1].terminated
            stage_start = last.finished_at if last is not None else None
        n = len(self.inits)
        return states[:n], states[n:]

    def _state(
        self, slot: _Slot, *, before_reached: bool, current: bool, stage_start: datetime | None
    ) -> ContainerState:
        ended = self._ended(slot, stage_start)
        if ended is not None:
            state = ContainerState(terminated=ended)
        elif self.failed_init is not None:
            state = _waiting(
                POD_INITIALIZING, f"init container {self.failed_init} did not complete"
            )
        elif before_reached:
            # A later stage started, so the pod script got past this one: it completed.
            state = ContainerState(
                terminated=ContainerStateTerminated(exit_code=0, reason=COMPLETED)
            )
        elif self.rule.progress == "ended":
            state = ContainerState(terminated=self._ended_by_job(slot))
        elif self.rule.progress == "no news":
            state = self._no_news(slot)
        elif not current:
            state = _waiting(POD_INITIALIZING)
        elif self.rule.progress == "runs":
            started = self._start(slot, stage_start)
            state = ContainerState(running=ContainerStateRunning(started_at=started))
        elif slot.init:
            state = _waiting(POD_INITIALIZING, self.note)
        else:
            state = _waiting(self.rule.waiting_reason, self.note)
        terminated = state.terminated
        failed = terminated is not None and terminated.exit_code != 0
        if slot.init and failed and self.failed_init is None:
            self.failed_init = slot.name
        return state

    def _ended(self, slot: _Slot, stage_start: datetime | None) -> ContainerStateTerminated | None:
        """The terminated state evidence gives: an exit status, or a published termination."""
        result, prev = slot.result, slot.previous
        prev_terminated = prev.state.terminated if prev is not None else None
        if result is None:
            return prev_terminated
        if result.exit_code is None:
            return None
        code = result.exit_code
        signal = signal_of(code)
        reason, message = (COMPLETED if code == 0 else ERROR), ""
        job = self.job
        if job is not None and self.rule.fails_pod and signal is not None:
            # Killed by a signal while the job failed: the scheduler's action killed it, and
            # the scheduler's reason (OOMKilled, DeadlineExceeded, Preempted) says which.
            reason = job.reason or self.rule.ended_reason or ERROR
            message = self.note
        same = (
            prev_terminated
            if prev_terminated is not None and prev_terminated.exit_code == code
            else None
        )
        finished = result.finished_at or (same.finished_at if same is not None else None)
        if finished is None and job is not None and self.rule.progress == "ended":
            finished = job.finished_at
        return ContainerStateTerminated(
            exit_code=code,
            signal=signal,
            reason=reason,
            message=message,
            started_at=result.started_at or _published_start(prev) or stage_start,
            finished_at=finished or self.now,
        )

    def _ended_by_job(self, slot: _Slot) -> ContainerStateTerminated:
        """A container the ended job left without an exit status: the job's code and reason."""
        assert self.job is not None
        code, signal = _job_exit(self.job)
        reason = self.job.reason or self.rule.ended_reason or (COMPLETED if code == 0 else ERROR)
        return ContainerStateTerminated(
            exit_code=code,
            signal=signal,
            reason=reason,
            message=f"no exit status was recorded for this container; {self.note}",
            started_at=_published_start(slot.previous),
            finished_at=self.job.finished_at or self.now,
        )

    def _no_news(self, slot: _Slot) -> ContainerState:
        if slot.previous is not None:
            return slot.previous.state
        if slot.result is not None and slot.result.started_at is not None:
            return ContainerState(running=ContainerStateRunning(started_at=slot.result.started_at))
        return _waiting(POD_INITIALIZING if self.inits else CONTAINER_CREATING)

    def _start(self, slot: _Slot, stage_start: datetime | None) -> datetime:
        if slot.result is not None and slot.result.started_at is not None:
            return slot.result.started_at
        prev = slot.previous
        if prev is not None and prev.state.running is not None and prev.state.running.started_at:
            return prev.state.running.started_at
        return stage_start or self.now

    # -- the pod --

    def status(self) -> PodStatus:
        init_states, app_states = self.states()
        inits = tuple(
            [
                _container_status(slot, state)
                for slot, state in zip(self.inits, init_states, strict=True)
            ]
        )
        apps = tuple(
            [
                _container_status(slot, state)
                for slot, state in zip(self.apps, app_states, strict=True)
            ]
        )
        fresh = self._phase(app_states)
        phase = fresh
        previous = self.previous
        if previous is not None and _PHASE_RANK[previous.phase] > _PHASE_RANK[fresh]:
            phase = previous.phase
        reason, message = self._reason(phase, inits)
        waiting = self.rule.progress == "waits"
        return _assemble(
            phase=phase,
            reason=reason,
            message=message,
            inits=inits,
            apps=apps,
            waiting_note=self.note if waiting else "",
            previous=previous,
            now=self.now,
        )

    def _phase(self, apps: Sequence[ContainerState]) -> PodPhase:
        started = any(s.running is not None or s.terminated is not None for s in apps)
        ended = [s.terminated for s in apps if s.terminated is not None]
        all_ended = bool(apps) and len(ended) == len(apps)
        all_zero = all(t.exit_code == 0 for t in ended)
        progress = self.rule.progress
        if progress == "ended":
            failed = self.rule.fails_pod or self.failed_init is not None
            return "Succeeded" if all_ended and all_zero and not failed else "Failed"
        if progress == "no news":
            # The containers alone decide: we never restart a job, so a failed init
            # container fails the pod whatever its restartPolicy.
            if self.failed_init is not None:
                return "Failed"
            if all_ended:
                return "Succeeded" if all_zero else "Failed"
        # While the job lives, it decides when the pod ends (see the theory of operation).
        return "Running" if started else "Pending"

    def _reason(self, phase: PodPhase, inits: Sequence[ContainerStatus]) -> tuple[str, str]:
        job, previous = self.job, self.previous
        if phase in TERMINAL_PHASES:
            if job is not None and self.rule.progress == "ended" and phase == "Failed":
                return job.reason or self.rule.ended_reason, self.note
            if self.failed_init is not None:
                return "", f"init container {self.failed_init} failed"
            return "", ""
        reason = ""
        if phase == "Pending":
            reason = _init_progress(inits) or ""
        if job is None:
            # No news about the job: whatever it last said still holds.
            same = previous is not None and previous.phase == phase
            return reason, previous.message if same and previous is not None else ""
        if self.rule.progress == "waits" or job.reason or job.message:
            return reason, self.note
        return reason, ""


# --- building blocks ------------------------------------------------------------------------


def _waiting(reason: str, message: str = "") -> ContainerState:
    return ContainerState(waiting=ContainerStateWaiting(reason=reason, message=message))


def _all_completed(states: Iterable[ContainerState]) -> bool:
    return all(s.terminated is not None and s.terminated.exit_code == 0 for s in states)


def _published_start(previous: ContainerStatus | None) -> datetime | None:
    """When the previous status said the container started, if it said so."""
    if previous is None:
        return None
    state = previous.state
    if state.running is not None:
        return state.running.started_at
    if state.terminated is not None:
        return state.terminated.started_at
    return None


def _job_exit(job: RemoteState) -> tuple[int, int | None]:
    """The exit code and signal the job reports, as a container of it shows them.

    A signal with no exit code (or 0, as Slurm writes ``0:15``) shows as ``128 + signal``,
    bash's convention; a code in 129..192 without a signal gets the signal it stands for. A
    job that failed or was cancelled without a code, or with code 0 and no signal, has not
    told us one: its containers show 1, never 0, since none of them is known to have succeeded.
    """
    code, signal = job.exit_code, job.signal or None
    if signal is not None and not code:
        return 128 + signal, signal
    if code:
        return code, signal if signal is not None else signal_of(code)
    return (0, None) if job.kind == "succeeded" else (1, None)


def _job_note(job: RemoteState) -> str:
    """One line about the job for messages: ``job queued (PENDING): Priority``."""
    note = f"job {job.kind}"
    if job.raw:
        note += f" ({job.raw})"
    details = [text for text in (job.reason, job.message) if text]
    if job.kind in ("failed", "cancelled", "succeeded") and job.exit_code is not None:
        exit_text = f"exit code {job.exit_code}"
        if job.signal:
            exit_text += f", signal {job.signal}"
        details.append(exit_text)
    elif job.signal:
        details.append(f"signal {job.signal}")
    if details:
        note += ": " + "; ".join(details)
    return note


def _init_progress(inits: Sequence[ContainerStatus]) -> str | None:
    """``Init:<done>/<total>`` (or ``Init:<reason>`` of a failed one) until all completed."""
    for done, status in enumerate(inits):
        terminated = status.state.terminated
        if terminated is not None and terminated.exit_code == 0:
            continue
        if terminated is not None:
            return "Init:" + (terminated.reason or _no_reason(terminated))
        return f"Init:{done}/{len(inits)}"
    return None


def _container_status(slot: _Slot, state: ContainerState) -> ContainerStatus:
    running = state.running is not None
    terminated = state.terminated
    previous = slot.previous
    # An init container is ready once it completed (the kubelet's rule); an app container
    # while it runs, since nothing probes offloaded containers.
    ready = terminated is not None and terminated.exit_code == 0 if slot.init else running
    return ContainerStatus(
        name=slot.name,
        state=state,
        last_state=previous.last_state if previous is not None else _NO_STATE,
        ready=ready,
        restart_count=previous.restart_count if previous is not None else 0,
        image=slot.image,
        image_id=previous.image_id if previous is not None else "",
        container_id=previous.container_id if previous is not None else "",
        started=running,
    )


def _assemble(
    *,
    phase: PodPhase,
    reason: str,
    message: str,
    inits: tuple[ContainerStatus, ...],
    apps: tuple[ContainerStatus, ...],
    waiting_note: str,
    previous: PodStatus | None,
    now: datetime,
) -> PodStatus:
    readiness = _Readiness(
        phase=phase,
        incomplete=tuple([s.name for s in inits if not _all_completed([s.state])]),
        app_started=any(
            s.state.running is not None or s.state.terminated is not None for s in apps
        ),
        unready=tuple([s.name for s in apps if not s.ready]),
        no_apps=not apps,
        waiting_note=waiting_note,
    )
    before = previous.conditions if previous is not None else ()
    derive = _conditions
    if _in_utc([now, *[c.last_transition_time for c in before]]):
        derive = _memo_conditions  # see _in_utc
    return PodStatus(
        phase=phase,
        reason=reason,
        message=message,
        conditions=derive(readiness, before, now),
        init_container_statuses=inits,
        container_statuses=apps,
        start_time=previous.start_time if previous is not None and previous.start_time else now,
        host_ip=previous.host_ip if previous is not None else "",
        pod_ip=previous.pod_ip if previous is not None else "",
    )


class _Readiness(NamedTuple):
    """What the pod's conditions say, besides their times."""

    phase: PodPhase
    incomplete: tuple[str, ...]
    """The init containers that have not completed."""
    app_started: bool
    """Whether an app container has started."""
    unready: tuple[str, ...]
    """The app containers that are not ready."""
    no_apps: bool
    waiting_note: str
    """Why the job waits, when it does."""


def _conditions(
    readiness: _Readiness, before: tuple[PodCondition, ...], now: datetime
) -> tuple[PodCondition, ...]:
    """PodScheduled, Initialized, ContainersReady and Ready (the kubelet's rules, no probes),
    each with its ``lastTransitionTime``: ``now`` if it is new or changed its status since
    ``before`` (the previous conditions), else the time it had."""
    old = {c.type: c for c in before}

    def stamped(
        type_: str, status: ConditionStatus, reason: str = "", message: str = ""
    ) -> PodCondition:
        # lastTransitionTime moves only when the status does.
        last = old.get(type_)
        return PodCondition(
            type=type_,
            status=status,
            reason=reason,
            message=message,
            last_transition_time=(
                now if last is None or last.status != status else last.last_transition_time
            ),
        )

    phase, incomplete, app_started, unready, no_apps, waiting_note = readiness
    scheduled = stamped("PodScheduled", "True")
    if not incomplete or app_started or phase == "Succeeded":
        initialized = stamped("Initialized", "True")
    else:
        initialized = stamped(
            "Initialized",
            "False",
            CONTAINERS_NOT_INITIALIZED,
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        )
    status: ConditionStatus
    if phase in TERMINAL_PHASES:
        status = "False"
        reason = POD_COMPLETED if phase == "Succeeded" else POD_FAILED
        message = ""
    else:
        status = "False" if unready or no_apps else "True"
        reason = CONTAINERS_NOT_READY if status == "False" else ""
        message = ""
        if status == "False":
            # While the job waits, say why: the scheduler's reason is the useful one.
            message = waiting_note or f"containers with unready status: [{' '.join(unready)}]"
    containers_ready = stamped("ContainersReady", status, reason, message)
    ready = stamped("Ready", status, reason, message)
    return (scheduled, initialized, containers_ready, ready)


# The statuses of one poll share a handful of condition sets (a few phases, reasons and
# shapes), all stamped with the same ``now``.
_memo_conditions = functools.lru_cache(maxsize=1024)(_conditions)
