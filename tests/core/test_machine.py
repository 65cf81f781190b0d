"""The per-pod state machine: totality, monotonic phases, bounded retries and waits, whole
lifecycles against the fake scheduler, and the reference page generated from the table."""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyinterlink.core import _machine_docs as docs
from pyinterlink.core._errors import ConfigError, InterlinkError
from pyinterlink.core._machine import (
    DEFAULT_POLICY,
    INPUTS,
    JOB_LOST,
    PROVIDER_FAILED,
    STATES,
    SUBMIT_RETRYING,
    TRANSITIONS,
    Action,
    Cancel,
    DeleteConfirmed,
    DeleteRequested,
    Effect,
    Event,
    Failure,
    FetchFinalLogs,
    Forget,
    Input,
    JobNotFound,
    MachineError,
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
    decide,
    effect_actions,
    input_of,
    step,
)
from pyinterlink.core._remote import REMOTE_KINDS, ContainerResult, RemoteState

from .fake_scheduler import T0, FakeScheduler, Faults, JobScript, Pair

S = timedelta(seconds=1)
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reference" / "pod-lifecycle.md"

# The order phases move in, written down here independently of the code: deletion comes
# after everything, and a state and its retry twin share a rank.
RANK = {
    State.NEW: 0,
    State.SUBMITTING: 1,
    State.RETRYING_SUBMIT: 1,
    State.SUBMITTED: 2,
    State.QUEUED: 3,
    State.STARTING: 4,
    State.RUNNING: 5,
    State.FINISHED: 6,
    State.CANCEL_PENDING: 7,
    State.DELETING: 8,
    State.RETRYING_DELETE: 8,
    State.FORGOTTEN: 9,
}
POLLING = {State.SUBMITTED, State.QUEUED, State.STARTING, State.RUNNING}
WAITING_FOR_TIMER = POLLING | {State.RETRYING_SUBMIT, State.RETRYING_DELETE}
NEEDS_JOB = POLLING
DELETION = {State.CANCEL_PENDING, State.DELETING, State.RETRYING_DELETE, State.FORGOTTEN}


def queued(reason: str = "Priority") -> RemoteState:
    return RemoteState(kind="queued", raw="PENDING", reason=reason)


RUNNING = RemoteState(kind="running", raw="RUNNING")
STARTING = RemoteState(kind="starting", raw="CONFIGURING")
SUCCEEDED = RemoteState(kind="succeeded", raw="COMPLETED", exit_code=0)
UNKNOWN = RemoteState(kind="unknown", raw="?")


def drive(machine: PodMachine, *events: Event) -> tuple[PodMachine, list[tuple[Action, ...]]]:
    """Feed events in order; the last machine and every step's actions."""
    out = []
    for event in events:
        machine, actions = step(machine, event)
        out.append(actions)
    return machine, out


def running_machine(at: datetime = T0) -> PodMachine:
    machine, _ = drive(
        PodMachine(),
        PodAdded(at=at),
        SubmitSucceeded(at=at + S, job_id="77"),
        StatusObserved(at=at + 2 * S, state=RUNNING),
    )
    assert machine.state is State.RUNNING
    return machine


def of_type(actions: tuple[Action, ...], kind: type[Action]) -> list[Action]:
    return [action for action in actions if isinstance(action, kind)]


def wake(actions: tuple[Action, ...]) -> datetime:
    (found,) = of_type(actions, WakeAt)
    assert isinstance(found, WakeAt)
    return found.at


# ---------------------------------------------------------------------------------------------
# Strategies

# Instants within about 30 years of T0, at millisecond resolution (cheaper to draw than
# st.datetimes, and what matters is their order and distance).
times = st.integers(-(10**12), 10**12).map(lambda ms: T0 + timedelta(milliseconds=ms))
job_ids = st.from_regex(r"[0-9]{1,7}", fullmatch=True)
messages = st.text(max_size=20)


def _remote_states(kinds: tuple[str, ...]) -> st.SearchStrategy[RemoteState]:
    return st.builds(
        RemoteState,
        kind=st.sampled_from(kinds),
        raw=st.sampled_from(["PENDING", "RUNNING", "COMPLETED", "FAILED", "?"]),
        reason=st.none() | st.sampled_from(["Priority", "Resources", "OOMKilled", "NodeFail"]),
        exit_code=st.none() | st.integers(0, 255),
    )


remote_states = _remote_states(REMOTE_KINDS)
usable_remote_states = _remote_states(tuple(kind for kind in REMOTE_KINDS if kind != "unknown"))
container_results = st.lists(
    st.builds(
        ContainerResult,
        name=st.sampled_from(["main", "sidecar", "setup"]),
        init=st.booleans(),
        exit_code=st.none() | st.integers(0, 255),
    ),
    max_size=3,
).map(tuple)


def events_at(at: st.SearchStrategy[datetime]) -> st.SearchStrategy[Event]:
    return st.one_of(
        st.builds(PodAdded, at=at, job_id=st.none() | job_ids),
        st.builds(SubmitSucceeded, at=at, job_id=job_ids),
        st.builds(SubmitFailed, at=at, message=messages, permanent=st.booleans()),
        st.builds(StatusObserved, at=at, state=remote_states, containers=container_results),
        st.builds(JobNotFound, at=at, message=messages),
        st.builds(DeleteRequested, at=at),
        st.builds(DeleteConfirmed, at=at),
        st.builds(
            TransportFailed,
            at=at,
            operation=st.sampled_from(["submit", "poll", "cancel"]),
            message=messages,
        ),
        st.builds(TimerFired, at=at),
    )


events = events_at(times)
policies = st.builds(
    PollPolicy,
    initial_interval=st.integers(1, 3).map(lambda n: n * S),
    early_max_interval=st.integers(3, 10).map(lambda n: n * S),
    max_interval=st.integers(10, 120).map(lambda n: n * S),
    backoff_factor=st.sampled_from([1.0, 1.5, 2.0, 3.0]),
    submit_attempts=st.integers(1, 6),
    cancel_attempts=st.integers(1, 6),
    lost_after=st.integers(1, 900).map(lambda n: n * S),
    not_found_grace=st.integers(1, 120).map(lambda n: n * S),
)


