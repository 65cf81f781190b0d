"""interLink's wire types: Go's exact shapes (golden bodies), Go's leniency on input (key case,
nulls, zero times), errors that name the JSON path, totality, and encode → decode round trips.

The golden bodies in tests/golden/wire/ are what upstream's Go code writes (``json.Marshal``:
struct field order, nil slices as ``null``, HTML-safe escapes), one body per file followed by a
newline. Decoding one and encoding it again must give the same bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyinterlink.core import _kstatus as ks
from pyinterlink.core import _model as m
from pyinterlink.core import parse_quantity
from pyinterlink.core._wire import (
    GO_ZERO_TIME,
    ContainerLogOpts,
    CreateStruct,
    LogStruct,
    PingAccelerator,
    PingResources,
    PingResponse,
    PingTaint,
    PodCreateRequests,
    RetrievedContainer,
    RetrievedPodData,
    WireConfigMap,
    WireContainerStatus,
    WireError,
    WirePod,
    WirePodStatus,
    WireSecret,
    _zero_job_config,
    container_status_from_json,
    container_status_to_json,
    create_struct_from_json,
    create_struct_to_json,
    dump_json,
    load_json,
    log_struct_from_json,
    log_struct_to_json,
    ping_response_from_body,
    ping_response_from_json,
    ping_response_to_json,
    pod_create_requests_from_json,
    pod_create_requests_to_json,
    pod_status_list_from_json,
    pod_status_list_to_json,
    pods_from_json,
    pods_to_json,
    retrieved_pod_data_from_json,
    retrieved_pod_data_to_json,
    wire_pod_from_json,
    wire_pod_to_json,
)
from pyinterlink.core._wire_json import fold_key, format_rfc3339, parse_rfc3339

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "wire"

Decoder = Callable[[object], Any]
Encoder = Callable[[Any], object]

# Every top-level message: how it decodes and encodes.
CODECS: dict[str, tuple[Decoder, Encoder]] = {
    "pod_create_requests": (pod_create_requests_from_json, pod_create_requests_to_json),
    "retrieved_pod_data": (retrieved_pod_data_from_json, retrieved_pod_data_to_json),
    "create_struct": (create_struct_from_json, create_struct_to_json),
    "pod": (wire_pod_from_json, wire_pod_to_json),
    "status_request": (pods_from_json, pods_to_json),
    "status_answer": (pod_status_list_from_json, pod_status_list_to_json),
    "log_struct": (log_struct_from_json, log_struct_to_json),
    "ping_response": (ping_response_from_json, ping_response_to_json),
}

# Golden file → its codec. Every one re-encodes to its own bytes except where noted.
GOLDENS = {
    "pod_create_requests.json": "pod_create_requests",
    "pod_create_requests_minimal.json": "pod_create_requests",
    "retrieved_pod_data.json": "retrieved_pod_data",
    "retrieved_pod_data_job_script.json": "retrieved_pod_data",
    "create_struct.json": "create_struct",
    "status_request.json": "status_request",
    "ping_request.json": "status_request",
    "status_answer.json": "status_answer",
    "log_struct.json": "log_struct",
    "log_struct_since_time.json": "log_struct",
    "ping_response.json": "ping_response",
    "ping_response_keep_taints.json": "ping_response",
    "ping_response_clear_taints.json": "ping_response",
}
NOT_BYTE_IDENTICAL = {
    # A top-level null answer is read as no statuses; we answer [] (see pod_status_list_to_json).
    "status_answer_null.json": ("status_answer", b"[]"),
}


def _golden(name: str) -> bytes:
    body = (GOLDEN / name).read_bytes()
    assert body.endswith(b"\n")
    return body[:-1]


def _roundtrip(kind: str, value: Any) -> Any:
    decode, encode = CODECS[kind]
    return decode(load_json(dump_json(encode(value))))


# --- golden bodies --------------------------------------------------------------------------


def test_every_golden_file_is_checked() -> None:
    assert {p.name for p in GOLDEN.glob("*.json")} == set(GOLDENS) | set(NOT_BYTE_IDENTICAL)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_a_golden_body_decodes_and_encodes_to_the_same_bytes(name: str) -> None:
    decode, encode = CODECS[GOLDENS[name]]
    body = _golden(name)
    value = decode(load_json(body))
    assert dump_json(encode(value)) == body
    assert _roundtrip(GOLDENS[name], value) == value


@pytest.mark.parametrize("name", sorted(NOT_BYTE_IDENTICAL))
def test_a_golden_body_we_answer_differently(name: str) -> None:
    kind, ours = NOT_BYTE_IDENTICAL[name]
    decode, encode = CODECS[kind]
    assert dump_json(encode(decode(load_json(_golden(name))))) == ours


def test_a_create_request_keeps_what_the_virtual_kubelet_sent() -> None:
    request = pod_create_requests_from_json(load_json(_golden("pod_create_requests.json")))
    pod = request.pod.pod
    assert (pod.metadata.name, pod.metadata.namespace) == ("hello-slurm", "default")
    assert [c.name for c in pod.spec.init_containers] == ["prepare"]
    assert pod.spec.containers[0].env[0].value == "<hi & bye>"
    # Fields we do not model are still in what we pass on.
    assert request.pod.raw["metadata"]["managedFields"][0]["manager"] == "kubectl-client-side-apply"
    assert request.pod.raw["status"]["qosClass"] == "Guaranteed"
    assert request.config_maps[0].config_map.data == {"greeting": "hello from a ConfigMap\n"}
    assert request.secrets[0].secret.data == {"password": b"s3cr3t", "username": b"alice"}
    projected = request.projected_volume_maps[0].config_map
    assert projected.metadata.name == "kube-api-access-5x2lp"
    assert projected.data["namespace"] == "default"
    assert request.persistent_volume_claims == ()
    assert request.job_script_url == ""


def test_a_pod_passed_through_reaches_the_plugin_unchanged() -> None:
    """What the API server does: take the VK's objects and hand them on in RetrievedPodData."""
    request = pod_create_requests_from_json(load_json(_golden("pod_create_requests.json")))
    handed_on = RetrievedPodData(
        pod=request.pod,
        containers=(
            RetrievedContainer(name="prepare"),
            RetrievedContainer(
                name="main",
                config_maps=request.config_maps,
                projected_volume_maps=request.projected_volume_maps,
                secrets=request.secrets,
            ),
        ),
    )
    assert dump_json(retrieved_pod_data_to_json(handed_on)) == _golden("retrieved_pod_data.json")


