"""From what the state machine publishes to what the pod shows, and to a process exit code.

The machine (:mod:`._machine`) says *that* something changed; :func:`status_for` says how the
pod's Kubernetes status looks then. Every driver (``interlink run``, the virtual kubelet, the
API server) calls this one function, so they cannot disagree.
"""

from __future__ import annotations

from ._kstatus import PodStatus
from ._machine import PROVIDER_FAILED, SUBMIT_RETRYING, PublishStatus
from ._model import Pod
from ._remote import RemoteState
from ._status import Observation, failed_create_status, pod_status

__all__ = ["exit_code_of", "status_for"]


def status_for(pod: Pod, published: PublishStatus, *, previous: PodStatus | None) -> PodStatus:
    """The pod's status after ``published``, given the status it showed before.

    A failed create (``ProviderFailed``) shows every container terminated with the error; a
    submission being retried shows the pod waiting, with the backend's error as the reason it
    waits; anything else is the mapping of the latest observation.
    """
    failure = published.failure
    if failure is not None and failure.reason == PROVIDER_FAILED:
        return failed_create_status(pod, failure.message, previous=previous, now=published.at)
    remote = published.remote
    if failure is not None and failure.reason == SUBMIT_RETRYING:
        remote = RemoteState(kind="queued", reason=failure.reason, message=failure.message)
    observation = Observation(job=remote, containers=published.containers)
    return pod_status(pod, observation, previous=previous, now=published.at)


def exit_code_of(status: PodStatus | None) -> int:
    """A process exit status for a pod, as ``interlink run`` reports it: 0 when it succeeded,
    else the first failed container's exit code (init containers first), else 1."""
    if status is not None and status.phase == "Succeeded":
        return 0
    containers = (status.init_container_statuses + status.container_statuses) if status else ()
    codes = [
        terminated.exit_code
        for container in containers
        if (terminated := container.state.terminated) is not None and terminated.exit_code
    ]
    return codes[0] if codes else 1
