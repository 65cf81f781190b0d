"""The pod script, run for real with bash: files, ordering, concurrency, exit codes, signals.

Most tests run the containers through a *pass-through* runtime: a stub in place of ``bwrap``
that drops bwrap's options and runs the command on the host, so that the script's own logic
(not a container runtime) is what is tested. One test runs the real ``bwrap``; the property
test replaces the runtime with a stub that records the argv and environment it receives.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyinterlink.core._errors import PodError
from pyinterlink.core._job import (
    EnvVar,
    FileToWrite,
    Job,
    Mount,
    Runtime,
    RuntimeKind,
    SlurmOption,
    Task,
)
from pyinterlink.core._podscript import CURRENT_DIRECTORY, render_pod_script
from pyinterlink.core._runtime import DEVICE_VARIABLES
from pyinterlink.core._slurm import render_slurm

from tests.core.sample_jobs import BINARY_SECRET, RUNTIME_KINDS, config_files, samples
from tests.core.test_slurm_render import sbatch_arguments, slurm_output_path
from tests.golden import assert_golden
from tests.real import needs_program

BASH = shutil.which("bash")
BWRAP = shutil.which("bwrap")
pytestmark = needs_program("bash", "it is part of every Debian system")

# Drops bwrap's options (everything up to "--") and runs the command itself.
PASS_THROUGH = """\
#!/bin/sh
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done
shift
exec "$@"
"""


def _stub(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def _task(name: str, script: str, *, init: bool = False) -> Task:
    return Task(name=name, init=init, image="host", command=("sh", "-c", script))


def _job(
    tmp_path: Path, *, tasks: tuple[Task, ...] = (), init: tuple[Task, ...] = (), **fields: object
) -> Job:
    binary = _stub(tmp_path, "bwrap-pass-through", PASS_THROUGH)
    return Job(
        pod_uid="uid-1",
        pod_name="pod",
        namespace="default",
        workdir=str(tmp_path / "pod"),
        runtime=Runtime(kind="bwrap", binary=binary),
        init_tasks=init,
        tasks=tasks,
        **fields,  # type: ignore[arg-type]
    )


def _start(job: Job, tmp_path: Path, **kwargs: object) -> subprocess.Popen[str]:
    script = tmp_path / "pod.sh"
    script.write_text(render_pod_script(job, workdir=job.workdir, **kwargs))  # type: ignore[arg-type]
    assert BASH is not None
    return subprocess.Popen(
        [BASH, str(script)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _run(job: Job, tmp_path: Path, **kwargs: object) -> tuple[int, str]:
    process = _start(job, tmp_path, **kwargs)
    output, _ = process.communicate(timeout=20)
    return process.returncode, output


def _read(path: Path) -> str:
    return path.read_text()


def _wait_for(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


# --- golden files -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", RUNTIME_KINDS)
def test_golden_pod_script_in_the_job_directory(kind: RuntimeKind) -> None:
    # The HTCondor/UNICORE form: working directory from $PWD, files shipped by other means.
    job = samples(kind)["config-files"]
    text = render_pod_script(job, workdir=CURRENT_DIRECTORY, write_files=False)
    assert_golden(f"podscript/config-files.{kind}.pwd.sh", text)


def test_working_directory_from_the_environment_is_not_a_literal() -> None:
    text = render_pod_script(config_files("podman"), workdir=CURRENT_DIRECTORY)
    assert 'workdir="$PWD"\n' in text


# --- files and directories ----------------------------------------------------------------


def test_files_are_written_byte_exact_with_their_modes(tmp_path: Path) -> None:
    files = (
        *config_files("bwrap").files,
        FileToWrite(path="secrets/s/crlf", content=b"a\r\nb\r\n", mode=0o600),
        FileToWrite(path="projectedVolumeMaps/p/EOF", content=b"PYINTERLINK_EOF\nx\n"),
        FileToWrite(path="configMaps/c/unicode", content="\u00e9\u4e2d\U0001f600\n".encode()),
    )
    job = _job(tmp_path, tasks=(_task("main", "true"),), files=files, empty_dirs=("emptyDirs/e",))
    code, output = _run(job, tmp_path)
    assert code == 0, output
    workdir = Path(job.workdir)
    for file in files:
        path = workdir / file.path
        assert path.read_bytes() == file.content, file.path
        assert stat.S_IMODE(path.stat().st_mode) == file.mode, file.path
    assert (workdir / "secrets/credentials/key.bin").read_bytes() == BINARY_SECRET
    assert (workdir / "emptyDirs/e").is_dir()


def test_files_are_left_to_the_dialect_when_asked(tmp_path: Path) -> None:
    files = (FileToWrite(path="configMaps/c/k", content=b"v\n"),)
    job = _job(tmp_path, tasks=(_task("main", "true"),), files=files, empty_dirs=("emptyDirs/e",))
    code, output = _run(job, tmp_path, write_files=False)
    assert code == 0, output
    assert not (Path(job.workdir) / "configMaps/c/k").exists()
    assert (Path(job.workdir) / "emptyDirs/e").is_dir()


def test_working_directory_from_pwd(tmp_path: Path) -> None:
    job = _job(
        tmp_path, tasks=(_task("main", "pwd"),), files=(FileToWrite(path="a/b", content=b"x\n"),)
    )
    sandbox = tmp_path / "sandbox dir"
    sandbox.mkdir()
    script = tmp_path / "pod.sh"
    script.write_text(render_pod_script(job, workdir=CURRENT_DIRECTORY))
    assert BASH is not None
    result = subprocess.run([BASH, str(script)], cwd=sandbox, capture_output=True, check=False)
    assert result.returncode == 0, result
    assert (sandbox / "a/b").read_bytes() == b"x\n"
    assert _read(sandbox / "run-main.out") == f"{sandbox}\n"
    assert not Path(job.workdir).exists()


# --- ordering, concurrency, exit codes ------------------------------------------------------


def test_pre_exec_then_init_containers_in_order_then_apps(tmp_path: Path) -> None:
    job = _job(
        tmp_path,
        pre_exec="echo pre >> order",
        init=(
            _task("first", "echo first >> order; echo out-first", init=True),
            _task("second", "echo second >> order; echo err-second >&2", init=True),
        ),
        tasks=(_task("app", "echo app >> order"),),
    )
    code, output = _run(job, tmp_path)
    assert code == 0, output
    workdir = Path(job.workdir)
    assert _read(workdir / "order") == "pre\nfirst\nsecond\napp\n"
    assert _read(workdir / "init-first.out") == "out-first\n"
    assert _read(workdir / "init-second.out") == "err-second\n"
    for name in ("init-first", "init-second", "run-app"):
        assert _read(workdir / f"{name}.status") == "0\n"


def test_the_first_failing_init_container_ends_the_pod_with_its_code(tmp_path: Path) -> None:
    job = _job(
        tmp_path,
        init=(
            _task("ok", "true", init=True),
            _task("bad", "echo broken; exit 3", init=True),
            _task("never", "echo ran > never", init=True),
        ),
        tasks=(_task("app", "echo ran > app"),),
    )
    code, _ = _run(job, tmp_path)
    workdir = Path(job.workdir)
    assert code == 3
    assert _read(workdir / "init-bad.status") == "3\n"
    assert _read(workdir / "init-bad.out") == "broken\n"
    assert not (workdir / "never").exists()
    assert not (workdir / "init-never.status").exists()
    assert not (workdir / "run-app.status").exists()
    assert not (workdir / "app").exists()


def test_app_containers_run_concurrently(tmp_path: Path) -> None:
    # Each waits for the other to have started: run one after the other, both would time out.
    wait = (
        "touch {me}; i=0;"
        " while [ ! -e {other} ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done"
    )
    job = _job(
        tmp_path,
        tasks=(
            _task("a", wait.format(me="a.started", other="b.started")),
            _task("b", wait.format(me="b.started", other="a.started")),
        ),
    )
    code, output = _run(job, tmp_path)
    assert code == 0, output
    assert _read(Path(job.workdir) / "run-a.status") == "0\n"
    assert _read(Path(job.workdir) / "run-b.status") == "0\n"


def test_the_pod_exits_with_the_highest_container_exit_code(tmp_path: Path) -> None:
    job = _job(
        tmp_path,
        tasks=(_task("two", "exit 2"), _task("five", "sleep 0.2; exit 5"), _task("zero", "true")),
    )
    code, _ = _run(job, tmp_path)
    workdir = Path(job.workdir)
    assert code == 5
    assert [_read(workdir / f"run-{n}.status") for n in ("two", "five", "zero")] == [
        "2\n",
        "5\n",
        "0\n",
    ]


def test_a_container_killed_by_a_signal_reports_128_plus_the_signal(tmp_path: Path) -> None:
    job = _job(tmp_path, tasks=(_task("killed", "kill -KILL $$"), _task("fine", "true")))
    code, _ = _run(job, tmp_path)
    assert code == 137
    assert _read(Path(job.workdir) / "run-killed.status") == "137\n"


# --- signals --------------------------------------------------------------------------------

GRACEFUL = "trap 'echo got {sig}; exit 7' {sig}; touch {name}.ready; while :; do sleep 0.05; done"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_reach_running_apps_and_the_script_waits_for_them(
    tmp_path: Path, sig: signal.Signals
) -> None:
    name = sig.name.removeprefix("SIG")
    job = _job(
        tmp_path,
        tasks=(
            _task("graceful", GRACEFUL.format(sig=name, name="graceful")),
            _task("plain", "touch plain.ready; exec sleep 30"),
        ),
    )
    process = _start(job, tmp_path)
    workdir = Path(job.workdir)
    _wait_for(workdir / "graceful.ready")
    _wait_for(workdir / "plain.ready")
    started = time.monotonic()
    process.send_signal(sig)
    process.communicate(timeout=10)
    assert time.monotonic() - started < 5
    assert _read(workdir / "run-graceful.status") == "7\n"
    assert _read(workdir / "run-graceful.out") == f"got {name}\n"
    # sleep did not handle the signal: killed by it.
    assert _read(workdir / "run-plain.status") == f"{128 + sig.value}\n"
    assert process.returncode == 128 + sig.value


def test_a_signal_during_init_stops_the_pod_before_the_apps(tmp_path: Path) -> None:
    job = _job(
        tmp_path,
        init=(
            _task(
                "setup",
                "trap 'exit 0' TERM; touch setup.ready; while :; do sleep 0.05; done",
                init=True,
            ),
        ),
        tasks=(_task("app", "echo ran > app"),),
    )
    process = _start(job, tmp_path)
    workdir = Path(job.workdir)
    _wait_for(workdir / "setup.ready")
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)
    # The init container ended well, but the pod was told to stop: no app starts.
    assert _read(workdir / "init-setup.status") == "0\n"
    assert process.returncode == 143
    assert not (workdir / "run-app.status").exists()


# --- preparation steps (enroot) -------------------------------------------------------------

RECORDING_ENROOT = """\
#!/bin/sh
echo "$*" >> {log}
[ "$1" = import ] && exit {import_code}
exit 0
"""


def test_a_failed_preparation_step_is_the_container_failure(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    binary = _stub(tmp_path, "enroot", RECORDING_ENROOT.format(log=log, import_code=4))
    job = attrs.evolve(
        _job(tmp_path, tasks=(_task("main", "true"),)),
        runtime=Runtime(kind="enroot", binary=binary),
    )
    code, _ = _run(job, tmp_path)
    workdir = Path(job.workdir)
    assert code == 4
    assert _read(workdir / "run-main.status") == "4\n"
    assert "preparing the container failed with exit code 4" in _read(workdir / "run-main.out")
    calls = _read(log).splitlines()
    assert [call.split()[0] for call in calls] == ["remove", "import", "remove"]


def test_enroot_prepares_starts_and_removes_the_container(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    binary = _stub(tmp_path, "enroot", RECORDING_ENROOT.format(log=log, import_code=0))
    job = attrs.evolve(
        _job(tmp_path, tasks=(_task("main", "true"),)),
        runtime=Runtime(kind="enroot", binary=binary),
    )
    code, output = _run(job, tmp_path)
    assert code == 0, output
    assert [call.split()[0] for call in _read(log).splitlines()] == [
        "remove",
        "import",
        "create",
        "start",
        "remove",
    ]


# --- real bwrap -----------------------------------------------------------------------------


@needs_program("bwrap", "scripts/system-deps installs it")
def test_real_bwrap_pod(tmp_path: Path) -> None:
    assert BWRAP is not None
    marker = f"pyinterlink-{uuid.uuid4().hex}"
    target = f"/{marker}/shared"  # exists nowhere on the host
    assert not Path(target).exists()
    writer = Task(
        name="writer",
        init=False,
        image="host",
        command=("sh", "-c"),
        args=(
            f"echo hello > {target}/msg"
            f" && echo private > /tmp/{marker}"
            " && if { echo x > /etc/config/x; } 2>/dev/null;"
            " then echo wrote-ro; else echo ro-refused; fi"
            " && cat /etc/config/setting && pwd && id -u",
        ),
        mounts=(
            Mount(source="emptyDirs/shared", target=target),
            Mount(source="configMaps/cfg", target="/etc/config", read_only=True),
        ),
        working_dir=target,
        run_as_user=1234,
    )
    reader = Task(
        name="reader",
        init=False,
        image="host",
        command=("sh", "-c"),
        args=(
            "i=0; while [ ! -s /data/in/msg ]; do"
            " i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done;"
            " cat /data/in/msg;"
            " if touch /data/in/y 2>/dev/null; then echo wrote-ro; else echo ro-refused; fi;"
            f" cat /tmp/{marker} 2>/dev/null || echo no-private;"
            ' echo "$GREETING"; test -d /proc/self',
        ),
        mounts=(Mount(source="emptyDirs/shared", target="/data/in", read_only=True),),
        env=(EnvVar(name="GREETING", value="hi 'there'\n$(not run)"),),
    )
    job = Job(
        pod_uid="uid-bwrap",
        pod_name="pod",
        namespace="default",
        workdir=str(tmp_path / "pod"),
        runtime=Runtime(kind="bwrap", binary=BWRAP),
        tasks=(writer, reader),
        files=(FileToWrite(path="configMaps/cfg/setting", content=b"value\n"),),
        empty_dirs=("emptyDirs/shared",),
    )
    code, output = _run(job, tmp_path)
    workdir = Path(job.workdir)
    assert code == 0, output + _read(workdir / "run-writer.out") + _read(workdir / "run-reader.out")
    assert _read(workdir / "run-writer.out") == f"ro-refused\nvalue\n{target}\n1234\n"
    assert (
        _read(workdir / "run-reader.out") == "hello\nro-refused\nprivate\nhi 'there'\n$(not run)\n"
    )
    assert _read(workdir / "emptyDirs/shared/msg") == "hello\n"
    # The pod's /tmp is its own directory, shared by its containers, not the host's /tmp.
    assert _read(workdir / "tmp" / marker) == "private\n"
    assert not Path("/tmp", marker).exists()
    assert not Path(f"/{marker}").exists()


@needs_program("bwrap", "scripts/system-deps installs it")
def test_real_bwrap_containers_get_the_job_devices_exactly(tmp_path: Path) -> None:
    # Whatever the site's pre-exec does to word splitting, each container gets the device
    # variables the job has, exactly, and not those it lacks; a container's own value wins.
    assert BWRAP is not None
    names = ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK")
    probe = "printf '%s|%s|%s' " + " ".join(f'"${{{name}-unset}}"' for name in names)
    first = Task(name="first", init=True, image="host", command=("sh", "-c", probe))
    second = attrs.evolve(
        first, name="second", init=False, env=(EnvVar(name="ZE_AFFINITY_MASK", value="own"),)
    )
    job = Job(
        pod_uid="uid-gpu",
        pod_name="pod",
        namespace="default",
        workdir=str(tmp_path / "pod"),
        runtime=Runtime(kind="bwrap", binary=BWRAP),
        init_tasks=(first,),
        tasks=(second,),
        pre_exec="IFS=_-+=S01; set -u",
    )
    script = tmp_path / "pod.sh"
    script.write_text(render_pod_script(job, workdir=job.workdir))
    value = "0,1 'a' $(b) *"
    environ = {k: v for k, v in os.environ.items() if k not in DEVICE_VARIABLES}
    environ |= {"CUDA_VISIBLE_DEVICES": value, "ZE_AFFINITY_MASK": ""}
    assert BASH is not None
    result = subprocess.run(
        [BASH, str(script)], env=environ, capture_output=True, text=True, check=False, timeout=30
    )
    workdir = Path(job.workdir)
    assert result.returncode == 0, result.stdout + result.stderr + _read(workdir / "init-first.out")
    assert _read(workdir / "init-first.out") == f"{value}|unset|"
    assert _read(workdir / "run-second.out") == f"{value}|unset|own"


# --- the property: every value passes through literally -----------------------------------

RECORDER = """\
#!{python} -IS
import os, sys, uuid
name = os.path.join({directory!r}, uuid.uuid4().hex)
with open(name + ".argv", "wb") as f:
    f.write(b"\\0".join(os.fsencode(a) for a in sys.argv[1:]))