def test_a_status_answer_decodes_into_container_states() -> None:
    statuses = pod_status_list_from_json(load_json(_golden("status_answer.json")))
    assert [s.name for s in statuses] == ["hello-slurm", "sleeper", "queued", "greedy"]
    done, running, queued, killed = statuses
    assert done.jid == "4242"
    assert done.init_containers[0].status.state.terminated == ks.ContainerStateTerminated(
        exit_code=0,
        reason="Completed",
        started_at=datetime(2026, 11, 23, 16, 4, 58, tzinfo=UTC),
        finished_at=datetime(2026, 11, 23, 16, 4, 59, tzinfo=UTC),
    )
    assert running.containers[0].status.started is True
    assert running.init_containers == ()
    assert queued.containers[0].status.state.waiting == ks.ContainerStateWaiting(
        reason="Priority", message="queued: Slurm pending reason Priority"
    )
    terminated = killed.containers[0].status.state.terminated
    assert terminated is not None
    assert (terminated.exit_code, terminated.signal, terminated.reason) == (137, 9, "OOMKilled")
    assert terminated.container_id == "slurm://4245"


def test_container_statuses_we_write_are_what_go_writes() -> None:
    for pod_status in pod_status_list_from_json(load_json(_golden("status_answer.json"))):
        for wire in (*pod_status.containers, *pod_status.init_containers):
            assert container_status_to_json(wire.status) == wire.raw
            assert WireContainerStatus.of(wire.status) == wire


def test_log_and_ping_goldens_mean_what_they_say() -> None:
    logs = log_struct_from_json(load_json(_golden("log_struct.json")))
    assert logs.opts == ContainerLogOpts(tail=100, timestamps=True, follow=True)
    since = log_struct_from_json(load_json(_golden("log_struct_since_time.json")))
    assert since.opts.since_time == datetime(2026, 11, 23, 16, 4, 16, 250000, tzinfo=UTC)
    assert since.opts.limit_bytes == 65536
    ping = ping_response_from_json(load_json(_golden("ping_response.json")))
    assert ping.resources == PingResources(
        cpu=parse_quantity("256"),
        memory=parse_quantity("1Ti"),
        pods=parse_quantity("110"),
        accelerators=(
            PingAccelerator(resource_type="nvidia.com/gpu", available=16),
            PingAccelerator(resource_type="xilinx.com/fpga", available=2),
        ),
    )
    assert ping.taints == (
        PingTaint(key="site.example.org/maintenance", value="true", effect="NoSchedule"),
    )
    assert (
        ping_response_from_json(load_json(_golden("ping_response_keep_taints.json"))).taints is None
    )
    assert (
        ping_response_from_json(load_json(_golden("ping_response_clear_taints.json"))).taints == ()
    )


