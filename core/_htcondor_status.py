"""HTCondor dialect, status side: what ``condor_submit``, ``condor_q`` and ``condor_history`` say.

Theory of operation: the backend submits one job per pod (see :mod:`._htcondor`) and then asks
the schedd about all of its jobs at once, ``condor_q -json -attributes <HTCONDOR_AD_ATTRIBUTES>``
for the jobs in the queue and ``condor_history -json`` for those that left it. Both print a
JSON array of job ClassAds (nothing at all when no job matches); each ad becomes one
:class:`~._remote.RemoteState` through the state table below. The output is keyed by the pod
UID that every job carries in its ``PodUID`` attribute, so the backend maps answers back to
pods without remembering job ids: a retried submission, a restart or a lost local cache
changes nothing. An ad without ``PodUID`` (a job submitted by something else, or by hand) is
keyed by its job id ``ClusterId.ProcId``; a Kubernetes UID is an RFC 4122 UUID, which never
looks like a job id, so the two kinds of key cannot collide. When several ads carry the same
``PodUID`` the one with the highest job id (the latest submission) wins.

The state table follows ``JobStatus`` (1 Idle … 7 Suspended) and refines it with the hold
reason, the removal reason and the exit status:

* A **hold** is a pause that ``condor_release`` (by a person or a ``periodic_release``
  policy) can undo, so a held job is *queued*, with the hold's label (``UserRequest``,
  ``TransferInputError`` …) as the reason and ``HoldReason`` as the message: ``kubectl
  describe`` shows why the pod waits. The exceptions are the holds that mean the pod broke a
  limit it asked for: ``HoldReasonCode`` 47 (``allowed_execute_duration``, how pyinterlink
  enforces ``activeDeadlineSeconds``) and 46 (``allowed_job_duration``) are ``failed`` with
  reason ``DeadlineExceeded``; 34 (resource usage above the request) is ``OOMKilled`` for
  memory and ``Evicted`` for disk (what the kubelet reports for ephemeral storage). Releasing
  such a job would only rerun the pod from the start, so the pod has failed; the backend then
  removes the job.
* A **removed** job is *cancelled* (upstream interLink reports it as a success), unless a
  policy removed it: the ``periodic_remove`` that pyinterlink writes for the time limit
  (``time() - EnteredCurrentStatus > N``) means ``DeadlineExceeded``, any other job or system
  ``PERIODIC_REMOVE`` policy means ``failed`` with reason ``RemovedByPolicy``. A job removed
  while held for one of the failures above keeps that failure, when the ad still carries the
  hold code.
* A **completed** job succeeded only with ``ExitCode`` 0 and ``ExitBySignal`` false.
* **Transferring Output** runs the output transfer after the executable exited: *running*,
  as UNICORE's STAGINGOUT. **Suspended** jobs have started and keep their slot: *running*
  with reason ``Suspended``, never back to queued.

Times are epoch seconds in the ads (0 for "not yet") and become aware datetimes in UTC:
``started_at`` from ``JobCurrentStartDate`` (the latest run) or else ``JobStartDate``,
``finished_at`` from ``CompletionDate`` or else ``EnteredCurrentStatus`` (when the job was
removed or held for good). ClassAd attribute names ignore case, and so does this parser.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Final

import attrs

from ._errors import SchedulerOutputError
from ._remote import RemoteKind, RemoteState

__all__ = [
    "HTCONDOR_AD_ATTRIBUTES",
    "HTCONDOR_HOLD_REASONS",
    "HTCONDOR_STATE_TABLE",
    "CondorJob",
    "StateRow",
    "htcondor_job_state",
    "parse_condor_ads",
    "parse_condor_jobs",
    "parse_condor_submit",
]

HTCONDOR_AD_ATTRIBUTES: Final[tuple[str, ...]] = (
    "ClusterId",
    "ProcId",
    "PodUID",
    "JobStatus",
    "ExitCode",
    "ExitBySignal",
    "ExitSignal",
    "HoldReason",
    "HoldReasonCode",
    "HoldReasonSubCode",
    "JobStartDate",
    "JobCurrentStartDate",
    "CompletionDate",
    "EnteredCurrentStatus",
    "RemoveReason",
)
"""The attributes the parsers read: what the backend projects with ``-attributes``."""

_MANUAL = "https://htcondor.readthedocs.io/en/latest"
_JOB_ATTRIBUTES = f"{_MANUAL}/classad-attributes/job-classad-attributes.html"
_HOLD_CODES = f"{_MANUAL}/codes-other-values/hold-reason-codes.html"
_SUBMIT = f"{_MANUAL}/man-pages/condor_submit.html"

# JobStatus values (job ClassAd attributes, "JobStatus").
_IDLE, _RUNNING, _REMOVED, _COMPLETED, _HELD, _TRANSFERRING_OUTPUT, _SUSPENDED = range(1, 8)

HTCONDOR_HOLD_REASONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        1: "UserRequest",
        3: "JobPolicy",
        4: "CorruptedCredential",
        5: "JobPolicyUndefined",
        6: "FailedToCreateProcess",
        7: "UnableToOpenOutput",
        8: "UnableToOpenInput",
        9: "UnableToOpenOutputStream",
        10: "UnableToOpenInputStream",
        11: "InvalidTransferAck",
        12: "TransferOutputError",
        13: "TransferInputError",
        14: "IwdError",
        15: "SubmittedOnHold",
        16: "SpoolingInput",
        17: "JobShadowMismatch",
        18: "InvalidTransferGoAhead",
        19: "HookPrepareJobFailure",
        20: "MissedDeferredExecutionTime",
        21: "StartdHeldJob",
        22: "UnableToInitUserLog",
        23: "FailedToAccessUserAccount",
        24: "NoCompatibleShadow",
        25: "InvalidCronSettings",
        26: "SystemPolicy",
        27: "SystemPolicyUndefined",
        32: "MaxTransferInputSizeExceeded",
        33: "MaxTransferOutputSizeExceeded",
        34: "JobOutOfResources",
        35: "InvalidDockerImage",
        36: "FailedToCheckpoint",
        37: "EC2UserError",
        38: "EC2InternalError",
        39: "EC2AdminError",
        40: "EC2ConnectionProblem",
        41: "EC2ServerError",
        42: "EC2InstancePotentiallyLost",
        43: "PreScriptFailed",
        44: "PostScriptFailed",
        45: "SingularityTestFailed",
        46: "JobDurationExceeded",
        47: "JobExecuteExceeded",
        48: "HookShadowPrepareJobFailure",
    }
)
"""``HoldReasonCode`` → its ``NumHoldsByReason`` label, from the manual's hold reason codes
table; a held job that is still queued shows the label as its reason."""

_JOB_DURATION_EXCEEDED = 46
_JOB_EXECUTE_EXCEEDED = 47
_JOB_OUT_OF_RESOURCES = 34
# HoldReasonSubCode of code 34: which resource went over its request.
_MEMORY_SUBCODES = frozenset({0, 102})  # 0: releases before the subcodes, memory only
_DISK_SUBCODE = 104

# RemoveReason as the schedd words a policy removal (the job's own periodic_remove, and the
# pool's SYSTEM_PERIODIC_REMOVE); condor_rm writes "via condor_rm (by user NAME)" instead.
_JOB_POLICY_REMOVAL = "PeriodicRemove expression"
_SYSTEM_POLICY_REMOVAL = "SYSTEM_PERIODIC_REMOVE expression"
# The shape of the periodic_remove expression that _htcondor writes for the time limit.
_TIME_LIMIT_EXPRESSION = re.compile(r"time\(\)\s*-\s*EnteredCurrentStatus\s*>")

# Epoch seconds that datetime can represent (up to 9999-12-31T23:59:59Z).
_MAX_EPOCH = 253_402_300_799
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _frozen(value: Mapping[str, object]) -> Mapping[str, object]:
    # A read-only copy: rows are constants, the caller's dict must not leak in.
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class StateRow:
    """One entry of a scheduler state table, as data for the reference documentation.

    ``state`` is the scheduler's word (``5 (Held)``, ``FAILED``), ``condition`` what else
    must hold for this row (empty: nothing), ``kind`` and ``reason`` the
    :class:`~._remote.RemoteState` the parser produces for ``sample`` (the smallest scheduler
    output that selects the row: tests parse it, so the table cannot drift from the code),
    ``note`` why the row reads as it does, and ``source`` the documentation it follows.
    """

    state: str
    condition: str = ""
    kind: RemoteKind
    reason: str | None = None
    note: str = ""
    source: str
    sample: Mapping[str, object] = attrs.field(factory=dict, converter=_frozen, hash=False)


HTCONDOR_STATE_TABLE: Final[tuple[StateRow, ...]] = (
    StateRow(
        state="1 (Idle)",
        kind="queued",
        note="Waiting for a match with an execute slot.",
        source=f"{_JOB_ATTRIBUTES}#JobStatus",
        sample={"JobStatus": 1},
    ),
    StateRow(
        state="2 (Running)",
        kind="running",
        source=f"{_JOB_ATTRIBUTES}#JobStatus",
        sample={"JobStatus": 2},
    ),
    StateRow(
        state="3 (Removed)",
        condition="RemoveReason names the job's PeriodicRemove expression on "
        "time() - EnteredCurrentStatus (pyinterlink's time limit)",
        kind="failed",
        reason="DeadlineExceeded",
        note="The pod's activeDeadlineSeconds, enforced with time_limit: periodic_remove.",
        source=f"{_SUBMIT}#periodic_remove",
        sample={
            "JobStatus": 3,
            "RemoveReason": "The job attribute PeriodicRemove expression 'JobStatus == 2 && "
            "time() - EnteredCurrentStatus > 600' evaluated to TRUE",
        },
    ),
    StateRow(
        state="3 (Removed)",
        condition="RemoveReason names another PeriodicRemove or SYSTEM_PERIODIC_REMOVE policy",
        kind="failed",
        reason="RemovedByPolicy",
        note="Nobody asked for the removal: the pool's or the job's policy ended it.",
        source=f"{_SUBMIT}#periodic_remove",
        sample={
            "JobStatus": 3,
            "RemoveReason": "The system macro SYSTEM_PERIODIC_REMOVE expression "
            "'NumJobStarts > 10' evaluated to TRUE",
        },
    ),
    StateRow(
        state="3 (Removed)",
        condition="HoldReasonCode 46, 47 or 34: removed while held for a failure",
        kind="failed",
        reason="DeadlineExceeded",
        note="Keeps the failure of the hold (as the Held rows), when the ad still has the code.",
        source=_HOLD_CODES,
        sample={
            "JobStatus": 3,
            "HoldReasonCode": 47,
            "HoldReason": "The job exceeded allowed execute duration of 0+00:10:00",
            "RemoveReason": "via condor_rm (by user alice)",
        },
    ),
    StateRow(
        state="3 (Removed)",
        condition="otherwise (condor_rm)",
        kind="cancelled",
        note="Upstream interLink reports a removed job as a success; it is a cancellation. "
        "The message is RemoveReason.",
        source=f"{_JOB_ATTRIBUTES}#JobStatus",
        sample={"JobStatus": 3, "RemoveReason": "via condor_rm (by user alice)"},
    ),
    StateRow(
        state="4 (Completed)",
        condition="ExitBySignal false, ExitCode 0",
        kind="succeeded",
        source=f"{_JOB_ATTRIBUTES}#ExitCode",
        sample={"JobStatus": 4, "ExitBySignal": False, "ExitCode": 0},
    ),
    StateRow(
        state="4 (Completed)",
        condition="ExitBySignal false, ExitCode not 0",
        kind="failed",
        reason="Error",
        note="The exit code is the job's.",
        source=f"{_JOB_ATTRIBUTES}#ExitCode",
        sample={"JobStatus": 4, "ExitBySignal": False, "ExitCode": 3},
    ),
    StateRow(
        state="4 (Completed)",
        condition="ExitBySignal true",
        kind="failed",
        reason="Error",
        note="The signal is ExitSignal; HTCondor gives no exit code then.",
        source=f"{_JOB_ATTRIBUTES}#ExitBySignal",
        sample={"JobStatus": 4, "ExitBySignal": True, "ExitSignal": 9},
    ),
    StateRow(
        state="4 (Completed)",
        condition="no ExitCode",
        kind="failed",
        reason="Error",
        note="Without an exit code the job cannot be shown to have succeeded.",
        source=f"{_JOB_ATTRIBUTES}#ExitCode",
        sample={"JobStatus": 4},
    ),
    StateRow(
        state="5 (Held)",
        condition="HoldReasonCode 47 (JobExecuteExceeded) or 46 (JobDurationExceeded)",
        kind="failed",
        reason="DeadlineExceeded",
        note="allowed_execute_duration is how pyinterlink enforces activeDeadlineSeconds; "
        "the backend removes the held job.",
        source=_HOLD_CODES,
        sample={
            "JobStatus": 5,
            "HoldReasonCode": 47,
            "HoldReason": "The job exceeded allowed execute duration of 0+00:10:00",
        },
    ),
    StateRow(
        state="5 (Held)",
        condition="HoldReasonCode 34 (JobOutOfResources), subcode 102 (memory) or 0",
        kind="failed",
        reason="OOMKilled",
        note="Memory usage above request_memory, the pod's memory limit.",
        source=_HOLD_CODES,
        sample={
            "JobStatus": 5,
            "HoldReasonCode": 34,
            "HoldReasonSubCode": 102,
            "HoldReason": "Error from slot1_1@node1: Job has gone over cgroup memory limit "
            "of 2048 megabytes.",
        },
    ),
    StateRow(
        state="5 (Held)",
        condition="HoldReasonCode 34 (JobOutOfResources), subcode 104 (disk)",
        kind="failed",
        reason="Evicted",
        note="Disk usage above request_disk: what the kubelet reports for ephemeral storage.",
        source=_HOLD_CODES,
        sample={"JobStatus": 5, "HoldReasonCode": 34, "HoldReasonSubCode": 104},
    ),
    StateRow(
        state="5 (Held)",
        condition="HoldReasonCode 34 (JobOutOfResources), another subcode",
        kind="failed",
        reason="JobOutOfResources",
        note="A resource this table does not know went over its request.",
        source=_HOLD_CODES,
        sample={"JobStatus": 5, "HoldReasonCode": 34, "HoldReasonSubCode": 105},
    ),
    StateRow(
        state="5 (Held)",
        condition="any other HoldReasonCode",
        kind="queued",
        reason="UserRequest",
        note="A hold waits for condor_release: the reason is the code's NumHoldsByReason "
        "label (here code 1), or Held for a code the table does not know; the message is "
        "HoldReason.",
        source=_HOLD_CODES,
        sample={
            "JobStatus": 5,
            "HoldReasonCode": 1,
            "HoldReason": "via condor_hold (by user alice)",
        },
    ),
    StateRow(
        state="6 (Transferring Output)",
        kind="running",
        note="The executable has exited and its output files travel back.",
        source=f"{_JOB_ATTRIBUTES}#JobStatus",
        sample={"JobStatus": 6},
    ),
    StateRow(
        state="7 (Suspended)",
        kind="running",
        reason="Suspended",
        note="Started and stopped by the execute machine's policy; it keeps its slot.",
        source=f"{_JOB_ATTRIBUTES}#JobStatus",
        sample={"JobStatus": 7},
    ),
    StateRow(
        state="any other value",
        kind="unknown",
        note="Not a JobStatus of the manual.",
        source=f"{_JOB_ATTRIBUTES}#JobStatus",
        sample={"JobStatus": 8},
    ),
)
"""The HTCondor state table: ``JobStatus`` refined by hold, removal and exit attributes."""


@attrs.frozen(kw_only=True)
class CondorJob:
    """One job ad: the job's id, the pod it runs (``PodUID``, if any) and its state."""

    cluster_id: int
    proc_id: int
    pod_uid: str | None
    state: RemoteState

    @property
    def job_id(self) -> str:
        """``ClusterId.ProcId``, as HTCondor's tools name a job."""
        return f"{self.cluster_id}.{self.proc_id}"

    @property
    def key(self) -> str:
        """The key of :func:`parse_condor_ads`: the pod UID, else the job id."""
        return self.pod_uid if self.pod_uid else self.job_id


