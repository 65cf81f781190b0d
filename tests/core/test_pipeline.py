"""The whole pure pipeline, pod JSON → translate → render: properties a user relies on.

These run pods (not hand-built jobs) through the same functions ``interlink render`` uses,
then execute the rendered script with bash, the container runtime replaced by a stub that
records the argv it receives.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyinterlink import core
from pyinterlink.core._expand import expand_references

from tests.core.test_slurm_render import sbatch_arguments
from tests.real import needs_program

BASH = shutil.which("bash")
needs_bash = needs_program("bash", "it is part of every Debian system")
UID = "0b7a1e2c-6d8a-4f4e-9a53-1f1d3c2b9a10"

STUB = """#!/bin/bash
# Records its argv, NUL-separated, one file per call.
n=0
while [ -e "$RECORD_DIR/call-$n" ]; do n=$((n + 1)); done
printf '%s\\0' "$@" > "$RECORD_DIR/call-$n"
"""


def render_slurm_text(
    pod: dict[str, Any], site: core.SiteConfig, objects: core.PodObjects | None = None
) -> str:
    job = core.translate(
        core.pod_from_json(json.loads(json.dumps(pod))), objects or core.PodObjects(), site
    )
    (artifact,) = core.render(job, "slurm", site)
    return artifact.content


def pod_with(
    containers: list[dict[str, Any]],
    init: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": UID, "annotations": annotations or {}},
        "spec": {"containers": containers, "initContainers": init or [], **spec},
    }


millicores = st.integers(1, 40_000)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(millicores, min_size=1, max_size=4), st.lists(millicores, max_size=3), st.booleans()
)
def test_cpus_per_task_is_the_effective_cpu_request(
    apps: list[int], inits: list[int], as_limits: bool
) -> None:
    where = "limits" if as_limits else "requests"

    def container(name: str, millis: int) -> dict[str, Any]:
        return {
            "name": name,
            "image": "busybox",
            "command": ["true"],
            "resources": {where: {"cpu": f"{millis}m"}},
        }

    text = render_slurm_text(
        pod_with(
            [container(f"a{i}", m) for i, m in enumerate(apps)],
            [container(f"i{i}", m) for i, m in enumerate(inits)],
            annotations={"slurm-job.vk.io/flags": "--cpus-per-task=99"},
        ),
        core.DEFAULT_SITE,
    )
    effective = max(max(inits, default=0), sum(apps))
    arguments = sbatch_arguments(text)
    assert [a for a in arguments if a.startswith("--cpus-per-task")] == [
        f"--cpus-per-task={-(-effective // 1000)}"
    ]


# Text that has broken shell generators before: quotes, substitutions, separators, newlines,
# globs, unicode; never NUL (Kubernetes strings cannot carry it to a process anyway).
nasty = st.one_of(
    st.sampled_from(
        [
            "'",
            '"',
            "$(touch pwned)",
            "`touch pwned`",
            "; touch pwned",
            "\n",
            "a\nb",
            "*",
            "~",
            "$HOME",
            "${X:-y}",
            "\\",
            "--",
            "-x",
            "",
            " ",
            "é✓🚀",
            "$(X)",
            "$$",
            "!!",
            "#",
            "%j",
        ]
    ),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
)


@needs_bash
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    command=st.lists(nasty, min_size=1, max_size=3),
    args=st.lists(nasty, max_size=3),
    env_value=nasty,
    config=nasty,
    comment=nasty,
)
def test_any_string_reaches_the_runtime_literally(
    tmp_path_factory: pytest.TempPathFactory,
    command: list[str],
    args: list[str],
    env_value: str,
    config: str,
    comment: str,
) -> None:
    tmp = tmp_path_factory.mktemp("pod")
    stub = tmp / "runtime"
    stub.write_text(STUB)
    stub.chmod(0o755)
    site = core.parse_site_config(
        {"ContainerRuntime": "bwrap", "BwrapPath": str(stub), "DataRootFolder": str(tmp / "jobs")}
    )
    config_map = core.config_map_from_json({"metadata": {"name": "cfg"}, "data": {"key": config}})
    pod = pod_with(
        [
            {
                "name": "c",
                "image": "busybox",
                "command": command,
                "args": args,
                "env": [{"name": "VALUE", "value": env_value}],
                "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}],
            }
        ],
        volumes=[{"name": "cfg", "configMap": {"name": "cfg"}}],
        annotations={"slurm-job.vk.io/flags": f"--comment={shlex.quote(comment)}"},
    )
    if "\n" in comment or "\r" in comment:
        # An #SBATCH line cannot carry a line break: refused, naming the annotation.
        with pytest.raises(core.AnnotationError):
            core.translate(core.pod_from_json(pod), core.PodObjects.of([config_map]), site)
        return
    job = core.translate(core.pod_from_json(pod), core.PodObjects.of([config_map]), site)
    (artifact,) = core.render(job, "slurm", site)
    script = tmp / "job.slurm"
    script.write_text(artifact.content)
    assert subprocess.run([BASH or "bash", "-n", str(script)], check=False).returncode == 0

    records = tmp / "records"
    records.mkdir()
    result = subprocess.run(
        [BASH or "bash", str(script)],
        cwd=tmp,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "RECORD_DIR": str(records)},
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (call,) = sorted(records.iterdir())
    argv = call.read_bytes().decode().split("\0")[:-1]

    # Kubernetes expands $(VAR) and $$ first; then every word arrives as it is.
    value = expand_references(env_value, {})
    expanded = [expand_references(word, {"VALUE": value}) for word in command + args]
    assert argv[-len(expanded) - 1 :] == ["--", *expanded]
    setenv = [argv[i + 1 : i + 3] for i, word in enumerate(argv) if word == "--setenv"]
    assert ["VALUE", value] in setenv
    workdir = tmp / "jobs" / f"ns-{UID}"
    assert (workdir / "configMaps" / "cfg" / "key").read_bytes() == config.encode()
    assert f"--comment={comment}" in sbatch_arguments(artifact.content)
    assert not (tmp / "pwned").exists() and not (workdir / "pwned").exists()


def test_a_flag_value_with_a_newline_is_refused() -> None:
    pod = pod_with(
        [{"name": "c", "image": "busybox", "command": ["true"]}],
        annotations={"slurm-job.vk.io/flags": "--comment='a\nb'"},
    )
    with pytest.raises(core.AnnotationError) as error:
        render_slurm_text(pod, core.DEFAULT_SITE)
    assert error.value.path == 'metadata.annotations["slurm-job.vk.io/flags"]'


@pytest.mark.parametrize("backend", core.BACKENDS)
def test_every_backend_renders_a_translated_pod(backend: str) -> None:
    pod = core.pod_from_json(
        pod_with(
            [
                {
                    "name": "c",
                    "image": "busybox",
                    "command": ["echo", "hi"],
                    "resources": {"limits": {"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": 1}},
                }
            ],
            activeDeadlineSeconds=3600,
        )
    )
    site = core.parse_site_config({"DataRootFolder": "/scratch/interlink"})
    job = core.translate(pod, core.PodObjects(), site)
    artifacts = core.render(job, backend, site)
    assert artifacts
    assert all(a.content for a in artifacts)


def test_an_unknown_backend_is_an_input_error() -> None:
    job = core.translate(
        core.pod_from_json(pod_with([{"name": "c", "image": "busybox", "command": ["true"]}])),
        core.PodObjects(),
        core.DEFAULT_SITE,
    )
    with pytest.raises(core.InputError):
        core.render(job, "docker", core.DEFAULT_SITE)


def test_the_facade_exports_what_it_lists() -> None:
    for name in core.__all__:
        assert hasattr(core, name), name
    for module in (core.slurm, core.htcondor, core.unicore, core.local, core.wire, core.machine):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    public = {n for n in dir(core) if not n.startswith("_")}
    assert public - set(core.__all__) <= {"annotations"}  # "from __future__ import annotations"