def test_the_job_config_is_go_zero_value_when_unused() -> None:
    golden = load_json(_golden("retrieved_pod_data.json"))
    assert isinstance(golden, dict)
    pod = wire_pod_from_json(golden["pod"])
    assert retrieved_pod_data_to_json(RetrievedPodData(pod=pod))["jobConfig"] == golden["jobConfig"]
    assert "jobScript" not in retrieved_pod_data_to_json(RetrievedPodData(pod=pod))
    for absent in ({}, {"jobConfig": None}):
        decoded = retrieved_pod_data_from_json({"pod": golden["pod"], **absent})
        assert decoded.job_config == golden["jobConfig"]


# --- Go's leniency on input -----------------------------------------------------------------


def test_keys_match_case_insensitively_but_not_across_underscores() -> None:
    assert create_struct_from_json({"poduid": "u", "PODJID": "7"}) == CreateStruct(
        pod_uid="u", pod_jid="7"
    )
    with pytest.raises(WireError, match="required field missing") as caught:
        create_struct_from_json({"pod_uid": "u", "pod_jid": "7"})
    assert caught.value.path == "PodUID"
    opts = log_struct_from_json({"poduid": "u", "opts": {"tail": 5, "BYTES": 7, "sincetime": None}})
    assert (opts.opts.tail, opts.opts.limit_bytes) == (5, 7)


def test_keys_fold_like_go_equal_fold() -> None:
    # U+017F (long s) folds to s and U+212A (Kelvin sign) to k, as in Go's bytes.EqualFold.
    assert fold_key("\u017ftatus") == fold_key("status")
    assert fold_key("\u212aey") == fold_key("key")
    assert fold_key("\u017f") != fold_key("f")
    ping = ping_response_from_json(
        {"\u017fTATUS": "ok", "taints": [{"\u212aey": "a", "effect": "NoExecute"}]}
    )
    assert ping == PingResponse(status="ok", taints=(PingTaint(key="a", effect="NoExecute"),))
    # Other non-ASCII letters never match: a dotless i is not an i.
    with pytest.raises(WireError, match="required field missing"):
        create_struct_from_json({"PodU\u0131D": "u"})


def test_the_last_of_duplicate_keys_wins_and_null_changes_nothing() -> None:
    assert create_struct_from_json({"PodUID": "a", "poduid": "b"}).pod_uid == "b"
    assert create_struct_from_json({"PodUID": "a", "poduid": None}).pod_uid == "a"


@pytest.mark.parametrize("empty", [None, [], "absent"])
def test_null_empty_and_absent_lists_are_the_same(empty: object) -> None:
    pod = {"metadata": {"name": "p"}}
    lists = ("configmaps", "secrets", "persistentvolumes", "projectedvolumesmaps")
    body = {"pod": pod} | ({} if empty == "absent" else dict.fromkeys(lists, empty))
    assert pod_create_requests_from_json(body) == PodCreateRequests(pod=wire_pod_from_json(pod))
    container = {"name": "c"} | (
        {}
        if empty == "absent"
        else dict.fromkeys(
            ("configMaps", "projectedvolumemaps", "secrets", "emptyDirs", "persistentVolumeClaims"),
            empty,
        )
    )
    assert retrieved_pod_data_from_json({"pod": pod, "container": [container]}).containers == (
        RetrievedContainer(name="c"),
    )
    status = {"UID": "u"} | (
        {} if empty == "absent" else {"containers": empty, "initContainers": empty}
    )
    assert pod_status_list_from_json([status]) == (WirePodStatus(uid="u"),)


def test_top_level_null_lists_are_empty() -> None:
    assert pod_status_list_from_json(None) == ()
    assert pods_from_json(None) == ()
    assert pod_status_list_from_json(load_json(b"null")) == ()


