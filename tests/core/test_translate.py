"""Translation: what a pod means, decided once for every dialect."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core._errors import AnnotationError, InputError, PodError, PolicyError
from pyinterlink.core._job import EnvVar, FileToWrite, Job, Mount, SlurmOption
from pyinterlink.core._kube import config_map_from_json, pod_from_json, secret_from_json
from pyinterlink.core._objects import PodObjects
from pyinterlink.core._site import SiteConfig, parse_site_config
from pyinterlink.core._translate import ensure_uid, translate

UID = "11111111-2222-3333-4444-555555555555"


def make_pod(
    containers: list[dict[str, Any]] | None = None,
    *,
    init: list[dict[str, Any]] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "uid": UID,
            "annotations": annotations or {},
            "labels": {"app": "demo"},
        },
        "spec": {
            "containers": containers or [{"name": "main", "image": "busybox", "command": ["true"]}],
            "initContainers": init or [],
            "volumes": volumes or [],
            **spec,
        },
    }


def site(**keys: Any) -> SiteConfig:
    return parse_site_config(keys)


def run(
    pod: dict[str, Any], objects: PodObjects | None = None, at: SiteConfig | None = None
) -> Job:
    return translate(pod_from_json(pod), objects or PodObjects(), at or site())


def container(
    name: str,
    *,
    limits: dict[str, Any] | None = None,
    requests: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "image": "busybox",
        "command": ["true"],
        "resources": {"limits": limits or {}, "requests": requests or {}},
        **fields,
    }


# --- resources ------------------------------------------------------------------------------


def test_the_pod_request_is_the_larger_of_the_largest_init_and_the_sum_of_apps() -> None:
    job = run(
        make_pod(
            [
                container("a", requests={"cpu": "1500m", "memory": "1Gi"}),
                container("b", requests={"cpu": "1", "memory": "512Mi"}),
            ],
            init=[container("i", limits={"cpu": "2", "memory": "4Gi"})],
        )
    )
    assert job.resources.cpus == 3  # 2.5 CPUs of apps, rounded up; the init's 2 is smaller
    assert job.resources.memory_mib == 4096  # the init container's 4Gi is larger than 1.5Gi


def test_limits_win_over_requests_and_memory_rounds_up_to_a_mebibyte() -> None:
    job = run(
        make_pod(
            [
                container(
                    "a",
                    requests={"cpu": "4", "memory": "1G"},
                    limits={"cpu": "250m", "memory": "1000001k"},
                )
            ]
        )
    )
    assert job.resources.cpus == 1
    assert job.resources.memory_mib == 954  # 1,000,001,000 bytes = 953.67 MiB, rounded up


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 64_000), min_size=1, max_size=4),
    st.lists(st.integers(1, 64_000), max_size=3),
)
def test_cpus_follow_the_kubernetes_rule(apps: list[int], inits: list[int]) -> None:
    job = run(
        make_pod(
            [container(f"a{i}", requests={"cpu": f"{m}m"}) for i, m in enumerate(apps)],
            init=[container(f"i{i}", limits={"cpu": f"{m}m"}) for i, m in enumerate(inits)],
        )
    )
    expected = max(max(inits, default=0), sum(apps))
    assert job.resources.cpus == -(-expected // 1000)


def test_extended_resources_map_through_the_resource_table() -> None:
    job = run(
        make_pod(
            [
                container("a", limits={"nvidia.com/gpu": 2}),
                container("b", limits={"nvidia.com/gpu": "1"}),
            ]
        )
    )
    (gpu,) = job.resources.accelerators
    assert (gpu.resource, gpu.count) == ("nvidia.com/gpu", 3)
    assert gpu.slurm == ("--gres=gpu:3",)


def test_an_extended_resource_without_a_table_entry_is_an_error_naming_it() -> None:
    with pytest.raises(PodError) as error:
        run(make_pod([container("a", limits={"example.com/widget": 1})]))
    assert error.value.path == 'spec.containers[0].resources.limits["example.com/widget"]'
    assert "ResourceTable" in error.value.reason


@pytest.mark.parametrize(
    ("limits", "path"),
    [
        ({"cpu": "-1"}, "spec.containers[0].resources.limits.cpu"),
        ({"nvidia.com/gpu": "500m"}, 'spec.containers[0].resources.limits["nvidia.com/gpu"]'),
        ({"hugepages-2Mi": "1Gi"}, "spec.containers[0].resources.limits.hugepages-2Mi"),
    ],
)
def test_resources_that_cannot_be_asked_for_are_errors(limits: dict[str, str], path: str) -> None:
    with pytest.raises(PodError) as error:
        run(make_pod([container("a", limits=limits)]))
    assert error.value.path == path


# --- flags, flavors, policy -----------------------------------------------------------------

FLAGS = "slurm-job.vk.io/flags"
FLAGS_PATH = 'metadata.annotations["slurm-job.vk.io/flags"]'


def test_the_pod_spec_wins_over_annotation_flags_for_cpu_and_memory() -> None:
    job = run(
        make_pod(
            [container("a", limits={"cpu": "2", "memory": "1Gi"})],
            annotations={FLAGS: "--cpus-per-task=8 --mem=100G -p geant4 --time 01:00:00 -A proj"},
        )
    )
    assert job.resources.cpus == 2
    assert job.resources.memory_mib == 1024
    assert job.queue == "geant4"
    assert job.account == "proj"
    assert job.slurm_options == (SlurmOption(name="time", value="01:00:00"),)
    assert any("--cpus-per-task" in w for w in job.warnings)


def test_flags_give_cpu_and_memory_when_the_pod_spec_is_silent() -> None:
    job = run(make_pod(annotations={FLAGS: "-c 4 --mem=2G"}))
    assert (job.resources.cpus, job.resources.memory_mib) == (4, 2048)
    assert job.slurm_options == ()


def test_active_deadline_replaces_the_time_flag() -> None:
    job = run(make_pod(annotations={FLAGS: "--time=20:00:00"}, activeDeadlineSeconds=600))
    assert job.time_limit_seconds == 600
    assert job.slurm_options == ()


def test_gres_from_the_pod_spec_wins_and_appears_once() -> None:
    job = run(
        make_pod(
            [container("a", limits={"nvidia.com/gpu": 4})],
            annotations={FLAGS: "--gres=gpu:2 --exclusive"},
        )
    )
    assert job.resources.accelerators[0].slurm == ("--gres=gpu:4",)
    assert job.slurm_options == (SlurmOption(name="exclusive"),)


@pytest.mark.parametrize(
    "flags", ["--job-name test", "-J test", "--output=/tmp/x", "--uid 0", "--chdir=/"]
)
def test_flags_that_break_tracking_are_refused_by_default(flags: str) -> None:
    with pytest.raises(PolicyError) as error:
        run(make_pod(annotations={FLAGS: f"--gres=gpu:4 {flags} --time=20:00:00"}))
    assert error.value.path == FLAGS_PATH


def test_a_site_deny_list_refuses_more() -> None:
    with pytest.raises(PolicyError):
        run(
            make_pod(annotations={FLAGS: "--exclusive"}),
            at=site(FlagPolicy={"Deny": ["exclusive"]}),
        )


def test_an_unparsable_flags_annotation_names_the_annotation() -> None:
    with pytest.raises(AnnotationError) as error:
        run(make_pod(annotations={FLAGS: '--comment "unterminated'}))
    assert error.value.path == FLAGS_PATH


def test_flavor_defaults_really_apply() -> None:
    at = site(
        Flavors={
            "small": {
                "Name": "small",
                "CPUDefault": 3,
                "MemoryDefault": "2G",
                "SlurmFlags": ["--qos=short"],
            }
        },
        DefaultFlavor="small",
    )
    job = run(make_pod(), at=at)
    assert job.resources.cpus == 3
    assert job.resources.memory_mib is not None
    assert job.slurm_options == (SlurmOption(name="qos", value="short"),)


def test_a_gpu_pod_picks_a_gpu_flavor() -> None:
    at = site(
        Flavors={
            "cpu": {"Name": "cpu", "CPUDefault": 1},
            "gpu": {"Name": "gpu", "CPUDefault": 8, "SlurmFlags": ["--gres=gpu:1"]},
        },
        DefaultFlavor="cpu",
    )
    job = run(make_pod([container("a", limits={"nvidia.com/gpu": 1})]), at=at)
    assert job.resources.cpus == 8


def test_an_unknown_flavor_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError) as error:
        run(make_pod(annotations={"slurm-job.vk.io/flavor": "huge"}))
    assert "huge" in error.value.reason


def test_pre_exec_can_be_switched_off_by_the_site() -> None:
    pod = make_pod(annotations={"slurm-job.vk.io/pre-exec": "module load cuda"})
    assert run(pod).pre_exec == "module load cuda"
    with pytest.raises(PolicyError) as error:
        run(pod, at=site(AllowPreExec=False))
    assert error.value.path == 'metadata.annotations["slurm-job.vk.io/pre-exec"]'


# --- environment ----------------------------------------------------------------------------


def test_environment_resolves_in_kubernetes_order() -> None:
    cm = config_map_from_json({"metadata": {"name": "cm"}, "data": {"A": "from-cm", "B": "b"}})
    secret = secret_from_json({"metadata": {"name": "s"}, "data": {"token": "c2VjcmV0"}})
    pod = make_pod(
        [
            container(
                "a",
                envFrom=[{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
                env=[
                    {"name": "CM_A", "value": "overridden $(CM_B) $$(CM_B) $(UNDEFINED)"},
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
                    {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {
                        "name": "APP",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                    },
                    {
                        "name": "GONE",
                        "valueFrom": {
                            "configMapKeyRef": {"name": "nope", "key": "k", "optional": True}
                        },
                    },
                    {
                        "name": "MEM",
                        "valueFrom": {
                            "resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}
                        },
                    },
                ],
                limits={"memory": "1Gi"},
            )
        ]
    )
    job = run(pod, PodObjects.of([cm], [secret]))
    assert job.tasks[0].env == (
        EnvVar(name="CM_A", value="overridden b $(CM_B) $(UNDEFINED)"),
        EnvVar(name="CM_B", value="b"),
        EnvVar(name="TOKEN", value="secret"),
        EnvVar(name="NAME", value="p"),
        EnvVar(name="APP", value="demo"),
        EnvVar(name="MEM", value="1024"),
    )


def test_command_and_args_expand_variable_references() -> None:
    pod = make_pod(
        [
            container(
                "a",
                command=["echo", "$(X)"],
                args=["$$(X)", "$(Y)"],
                env=[{"name": "X", "value": "x; rm -rf /"}],
            )
        ]
    )
    task = run(pod).tasks[0]
    assert task.command == ("echo", "x; rm -rf /")
    assert task.args == ("$(X)", "$(Y)")


@pytest.mark.parametrize(
    ("env", "path"),
    [
        (
            {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}},
            "spec.containers[0].env[0].valueFrom.configMapKeyRef",
        ),
        (
            {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
        ),
        ({"name": "A=B", "value": "x"}, "spec.containers[0].env[0].name"),
    ],
)
def test_unresolvable_environment_is_an_error_naming_the_entry(
    env: dict[str, Any], path: str
) -> None:
    with pytest.raises(PodError) as error:
        run(make_pod([container("a", env=[env])]))
    assert error.value.path == path


# --- volumes --------------------------------------------------------------------------------


def test_config_map_and_secret_volumes_become_files_and_read_only_mounts() -> None:
    cm = config_map_from_json(
        {"metadata": {"name": "cfg"}, "data": {"a.conf": "x=1"}, "binaryData": {"blob": "AAE="}}
    )
    secret = secret_from_json({"metadata": {"name": "s"}, "stringData": {"t": "tok"}})
    pod = make_pod(
        [
            container(
                "a",
                volumeMounts=[
                    {"name": "cfg", "mountPath": "/etc/cfg"},
                    {"name": "cfg", "mountPath": "/etc/a.conf", "subPath": "a.conf"},
                    {"name": "sec", "mountPath": "/run/s"},
                    {"name": "scratch", "mountPath": "/scratch"},
                    {"name": "host", "mountPath": "/data", "readOnly": True},
                ],
            )
        ],
        volumes=[
            {"name": "cfg", "configMap": {"name": "cfg"}},
            {
                "name": "sec",
                "secret": {
                    "secretName": "s",
                    "defaultMode": 0o400,
                    "items": [{"key": "t", "path": "dir/token"}],
                },
            },
            {"name": "scratch", "emptyDir": {}},
            {"name": "host", "hostPath": {"path": "/gpfs/data"}},
        ],
    )
    job = run(pod, PodObjects.of([cm], [secret]))
    assert job.files == (
        FileToWrite(path="configMaps/cfg/a.conf", content=b"x=1", mode=0o644),
        FileToWrite(path="configMaps/cfg/blob", content=b"\x00\x01", mode=0o644),
        FileToWrite(path="secrets/sec/dir/token", content=b"tok", mode=0o400),
    )
    assert job.empty_dirs == ("emptyDirs/scratch",)
    assert job.tasks[0].mounts == (
        Mount(source="configMaps/cfg", target="/etc/cfg", read_only=True),
        Mount(source="configMaps/cfg/a.conf", target="/etc/a.conf", read_only=True),
        Mount(source="secrets/sec", target="/run/s", read_only=True),
        Mount(source="emptyDirs/scratch", target="/scratch"),
        Mount(source="/gpfs/data", target="/data", read_only=True, host=True),
    )


def test_downward_api_volumes_hold_pod_fields() -> None:
    pod = make_pod(
        [container("a", volumeMounts=[{"name": "info", "mountPath": "/info"}])],
        volumes=[
            {
                "name": "info",
                "downwardAPI": {
                    "items": [
                        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o600},
                    ]
                },
            }
        ],
    )
    job = run(pod)
    assert job.files == (
        FileToWrite(path="projectedVolumeMaps/info/labels", content=b'app="demo"'),
        FileToWrite(path="projectedVolumeMaps/info/name", content=b"p", mode=0o600),
    )


@pytest.mark.parametrize(
    ("volume", "mount", "path"),
    [
        (
            {"name": "v", "configMap": {"name": "cfg", "items": [{"key": "k", "path": "../x"}]}},
            {},
            "spec.volumes[0].configMap.items[0].path",
        ),
        (
            {"name": "v", "configMap": {"name": "cfg", "items": [{"key": "k", "path": "/abs"}]}},
            {},
            "spec.volumes[0].configMap.items[0].path",
        ),
        (
            {"name": "v", "emptyDir": {}},
            {"subPath": "a/../../b"},
            "spec.containers[0].volumeMounts[0].subPath",
        ),
        (
            {"name": "v", "persistentVolumeClaim": {"claimName": "c"}},
            {},
            "spec.volumes[0].persistentVolumeClaim",
        ),
        ({"name": "v", "nfs": {"server": "s", "path": "/"}}, {}, "spec.volumes[0].nfs"),
        ({"name": "v", "configMap": {"name": "missing"}}, {}, "spec.volumes[0].configMap.name"),
        (
            {"name": "v", "emptyDir": {}},
            {"subPathExpr": "$(X)"},
            "spec.containers[0].volumeMounts[0].subPathExpr",
        ),
    ],
)
def test_volumes_that_cannot_be_honoured_are_errors_naming_their_path(
    volume: dict[str, Any], mount: dict[str, Any], path: str
) -> None:
    cm = config_map_from_json({"metadata": {"name": "cfg"}, "data": {"k": "v"}})
    pod = make_pod(
        [container("a", volumeMounts=[{"name": "v", "mountPath": "/m", **mount}])], volumes=[volume]
    )
    with pytest.raises(PodError) as error:
        run(pod, PodObjects.of([cm]))
    assert error.value.path == path


def test_a_config_map_key_cannot_escape_its_volume() -> None:
    cm = config_map_from_json({"metadata": {"name": "cfg"}, "data": {"..": "x"}})
    pod = make_pod(volumes=[{"name": "v", "configMap": {"name": "cfg"}}])
    with pytest.raises(PodError) as error:
        run(pod, PodObjects.of([cm]))
    assert "'..'" in error.value.reason


def test_optional_missing_objects_are_empty() -> None:
    pod = make_pod(volumes=[{"name": "v", "configMap": {"name": "nope", "optional": True}}])
    assert run(pod).empty_dirs == ("configMaps/v",)


# --- containers and identity ----------------------------------------------------------------


def test_tasks_keep_order_image_prefix_and_identity() -> None:
    pod = make_pod(
        [container("app", securityContext={"runAsUser": 1000}, workingDir="/w")],
        init=[container("first"), container("second")],
        securityContext={"runAsUser": 7, "runAsGroup": 8},
    )
    job = run(pod, at=site(ImagePrefix="docker://"))
    assert [t.name for t in job.all_tasks] == ["first", "second", "app"]
    assert [t.init for t in job.all_tasks] == [True, True, False]
    assert job.tasks[0].image == "docker://busybox"
    assert (job.tasks[0].run_as_user, job.tasks[0].run_as_group) == (1000, 8)
    assert job.tasks[0].working_dir == "/w"
    assert job.workdir.endswith(f"/ns-{UID}")
    assert (job.pod_uid, job.pod_name, job.namespace) == (UID, "p", "ns")


def test_an_image_with_a_scheme_keeps_it() -> None:
    pod = make_pod([{"name": "a", "image": "oras://reg/img:1", "command": ["x"]}])
    assert run(pod, at=site(ImagePrefix="docker://")).tasks[0].image == "oras://reg/img:1"


@pytest.mark.parametrize(
    ("pod", "path"),
    [
        (make_pod([container("Bad_Name")]), "spec.containers[0].name"),
        (make_pod([container("a"), container("a")]), "spec.containers[1].name"),
        (
            make_pod(init=[container("side", restartPolicy="Always")]),
            "spec.initContainers[0].restartPolicy",
        ),
        (
            make_pod([container("a", securityContext={"privileged": True})]),
            "spec.containers[0].securityContext.privileged",
        ),
        (make_pod(activeDeadlineSeconds=0), "spec.activeDeadlineSeconds"),
        (
            {"metadata": {"name": "p", "uid": "a/b"}, "spec": {"containers": [container("a")]}},
            "metadata.uid",
        ),
        ({"metadata": {"name": "p"}, "spec": {"containers": [container("a")]}}, "metadata.uid"),
        ({"metadata": {"name": "p", "uid": "u"}, "spec": {}}, "spec.containers"),
    ],
)
def test_pods_we_cannot_honour_are_errors_naming_the_field(pod: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as error:
        run(pod)
    assert error.value.path == path


def test_bwrap_needs_a_command() -> None:
    pod = make_pod([{"name": "a", "image": "busybox", "args": ["x"]}])
    with pytest.raises(PodError) as error:
        run(pod, at=site(ContainerRuntime="bwrap"))
    assert error.value.path == "spec.containers[0].command"


def test_accepted_but_not_honoured_fields_are_warnings() -> None:
    job = run(
        make_pod(
            [container("a", ports=[{"containerPort": 80}])],
            volumes=[{"name": "m", "emptyDir": {"medium": "Memory"}}],
            restartPolicy="Always",
        )
    )
    assert any("ports" in w for w in job.warnings)
    assert any("Memory" in w for w in job.warnings)
    assert any("restartPolicy" in w for w in job.warnings)


def test_a_missing_uid_is_derived_stably_from_namespace_and_name() -> None:
    pod = pod_from_json(
        {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [container("a")]}}
    )
    first, derived = ensure_uid(pod)
    second, _ = ensure_uid(pod)
    assert derived
    assert first.metadata.uid == second.metadata.uid != ""
    assert ensure_uid(first) == (first, False)
