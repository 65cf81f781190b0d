"""HTCondor status: condor_submit output and condor_q / condor_history ads to RemoteState.

The round trip renders the ads a schedd would print for a state with HTCondor's own ClassAd
JSON unparser (``classad2``), framed as ``condor_q -json`` frames them, and parses them back.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import classad2  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core._errors import InputError, SchedulerOutputError
from pyinterlink.core._htcondor_status import (
    HTCONDOR_AD_ATTRIBUTES,
    HTCONDOR_HOLD_REASONS,
    HTCONDOR_STATE_TABLE,
    StateRow,
    htcondor_job_state,
    parse_condor_ads,
    parse_condor_jobs,
    parse_condor_submit,
)
from pyinterlink.core._remote import REMOTE_KINDS, RemoteState

OUTPUT = Path(__file__).resolve().parent.parent / "htcondor_output"
T = datetime(2026, 11, 23, 15, 4, 16, tzinfo=UTC)  # 1795446256, the samples' epoch
TIME_LIMIT_REMOVAL = (
    "The job attribute PeriodicRemove expression "
    "'JobStatus == 2 && time() - EnteredCurrentStatus > {}' evaluated to TRUE"
)
SYSTEM_REMOVAL = "The system macro SYSTEM_PERIODIC_REMOVE expression '{}' evaluated to TRUE"


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(1795446256 + seconds, tz=UTC)


def uid(number: int) -> str:
    return f"{number:08x}-7c1e-4a57-9d2f-3b6e8f1a2c{number:02x}"


def sample(name: str) -> str:
    return (OUTPUT / name).read_text()


def condor_json(ads: list[Mapping[str, object]]) -> str:
    """Ads as ``condor_q -json`` prints them: HTCondor's unparser, ``[``, ``,`` and ``]``."""
    parts = []
    for index, attributes in enumerate(ads):
        ad = classad2.ClassAd()
        for name, value in attributes.items():
            ad[name] = value
        parts.append(("[\n" if index == 0 else ",\n") + ad.printJson() + "\n")
    return "".join(parts) + "]\n" if parts else ""


# --------------------------------------------------------------------------------------
# Recorded samples


def test_condor_submit_samples() -> None:
    assert parse_condor_submit(sample("condor_submit.txt")) == 4242
    assert parse_condor_submit(sample("condor_submit-terse.txt")) == 4242
    with pytest.raises(SchedulerOutputError, match="ERROR: on Line 7 of submit file"):
        parse_condor_submit(sample("condor_submit-error.txt"))


@pytest.mark.parametrize("name", ["condor_q.json", "condor_history.json", "condor_q-long.json"])
def test_samples_are_what_htcondor_reads_as_job_ads(name: str) -> None:
    # HTCondor's JSON ClassAd parser reads the ads (without condor_q's array framing).
    text = sample(name)
    body = text.strip().removeprefix("[").removesuffix("]").replace("\n,\n", "\n")
    ads = list(classad2.parseAds(body, classad2.ParserType.JSON))
    jobs = parse_condor_jobs(text)
    assert [ad["JobStatus"] for ad in ads] == [
        int(job.state.raw.removeprefix("JobStatus=")) for job in jobs
    ]
    assert [ad.get("PodUID") for ad in ads] == [job.pod_uid for job in jobs]


def test_condor_q_sample() -> None:
    states = parse_condor_ads(sample("condor_q.json"))
    assert states == {
        uid(1): RemoteState(kind="queued", raw="JobStatus=1"),
        uid(2): RemoteState(kind="running", raw="JobStatus=2", started_at=at(60)),
        uid(3): RemoteState(kind="running", raw="JobStatus=6", started_at=at(65)),
        uid(4): RemoteState(
            kind="running", raw="JobStatus=7", reason="Suspended", started_at=at(60)
        ),
        uid(5): RemoteState(
            kind="queued",
            raw="JobStatus=5",
            reason="UserRequest",
            message="via condor_hold (by user alice)",
        ),
        uid(6): RemoteState(
            kind="failed",
            raw="JobStatus=5",
            reason="DeadlineExceeded",
            message="The job exceeded allowed execute duration of 00:10:00",
            started_at=at(60),
            finished_at=at(661),
        ),
        uid(7): RemoteState(
            kind="failed",
            raw="JobStatus=5",
            reason="OOMKilled",
            message="Error from slot1_2@wn07.example.org: memory usage exceeded request_memory",
            started_at=at(60),
            finished_at=at(200),
        ),
        uid(8): RemoteState(
            kind="failed",
            raw="JobStatus=5",
            reason="Evicted",
            message="Error from slot1_3@wn02.example.org: disk usage exceeded request_disk",
            started_at=at(60),
            finished_at=at(250),
        ),
        uid(9): RemoteState(
            kind="queued",
            raw="JobStatus=5",
            reason="TransferInputError",
            message="Transfer input files failure at access point submit.example.org while "
            "sending files to the execution point. Details: reading from file "
            "/scratch/job.sh: (errno 2) No such file or directory",
        ),
        "4251.0": RemoteState(kind="running", raw="JobStatus=2", started_at=at(10)),
    }


