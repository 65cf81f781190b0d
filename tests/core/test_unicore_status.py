"""UNICORE status: job properties and job lists of the REST API to RemoteState and job URLs.

The round trip renders the properties UNICORE/X would return for a state (status,
statusMessage, exitCode as UNICORE/X writes it, a string, or as the OpenAPI description types
it, a number) and parses them back.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core._errors import SchedulerOutputError
from pyinterlink.core._htcondor_status import StateRow
from pyinterlink.core._remote import REMOTE_KINDS, RemoteState
from pyinterlink.core._unicore import pod_uid_tag
from pyinterlink.core._unicore_status import (
    UNICORE_STATE_TABLE,
    UnicoreJob,
    parse_unicore_job,
    parse_unicore_job_list,
    parse_unicore_job_properties,
    parse_unicore_time,
)

OUTPUT = Path(__file__).resolve().parent.parent / "unicore_output"
BASE = "https://unicore.example.org:8080/DEMO-SITE/rest/core"
UNICORE_STATUSES = (
    "UNDEFINED",
    "READY",
    "STAGINGIN",
    "QUEUED",
    "RUNNING",
    "STAGINGOUT",
    "SUCCESSFUL",
    "FAILED",
)


def sample(name: str) -> str:
    return (OUTPUT / name).read_text()


def uid(number: int) -> str:
    return f"{number:08x}-51aa-4c0f-8e2b-6d9c0f4b7a{number:02x}"


# --------------------------------------------------------------------------------------
# Recorded samples

EXPECTED = {
    "job-stagingin.json": RemoteState(kind="queued", raw="STAGINGIN", reason="StagingIn"),
    "job-ready.json": RemoteState(kind="queued", raw="READY"),
    "job-queued.json": RemoteState(kind="queued", raw="QUEUED"),
    "job-running.json": RemoteState(kind="running", raw="RUNNING"),
    "job-stagingout.json": RemoteState(kind="running", raw="STAGINGOUT"),
    "job-successful.json": RemoteState(kind="succeeded", raw="SUCCESSFUL", exit_code=0),
    "job-successful-int-exit.json": RemoteState(kind="succeeded", raw="SUCCESSFUL", exit_code=0),
    "job-successful-exit-2.json": RemoteState(
        kind="failed", raw="SUCCESSFUL", reason="Error", exit_code=2
    ),
    "job-failed.json": RemoteState(
        kind="failed",
        raw="FAILED",
        reason="Error",
        exit_code=1,
        message="User application exited with non-zero exit code: <1>. More information might "
        "be available in the job's working directory "
        "'/work/unicore/jobs/00000008-3f1c-4e7d-a0b5-9c2e4d6f8a1b/'",
    ),
    "job-failed-submit.json": RemoteState(
        kind="failed",
        raw="FAILED",
        reason="Error",
        message="Could not submit job: [TSI_ERROR] Execution on TSI failed. Reply was "
        "TSI_FAILED: sbatch: error: Invalid account or account/partition combination specified",
    ),
    "job-aborted.json": RemoteState(kind="cancelled", raw="FAILED", message="Job aborted."),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_job_property_samples(name: str) -> None:
    text = sample(name)
    assert parse_unicore_job(text) == EXPECTED[name]
    assert parse_unicore_job(text.encode()) == EXPECTED[name]
    assert parse_unicore_job(json.loads(text)) == EXPECTED[name]


def test_sample_properties_carry_the_pod_and_the_times() -> None:
    job = parse_unicore_job_properties(sample("job-running.json"))
    assert job == UnicoreJob(
        state=RemoteState(kind="running", raw="RUNNING"),
        name=uid(4),
        tags=("pyinterlink", pod_uid_tag(uid(4))),
        pod_uid=uid(4),
        submitted_at=datetime(2026, 11, 23, 15, 4, 16, tzinfo=UTC),
        server_time=datetime(2026, 11, 23, 15, 12, 40, tzinfo=UTC),
        expires_at=datetime(2026, 12, 23, 15, 4, 16, tzinfo=UTC),
    )


def test_job_list_samples() -> None:
    assert parse_unicore_job_list(sample("jobs-by-tag.json")) == (
        f"{BASE}/jobs/00000004-3f1c-4e7d-a0b5-9c2e4d6f8a1b",
    )
    assert parse_unicore_job_list(sample("jobs-empty.json")) == ()
    assert len(parse_unicore_job_list(sample("jobs-all.json"))) == 3


# --------------------------------------------------------------------------------------
# The state table


@pytest.mark.parametrize("row", UNICORE_STATE_TABLE, ids=lambda row: row.state + row.condition)
def test_every_row_of_the_table_is_what_the_parser_does(row: StateRow) -> None:
    state = parse_unicore_job(dict(row.sample))
    assert (state.kind, state.reason) == (row.kind, row.reason)
    assert row.source.startswith("https://")


def test_the_table_covers_every_status_of_the_rest_api() -> None:
    assert set(UNICORE_STATUSES) <= {row.state for row in UNICORE_STATE_TABLE}
    for status in UNICORE_STATUSES:
        assert parse_unicore_job({"status": status}).kind != "unknown" or status == "UNDEFINED"


def test_staging_in_comes_before_the_batch_job_so_it_is_queued() -> None:
    # UNICORE/X: CREATED -> STAGINGIN -> READY -> QUEUED -> RUNNING -> STAGINGOUT -> done.
    order = ["STAGINGIN", "READY", "QUEUED", "RUNNING", "STAGINGOUT", "SUCCESSFUL"]
    rank = {kind: index for index, kind in enumerate(REMOTE_KINDS)}
    kinds = [parse_unicore_job({"status": status}).kind for status in order]
    assert [rank[kind] for kind in kinds] == sorted(rank[kind] for kind in kinds)


# --------------------------------------------------------------------------------------
# Round trip

messages = st.text(min_size=1).filter(
    lambda text: not text.strip().lower().startswith("job aborted")
)
exit_codes = st.integers(-(2**31), 2**31 - 1)


@st.composite
def rendered_states(draw: st.DrawFn) -> tuple[RemoteState, dict[str, object]]:
    """A state the table can produce and the properties UNICORE/X would return for it."""
    shape = draw(
        st.sampled_from(
            [
                "queued",
                "staging-in",
                "running",
                "succeeded",
                "failed",
                "nonzero",
                "aborted",
                "undefined",
                "unknown",
            ]
        )
    )

    def with_exit(properties: dict[str, object], code: int | None) -> dict[str, object]:
        if code is not None:
            properties["exitCode"] = draw(st.sampled_from([str(code), code]))
        return properties

    if shape == "queued":
        status = draw(st.sampled_from(["READY", "QUEUED"]))
        return RemoteState(kind="queued", raw=status), {"status": status, "statusMessage": ""}
    if shape == "staging-in":
        return RemoteState(kind="queued", raw="STAGINGIN", reason="StagingIn"), {
            "status": "STAGINGIN"
        }
    if shape == "running":
        status = draw(st.sampled_from(["RUNNING", "STAGINGOUT"]))
        return RemoteState(kind="running", raw=status), {"status": status}
    if shape == "succeeded":
        code = draw(st.sampled_from([None, 0]))
        state = RemoteState(kind="succeeded", raw="SUCCESSFUL", exit_code=code)
        return state, with_exit({"status": "SUCCESSFUL", "statusMessage": ""}, code)
    if shape == "failed":
        code = draw(st.none() | exit_codes)
        message = draw(messages)
        state = RemoteState(
            kind="failed", raw="FAILED", reason="Error", message=message, exit_code=code
        )
        return state, with_exit({"status": "FAILED", "statusMessage": message}, code)
    if shape == "nonzero":
        code = draw(exit_codes.filter(bool))
        state = RemoteState(kind="failed", raw="SUCCESSFUL", reason="Error", exit_code=code)
        return state, with_exit({"status": "SUCCESSFUL"}, code)
    if shape == "aborted":
        message = draw(st.sampled_from(["Job aborted.", "job aborted by user"]))
        state = RemoteState(kind="cancelled", raw="FAILED", message=message)
        return state, {"status": "FAILED", "statusMessage": message}
    if shape == "undefined":
        return RemoteState(kind="unknown", raw="UNDEFINED"), {"status": "UNDEFINED"}
    status = draw(st.text(min_size=1).filter(lambda text: text not in UNICORE_STATUSES))
    message = draw(messages)
    return RemoteState(kind="unknown", raw=status, message=message), {
        "status": status,
        "statusMessage": message,
    }


@settings(deadline=None)
@given(rendered_states(), st.booleans())
def test_states_round_trip_through_job_properties(
    rendered: tuple[RemoteState, dict[str, object]], as_text: bool
) -> None:
    state, properties = rendered
    assert parse_unicore_job(json.dumps(properties) if as_text else properties) == state


@settings(deadline=None, max_examples=50)
@given(
    rendered_states(),
    st.uuids().map(str),
    st.lists(st.text(max_size=10).filter(lambda tag: not tag.startswith("pod-uid:"))),
    st.text(),
)
def test_pod_uid_and_name_come_back_from_the_tags(
    rendered: tuple[RemoteState, dict[str, object]], pod: str, tags: list[str], name: str
) -> None:
    state, properties = rendered
    all_tags = [*tags, pod_uid_tag(pod)]
    job = parse_unicore_job_properties({**properties, "tags": all_tags, "name": name})
    assert job == UnicoreJob(state=state, name=name, tags=tuple(all_tags), pod_uid=pod)


def test_two_pods_in_the_tags_are_an_error() -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_unicore_job({"status": "QUEUED", "tags": ["pod-uid:a", "pod-uid:b"]})
    assert caught.value.path == "tags"


def unicore_time(moment: datetime) -> str:
    """A time as UNICORE/X writes it: Java's ``yyyy-MM-dd'T'HH:mm:ssZ``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets
).map(lambda moment: moment.replace(microsecond=0))