with open(name + ".env", "wb") as f:
    f.write(b"\\0".join(k + b"=" + v for k, v in os.environb.items()))
"""

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=12)
_env_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\0="),
    min_size=1,
    max_size=8,
)
_identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True)
_slurm_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\n\0"), max_size=12
).filter(lambda text: "packjob" not in text.lower() and "hetjob" not in text.lower())

# A working directory that needs quoting everywhere it appears.
ODD_DIRECTORY = "pod dir $(touch pwned) `touch pwned` 'q' \"d\"; \u00e9 %j"


_device_names = st.sampled_from(DEVICE_VARIABLES)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[RuntimeKind, Task, FileToWrite, str, dict[str, str]]:
    kind = draw(st.sampled_from(RUNTIME_KINDS))
    # A device variable in the pod's env must win over the job's.
    names = (_identifiers if kind == "enroot" else _env_names) | _device_names
    env = draw(st.dictionaries(names, _text, max_size=3))
    task = Task(
        name="main",
        init=False,
        image=draw(st.sampled_from(["docker://busybox", "ubuntu:22.04"])),
        command=tuple(draw(st.lists(_text, min_size=1, max_size=3))),
        args=tuple(draw(st.lists(_text, max_size=3))),
        env=tuple(EnvVar(name=name, value=value) for name, value in env.items()),
        working_dir=draw(st.none() | _text.filter(bool)),
    )
    file = FileToWrite(
        path="configMaps/v/k",
        content=draw(st.binary(max_size=40) | _text.map(str.encode)),
        mode=draw(st.sampled_from([0o400, 0o644, 0o755])),
    )
    # The job's device selection: some variables set (the empty string included), others not.
    devices = draw(st.dictionaries(_device_names, _text.filter(lambda text: "\0" not in text)))
    return kind, task, file, draw(_slurm_values), devices


def _calls(directory: Path) -> list[tuple[list[str], dict[str, str]]]:
    calls = []
    for argv_file in sorted(directory.glob("*.argv")):
        raw = argv_file.read_bytes()
        argv = [os.fsdecode(a) for a in raw.split(b"\0")] if raw else []
        env = {}
        for entry in argv_file.with_suffix(".env").read_bytes().split(b"\0"):
            key, _, value = entry.partition(b"=")
            env[os.fsdecode(key)] = os.fsdecode(value)
        calls.append((argv, env))
    return calls


# How many values each option the renderers emit takes, to read an argv back structurally
# (a value may itself look like an option).
ARITY = {
    "--bind": 1,
    "--pwd": 1,
    "--volume": 1,
    "--env": 1,
    "--workdir": 1,
    "--user": 1,
    "--entrypoint": 1,
    "--rc": 1,
    "--mount": 1,
}
BWRAP_ARITY = {
    "--ro-bind-try": 2, "--ro-bind": 2, "--bind": 2, "--setenv": 2, "--dir": 1, "--proc": 1,
    "--dev": 1, "--chdir": 1, "--uid": 1, "--gid": 1, "--remount-ro": 1,
}  # fmt: skip


def _options(argv: list[str], arity: dict[str, int], *, stop: int) -> list[tuple[str, ...]]:
    """The options in ``argv[:stop]``, each with its values: [("--env", "A=1"), ...]."""
    found: list[tuple[str, ...]] = []
    i = 0
    while i < stop:
        count = arity.get(argv[i], 0)
        found.append(tuple(argv[i : i + 1 + count]))
        i += 1 + count
    assert i == stop
    return found


def _values(options: list[tuple[str, ...]], name: str) -> list[tuple[str, ...]]:
    return [option[1:] for option in options if option[0] == name]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_every_value_reaches_the_runtime_literally(
    case: tuple[RuntimeKind, Task, FileToWrite, str, dict[str, str]],
) -> None:
    kind, task, file, comment, devices = case
    env = dict((var.name, var.value) for var in task.env)
    command = list(task.command or ())
    # What the container must get from the job: the devices it does not set itself, exactly.
    passed = {name: value for name, value in devices.items() if name not in env}
    unset = [name for name in DEVICE_VARIABLES if name not in devices and name not in env]
    job_env = {k: v for k, v in os.environ.items() if k not in DEVICE_VARIABLES} | devices
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        calls_dir = root / "calls"
        calls_dir.mkdir()
        binary = _stub(
            root, "runtime", RECORDER.format(python=sys.executable, directory=str(calls_dir))
        )
        workdir = root / ODD_DIRECTORY
        job = Job(
            pod_uid="uid-prop",
            pod_name="pod",
            namespace="default",
            workdir=str(workdir),
            runtime=Runtime(kind=kind, binary=binary),
            tasks=(task,),
            files=(file,),
            slurm_options=(SlurmOption(name="comment", value=comment),),
        )
        (artifact,) = render_slurm(job)
        script = root / "job.slurm"
        script.write_text(artifact.content)
        assert BASH is not None
        syntax = subprocess.run(
            [BASH, "-n", str(script)], capture_output=True, text=True, check=False
        )
        assert syntax.returncode == 0, syntax.stderr
        arguments = sbatch_arguments(artifact.content)
        assert f"--comment={comment}" in arguments
        (output,) = [a.removeprefix("--output=") for a in arguments if a.startswith("--output=")]
        assert slurm_output_path(output) == f"{workdir}/job.out"

        result = subprocess.run(
            [BASH, str(script)], cwd=root, env=job_env, capture_output=True, check=False, timeout=30
        )
        assert result.returncode == 0, (result, _read(workdir / "run-main.out"))
        assert not (root / "pwned").exists() and not (workdir / "pwned").exists()
        written = workdir / file.path
        assert written.read_bytes() == file.content
        assert stat.S_IMODE(written.stat().st_mode) == file.mode

        calls = _calls(calls_dir)
        tail = [*command, *task.args]
        wd = [(task.working_dir,)] if task.working_dir else []
        if kind in ("apptainer", "singularity"):
            ((argv, received),) = calls
            prefix = "APPTAINERENV_" if kind == "apptainer" else "SINGULARITYENV_"
            assert argv[0] == "exec"
            image_at = len(argv) - len(tail) - 1
            assert argv[image_at:] == [task.image, *tail]
            options = _options(argv, ARITY, stop=image_at)
            assert _values(options, "--pwd") == wd
            for name, value in (env | passed).items():
                assert received[prefix + name] == value
            assert not [name for name in unset if prefix + name in received]
        elif kind == "podman":
            ((argv, received),) = calls
            image_at = len(argv) - len(task.args) - 1
            assert argv[image_at:] == [task.image, *task.args]
            options = _options(argv, ARITY, stop=image_at)
            assert [json.loads(v) for (v,) in _values(options, "--entrypoint")] == [command]
            # A bare name: podman copies it from its own environment, where it is set.
            own = [name for name in DEVICE_VARIABLES if name not in env]
            assert _values(options, "--env") == [
                *[(name,) for name in own],
                *[(f"{n}={v}",) for n, v in env.items()],
            ]
            assert {name: received[name] for name in passed} == passed
            assert not [name for name in unset if name in received]
            assert _values(options, "--workdir") == wd
        elif kind == "bwrap":
            ((argv, _),) = calls
            end = len(argv) - len(tail) - 1
            assert argv[end:] == ["--", *tail]
            options = _options(argv, BWRAP_ARITY, stop=end)
            setenv = [pair for pair in _values(options, "--setenv") if pair[0] != "PATH"]
            in_order = [name for name in DEVICE_VARIABLES if name in passed]
            assert setenv == [
                *[(name, passed[name]) for name in in_order],
                *[(n, v) for n, v in env.items() if n != "PATH"],
            ]
            if "PATH" in env:
                assert ("PATH", env["PATH"]) in _values(options, "--setenv")
            assert _values(options, "--chdir") == wd
        else:
            (start,) = [argv for argv, _ in calls if argv[:1] == ["start"]]
            container = "uid-prop-run-main"
            in_order = [name for name in DEVICE_VARIABLES if name in passed]
            arguments = [f"{name}={passed[name]}" for name in in_order]
            name_at = len(start) - len(tail) - len(arguments) - 2
            assert start[name_at:] == [container, *arguments, "--", *tail]
            options = _options(start, ARITY, stop=name_at)
            # The command script exports the devices and the environment and changes directory,
            # then runs the command: run it, without the job's devices in its own environment,
            # with `cd` recorded instead of done and the recorder as command.
            ((rc_file,),) = _values(options, "--rc")
            probe = subprocess.run(
                [
                    "sh", "-c", 'cd() { printf "%s" "$2" > "$0.cd"; }; . "$0"',
                    rc_file, *arguments, "--", binary,
                ],
                env={k: v for k, v in job_env.items() if k not in DEVICE_VARIABLES},
                capture_output=True,
                check=False,
            )  # fmt: skip
            assert probe.returncode == 0, probe
            cd_file = Path(rc_file + ".cd")
            if task.working_dir:
                assert cd_file.read_bytes().decode() == task.working_dir
            else:
                assert not cd_file.exists()
            (received,) = [e for argv, e in _calls(calls_dir) if not argv]
            for name, value in (env | passed).items():
                assert received[name] == value
            assert not [name for name in unset if name in received]


def test_bwrap_needs_a_command() -> None:
    job = samples("podman")["entrypoint"]
    job = attrs.evolve(job, runtime=Runtime(kind="bwrap", binary="bwrap"))
    with pytest.raises(PodError, match="needs a command"):
        render_pod_script(job, workdir="/w")
