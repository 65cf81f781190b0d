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
from pyinterlink.core._job import FileToWrite, Job, Mount, Runtime, RuntimeKind, Task
from pyinterlink.core._local import (
    LocalCommand,
    LocalPlan,
    LocalProcess,
    local_plan,
    plan_json,
    render_local,
)

from tests.core import sample_jobs
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
