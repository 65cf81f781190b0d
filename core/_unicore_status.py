"""UNICORE dialect, status side: the job properties and the job list of the REST API.

Theory of operation: the backend finds a pod's job with ``GET /rest/core/jobs?tags=pod-uid:<uid>``
(a ``jobs`` list of job URLs, see :func:`parse_unicore_job_list`) and reads each job's
properties with ``GET <job URL>`` (:func:`parse_unicore_job_properties`). The properties hold
the job ``status``, a ``statusMessage`` (empty unless the job failed), the application's
``exitCode`` once it is known (a JSON string in UNICORE/X's rendering, a number in the
OpenAPI description: both are read), the ``tags`` the job was submitted with (so the pod UID
comes back with every answer), and three times that are *not* about execution:
``submissionTime``, ``currentTime`` (the server's clock) and ``terminationTime`` (when the
server will destroy the job and its directory). UNICORE writes them as
``yyyy-MM-dd'T'HH:mm:ssZ`` (``2026-11-23T16:04:16+0100``); they become aware datetimes in
UTC. No property says when the job started or ended, so the :class:`~._remote.RemoteState`
of a UNICORE job carries no times; the per-container ``.status`` files do.

UNICORE/X walks a job through STAGINGIN (imports) → READY → QUEUED (waiting to be submitted,
then in the batch system) → RUNNING → STAGINGOUT (exports) → SUCCESSFUL or FAILED. The order
matters for STAGINGIN: it comes *before* the batch job exists, so it is ``queued`` (with
reason ``StagingIn``), not ``starting`` — mapping it to ``starting`` would move a pod from
starting back to queued. FAILED is ``failed`` (upstream interLink leaves such pods Pending
forever), except for a job that was aborted, which UNICORE reports as FAILED with the message
``Job aborted.``: ``cancelled``. Recent UNICORE/X releases fail a job whose application exits
non-zero; older ones report it SUCCESSFUL with the exit code, which is read as ``failed`` too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

import attrs

from ._errors import SchedulerOutputError
from ._htcondor_status import StateRow
from ._remote import RemoteState
from ._unicore import POD_UID_TAG_PREFIX

__all__ = [
    "UNICORE_STATE_TABLE",
    "UnicoreJob",
    "parse_unicore_job",
    "parse_unicore_job_list",
    "parse_unicore_job_properties",
    "parse_unicore_time",
]

_REST_API = "https://unicore-docs.readthedocs.io/en/latest/user-docs/rest-api/index.html"
_UNICOREX = "https://github.com/UNICORE-EU/unicorex/blob/master"
_CONVERT_STATUS = f"{_UNICOREX}/uas-core/src/main/java/eu/unicore/uas/rest/Jobs.java"
_JOB_PROCESSOR = f"{_UNICOREX}/xnjs/src/main/java/eu/unicore/xnjs/ems/processors/JobProcessor.java"
_ABORT = f"{_UNICOREX}/xnjs/src/main/java/eu/unicore/xnjs/ems/processors/DefaultProcessor.java"

UNICORE_STATE_TABLE: Final[tuple[StateRow, ...]] = (
    StateRow(
        state="UNDEFINED",
        kind="unknown",
        note="Formally part of the status enumeration; clients do not see it.",
        source=_CONVERT_STATUS,
        sample={"status": "UNDEFINED"},
    ),
    StateRow(
        state="STAGINGIN",
        kind="queued",
        reason="StagingIn",
        note="Imports are staged into the job directory before the batch job is submitted, "
        "so nothing is allocated yet.",
        source=_JOB_PROCESSOR,
        sample={"status": "STAGINGIN"},
    ),
    StateRow(
        state="READY",
        kind="queued",
        note="Staged in, waiting to be submitted (or for the client's start action).",
        source=_REST_API,
        sample={"status": "READY"},
    ),
    StateRow(
        state="QUEUED",
        kind="queued",
        note="Waiting to be submitted, or waiting in the batch system's queue.",
        source=_REST_API,
        sample={"status": "QUEUED"},
    ),
    StateRow(
        state="RUNNING",
        kind="running",
        source=_REST_API,
        sample={"status": "RUNNING"},
    ),
    StateRow(
        state="STAGINGOUT",
        kind="running",
        note="The application has ended and exports are being staged out.",
        source=_REST_API,
        sample={"status": "STAGINGOUT"},
    ),
    StateRow(
        state="SUCCESSFUL",
        condition="exitCode 0 or absent",
        kind="succeeded",
        source=_REST_API,
        sample={"status": "SUCCESSFUL", "exitCode": "0"},
    ),
    StateRow(
        state="SUCCESSFUL",
        condition="exitCode not 0",
        kind="failed",
        reason="Error",
        note="Older UNICORE/X releases do not fail a job whose application exits non-zero.",
        source=_JOB_PROCESSOR,
        sample={"status": "SUCCESSFUL", "exitCode": "2"},
    ),
    StateRow(
        state="FAILED",
        condition='statusMessage "Job aborted."',
        kind="cancelled",
        note="An aborted job ends FAILED with this message.",
        source=_ABORT,
        sample={"status": "FAILED", "statusMessage": "Job aborted."},
    ),
    StateRow(
        state="FAILED",
        condition="otherwise",
        kind="failed",
        reason="Error",
        note="Upstream interLink leaves such pods Pending forever. The message is "
        "statusMessage; the exit code is exitCode when UNICORE knows it.",
        source=_REST_API,
        sample={
            "status": "FAILED",
            "statusMessage": "User application exited with non-zero exit code: <1>.",
            "exitCode": "1",
        },
    ),
    StateRow(
        state="any other value",
        kind="unknown",
        note="Not a status of the REST API.",
        source=_REST_API,
        sample={"status": "PAUSED"},
    ),
)
"""The UNICORE state table: the job's ``status``, refined by ``exitCode`` and ``statusMessage``."""