def test_a_one_element_list_is_accepted_as_retrieved_pod_data() -> None:
    single = {"pod": {"metadata": {"name": "p"}}, "container": [{"name": "c"}]}
    assert retrieved_pod_data_from_json([single]) == retrieved_pod_data_from_json(single)
    with pytest.raises(WireError, match="expected an object, got a list"):
        retrieved_pod_data_from_json([single, single])


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01t00:00:00z",
        "0001-01-01T00:00:00.000Z",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T01:30:00+01:30",
        None,
        "",
        "absent",
    ],
)
def test_zero_null_and_absent_times_are_unset(since: object) -> None:
    opts = {} if since == "absent" else {"SinceTime": since}
    decoded = log_struct_from_json({"PodUID": "u", "Opts": opts})
    assert decoded.opts.since_time is None
    assert log_struct_to_json(decoded)["Opts"] == {
        "Tail": 0,
        "Bytes": 0,
        "Timestamps": False,
        "Follow": False,
        "Previous": False,
        "SinceSeconds": 0,
        "SinceTime": "0001-01-01T00:00:00Z",
    }


def test_times_are_rfc3339_in_utc_with_go_precision() -> None:
    plus_two = timezone(timedelta(hours=2))
    opts = ContainerLogOpts(since_time=datetime(2026, 11, 23, 18, 4, 16, 120000, tzinfo=plus_two))
    encoded = log_struct_to_json(LogStruct(pod_uid="u", opts=opts))["Opts"]
    assert isinstance(encoded, dict)
    assert encoded["SinceTime"] == "2026-11-23T16:04:16.12Z"
    assert ContainerLogOpts(since_time=GO_ZERO_TIME).since_time is None
    status = ks.ContainerStatus(
        name="c",
        state=ks.ContainerState(
            running=ks.ContainerStateRunning(
                started_at=datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=plus_two)
            )
        ),
    )
    # metav1.Time: whole seconds, cut.
    assert container_status_to_json(status)["state"] == {
        "running": {"startedAt": "2026-01-02T01:04:05Z"}
    }
    assert parse_rfc3339("2026-11-23T16:04:16.123456789-01:00") == datetime(
        2026, 11, 23, 17, 4, 16, 123456, tzinfo=UTC
    )
    assert format_rfc3339(datetime(5, 1, 1, tzinfo=UTC), fraction=True) == "0005-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23",
        "2026-11-23 16:04:16Z",
        "2026-11-23T16:04Z",
        "2026-11-23T16:04:16",
        "2026-11-23T16:04:16.Z",
        "2026-11-23T16:04:16+0100",
        "2026-11-23T16:04:16+24:00",
        "2026-11-23T16:04:16+01:60",
        "2026-02-30T00:00:00Z",
        "2026-W47-1T16:04:16Z",
        "0001-01-01T00:00:00+01:00",
        "2026-11-23T16:04:16Z ",
        "\u0662\u0660\u0662\u0666-11-23T16:04:16Z",
    ],
)
def test_anything_but_rfc3339_is_refused(text: str) -> None:
    with pytest.raises(WireError) as caught:
        log_struct_from_json({"PodUID": "u", "Opts": {"SinceTime": text}})
    assert caught.value.path == "Opts.SinceTime"


def test_container_statuses_from_python_sdk_plugins_decode() -> None:
    """FastAPI writes every unset optional field as null, and JID as null when unset."""
    answer = load_json(
        b'[{"name":"p","UID":"u","JID":null,"namespace":"default","containers":[{"name":"main",'
        b'"state":{"terminated":{"exitCode":1,"reason":null},"running":null,"waiting":null}}]}]'
    )
    (status,) = pod_status_list_from_json(answer)
    assert status.jid == ""
    assert status.containers[0].status == ks.ContainerStatus(
        name="main",
        state=ks.ContainerState(terminated=ks.ContainerStateTerminated(exit_code=1)),
    )
    assert container_status_from_json(
        {"NAME": "c", "ImageId": "sha", "containerid": "x"}
    ).status == (ks.ContainerStatus(name="c", image_id="sha", container_id="x"))


def test_ping_answers_are_optional() -> None:
    for body in (b"", b"ok", b"null", b"[]", b'"ok"', b"\xff"):
        assert ping_response_from_body(body) is None
    assert ping_response_from_body(b'{"status":"ok"}') == PingResponse(status="ok")
    with pytest.raises(WireError) as caught:
        ping_response_from_body(b'{"taints":[{"key":"k","effect":"Sometimes"}]}')
    assert caught.value.path == "taints[0].effect"


# --- errors name the JSON path --------------------------------------------------------------

_POD = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}