# ---------------------------------------------------------------------------------------
# condor_submit


# re.ASCII: \d and \s would otherwise accept other scripts' digits and separators.
_SUBMITTED = re.compile(
    r"^[ \t]*([0-9]{1,10}) job\(s\) submitted to cluster ([0-9]{1,10})\.[ \t\r]*$",
    re.MULTILINE | re.ASCII,
)
_TERSE = re.compile(
    r"^[ \t]*([0-9]{1,10})\.([0-9]{1,10})[ \t]+-[ \t]+([0-9]{1,10})\.([0-9]{1,10})[ \t\r]*$",
    re.MULTILINE | re.ASCII,
)
_ERROR_LINE = re.compile(r"^[ \t]*ERROR\b.*$", re.MULTILINE)


def parse_condor_submit(text: str) -> int:
    """Return the cluster id that ``condor_submit`` reports in ``text``.

    Accepts the default output (``1 job(s) submitted to cluster 123.``, with any other lines
    around it) and ``condor_submit -terse`` (``123.0 - 123.0``). Raises
    :class:`SchedulerOutputError` when no job was submitted (quoting HTCondor's ``ERROR``
    line when there is one), or when the output names more than one cluster (pyinterlink
    submits exactly one).
    """
    clusters: set[int] = set()
    for match in _SUBMITTED.finditer(text):
        if int(match[1]) > 0:
            clusters.add(int(match[2]))
    for match in _TERSE.finditer(text):
        first, last = (int(match[1]), int(match[2])), (int(match[3]), int(match[4]))
        if first[0] != last[0] or first[1] > last[1]:
            raise SchedulerOutputError(f"condor_submit -terse named an odd range {match[0]!r}")
        clusters.add(first[0])
    clusters.discard(0)  # HTCondor numbers clusters from 1
    if len(clusters) > 1:
        listed = ", ".join(str(cluster) for cluster in sorted(clusters))
        raise SchedulerOutputError(f"condor_submit reported several clusters ({listed})")
    if not clusters:
        error = _ERROR_LINE.search(text)
        detail = error[0].strip() if error else f"output was {_excerpt(text)}"
        raise SchedulerOutputError(f"condor_submit submitted no job: {detail}")
    (cluster,) = clusters
    return cluster