_QUEUED_STATES: Final[Mapping[str, str | None]] = {
    "STAGINGIN": "StagingIn",
    "READY": None,
    "QUEUED": None,
}
_RUNNING_STATES = frozenset({"RUNNING", "STAGINGOUT"})
_ABORTED = "job aborted"

# Java's SimpleDateFormat "yyyy-MM-dd'T'HH:mm:ssZ", plus what ISO 8601 allows around it
# (fractions, Z, +HH:MM), since clients and proxies re-render times.
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})",
    re.ASCII,
)
_EXIT_CODE = re.compile(r"[+-]?[0-9]{1,10}", re.ASCII)
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.ASCII)
_MAX_EXIT_CODE = 2**31


@attrs.frozen(kw_only=True)
class UnicoreJob:
    """What the properties of one UNICORE job say.

    ``pod_uid`` comes from the job's ``pod-uid:<uid>`` tag. ``submitted_at`` is when the job
    was submitted, ``server_time`` the server's clock at the answer (``currentTime``) and
    ``expires_at`` when the server will destroy the job (``terminationTime``, its lifetime,
    not the end of execution).
    """

    state: RemoteState
    name: str | None = None
    tags: tuple[str, ...] = ()
    pod_uid: str | None = None
    submitted_at: datetime | None = None
    server_time: datetime | None = None
    expires_at: datetime | None = None


def parse_unicore_job(properties: object) -> RemoteState:
    """Return the state of a UNICORE job from its properties (``GET /rest/core/jobs/<id>``).

    ``properties`` is the JSON text (``str`` or ``bytes``) or the decoded JSON value. Follows
    :data:`UNICORE_STATE_TABLE`. Raises :class:`SchedulerOutputError` as
    :func:`parse_unicore_job_properties` does.
    """
    return parse_unicore_job_properties(properties).state


def parse_unicore_job_properties(properties: object) -> UnicoreJob:
    """Return everything pyinterlink reads from a UNICORE job's properties.

    ``properties`` is the JSON text (``str`` or ``bytes``) or the decoded JSON value; it must
    be an object with a string ``status``. ``statusMessage``, ``exitCode`` (an integer or a
    string of one), ``name``, ``tags`` and the three times are optional. Unknown properties
    are ignored. Raises :class:`SchedulerOutputError` naming the property when the input is
    not JSON, not an object, lacks ``status``, has a property of the wrong type, a time that
    does not parse, or two different ``pod-uid:`` tags.
    """
    decoded = _decode(properties, what="job properties")
    if not isinstance(decoded, dict):
        raise SchedulerOutputError(f"expected a JSON object, got {_describe(decoded)}")
    status = decoded.get("status")
    if not isinstance(status, str):
        raise SchedulerOutputError(f"expected a string, got {_describe(status)}", path="status")
    message = _optional_string(decoded, "statusMessage") or None
    exit_code = _exit_code(decoded.get("exitCode"))
    tags = _tags(decoded.get("tags"))
    return UnicoreJob(
        state=_state(status, message, exit_code),
        name=_optional_string(decoded, "name"),
        tags=tags,
        pod_uid=_pod_uid(tags),
        submitted_at=_optional_time(decoded, "submissionTime"),
        server_time=_optional_time(decoded, "currentTime"),
        expires_at=_optional_time(decoded, "terminationTime"),
    )


def parse_unicore_job_list(listing: object) -> tuple[str, ...]:
    """Return the job URLs of a job list (``GET /rest/core/jobs``, ``?tags=`` or not).

    ``listing`` is the JSON text (``str`` or ``bytes``) or the decoded JSON value: an object
    whose ``jobs`` is an array of absolute http(s) URLs. The list is one page (the server
    pages with ``offset`` and ``num``); the order is the server's. Raises
    :class:`SchedulerOutputError` naming the entry when the input is not such an object.
    """
    decoded = _decode(listing, what="job list")
    if not isinstance(decoded, dict):
        raise SchedulerOutputError(f"expected a JSON object, got {_describe(decoded)}")
    jobs = decoded.get("jobs")
    if not isinstance(jobs, list):
        raise SchedulerOutputError(f"expected an array, got {_describe(jobs)}", path="jobs")
    urls = []
    for index, url in enumerate(jobs):
        if not isinstance(url, str) or not _URL.fullmatch(url):
            shown = repr(url) if isinstance(url, str) else _describe(url)
            raise SchedulerOutputError(
                f"expected an http(s) URL, got {shown}", path=f"jobs[{index}]"
            )
        urls.append(url)
    return tuple(urls)