@st.composite
def forced_machines(draw: st.DrawFn) -> PodMachine:
    """A machine forced into any state, with bookkeeping that state can have (h2-style)."""
    policy = draw(st.just(DEFAULT_POLICY) | policies)
    state = draw(st.sampled_from(STATES))
    job_id = draw(job_ids) if state in NEEDS_JOB else draw(st.none() | job_ids)
    submit_floor = 1 if state in {State.SUBMITTING, State.RETRYING_SUBMIT} else 0
    cancel_floor = 1 if state in {State.DELETING, State.RETRYING_DELETE} else 0
    return PodMachine(
        state=state,
        policy=policy,
        job_id=job_id,
        remote=draw(st.none() | usable_remote_states),
        containers=draw(container_results),
        wake_at=draw(times) if state in WAITING_FOR_TIMER else None,
        interval=draw(
            st.timedeltas(min_value=policy.initial_interval, max_value=policy.max_interval)
        ),
        changed_at=draw(st.none() | times),
        job_since=draw(st.none() | times),
        unknown_since=draw(st.none() | times),
        submit_attempts=draw(st.integers(submit_floor, policy.submit_attempts)),
        cancel_attempts=draw(st.integers(cancel_floor, policy.cancel_attempts)),
        poll_failures=draw(st.integers(0, 10**6)),
    )


def check_step(machine: PodMachine, event: Event) -> PodMachine:
    """Step once and check everything that holds of any single step; the next machine (or
    the same one when the move was refused)."""
    try:
        new, actions = step(machine, event)
    except MachineError as error:
        assert (machine.state, input_of(event)) not in TRANSITIONS
        assert error.state is machine.state
        assert error.input is input_of(event)
        return machine
    move = decide(machine, event)
    assert new.state is move.target
    assert new.state in STATES
    assert RANK[new.state] >= RANK[machine.state]
    # The actions are those the effect declares, in the declared order.
    declared = effect_actions(move.effect)
    positions = [declared.index(type(action)) for action in actions]
    assert positions == sorted(set(positions))
    if move.effect is Effect.IGNORE:
        assert new == machine
    for action in actions:
        if isinstance(action, WakeAt):
            assert event.at < action.at or action.at == datetime.max.replace(tzinfo=UTC)
            assert action.at - event.at <= new.policy.longest_wait
            assert new.wake_at == action.at
        if isinstance(action, Poll):
            assert new.state in POLLING
        if isinstance(action, PublishStatus):
            assert action.state is new.state
            assert action.at == event.at
    if machine.ended:
        # After the end, only deletion moves anywhere, and nothing is submitted or polled.
        assert new.state is machine.state or input_of(event) in {
            Input.DELETE,
            Input.DELETED,
            Input.CANCEL_FAILED,
            Input.TIMER,
            Input.SUBMIT_OK,
            Input.SUBMIT_TRANSIENT,
            Input.SUBMIT_PERMANENT,
        }
        assert not [a for a in actions if isinstance(a, Submit | Poll | PublishStatus)]
    return new


def check_invariants(machine: PodMachine) -> None:
    policy = machine.policy
    if machine.state in NEEDS_JOB:
        assert machine.job_id
    assert (machine.wake_at is not None) == (machine.state in WAITING_FOR_TIMER)
    assert 0 <= machine.submit_attempts <= policy.submit_attempts
    assert 0 <= machine.cancel_attempts <= policy.cancel_attempts
    assert policy.initial_interval <= machine.interval <= policy.max_interval
    if machine.state is State.RETRYING_SUBMIT:
        assert machine.failure is not None
        assert machine.failure.reason == SUBMIT_RETRYING
    if machine.failure is not None:
        if machine.failure.reason == SUBMIT_RETRYING:
            # What the pod showed last while waiting; kept until an outcome replaces it.
            assert machine.state in {State.RETRYING_SUBMIT, State.SUBMITTING, *DELETION}
        else:
            assert machine.failure.reason in {PROVIDER_FAILED, JOB_LOST}
            assert machine.ended


# ---------------------------------------------------------------------------------------------
# Totality


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forced_machines(), events)
def test_every_state_takes_every_event_or_refuses_it(machine: PodMachine, event: Event) -> None:
    check_step(machine, event)


def _sample_event(kind: Input, at: datetime) -> Event:
    samples: dict[Input, Event] = {
        Input.ADD: PodAdded(at=at),
        Input.ADOPT: PodAdded(at=at, job_id="9"),
        Input.SUBMIT_OK: SubmitSucceeded(at=at, job_id="9"),
        Input.SUBMIT_TRANSIENT: SubmitFailed(at=at, message="busy", permanent=False),
        Input.SUBMIT_PERMANENT: SubmitFailed(at=at, message="no", permanent=True),
        Input.OBSERVED_QUEUED: StatusObserved(at=at, state=queued()),
        Input.OBSERVED_STARTING: StatusObserved(at=at, state=STARTING),
        Input.OBSERVED_RUNNING: StatusObserved(at=at, state=RUNNING),
        Input.OBSERVED_ENDED: StatusObserved(at=at, state=SUCCEEDED),
        Input.OBSERVED_UNKNOWN: StatusObserved(at=at, state=UNKNOWN),
        Input.NOT_FOUND: JobNotFound(at=at),
        Input.POLL_FAILED: TransportFailed(at=at, operation="poll"),
        Input.DELETE: DeleteRequested(at=at),
        Input.DELETED: DeleteConfirmed(at=at),
        Input.CANCEL_FAILED: TransportFailed(at=at, operation="cancel"),
        Input.TIMER: TimerFired(at=at),
    }
    event = samples[kind]
    assert input_of(event) is kind
    return event


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", INPUTS)
def test_the_whole_grid(state: State, kind: Input) -> None:
    """Every (state, input) pair, forced, before, at and long after the wake-up time."""
    waiting = Failure(reason=SUBMIT_RETRYING, message="busy")
    machine = PodMachine(
        state=state,
        failure=waiting if state is State.RETRYING_SUBMIT else None,
        job_id="5" if state in NEEDS_JOB or state is State.FINISHED else None,
        wake_at=T0 if state in WAITING_FOR_TIMER else None,
        job_since=T0,
        changed_at=T0,
        submit_attempts=1 if state in {State.SUBMITTING, State.RETRYING_SUBMIT} else 0,
        cancel_attempts=1 if state in {State.DELETING, State.RETRYING_DELETE} else 0,
    )
    for offset in (-S, timedelta(0), timedelta(hours=1)):
        event = _sample_event(kind, T0 + offset)
        if (state, kind) in TRANSITIONS:
            check_invariants(check_step(machine, event))
        else:
            with pytest.raises(MachineError) as caught:
                step(machine, event)
            assert caught.value.state is state
            assert caught.value.input is kind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.just(DEFAULT_POLICY) | policies,
    walk=st.lists(
        st.tuples(st.integers(0, 400_000), events_at(st.just(T0))),
        max_size=60,
    ),
)
def test_random_walks_keep_the_invariants(
    policy: PollPolicy, walk: list[tuple[int, Event]]
) -> None:
    """From a new machine, any sequence of events (refused ones skipped) keeps the machine
    consistent: a job when polling, a wake-up exactly when waiting for one, bounded counters."""
    machine = PodMachine(policy=policy)
    at = T0
    for milliseconds, event in walk:
        at += timedelta(milliseconds=milliseconds)
        machine = check_step(machine, attrs.evolve(event, at=at))
        check_invariants(machine)