def _excerpt(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---------------------------------------------------------------------------------------
# Job ads


def parse_condor_ads(text: str) -> dict[str, RemoteState]:
    """Return the state of every job in ``condor_q -json`` or ``condor_history -json`` output.

    Keys are pod UIDs (the ``PodUID`` attribute pyinterlink gives every job) or, for an ad
    without one, the job id ``ClusterId.ProcId``; of several ads for the same key the one with
    the highest job id wins. Empty output means no jobs. Raises
    :class:`SchedulerOutputError` as :func:`parse_condor_jobs` does.
    """
    latest: dict[str, CondorJob] = {}
    for job in parse_condor_jobs(text):
        seen = latest.get(job.key)
        if seen is None or (job.cluster_id, job.proc_id) >= (seen.cluster_id, seen.proc_id):
            latest[job.key] = job
    return {key: job.state for key, job in latest.items()}


def parse_condor_jobs(text: str) -> tuple[CondorJob, ...]:
    """Return every job ad of ``condor_q -json`` / ``condor_history -json`` output, in order.

    The output is a JSON array of ads, or nothing (no job matched). Each ad needs integer
    ``ClusterId``, ``ProcId`` and ``JobStatus``; the other attributes of
    :data:`HTCONDOR_AD_ATTRIBUTES` are optional, but must have their documented types when
    present. Raises :class:`SchedulerOutputError` naming the ad and attribute
    (``[2].ExitCode``) when the output is not such an array.
    """
    if not text.strip():
        return ()
    try:
        # strict=False: a raw control character inside a message (a HoldReason quoting a
        # file) must not hide the state of every other job.
        decoded = json.loads(text, parse_constant=_reject_constant, strict=False)
    except (ValueError, RecursionError) as exc:
        raise SchedulerOutputError(f"not a JSON array of job ads: {exc}") from None
    if not isinstance(decoded, list):
        raise SchedulerOutputError(f"expected a JSON array of job ads, got {_describe(decoded)}")
    jobs = []
    for index, item in enumerate(decoded):
        path = f"[{index}]"
        if not isinstance(item, dict):
            raise SchedulerOutputError(f"expected a job ad, got {_describe(item)}", path=path)
        ad = _Ad(item, path)
        cluster_id = ad.count("ClusterId")
        proc_id = ad.count("ProcId")
        pod_uid = ad.string("PodUID")
        jobs.append(
            CondorJob(
                cluster_id=cluster_id,
                proc_id=proc_id,
                pod_uid=pod_uid or None,
                state=_state(ad),
            )
        )
    return tuple(jobs)


def htcondor_job_state(ad: Mapping[str, object]) -> RemoteState:
    """Return what one job ad (decoded JSON: attribute name → value) says about the job.

    Follows :data:`HTCONDOR_STATE_TABLE`; ``JobStatus`` is required. Raises
    :class:`SchedulerOutputError` for a missing ``JobStatus`` or an attribute of the wrong
    type.
    """
    return _state(_Ad(ad, ""))


def _reject_constant(name: str) -> object:
    # json accepts NaN and Infinity by default; HTCondor never writes them.
    raise ValueError(f"{name} is not JSON")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class _Ad:
    """A job ad with case-insensitive, typed attribute access; errors name ``path``."""

    def __init__(self, raw: Mapping[str, object], path: str) -> None:
        self.path = path
        self._values: dict[str, object] = {}
        for name, value in raw.items():
            if not isinstance(name, str):
                raise SchedulerOutputError(f"attribute name {name!r} is not a string", path=path)
            key = name.lower()
            if key in self._values:
                raise SchedulerOutputError(
                    f"attribute {name!r} appears twice (ClassAd names ignore case)", path=path
                )
            self._values[key] = value

    def _error(self, name: str, reason: str) -> SchedulerOutputError:
        return SchedulerOutputError(reason, path=f"{self.path}.{name}" if self.path else name)

    def _get(self, name: str) -> object:
        # null is how the JSON unparser writes UNDEFINED: the same as a missing attribute.
        return self._values.get(name.lower())

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self._get(name)
        if value is None:
            if required:
                raise self._error(name, "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(name, f"expected an integer, got {_describe(value)}")
        if not -(2**63) <= value < 2**63:
            raise self._error(name, "out of range for a ClassAd integer")
        return value

    def count(self, name: str) -> int:
        """A required non-negative integer (ClusterId, ProcId)."""
        value = self.integer(name, required=True)
        if value is None or value < 0:
            raise self._error(name, f"expected a non-negative integer, got {value}")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self._get(name)
        if value is None or isinstance(value, bool):
            return value
        raise self._error(name, f"expected true or false, got {_describe(value)}")

    def string(self, name: str) -> str | None:
        value = self._get(name)
        if value is None or isinstance(value, str):
            return value
        raise self._error(name, f"expected a string, got {_describe(value)}")

    def epoch(self, name: str) -> datetime | None:
        """Epoch seconds as an aware UTC datetime; 0 (HTCondor's "not yet") is ``None``."""
        value = self._get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(name, f"expected epoch seconds, got {_describe(value)}")
        if not math.isfinite(value) or not 0 <= value <= _MAX_EPOCH:
            raise self._error(name, f"{value} is not a time in epoch seconds")
        seconds = int(value)
        return _EPOCH + timedelta(seconds=seconds) if seconds else None


def _state(ad: _Ad) -> RemoteState:
    status = ad.integer("JobStatus", required=True)
    raw = f"JobStatus={status}"
    started_at = ad.epoch("JobCurrentStartDate") or ad.epoch("JobStartDate")
    if status == _IDLE:
        return RemoteState(kind="queued", raw=raw)
    if status in (_RUNNING, _TRANSFERRING_OUTPUT):
        return RemoteState(kind="running", raw=raw, started_at=started_at)
    if status == _SUSPENDED:
        return RemoteState(kind="running", raw=raw, reason="Suspended", started_at=started_at)
    if status == _HELD:
        return _held(ad, raw, started_at)
    if status == _REMOVED:
        return _removed(ad, raw, started_at)
    if status == _COMPLETED:
        return _completed(ad, raw, started_at)
    return RemoteState(
        kind="unknown",
        raw=raw,
        message=f"JobStatus {status} is not one of HTCondor's job states (1 to 7)",
    )


def _hold_failure(ad: _Ad) -> str | None:
    """The failure reason of a hold that ends the pod, ``None`` for a hold that waits."""
    code = ad.integer("HoldReasonCode")
    if code in (_JOB_EXECUTE_EXCEEDED, _JOB_DURATION_EXCEEDED):
        return "DeadlineExceeded"
    if code == _JOB_OUT_OF_RESOURCES:
        subcode = ad.integer("HoldReasonSubCode") or 0
        if subcode in _MEMORY_SUBCODES:
            return "OOMKilled"
        if subcode == _DISK_SUBCODE:
            return "Evicted"
        return HTCONDOR_HOLD_REASONS[_JOB_OUT_OF_RESOURCES]
    return None


def _finished_at(ad: _Ad) -> datetime | None:
    return ad.epoch("CompletionDate") or ad.epoch("EnteredCurrentStatus")


def _held(ad: _Ad, raw: str, started_at: datetime | None) -> RemoteState:
    message = ad.string("HoldReason") or None
    failure = _hold_failure(ad)
    if failure is not None:
        return RemoteState(
            kind="failed",
            raw=raw,
            reason=failure,
            message=message,
            started_at=started_at,
            finished_at=_finished_at(ad),
        )
    code = ad.integer("HoldReasonCode")
    label = HTCONDOR_HOLD_REASONS.get(code, "Held") if code is not None else "Held"
    return RemoteState(kind="queued", raw=raw, reason=label, message=message)


def _removed(ad: _Ad, raw: str, started_at: datetime | None) -> RemoteState:
    finished_at = _finished_at(ad)
    failure = _hold_failure(ad)
    if failure is not None:
        return RemoteState(
            kind="failed",
            raw=raw,
            reason=failure,
            message=ad.string("HoldReason") or ad.string("RemoveReason") or None,
            started_at=started_at,
            finished_at=finished_at,
        )
    reason = ad.string("RemoveReason") or None
    policy = _removal_policy(reason or "")
    if policy is not None:
        return RemoteState(
            kind="failed",
            raw=raw,
            reason=policy,
            message=reason,
            started_at=started_at,
            finished_at=finished_at,
        )
    return RemoteState(
        kind="cancelled", raw=raw, message=reason, started_at=started_at, finished_at=finished_at
    )


def _removal_policy(remove_reason: str) -> str | None:
    if _JOB_POLICY_REMOVAL in remove_reason and _TIME_LIMIT_EXPRESSION.search(remove_reason):
        return "DeadlineExceeded"
    if _JOB_POLICY_REMOVAL in remove_reason or _SYSTEM_POLICY_REMOVAL in remove_reason:
        return "RemovedByPolicy"
    return None


def _completed(ad: _Ad, raw: str, started_at: datetime | None) -> RemoteState:
    finished_at = _finished_at(ad)
    if ad.boolean("ExitBySignal"):
        signal = ad.integer("ExitSignal")
        return RemoteState(
            kind="failed",
            raw=raw,
            reason="Error",
            message=None if signal is not None else "killed by a signal HTCondor did not name",
            signal=signal,
            started_at=started_at,
            finished_at=finished_at,
        )
    exit_code = ad.integer("ExitCode")
    if exit_code == 0:
        return RemoteState(
            kind="succeeded",
            raw=raw,
            exit_code=0,
            started_at=started_at,
            finished_at=finished_at,
        )
    return RemoteState(
        kind="failed",
        raw=raw,
        reason="Error",
        message=None if exit_code is not None else "HTCondor reported no exit code",
        exit_code=exit_code,
        started_at=started_at,
        finished_at=finished_at,
    )
