"""The Kubernetes JSON converter: round trips, leniency where the API is lenient, strict types,
and errors that name the JSON path."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core import _model as m
from pyinterlink.core._errors import PodError
from pyinterlink.core._kube import (
    config_map_from_json,
    config_map_to_json,
    json_key,
    pod_bundle_from_documents,
    pod_from_json,
    pod_to_json,
    secret_from_json,
    secret_to_json,
)

from .strategies import config_maps, pods, secrets


@settings(max_examples=150, deadline=None)
@given(pods)
def test_every_pod_survives_model_json_model(pod: m.Pod) -> None:
    data = json.loads(json.dumps(pod_to_json(pod)))  # through real JSON text
    again = pod_from_json(data)
    assert again == pod
    assert pod_to_json(again) == data


@settings(max_examples=50, deadline=None)
@given(config_maps, secrets)
def test_config_maps_and_secrets_survive_the_round_trip(
    config_map: m.ConfigMap, secret: m.Secret
) -> None:
    assert config_map_from_json(json.loads(json.dumps(config_map_to_json(config_map)))) == (
        config_map
    )
    assert secret_from_json(json.loads(json.dumps(secret_to_json(secret)))) == secret


def _real_pod() -> dict[str, Any]:
    """A pod as the API server sends it: status, managedFields and fields we do not model."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "train",
            "namespace": "ml",
            "uid": "0b7a1e2c-6d8a-4f4e-9a53-1f1d3c2b9a10",
            "resourceVersion": "4711",
            "managedFields": [{"manager": "kubectl", "operation": "Update"}],
            "annotations": {"slurm-job.vk.io/flags": "--gres=gpu:4 --time=20:00:00"},
        },
        "spec": {
            "containers": [
                {
                    "name": "trainer",
                    "image": "ghcr.io/org/train:1.0",
                    "command": ["python", "train.py"],
                    "resources": {"limits": {"cpu": 2, "memory": "8Gi", "nvidia.com/gpu": "4"}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}],
                    "livenessProbe": {"exec": {"command": ["true"]}},
                    "terminationMessagePath": "/dev/termination-log",
                }
            ],
            "initContainers": None,
            "volumes": [
                {
                    "name": "data",
                    "downwardAPI": {
                        "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                    },
                },
            ],
            "restartPolicy": "Never",
            "dnsPolicy": "ClusterFirst",
            "nodeName": "hpc-site",
            "tolerations": [{"key": "virtual-node.interlink/no-schedule", "operator": "Exists"}],
        },
        "status": {"phase": "Pending"},
    }


def test_a_real_pod_decodes_and_ignores_what_it_does_not_model() -> None:
    pod = pod_from_json(_real_pod())
    container = pod.spec.containers[0]
    assert pod.metadata.uid == "0b7a1e2c-6d8a-4f4e-9a53-1f1d3c2b9a10"
    assert container.command == ("python", "train.py")
    assert str(container.resources.limits["cpu"]) == "2"
    assert str(container.resources.limits["memory"]) == "8Gi"
    assert container.volume_mounts[0] == m.VolumeMount(
        name="data", mount_path="/data", read_only=True
    )
    assert pod.spec.init_containers == ()
    assert pod.spec.volumes[0].downward_api is not None
    assert pod_to_json(pod)["spec"]["volumes"][0]["downwardAPI"]["items"][0]["path"] == "labels"


def test_secret_data_is_base64_and_string_data_wins() -> None:
    secret = secret_from_json(
        {"metadata": {"name": "s"}, "data": {"a": "AAEC", "b": "eA=="}, "stringData": {"b": "y"}}
    )
    assert secret.data["a"] == b"\x00\x01\x02"
    assert secret.contents() == {"a": b"\x00\x01\x02", "b": b"y"}
    with pytest.raises(PodError) as error:
        secret_from_json({"data": {"a": "not base64!"}})
    assert error.value.path == "data.a"