@settings(deadline=None)
@given(moments)
def test_unicore_times_become_aware_utc_datetimes(moment: datetime) -> None:
    parsed = parse_unicore_time(unicore_time(moment))
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)
    # The ISO 8601 spellings of the same instant read the same.
    assert parse_unicore_time(moment.isoformat()) == moment
    assert parse_unicore_time(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")) == moment


def test_the_documented_example_time() -> None:
    assert parse_unicore_time("2026-11-23T16:04:16+0100") == datetime(
        2026, 11, 23, 15, 4, 16, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T16:04:16",  # no offset: ambiguous
        "2026-11-23 16:04:16+0100",
        "2026-02-30T16:04:16+0100",
        "2026-11-23T16:04:16+2500",
        "2026-11-23T16:04:16+0160",
        "0000-01-01T00:00:00Z",
        "٢٠٢٦-11-23T16:04:16+0100",
        "",
    ],
)
def test_malformed_times_are_errors(text: str) -> None:
    with pytest.raises(SchedulerOutputError):
        parse_unicore_time(text)


@settings(deadline=None)
@given(st.lists(st.integers(0, 10**6).map(lambda n: f"{BASE}/jobs/{n:08x}-job")))
def test_job_lists_round_trip(urls: list[str]) -> None:
    listing = {"jobs": urls, "_links": {"self": {"href": f"{BASE}/jobs"}}}
    assert parse_unicore_job_list(json.dumps(listing)) == tuple(urls)
    assert parse_unicore_job_list(listing) == tuple(urls)