# ---------------------------------------------------------------------------------------------
# The table itself


def test_every_state_answers_timers_and_deletion() -> None:
    """A stale timer and a deletion are accepted everywhere: no pod can be stuck by either."""
    for state in STATES:
        assert (state, Input.TIMER) in TRANSITIONS
        assert (state, Input.DELETE) in TRANSITIONS


def test_every_state_is_reachable_and_every_state_can_reach_forgotten() -> None:
    edges = {(state, move.target) for (state, _), t in TRANSITIONS.items() for move in t.moves}

    def closure(start: State, forward: bool) -> set[State]:
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for a, b in edges:
                there = b if forward else a
                if (a if forward else b) is here and there not in seen:
                    seen.add(there)
                    todo.append(there)
        return seen

    assert closure(State.NEW, forward=True) == set(STATES)
    assert closure(State.FORGOTTEN, forward=False) == set(STATES)


def test_the_table_never_moves_a_phase_back() -> None:
    for (state, _), transition in TRANSITIONS.items():
        for move in transition.moves:
            assert RANK[move.target] >= RANK[state], (state, move)


def test_after_the_end_only_deletion_moves() -> None:
    for (state, kind), transition in TRANSITIONS.items():
        if state not in {State.FINISHED, *DELETION}:
            continue
        for move in transition.moves:
            if move.target is not state:
                assert move.effect in {
                    Effect.CANCEL,
                    Effect.FORGET,
                    Effect.ABANDON,
                    Effect.RETRY_CANCEL,
                }
            if kind in {Input.SUBMIT_OK, Input.SUBMIT_TRANSIENT, Input.SUBMIT_PERMANENT}:
                assert state is State.CANCEL_PENDING


def test_refused_pairs_are_exactly_those_nothing_could_have_asked_for() -> None:
    """Answers to submissions only where a submission is in flight; delete confirmations and
    cancel failures only where a cancel is; pod added only at the start."""

    def accepting(kind: Input) -> set[State]:
        return {state for state in STATES if (state, kind) in TRANSITIONS}

    submit_in_flight = {State.SUBMITTING, State.CANCEL_PENDING}
    assert accepting(Input.SUBMIT_OK) == submit_in_flight
    assert accepting(Input.SUBMIT_PERMANENT) == submit_in_flight
    assert accepting(Input.SUBMIT_TRANSIENT) == submit_in_flight
    assert accepting(Input.DELETED) == {State.DELETING}
    assert accepting(Input.CANCEL_FAILED) == {State.DELETING}
    assert accepting(Input.ADD) == accepting(Input.ADOPT) == {State.NEW}
    late = POLLING | {State.FINISHED, State.DELETING, State.RETRYING_DELETE, State.FORGOTTEN}
    for answer in (Input.OBSERVED_RUNNING, Input.NOT_FOUND, Input.POLL_FAILED):
        assert accepting(answer) == late


# ---------------------------------------------------------------------------------------------
# Refusals fail closed


def test_a_refused_move_raises_and_leaves_the_machine_usable() -> None:
    machine = running_machine()
    with pytest.raises(MachineError, match="submit succeeded is not allowed in state running"):
        step(machine, SubmitSucceeded(at=T0 + 9 * S, job_id="78"))
    # The value is unchanged and keeps working.
    assert machine.state is State.RUNNING
    assert machine.job_id == "77"
    after, actions = step(machine, StatusObserved(at=T0 + 10 * S, state=SUCCEEDED))
    assert after.state is State.FINISHED
    assert FetchFinalLogs(job_id="77") in actions


@pytest.mark.parametrize(
    ("machine", "event"),
    [
        (PodMachine(), SubmitSucceeded(at=T0, job_id="1")),
        (PodMachine(), StatusObserved(at=T0, state=RUNNING)),
        (PodMachine(), DeleteConfirmed(at=T0)),
        (PodMachine(state=State.SUBMITTING, submit_attempts=1), PodAdded(at=T0)),
        (
            PodMachine(state=State.SUBMITTING, submit_attempts=1),
            TransportFailed(at=T0, operation="poll"),
        ),
        (PodMachine(state=State.FORGOTTEN), DeleteConfirmed(at=T0)),
        (
            PodMachine(state=State.FINISHED, job_id="1"),
            SubmitFailed(at=T0, message="x", permanent=True),
        ),
    ],
)
def test_moves_nothing_asked_for_are_refused(machine: PodMachine, event: Event) -> None:
    with pytest.raises(MachineError):
        step(machine, event)


def test_machine_errors_are_interlink_errors_and_pickle() -> None:
    with pytest.raises(MachineError) as caught:
        step(running_machine(), PodAdded(at=T0))
    error = caught.value
    assert isinstance(error, InterlinkError)
    again = pickle.loads(pickle.dumps(error))
    assert (again.message, again.state, again.input) == (error.message, State.RUNNING, Input.ADD)


