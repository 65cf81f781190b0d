"""The driver against an in-memory backend: actions carried out, polls batched, statuses
published when they change. (The real backends are driven in their own tests and by
``interlink run``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import anyio
import pytest
from pyinterlink import core
from pyinterlink.adapters.errors import TransportError
from pyinterlink.backends.base import JobRef, LogRequest, StatusAnswer
from pyinterlink.backends.driver import PodDriver
from pyinterlink.core import machine as m
from pyinterlink.core.wire import PingResponse

pytestmark = pytest.mark.anyio

FAST = m.PollPolicy(
    initial_interval=timedelta(milliseconds=10),
    early_max_interval=timedelta(milliseconds=20),
    max_interval=timedelta(milliseconds=40),
    retry_initial_interval=timedelta(milliseconds=10),
    retry_max_interval=timedelta(milliseconds=20),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_pod(uid: str) -> core.Pod:
    return core.pod_from_json(
        {
            "metadata": {"name": f"pod-{uid}", "namespace": "ns", "uid": uid},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "i"}]},
        }
    )


class ScriptedBackend:
    """Jobs run for ``polls`` status calls, then end with ``exit_code``; counts every call."""

    name = "scripted"

    def __init__(
        self, *, polls: int = 2, exit_code: int = 0, refuse: bool = False, flaky_submits: int = 0
    ) -> None:
        self.polls = polls
        self.exit_code = exit_code
        self.refuse = refuse
        self.flaky_submits = flaky_submits
        self.jobs: dict[str, int] = {}
        self.status_calls: list[int] = []
        self.deleted: list[str] = []

    async def create(self, pod: core.Pod, objects: core.PodObjects) -> str:
        if self.refuse:
            raise core.PodError("partition 'nope' does not exist", path="spec")
        if self.flaky_submits:
            self.flaky_submits -= 1
            raise TransportError("connection reset")
        self.jobs.setdefault(pod.metadata.uid, 0)
        return f"job-{pod.metadata.uid}"

    async def delete(self, job: JobRef) -> None:
        self.deleted.append(job.pod_uid)

    async def status(self, jobs: Sequence[JobRef]) -> list[StatusAnswer]:
        self.status_calls.append(len(jobs))
        answers = []
        for job in jobs:
            seen = self.jobs[job.pod_uid] = self.jobs[job.pod_uid] + 1
            if seen <= self.polls:
                state = core.RemoteState(kind="running", raw="RUNNING")
                containers: tuple[core.ContainerResult, ...] = ()
            else:
                kind: core.RemoteKind = "succeeded" if self.exit_code == 0 else "failed"
                state = core.RemoteState(kind=kind, raw=kind.upper(), exit_code=self.exit_code)
                containers = (core.ContainerResult(name="main", exit_code=self.exit_code),)
            answers.append(
                StatusAnswer(
                    pod_uid=job.pod_uid,
                    observation=core.Observation(job=state, containers=containers),
                )
            )
        return answers

    def logs(self, request: LogRequest) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        @asynccontextmanager
        async def empty() -> AsyncIterator[AsyncIterator[bytes]]:
            async def chunks() -> AsyncIterator[bytes]:
                yield b""

            yield chunks()

        return empty()

    async def ping(self) -> PingResponse:
        return PingResponse(status="ok")

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> ScriptedBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class Recorder:
    def __init__(self) -> None:
        self.job_ids: dict[str, str] = {}
        self.phases: dict[str, list[str]] = {}
        self.statuses: dict[str, core.PodStatus] = {}
        self.ended: list[str] = []
        self.all_forgotten = anyio.Event()
        self.forgotten_uids: list[str] = []
        self.expected = 1

    async def job_recorded(self, pod: core.Pod, job_id: str) -> None:
        self.job_ids[pod.metadata.uid] = job_id

    async def status_changed(self, pod: core.Pod, status: core.PodStatus) -> None:
        phases = self.phases.setdefault(pod.metadata.uid, [])
        if not phases or phases[-1] != status.phase:
            phases.append(status.phase)
        self.statuses[pod.metadata.uid] = status

    async def job_ended(self, pod: core.Pod, job: JobRef) -> None:
        self.ended.append(pod.metadata.uid)

    async def forgotten(self, pod: core.Pod, forget: m.Forget) -> None:
        self.forgotten_uids.append(pod.metadata.uid)
        if len(self.forgotten_uids) == self.expected:
            self.all_forgotten.set()


async def drive(
    backend: ScriptedBackend, uids: list[str], *, delete_when_ended: bool = True
) -> Recorder:
    recorder = Recorder()
    recorder.expected = len(uids)
    driver = PodDriver(backend, recorder, policy=FAST, poll_window=0.01)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            await tasks.start(driver.run)
            for uid in uids:
                driver.add(make_pod(uid), core.PodObjects())
            while delete_when_ended and len(recorder.ended) + len(
                [u for u in uids if recorder.phases.get(u, [""])[-1] == "Failed"]
            ) < len(uids):
                await anyio.sleep(0.01)
            for uid in uids:
                driver.delete(uid)
            await recorder.all_forgotten.wait()
            tasks.cancel_scope.cancel()
    return recorder


async def test_a_pod_runs_to_success_and_is_forgotten_after_delete() -> None:
    backend = ScriptedBackend(polls=2)
    recorder = await drive(backend, ["a"])
    assert recorder.job_ids == {"a": "job-a"}
    assert recorder.phases["a"][-1] == "Succeeded"
    assert "Running" in recorder.phases["a"]
    assert recorder.ended == ["a"]
    assert backend.deleted == ["a"]


async def test_a_failing_container_fails_the_pod_with_its_exit_code() -> None:
    recorder = await drive(ScriptedBackend(polls=1, exit_code=3), ["a"])
    status = recorder.statuses["a"]
    assert status.phase == "Failed"
    (container,) = status.container_statuses
    assert container.state.terminated is not None
    assert container.state.terminated.exit_code == 3


async def test_polls_of_many_pods_are_batched() -> None:
    backend = ScriptedBackend(polls=3)
    uids = [f"p{i}" for i in range(20)]
    recorder = await drive(backend, uids)
    assert all(recorder.phases[u][-1] == "Succeeded" for u in uids)
    # 20 pods, each polled at least 4 times: far fewer calls than polls.
    assert sum(backend.status_calls) >= 80
    assert len(backend.status_calls) < sum(backend.status_calls) / 4
    assert max(backend.status_calls) > 1


async def test_a_refused_submission_fails_the_pod_with_the_message() -> None:
    recorder = await drive(ScriptedBackend(refuse=True), ["a"])
    status = recorder.statuses["a"]
    assert status.phase == "Failed"
    (container,) = status.container_statuses
    assert container.state.terminated is not None
    assert "partition 'nope' does not exist" in container.state.terminated.message
    assert recorder.job_ids == {}


async def test_transient_submit_failures_are_retried() -> None:
    backend = ScriptedBackend(polls=1, flaky_submits=2)
    recorder = await drive(backend, ["a"])
    assert recorder.phases["a"][-1] == "Succeeded"
    assert recorder.job_ids == {"a": "job-a"}