@pytest.mark.parametrize(
    ("kind", "document", "path", "reason"),
    [
        ("pod_create_requests", {}, "pod", "required field missing"),
        ("pod_create_requests", {"pod": None}, "pod", "required field missing"),
        ("pod_create_requests", {"pod": []}, "pod", "expected an object, got a list"),
        (
            "pod_create_requests",
            {"pod": {"spec": {"containers": [{"name": 1}]}}},
            "pod.spec.containers[0].name",
            "expected a string, got a number",
        ),
        (
            "pod_create_requests",
            {"pod": _POD, "configmaps": [{"binaryData": {"x": "%%"}}]},
            "configmaps[0].binaryData.x",
            "not valid base64",
        ),
        ("pod_create_requests", {"pod": _POD, "secrets": {}}, "secrets", "expected a list"),
        ("pod_create_requests", {"pod": _POD, "configmaps": [None]}, "configmaps[0]", "got null"),
        (
            "pod_create_requests",
            {"pod": _POD, "persistentvolumes": ["pvc"]},
            "persistentvolumes[0]",
            "expected an object, got a string",
        ),
        ("pod_create_requests", {"pod": _POD, "jobscriptURL": 1}, "jobscriptURL", "a string"),
        (
            "retrieved_pod_data",
            {"pod": _POD, "container": [{"name": "a"}, {"name": "b", "secrets": [{"data": 1}]}]},
            "container[1].secrets[0].data",
            "expected an object",
        ),
        ("retrieved_pod_data", {"pod": _POD, "container": [{}]}, "container[0].name", "missing"),
        ("retrieved_pod_data", {"pod": _POD, "jobConfig": []}, "jobConfig", "expected an object"),
        ("create_struct", [], "", "expected an object, got a list"),
        ("create_struct", {"PodUID": "u", "PodJID": 42}, "PodJID", "expected a string"),
        ("pod", "pod", "", "expected an object, got a string"),
        ("status_request", [_POD, {"spec": 1}], "[1].spec", "expected an object"),
        ("status_request", {}, "", "expected a list, got an object"),
        ("status_answer", [{"UID": "u"}, {"name": "x"}], "[1].UID", "required field missing"),
        (
            "status_answer",
            [{"UID": "u", "containers": [{"name": "c", "state": {"terminated": {}}}]}],
            "[0].containers[0].state.terminated.exitCode",
            "required field missing",
        ),
        (
            "status_answer",
            [{"UID": "u", "initContainers": [{"name": "c", "restartCount": 2**31}]}],
            "[0].initContainers[0].restartCount",
            "out of range",
        ),
        (
            "status_answer",
            [{"UID": "u", "containers": [{"name": "c", "ready": "yes"}]}],
            "[0].containers[0].ready",
            "expected true or false",
        ),
        ("log_struct", {"PodUID": "u", "Opts": {"Tail": "10"}}, "Opts.Tail", "an integer"),
        ("log_struct", {"PodUID": "u", "Opts": {"Tail": 1.5}}, "Opts.Tail", "an integer"),
        ("log_struct", {"PodUID": "u", "Opts": {"Bytes": 2**63}}, "Opts.Bytes", "out of range"),
        ("log_struct", {"PodUID": "u", "Opts": {"Follow": 1}}, "Opts.Follow", "true or false"),
        ("log_struct", {"PodUID": "u", "Opts": []}, "Opts", "expected an object"),
        ("log_struct", {"PodUID": "u", "Opts": {"SinceTime": 0}}, "Opts.SinceTime", "a string"),
        ("ping_response", {"resources": {"cpu": "lots"}}, "resources.cpu", ""),
        ("ping_response", {"resources": {"memory": "-1Gi"}}, "resources.memory", "negative"),
        (
            "ping_response",
            {"resources": {"accelerators": [{"resourceType": "amd.com/gpu", "available": -1}]}},
            "resources.accelerators[0].available",
            "out of range",
        ),
        (
            "ping_response",
            {"resources": {"accelerators": [{"resourceType": "", "available": 1}]}},
            "resources.accelerators[0].resourceType",
            "must not be empty",
        ),
        ("ping_response", {"taints": [{"effect": "NoSchedule"}]}, "taints[0].key", "missing"),
        ("ping_response", {"taints": [{"key": "k"}]}, "taints[0].effect", "missing"),
        ("ping_response", {"taints": "none"}, "taints", "expected a list"),
    ],
)
def test_errors_name_the_json_path(kind: str, document: object, path: str, reason: str) -> None:
    decode, _ = CODECS[kind]
    with pytest.raises(WireError) as caught:
        decode(document)
    assert caught.value.path == path
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b'{"a":1}{}', "not valid JSON"),
        (b"NaN", "NaN is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"[1e400]", "out of range"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"1" * 5000, "not valid JSON"),
        (b'"\x00"', "not valid JSON"),
    ],
)
def test_bodies_that_are_not_json_are_wire_errors(body: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        load_json(body)


def test_reading_replaces_invalid_text_as_go_does_and_writing_escapes_as_go_does() -> None:
    assert load_json(b'"a\xffb"') == "a\ufffdb"
    assert load_json(b'["\\ud800", {"\\udfff": "\\ud83d\\ude00"}]') == [
        "\ufffd",
        {"\ufffd": "\U0001f600"},
    ]
    assert load_json(b' {"k" : [1, 2.5, true, null]}\n') == {"k": [1, 2.5, True, None]}
    written = dump_json({"html": "<a href='x'>&</a>", "lines": "\u2028\u2029", "é": "\n\t\x01"})
    assert written == (
        b'{"html":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e",'
        b'"lines":"\\u2028\\u2029","\xc3\xa9":"\\n\\t\\u0001"}'
    )
    assert dump_json(["\ud800"]) == '["\ufffd"]'.encode()
    assert dump_json((1, {"a": (True, None)})) == b'[1,{"a":[true,null]}]'


# --- constructors refuse what cannot be written ---------------------------------------------


def test_values_that_cannot_be_written_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ContainerLogOpts(since_time=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="64 bits"):
        ContainerLogOpts(tail=2**63)
    with pytest.raises(ValueError, match="must not be empty"):
        PingTaint(key="", effect="NoSchedule")
    with pytest.raises(ValueError, match="effect"):
        PingTaint(key="k", effect="Never")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="available"):
        PingAccelerator(resource_type="nvidia.com/gpu", available=-1)
    with pytest.raises(TypeError, match="JSON object"):
        WirePod(raw=[], pod=wire_pod_from_json({}).pod)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------