def test_condor_q_without_jobs_prints_nothing() -> None:
    assert parse_condor_ads(sample("condor_q-empty.json")) == {}
    assert parse_condor_ads("\n") == {}
    assert parse_condor_ads("[]") == {}


def test_condor_history_sample() -> None:
    states = parse_condor_ads(sample("condor_history.json"))
    removed_by_rm = "via condor_rm (by user alice)"
    assert states == {
        uid(10): RemoteState(
            kind="succeeded",
            raw="JobStatus=4",
            exit_code=0,
            started_at=at(-900),
            finished_at=at(-300),
        ),
        uid(11): RemoteState(
            kind="failed",
            raw="JobStatus=4",
            reason="Error",
            exit_code=3,
            started_at=at(-880),
            finished_at=at(-200),
        ),
        uid(12): RemoteState(
            kind="failed",
            raw="JobStatus=4",
            reason="Error",
            signal=9,
            started_at=at(-900),
            finished_at=at(-100),
        ),
        uid(13): RemoteState(
            kind="cancelled",
            raw="JobStatus=3",
            message=removed_by_rm,
            started_at=at(-600),
            finished_at=at(-50),
        ),
        uid(14): RemoteState(
            kind="cancelled", raw="JobStatus=3", message=removed_by_rm, finished_at=at(-40)
        ),
        uid(15): RemoteState(
            kind="failed",
            raw="JobStatus=3",
            reason="DeadlineExceeded",
            message=TIME_LIMIT_REMOVAL.format(600),
            started_at=at(-800),
            finished_at=at(-199),
        ),
        uid(16): RemoteState(
            kind="failed",
            raw="JobStatus=3",
            reason="RemovedByPolicy",
            message=SYSTEM_REMOVAL.format(
                "(JobStatus == 5 && time() - EnteredCurrentStatus > 7 * 86400)"
            ),
            finished_at=at(-30),
        ),
        uid(17): RemoteState(
            kind="failed",
            raw="JobStatus=3",
            reason="DeadlineExceeded",
            message="The job exceeded allowed execute duration of 00:10:00",
            started_at=at(-800),
            finished_at=at(-20),
        ),
        # Two jobs ran this pod: the later one (4108) is the answer.
        uid(18): RemoteState(
            kind="succeeded",
            raw="JobStatus=4",
            exit_code=0,
            started_at=at(-700),
            finished_at=at(-10),
        ),
    }


def test_a_full_ad_reads_as_a_projected_one() -> None:
    # Without -attributes condor_q prints every attribute, expressions included.
    (job,) = parse_condor_jobs(sample("condor_q-long.json"))
    assert job.job_id == "4300.0"
    assert job.pod_uid == uid(19)
    assert job.state == RemoteState(kind="running", raw="JobStatus=2", started_at=at(45))


# --------------------------------------------------------------------------------------
# The state table


@pytest.mark.parametrize("row", HTCONDOR_STATE_TABLE, ids=lambda row: row.state + row.condition)
def test_every_row_of_the_table_is_what_the_parser_does(row: StateRow) -> None:
    state = htcondor_job_state(row.sample)
    assert (state.kind, state.reason) == (row.kind, row.reason)
    assert row.source.startswith("https://htcondor.readthedocs.io/")


def test_the_table_covers_every_job_status_and_every_kind_it_can_produce() -> None:
    statuses = {row.sample["JobStatus"] for row in HTCONDOR_STATE_TABLE}
    assert set(range(1, 8)) <= statuses
    kinds = {row.kind for row in HTCONDOR_STATE_TABLE}
    assert kinds == set(REMOTE_KINDS) - {"starting"}


def test_hold_labels_follow_the_manual() -> None:
    assert HTCONDOR_HOLD_REASONS[1] == "UserRequest"
    assert HTCONDOR_HOLD_REASONS[34] == "JobOutOfResources"
    assert HTCONDOR_HOLD_REASONS[46] == "JobDurationExceeded"
    assert HTCONDOR_HOLD_REASONS[47] == "JobExecuteExceeded"
    assert all(label.isidentifier() for label in HTCONDOR_HOLD_REASONS.values())


