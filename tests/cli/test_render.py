"""``interlink render``: every example renders for every backend; bad input gives one clear
line naming the file, the field and the reason, and exit status 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyinterlink.cli.documents import load_pod_bundle, load_site_config
from pyinterlink.cli.main import main
from pyinterlink.core import PodObjects, ensure_uid, translate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
PODS = [p for p in EXAMPLES if not p.name.startswith("site-")]
BACKENDS = ("slurm", "htcondor", "unicore", "local")


def render(*args: str | Path) -> tuple[int, str, str]:
    """Run ``interlink render`` in-process; (status, stdout, stderr)."""
    process = subprocess.run(
        [sys.executable, "-m", "pyinterlink.cli.main", "render", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    return process.returncode, process.stdout, process.stderr


def test_there_are_examples_to_render() -> None:
    assert {p.stem for p in PODS} >= {
        "hello",
        "gpu-training",
        "config-volumes",
        "init-containers",
        "shared-emptydir",
        "fpga",
    }


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pod", PODS, ids=lambda p: p.stem)
def test_every_example_renders_for_every_backend(
    pod: Path, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ["--config", str(ROOT / "examples" / "site-slurm.yaml")]
    assert main(["render", str(pod), "--backend", backend, *config]) == 0
    out = capsys.readouterr().out
    assert out.strip()
    if backend == "slurm":
        assert out.startswith("#!/bin/bash\n")
        assert "#SBATCH --job-name=" in out


def test_out_writes_every_artifact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pod = ROOT / "examples" / "config-volumes.yaml"
    assert main(["render", str(pod), "--backend", "htcondor", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["job.sh", "job.sub"]
    assert os.access(tmp_path / "job.sh", os.X_OK)
    assert sorted(capsys.readouterr().out.split()) == [str(tmp_path / n) for n in written]


def test_a_pod_without_uid_gets_a_stable_one() -> None:
    status, first, err = render(ROOT / "examples" / "hello.yaml")
    assert status == 0
    assert "metadata.uid is not set" in err
    assert render(ROOT / "examples" / "hello.yaml")[1] == first


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  uid: 0b7a1e2c-6d8a-4f4e-9a53-1f1d3c2b9a10
{annotations}spec:
  containers:
    - name: c
      image: busybox
      command: ["true"]
{container}{volumes}"""


def pod_text(annotations: str = "", container: str = "", volumes: str = "") -> str:
    return POD.format(annotations=annotations, container=container, volumes=volumes)


BAD = {
    "malformed-yaml": (pod_text() + "  - : : [\n", None, "line 11 column"),
    "unsupported-volume": (
        pod_text(volumes="  volumes:\n    - name: v\n      nfs: {server: s, path: /}\n"),
        "spec.volumes[0].nfs",
        "volume source 'nfs' is not supported",
    ),
    "negative-quantity": (
        pod_text(container="      resources: {limits: {cpu: '-2'}}\n"),
        "spec.containers[0].resources.limits.cpu",
        "must not be negative",
    ),
    "garbled-quantity": (
        pod_text(container="      resources: {requests: {memory: 12Qi}}\n"),
        "spec.containers[0].resources.requests.memory",
        '"12Qi" is not a Kubernetes quantity',
    ),
    "unparsable-flags": (
        pod_text(annotations='  annotations:\n    slurm-job.vk.io/flags: "--comment \'a b"\n'),
        'metadata.annotations["slurm-job.vk.io/flags"]',
        "quote",
    ),
    "forbidden-flag": (
        pod_text(
            annotations="  annotations:\n    slurm-job.vk.io/flags: "
            '"--gres=gpu:4 --job-name test --time=20:00:00"\n'
        ),
        'metadata.annotations["slurm-job.vk.io/flags"]',
        "--job-name",
    ),
    "wrong-type": (
        pod_text(container="      command: true\n"),
        "spec.containers[0].command",
        "expected a list",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_one_clear_line(case: str, tmp_path: Path) -> None:
    text, path, reason = BAD[case]
    pod = tmp_path / "pod.yaml"
    pod.write_text(text)
    status, out, err = render(pod)
    assert status == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"interlink: error: {pod}: ")
    if path is not None:
        assert f": {path}: " in lines[0]
    assert reason in lines[0]
    assert "Traceback" not in err


def test_an_unknown_backend_is_refused(tmp_path: Path) -> None:
    status, _, err = render(ROOT / "examples" / "hello.yaml", "--backend", "kubernetes")
    assert status == 1
    assert err.strip().splitlines()[-1] == (
        "interlink: error: --backend: unknown backend 'kubernetes' "
        "(choose from slurm, htcondor, unicore, local)"
    )


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    status, _, err = render(tmp_path / "nope.yaml")
    assert status == 1
    assert (
        err == f"interlink: error: {tmp_path / 'nope.yaml'}: cannot read the file: "
        "No such file or directory\n"
    )


def test_a_bad_site_config_names_its_key(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("DataRootFolder: /data\nContainerRuntme: apptainer\n")
    status, _, err = render(ROOT / "examples" / "hello.yaml", "--config", site)
    assert status == 1
    assert err.startswith(f"interlink: error: {site}: ContainerRuntme")


@pytest.mark.parametrize("pod", PODS, ids=lambda p: p.stem)
def test_every_example_is_a_submit_description_htcondor_reads(pod: Path, tmp_path: Path) -> None:
    import htcondor2  # type: ignore[import-untyped]

    config = ROOT / "examples" / "site-slurm.yaml"
    assert main(["render", str(pod), "-b", "htcondor", "-c", str(config), "-o", str(tmp_path)]) == 0
    submit = dict(htcondor2.Submit((tmp_path / "job.sub").read_text()))
    bundle = load_pod_bundle(pod)
    job = translate(
        ensure_uid(bundle.pod)[0],
        PodObjects.of(bundle.config_maps, bundle.secrets),
        load_site_config(config, "htcondor"),
    )
    assert submit["executable"] == "job.sh"
    assert submit["request_cpus"] == str(job.resources.cpus)
    assert submit["MY.PodUID"] == f'"{job.pod_uid}"'


@pytest.mark.parametrize("pod", PODS, ids=lambda p: p.stem)
def test_every_example_is_a_unicore_job_description(pod: Path, tmp_path: Path) -> None:
    assert main(["render", str(pod), "-b", "unicore", "-o", str(tmp_path)]) == 0
    description = json.loads((tmp_path / "job.json").read_text())
    assert description["Executable"]
    assert any(tag.startswith("pod-uid:") for tag in description["Tags"])
    assert int(description["Resources"]["CPUs"]) >= 1


def test_the_local_backend_defaults_to_bubblewrap(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(ROOT / "examples" / "hello.yaml"), "-b", "local"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["processes"][0]["argv"][0] == "bwrap"
    assert plan["workdir"].startswith("/")