def parse_unicore_time(text: str) -> datetime:
    """Return a UNICORE time (``2026-11-23T16:04:16+0100``) as an aware datetime in UTC.

    Also accepts fractions of a second, ``Z`` and ``+01:00``; raises
    :class:`SchedulerOutputError` for anything else, a time without an offset included.
    """
    match = _TIME.fullmatch(text)
    if match is None:
        raise SchedulerOutputError(f"{text!r} is not a time like 2026-11-23T16:04:16+0100")
    year, month, day, hour, minute, second = (int(match[index]) for index in range(1, 7))
    fraction = (match[7] or "").ljust(6, "0")[:6]
    offset = match[8]
    try:
        if offset == "Z":
            zone = UTC
        else:
            digits = offset[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:])
            if minutes >= 60:
                raise ValueError(f"offset minutes {minutes} out of range")
            delta = timedelta(hours=hours, minutes=minutes)
            zone = timezone(-delta if offset[0] == "-" else delta)
        parsed = datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=zone)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise SchedulerOutputError(f"{text!r} is not a valid time: {exc}") from None


def _state(status: str, message: str | None, exit_code: int | None) -> RemoteState:
    if status in _QUEUED_STATES:
        return RemoteState(kind="queued", raw=status, reason=_QUEUED_STATES[status])
    if status in _RUNNING_STATES:
        return RemoteState(kind="running", raw=status)
    if status == "SUCCESSFUL":
        if exit_code in (None, 0):
            return RemoteState(kind="succeeded", raw=status, message=message, exit_code=exit_code)
        return RemoteState(
            kind="failed", raw=status, reason="Error", message=message, exit_code=exit_code
        )
    if status == "FAILED":
        if message is not None and message.strip().lower().startswith(_ABORTED):
            return RemoteState(kind="cancelled", raw=status, message=message, exit_code=exit_code)
        return RemoteState(
            kind="failed", raw=status, reason="Error", message=message, exit_code=exit_code
        )
    if status != "UNDEFINED" and message is None:
        message = f"{status!r} is not a job status of the UNICORE REST API"
    return RemoteState(kind="unknown", raw=status, message=message)


def _decode(value: object, *, what: str) -> object:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SchedulerOutputError(f"{what}: not UTF-8: {exc}") from None
    if not isinstance(value, str):
        return value
    try:
        # strict=False: a raw control character inside a message is harmless here.
        return json.loads(value, parse_constant=_reject_constant, strict=False)
    except (ValueError, RecursionError) as exc:
        raise SchedulerOutputError(f"{what}: not JSON: {exc}") from None


def _reject_constant(name: str) -> object:
    # json accepts NaN and Infinity by default; a JSON server never sends them.
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


def _optional_string(properties: Mapping[str, object], key: str) -> str | None:
    value = properties.get(key)
    if value is None or isinstance(value, str):
        return value
    raise SchedulerOutputError(f"expected a string, got {_describe(value)}", path=key)


def _optional_time(properties: Mapping[str, object], key: str) -> datetime | None:
    text = _optional_string(properties, key)
    if not text:
        return None
    try:
        return parse_unicore_time(text)
    except SchedulerOutputError as exc:
        raise SchedulerOutputError(exc.reason, path=key) from None


def _exit_code(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and _EXIT_CODE.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        shown = repr(value) if isinstance(value, str) else _describe(value)
        raise SchedulerOutputError(f"expected an integer, got {shown}", path="exitCode")
    if not -_MAX_EXIT_CODE <= number < _MAX_EXIT_CODE:
        raise SchedulerOutputError(f"{number} is out of range for an exit code", path="exitCode")
    return number


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SchedulerOutputError(f"expected an array, got {_describe(value)}", path="tags")
    for index, tag in enumerate(value):
        if not isinstance(tag, str):
            raise SchedulerOutputError(
                f"expected a string, got {_describe(tag)}", path=f"tags[{index}]"
            )
    return tuple(value)


def _pod_uid(tags: tuple[str, ...]) -> str | None:
    uids = {tag[len(POD_UID_TAG_PREFIX) :] for tag in tags if tag.startswith(POD_UID_TAG_PREFIX)}
    uids.discard("")
    if len(uids) > 1:
        listed = ", ".join(sorted(uids))
        raise SchedulerOutputError(f"the job names several pods ({listed})", path="tags")
    return next(iter(uids), None)