# --------------------------------------------------------------------------------------
# Round trip: every state the table produces, rendered as a schedd prints it, parses back.

epochs = st.integers(1, 2**34)
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1).filter(
    lambda text: "PERIODIC_REMOVE" not in text and "PeriodicRemove" not in text
)
WAITING_HOLDS = [code for code in HTCONDOR_HOLD_REASONS if code not in (34, 46, 47)] + [
    2,
    28,
    49,
    1000,
]
HOLD_FAILURES = {
    "DeadlineExceeded": [(46, 0), (47, 0)],
    "OOMKilled": [(34, 0), (34, 102)],
    "Evicted": [(34, 104)],
    "JobOutOfResources": [(34, 103), (34, 105)],
}


@st.composite
def rendered_states(draw: st.DrawFn) -> tuple[RemoteState, dict[str, object]]:
    """A state the table can produce and an ad a schedd would print for it."""
    shape = draw(
        st.sampled_from(
            [
                "idle",
                "hold",
                "running",
                "suspended",
                "succeeded",
                "exit",
                "signal",
                "hold-failure",
                "policy",
                "cancelled",
                "unknown",
            ]
        )
    )
    started = draw(st.none() | epochs)
    finished = draw(st.none() | epochs)
    times: dict[str, object] = {}
    if started is not None:
        times[draw(st.sampled_from(["JobStartDate", "JobCurrentStartDate"]))] = started
    if finished is not None:
        times[draw(st.sampled_from(["CompletionDate", "EnteredCurrentStatus"]))] = finished
    started_at = datetime.fromtimestamp(started, tz=UTC) if started is not None else None
    finished_at = datetime.fromtimestamp(finished, tz=UTC) if finished is not None else None
    message = draw(st.none() | texts)

    def optional(name: str, value: object) -> dict[str, object]:
        return {} if value is None else {name: value}

    if shape == "idle":
        return RemoteState(kind="queued", raw="JobStatus=1"), {"JobStatus": 1}
    if shape == "hold":
        code = draw(st.none() | st.sampled_from(WAITING_HOLDS))
        label = HTCONDOR_HOLD_REASONS.get(code, "Held") if code is not None else "Held"
        ad = {"JobStatus": 5, **optional("HoldReasonCode", code)}
        ad |= optional("HoldReason", message)
        return RemoteState(kind="queued", raw="JobStatus=5", reason=label, message=message), ad
    if shape == "running":
        # A running job's ad may carry a CompletionDate of 0 or an EnteredCurrentStatus:
        # neither ends it.
        status = draw(st.sampled_from([2, 6]))
        state = RemoteState(kind="running", raw=f"JobStatus={status}", started_at=started_at)
        return state, {"JobStatus": status, **times}
    if shape == "suspended":
        state = RemoteState(
            kind="running", raw="JobStatus=7", reason="Suspended", started_at=started_at
        )
        return state, {"JobStatus": 7, **times}
    if shape == "succeeded":
        ad = {"JobStatus": 4, "ExitBySignal": False, "ExitCode": 0, **times}
        return RemoteState(
            kind="succeeded",
            raw="JobStatus=4",
            exit_code=0,
            started_at=started_at,
            finished_at=finished_at,
        ), ad
    if shape == "exit":
        code = draw(st.integers(-(2**63), 2**63 - 1).filter(bool))
        ad = {"JobStatus": 4, "ExitCode": code, **times}
        if draw(st.booleans()):
            ad["ExitBySignal"] = False
        state = RemoteState(
            kind="failed",
            raw="JobStatus=4",
            reason="Error",
            exit_code=code,
            started_at=started_at,
            finished_at=finished_at,
        )
        return state, ad
    if shape == "signal":
        signal = draw(st.integers(1, 64))
        ad = {"JobStatus": 4, "ExitBySignal": True, "ExitSignal": signal, **times}
        state = RemoteState(
            kind="failed",
            raw="JobStatus=4",
            reason="Error",
            signal=signal,
            started_at=started_at,
            finished_at=finished_at,
        )
        return state, ad
    if shape == "hold-failure":
        reason = draw(st.sampled_from(sorted(HOLD_FAILURES)))
        code, subcode = draw(st.sampled_from(HOLD_FAILURES[reason]))
        status = draw(st.sampled_from([3, 5]))
        ad = {"JobStatus": status, "HoldReasonCode": code, "HoldReasonSubCode": subcode, **times}
        ad |= optional("HoldReason", message)
        state = RemoteState(
            kind="failed",
            raw=f"JobStatus={status}",
            reason=reason,
            message=message,
            started_at=started_at,
            finished_at=finished_at,
        )
        return state, ad
    if shape == "policy":
        if draw(st.booleans()):
            reason = "DeadlineExceeded"
            text = TIME_LIMIT_REMOVAL.format(draw(st.integers(1, 10**9)))
        else:
            reason = "RemovedByPolicy"
            text = SYSTEM_REMOVAL.format(draw(texts.filter(lambda t: "'" not in t)))
        ad = {"JobStatus": 3, "RemoveReason": text, **times}
        state = RemoteState(
            kind="failed",
            raw="JobStatus=3",
            reason=reason,
            message=text,
            started_at=started_at,
            finished_at=finished_at,
        )
        return state, ad
    if shape == "cancelled":
        ad = {"JobStatus": 3, **times, **optional("RemoveReason", message)}
        return RemoteState(
            kind="cancelled",
            raw="JobStatus=3",
            message=message,
            started_at=started_at,
            finished_at=finished_at,
        ), ad
    status = draw(st.integers(-(2**31), 2**31).filter(lambda value: not 1 <= value <= 7))
    state = RemoteState(
        kind="unknown",
        raw=f"JobStatus={status}",
        message=f"JobStatus {status} is not one of HTCondor's job states (1 to 7)",
    )
    return state, {"JobStatus": status}