text = st.text(max_size=8)
uids = st.uuids().map(str)
int32s = st.integers(-(2**31), 2**31 - 1)
int64s = st.integers(-(2**63), 2**63 - 1)
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=9, minutes=30))]
)
# Go's zero time reads back as unset, so property values stay clear of it.
instants = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets
)
seconds = instants.map(lambda moment: moment.replace(microsecond=0))


def _tuples(items: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(items, max_size=2).map(tuple)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(text, json_values, max_size=3)

# The wire carries Kubernetes objects without looking inside (their own round trip is
# test_kube's): a few real ones and small built ones are enough here, and keep this fast.
_REQUEST = pod_create_requests_from_json(load_json(_golden("pod_create_requests.json")))
_MINIMAL = pod_create_requests_from_json(load_json(_golden("pod_create_requests_minimal.json")))
names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
wire_pods = st.sampled_from([_REQUEST.pod, _MINIMAL.pod]) | st.builds(
    lambda name, uid, image: WirePod.of(
        m.Pod(
            metadata=m.ObjectMeta(name=name, uid=uid),
            spec=m.PodSpec(containers=(m.Container(name="main", image=image),)),
        )
    ),
    names,
    uids,
    text,
)
wire_config_maps = st.sampled_from(
    _REQUEST.config_maps + _REQUEST.projected_volume_maps
) | st.builds(
    lambda name, data: WireConfigMap.of(m.ConfigMap(metadata=m.ObjectMeta(name=name), data=data)),
    names,
    st.dictionaries(names, text, max_size=2),
)
wire_secrets = st.sampled_from(_REQUEST.secrets) | st.builds(
    lambda name, data: WireSecret.of(m.Secret(metadata=m.ObjectMeta(name=name), data=data)),
    names,
    st.dictionaries(names, st.binary(max_size=8), max_size=2),
)

states = st.builds(
    ks.ContainerState,
    waiting=st.none() | st.builds(ks.ContainerStateWaiting, reason=text, message=text),
    running=st.none() | st.builds(ks.ContainerStateRunning, started_at=st.none() | seconds),
    terminated=st.none()
    | st.builds(
        ks.ContainerStateTerminated,
        exit_code=int32s,
        signal=st.none() | int32s,
        reason=text,
        message=text,
        started_at=st.none() | seconds,
        finished_at=st.none() | seconds,
        container_id=text,
    ),
)
container_statuses = st.builds(
    ks.ContainerStatus,
    name=text,
    state=states,
    last_state=states,
    ready=st.booleans(),
    restart_count=int32s,
    image=text,
    image_id=text,
    container_id=text,
    started=st.none() | st.booleans(),
)
wire_container_statuses = container_statuses.map(WireContainerStatus.of)

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "pod_create_requests": st.builds(
        PodCreateRequests,
        pod=wire_pods,
        config_maps=_tuples(wire_config_maps),
        secrets=_tuples(wire_secrets),
        persistent_volume_claims=_tuples(json_objects),
        projected_volume_maps=_tuples(wire_config_maps),
        job_script_url=text,
    ),
    "retrieved_pod_data": st.builds(
        RetrievedPodData,
        pod=wire_pods,
        containers=_tuples(
            st.builds(
                RetrievedContainer,
                name=text,
                config_maps=_tuples(wire_config_maps),
                projected_volume_maps=_tuples(wire_config_maps),
                secrets=_tuples(wire_secrets),
                empty_dirs=_tuples(text),
                persistent_volume_claims=_tuples(json_objects),
            )
        ),
        job_config=st.builds(_zero_job_config) | json_objects,
        job_script=text,
    ),
    "create_struct": st.builds(CreateStruct, pod_uid=uids, pod_jid=text),
    "pod": wire_pods,
    "status_request": _tuples(wire_pods),
    "status_answer": _tuples(
        st.builds(
            WirePodStatus,
            name=text,
            uid=uids,
            namespace=text,
            jid=text,
            containers=_tuples(wire_container_statuses),
            init_containers=_tuples(wire_container_statuses),
        )
    ),
    "log_struct": st.builds(
        LogStruct,
        namespace=text,
        pod_uid=uids,
        pod_name=text,
        container_name=text,
        opts=st.builds(
            ContainerLogOpts,
            tail=int64s,
            limit_bytes=int64s,
            timestamps=st.booleans(),
            follow=st.booleans(),
            previous=st.booleans(),
            since_seconds=int64s,
            since_time=st.none() | instants,
        ),
    ),
    "ping_response": st.builds(
        PingResponse,
        status=text,
        resources=st.none()
        | st.builds(
            PingResources,
            cpu=st.none() | st.integers(0, 10**6).map(lambda n: parse_quantity(f"{n}m")),
            memory=st.none() | st.integers(0, 10**6).map(lambda n: parse_quantity(f"{n}Mi")),
            pods=st.none() | st.integers(0, 10**4).map(str).map(parse_quantity),
            accelerators=_tuples(
                st.builds(
                    PingAccelerator,
                    resource_type=st.sampled_from(["nvidia.com/gpu", "amd.com/gpu"]),
                    available=st.integers(0, 2**63 - 1),
                )
            ),
        ),
        taints=st.none()
        | _tuples(
            st.builds(
                PingTaint,
                key=st.text(min_size=1, max_size=8),
                value=text,
                effect=st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
            )
        ),
    ),
}

