"""The Slurm job state table: every state Slurm prints, and what it means for a pod.

Theory of operation: squeue (``%T``/``%t``, ``-O State``/``StateCompact``), ``scontrol show
job`` (``JobState=``) and ``sacct`` (``State``) all print a job's state as one of the 24
names of squeue(1)'s "JOB STATE CODES", or its short code. The parsers of
:mod:`._slurm_status` look the *whole* word up here, never a part of it: a substring match
(upstream interLink's) takes ``CF`` (CONFIGURING) for ``F`` (FAILED, so finished) and ``RQ``
(REQUEUED) for ``R`` (RUNNING). sacct may add words (``CANCELLED by 1000``, the
uid that cancelled) or a ``+`` when the state was cut to the column width (``CANCELLED+``);
the parsers take the first word without its ``+``.

Each row gives the neutral :data:`~._remote.RemoteKind` and the reason the pod shows, with
the decisions this project takes where Slurm leaves room:

* **Flags shown as states** (COMPLETING, CONFIGURING, REQUEUED, RESIZING, SIGNALING,
  STAGE_OUT, STOPPED, SPECIAL_EXIT …) are printed instead of the base state while they last.
  COMPLETING means the job's processes are ending but the base state (COMPLETED, FAILED,
  TIMEOUT, CANCELLED …) is not printed yet, so the pod stays *running* (reason
  ``Completing``) until Slurm says how it ended: an exit code alone cannot tell a time-out or
  a cancellation from a failure, and a phase never moves back.
* **CONFIGURING** has an allocation whose nodes are being readied (booted): *starting*.
* **SUSPENDED** and **STOPPED** have started and keep (STOPPED) or give back (SUSPENDED) their
  CPUs: the pod stays *running*, with the state as reason, and never goes back to queued.
* **PREEMPTED** is the end state of a job preempted with ``PreemptMode=CANCEL`` (or whose
  requeue failed): *failed* with ``Preempted``. A job preempted with ``PreemptMode=REQUEUE``
  is printed as REQUEUED and then PENDING, so it is queued again through those rows.
* **REQUEUED, REQUEUE_FED, REQUEUE_HOLD, RESV_DEL_HOLD, SPECIAL_EXIT** wait to run (again):
  *queued*. SPECIAL_EXIT is a job requeued and held because it ended with the site's
  special exit code; a person or policy releases it.
* **REVOKED** is a federation sibling removed because another cluster runs the job: this
  cluster can no longer tell how it goes, so *unknown* (no news) rather than an end.
* **PENDING** is the only row whose reason is the scheduler's own pending reason (``%r``:
  ``Priority``, ``Resources``, ``BeginTime``, ``Dependency``, ``JobHeldUser``,
  ``ReqNodeNotAvail`` …), so that ``kubectl describe`` says why the pod waits. Every other
  row has the reason below; the scheduler's reason, when it gives one, becomes the message.

A word that is not in the table but has the shape of a state (capital letters and
underscores) is a state of a newer Slurm: *unknown*, with the word as ``raw``. Anything else
where a state belongs is an error of the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from ._remote import RemoteKind

__all__ = ["SLURM_STATES", "SLURM_STATE_TABLE", "SlurmStateRow", "slurm_state"]

_SQUEUE = (
    "squeue(1), JOB STATE CODES: https://slurm.schedmd.com/squeue.html#SECTION_JOB-STATE-CODES"
)
_SACCT = "sacct(1), JOB STATE CODES: https://slurm.schedmd.com/sacct.html#SECTION_JOB-STATE-CODES"
_BOTH = f"{_SQUEUE}; {_SACCT}"


@attrs.frozen(kw_only=True)
class SlurmStateRow:
    """One Slurm job state and what it means for a pod.

    ``state`` is the long name (``PENDING``), ``code`` the short one squeue prints with
    ``%t`` (``PD``); ``kind`` and ``reason`` are the :class:`~._remote.RemoteState` the
    parsers make of it, except that ``pending_reason`` rows take the scheduler's reason
    instead. ``note`` says why the row reads as it does, ``source`` cites the documentation.
    """

    state: str
    code: str
    kind: RemoteKind
    reason: str | None = None
    pending_reason: bool = False
    note: str = ""
    source: str


SLURM_STATE_TABLE: Final[tuple[SlurmStateRow, ...]] = (
    SlurmStateRow(
        state="BOOT_FAIL",
        code="BF",
        kind="failed",
        reason="NodeFail",
        note="Launch failure, typically hardware (a node that does not boot).",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="CANCELLED",
        code="CA",
        kind="cancelled",
        note="Cancelled by a user or an administrator, before or after it started; sacct "
        "adds the uid that cancelled it (CANCELLED by 1000).",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="COMPLETED",
        code="CD",
        kind="succeeded",
        note="Every process on every node exited 0.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="CONFIGURING",
        code="CF",
        kind="starting",
        reason="Configuring",
        note="Resources allocated, nodes being readied (booting). Upstream interLink reports "
        "it as finished.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="COMPLETING",
        code="CG",
        kind="running",
        reason="Completing",
        note="Processes are ending; how the job ended is printed once they are gone, so the "
        "pod stays running until then.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="DEADLINE",
        code="DL",
        kind="failed",
        reason="DeadlineExceeded",
        note="Ended at its --deadline.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="FAILED",
        code="F",
        kind="failed",
        note="Non-zero exit code or another failure; the scheduler's reason "
        "(NonZeroExitCode, JobLaunchFailure …) is the message.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="NODE_FAIL",
        code="NF",
        kind="failed",
        reason="NodeFail",
        note="A node of the job failed.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="OUT_OF_MEMORY",
        code="OOM",
        kind="failed",
        reason="OOMKilled",
        note="Killed for using more memory than it asked for (Kubernetes' word).",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="PENDING",
        code="PD",
        kind="queued",
        pending_reason=True,
        note="Waiting for resources; the reason is the scheduler's pending reason "
        "(Priority, Resources, BeginTime, Dependency, JobHeldUser, ReqNodeNotAvail …).",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="PREEMPTED",
        code="PR",
        kind="failed",
        reason="Preempted",
        note="Ended by preemption. A job requeued on preemption shows REQUEUED, then PENDING.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="RUNNING",
        code="R",
        kind="running",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="RESV_DEL_HOLD",
        code="RD",
        kind="queued",
        reason="ReservationDeleted",
        note="Held because the reservation it asked for was deleted.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="REQUEUE_FED",
        code="RF",
        kind="queued",
        reason="Requeued",
        note="Being requeued by a federation.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="REQUEUE_HOLD",
        code="RH",
        kind="queued",
        reason="RequeueHold",
        note="Requeued and held (scontrol requeuehold): waits for a release.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="REQUEUED",
        code="RQ",
        kind="queued",
        reason="Requeued",
        note="Requeued (by scontrol requeue, a node failure or preemption); runs again. "
        "Upstream interLink reports it as running.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="RESIZING",
        code="RS",
        kind="running",
        reason="Resizing",
        note="About to change size; it keeps running.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="REVOKED",
        code="RV",
        kind="unknown",
        reason="Revoked",
        note="A federation sibling removed because another cluster started the job: this "
        "cluster cannot tell how it goes.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="SIGNALING",
        code="SI",
        kind="running",
        reason="Signaling",
        note="Being signalled (scancel --signal); it still runs.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="SPECIAL_EXIT",
        code="SE",
        kind="queued",
        reason="SpecialExit",
        note="Requeued and held after ending with the site's special exit code; runs again "
        "once released.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="STAGE_OUT",
        code="SO",
        kind="running",
        reason="StageOut",
        note="Ran; its burst buffer is being staged out.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="STOPPED",
        code="ST",
        kind="running",
        reason="Stopped",
        note="Stopped with SIGSTOP, CPUs retained; it has started, so it stays running.",
        source=_SQUEUE,
    ),
    SlurmStateRow(
        state="SUSPENDED",
        code="S",
        kind="running",
        reason="Suspended",
        note="Suspended, CPUs released; it has started, so it stays running.",
        source=_BOTH,
    ),
    SlurmStateRow(
        state="TIMEOUT",
        code="TO",
        kind="failed",
        reason="DeadlineExceeded",
        note="Reached its time limit (the pod's activeDeadlineSeconds).",
        source=_BOTH,
    ),
)
"""Every job state of squeue(1), as data: the reference documentation is generated from it."""

SLURM_STATES: Final[Mapping[str, SlurmStateRow]] = MappingProxyType(
    {row.state: row for row in SLURM_STATE_TABLE} | {row.code: row for row in SLURM_STATE_TABLE}
)
"""The rows by long name and by short code (the two never collide)."""


def slurm_state(word: str) -> SlurmStateRow | None:
    """The row of one state word, long name or short code, matched whole and exactly.

    ``None`` when the word is not a state of the table (a newer Slurm's, or not a state at
    all): ``FAILED`` and ``F`` match, ``FAILED_X``, ``failed`` and ``AILED`` do not.
    """
    return SLURM_STATES.get(word)