@pytest.mark.parametrize(
    ("properties", "path"),
    [
        ({}, "status"),
        ({"status": 3}, "status"),
        ({"status": "FAILED", "statusMessage": ["x"]}, "statusMessage"),
        ({"status": "SUCCESSFUL", "exitCode": "zero"}, "exitCode"),
        ({"status": "SUCCESSFUL", "exitCode": True}, "exitCode"),
        ({"status": "SUCCESSFUL", "exitCode": 1.5}, "exitCode"),
        ({"status": "SUCCESSFUL", "exitCode": 2**40}, "exitCode"),
        ({"status": "QUEUED", "tags": "pod-uid:x"}, "tags"),
        ({"status": "QUEUED", "tags": [1]}, "tags[0]"),
        ({"status": "QUEUED", "submissionTime": "yesterday"}, "submissionTime"),
        ({"status": "QUEUED", "name": 5}, "name"),
    ],
)
def test_malformed_properties_name_the_property(properties: dict[str, object], path: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_unicore_job(properties)
    assert caught.value.path == path


@pytest.mark.parametrize(
    "listing",
    [{}, {"jobs": "x"}, {"jobs": [1]}, {"jobs": ["/rest/core/jobs/1"]}, {"jobs": ["https://a b"]}],
)
def test_malformed_job_lists_are_errors(listing: object) -> None:
    with pytest.raises(SchedulerOutputError):
        parse_unicore_job_list(listing)


# --------------------------------------------------------------------------------------
# Totality: a value or SchedulerOutputError, never another exception.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
property_names = st.sampled_from(
    [
        "status",
        "statusMessage",
        "exitCode",
        "tags",
        "name",
        "submissionTime",
        "currentTime",
        "terminationTime",
        "jobs",
    ]
)
properties = st.dictionaries(
    property_names,
    json_values
    | st.sampled_from(UNICORE_STATUSES)
    | st.from_regex(r"-?[0-9]{1,12}", fullmatch=True)
    | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}"),
    max_size=6,
)


@settings(deadline=None)
@given(st.text() | st.binary())
def test_any_text_is_a_value_or_our_error(text: str | bytes) -> None:
    for parse in (parse_unicore_job, parse_unicore_job_list):
        with contextlib.suppress(SchedulerOutputError):
            parse(text)
    if isinstance(text, str):
        with contextlib.suppress(SchedulerOutputError):
            parse_unicore_time(text)


@settings(deadline=None, max_examples=50)
@given(json_values | properties)
def test_any_json_is_a_value_or_our_error(value: object) -> None:
    for parse in (parse_unicore_job, parse_unicore_job_list):
        with contextlib.suppress(SchedulerOutputError):
            parse(value)
        with contextlib.suppress(SchedulerOutputError):
            parse(json.dumps(value))
    with contextlib.suppress(SchedulerOutputError):
        state = parse_unicore_job(value)
        assert state.kind in REMOTE_KINDS