@pytest.mark.parametrize(
    "build",
    [
        lambda: PodAdded(at=datetime(2025, 1, 1)),  # naive: no time zone
        lambda: PodAdded(at=T0, job_id=""),
        lambda: SubmitSucceeded(at=T0, job_id=""),
        lambda: SubmitFailed(at=T0, message="x", permanent="yes"),  # type: ignore[arg-type]
        lambda: StatusObserved(at=T0, state="running"),  # type: ignore[arg-type]
        lambda: StatusObserved(at=T0, state=RUNNING, containers=[]),  # type: ignore[arg-type]
        lambda: TransportFailed(at=T0, operation="logs"),  # type: ignore[arg-type]
        lambda: TimerFired(at="2025-01-01T00:00:00Z"),  # type: ignore[arg-type]
    ],
)
def test_an_invalid_event_cannot_exist(build: Callable[[], Event]) -> None:
    with pytest.raises(MachineError):
        build()


def test_something_that_is_no_event_is_refused() -> None:
    with pytest.raises(MachineError, match="not a machine event"):
        step(PodMachine(), "pod added")  # type: ignore[arg-type]


def test_times_in_any_time_zone_compare_as_instants() -> None:
    machine = running_machine()
    assert machine.wake_at is not None
    plus_two = timezone(timedelta(hours=2))
    # One second before the wake-up, written in another zone: not due.
    early = (machine.wake_at - S).astimezone(plus_two)
    assert step(machine, TimerFired(at=early)) == (machine, ())
    due = machine.wake_at.astimezone(plus_two)
    assert of_type(step(machine, TimerFired(at=due))[1], Poll)