@settings(deadline=None, max_examples=80)
@given(st.lists(rendered_states(), max_size=6), st.data())
def test_states_round_trip_through_condor_q_output(
    rendered: list[tuple[RemoteState, dict[str, object]]], data: st.DataObject
) -> None:
    ads = []
    expected = {}
    for index, (state, attributes) in enumerate(rendered):
        key = uid(index + 1)
        ads.append({"ClusterId": 100 + index, "ProcId": 0, "PodUID": key, **attributes})
        expected[key] = state
    text = condor_json(data.draw(st.permutations(ads)))
    assert parse_condor_ads(text) == expected


@settings(deadline=None)
@given(rendered_states())
def test_one_ad_round_trips_through_its_decoded_form(
    rendered: tuple[RemoteState, dict[str, object]],
) -> None:
    state, attributes = rendered
    assert htcondor_job_state(attributes) == state


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 50)), min_size=1, unique=True),
    st.data(),
)
def test_the_latest_job_of_a_pod_wins_whatever_the_order(
    ids: list[tuple[int, int]], data: st.DataObject
) -> None:
    ads = [
        {"ClusterId": cluster, "ProcId": proc, "PodUID": uid(1), "JobStatus": 4, "ExitCode": n}
        for n, (cluster, proc) in enumerate(ids)
    ]
    latest = max(range(len(ids)), key=lambda n: ids[n])
    text = json.dumps(data.draw(st.permutations(ads)))
    state = parse_condor_ads(text)[uid(1)]
    assert state.exit_code == ads[latest]["ExitCode"]


def test_ads_without_pod_uid_are_keyed_by_job_id() -> None:
    text = json.dumps(
        [
            {"ClusterId": 7, "ProcId": 3, "JobStatus": 1},
            {"ClusterId": 7, "ProcId": 4, "PodUID": "", "JobStatus": 1},
            {"ClusterId": 8, "ProcId": 0, "PodUID": uid(2), "JobStatus": 2},
        ]
    )
    assert set(parse_condor_ads(text)) == {"7.3", "7.4", uid(2)}


def test_attribute_names_ignore_case_as_classads_do() -> None:
    text = json.dumps(
        [{"clusterid": 7, "PROCID": 0, "poduid": uid(3), "jobstatus": 4, "exitcode": 0}]
    )
    assert parse_condor_ads(text) == {
        uid(3): RemoteState(kind="succeeded", raw="JobStatus=4", exit_code=0)
    }
    with pytest.raises(SchedulerOutputError, match="twice"):
        htcondor_job_state({"JobStatus": 1, "jobstatus": 2})


def test_epoch_seconds_become_aware_utc_times() -> None:
    state = htcondor_job_state({"JobStatus": 2, "JobStartDate": 1795446256})
    assert state.started_at == T
    assert state.started_at is not None
    assert state.started_at.utcoffset() is not None
    # 0 is HTCondor's "not yet"; a completed job without CompletionDate uses when it ended.
    state = htcondor_job_state(
        {"JobStatus": 4, "ExitCode": 0, "CompletionDate": 0, "EnteredCurrentStatus": 1795446256}
    )
    assert state.finished_at == T