# Keys whose values are Kubernetes objects or opaque objects: kept as received, so a variation
# inside them would (rightly) be a different value. Only their emptiness varies.
_OPAQUE = {
    fold_key(k)
    for k in (
        "pod",
        "configmaps",
        "secrets",
        "persistentvolumes",
        "projectedvolumesmaps",
        "projectedvolumemaps",
        "persistentVolumeClaims",
        "jobConfig",
        "containers",
        "initContainers",
    )
}
# Keys that must stay (Go would read their absence as a zero value; we refuse it).
_REQUIRED = {
    fold_key(k)
    for k in ("pod", "PodUID", "UID", "name", "resourceType", "available", "key", "effect")
}
_ZEROS: tuple[object, ...] = ("", 0, False, "0001-01-01T00:00:00Z")


def _go_variant(value: object, rng: random.Random, *, inside: str = "") -> object:
    """What another Go (or Python SDK) peer could send for the same message: keys in any case,
    null for empty lists and zero values, zero values left out, unknown keys added."""
    if isinstance(value, list):
        return [_go_variant(item, rng, inside=inside) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, object] = {}
    for key, item in value.items():
        folded = fold_key(key)
        spelled = "".join(rng.choice((c.lower(), c.upper())) for c in key)
        changeable = folded not in _REQUIRED and (inside, folded) != ("", "taints")
        if changeable and (item in (None, []) or (item in _ZEROS and type(item) is not float)):
            choice = rng.randrange(3)
            if choice == 0:
                continue  # left out
            result[spelled] = None if choice == 1 else item
            continue
        if folded in _OPAQUE:
            result[spelled] = item
        else:
            result[spelled] = _go_variant(item, rng, inside=folded)
    if rng.random() < 0.3:
        result["pod_uid"] = "not a field"  # an underscore is not ignored, so nothing matches
    return result


