"""The driver: carries out what the per-pod state machines decide, against one backend.

The machines (``core.machine``) decide what to do and when; the driver performs the actions
and feeds their outcomes back as events. It is the one loop the virtual kubelet, the API
server and ``interlink run`` share.

Theory of operation: every event for every pod goes through one channel and is applied by one
task, so a pod's machine only ever sees one event at a time, in order. Actions that take time
(submit, cancel, timers) run as tasks that end by sending an event. Polls are batched: the
first :class:`~pyinterlink.core.machine.Poll` opens a short window, and every pod asking
within it is answered by one ``Backend.status`` call — one scheduler command for all pods.
What a pod shows (its Kubernetes status) is computed here from the machine's observations
with ``core.pod_status``, and handed to the listener only when it changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from pyinterlink.adapters.errors import TransportError
from pyinterlink.core import (
    InputError,
    InterlinkError,
    Pod,
    PodObjects,
    PodStatus,
    RemoteState,
    status_for,
)
from pyinterlink.core import machine as m

from .base import Backend, JobRef, StatusAnswer

__all__ = ["DriverListener", "PodDriver", "utc_now"]


def utc_now() -> datetime:
    """The wall clock, timezone-aware (the only clock the driver reads)."""
    return datetime.now(UTC)


class DriverListener(Protocol):
    """What the driver tells its owner about the pods it drives."""

    async def job_recorded(self, pod: Pod, job_id: str) -> None:
        """The pod's job has this id (the VK stores it as the ``JobID`` annotation)."""

    async def status_changed(self, pod: Pod, status: PodStatus) -> None:
        """The pod's Kubernetes status changed."""

    async def job_ended(self, pod: Pod, job: JobRef) -> None:
        """The job ended: its logs are complete."""

    async def forgotten(self, pod: Pod, forget: m.Forget) -> None:
        """The driver let go of the pod (after it ended and was deleted, or gave up)."""


@attrs.define
class _Tracked:
    pod: Pod
    objects: PodObjects
    machine: m.PodMachine
    job: JobRef
    status: PodStatus | None = None


