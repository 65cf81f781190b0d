"""The per-pod state machine: what to do next about one offloaded pod.

Theory of operation
-------------------

One :class:`PodMachine` follows one pod from the moment the driver (the virtual kubelet, the
API server, ``interlink run``) learns about it until the driver may forget it. The driver
feeds it *events* (something happened: the pod was added, a submission came back, the
scheduler was asked about the job, a timer fired) and performs the *actions* it returns
(submit, poll, cancel, publish the status, wake me at time T, fetch the final logs, forget).
The machine performs no I/O and reads no clock: every event carries the time ``at`` at which
it happened, and a wish to be woken later is an action, :class:`WakeAt`, answered by a
:class:`TimerFired` event. The machine is an immutable value; :func:`step` returns the next
value and the actions, so a driver holding thousands of pods keeps one small object per pod
and a heap of wake-up times.

The decisions are data. :func:`input_of` classifies an event into one :class:`Input` (a
status observation becomes ``observed queued``, ``observed running``, …; a transport failure
becomes the failure of the operation it interrupted). :data:`TRANSITIONS` maps
``(state, input)`` to a :class:`Transition`: a :class:`Move` (an :class:`Effect` and the next
state), optionally guarded by a :class:`Guard` with a second move taken when the guard does
not hold (retries left, job lost, timer due). The effects are small functions that compute
the new fields and the actions; they never choose the next state, the table does. The
reference page ``docs/reference/pod-lifecycle.md`` is generated from the same table.

A pair missing from the table is a move the machine does not allow: :func:`step` raises
:class:`MachineError` and, the machine being a value, the caller's machine is unchanged and
still valid (the move failed closed). Inputs that are merely late are not errors and are
listed in the table as ignored moves: a status answer arriving after a deletion started, a
timer that is not due (the driver may keep stale timers in its heap), a second delete
request. Inputs that cannot be late, because nothing the machine asked for could produce
them (a submission result when no submission was asked for, a confirmation of a deletion
never requested), are refused.

Phases only move forward: new → submitting → submitted → queued → starting → running →
finished → deleting → forgotten. An observation that would move back (a running job
requeued by the scheduler shows ``queued``) keeps the state and still publishes the new
observation, so the status mapping can show it without moving the pod phase back.

Retries are decided here, not in adapters. A transient submit failure (the backend's own
transient error, or a transport failure while submitting) is retried with exponential
backoff until :attr:`PollPolicy.submit_attempts` attempts were made; then the pod fails with
reason ``ProviderFailed`` and the last error text. Cancel (the backend's delete, which also
cleans up) is retried the same way up to :attr:`PollPolicy.cancel_attempts` times; then the
machine lets the pod go and says in :class:`Forget` that the job may be left behind. A
failed poll says nothing about the job: the pod stays as it was (a backend outage must not
fail pods) and the next poll backs off, bounded by :attr:`PollPolicy.retry_max_interval`.

A lost job fails the pod with reason ``JobLost``: when the backend says the job does not
exist (after :attr:`PollPolicy.not_found_grace` from the submission or adoption, which
covers a scheduler that registers a new job late), or when every observation has been
``unknown`` for :attr:`PollPolicy.lost_after`. The machine does not resubmit a lost job:
idempotent create (keyed by pod UID) makes a resubmission safe from duplicates, but not from
running the user's code twice, and a job that vanished may well have run. Kubernetes does the
same for pods of a lost node: it fails them, and a controller above (a Job, a Deployment)
decides whether to create a new pod.

Adoption after a restart: ``PodAdded(job_id=...)`` (the driver read the ``JobID``
annotation) starts the machine in ``submitted`` and polls at once, without submitting.

Polling adapts: after any change (state, observation, container results) the interval is
:attr:`PollPolicy.initial_interval`; each unchanged answer multiplies it by
:attr:`PollPolicy.backoff_factor`, up to :attr:`PollPolicy.early_max_interval` while the pod
is starting or the last change is recent (:attr:`PollPolicy.early_window`), and up to
:attr:`PollPolicy.max_interval` afterwards. Finished pods are not polled.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

import attrs

from ._errors import ConfigError, InterlinkError
from ._remote import ContainerResult, RemoteState

__all__ = [
    "DEFAULT_POLICY",
    "INPUTS",
    "JOB_LOST",
    "PROVIDER_FAILED",
    "STATES",
    "SUBMIT_RETRYING",
    "TRANSITIONS",
    "Action",
    "Cancel",
    "DeleteConfirmed",
    "DeleteRequested",
    "Effect",
    "Event",
    "Failure",
    "FetchFinalLogs",
    "Forget",
    "Guard",
    "Input",
    "JobNotFound",
    "MachineError",
    "Move",
    "Operation",
    "PodAdded",
    "PodMachine",
    "Poll",
    "PollPolicy",
    "PublishStatus",
    "RecordJobId",
    "State",
    "StatusObserved",
    "Submit",
    "SubmitFailed",
    "SubmitSucceeded",
    "TimerFired",
    "Transition",
    "TransportFailed",
    "WakeAt",
    "decide",
    "effect_actions",
    "effect_summary",
    "input_of",
    "input_summary",
    "state_summary",
    "step",
]

PROVIDER_FAILED: Final = "ProviderFailed"
"""Failure reason: the backend refused the submission, or every attempt failed."""
JOB_LOST: Final = "JobLost"
"""Failure reason: the scheduler no longer knows the job, or never says anything usable."""
SUBMIT_RETRYING: Final = "SubmitRetrying"
"""Reason while waiting to retry a submission that failed transiently (the pod still waits)."""


class MachineError(InterlinkError):
    """A move the table does not allow, or an event that cannot exist: the driver's mistake.

    Raised by :func:`step` (the machine passed in is unchanged and still valid) and by the
    event constructors. ``state`` and ``input`` name the refused pair when there is one.
    """

    def __init__(
        self, message: str, *, state: State | None = None, input: Input | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.input = input

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_error, (self.message, self.state, self.input))


def _rebuild_error(message: str, state: State | None, input: Input | None) -> MachineError:
    return MachineError(message, state=state, input=input)


# --------------------------------------------------------------------------------------------
# States, inputs, guards, effects


class State(enum.StrEnum):
    """Where a pod is in its life, in the order phases move (deletion comes last)."""

    NEW = "new"
    SUBMITTING = "submitting"
    RETRYING_SUBMIT = "retrying_submit"
    SUBMITTED = "submitted"
    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    CANCEL_PENDING = "cancel_pending"
    DELETING = "deleting"
    RETRYING_DELETE = "retrying_delete"
    FORGOTTEN = "forgotten"


STATES: Final[tuple[State, ...]] = tuple(State)

_STATE_DOC: Final[Mapping[State, str]] = MappingProxyType(
    {
        State.NEW: "known to the driver, nothing done yet",
        State.SUBMITTING: "a submission is in flight",
        State.RETRYING_SUBMIT: "the last submission failed transiently; waiting to retry",
        State.SUBMITTED: "the job exists (submitted or adopted), nothing observed yet",
        State.QUEUED: "the scheduler holds the job, waiting",
        State.STARTING: "resources allocated, user code not running yet",
        State.RUNNING: "user code runs (or ran and output is staged out)",
        State.FINISHED: "ended: succeeded, failed, cancelled, lost, or never submitted",
        State.CANCEL_PENDING: "deletion requested while a submission was in flight",
        State.DELETING: "a cancel (the backend's delete) is in flight",
        State.RETRYING_DELETE: "the last cancel failed; waiting to retry",
        State.FORGOTTEN: "the driver may drop the machine",
    }
)


class Input(enum.StrEnum):
    """What an event means to the table (:func:`input_of` classifies events)."""

    ADD = "pod added"
    ADOPT = "pod added with a job id"
    SUBMIT_OK = "submit succeeded"
    SUBMIT_TRANSIENT = "submit failed, transient"
    SUBMIT_PERMANENT = "submit failed, permanent"
    OBSERVED_QUEUED = "observed queued"
    OBSERVED_STARTING = "observed starting"
    OBSERVED_RUNNING = "observed running"
    OBSERVED_ENDED = "observed ended"
    OBSERVED_UNKNOWN = "observed unknown"
    NOT_FOUND = "job not found"
    POLL_FAILED = "poll failed"
    DELETE = "delete requested"
    DELETED = "delete confirmed"
    CANCEL_FAILED = "cancel failed"
    TIMER = "timer fired"


INPUTS: Final[tuple[Input, ...]] = tuple(Input)

_INPUT_DOC: Final[Mapping[Input, str]] = MappingProxyType(
    {
        Input.ADD: "`PodAdded()`",
        Input.ADOPT: "`PodAdded(job_id=...)`: adoption after a restart",
        Input.SUBMIT_OK: "`SubmitSucceeded(job_id=...)`",
        Input.SUBMIT_TRANSIENT: (
            "`SubmitFailed(permanent=False)`, or `TransportFailed(operation='submit')`"
        ),
        Input.SUBMIT_PERMANENT: "`SubmitFailed(permanent=True)`",
        Input.OBSERVED_QUEUED: "`StatusObserved` with a `queued` state",
        Input.OBSERVED_STARTING: "`StatusObserved` with a `starting` state",
        Input.OBSERVED_RUNNING: "`StatusObserved` with a `running` state",
        Input.OBSERVED_ENDED: "`StatusObserved` with a `succeeded`, `failed` or `cancelled` state",
        Input.OBSERVED_UNKNOWN: "`StatusObserved` with an `unknown` state",
        Input.NOT_FOUND: "`JobNotFound`: the backend says the job does not exist",
        Input.POLL_FAILED: "`TransportFailed(operation='poll')`",
        Input.DELETE: "`DeleteRequested`",
        Input.DELETED: "`DeleteConfirmed`",
        Input.CANCEL_FAILED: "`TransportFailed(operation='cancel')`",
        Input.TIMER: "`TimerFired`",
    }
)


class Guard(enum.StrEnum):
    """A condition choosing between the two moves of a guarded transition."""

    DUE = "the wake-up time has come"
    SUBMIT_ATTEMPTS_LEFT = "fewer than `submit_attempts` attempts made"
    CANCEL_ATTEMPTS_LEFT = "fewer than `cancel_attempts` attempts made"
    NOT_LOST = "unknown for less than `lost_after`"
    IN_GRACE = "within `not_found_grace` of the submission"


class Effect(enum.StrEnum):
    """What a move does besides changing the state (each is one function below)."""

    IGNORE = "ignore"
    SUBMIT = "submit"
    ADOPT = "adopt"
    ACCEPT = "accept"
    RETRY_SUBMIT = "retry submit"
    FAIL_SUBMIT = "fail submit"
    OBSERVE = "observe"
    FINISH = "finish"
    LOSE = "lose"
    POLL = "poll"
    POLL_BACKOFF = "poll backoff"
    DEFER_CANCEL = "defer cancel"
    CANCEL = "cancel"
    RETRY_CANCEL = "retry cancel"
    FORGET = "forget"
    ABANDON = "abandon"


@attrs.frozen(kw_only=True)
class Move:
    """One way out of a state: the effect to apply and the state to enter."""

    effect: Effect
    target: State


@attrs.frozen(kw_only=True)
class Transition:
    """The table entry of one ``(state, input)`` pair.

    Without a guard, ``move`` is taken. With one, ``move`` is taken when the guard holds and
    ``otherwise`` when it does not.
    """

    move: Move
    guard: Guard | None = None
    otherwise: Move | None = None

    def __attrs_post_init__(self) -> None:
        if (self.guard is None) != (self.otherwise is None):
            raise ValueError("a guarded transition needs both moves, an unguarded one only one")

    @property
    def moves(self) -> tuple[Move, ...]:
        """Every move this transition can take."""
        return (self.move,) if self.otherwise is None else (self.move, self.otherwise)


# --------------------------------------------------------------------------------------------
# Policy


def _duration(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise ConfigError(f"must be a positive duration, not {value!r}", path=name)
        if value > timedelta(days=7):
            raise ConfigError(f"must be at most 7 days, not {value}", path=name)

    return check


def _count(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            raise ConfigError(f"must be a whole number from 1 to 1000, not {value!r}", path=name)

    return check


def _factor(instance: Any, attribute: Any, value: Any) -> None:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not 1.0 <= float(value) <= 10.0
    ):
        raise ConfigError(f"must be a number from 1 to 10, not {value!r}", path="backoff_factor")


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


@attrs.frozen(kw_only=True)
class PollPolicy:
    """Every timing and retry parameter of the machine, with documented defaults.

    Raises :class:`ConfigError` (naming the field) for a value out of range: durations must
    be positive and at most 7 days, ``initial_interval <= early_max_interval <=
    max_interval``, ``retry_initial_interval <= retry_max_interval``.
    """

    initial_interval: timedelta = attrs.field(
        default=_seconds(1),
        validator=_duration("initial_interval"),
        metadata={"doc": "poll interval right after a change (submission, new observation)"},
    )
    backoff_factor: float = attrs.field(
        default=2.0,
        validator=_factor,
        metadata={"doc": "each unchanged answer, and each retry, multiplies the wait by this"},
    )
    early_max_interval: timedelta = attrs.field(
        default=_seconds(5),
        validator=_duration("early_max_interval"),
        metadata={"doc": "longest poll interval while starting or soon after a change"},
    )
    early_window: timedelta = attrs.field(
        default=_seconds(60),
        validator=_duration("early_window"),
        metadata={"doc": "how long after a change polling stays fast"},
    )
    max_interval: timedelta = attrs.field(
        default=_seconds(60),
        validator=_duration("max_interval"),
        metadata={"doc": "longest poll interval (queued or running for long)"},
    )
    answer_timeout: timedelta = attrs.field(
        default=_seconds(60),
        validator=_duration("answer_timeout"),
        metadata={"doc": "a poll left without any answer is asked again after this long"},
    )
    retry_initial_interval: timedelta = attrs.field(
        default=_seconds(2),
        validator=_duration("retry_initial_interval"),
        metadata={"doc": "wait before the first retry of a failed submit, poll or cancel"},
    )
    retry_max_interval: timedelta = attrs.field(
        default=_seconds(60),
        validator=_duration("retry_max_interval"),
        metadata={"doc": "longest wait between retries"},
    )
    submit_attempts: int = attrs.field(
        default=8,
        validator=_count("submit_attempts"),
        metadata={"doc": "submissions tried before a transient failure becomes permanent"},
    )
    cancel_attempts: int = attrs.field(
        default=5,
        validator=_count("cancel_attempts"),
        metadata={"doc": "cancels tried before the pod is let go (the job may be left behind)"},
    )
    lost_after: timedelta = attrs.field(
        default=_seconds(600),
        validator=_duration("lost_after"),
        metadata={"doc": "a job observed only as `unknown` for this long is lost"},
    )
    not_found_grace: timedelta = attrs.field(
        default=_seconds(60),
        validator=_duration("not_found_grace"),
        metadata={"doc": "after submission or adoption, `job not found` is no news for this long"},
    )

    def __attrs_post_init__(self) -> None:
        if self.initial_interval > self.early_max_interval:
            raise ConfigError("must not exceed early_max_interval", path="initial_interval")
        if self.early_max_interval > self.max_interval:
            raise ConfigError("must not exceed max_interval", path="early_max_interval")
        if self.retry_initial_interval > self.retry_max_interval:
            raise ConfigError("must not exceed retry_max_interval", path="retry_initial_interval")

    @property
    def longest_wait(self) -> timedelta:
        """The longest time between an event and the wake-up the machine asks for after it."""
        return max(self.max_interval, self.answer_timeout, self.retry_max_interval)

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` consecutive failures (1 → ``retry_initial_interval``)."""
        exponent = min(max(attempts - 1, 0), 64)
        seconds = self.retry_initial_interval.total_seconds() * self.backoff_factor**exponent
        if seconds >= self.retry_max_interval.total_seconds():
            return self.retry_max_interval
        return timedelta(seconds=seconds)