def _kinds(kinds: set[str]) -> st.SearchStrategy[tuple[str, Any]]:
    """A message of any of ``kinds``, with its kind."""
    return st.sampled_from(sorted(kinds)).flatmap(
        lambda kind: st.tuples(st.just(kind), VALUES[kind])
    )


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(_kinds(set(VALUES)))
def test_every_message_survives_encode_then_decode(message: tuple[str, Any]) -> None:
    kind, value = message
    assert _roundtrip(kind, value) == value


# A bare pod and a list of pods are Kubernetes objects all through: nothing of Go's to vary.
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(_kinds(set(VALUES) - {"pod", "status_request"}), st.randoms(use_true_random=False))
def test_every_message_survives_what_other_peers_may_send(
    message: tuple[str, Any], rng: random.Random
) -> None:
    kind, value = message
    decode, encode = CODECS[kind]
    variant = _go_variant(encode(value), rng)
    assert decode(load_json(dump_json(variant))) == value


@settings(max_examples=60, deadline=None)
@given(VALUES["log_struct"])
def test_times_are_never_written_as_empty_strings(value: LogStruct) -> None:
    body = dump_json(log_struct_to_json(value))
    assert b'"SinceTime":""' not in body
    opts = json.loads(body)["Opts"]
    assert parse_rfc3339(opts["SinceTime"]) == (value.opts.since_time or GO_ZERO_TIME)


@settings(max_examples=60, deadline=None)
@given(container_statuses)
def test_container_statuses_survive_the_round_trip(status: ks.ContainerStatus) -> None:
    raw = json.loads(dump_json(container_status_to_json(status)))
    assert container_status_from_json(raw).status == status


# Keys of every struct, so that arbitrary documents reach past the first level.
_KEYS = sorted(
    {
        "pod", "configmaps", "secrets", "persistentvolumes", "projectedvolumesmaps",
        "jobscriptURL", "container", "jobConfig", "jobScript", "name", "configMaps",
        "projectedvolumemaps", "emptyDirs", "persistentVolumeClaims", "PodUID", "PodJID", "UID",
        "namespace", "JID", "containers", "initContainers", "state", "lastState", "ready",
        "restartCount", "image", "imageID", "containerID", "started", "waiting", "running",
        "terminated", "exitCode", "signal", "reason", "message", "startedAt", "finishedAt",
        "Namespace", "PodName", "ContainerName", "Opts", "Tail", "Bytes", "Timestamps", "Follow",
        "Previous", "SinceSeconds", "SinceTime", "status", "resources", "cpu", "memory", "pods",
        "accelerators", "resourceType", "available", "taints", "key", "value", "effect",
        "metadata", "spec", "data", "binaryData",
    }
)  # fmt: skip
documents = st.recursive(
    json_scalars | st.sampled_from(["0001-01-01T00:00:00Z", "2026-11-23T16:04:16Z", "1Gi"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS) | text, inner, max_size=4)
    ),
    max_leaves=25,
)


def _decodes_or_refuses(kind: str, document: object) -> None:
    decode, _ = CODECS[kind]
    try:
        value = decode(document)
    except WireError:
        return
    assert _roundtrip(kind, value) == value


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(CODECS)), documents)
def test_arbitrary_json_decodes_or_is_a_wire_error(kind: str, document: object) -> None:
    _decodes_or_refuses(kind, document)


def _replace_somewhere(document: object, rng: random.Random, replacement: object) -> object:
    """The document with one value somewhere inside replaced."""
    if rng.random() < 0.25 or not isinstance(document, dict | list) or not document:
        return replacement
    if isinstance(document, list):
        index = rng.randrange(len(document))
        return [
            _replace_somewhere(item, rng, replacement) if i == index else item
            for i, item in enumerate(document)
        ]
    key = rng.choice(list(document))
    return {
        k: _replace_somewhere(v, rng, replacement) if k == key else v for k, v in document.items()
    }


_GOLDEN_DOCUMENTS = {name: load_json(_golden(name)) for name in sorted(GOLDENS)}


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(GOLDENS)), st.randoms(use_true_random=False), documents)
def test_golden_bodies_with_one_value_replaced_decode_or_are_wire_errors(
    name: str, rng: random.Random, replacement: object
) -> None:
    document = _replace_somewhere(_GOLDEN_DOCUMENTS[name], rng, replacement)
    _decodes_or_refuses(GOLDENS[name], document)