@pytest.mark.parametrize(
    ("ad", "path"),
    [
        ({"ClusterId": 1, "ProcId": 0}, "[0].JobStatus"),
        ({"ProcId": 0, "JobStatus": 1}, "[0].ClusterId"),
        ({"ClusterId": -1, "ProcId": 0, "JobStatus": 1}, "[0].ClusterId"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": "2"}, "[0].JobStatus"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": True}, "[0].JobStatus"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": 4, "ExitCode": 1.5}, "[0].ExitCode"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": 4, "ExitBySignal": 1}, "[0].ExitBySignal"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": 2, "JobStartDate": -5}, "[0].JobStartDate"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": 2, "JobStartDate": 1e20}, "[0].JobStartDate"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": 5, "HoldReason": 5}, "[0].HoldReason"),
        ({"ClusterId": 1, "ProcId": 0, "JobStatus": 1, "PodUID": ["x"]}, "[0].PodUID"),
    ],
)
def test_malformed_ads_name_the_attribute(ad: dict[str, object], path: str) -> None:
    with pytest.raises(SchedulerOutputError) as caught:
        parse_condor_ads(json.dumps([ad]))
    assert caught.value.path == path


@pytest.mark.parametrize(
    "text", ["{}", "[1]", "[[]]", "not json", "[{]", "[NaN]", '{"ClusterId": 1}', "null"]
)
def test_output_that_is_not_an_array_of_ads_is_refused(text: str) -> None:
    with pytest.raises(SchedulerOutputError):
        parse_condor_ads(text)


# --------------------------------------------------------------------------------------
# condor_submit


@settings(deadline=None)
@given(st.integers(1, 2**31 - 1), st.integers(1, 5), st.sampled_from(["\n", "\r\n"]))
def test_condor_submit_reports_the_cluster(cluster: int, count: int, newline: str) -> None:
    plain = newline.join(
        [
            "Submitting job(s).",
            f"{count} job(s) submitted to cluster {cluster}.",
            "",
        ]
    )
    terse = f"{cluster}.0 - {cluster}.{count - 1}{newline}"
    assert parse_condor_submit(plain) == cluster
    assert parse_condor_submit(terse) == cluster
    assert parse_condor_submit("Logging submit event(s).\n" + plain) == cluster


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Submitting job(s).\n",
        "0 job(s) submitted to cluster 12.\n",
        "1 job(s) submitted to cluster 12.\n1 job(s) submitted to cluster 13.\n",
        "12.0 - 13.0\n",
        "12.3 - 12.1\n",
        "1 job(s) submitted to cluster ١٢.\n",  # Arabic-Indic digits are not HTCondor's
    ],
)
def test_condor_submit_without_one_cluster_is_an_error(text: str) -> None:
    with pytest.raises(SchedulerOutputError):
        parse_condor_submit(text)


# --------------------------------------------------------------------------------------
# Totality: a value or SchedulerOutputError, never another exception.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
attribute_names = st.sampled_from(HTCONDOR_AD_ATTRIBUTES).flatmap(
    lambda name: st.sampled_from([name, name.lower(), name.upper()])
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from([TIME_LIMIT_REMOVAL.format(5), SYSTEM_REMOVAL.format("x")])
)
# Mostly well-formed job ads whose other attributes take any value: they reach the table.
ads = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries(
        {
            "ClusterId": st.integers(0, 10),
            "ProcId": st.integers(0, 2),
            "JobStatus": st.integers(0, 9),
        }
    ),
    st.dictionaries(attribute_names | st.text(max_size=6), scalars | json_values, max_size=8),
)


@settings(deadline=None)
@given(st.text())
def test_any_text_is_a_value_or_our_error(text: str) -> None:
    for parse in (parse_condor_ads, parse_condor_submit):
        try:
            parse(text)
        except SchedulerOutputError as error:
            assert isinstance(error, InputError)


@settings(deadline=None, max_examples=60)
@given(json_values)
def test_any_json_is_a_value_or_our_error(value: object) -> None:
    with contextlib.suppress(SchedulerOutputError):
        parse_condor_ads(json.dumps(value))


@settings(deadline=None, max_examples=60)
@given(st.lists(ads, max_size=4))
def test_any_ads_are_a_value_or_our_error(items: list[dict[str, object]]) -> None:
    try:
        states = parse_condor_ads(json.dumps(items, allow_nan=True))
    except SchedulerOutputError:
        return
    for state in states.values():
        assert state.kind in REMOTE_KINDS
        for moment in (state.started_at, state.finished_at):
            assert moment is None or moment.utcoffset() is not None