@pytest.mark.parametrize(
    ("document", "path", "reason"),
    [
        (
            {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1x"}}}]}},
            "spec.containers[0].resources.limits.cpu",
            "not a Kubernetes quantity",
        ),
        (
            {"spec": {"containers": [{"name": "c", "resources": {"limits": {"a.io/b": "-"}}}]}},
            'spec.containers[0].resources.limits["a.io/b"]',
            "not a Kubernetes quantity",
        ),
        (
            {"spec": {"activeDeadlineSeconds": "5"}},
            "spec.activeDeadlineSeconds",
            "expected an integer, got a string",
        ),
        ({"metadata": {"labels": {"a": 1}}}, "metadata.labels.a", "expected a string"),
        (
            {"spec": {"containers": [{"image": "x"}]}},
            "spec.containers[0].name",
            "required field missing",
        ),
        ({"spec": {"containers": "x"}}, "spec.containers", "expected a list"),
        (
            {"spec": {"volumes": [{"name": "v", "secret": {"secretName": 5}}]}},
            "spec.volumes[0].secret.secretName",
            "expected a string",
        ),
        (
            {"spec": {"containers": [{"name": "c", "volumeMounts": [{"name": "v"}]}]}},
            "spec.containers[0].volumeMounts[0].mountPath",
            "required field missing",
        ),
        ({"spec": {"hostNetwork": "true"}}, "spec.hostNetwork", "expected true or false"),
        (
            {
                "spec": {
                    "volumes": [
                        {"name": "v", "downwardAPI": {"items": [{"path": "p", "fieldRef": {}}]}}
                    ]
                }
            },
            "spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath",
            "required field missing",
        ),
    ],
)
def test_errors_name_the_json_path(document: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(PodError) as error:
        pod_from_json(document, source="pod.yaml")
    assert error.value.path == path
    assert reason in error.value.reason
    assert str(error.value).startswith(f"pod.yaml: {path}: ")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "metadata",
                        "spec",
                        "containers",
                        "name",
                        "volumes",
                        "env",
                        "resources",
                        "limits",
                        "cpu",
                        "items",
                        "configMap",
                        "data",
                        "image",
                        "command",
                        "valueFrom",
                        "fieldRef",
                    ]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_decoding_arbitrary_json_gives_a_pod_or_a_pod_error(data: object) -> None:
    with contextlib.suppress(PodError):
        pod_from_json(data)


def test_null_lists_and_maps_are_empty() -> None:
    pod = pod_from_json(
        {"metadata": {"labels": None}, "spec": {"containers": None, "volumes": None}}
    )
    assert pod.spec.containers == ()
    assert pod.metadata.labels == {}


def test_an_unknown_volume_source_is_kept_by_name() -> None:
    pod = pod_from_json({"spec": {"volumes": [{"name": "v", "nfs": {"server": "x"}}]}})
    assert pod.spec.volumes[0].unsupported == m.UnsupportedVolumeSource(kind="nfs")


def test_json_keys_follow_kubernetes_spelling() -> None:
    assert json_key("volume_mounts") == "volumeMounts"
    assert json_key("downward_api") == "downwardAPI"
    assert json_key("read_only_root_filesystem") == "readOnlyRootFilesystem"
    assert json_key("uid") == "uid"
    assert [json_key(n) for n in ("host_ip", "pod_ip", "image_id", "container_id")] == [
        "hostIP",
        "podIP",
        "imageID",
        "containerID",
    ]


def test_null_scalars_leave_the_zero_value_as_in_go() -> None:
    pod = pod_from_json(
        {
            "metadata": {"name": None},
            "spec": {
                "hostNetwork": None,
                "containers": [
                    {"name": "c", "ports": [{"containerPort": None, "hostIP": "10.0.0.1"}]}
                ],
            },
        }
    )
    assert pod.metadata.name == ""
    assert pod.spec.host_network is False
    assert pod.spec.containers[0].ports[0].container_port == 0
    assert pod.spec.containers[0].ports[0].host_ip == "10.0.0.1"


def test_a_bundle_picks_the_pod_config_maps_and_secrets() -> None:
    documents = [
        {"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}},
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}},
        None,
        {"kind": "List", "items": [{"kind": "Secret", "metadata": {"name": "s"}}]},
    ]
    bundle = pod_bundle_from_documents(documents, source="all.yaml")
    assert bundle.pod.metadata.name == "p"
    assert [c.metadata.name for c in bundle.config_maps] == ["cfg"]
    assert [s.metadata.name for s in bundle.secrets] == ["s"]


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([{"kind": "ConfigMap"}], "all.yaml: expected exactly one Pod, found 0"),
        (
            [{"kind": "Deployment"}, {}],
            "all.yaml (document 1): kind: kind 'Deployment': expected a",
        ),
        (
            [{"kind": "Pod", "spec": {"containers": 3}}, {}],
            "all.yaml (document 1): spec.containers: expected a list, got a number",
        ),
        (
            [{"kind": "List", "items": [{"kind": "Pod", "spec": {"containers": [{}]}}]}],
            "all.yaml: items[0].spec.containers[0].name: required field missing",
        ),
    ],
)
def test_bundle_errors_name_the_document(documents: list[object], message: str) -> None:
    with pytest.raises(PodError) as error:
        pod_bundle_from_documents(documents, source="all.yaml")
    assert str(error.value).startswith(message)
