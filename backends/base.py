"""The Backend interface: what a site can do with pods, whatever the scheduler.

Every backend is a core dialect (what to submit, how to read what the scheduler says) plus a
transport (a :class:`~pyinterlink.adapters.commands.CommandRunner`, or HTTP); decisions stay
in ``pyinterlink.core``. The per-pod state machine (``core.machine``) decides *when* to call
which method; a backend only carries the call out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol, Self

import attrs
from pyinterlink.core import Observation, Pod, PodObjects
from pyinterlink.core.wire import ContainerLogOpts, PingResponse

__all__ = ["Backend", "JobRef", "LogRequest", "StatusAnswer"]


@attrs.frozen(kw_only=True)
class JobRef:
    """A pod a backend tracks: enough to find its job and its working directory."""

    pod_uid: str
    namespace: str
    name: str
    job_id: str | None = None


@attrs.frozen(kw_only=True)
class StatusAnswer:
    """What a backend knows about one tracked pod after a status call.

    ``found`` is false when the scheduler does not know the job at all (the state machine
    then decides whether the job is lost); otherwise ``observation`` holds the job's state
    and the results of the containers that ended.
    """

    pod_uid: str
    found: bool = True
    observation: Observation = attrs.field(factory=Observation)
    job_id: str | None = None


@attrs.frozen(kw_only=True)
class LogRequest:
    """One container's log: which pod and container, and the kubelet's options."""

    job: JobRef
    container: str
    opts: ContainerLogOpts = attrs.field(factory=ContainerLogOpts)
    init: bool | None = None
    """Whether ``container`` is an init container; ``None``: the backend finds out."""


class Backend(Protocol):
    """A site that runs pods as jobs; used as ``async with backend: ...``."""

    name: str

    async def create(self, pod: Pod, objects: PodObjects) -> str:
        """Submit ``pod`` and return its job id. Idempotent by pod UID: when a job for this
        UID exists already, its id is returned and nothing new is submitted. Raises
        ``InputError`` subclasses when the pod cannot run here (permanent) and
        ``TransportError`` when the site could not be reached (transient)."""
        ...

    async def delete(self, job: JobRef) -> None:
        """Cancel the pod's job (if any is left) and clean up after it; idempotent."""
        ...

    async def status(self, jobs: Sequence[JobRef]) -> list[StatusAnswer]:
        """The state of every job in ``jobs``, in the same order, with a bounded number of
        scheduler calls independent of ``len(jobs)`` (one ``squeue`` per call, say)."""
        ...

    def logs(self, request: LogRequest) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """A container's log as a stream of chunks; with ``opts.follow`` the stream stays open
        until the container ends (or the caller leaves the context)."""
        ...

    async def ping(self) -> PingResponse:
        """Whether the site answers, and its free resources."""
        ...

    async def aclose(self) -> None:
        """Release connections and background tasks; idempotent."""
        ...

    async def __aenter__(self) -> Self:
        """Start what the backend runs in the background (a task group, a connection)."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """:meth:`aclose`."""
        ...
