"""Local dialect: the plan's content, its JSON form, and the plan carried out with bwrap."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest
from pyinterlink.core._errors import PodError
from pyinterlink.core._job import EnvVar, FileToWrite, Job, Mount, Runtime, RuntimeKind, Task
from pyinterlink.core._local import (
    LocalCommand,
    LocalPlan,
    LocalProcess,
    local_plan,
    plan_json,
    render_local,
)

from tests.core import sample_jobs
from tests.core.sample_jobs import UID
from tests.golden import assert_golden
from tests.real import needs_program

WORKDIR = "/var/lib/interlink/default-pod"


def all_commands(plan: LocalPlan) -> list[LocalCommand | LocalProcess]:
    commands: list[LocalCommand | LocalProcess] = []
    for process in plan.init_processes + plan.processes:
        commands += [*process.prepare, process, *process.cleanup]
    return commands


# --- what the plan holds ------------------------------------------------------------------


def test_init_processes_then_app_processes_with_their_files() -> None:
    plan = local_plan(sample_jobs.init_containers("bwrap"), workdir=WORKDIR)
    assert [(p.name, p.init) for p in plan.init_processes] == [("fetch", True), ("check", True)]
    assert [(p.name, p.init) for p in plan.processes] == [("main", False)]
    assert [(p.stdout, p.status) for p in plan.init_processes + plan.processes] == [
        ("init-fetch.out", "init-fetch.status"),
        ("init-check.out", "init-check.status"),
        ("run-main.out", "run-main.status"),
    ]


@pytest.mark.parametrize("kind", sample_jobs.RUNTIME_KINDS)
def test_every_argument_is_resolved_with_the_absolute_workdir(kind: RuntimeKind) -> None:
    for job in sample_jobs.samples(kind).values():
        if job.mpi_options is not None:
            continue
        plan = local_plan(job, workdir=WORKDIR)
        assert plan.workdir == WORKDIR
        for command in all_commands(plan):
            words = [*command.argv, *command.env.values()]
            assert not any("$workdir" in word for word in words), words


def test_mounts_point_into_the_workdir() -> None:
    plan = local_plan(sample_jobs.init_containers("bwrap"), workdir=WORKDIR)
    argv = plan.processes[0].argv
    index = argv.index("/work")
    assert argv[index - 2 : index + 1] == ("--bind", f"{WORKDIR}/emptyDirs/work", "/work")


def test_bwrap_container_env_is_in_argv_not_in_the_process_env() -> None:
    plan = local_plan(sample_jobs.shared_empty_dir("bwrap"), workdir=WORKDIR)
    reader = plan.processes[1]
    assert dict(reader.env) == {}
    argv = list(reader.argv)
    assert argv[argv.index("GREETING") - 1 : argv.index("GREETING") + 2] == [
        "--setenv",
        "GREETING",
        "hello, world",
    ]


def test_apptainer_settings_go_to_the_process_env() -> None:
    plan = local_plan(sample_jobs.shared_empty_dir("apptainer"), workdir=WORKDIR)
    reader = plan.processes[1]
    assert reader.env["APPTAINERENV_GREETING"] == "hello, world"
    assert reader.env["APPTAINERENV_MULTILINE"] == "line one\nline 'two'"
    assert "GREETING" not in reader.argv


def test_enroot_prepares_and_cleans_up_each_container() -> None:
    plan = local_plan(sample_jobs.hello("enroot"), workdir=WORKDIR)
    (process,) = plan.processes
    assert process.prepare[0].may_fail  # removing a leftover container
    assert any(step.argv[:2] == ("enroot", "import") for step in process.prepare)
    assert [step.argv[:2] for step in process.cleanup] == [("enroot", "remove")]
    assert all(step.may_fail for step in process.cleanup)
    assert process.argv[:2] == ("enroot", "start")
    # enroot's command scripts are part of the files to write.
    assert any(f.path.startswith("enroot/") for f in plan.files)


def test_directories_come_parents_first_and_include_what_the_runtime_needs() -> None:
    plan = local_plan(sample_jobs.config_files("bwrap"), workdir=WORKDIR)
    assert plan.directories == (
        "configMaps",
        "projectedVolumeMaps",
        "secrets",
        "tmp",  # the pod's private /tmp under bwrap
        "configMaps/settings",
        "projectedVolumeMaps/podinfo",
        "secrets/credentials",
    )
    for file in plan.files:
        assert os.path.dirname(file.path) in plan.directories


def test_files_keep_their_bytes_and_modes() -> None:
    job = sample_jobs.config_files("bwrap")
    plan = local_plan(job, workdir=WORKDIR)
    assert [(f.path, f.content, f.mode) for f in plan.files] == [
        (f.path, f.content, f.mode) for f in job.files
    ]


def test_deadline_and_pre_exec_are_carried_over() -> None:
    job = attrs.evolve(sample_jobs.gpu("bwrap"), mpi_options=None)
    plan = local_plan(job, workdir=WORKDIR)
    assert plan.time_limit_seconds == 5400
    assert plan.pre_exec == LocalCommand(argv=("/bin/bash", "-c", job.pre_exec or ""))
    assert local_plan(sample_jobs.hello("bwrap"), workdir=WORKDIR).pre_exec is None


def test_mpi_needs_slurm() -> None:
    with pytest.raises(PodError, match="SLURM_NTASKS"):
        local_plan(sample_jobs.mpi("bwrap"), workdir=WORKDIR)


# The backend's environment, as on a GPU node: two device variables set (one to the empty
# string, which CUDA reads as "no GPU"), the others unset, and variables that are no device's.
GPU_NODE = {
    "CUDA_VISIBLE_DEVICES": "0,1",
    "ZE_AFFINITY_MASK": "",
    "SLURM_NTASKS": "4",
    "HOME": "/root",
}


def _setenv(argv: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, word in enumerate(argv) if word == "--setenv"]


def test_devices_come_from_the_environment_the_plan_is_given() -> None:
    job = sample_jobs.hello("bwrap")
    (process,) = local_plan(job, workdir=WORKDIR, environ=GPU_NODE).processes
    assert _setenv(process.argv)[1:] == [("CUDA_VISIBLE_DEVICES", "0,1"), ("ZE_AFFINITY_MASK", "")]
    assert dict(process.env) == {}
    # Without an environment (and where it sets none of them): no device at all.
    for plan in (local_plan(job, workdir=WORKDIR), local_plan(job, workdir=WORKDIR, environ={})):
        assert [name for name, _ in _setenv(plan.processes[0].argv)] == ["PATH"]


def test_devices_reach_every_runtime_unless_the_pod_sets_them() -> None:
    own = EnvVar(name="CUDA_VISIBLE_DEVICES", value="7")
    apptainer = sample_jobs.hello("apptainer")
    (process,) = local_plan(apptainer, workdir=WORKDIR, environ=GPU_NODE).processes
    assert {k: v for k, v in process.env.items() if "DEVICES" in k or "MASK" in k} == {
        "APPTAINERENV_CUDA_VISIBLE_DEVICES": "0,1",
        "APPTAINERENV_ZE_AFFINITY_MASK": "",
    }
    enroot = sample_jobs.hello("enroot")
    (process,) = local_plan(enroot, workdir=WORKDIR, environ=GPU_NODE).processes
    at = process.argv.index("--")
    assert process.argv[at - 2 : at] == ("CUDA_VISIBLE_DEVICES=0,1", "ZE_AFFINITY_MASK=")
    # podman copies them itself from the environment it runs in (the backend's).
    podman = sample_jobs.hello("podman")
    (process,) = local_plan(podman, workdir=WORKDIR, environ=GPU_NODE).processes
    assert process.argv == local_plan(podman, workdir=WORKDIR).processes[0].argv
    assert "CUDA_VISIBLE_DEVICES" in process.argv

    # The pod's own value wins.
    def own_plan(job: Job) -> LocalProcess:
        task = attrs.evolve(job.tasks[0], env=(own,))
        job = attrs.evolve(job, tasks=(task,))
        (process,) = local_plan(job, workdir=WORKDIR, environ=GPU_NODE).processes
        return process

    process = own_plan(apptainer)
    assert process.env["APPTAINERENV_CUDA_VISIBLE_DEVICES"] == "7"
    assert process.env["APPTAINERENV_ZE_AFFINITY_MASK"] == ""
    process = own_plan(enroot)
    at = process.argv.index("--")
    assert process.argv[at - 2 : at] == (f"{UID}-run-hello", "ZE_AFFINITY_MASK=")
    process = own_plan(sample_jobs.hello("bwrap"))
    assert _setenv(process.argv)[1:] == [("ZE_AFFINITY_MASK", ""), ("CUDA_VISIBLE_DEVICES", "7")]


def test_the_environment_does_not_stand_in_for_slurm() -> None:
    # Only device variables are read from it: SLURM_NTASKS there does not make MPI possible.
    with pytest.raises(PodError, match="SLURM_NTASKS"):
        local_plan(sample_jobs.mpi("bwrap"), workdir=WORKDIR, environ=GPU_NODE)


def test_plan_json_shows_the_devices_of_the_environment() -> None:
    job = sample_jobs.hello("bwrap")
    (artifact,) = render_local(job, workdir=WORKDIR, environ={"CUDA_VISIBLE_DEVICES": "0"})
    (process,) = json.loads(artifact.content)["processes"]
    assert ("CUDA_VISIBLE_DEVICES", "0") in _setenv(tuple(process["argv"]))


def test_workdir_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        local_plan(sample_jobs.hello("bwrap"), workdir="relative/dir")
    assert local_plan(sample_jobs.hello("bwrap"), workdir=WORKDIR + "/").workdir == WORKDIR


def test_plan_is_a_hashable_value() -> None:
    job = sample_jobs.shared_empty_dir("apptainer")
    assert local_plan(job, workdir=WORKDIR) == local_plan(job, workdir=WORKDIR)
    hash(local_plan(job, workdir=WORKDIR))


# --- plan.json ----------------------------------------------------------------------------


def test_plan_json_marks_text_and_base64_content() -> None:
    job = sample_jobs.config_files("bwrap")
    (artifact,) = render_local(job, workdir=WORKDIR)
    assert artifact.name == "plan.json"
    document = json.loads(artifact.content)
    assert document == json.loads(json.dumps(plan_json(local_plan(job, workdir=WORKDIR))))
    files = {entry["path"]: entry for entry in document["files"]}
    for file in job.files:
        entry = files[file.path]
        assert entry["mode"] == f"0{file.mode:o}"
        if "text" in entry:
            assert "base64" not in entry
            assert entry["text"].encode() == file.content
        else:
            assert base64.b64decode(entry["base64"]) == file.content
    assert "base64" in files["secrets/credentials/key.bin"]
    assert files["configMaps/settings/no-newline"]["text"] == "caf\u00e9"


def test_plan_json_keeps_argv_on_one_line() -> None:
    (artifact,) = render_local(sample_jobs.hello("bwrap"), workdir=WORKDIR)
    argv_lines = [line for line in artifact.content.splitlines() if '"argv"' in line]
    assert len(argv_lines) == 1
    assert argv_lines[0].rstrip().endswith('"hello", "world"]')


GOLDEN_CASES: list[tuple[str, RuntimeKind]] = [
    *((name, "bwrap") for name in sorted(sample_jobs.samples("bwrap")) if name != "mpi"),
    ("config-files", "apptainer"),
    ("init-containers", "enroot"),
]


@pytest.mark.parametrize(("name", "kind"), GOLDEN_CASES)
def test_golden(name: str, kind: RuntimeKind) -> None:
    job = sample_jobs.SAMPLES[name](kind)
    (artifact,) = render_local(job, workdir=sample_jobs.WORKDIR)
    assert_golden(f"local/{name}-{kind}.json", artifact.content)


# --- the plan, carried out ----------------------------------------------------------------


def carry_out(plan: LocalPlan) -> None:
    """What the local backend does with a plan, in a few lines (no time limit, no signals)."""
    workdir = Path(plan.workdir)
    workdir.mkdir(parents=True)
    for directory in plan.directories:
        (workdir / directory).mkdir()
    for file in plan.files:
        (workdir / file.path).write_bytes(file.content)
        (workdir / file.path).chmod(file.mode)

    def start(process: LocalProcess) -> subprocess.Popen[bytes]:
        out = (workdir / process.stdout).open("wb")
        return subprocess.Popen(
            process.argv,
            cwd=workdir,
            env={**os.environ, **process.env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def finish(process: LocalProcess, popen: subprocess.Popen[bytes]) -> int:
        code = popen.wait(timeout=30)
        (workdir / process.status).write_text(f"{code}\n")
        return code

    for process in plan.init_processes:
        if finish(process, start(process)) != 0:
            return
    running = [(process, start(process)) for process in plan.processes]
    for process, popen in running:
        finish(process, popen)


needs_bwrap = needs_program("bwrap", "scripts/system-deps installs it")


@needs_bwrap
def test_init_containers_share_an_empty_dir_with_the_app(tmp_path: Path) -> None:
    job = attrs.evolve(
        sample_jobs.init_containers("bwrap"),
        runtime=Runtime(kind="bwrap", binary=shutil.which("bwrap") or "bwrap"),
    )
    plan = local_plan(job, workdir=str(tmp_path / "pod"))
    carry_out(plan)
    pod = tmp_path / "pod"
    assert (pod / "init-fetch.status").read_text() == "0\n"
    assert (pod / "init-check.status").read_text() == "0\n"
    assert (pod / "run-main.status").read_text() == "0\n"
    assert (pod / "run-main.out").read_text() == "fetched\n"


@needs_bwrap
@pytest.mark.parametrize(
    ("environ", "seen"),
    [({"CUDA_VISIBLE_DEVICES": "0"}, "0"), ({"CUDA_VISIBLE_DEVICES": ""}, ""), ({}, "unset")],
)
def test_a_container_sees_the_devices_of_the_backend(
    tmp_path: Path, environ: dict[str, str], seen: str
) -> None:
    probe = 'printf "%s|%s" "${CUDA_VISIBLE_DEVICES-unset}" "${HIP_VISIBLE_DEVICES-unset}"'
    job = Job(
        pod_uid=sample_jobs.UID,
        pod_name="gpu",
        namespace="default",
        workdir=sample_jobs.WORKDIR,
        runtime=Runtime(kind="bwrap", binary=shutil.which("bwrap") or "bwrap"),
        tasks=(
            Task(
                name="main",
                init=False,
                image="host",
                command=("sh", "-c", probe),
                env=(EnvVar(name="HIP_VISIBLE_DEVICES", value="mine"),),
            ),
        ),
    )
    environ = {**environ, "HIP_VISIBLE_DEVICES": "1"}
    carry_out(local_plan(job, workdir=str(tmp_path / "pod"), environ=environ))
    assert (tmp_path / "pod/run-main.out").read_text() == f"{seen}|mine"


@needs_bwrap
def test_files_are_mounted_read_only_where_the_pod_says(tmp_path: Path) -> None:
    script = (
        "cat /etc/app/conf; cat /etc/app/key | od -An -tx1 | tr -d ' \\n'; echo; touch /etc/app/x"
    )
    job = Job(
        pod_uid=sample_jobs.UID,
        pod_name="files",
        namespace="default",
        workdir=sample_jobs.WORKDIR,
        runtime=Runtime(kind="bwrap", binary=shutil.which("bwrap") or "bwrap"),
        tasks=(
            Task(
                name="main",
                init=False,
                image="host",
                command=("sh", "-c", script),
                mounts=(Mount(source="configMaps/app", target="/etc/app", read_only=True),),
            ),
        ),
        files=(
            FileToWrite(path="configMaps/app/conf", content=b"a = 1\n"),
            FileToWrite(path="configMaps/app/key", content=b"\x00\xff", mode=0o400),
        ),
    )
    carry_out(local_plan(job, workdir=str(tmp_path / "pod")))
    pod = tmp_path / "pod"
    output = (pod / "run-main.out").read_text()
    assert output.startswith("a = 1\n00ff\n")
    assert "Read-only file system" in output
    assert (pod / "run-main.status").read_text() == "1\n"