# ---------------------------------------------------------------------------------------------
# Policy


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"initial_interval": timedelta(0)}, "initial_interval"),
        ({"max_interval": -S}, "max_interval"),
        ({"lost_after": 30}, "lost_after"),
        ({"lost_after": timedelta(days=8)}, "lost_after"),
        ({"backoff_factor": 0.5}, "backoff_factor"),
        ({"backoff_factor": True}, "backoff_factor"),
        ({"submit_attempts": 0}, "submit_attempts"),
        ({"cancel_attempts": 2.0}, "cancel_attempts"),
        ({"initial_interval": 10 * S}, "initial_interval"),
        ({"early_max_interval": 120 * S}, "early_max_interval"),
        ({"retry_initial_interval": 90 * S}, "retry_initial_interval"),
    ],
)
def test_policy_values_out_of_range_name_the_field(changes: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PollPolicy(**changes)  # type: ignore[arg-type]
    assert caught.value.path == path


def test_default_policy() -> None:
    policy = PollPolicy()
    assert policy == DEFAULT_POLICY
    assert (policy.initial_interval, policy.early_max_interval, policy.max_interval) == (
        S,
        5 * S,
        60 * S,
    )
    assert [policy.retry_delay(n) for n in range(1, 8)] == [
        2 * S,
        4 * S,
        8 * S,
        16 * S,
        32 * S,
        60 * S,
        60 * S,
    ]
    assert policy.retry_delay(10**9) == 60 * S
    assert policy.longest_wait == 60 * S


# ---------------------------------------------------------------------------------------------
# Single moves, by example


def test_a_new_pod_is_submitted() -> None:
    machine, actions = step(PodMachine(), PodAdded(at=T0))
    assert machine.state is State.SUBMITTING
    assert actions == (Submit(attempt=1),)


def test_a_submitted_job_is_recorded_published_and_polled_after_a_second() -> None:
    machine, (_, actions) = drive(
        PodMachine(), PodAdded(at=T0), SubmitSucceeded(at=T0 + S, job_id="4242")
    )
    assert machine.state is State.SUBMITTED
    assert actions == (
        RecordJobId(job_id="4242"),
        PublishStatus(
            at=T0 + S,
            state=State.SUBMITTED,
            job_id="4242",
            remote=None,
            containers=(),
            failure=None,
        ),
        WakeAt(at=T0 + 2 * S),
    )


def test_adoption_polls_at_once_without_submitting() -> None:
    machine, actions = step(PodMachine(), PodAdded(at=T0, job_id="31"))
    assert machine.state is State.SUBMITTED
    assert machine.job_id == "31"
    assert actions == (Poll(job_id="31"), WakeAt(at=T0 + DEFAULT_POLICY.answer_timeout))
    # Adopting a job that ended while the driver was away finishes the pod.
    machine, actions = step(machine, StatusObserved(at=T0 + S, state=SUCCEEDED))
    assert machine.state is State.FINISHED
    assert of_type(actions, FetchFinalLogs) == [FetchFinalLogs(job_id="31")]


def test_phases_skip_forward_but_never_back() -> None:
    machine = running_machine()
    # A requeued job shows queued again: the state stays, the observation is published.
    machine, actions = step(machine, StatusObserved(at=T0 + 5 * S, state=queued("Requeued")))
    assert machine.state is State.RUNNING
    (published,) = of_type(actions, PublishStatus)
    assert isinstance(published, PublishStatus)
    assert published.state is State.RUNNING
    assert published.remote == queued("Requeued")
    machine, _ = step(machine, StatusObserved(at=T0 + 6 * S, state=STARTING))
    assert machine.state is State.RUNNING


def test_a_publish_only_when_something_changed() -> None:
    machine = running_machine()
    machine, actions = step(machine, StatusObserved(at=T0 + 5 * S, state=RUNNING))
    assert not of_type(actions, PublishStatus)
    # New container results are news.
    result = (ContainerResult(name="setup", init=True, exit_code=0),)
    machine, actions = step(
        machine, StatusObserved(at=T0 + 6 * S, state=RUNNING, containers=result)
    )
    assert of_type(actions, PublishStatus)
    assert machine.containers == result
    # An empty container list is no news: the last results are kept.
    machine, actions = step(machine, StatusObserved(at=T0 + 7 * S, state=RUNNING))
    assert not of_type(actions, PublishStatus)
    assert machine.containers == result
    # A time alone is no news (schedulers re-estimate a pending job's start on every poll).
    later = attrs.evolve(RUNNING, started_at=T0 + 8 * S)
    machine, actions = step(machine, StatusObserved(at=T0 + 8 * S, state=later))
    assert not of_type(actions, PublishStatus)
    assert machine.remote == later
    # A new pending reason while queued is news.
    queued_machine, _ = drive(
        PodMachine(),
        PodAdded(at=T0),
        SubmitSucceeded(at=T0, job_id="1"),
        StatusObserved(at=T0 + S, state=queued("Priority")),
    )
    _, actions = step(queued_machine, StatusObserved(at=T0 + 2 * S, state=queued("Resources")))
    assert of_type(actions, PublishStatus)


def test_stale_and_early_timers_are_ignored() -> None:
    machine = running_machine()
    assert machine.wake_at is not None
    assert step(machine, TimerFired(at=machine.wake_at - timedelta(microseconds=1))) == (
        machine,
        (),
    )
    polled, actions = step(machine, TimerFired(at=machine.wake_at))
    assert actions == (
        Poll(job_id="77"),
        WakeAt(at=machine.wake_at + DEFAULT_POLICY.answer_timeout),
    )
    # The timer that fires again for the same wake-up after the poll was sent is stale.
    assert step(polled, TimerFired(at=machine.wake_at)) == (polled, ())


def test_deletion_while_submitting_waits_for_the_outcome_then_cancels() -> None:
    machine, _ = drive(PodMachine(), PodAdded(at=T0), DeleteRequested(at=T0 + S))
    assert machine.state is State.CANCEL_PENDING
    done, actions = step(machine, SubmitSucceeded(at=T0 + 2 * S, job_id="12"))
    assert done.state is State.DELETING
    assert actions == (Cancel(job_id="12", attempt=1),)
    # A failed submission may still have made a job: the backend's delete finds it by UID.
    for outcome in (
        SubmitFailed(at=T0 + 2 * S, message="x", permanent=True),
        TransportFailed(at=T0 + 2 * S, operation="submit", message="timeout"),
    ):
        done, actions = step(machine, outcome)
        assert done.state is State.DELETING
        assert actions == (Cancel(job_id=None, attempt=1),)


def test_deletion_before_anything_was_submitted_just_forgets() -> None:
    machine, actions = step(PodMachine(), DeleteRequested(at=T0))
    assert machine.state is State.FORGOTTEN
    assert actions == (Forget(),)


def test_deletion_of_a_finished_pod_still_cleans_up() -> None:
    machine, _ = drive(running_machine(), StatusObserved(at=T0 + 9 * S, state=SUCCEEDED))
    machine, actions = step(machine, DeleteRequested(at=T0 + 10 * S))
    assert actions == (Cancel(job_id="77", attempt=1),)
    machine, actions = step(machine, DeleteConfirmed(at=T0 + 11 * S))
    assert machine.state is State.FORGOTTEN
    assert actions == (Forget(),)


def test_late_answers_and_repeated_deletes_are_ignored() -> None:
    machine, _ = drive(running_machine(), DeleteRequested(at=T0 + 5 * S))
    for late in (
        StatusObserved(at=T0 + 6 * S, state=SUCCEEDED),
        JobNotFound(at=T0 + 6 * S),
        TransportFailed(at=T0 + 6 * S, operation="poll"),
        DeleteRequested(at=T0 + 6 * S),
        TimerFired(at=T0 + 6 * S),
    ):
        assert step(machine, late) == (machine, ())


# ---------------------------------------------------------------------------------------------
# Retries


def test_transient_submit_failures_back_off_then_fail_with_the_last_text() -> None:
    policy = PollPolicy(submit_attempts=4)
    machine, actions = step(PodMachine(policy=policy), PodAdded(at=T0))
    at, delays, submits = T0, [], 1
    while True:
        at += S
        machine, actions = step(
            machine, SubmitFailed(at=at, message=f"busy {submits}", permanent=False)
        )
        if machine.state is State.FINISHED:
            break
        (published,) = of_type(actions, PublishStatus)
        assert isinstance(published, PublishStatus)
        assert published.failure is not None
        assert published.failure.reason == SUBMIT_RETRYING
        assert f"attempt {submits} of 4" in published.failure.message
        delays.append(wake(actions) - at)
        # The wake-up brings the next attempt.
        at = wake(actions)
        machine, actions = step(machine, TimerFired(at=at))
        submits += 1
        assert actions == (Submit(attempt=submits),)
    assert delays == [2 * S, 4 * S, 8 * S]
    assert submits == 4
    assert machine.failure is not None
    assert machine.failure.reason == PROVIDER_FAILED
    assert machine.failure.message == "busy 4 (gave up after 4 attempts)"
    (published,) = of_type(actions, PublishStatus)
    assert isinstance(published, PublishStatus)
    assert published.failure == machine.failure
    assert published.state is State.FINISHED


def test_a_permanent_refusal_fails_at_once_with_the_backend_text() -> None:
    text = "sbatch: error: invalid partition specified: nope"
    machine, _ = drive(
        PodMachine(), PodAdded(at=T0), SubmitFailed(at=T0 + S, message=text, permanent=True)
    )
    assert machine.state is State.FINISHED
    assert machine.failure is not None
    assert (machine.failure.reason, machine.failure.message) == (PROVIDER_FAILED, text)


def test_a_success_after_retries_clears_the_failure() -> None:
    machine, _ = drive(
        PodMachine(),
        PodAdded(at=T0),
        TransportFailed(at=T0 + S, operation="submit", message="connection reset"),
        TimerFired(at=T0 + 3 * S),
        SubmitSucceeded(at=T0 + 4 * S, job_id="5"),
    )
    assert machine.state is State.SUBMITTED
    assert machine.failure is None
    assert machine.submit_attempts == 2


def test_cancel_failures_retry_then_let_the_pod_go_saying_so() -> None:
    policy = PollPolicy(cancel_attempts=3)
    machine = attrs.evolve(running_machine(), policy=policy)
    machine, actions = step(machine, DeleteRequested(at=T0 + 10 * S))
    attempts = [actions]
    at = T0 + 10 * S
    for _ in range(10):
        at += S
        machine, actions = step(machine, TransportFailed(at=at, operation="cancel", message="down"))
        if machine.state is State.FORGOTTEN:
            break
        at = wake(actions)
        machine, actions = step(machine, TimerFired(at=at))
        attempts.append(actions)
    assert [a for (a,) in attempts] == [Cancel(job_id="77", attempt=n) for n in (1, 2, 3)]
    assert actions == (
        Forget(abandoned=True, message="could not cancel job 77 after 3 attempts: down"),
    )


def test_poll_failures_back_off_and_leave_the_pod_as_it_was() -> None:
    machine = running_machine()
    at = T0 + 3 * S
    delays = []
    for _ in range(8):
        machine, actions = step(machine, TransportFailed(at=at, operation="poll", message="x"))
        assert not of_type(actions, PublishStatus)
        assert machine.state is State.RUNNING
        delays.append(wake(actions) - at)
        at = wake(actions) + S
    assert delays == [2 * S, 4 * S, 8 * S, 16 * S, 32 * S, 60 * S, 60 * S, 60 * S]
    # The first answer after the outage resets the count.
    machine, _ = step(machine, StatusObserved(at=at, state=RUNNING))
    assert machine.poll_failures == 0


# ---------------------------------------------------------------------------------------------
# Adaptive polling


def poll_gaps(machine: PodMachine, state: RemoteState, count: int, at: datetime) -> list[float]:
    """Answer ``count`` polls with the same state; the seconds between consecutive answers."""
    gaps = []
    for _ in range(count):
        machine, actions = step(machine, StatusObserved(at=at, state=state))
        following = wake(actions)
        gaps.append((following - at).total_seconds())
        at = following
    return gaps


def test_polling_is_fast_after_a_change_and_backs_off_to_the_bound() -> None:
    machine, _ = drive(PodMachine(), PodAdded(at=T0), SubmitSucceeded(at=T0, job_id="1"))
    gaps = poll_gaps(machine, queued(), 24, T0 + S)
    # 1 s after the change, doubling to 5 s for the first minute, then doubling to 60 s.
    assert gaps[:4] == [1, 2, 4, 5]
    assert set(gaps[4:14]) == {5}
    assert gaps[14:18] == [10, 20, 40, 60]
    assert set(gaps[18:]) == {60}


def test_polling_stays_fast_while_starting() -> None:
    machine, _ = drive(PodMachine(), PodAdded(at=T0), SubmitSucceeded(at=T0, job_id="1"))
    gaps = poll_gaps(machine, STARTING, 40, T0 + S)
    assert max(gaps) == 5


def test_a_change_resets_the_interval() -> None:
    machine, _ = drive(PodMachine(), PodAdded(at=T0), SubmitSucceeded(at=T0, job_id="1"))
    at = T0
    for _ in range(30):
        at += 60 * S
        machine, _ = step(machine, StatusObserved(at=at, state=queued()))
    assert machine.interval == 60 * S
    machine, actions = step(machine, StatusObserved(at=at + S, state=RUNNING))
    assert wake(actions) == at + 2 * S


@settings(max_examples=100, deadline=None)
@given(
    policy=policies,
    kinds=st.lists(st.sampled_from(["queued", "running", "unknown"]), max_size=40),
    gaps=st.lists(st.integers(0, 200), min_size=40, max_size=40),
)
def test_poll_waits_stay_within_the_policy(
    policy: PollPolicy, kinds: list[str], gaps: list[int]
) -> None:
    machine, _ = drive(
        PodMachine(policy=policy), PodAdded(at=T0), SubmitSucceeded(at=T0, job_id="1")
    )
    at = T0
    for kind, gap in zip(kinds, gaps, strict=False):
        at += gap * S
        before = machine
        state = RemoteState(kind=kind)  # type: ignore[arg-type]
        machine, actions = step(machine, StatusObserved(at=at, state=state))
        if machine.state is State.FINISHED:
            break
        delay = wake(actions) - at
        assert policy.initial_interval <= delay <= policy.max_interval
        if of_type(actions, PublishStatus):
            # A change: fast again.
            assert delay == policy.initial_interval
        else:
            # No change: never faster than before, and never beyond the cap of the moment.
            assert delay >= before.interval
            assert before.changed_at is not None
            late = at - before.changed_at >= policy.early_window
            assert delay <= policy.early_max_interval or late


# ---------------------------------------------------------------------------------------------
# Lost jobs


def test_not_found_right_after_submission_is_no_news() -> None:
    machine, _ = drive(PodMachine(), PodAdded(at=T0), SubmitSucceeded(at=T0, job_id="1"))
    machine, actions = step(machine, JobNotFound(at=T0 + 30 * S))
    assert machine.state is State.SUBMITTED
    assert not of_type(actions, PublishStatus)
    machine, actions = step(machine, JobNotFound(at=T0 + 60 * S))
    assert machine.state is State.FINISHED
    assert machine.failure is not None
    assert machine.failure.reason == JOB_LOST
    assert machine.failure.message.startswith("the scheduler no longer knows job 1")
    assert of_type(actions, FetchFinalLogs) == [FetchFinalLogs(job_id="1")]


def test_unknown_for_longer_than_the_bound_is_a_lost_job() -> None:
    machine = running_machine()
    at = T0 + 10 * S
    machine, _ = step(machine, StatusObserved(at=at, state=UNKNOWN))
    machine, _ = step(machine, StatusObserved(at=at + 599 * S, state=UNKNOWN))
    assert machine.state is State.RUNNING
    # A usable answer ends the streak...
    machine, _ = step(machine, StatusObserved(at=at + 600 * S, state=RUNNING))
    assert machine.unknown_since is None
    # ...and a new streak must last the whole bound again.
    start = at + 601 * S
    machine, _ = step(machine, StatusObserved(at=start, state=UNKNOWN))
    machine, _ = step(machine, StatusObserved(at=start + 599 * S, state=UNKNOWN))
    assert machine.state is State.RUNNING
    machine, _ = step(machine, StatusObserved(at=start + 600 * S, state=UNKNOWN))
    assert machine.state is State.FINISHED
    assert machine.failure is not None
    assert machine.failure.reason == JOB_LOST
    assert machine.remote is not None
    assert (machine.remote.kind, machine.remote.reason, machine.remote.raw) == (
        "failed",
        JOB_LOST,
        "RUNNING",
    )


# ---------------------------------------------------------------------------------------------
# Whole lifecycles against the fake scheduler


def final_status(pair: Pair) -> PublishStatus:
    assert pair.published
    return pair.published[-1]


def test_pair_queue_start_run_succeed_clean_up() -> None:
    scheduler = FakeScheduler(
        script=JobScript(queued_for=30 * S, starting_for=20 * S, running_for=600 * S)
    )
    pair = Pair(scheduler=scheduler, cleanup_after=10 * S).run()
    assert pair.states() == [
        State.SUBMITTING,
        State.SUBMITTED,
        State.QUEUED,
        State.STARTING,
        State.RUNNING,
        State.FINISHED,
        State.DELETING,
        State.FORGOTTEN,
    ]
    assert pair.recorded == ["1001"]
    (queued_status,) = [p for p in pair.published if p.state is State.QUEUED]
    assert queued_status.remote is not None
    assert queued_status.remote.reason == "Priority"
    last = final_status(pair)
    assert last.remote is not None
    assert (last.state, last.remote.kind, last.remote.exit_code) == (State.FINISHED, "succeeded", 0)
    assert [c.exit_code for c in last.containers] == [0]
    assert pair.logs_fetched == ["1001"]
    assert pair.forgotten == Forget()
    assert scheduler.calls["submit"] == 1
    # Adaptive: 650 s of job life in a few dozen polls, not hundreds.
    assert scheduler.calls["status"] < 40


def test_pair_failed_job_keeps_exit_code_and_reason() -> None:
    scheduler = FakeScheduler(script=JobScript(outcome="failed", exit_code=137, reason="OOMKilled"))
    pair = Pair(scheduler=scheduler).run()
    assert pair.machine.state is State.FINISHED
    last = final_status(pair)
    assert last.remote is not None
    assert (last.remote.kind, last.remote.exit_code, last.remote.reason) == (
        "failed",
        137,
        "OOMKilled",
    )
    assert [c.exit_code for c in last.containers] == [137]


def test_pair_delete_while_running_cancels_and_polls_no_more() -> None:
    scheduler = FakeScheduler()
    pair = Pair(scheduler=scheduler, delete_at=T0 + 90 * S).run()
    assert pair.machine.state is State.FORGOTTEN
    (job,) = scheduler.jobs.values()
    assert job.cancelled_at is not None
    assert pair.actions(Cancel) == [Cancel(job_id="1001", attempt=1)]
    deleting_from = next(i for i, r in enumerate(pair.steps) if r.after.state is State.DELETING)
    assert not [a for r in pair.steps[deleting_from:] for a in r.actions if isinstance(a, Poll)]


def test_pair_delete_while_the_submission_is_in_flight_leaves_no_job_behind() -> None:
    scheduler = FakeScheduler()
    pair = Pair(scheduler=scheduler, delete_at=T0 + timedelta(milliseconds=100)).run()
    assert State.CANCEL_PENDING in pair.states()
    assert pair.machine.state is State.FORGOTTEN
    (job,) = scheduler.jobs.values()
    assert job.cancelled_at is not None


def test_pair_transient_errors_and_a_lost_answer_make_exactly_one_job() -> None:
    scheduler = FakeScheduler(faults=Faults(submit_transient=2, submit_answer_lost=2))
    pair = Pair(scheduler=scheduler).run()
    assert scheduler.calls["submit"] == 5
    assert len(scheduler.jobs) == 1
    assert pair.recorded == ["1001"]
    assert final_status(pair).remote is not None


def test_pair_submission_refused() -> None:
    scheduler = FakeScheduler(faults=Faults(submit_refused="sbatch: error: Invalid account"))
    pair = Pair(scheduler=scheduler, cleanup_after=S).run()
    assert scheduler.calls["submit"] == 1
    assert not scheduler.jobs
    finished = next(p for p in pair.published if p.state is State.FINISHED)
    assert finished.failure is not None
    assert finished.failure.reason == PROVIDER_FAILED
    assert finished.failure.message == "sbatch: error: Invalid account"
    assert pair.machine.state is State.FORGOTTEN
    assert pair.actions(Cancel) == [Cancel(job_id=None, attempt=1)]


def test_pair_lost_job() -> None:
    scheduler = FakeScheduler(script=JobScript(vanish_after=200 * S))
    pair = Pair(scheduler=scheduler).run()
    last = final_status(pair)
    assert last.failure is not None
    assert last.failure.reason == JOB_LOST
    # Lost is failed, with the reason, and the scheduler's last word kept in ``raw``.
    assert last.remote is not None
    assert (last.remote.kind, last.remote.reason, last.remote.raw) == (
        "failed",
        JOB_LOST,
        "RUNNING",
    )
    assert last.remote.message == last.failure.message
    assert pair.logs_fetched == ["1001"]


def test_pair_late_registration_is_not_a_lost_job() -> None:
    scheduler = FakeScheduler(faults=Faults(register_delay=20 * S))
    pair = Pair(scheduler=scheduler).run()
    assert final_status(pair).failure is None
    assert final_status(pair).remote == RemoteState(
        kind="succeeded", raw="COMPLETED", exit_code=0, finished_at=T0 + JobScript().duration
    )


def test_pair_backend_outage_changes_nothing_then_recovers() -> None:
    outage = (T0 + 60 * S, T0 + 260 * S)
    scheduler = FakeScheduler(faults=Faults(poll_outage=outage))
    pair = Pair(scheduler=scheduler).run()
    during = [p for p in pair.published if outage[0] < p.at <= outage[1]]
    assert during == []
    assert final_status(pair).remote is not None
    assert final_status(pair).failure is None
    # Backing off: a 200 s outage costs a handful of polls, not 200.
    failed_polls = [r for r in pair.steps if isinstance(r.event, TransportFailed)]
    assert 3 <= len(failed_polls) <= 10


def test_pair_requeue_never_moves_the_phase_back() -> None:
    scheduler = FakeScheduler(script=JobScript(requeue_after=60 * S))
    pair = Pair(scheduler=scheduler).run()
    assert any(
        p.remote is not None and p.remote.kind == "queued" and p.state is State.RUNNING
        for p in pair.published
    )
    ranks = [RANK[p.state] for p in pair.published]
    assert ranks == sorted(ranks)
    assert final_status(pair).remote is not None


def test_pair_cancel_failures_are_retried() -> None:
    scheduler = FakeScheduler(faults=Faults(cancel_failures=2))
    pair = Pair(scheduler=scheduler, delete_at=T0 + 60 * S).run()
    assert [c.attempt for c in pair.actions(Cancel)] == [1, 2, 3]
    assert pair.forgotten == Forget()


def test_pair_adoption_after_a_restart_carries_on() -> None:
    scheduler = FakeScheduler()
    uid = "0b8e5a9e-1111-4000-8000-000000000002"
    job_id = scheduler.add_job(uid, T0 - 100 * S)
    pair = Pair(scheduler=scheduler, uid=uid, adopt=job_id).run()
    assert scheduler.calls["submit"] == 0
    assert pair.recorded == []
    assert final_status(pair).remote is not None
    assert pair.machine.state is State.FINISHED


delays = st.integers(0, 3600).map(lambda n: n * S)


@st.composite
def scenarios(draw: st.DrawFn) -> Pair:
    script = JobScript(
        queued_for=draw(delays),
        starting_for=draw(st.integers(0, 30).map(lambda n: n * S)),
        running_for=draw(st.integers(1, 7200).map(lambda n: n * S)),
        outcome=draw(st.sampled_from(["succeeded", "failed", "cancelled"])),
        exit_code=draw(st.integers(0, 255)),
        requeue_after=draw(st.none() | delays),
        unknown=draw(st.none() | st.tuples(delays, delays).map(lambda p: (min(p), max(p)))),
        vanish_after=draw(st.none() | st.integers(0, 10_000).map(lambda n: n * S)),
    )
    outage_start = draw(st.integers(0, 3600))
    faults = Faults(
        submit_transient=draw(st.integers(0, 4)),
        submit_answer_lost=draw(st.integers(0, 2)),
        submit_refused=draw(st.sampled_from([None, None, None, "refused"])),
        poll_outage=draw(
            st.none()
            | st.integers(1, 1800).map(
                lambda n: (T0 + outage_start * S, T0 + (outage_start + n) * S)
            )
        ),
        cancel_failures=draw(st.integers(0, 6)),
        register_delay=draw(st.integers(0, 90).map(lambda n: n * S)),
    )
    return Pair(
        scheduler=FakeScheduler(script=script, faults=faults),
        policy=draw(st.just(DEFAULT_POLICY) | policies),
        delete_at=draw(st.none() | delays.map(lambda d: T0 + d)),
        cleanup_after=draw(st.none() | st.just(5 * S)),
        latency=draw(st.integers(0, 2000).map(lambda n: timedelta(milliseconds=n))),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_pair_any_lifecycle_ends_cleanly(pair: Pair) -> None:
    """Whatever the scheduler does: the run ends, every step is a valid move, at most one job
    exists, retries and waits are bounded, phases only move forward, a finished pod is never
    polled, and a deleted pod's job is cancelled unless the machine said it gave up."""
    pair.run()
    policy = pair.policy
    scheduler = pair.scheduler
    for record in pair.steps:
        assert check_step(record.before, record.event) == record.after
        check_invariants(record.after)
    assert pair.machine.state in {State.FINISHED, State.FORGOTTEN}
    assert len(scheduler.jobs) <= 1
    assert len(pair.actions(Submit)) <= policy.submit_attempts
    assert len(pair.actions(Cancel)) <= policy.cancel_attempts
    ranks = [RANK[p.state] for p in pair.published]
    assert ranks == sorted(ranks)
    # Consecutive publications differ: a publish means a change.
    for first, second in zip(pair.published, pair.published[1:], strict=False):
        assert attrs.evolve(first, at=second.at) != second
    if pair.machine.state is State.FINISHED:
        assert pair.delete_at is None
        assert pair.cleanup_after is None
        last = final_status(pair)
        assert last.state is State.FINISHED
        assert last.failure is not None or (last.remote is not None and last.remote.terminal)
    if pair.delete_at is not None or pair.cleanup_after is not None:
        assert pair.machine.state is State.FORGOTTEN
        assert pair.forgotten is not None
        if not pair.forgotten.abandoned:
            for job in scheduler.jobs.values():
                assert job.cancelled_at is not None
    if pair.logs_fetched:
        assert len(pair.logs_fetched) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    queued_for=delays,
    running_for=st.integers(1, 7200).map(lambda n: n * S),
    outcome=st.sampled_from(["succeeded", "failed"]),
    exit_code=st.integers(0, 255),
    transient=st.integers(0, 7),
)
def test_pair_the_pod_shows_what_the_job_did(
    queued_for: timedelta, running_for: timedelta, outcome: str, exit_code: int, transient: int
) -> None:
    """Without loss or deletion, the final status is the job's own outcome and exit code,
    found within one poll interval of the end, with a number of polls that grows with the
    logarithm of the phases plus one per minute of life, not one per second."""
    script = JobScript(
        queued_for=queued_for,
        running_for=running_for,
        outcome=outcome,  # type: ignore[arg-type]
        exit_code=exit_code,
    )
    scheduler = FakeScheduler(script=script, faults=Faults(submit_transient=transient))
    pair = Pair(scheduler=scheduler).run()
    last = final_status(pair)
    assert last.remote is not None
    assert (last.remote.kind, last.remote.exit_code) == (outcome, exit_code)
    assert [c.exit_code for c in last.containers] == [exit_code]
    (job,) = scheduler.jobs.values()
    ended = job.created_at + script.duration
    assert last.at - ended <= DEFAULT_POLICY.max_interval + 2 * pair.latency
    life = (ended - job.created_at).total_seconds()
    assert scheduler.calls["status"] <= 4 * 20 + life / 60 * 1.5


# ---------------------------------------------------------------------------------------------
# The reference page is generated from the table

GENERATED = {
    "transition table": docs.transition_table_markdown,
    "state diagram": docs.state_diagram_mermaid,
    "events": docs.events_markdown,
    "effects": docs.effects_markdown,
    "poll policy": docs.poll_policy_markdown,
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {name} -->\n)(.*?)(<!-- end generated: {name} -->)", re.DOTALL
    )


def test_the_reference_page_holds_exactly_the_generated_text() -> None:
    """Run with ``UPDATE_DOCS=1`` to rewrite the generated blocks after a change to the table."""
    text = DOC.read_text()
    if os.environ.get("UPDATE_DOCS") == "1":
        for name, generate in GENERATED.items():
            fresh = generate()

            def fill(found: re.Match[str], fresh: str = fresh) -> str:
                return found.group(1) + fresh + found.group(3)

            text = _block(name).sub(fill, text)
        DOC.write_text(text)
    for name, generate in GENERATED.items():
        found = _block(name).search(text)
        assert found, f"{DOC} has no block '<!-- generated: {name} -->'"
        assert found.group(2) == generate(), f"{name} differs; UPDATE_DOCS=1 rewrites it"


def test_the_generated_table_lists_every_pair() -> None:
    table = docs.transition_table_markdown()
    for state in STATES:
        assert f"### `{state}`" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    body = [row for row in rows if not row.startswith("| input |")]
    guarded = sum(1 for t in TRANSITIONS.values() if t.guard is not None)
    assert len(body) == len(TRANSITIONS) + guarded