DEFAULT_POLICY: Final = PollPolicy()


# --------------------------------------------------------------------------------------------
# Events


def _aware(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise MachineError(f"{type(instance).__name__}.at must be a timezone-aware datetime")


def _job_id(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise MachineError(f"{type(instance).__name__}.job_id must be a non-empty string")


def _optional_job_id(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _job_id(instance, attribute, value)


def _text(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise MachineError(f"{type(instance).__name__}.{attribute.name} must be a string")


def _flag(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise MachineError(f"{type(instance).__name__}.{attribute.name} must be a bool")


def _remote_state(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, RemoteState):
        raise MachineError("StatusObserved.state must be a RemoteState")


def _container_results(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(c, ContainerResult) for c in value):
        raise MachineError("StatusObserved.containers must be a tuple of ContainerResult")


Operation: TypeAlias = Literal["submit", "poll", "cancel"]
_OPERATIONS: Final = frozenset({"submit", "poll", "cancel"})


def _operation(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _OPERATIONS:
        raise MachineError(f"TransportFailed.operation must be submit, poll or cancel: {value!r}")


@attrs.frozen(kw_only=True)
class PodAdded:
    """The driver learned about a pod; with ``job_id`` (the ``JobID`` annotation) it adopts
    the job it already has instead of submitting."""

    at: datetime = attrs.field(validator=_aware)
    job_id: str | None = attrs.field(default=None, validator=_optional_job_id)


@attrs.frozen(kw_only=True)
class SubmitSucceeded:
    """The backend created the job (or found the one it had created for this pod UID)."""

    at: datetime = attrs.field(validator=_aware)
    job_id: str = attrs.field(validator=_job_id)


@attrs.frozen(kw_only=True)
class SubmitFailed:
    """The backend answered a submission with an error: ``permanent`` (refused; retrying
    cannot help) or transient (busy, timed out; worth retrying). ``message`` is its text."""

    at: datetime = attrs.field(validator=_aware)
    message: str = attrs.field(validator=_text)
    permanent: bool = attrs.field(validator=_flag)


@attrs.frozen(kw_only=True)
class StatusObserved:
    """An answer to a poll: the job's state and, when known, per-container results.

    An empty ``containers`` means no news about containers (the last ones are kept).
    """

    at: datetime = attrs.field(validator=_aware)
    state: RemoteState = attrs.field(validator=_remote_state)
    containers: tuple[ContainerResult, ...] = attrs.field(default=(), validator=_container_results)


@attrs.frozen(kw_only=True)
class JobNotFound:
    """An answer to a poll: the backend looked and the job does not exist (any more)."""

    at: datetime = attrs.field(validator=_aware)
    message: str = attrs.field(default="", validator=_text)


@attrs.frozen(kw_only=True)
class DeleteRequested:
    """The pod is being deleted (or ``interlink run`` is done with it, or was interrupted)."""

    at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class DeleteConfirmed:
    """The backend's delete (asked for by :class:`Cancel`) completed."""

    at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class TransportFailed:
    """An operation did not complete (unreachable backend, timeout, backend error that says
    nothing about the job); ``operation`` names which one."""

    at: datetime = attrs.field(validator=_aware)
    operation: Operation = attrs.field(validator=_operation)
    message: str = attrs.field(default="", validator=_text)


@attrs.frozen(kw_only=True)
class TimerFired:
    """A time the machine asked for with :class:`WakeAt` has come. Stale timers (not due,
    or replaced by a later :class:`WakeAt`) are ignored, so a driver need not cancel them."""

    at: datetime = attrs.field(validator=_aware)


Event: TypeAlias = (
    PodAdded
    | SubmitSucceeded
    | SubmitFailed
    | StatusObserved
    | JobNotFound
    | DeleteRequested
    | DeleteConfirmed
    | TransportFailed
    | TimerFired
)


# --------------------------------------------------------------------------------------------
# Actions


@attrs.frozen(kw_only=True)
class Failure:
    """Why a pod failed or waits: a CamelCase ``reason`` (``ProviderFailed``, ``JobLost``,
    ``SubmitRetrying``) and a human ``message``."""

    reason: str
    message: str


@attrs.frozen(kw_only=True)
class Submit:
    """Create the job for this pod (idempotent: keyed by pod UID). ``attempt`` counts from 1."""

    attempt: int


@attrs.frozen(kw_only=True)
class Poll:
    """Ask the backend about the job; answer with StatusObserved, JobNotFound or
    TransportFailed(operation='poll'). Batch the polls of many pods into one call."""

    job_id: str


@attrs.frozen(kw_only=True)
class Cancel:
    """The backend's delete: cancel the job if it still runs, clean up, by pod UID (``job_id``
    is ``None`` when a submission may or may not have created one); answer with
    DeleteConfirmed or TransportFailed(operation='cancel')."""

    job_id: str | None
    attempt: int


@attrs.frozen(kw_only=True)
class RecordJobId:
    """Remember the job id where a restarted driver finds it (the pod's ``JobID`` annotation)."""

    job_id: str


@attrs.frozen(kw_only=True)
class PublishStatus:
    """Something the pod's status shows has changed; the status mapping turns this into the
    Kubernetes status. ``remote`` is the latest usable observation (``None`` before one; for
    a lost job a ``failed`` state with reason ``JobLost``), ``containers`` the latest
    per-container results, ``failure`` why the pod failed or waits (``ProviderFailed``: no
    job was made, show the failed-create status; ``SubmitRetrying``: still waiting)."""

    at: datetime
    state: State
    job_id: str | None
    remote: RemoteState | None
    containers: tuple[ContainerResult, ...]
    failure: Failure | None


@attrs.frozen(kw_only=True)
class WakeAt:
    """Send TimerFired at (or after) ``at``; replaces any earlier wish."""

    at: datetime


@attrs.frozen(kw_only=True)
class FetchFinalLogs:
    """The job has ended: its logs are complete and may be fetched (and cached) now."""

    job_id: str


@attrs.frozen(kw_only=True)
class Forget:
    """Drop the machine; the pod may go. ``abandoned`` says the job could not be cancelled
    and may still exist (``message`` says why): worth a warning."""

    abandoned: bool = False
    message: str = ""


Action: TypeAlias = (
    Submit | Poll | Cancel | RecordJobId | PublishStatus | WakeAt | FetchFinalLogs | Forget
)


# --------------------------------------------------------------------------------------------
# The machine


@attrs.frozen(kw_only=True)
class PodMachine:
    """The state of one pod, as an immutable value. Start with ``PodMachine()`` (or
    ``PodMachine(policy=...)``) and drive it with :func:`step`.

    Besides ``state``, the fields are what the machine has learned (``job_id``, the latest
    usable observation ``remote``, the latest ``containers``, the ``failure``) and its
    bookkeeping: ``wake_at`` (when it next wants a TimerFired; ``None`` when waiting for an
    answer or done), the current poll ``interval``, when the last change happened, attempt
    counters. Drivers read them; they are not meant to be set by hand.
    """

    state: State = State.NEW
    policy: PollPolicy = DEFAULT_POLICY
    job_id: str | None = None
    remote: RemoteState | None = None
    containers: tuple[ContainerResult, ...] = ()
    failure: Failure | None = None
    wake_at: datetime | None = None
    interval: timedelta = attrs.field(
        default=attrs.Factory(lambda self: self.policy.initial_interval, takes_self=True)
    )
    changed_at: datetime | None = None
    job_since: datetime | None = None
    unknown_since: datetime | None = None
    submit_attempts: int = 0
    cancel_attempts: int = 0
    poll_failures: int = 0
    last_error: str = ""

    @property
    def polling(self) -> bool:
        """Whether the job exists and has not ended (the driver includes it in its polls)."""
        return self.state in _POLLING

    @property
    def ended(self) -> bool:
        """Whether the pod has reached ``finished`` or a later state."""
        return self.state in _ENDED


_POLLING: Final = frozenset({State.SUBMITTED, State.QUEUED, State.STARTING, State.RUNNING})
_ENDED: Final = frozenset(
    {
        State.FINISHED,
        State.CANCEL_PENDING,
        State.DELETING,
        State.RETRYING_DELETE,
        State.FORGOTTEN,
    }
)


# --------------------------------------------------------------------------------------------
# The table


def _go(effect: Effect, target: State) -> Transition:
    return Transition(move=Move(effect=effect, target=target))


def _guarded(guard: Guard, move: Move, otherwise: Move) -> Transition:
    return Transition(move=move, guard=guard, otherwise=otherwise)


def _observing(state: State) -> dict[Input, Transition]:
    """The rows shared by the states that poll a job, for ``state``.

    Observations never move the state back: the next state is the later of ``state`` and
    the one observed, in the order submitted < queued < starting < running.
    """
    order = (State.SUBMITTED, State.QUEUED, State.STARTING, State.RUNNING)

    def later(observed: State) -> State:
        return max(state, observed, key=order.index)

    stay = Move(effect=Effect.OBSERVE, target=state)
    lost = Move(effect=Effect.LOSE, target=State.FINISHED)
    return {
        Input.OBSERVED_QUEUED: _go(Effect.OBSERVE, later(State.QUEUED)),
        Input.OBSERVED_STARTING: _go(Effect.OBSERVE, later(State.STARTING)),
        Input.OBSERVED_RUNNING: _go(Effect.OBSERVE, later(State.RUNNING)),
        Input.OBSERVED_ENDED: _go(Effect.FINISH, State.FINISHED),
        Input.OBSERVED_UNKNOWN: _guarded(Guard.NOT_LOST, stay, lost),
        Input.NOT_FOUND: _guarded(Guard.IN_GRACE, stay, lost),
        Input.POLL_FAILED: _go(Effect.POLL_BACKOFF, state),
        Input.TIMER: _guarded(
            Guard.DUE,
            Move(effect=Effect.POLL, target=state),
            Move(effect=Effect.IGNORE, target=state),
        ),
        Input.DELETE: _go(Effect.CANCEL, State.DELETING),
    }


def _ignoring(state: State, *inputs: Input) -> dict[Input, Transition]:
    return {each: _go(Effect.IGNORE, state) for each in inputs}


# Answers to polls that may still arrive after the machine stopped polling.
_LATE_ANSWERS: Final = (
    Input.OBSERVED_QUEUED,
    Input.OBSERVED_STARTING,
    Input.OBSERVED_RUNNING,
    Input.OBSERVED_ENDED,
    Input.OBSERVED_UNKNOWN,
    Input.NOT_FOUND,
    Input.POLL_FAILED,
)

_ROWS: Final[dict[State, dict[Input, Transition]]] = {
    State.NEW: {
        Input.ADD: _go(Effect.SUBMIT, State.SUBMITTING),
        Input.ADOPT: _go(Effect.ADOPT, State.SUBMITTED),
        Input.DELETE: _go(Effect.FORGET, State.FORGOTTEN),
        **_ignoring(State.NEW, Input.TIMER),
    },
    State.SUBMITTING: {
        Input.SUBMIT_OK: _go(Effect.ACCEPT, State.SUBMITTED),
        Input.SUBMIT_TRANSIENT: _guarded(
            Guard.SUBMIT_ATTEMPTS_LEFT,
            Move(effect=Effect.RETRY_SUBMIT, target=State.RETRYING_SUBMIT),
            Move(effect=Effect.FAIL_SUBMIT, target=State.FINISHED),
        ),
        Input.SUBMIT_PERMANENT: _go(Effect.FAIL_SUBMIT, State.FINISHED),
        Input.DELETE: _go(Effect.DEFER_CANCEL, State.CANCEL_PENDING),
        **_ignoring(State.SUBMITTING, Input.TIMER),
    },
    State.RETRYING_SUBMIT: {
        Input.TIMER: _guarded(
            Guard.DUE,
            Move(effect=Effect.SUBMIT, target=State.SUBMITTING),
            Move(effect=Effect.IGNORE, target=State.RETRYING_SUBMIT),
        ),
        # A failed attempt may still have created the job: the backend's delete finds it by UID.
        Input.DELETE: _go(Effect.CANCEL, State.DELETING),
    },
    State.SUBMITTED: _observing(State.SUBMITTED),
    State.QUEUED: _observing(State.QUEUED),
    State.STARTING: _observing(State.STARTING),
    State.RUNNING: _observing(State.RUNNING),
    State.FINISHED: {
        # The backend's delete also cleans the job's working directory up.
        Input.DELETE: _go(Effect.CANCEL, State.DELETING),
        **_ignoring(State.FINISHED, *_LATE_ANSWERS, Input.TIMER),
    },
    State.CANCEL_PENDING: {
        Input.SUBMIT_OK: _go(Effect.CANCEL, State.DELETING),
        Input.SUBMIT_TRANSIENT: _go(Effect.CANCEL, State.DELETING),
        Input.SUBMIT_PERMANENT: _go(Effect.CANCEL, State.DELETING),
        **_ignoring(State.CANCEL_PENDING, Input.DELETE, Input.TIMER),
    },
    State.DELETING: {
        Input.DELETED: _go(Effect.FORGET, State.FORGOTTEN),
        Input.CANCEL_FAILED: _guarded(
            Guard.CANCEL_ATTEMPTS_LEFT,
            Move(effect=Effect.RETRY_CANCEL, target=State.RETRYING_DELETE),
            Move(effect=Effect.ABANDON, target=State.FORGOTTEN),
        ),
        **_ignoring(State.DELETING, Input.DELETE, Input.TIMER, *_LATE_ANSWERS),
    },
    State.RETRYING_DELETE: {
        Input.TIMER: _guarded(
            Guard.DUE,
            Move(effect=Effect.CANCEL, target=State.DELETING),
            Move(effect=Effect.IGNORE, target=State.RETRYING_DELETE),
        ),
        **_ignoring(State.RETRYING_DELETE, Input.DELETE, *_LATE_ANSWERS),
    },
    State.FORGOTTEN: _ignoring(State.FORGOTTEN, Input.DELETE, Input.TIMER, *_LATE_ANSWERS),
}

TRANSITIONS: Final[Mapping[tuple[State, Input], Transition]] = MappingProxyType(
    {
        (state, each): _ROWS[state][each]
        for state in STATES
        for each in INPUTS
        if each in _ROWS[state]
    }
)
"""The whole machine: ``(state, input) → transition``. A missing pair is a refused move."""


# --------------------------------------------------------------------------------------------
# Classification and guards


def input_of(event: Event) -> Input:
    """The table input an event is; :class:`MachineError` for an object that is no event."""
    if isinstance(event, StatusObserved):
        return _KIND_INPUT[event.state.kind]
    if isinstance(event, TimerFired):
        return Input.TIMER
    if isinstance(event, TransportFailed):
        return _OPERATION_INPUT[event.operation]
    if isinstance(event, JobNotFound):
        return Input.NOT_FOUND
    if isinstance(event, PodAdded):
        return Input.ADD if event.job_id is None else Input.ADOPT
    if isinstance(event, SubmitSucceeded):
        return Input.SUBMIT_OK
    if isinstance(event, SubmitFailed):
        return Input.SUBMIT_PERMANENT if event.permanent else Input.SUBMIT_TRANSIENT
    if isinstance(event, DeleteRequested):
        return Input.DELETE
    if isinstance(event, DeleteConfirmed):
        return Input.DELETED
    raise MachineError(f"not a machine event: {type(event).__name__}")


_KIND_INPUT: Final[Mapping[str, Input]] = MappingProxyType(
    {
        "queued": Input.OBSERVED_QUEUED,
        "starting": Input.OBSERVED_STARTING,
        "running": Input.OBSERVED_RUNNING,
        "succeeded": Input.OBSERVED_ENDED,
        "failed": Input.OBSERVED_ENDED,
        "cancelled": Input.OBSERVED_ENDED,
        "unknown": Input.OBSERVED_UNKNOWN,
    }
)
_OPERATION_INPUT: Final[Mapping[str, Input]] = MappingProxyType(
    {
        "submit": Input.SUBMIT_TRANSIENT,
        "poll": Input.POLL_FAILED,
        "cancel": Input.CANCEL_FAILED,
    }
)


def _holds(guard: Guard, machine: PodMachine, at: datetime) -> bool:
    policy = machine.policy
    if guard is Guard.DUE:
        return machine.wake_at is not None and at >= machine.wake_at
    if guard is Guard.SUBMIT_ATTEMPTS_LEFT:
        return machine.submit_attempts < policy.submit_attempts
    if guard is Guard.CANCEL_ATTEMPTS_LEFT:
        return machine.cancel_attempts < policy.cancel_attempts
    if guard is Guard.NOT_LOST:
        since = machine.unknown_since or at
        return at - since < policy.lost_after
    # Guard.IN_GRACE
    return machine.job_since is None or at - machine.job_since < policy.not_found_grace


def decide(machine: PodMachine, event: Event) -> Move:
    """The move :func:`step` would take, without taking it; :class:`MachineError` if none."""
    kind = input_of(event)
    transition = TRANSITIONS.get((machine.state, kind))
    if transition is None:
        raise MachineError(
            f"{kind} is not allowed in state {machine.state}", state=machine.state, input=kind
        )
    if transition.guard is None or _holds(transition.guard, machine, event.at):
        return transition.move
    assert transition.otherwise is not None  # a guarded transition has both moves
    return transition.otherwise


def step(machine: PodMachine, event: Event) -> tuple[PodMachine, tuple[Action, ...]]:
    """Feed one event: the next machine and the actions to perform, in order.

    Raises :class:`MachineError` if the table does not allow the event in the machine's
    state; ``machine`` itself is unchanged (it is a value) and can take further events.
    """
    move = decide(machine, event)
    return _EFFECTS[move.effect](machine, event, move.target)


# --------------------------------------------------------------------------------------------
# Effects: the fields and actions of a move (the table chose the state)

_Result: TypeAlias = tuple[PodMachine, tuple[Action, ...]]


def _later(at: datetime, delay: timedelta) -> datetime:
    try:
        return at + delay
    except OverflowError:
        return datetime.max.replace(tzinfo=at.tzinfo)


def _job(machine: PodMachine) -> str:
    if machine.job_id is None:  # pragma: no cover - the table only polls states with a job
        raise AssertionError(f"no job id in state {machine.state}")
    return machine.job_id


def _publish(machine: PodMachine, at: datetime) -> PublishStatus:
    return PublishStatus(
        at=at,
        state=machine.state,
        job_id=machine.job_id,
        remote=machine.remote,
        containers=machine.containers,
        failure=machine.failure,
    )


def _error_text(event: Event) -> str:
    if isinstance(event, SubmitFailed | TransportFailed) and event.message:
        return event.message
    return f"{input_of(event)} without a message"


def _ignore(machine: PodMachine, event: Event, target: State) -> _Result:
    """Nothing: the input is late or stale."""
    return machine, ()


def _submit(machine: PodMachine, event: Event, target: State) -> _Result:
    """Ask for a submission (attempts counted from 1)."""
    attempt = machine.submit_attempts + 1
    new = attrs.evolve(machine, state=target, submit_attempts=attempt, wake_at=None)
    return new, (Submit(attempt=attempt),)


def _adopt(machine: PodMachine, event: Event, target: State) -> _Result:
    """Take the job id of the event and poll at once."""
    if not isinstance(event, PodAdded) or event.job_id is None:  # pragma: no cover
        raise AssertionError("adopt needs PodAdded with a job id")
    at = event.at
    wake = _later(at, machine.policy.answer_timeout)
    new = attrs.evolve(
        machine,
        state=target,
        job_id=event.job_id,
        job_since=at,
        changed_at=at,
        interval=machine.policy.initial_interval,
        wake_at=wake,
    )
    return new, (Poll(job_id=event.job_id), WakeAt(at=wake))


def _accept(machine: PodMachine, event: Event, target: State) -> _Result:
    """Take the job id, have it recorded, publish, and poll after the initial interval."""
    if not isinstance(event, SubmitSucceeded):  # pragma: no cover
        raise AssertionError("accept needs SubmitSucceeded")
    at = event.at
    interval = machine.policy.initial_interval
    wake = _later(at, interval)
    new = attrs.evolve(
        machine,
        state=target,
        job_id=event.job_id,
        job_since=at,
        changed_at=at,
        interval=interval,
        wake_at=wake,
        failure=None,
        last_error="",
    )
    return new, (RecordJobId(job_id=event.job_id), _publish(new, at), WakeAt(at=wake))


def _retry_submit(machine: PodMachine, event: Event, target: State) -> _Result:
    """Publish why the pod waits and wake up after the retry delay."""
    text = _error_text(event)
    attempts = machine.submit_attempts
    wake = _later(event.at, machine.policy.retry_delay(attempts))
    failure = Failure(
        reason=SUBMIT_RETRYING,
        message=f"{text} (attempt {attempts} of {machine.policy.submit_attempts}, will retry)",
    )
    new = attrs.evolve(machine, state=target, wake_at=wake, last_error=text, failure=failure)
    return new, (_publish(new, event.at), WakeAt(at=wake))


def _fail_submit(machine: PodMachine, event: Event, target: State) -> _Result:
    """Fail the pod with ``ProviderFailed`` and the backend's (last) error text."""
    text = _error_text(event)
    if isinstance(event, SubmitFailed) and event.permanent:
        message = text
    else:
        message = f"{text} (gave up after {machine.submit_attempts} attempts)"
    new = attrs.evolve(
        machine,
        state=target,
        wake_at=None,
        last_error=text,
        failure=Failure(reason=PROVIDER_FAILED, message=message),
    )
    return new, (_publish(new, event.at),)


def _next_interval(machine: PodMachine, at: datetime, target: State) -> timedelta:
    policy = machine.policy
    early = (
        target in (State.SUBMITTED, State.STARTING)
        or machine.changed_at is None
        or at - machine.changed_at < policy.early_window
    )
    cap = policy.early_max_interval if early else policy.max_interval
    return min(machine.interval * policy.backoff_factor, cap)


def _news(old: RemoteState | None, new: RemoteState | None) -> bool:
    """Whether ``new`` says something ``old`` did not. Times alone are no news: a scheduler
    may re-estimate a pending job's start on every poll."""
    if old is None or new is None:
        return old is not new
    return (old.kind, old.raw, old.reason, old.message, old.exit_code, old.signal) != (
        new.kind,
        new.raw,
        new.reason,
        new.message,
        new.exit_code,
        new.signal,
    )


def _observe(machine: PodMachine, event: Event, target: State) -> _Result:
    """Keep the observation; publish if anything changed; poll again (fast after a change)."""
    at = event.at
    remote, containers, unknown_since = machine.remote, machine.containers, machine.unknown_since
    if isinstance(event, StatusObserved):
        if event.state.kind == "unknown":
            unknown_since = unknown_since or at
        else:
            remote, unknown_since = event.state, None
        containers = event.containers or containers
    changed = (
        target != machine.state or _news(machine.remote, remote) or containers != machine.containers
    )
    changed_at: datetime | None = at
    if changed:
        interval = machine.policy.initial_interval
    else:
        interval, changed_at = _next_interval(machine, at, target), machine.changed_at
    wake = _later(at, interval)
    new = attrs.evolve(
        machine,
        state=target,
        remote=remote,
        containers=containers,
        unknown_since=unknown_since,
        interval=interval,
        changed_at=changed_at,
        wake_at=wake,
        poll_failures=0,
    )
    if changed:
        return new, (_publish(new, at), WakeAt(at=wake))
    return new, (WakeAt(at=wake),)


def _finish(machine: PodMachine, event: Event, target: State) -> _Result:
    """Keep the final observation, publish it, stop polling, fetch the final logs."""
    if not isinstance(event, StatusObserved):  # pragma: no cover
        raise AssertionError("finish needs StatusObserved")
    new = attrs.evolve(
        machine,
        state=target,
        remote=event.state,
        containers=event.containers or machine.containers,
        unknown_since=None,
        wake_at=None,
        poll_failures=0,
    )
    job = _job(machine)
    return new, (_publish(new, event.at), FetchFinalLogs(job_id=job))


def _lose(machine: PodMachine, event: Event, target: State) -> _Result:
    """Fail the pod with ``JobLost`` (as a failed observation), stop polling, fetch the logs."""
    job = _job(machine)
    containers = machine.containers
    if isinstance(event, JobNotFound):
        message = f"the scheduler no longer knows job {job}"
        if event.message:
            message = f"{message}: {event.message}"
    else:
        since = machine.unknown_since or event.at
        message = f"no usable answer about job {job} since {since.isoformat()}"
        if isinstance(event, StatusObserved):
            containers = event.containers or containers
    # The status mapping sees a lost job as a failed one with its reason, so containers that
    # reported an exit status keep it; the scheduler's last word stays in ``raw``.
    last = machine.remote
    remote = RemoteState(
        kind="failed",
        raw=last.raw if last is not None else "",
        reason=JOB_LOST,
        message=message,
        started_at=last.started_at if last is not None else None,
    )
    new = attrs.evolve(
        machine,
        state=target,
        remote=remote,
        containers=containers,
        wake_at=None,
        failure=Failure(reason=JOB_LOST, message=message),
    )
    return new, (_publish(new, event.at), FetchFinalLogs(job_id=job))


def _poll(machine: PodMachine, event: Event, target: State) -> _Result:
    """Poll; ask again after ``answer_timeout`` if no answer comes."""
    wake = _later(event.at, machine.policy.answer_timeout)
    new = attrs.evolve(machine, state=target, wake_at=wake)
    return new, (Poll(job_id=_job(machine)), WakeAt(at=wake))


def _poll_backoff(machine: PodMachine, event: Event, target: State) -> _Result:
    """Leave the pod as it is; poll again after the retry delay (never sooner than usual)."""
    failures = machine.poll_failures + 1
    delay = max(machine.policy.retry_delay(failures), machine.interval)
    wake = _later(event.at, delay)
    new = attrs.evolve(
        machine,
        state=target,
        poll_failures=failures,
        wake_at=wake,
        last_error=_error_text(event),
    )
    return new, (WakeAt(at=wake),)


def _defer_cancel(machine: PodMachine, event: Event, target: State) -> _Result:
    """Wait for the submission in flight: cancel once its outcome is known."""
    return attrs.evolve(machine, state=target, wake_at=None), ()


def _cancel(machine: PodMachine, event: Event, target: State) -> _Result:
    """Ask for the backend's delete (attempts counted from 1 per deletion)."""
    job = event.job_id if isinstance(event, SubmitSucceeded) else machine.job_id
    attempt = machine.cancel_attempts + 1 if machine.state is State.RETRYING_DELETE else 1
    new = attrs.evolve(machine, state=target, job_id=job, cancel_attempts=attempt, wake_at=None)
    return new, (Cancel(job_id=job, attempt=attempt),)


def _retry_cancel(machine: PodMachine, event: Event, target: State) -> _Result:
    """Wake up after the retry delay to cancel again."""
    wake = _later(event.at, machine.policy.retry_delay(machine.cancel_attempts))
    new = attrs.evolve(machine, state=target, wake_at=wake, last_error=_error_text(event))
    return new, (WakeAt(at=wake),)


def _forget(machine: PodMachine, event: Event, target: State) -> _Result:
    """Let the pod go."""
    return attrs.evolve(machine, state=target, wake_at=None), (Forget(),)


def _abandon(machine: PodMachine, event: Event, target: State) -> _Result:
    """Let the pod go, saying the job could not be cancelled."""
    text = _error_text(event)
    what = f"job {machine.job_id}" if machine.job_id else "the job of this pod"
    message = f"could not cancel {what} after {machine.cancel_attempts} attempts: {text}"
    new = attrs.evolve(machine, state=target, wake_at=None, last_error=text)
    return new, (Forget(abandoned=True, message=message),)


_EFFECTS: Final[Mapping[Effect, Callable[[PodMachine, Event, State], _Result]]] = MappingProxyType(
    {
        Effect.IGNORE: _ignore,
        Effect.SUBMIT: _submit,
        Effect.ADOPT: _adopt,
        Effect.ACCEPT: _accept,
        Effect.RETRY_SUBMIT: _retry_submit,
        Effect.FAIL_SUBMIT: _fail_submit,
        Effect.OBSERVE: _observe,
        Effect.FINISH: _finish,
        Effect.LOSE: _lose,
        Effect.POLL: _poll,
        Effect.POLL_BACKOFF: _poll_backoff,
        Effect.DEFER_CANCEL: _defer_cancel,
        Effect.CANCEL: _cancel,
        Effect.RETRY_CANCEL: _retry_cancel,
        Effect.FORGET: _forget,
        Effect.ABANDON: _abandon,
    }
)

_EFFECT_ACTIONS: Final[Mapping[Effect, tuple[type[Any], ...]]] = MappingProxyType(
    {
        Effect.IGNORE: (),
        Effect.SUBMIT: (Submit,),
        Effect.ADOPT: (Poll, WakeAt),
        Effect.ACCEPT: (RecordJobId, PublishStatus, WakeAt),
        Effect.RETRY_SUBMIT: (PublishStatus, WakeAt),
        Effect.FAIL_SUBMIT: (PublishStatus,),
        Effect.OBSERVE: (PublishStatus, WakeAt),
        Effect.FINISH: (PublishStatus, FetchFinalLogs),
        Effect.LOSE: (PublishStatus, FetchFinalLogs),
        Effect.POLL: (Poll, WakeAt),
        Effect.POLL_BACKOFF: (WakeAt,),
        Effect.DEFER_CANCEL: (),
        Effect.CANCEL: (Cancel,),
        Effect.RETRY_CANCEL: (WakeAt,),
        Effect.FORGET: (Forget,),
        Effect.ABANDON: (Forget,),
    }
)


def effect_actions(effect: Effect) -> tuple[type[Any], ...]:
    """The action types an effect may return, in the order it returns them."""
    return _EFFECT_ACTIONS[effect]


def effect_summary(effect: Effect) -> str:
    """One line saying what an effect does (the first line of its function's docstring)."""
    doc = _EFFECTS[effect].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def state_summary(state: State) -> str:
    """One line saying what a state means."""
    return _STATE_DOC[state]


def input_summary(kind: Input) -> str:
    """Which events an input stands for."""
    return _INPUT_DOC[kind]
