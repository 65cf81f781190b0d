"""What a scheduler says about a job, in one neutral vocabulary.

Every dialect's parser (squeue, sacct, scontrol, condor_q/condor_history ads, UNICORE job
properties) ends in a :class:`RemoteState`; every per-container ``.status`` file ends in a
:class:`ContainerResult`. The status mapping (Kubernetes container states and pod phase) and
the per-pod state machine only ever see these, never a dialect.

Reasons are kept as the scheduler or our state tables name them: a pending reason such as
``Priority`` or ``Resources`` while queued; ``OOMKilled``, ``DeadlineExceeded``,
``Preempted``, ``NodeFail``, ``Evicted``, ``Error`` for failures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

import attrs

__all__ = [
    "REMOTE_KINDS",
    "TERMINAL_KINDS",
    "ContainerResult",
    "RemoteKind",
    "RemoteState",
]

RemoteKind = Literal["queued", "starting", "running", "succeeded", "failed", "cancelled", "unknown"]
"""The neutral job states.

``queued``: accepted, waiting (held, requeued, suspended before start included); ``starting``:
resources allocated, not running user code yet (Slurm CONFIGURING, UNICORE STAGINGIN);
``running``: user code runs (or ran and output is being staged out); ``succeeded`` /
``failed`` / ``cancelled``: ended; ``unknown``: the scheduler gave no usable answer.
"""

REMOTE_KINDS: Final[tuple[RemoteKind, ...]] = (
    "queued",
    "starting",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "unknown",
)
TERMINAL_KINDS: Final = frozenset({"succeeded", "failed", "cancelled"})


@attrs.frozen(kw_only=True)
class RemoteState:
    """One observation of a job.

    ``raw`` is the scheduler's own word for the state (``PENDING``, ``JobStatus=5``,
    ``QUEUED``) so that messages and logs can show it. ``exit_code`` and ``signal`` are the
    job's (not a container's) when the scheduler reports them; times are timezone-aware.
    """

    kind: RemoteKind
    raw: str = ""
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def terminal(self) -> bool:
        """Whether the job has ended (succeeded, failed or cancelled)."""
        return self.kind in TERMINAL_KINDS


@attrs.frozen(kw_only=True)
class ContainerResult:
    """What the job's working directory says about one container.

    ``exit_code`` comes from ``<init|run>-<name>.status`` (``None`` while the file does not
    exist: the container has not ended); a code above 128 means death by signal
    ``exit_code - 128`` (bash's convention, which the pod script keeps).
    """

    name: str
    init: bool = False
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