class PodDriver:
    """Drives one state machine per pod against ``backend``.

    Use inside a task group: ``await tg.start(driver.run)``; then :meth:`add` pods and
    :meth:`delete` them. ``poll_window`` is how long the first poll waits for others to join
    its batch. ``clock`` exists for tests; it must return aware datetimes.
    """

    def __init__(
        self,
        backend: Backend,
        listener: DriverListener,
        *,
        policy: m.PollPolicy = m.DEFAULT_POLICY,
        poll_window: float = 0.05,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._backend = backend
        self._listener = listener
        self._policy = policy
        self._poll_window = poll_window
        self._clock = clock
        self._pods: dict[str, _Tracked] = {}
        self._polls: set[str] = set()
        self._send: MemoryObjectSendStream[tuple[str, m.Event]]
        self._receive: MemoryObjectReceiveStream[tuple[str, m.Event]]
        self._send, self._receive = anyio.create_memory_object_stream(math.inf)
        self._tasks: TaskGroup | None = None

    @property
    def pods(self) -> dict[str, Pod]:
        """The pods being driven, by UID."""
        return {uid: tracked.pod for uid, tracked in self._pods.items()}

    def add(self, pod: Pod, objects: PodObjects, *, job_id: str | None = None) -> None:
        """Start driving ``pod``; with ``job_id`` its existing job is adopted, not resubmitted."""
        uid = pod.metadata.uid
        if uid in self._pods:
            return
        job = JobRef(
            pod_uid=uid,
            namespace=pod.metadata.namespace or "default",
            name=pod.metadata.name,
            job_id=job_id,
        )
        self._pods[uid] = _Tracked(
            pod=pod, objects=objects, machine=m.PodMachine(policy=self._policy), job=job
        )
        self._send.send_nowait((uid, m.PodAdded(at=self._clock(), job_id=job_id)))

    def delete(self, uid: str) -> None:
        """The pod is being deleted: cancel its job and forget it afterwards."""
        if uid in self._pods:
            self._send.send_nowait((uid, m.DeleteRequested(at=self._clock())))

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Apply events until cancelled."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            task_status.started()
            async for uid, event in self._receive:
                await self._apply(uid, event)

    async def _apply(self, uid: str, event: m.Event) -> None:
        tracked = self._pods.get(uid)
        if tracked is None:
            return  # a late answer for a pod already forgotten
        tracked.machine, actions = m.step(tracked.machine, event)
        for action in actions:
            await self._perform(uid, tracked, action)

    async def _perform(self, uid: str, tracked: _Tracked, action: m.Action) -> None:
        assert self._tasks is not None
        if isinstance(action, m.Submit):
            self._tasks.start_soon(self._submit, uid, tracked)
        elif isinstance(action, m.Poll):
            if not self._polls:
                self._tasks.start_soon(self._poll_batch)
            self._polls.add(uid)
        elif isinstance(action, m.Cancel):
            self._tasks.start_soon(self._cancel, uid, tracked)
        elif isinstance(action, m.RecordJobId):
            tracked.job = attrs.evolve(tracked.job, job_id=action.job_id)
            await self._listener.job_recorded(tracked.pod, action.job_id)
        elif isinstance(action, m.PublishStatus):
            await self._publish(tracked, action)
        elif isinstance(action, m.WakeAt):
            self._tasks.start_soon(self._timer, uid, action.at)
        elif isinstance(action, m.FetchFinalLogs):
            await self._listener.job_ended(tracked.pod, tracked.job)
        elif isinstance(action, m.Forget):
            del self._pods[uid]
            self._polls.discard(uid)
            await self._listener.forgotten(tracked.pod, action)

    async def _publish(self, tracked: _Tracked, action: m.PublishStatus) -> None:
        if action.job_id is not None and tracked.job.job_id != action.job_id:
            tracked.job = attrs.evolve(tracked.job, job_id=action.job_id)
        status = status_for(tracked.pod, action, previous=tracked.status)
        if status != tracked.status:
            tracked.status = status
            await self._listener.status_changed(tracked.pod, status)

    async def _submit(self, uid: str, tracked: _Tracked) -> None:
        event: m.Event
        try:
            job_id = await self._backend.create(tracked.pod, tracked.objects)
        except InputError as exc:
            event = m.SubmitFailed(at=self._clock(), message=str(exc), permanent=True)
        except TransportError as exc:
            event = m.TransportFailed(at=self._clock(), operation="submit", message=str(exc))
        except InterlinkError as exc:
            event = m.SubmitFailed(at=self._clock(), message=str(exc), permanent=False)
        else:
            event = m.SubmitSucceeded(at=self._clock(), job_id=job_id)
        self._send.send_nowait((uid, event))

    async def _poll_batch(self) -> None:
        await anyio.sleep(self._poll_window)
        uids = [uid for uid in self._polls if uid in self._pods]
        self._polls.clear()
        if not uids:
            return
        jobs = [self._pods[uid].job for uid in uids]
        try:
            answers = await self._backend.status(jobs)
        except InterlinkError as exc:
            now = self._clock()
            for uid in uids:
                failed = m.TransportFailed(at=now, operation="poll", message=str(exc))
                self._send.send_nowait((uid, failed))
            return
        now = self._clock()
        for uid, answer in zip(uids, answers, strict=True):
            self._send.send_nowait((uid, _observed(answer, now)))

    async def _cancel(self, uid: str, tracked: _Tracked) -> None:
        event: m.Event
        try:
            await self._backend.delete(tracked.job)
        except InterlinkError as exc:
            event = m.TransportFailed(at=self._clock(), operation="cancel", message=str(exc))
        else:
            event = m.DeleteConfirmed(at=self._clock())
        self._send.send_nowait((uid, event))

    async def _timer(self, uid: str, at: datetime) -> None:
        delay = (at - self._clock()).total_seconds()
        if delay > 0:
            await anyio.sleep(delay)
        self._send.send_nowait((uid, m.TimerFired(at=max(at, self._clock()))))


def _observed(answer: StatusAnswer, now: datetime) -> m.Event:
    if not answer.found:
        return m.JobNotFound(at=now)
    state = answer.observation.job or RemoteState(kind="unknown")
    return m.StatusObserved(at=now, state=state, containers=answer.observation.containers)
