"""Pod status from scheduler observations: one example per rule, properties over sequences.

The properties run whole sequences of observations through :func:`pod_status`, feeding each
status back as ``previous``, the way the per-pod state machine will: phases only move forward,
a terminal status never changes, exit codes and signals are the ones reported, every job state
with every container situation yields a well-formed status, and no news changes nothing.
``kubectl_status`` models kubectl's STATUS column, so the examples also say what a user sees.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import attrs
import pyinterlink.core._status as status_module
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core._kstatus import (
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    PodCondition,
    PodStatus,
)
from pyinterlink.core._model import Container, ObjectMeta, Pod, PodSpec
from pyinterlink.core._remote import (
    REMOTE_KINDS,
    ContainerResult,
    RemoteKind,
    RemoteState,
)
from pyinterlink.core._status import (
    JOB_KIND_RULES,
    TERMINAL_PHASES,
    Observation,
    failed_create_status,
    kubectl_status,
    pod_status,
    signal_of,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "pod-status.md"
RANK = {"Pending": 0, "Unknown": 0, "Running": 1, "Succeeded": 2, "Failed": 2}


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_pod(
    apps: Sequence[str] = ("main",), inits: Sequence[str] = (), restart_policy: str = "Never"
) -> Pod:
    return Pod(
        metadata=ObjectMeta(name="p", namespace="default", uid="u-1"),
        spec=PodSpec(
            containers=tuple(Container(name=n, image=f"img/{n}") for n in apps),
            init_containers=tuple(Container(name=n, image=f"img/{n}") for n in inits),
            restart_policy=restart_policy,
        ),
    )


def job(kind: RemoteKind, **fields: object) -> RemoteState:
    return RemoteState(kind=kind, **fields)  # type: ignore[arg-type]


def ran(
    name: str, code: int | None = None, *, init: bool = False, **times: datetime
) -> ContainerResult:
    return ContainerResult(name=name, init=init, exit_code=code, **times)


def see(
    pod: Pod,
    remote: RemoteState | None = None,
    *results: ContainerResult,
    previous: PodStatus | None = None,
    now: datetime = T0,
) -> PodStatus:
    return pod_status(pod, Observation(job=remote, containers=results), previous=previous, now=now)


def condition(status: PodStatus, kind: str) -> PodCondition:
    (found,) = [c for c in status.conditions if c.type == kind]
    return found


def app(status: PodStatus, index: int = 0) -> ContainerState:
    return status.container_statuses[index].state


def init(status: PodStatus, index: int = 0) -> ContainerState:
    return status.init_container_statuses[index].state


def terminated(state: ContainerState) -> ContainerStateTerminated:
    assert state.terminated is not None, state
    return state.terminated


def waiting(state: ContainerState) -> ContainerStateWaiting:
    assert state.waiting is not None, state
    return state.waiting


def running(state: ContainerState) -> ContainerStateRunning:
    assert state.running is not None, state
    return state.running


POD = make_pod()
INIT_POD = make_pod(inits=("fetch", "prepare"))


# --- before anything is known ---------------------------------------------------------------


def test_the_first_status_waits_for_the_containers_to_be_created() -> None:
    status = see(POD, now=at(5))
    assert status.phase == "Pending"
    assert waiting(app(status)).reason == "ContainerCreating"
    assert status.start_time == at(5)
    assert [(c.type, c.status) for c in status.conditions] == [
        ("PodScheduled", "True"),
        ("Initialized", "True"),
        ("ContainersReady", "False"),
        ("Ready", "False"),
    ]
    assert all(c.last_transition_time == at(5) for c in status.conditions)
    assert status.container_statuses[0].image == "img/main"
    assert kubectl_status(POD, status) == "ContainerCreating"


def test_with_init_containers_everything_waits_for_initialisation() -> None:
    status = see(INIT_POD)
    assert [waiting(s.state).reason for s in status.init_container_statuses] == [
        "PodInitializing",
        "PodInitializing",
    ]
    assert waiting(app(status)).reason == "PodInitializing"
    assert status.reason == "Init:0/2"
    assert condition(status, "Initialized").status == "False"
    assert condition(status, "Initialized").reason == "ContainersNotInitialized"
    assert condition(status, "Initialized").message == (
        "containers with incomplete status: [fetch prepare]"
    )
    assert kubectl_status(INIT_POD, status) == "Init:0/2"


# --- the job waits --------------------------------------------------------------------------


def test_a_queued_pod_says_why_it_waits() -> None:
    status = see(POD, job("queued", raw="PENDING", reason="Priority"))
    note = "job queued (PENDING): Priority"
    assert status.phase == "Pending"
    assert app(status).waiting == ContainerStateWaiting(reason="Queued", message=note)
    # kubectl describe prints the pod's message; the conditions carry it for -o yaml.
    assert status.message == note
    assert status.reason == ""
    for kind in ("Ready", "ContainersReady"):
        assert condition(status, kind).status == "False"
        assert condition(status, kind).reason == "ContainersNotReady"
        assert condition(status, kind).message == note
    assert condition(status, "PodScheduled").status == "True"
    assert kubectl_status(POD, status) == "Queued"


def test_a_queued_pod_with_init_containers_shows_init_progress_and_the_reason() -> None:
    status = see(INIT_POD, job("queued", raw="PENDING", reason="Resources", message="4 GPUs"))
    assert status.reason == "Init:0/2"
    assert status.message == "job queued (PENDING): Resources; 4 GPUs"
    assert waiting(init(status)).message == status.message
    assert waiting(init(status, 1)) == ContainerStateWaiting(reason="PodInitializing")
    assert kubectl_status(INIT_POD, status) == "Init:0/2"


def test_a_starting_job_creates_containers() -> None:
    status = see(POD, job("starting", raw="CONFIGURING"))
    assert status.phase == "Pending"
    assert waiting(app(status)).reason == "ContainerCreating"
    assert status.message == "job starting (CONFIGURING)"
    assert kubectl_status(POD, status) == "ContainerCreating"


# --- the job runs ---------------------------------------------------------------------------


def test_a_running_job_runs_every_app_container_since_the_job_started() -> None:
    pod = make_pod(apps=("a", "b"))
    status = see(pod, job("running", raw="RUNNING", started_at=at(3)), now=at(10))
    assert status.phase == "Running"
    assert [running(s.state).started_at for s in status.container_statuses] == [at(3), at(3)]
    assert all(s.ready and s.started for s in status.container_statuses)
    assert condition(status, "Ready").status == "True"
    assert condition(status, "ContainersReady").status == "True"
    assert status.message == ""
    assert kubectl_status(pod, status) == "Running"


def test_a_container_start_time_comes_from_its_result_or_stays_as_published() -> None:
    status = see(POD, job("running"), ran("main", started_at=at(7)), now=at(10))
    assert running(app(status)).started_at == at(7)
    first = see(POD, job("running"), now=at(10))
    assert running(app(first)).started_at == at(10)  # nothing better known: first seen
    later = see(POD, job("running", started_at=at(2)), previous=first, now=at(20))
    assert running(app(later)).started_at == at(10)  # published times do not move


def test_init_containers_run_one_after_another() -> None:
    remote = job("running", started_at=at(1))
    first = see(INIT_POD, remote, now=at(2))
    assert first.phase == "Pending"
    assert running(init(first)).started_at == at(1)
    assert waiting(init(first, 1)).reason == "PodInitializing"
    assert waiting(app(first)).reason == "PodInitializing"
    assert first.reason == "Init:0/2"
    assert kubectl_status(INIT_POD, first) == "Init:0/2"

    second = see(INIT_POD, remote, ran("fetch", 0, init=True, finished_at=at(4)), previous=first)
    assert terminated(init(second)).reason == "Completed"
    assert second.init_container_statuses[0].ready
    assert running(init(second, 1)).started_at == at(4)  # when the one before it finished
    assert second.reason == "Init:1/2"
    assert kubectl_status(INIT_POD, second) == "Init:1/2"

    third = see(
        INIT_POD,
        remote,
        ran("fetch", 0, init=True),
        ran("prepare", 0, init=True, finished_at=at(9)),
        previous=second,
        now=at(10),
    )
    assert third.phase == "Running"
    assert third.reason == ""
    assert running(app(third)).started_at == at(9)
    assert condition(third, "Initialized").status == "True"
    assert condition(third, "Initialized").last_transition_time == at(10)
    assert kubectl_status(INIT_POD, third) == "Running"


def test_a_container_with_an_exit_status_has_ended_while_others_run() -> None:
    pod = make_pod(apps=("a", "b"))
    status = see(pod, job("running"), ran("a", 3, finished_at=at(5)), ran("b"))
    assert status.phase == "Running"
    ended = terminated(app(status))
    assert (ended.exit_code, ended.reason, ended.finished_at) == (3, "Error", at(5))
    assert running(app(status, 1))
    assert not status.container_statuses[0].ready
    assert condition(status, "Ready").message == "containers with unready status: [a]"
    assert kubectl_status(pod, status) == "Error"


def test_while_the_job_lives_the_pod_waits_for_its_verdict() -> None:
    # Every app container has an exit status, but the scheduler still reports the job:
    # its own reason comes with the next poll, and a terminal status could not take it.
    held = see(POD, job("running"), ran("main", 137))
    assert held.phase == "Running"
    assert terminated(app(held)).reason == "Error"
    final = see(
        POD, job("failed", raw="OUT_OF_MEMORY", reason="OOMKilled"), ran("main", 137), previous=held
    )
    assert final.phase == "Failed"
    assert terminated(app(final)).reason == "OOMKilled"
    assert kubectl_status(POD, final) == "OOMKilled"


def test_a_running_job_with_a_reason_says_it() -> None:
    status = see(POD, job("running", raw="SUSPENDED", reason="Suspended"))
    assert status.phase == "Running"
    assert status.message == "job running (SUSPENDED): Suspended"


# --- the job ends ---------------------------------------------------------------------------


def test_a_job_whose_containers_all_exited_0_succeeds() -> None:
    pod = make_pod(apps=("a", "b"))
    remote = job("succeeded", raw="COMPLETED", exit_code=0, finished_at=at(30))
    status = see(pod, remote, ran("a", 0, finished_at=at(20)), ran("b", 0))
    assert status.phase == "Succeeded"
    assert (status.reason, status.message) == ("", "")
    assert [terminated(s.state).reason for s in status.container_statuses] == ["Completed"] * 2
    assert terminated(app(status)).finished_at == at(20)
    assert terminated(app(status, 1)).finished_at == at(30)  # the job's end bounds it
    for kind in ("Ready", "ContainersReady"):
        assert (condition(status, kind).status, condition(status, kind).reason) == (
            "False",
            "PodCompleted",
        )
    assert kubectl_status(pod, status) == "Completed"


def test_one_failed_container_fails_the_pod_with_its_exit_code() -> None:
    pod = make_pod(apps=("a", "b"))
    remote = job("failed", raw="FAILED", exit_code=3)
    status = see(pod, remote, ran("a", 0), ran("b", 3))
    assert status.phase == "Failed"
    assert terminated(app(status, 1)).exit_code == 3
    assert terminated(app(status, 1)).reason == "Error"
    assert terminated(app(status, 1)).signal is None
    assert terminated(app(status)).reason == "Completed"
    assert status.message == "job failed (FAILED): exit code 3"
    assert condition(status, "Ready").reason == "PodFailed"


def test_the_schedulers_reason_survives_on_killed_containers() -> None:
    pod = make_pod(apps=("killed", "failed", "done"))
    remote = job("failed", raw="TIMEOUT", reason="DeadlineExceeded", exit_code=0, signal=15)
    status = see(pod, remote, ran("killed", 143), ran("failed", 2), ran("done", 0))
    assert status.reason == "DeadlineExceeded"
    killed, failed, done = (terminated(s.state) for s in status.container_statuses)
    assert (killed.exit_code, killed.signal, killed.reason) == (143, 15, "DeadlineExceeded")
    assert killed.message == "job failed (TIMEOUT): DeadlineExceeded; exit code 0, signal 15"
    # Exiting by itself is not the scheduler's doing.
    assert (failed.reason, done.reason) == ("Error", "Completed")
    assert kubectl_status(pod, status) == "DeadlineExceeded"


@pytest.mark.parametrize(
    "reason", ["OOMKilled", "DeadlineExceeded", "Preempted", "NodeFail", "Evicted"]
)
def test_a_job_that_failed_before_its_containers_started_fails_with_its_reason(reason: str) -> None:
    remote = job("failed", raw="X", reason=reason, finished_at=at(9))
    status = see(POD, remote)
    assert status.phase == "Failed"
    assert status.reason == reason
    ended = terminated(app(status))
    assert (ended.exit_code, ended.reason, ended.finished_at) == (1, reason, at(9))
    assert ended.message.startswith("no exit status was recorded for this container; job failed")
    assert kubectl_status(POD, status) == reason


def test_a_job_failure_before_init_completed_stops_at_the_init_container() -> None:
    status = see(INIT_POD, job("failed", reason="NodeFail", exit_code=1))
    assert status.phase == "Failed"
    assert terminated(init(status)).reason == "NodeFail"
    assert waiting(init(status, 1)).reason == "PodInitializing"
    assert waiting(app(status)).message == "init container fetch did not complete"
    assert kubectl_status(INIT_POD, status) == "Init:NodeFail"


def test_a_cancelled_job_fails_the_pod() -> None:
    status = see(POD, job("cancelled", raw="CANCELLED", exit_code=0, signal=15))
    assert status.phase == "Failed"
    assert status.reason == "Cancelled"
    ended = terminated(app(status))
    assert (ended.exit_code, ended.signal, ended.reason) == (143, 15, "Cancelled")
    assert kubectl_status(POD, status) == "Cancelled"
    by_admin = see(POD, job("cancelled", reason="Preempted"), ran("main", 143))
    assert by_admin.reason == "Preempted"
    assert terminated(app(by_admin)).reason == "Preempted"


def test_a_job_that_ended_without_any_container_news_shows_the_jobs_code() -> None:
    # HTCondor and UNICORE report the job's exit code only.
    status = see(POD, job("succeeded", exit_code=0))
    assert status.phase == "Succeeded"
    assert terminated(app(status)).exit_code == 0
    failed = see(POD, job("failed", exit_code=42))
    assert (terminated(app(failed)).exit_code, terminated(app(failed)).reason) == (42, "Error")


def test_a_failed_job_never_shows_exit_code_0_for_a_container_without_status() -> None:
    status = see(POD, job("failed", raw="NODE_FAIL", exit_code=0))
    assert terminated(app(status)).exit_code == 1


# --- init containers ------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Never", "OnFailure", "Always", ""])
def test_a_failed_init_container_fails_the_pod_whatever_the_restart_policy(policy: str) -> None:
    # The job runs once (translation warns): nothing would ever restart the init container.
    pod = make_pod(inits=("fetch", "prepare"), restart_policy=policy)
    pending = see(pod, job("running"), ran("fetch", 7, init=True))
    assert pending.phase == "Pending"  # the job is still reported: it ends next
    assert pending.reason == "Init:Error"
    assert kubectl_status(pod, pending) == "Init:Error"
    status = see(pod, job("failed", exit_code=7), ran("fetch", 7, init=True), previous=pending)
    assert status.phase == "Failed"
    assert terminated(init(status)).exit_code == 7
    assert waiting(init(status, 1)).reason == "PodInitializing"
    assert waiting(app(status)).reason == "PodInitializing"
    assert condition(status, "Initialized").status == "False"
    assert kubectl_status(pod, status) == "Init:Error"


def test_without_job_news_a_failed_init_container_fails_the_pod() -> None:
    status = see(INIT_POD, None, ran("fetch", 1, init=True))
    assert status.phase == "Failed"
    assert status.message == "init container fetch failed"


def test_init_containers_before_a_started_stage_have_completed() -> None:
    # Only the app container says it started: the pod script got past every init container.
    status = see(INIT_POD, job("running"), ran("main", started_at=at(1)))
    assert [terminated(s.state).exit_code for s in status.init_container_statuses] == [0, 0]
    assert running(app(status))
    assert kubectl_status(INIT_POD, status) == "Running"


# --- forward only ---------------------------------------------------------------------------


def test_a_late_running_after_success_changes_nothing() -> None:
    done = see(POD, job("succeeded", exit_code=0), ran("main", 0))
    assert see(POD, job("running"), ran("main"), previous=done, now=at(99)) is done
    assert failed_create_status(POD, "boom", previous=done, now=at(99)) is done


@pytest.mark.parametrize("remote", [None, job("unknown", raw="?", message="squeue failed")])
def test_no_news_keeps_the_previous_status(remote: RemoteState | None) -> None:
    queued = see(POD, job("queued", reason="Priority"))
    assert see(POD, remote, previous=queued, now=at(50)) is queued
    started = see(POD, job("running"), previous=queued, now=at(60))
    assert see(POD, remote, previous=started, now=at(70)) is started


def test_no_job_news_with_container_news_keeps_what_the_job_said() -> None:
    pod = make_pod(apps=("a", "b"))
    live = see(pod, job("running", reason="Suspended"), now=at(1))
    status = see(pod, job("unknown"), ran("a", 0), previous=live, now=at(5))
    assert status.phase == "Running"
    assert status.message == live.message
    assert terminated(app(status)).exit_code == 0
    assert app(status, 1) == app(live, 1)
    assert condition(status, "Ready").last_transition_time == at(5)


def test_an_empty_container_list_does_not_make_a_pod_succeed() -> None:
    live = see(POD, job("running"))
    for kind in ("queued", "starting", "running", "unknown"):
        assert see(POD, job(kind), previous=live).phase == "Running"


def test_a_requeued_job_keeps_the_phase_but_its_containers_wait() -> None:
    live = see(POD, job("running"), ran("main"), now=at(1))
    requeued = see(
        POD, job("queued", raw="PENDING", reason="BeginTime"), ran("main"), previous=live
    )
    assert requeued.phase == "Running"
    assert waiting(app(requeued)).reason == "Queued"
    assert requeued.message == "job queued (PENDING): BeginTime"
    assert condition(requeued, "Ready").status == "False"
    assert kubectl_status(POD, requeued) == "Queued"


def test_conditions_keep_their_transition_time_while_their_status_holds() -> None:
    first = see(POD, job("queued", reason="Priority"), now=at(1))
    again = see(POD, job("queued", reason="Resources"), previous=first, now=at(2))
    assert condition(again, "Ready").message == "job queued: Resources"
    assert condition(again, "Ready").last_transition_time == at(1)
    running_now = see(POD, job("running"), previous=again, now=at(3))
    assert condition(running_now, "Ready").last_transition_time == at(3)
    assert condition(running_now, "PodScheduled").last_transition_time == at(1)
    assert running_now.start_time == at(1)


def test_what_others_set_on_the_status_is_carried_over() -> None:
    first = see(POD, job("queued"))
    container = attrs.evolve(
        first.container_statuses[0], container_id="slurm://42", restart_count=2
    )
    dressed = attrs.evolve(
        first, pod_ip="10.0.0.7", host_ip="10.0.0.1", container_statuses=(container,)
    )
    status = see(POD, job("running"), previous=dressed)
    assert (status.pod_ip, status.host_ip) == ("10.0.0.7", "10.0.0.1")
    assert status.container_statuses[0].container_id == "slurm://42"
    assert status.container_statuses[0].restart_count == 2


# --- exit codes and signals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "signal"),
    [
        (0, None),
        (1, None),
        (128, None),
        (129, 1),
        (137, 9),
        (143, 15),
        (192, 64),
        (193, None),
        (255, None),
        (-1, None),
    ],
)
def test_an_exit_status_above_128_is_a_signal(code: int, signal: int | None) -> None:
    assert signal_of(code) == signal
    status = see(POD, job("failed"), ran("main", code))
    assert (terminated(app(status)).exit_code, terminated(app(status)).signal) == (code, signal)


@pytest.mark.parametrize(
    ("code", "signal", "shown"),
    [
        (None, 9, (137, 9)),
        (0, 15, (143, 15)),
        (2, None, (2, None)),
        (137, None, (137, 9)),
        (1, 9, (1, 9)),
        (None, None, (1, None)),
    ],
)
def test_the_jobs_code_and_signal_are_what_its_containers_show(
    code: int | None, signal: int | None, shown: tuple[int, int | None]
) -> None:
    status = see(POD, job("failed", exit_code=code, signal=signal))
    ended = terminated(app(status))
    assert (ended.exit_code, ended.signal) == shown


# --- failed create --------------------------------------------------------------------------


def test_a_failed_create_fails_every_container_with_the_error() -> None:
    status = failed_create_status(
        INIT_POD, "sbatch: error: invalid partition", previous=None, now=at(4)
    )
    assert (status.phase, status.reason) == ("Failed", "ProviderFailed")
    assert status.message == "sbatch: error: invalid partition"
    every = status.init_container_statuses + status.container_statuses
    assert len(every) == 3
    for container in every:
        ended = terminated(container.state)
        assert (ended.exit_code, ended.reason, ended.message) == (
            1,
            "ProviderFailed",
            "sbatch: error: invalid partition",
        )
        assert ended.finished_at == at(4)
    assert kubectl_status(INIT_POD, status) == "ProviderFailed"
    assert (
        kubectl_status(POD, failed_create_status(POD, "x", previous=None, now=T0))
        == "ProviderFailed"
    )


# --- the kubectl model ----------------------------------------------------------------------


def test_kubectl_shows_running_when_one_container_completed_and_another_runs() -> None:
    pod = make_pod(apps=("a", "b"))
    status = see(pod, job("running"), ran("a", 0), ran("b"))
    # The first container's word wins; a completed one next to a running one is "NotReady"
    # while the pod is not ready (kubectl's rule).
    assert kubectl_status(pod, status) == "NotReady"


@pytest.mark.parametrize(
    ("ended", "app_shown", "init_shown"),
    [
        (ContainerStateTerminated(exit_code=3), "ExitCode:3", "Init:ExitCode:3"),
        (ContainerStateTerminated(exit_code=137, signal=9), "Signal:9", "Init:Signal:9"),
    ],
)
def test_kubectl_names_a_terminated_container_without_reason_by_its_code_or_signal(
    ended: ContainerStateTerminated, app_shown: str, init_shown: str
) -> None:
    state = ContainerState(terminated=ended)
    status = PodStatus(
        phase="Failed", container_statuses=(ContainerStatus(name="main", state=state),)
    )
    assert kubectl_status(POD, status) == app_shown
    fetch = (ContainerStatus(name="fetch", state=state),)
    assert (
        kubectl_status(INIT_POD, attrs.evolve(status, init_container_statuses=fetch)) == init_shown
    )


# --- properties -----------------------------------------------------------------------------

NAMES = ("a", "b", "c")
INIT_NAMES = ("i1", "i2")
REASONS = (None, "Priority", "OOMKilled", "DeadlineExceeded", "Preempted", "NodeFail", "Evicted")
# Mostly "not ended" and 0, so that sequences also reach Running and Succeeded.
codes = st.one_of(
    st.none(),
    st.just(0),
    st.sampled_from([0, 1, 2, 126, 127, 137, 143, 255]),
    st.integers(-3, 300),
)
times = st.one_of(st.none(), st.integers(0, 1000).map(at))


@st.composite
def pods(draw: st.DrawFn) -> Pod:
    apps = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    inits = draw(st.lists(st.sampled_from(INIT_NAMES), max_size=2, unique=True))
    policy = draw(st.sampled_from(["Never", "OnFailure", "Always", ""]))
    return make_pod(apps=apps, inits=inits, restart_policy=policy)


remote_states = st.builds(
    RemoteState,
    kind=st.sampled_from(REMOTE_KINDS),
    raw=st.sampled_from(["", "PENDING", "RUNNING", "X"]),
    reason=st.sampled_from(REASONS),
    message=st.sampled_from([None, "why"]),
    exit_code=codes,
    signal=st.one_of(st.none(), st.integers(0, 64)),
    started_at=times,
    finished_at=times,
)


@st.composite
def observations(draw: st.DrawFn, pod: Pod) -> Observation:
    known = [(True, c.name) for c in pod.spec.init_containers]
    known += [(False, c.name) for c in pod.spec.containers]
    known.append((False, "stranger"))
    listed = draw(st.lists(st.sampled_from(known), max_size=len(known), unique=True))
    results = tuple(
        ContainerResult(
            name=name,
            init=is_init,
            exit_code=draw(codes),
            started_at=draw(times),
            finished_at=draw(times),
        )
        for is_init, name in listed
    )
    return Observation(job=draw(st.one_of(st.none(), remote_states)), containers=results)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Pod, list[Observation]]:
    pod = draw(pods())
    return pod, draw(st.lists(observations(pod), min_size=1, max_size=6))


def run(pod: Pod, history: Sequence[Observation]) -> list[PodStatus]:
    statuses: list[PodStatus] = []
    previous = None
    for step, observation in enumerate(history):
        previous = pod_status(pod, observation, previous=previous, now=at(2000 + step))
        statuses.append(previous)
    return statuses


def assert_well_formed(pod: Pod, status: PodStatus) -> None:
    """What any status we publish must be, for Kubernetes and for kubectl."""
    assert [s.name for s in status.init_container_statuses] == [
        c.name for c in pod.spec.init_containers
    ]
    assert [s.name for s in status.container_statuses] == [c.name for c in pod.spec.containers]
    every = status.init_container_statuses + status.container_statuses
    for container in every:
        state = container.state
        assert [state.waiting, state.running, state.terminated].count(None) == 2
        if state.waiting is not None:
            assert state.waiting.reason
        if state.terminated is not None:
            assert state.terminated.reason
            assert (
                state.terminated.finished_at is not None or state.terminated.reason == "Completed"
            )
            if state.terminated.signal is not None:
                assert 1 <= state.terminated.signal <= 64
        assert container.started == (state.running is not None)
    for container in status.container_statuses:
        assert container.ready == (container.state.running is not None)
    assert [c.type for c in status.conditions] == [
        "PodScheduled",
        "Initialized",
        "ContainersReady",
        "Ready",
    ]
    assert all(c.last_transition_time is not None for c in status.conditions)
    assert status.start_time is not None
    apps = [s.state for s in status.container_statuses]
    if status.phase in TERMINAL_PHASES:
        assert all(s.state.running is None for s in every)
        assert condition(status, "Ready").status == "False"
    if status.phase == "Succeeded":
        assert all(s.terminated is not None and s.terminated.exit_code == 0 for s in apps)
        assert all(s.state.terminated is not None for s in status.init_container_statuses)
    if status.phase == "Pending":
        assert status.reason == "" or status.reason.startswith("Init:")
    shown = kubectl_status(pod, status)
    assert shown
    init_waits = any(s.state.terminated is None for s in status.init_container_statuses)
    if status.reason.startswith("Init:") and init_waits:
        assert shown == status.reason  # kubectl computes what we said


@settings(max_examples=80, deadline=None)
@given(histories())
def test_phases_only_move_forward_and_terminal_statuses_never_change(
    history: tuple[Pod, list[Observation]],
) -> None:
    pod, observations_ = history
    statuses = run(pod, observations_)
    for before, after in itertools.pairwise(statuses):
        assert RANK[after.phase] >= RANK[before.phase]
        if before.phase in TERMINAL_PHASES:
            assert after is before


@settings(max_examples=80, deadline=None)
@given(histories())
def test_every_status_is_well_formed(history: tuple[Pod, list[Observation]]) -> None:
    pod, observations_ = history
    for status in run(pod, observations_):
        assert_well_formed(pod, status)


@settings(max_examples=60, deadline=None)
@given(histories())
def test_exit_codes_and_signals_are_the_reported_ones(
    history: tuple[Pod, list[Observation]],
) -> None:
    pod, observations_ = history
    previous = None
    for step, observation in enumerate(observations_):
        status = pod_status(pod, observation, previous=previous, now=at(step))
        if status is not previous:
            shown = {(True, s.name): s.state for s in status.init_container_statuses}
            shown |= {(False, s.name): s.state for s in status.container_statuses}
            for result in observation.containers:
                state = shown.get((result.init, result.name))
                if state is None or result.exit_code is None:
                    continue
                ended = terminated(state)
                assert (ended.exit_code, ended.signal) == (
                    result.exit_code,
                    signal_of(result.exit_code),
                )
        previous = status


@settings(max_examples=100, deadline=None)
@given(pods(), remote_states)
def test_a_job_that_ended_shows_its_own_code_on_containers_without_status(
    pod: Pod, remote: RemoteState
) -> None:
    status = see(pod, remote)
    if not remote.terminal:
        return
    code, signal = remote.exit_code, remote.signal or None
    expected: tuple[int, int | None]
    if code:  # a code the job reports is the code shown, with the job's signal if any
        expected = (code, signal if signal is not None else signal_of(code))
    elif signal is not None:  # killed by a signal, no code of its own (Slurm's 0:9)
        expected = (128 + signal, signal)
    else:  # no code: 0 only for a job that succeeded
        expected = (0, None) if remote.kind == "succeeded" else (1, None)
    first = (status.init_container_statuses + status.container_statuses)[0]
    ended = terminated(first.state)
    assert (ended.exit_code, ended.signal) == expected
    if remote.reason:
        assert ended.reason == remote.reason
    assert status.phase in TERMINAL_PHASES
    assert status.phase == "Failed" or (remote.kind == "succeeded" and expected == (0, None))


@settings(max_examples=40, deadline=None)
@given(histories(), st.sampled_from([None, "unknown"]))
def test_an_observation_without_news_changes_nothing(
    history: tuple[Pod, list[Observation]], kind: RemoteKind | None
) -> None:
    pod, observations_ = history
    remote = job(kind) if kind is not None else None
    for status in run(pod, observations_):
        assert pod_status(pod, Observation(job=remote), previous=status, now=at(9999)) is status


@settings(max_examples=40, deadline=None)
@given(histories(), st.sampled_from(["queued", "starting", "running"]))
def test_an_empty_container_list_never_ends_a_live_pod(
    history: tuple[Pod, list[Observation]], kind: RemoteKind
) -> None:
    pod, observations_ = history
    for status in [None, *run(pod, observations_)]:
        after = pod_status(pod, Observation(job=job(kind)), previous=status, now=at(9999))
        if status is None or status.phase not in TERMINAL_PHASES:
            assert after.phase not in TERMINAL_PHASES


@settings(max_examples=60, deadline=None)
@given(histories())
def test_seeing_the_same_thing_again_later_publishes_the_same_status(
    history: tuple[Pod, list[Observation]],
) -> None:
    pod, observations_ = history
    statuses = run(pod, observations_)
    last, observation = statuses[-1], observations_[-1]
    assert pod_status(pod, observation, previous=last, now=at(99999)) == last


# --- memos: the fast path gives what the derivation gives ----------------------------------
#
# pod_status memoises whole derivations (keyed by the pod's shape, the observation, the
# previous status and now) and condition sets. These check that a memoised answer is exactly,
# repr and time zones included, what deriving it afresh gives, also when the memo was filled
# by another pod of the same shape with equal inputs in an equal but different time zone.

# UTC; a zone equal to UTC that prints differently; another offset.
ZONES = (UTC, timezone(timedelta(0), "Z"), timezone(timedelta(hours=1)))


def in_zone(observation: Observation, zone: tzinfo) -> Observation:
    """The same observation (equal, as values) with every time shown in ``zone``."""

    def moved(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment is not None else None

    job_ = observation.job
    if job_ is not None:
        job_ = attrs.evolve(
            job_, started_at=moved(job_.started_at), finished_at=moved(job_.finished_at)
        )
    results = tuple(
        attrs.evolve(r, started_at=moved(r.started_at), finished_at=moved(r.finished_at))
        for r in observation.containers
    )
    return Observation(job=job_, containers=results)


def twin_of(pod: Pod) -> Pod:
    """Another pod of the same shape (container names and images), different otherwise."""
    return attrs.evolve(
        pod,
        metadata=ObjectMeta(name="twin", namespace="other", uid="u-2"),
        spec=attrs.evolve(
            pod.spec,
            containers=tuple(
                attrs.evolve(c, command=("sh",), args=("-c", "true")) for c in pod.spec.containers
            ),
            restart_policy="Always",
        ),
    )


def fresh(
    pod: Pod, observation: Observation, *, previous: PodStatus | None, now: datetime
) -> PodStatus:
    """pod_status with every memo emptied first: the derivation itself."""
    status_module._memo_derive.cache_clear()
    status_module._memo_conditions.cache_clear()
    return pod_status(pod, observation, previous=previous, now=now)


def run_in(
    pod: Pod, history: Sequence[Observation], zone: tzinfo
) -> list[tuple[Observation, PodStatus | None, datetime, PodStatus]]:
    """Each step of ``history`` in ``zone``: its observation, previous, now and status."""
    steps: list[tuple[Observation, PodStatus | None, datetime, PodStatus]] = []
    previous: PodStatus | None = None
    for step, observation in enumerate(history):
        seen, now = in_zone(observation, zone), at(2000 + step).astimezone(zone)
        status = pod_status(pod, seen, previous=previous, now=now)
        steps.append((seen, previous, now, status))
        previous = status
    return steps


@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_memoised_statuses_are_what_the_derivation_gives(
    history: tuple[Pod, list[Observation]], twin_zone: tzinfo, zone: tzinfo
) -> None:
    pod, observations_ = history
    run_in(twin_of(pod), observations_, twin_zone)  # fills the memos with equal keys
    for seen, previous, now, status in run_in(pod, observations_, zone):
        assert repr(status) == repr(fresh(pod, seen, previous=previous, now=now))


@settings(max_examples=100, deadline=None)
@given(pods(), st.lists(remote_states, min_size=1, max_size=4), st.sampled_from(ZONES))
def test_a_first_poll_of_many_pods_is_what_the_derivation_gives(
    pod: Pod, jobs: list[RemoteState], zone: tzinfo
) -> None:
    # One poll: one now, the same job states seen by several pods of one shape.
    now = at(5000).astimezone(zone)
    seen = [in_zone(Observation(job=remote), zone) for remote in jobs]
    first = [pod_status(pod, each, previous=None, now=now) for each in seen]
    again = [pod_status(twin_of(pod), each, previous=None, now=now) for each in seen]
    for observation, status, twin_status in zip(seen, first, again, strict=True):
        expected = repr(fresh(pod, observation, previous=None, now=now))
        assert repr(status) == repr(twin_status) == expected


def test_times_outside_utc_are_not_memoised() -> None:
    # Equal instants, two zones: each status shows the zone it was given.
    utc_now = at(60)
    named = timezone(timedelta(0), "Z")
    remote = job("running", raw="RUNNING", started_at=at(0))
    in_utc = pod_status(POD, Observation(job=remote), previous=None, now=utc_now)
    in_named = pod_status(
        POD,
        in_zone(Observation(job=remote), named),
        previous=None,
        now=utc_now.astimezone(named),
    )
    assert in_utc == in_named
    assert in_utc.start_time is not None and in_utc.start_time.tzinfo is UTC
    assert in_named.start_time is not None and in_named.start_time.tzinfo is named
    running = in_named.container_statuses[0].state.running
    assert running is not None and running.started_at is not None
    assert running.started_at.tzinfo is named


# Every job state with every container situation: a well-formed status, first or later.
SITUATIONS: dict[str, tuple[ContainerResult, ...]] = {
    "no news": (),
    "nothing ended": (ran("i1", init=True), ran("a")),
    "init running": (ran("i1", init=True, started_at=T0),),
    "init completed": (ran("i1", 0, init=True),),
    "init failed": (ran("i1", 1, init=True),),
    "app running": (ran("i1", 0, init=True), ran("a", started_at=T0)),
    "app exited 0": (ran("i1", 0, init=True), ran("a", 0)),
    "app exited 1": (ran("i1", 0, init=True), ran("a", 1)),
    "app killed": (ran("i1", 0, init=True), ran("a", 137)),
    "app without init": (ran("a", 0),),
    "stranger": (ran("zzz", 0),),
}


@pytest.mark.parametrize("kind", REMOTE_KINDS)
@pytest.mark.parametrize("situation", sorted(SITUATIONS))
@pytest.mark.parametrize("inits", [(), ("i1",)])
def test_every_job_state_with_every_container_situation(
    kind: RemoteKind, situation: str, inits: tuple[str, ...]
) -> None:
    pod = make_pod(apps=("a",), inits=inits)
    results = SITUATIONS[situation]
    for previous in (None, see(pod), see(pod, job("running"))):
        status = see(pod, job(kind, reason="NodeFail"), *results, previous=previous)
        assert_well_formed(pod, status)
        assert RANK[status.phase] >= (RANK[previous.phase] if previous else 0)
    assert set(JOB_KIND_RULES) == set(REMOTE_KINDS)


# --- the reference page ---------------------------------------------------------------------

SAMPLE_JOBS: tuple[tuple[str, RemoteState], ...] = (
    ("queued, `Priority`", job("queued", raw="PENDING", reason="Priority")),
    ("starting", job("starting", raw="CONFIGURING")),
    ("running", job("running", raw="RUNNING")),
    ("succeeded, code 0", job("succeeded", raw="COMPLETED", exit_code=0)),
    ("failed, code 3", job("failed", raw="FAILED", exit_code=3)),
    (
        "failed, `OOMKilled`, signal 9",
        job("failed", raw="OUT_OF_MEMORY", reason="OOMKilled", exit_code=0, signal=9),
    ),
    ("failed, `NodeFail`", job("failed", raw="NODE_FAIL", reason="NodeFail")),
    ("cancelled", job("cancelled", raw="CANCELLED", exit_code=0, signal=15)),
    ("unknown", job("unknown")),
)
APP_COLUMNS: tuple[tuple[str, tuple[ContainerResult, ...]], ...] = (
    ("no container news", ()),
    ("`main` not ended", (ran("main"),)),
    ("`main` exited 0", (ran("main", 0),)),
    ("`main` exited 1", (ran("main", 1),)),
    ("`main` exited 137", (ran("main", 137),)),
)
INIT_COLUMNS: tuple[tuple[str, tuple[ContainerResult, ...]], ...] = (
    ("no container news", ()),
    ("`setup` not ended", (ran("setup", init=True),)),
    ("`setup` exited 0", (ran("setup", 0, init=True),)),
    ("`setup` exited 1", (ran("setup", 1, init=True),)),
    ("`setup` and `main` exited 0", (ran("setup", 0, init=True), ran("main", 0))),
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _matrix(pod: Pod, columns: Sequence[tuple[str, tuple[ContainerResult, ...]]]) -> str:
    rows = []
    for label, remote in SAMPLE_JOBS:
        cells = [label]
        for _, results in columns:
            status = see(pod, remote, *results)
            cells.append(f"{status.phase} `{kubectl_status(pod, status)}`")
        rows.append(cells)
    return _table(["job", *(label for label, _ in columns)], rows)


def reference_blocks() -> dict[str, str]:
    """The parts of docs/reference/pod-status.md that come from the code."""
    kinds = _table(
        [
            "job state",
            "progress",
            "app containers wait with",
            "reason without a job reason",
            "fails the pod",
            "the pod",
        ],
        [
            [
                f"`{rule.kind}`",
                rule.progress,
                f"`{rule.waiting_reason}`" if rule.waiting_reason else "—",
                f"`{rule.ended_reason}`" if rule.ended_reason else "by exit code",
                "yes" if rule.fails_pod else "no",
                rule.summary,
            ]
            for rule in JOB_KIND_RULES.values()
        ],
    )
    return {
        "job-kinds": kinds,
        "one-container": _matrix(make_pod(apps=("main",)), APP_COLUMNS),
        "init-container": _matrix(make_pod(apps=("main",), inits=("setup",)), INIT_COLUMNS),
    }


_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def test_the_reference_page_tables_come_from_the_code() -> None:
    text = DOC.read_text()
    blocks = reference_blocks()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        text = _BLOCK.sub(lambda m: m.group(1) + blocks[m.group("name")] + m.group(4), text)
        DOC.write_text(text)
    found = {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}
    assert found == blocks, f"{DOC} is out of date; UPDATE_GOLDEN=1 rewrites its generated tables"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True),
    remote_states.filter(lambda remote: JOB_KIND_RULES[remote.kind].progress != "no news"),
    st.sampled_from(ZONES),
)
def test_the_first_status_fast_path_is_what_the_walk_gives(
    apps: list[str], remote: RemoteState, zone: tzinfo
) -> None:
    # pod_status takes _first_status for app containers only, a job with news, no container
    # results and no previous status: it must give exactly what the general walk gives.
    pod = make_pod(apps=apps)
    shape = status_module._shape(pod)
    now = at(5000).astimezone(zone)
    seen = in_zone(Observation(job=remote), zone).job
    assert seen is not None
    status_module._memo_conditions.cache_clear()
    fast = status_module._first_status(shape.apps, seen, now)
    status_module._memo_conditions.cache_clear()
    walked = status_module._Walk(shape, seen, {}, None, now).status()
    assert repr(fast) == repr(walked)
    assert repr(status_module._derive(shape, seen, (), None, now)) == repr(walked)
