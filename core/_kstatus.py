"""Kubernetes status values: what the pod shows (``v1.PodStatus``, ``v1.ContainerStatus``).

Produced by the status mapping from :mod:`._remote` observations; sent on the wire inside
interLink's ``PodStatus``; patched into ``pods/status`` by the virtual kubelet. Field names
are the snake_case forms of the Kubernetes JSON names; :mod:`._kube` converts them (times as
RFC 3339 in UTC, never ``""``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

__all__ = [
    "ConditionStatus",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "PodCondition",
    "PodPhase",
    "PodStatus",
]

PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
ConditionStatus = Literal["True", "False", "Unknown"]


@attrs.frozen(kw_only=True)
class ContainerStateWaiting:
    """Not running yet; ``reason`` is one CamelCase word (``PodInitializing``)."""

    reason: str = ""
    message: str = ""


@attrs.frozen(kw_only=True)
class ContainerStateRunning:
    """Running since ``started_at``."""

    started_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ContainerStateTerminated:
    """Ended with ``exit_code`` (and ``signal`` when killed by one)."""

    exit_code: int
    signal: int | None = None
    reason: str = ""
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    container_id: str = ""


@attrs.frozen(kw_only=True)
class ContainerState:
    """Exactly one of the three is set (none: Kubernetes reads it as waiting)."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


@attrs.frozen(kw_only=True)
class ContainerStatus:
    """``v1.ContainerStatus``."""

    name: str
    state: ContainerState = ContainerState()
    last_state: ContainerState = ContainerState()
    ready: bool = False
    restart_count: int = 0
    image: str = ""
    image_id: str = ""
    container_id: str = ""
    started: bool | None = None


@attrs.frozen(kw_only=True)
class PodCondition:
    """``v1.PodCondition``: ``PodScheduled``, ``Initialized``, ``ContainersReady``, ``Ready``."""

    type: str
    status: ConditionStatus
    reason: str = ""
    message: str = ""
    last_probe_time: datetime | None = None
    last_transition_time: datetime | None = None


@attrs.frozen(kw_only=True)
class PodStatus:
    """``v1.PodStatus`` as far as an offloaded pod has one."""

    phase: PodPhase = "Pending"
    reason: str = ""
    message: str = ""
    conditions: tuple[PodCondition, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()
    container_statuses: tuple[ContainerStatus, ...] = ()
    start_time: datetime | None = None
    host_ip: str = ""
    pod_ip: str = ""
