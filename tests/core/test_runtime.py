"""Container command lines as data: words, rendering, resolution, and each runtime's argv."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest
from pyinterlink.core._errors import PodError
from pyinterlink.core._job import EnvVar, Job, Mount, Runtime, RuntimeKind, Task
from pyinterlink.core._runtime import (
    DEVICE_VARIABLES,
    WORKDIR,
    CommandLine,
    EnvRef,
    IfSet,
    RuntimeSetup,
    Word,
    runtime_setup,
    task_commands,
)

from tests.core.sample_jobs import UID, entrypoint, hello, init_containers, mpi, shared_empty_dir
from tests.real import needs_program

BWRAP = shutil.which("bwrap")
WD = "/work dir/pod"

# The opening of every enroot command script: it exports the job's devices given before "--".
ENROOT_RC_DEVICES = [
    '# First the job\'s device selection: NAME=VALUE arguments up to "--".',
    'while [ "$#" -gt 0 ]; do',
    '    if [ "$1" = -- ]; then shift; break; fi',
    '    export "$1"',
    "    shift",
    "done",
]


def _job(kind: RuntimeKind, *tasks: Task, **runtime_fields: object) -> Job:
    return Job(
        pod_uid="uid",
        pod_name="pod",
        namespace="ns",
        workdir=WD,
        runtime=Runtime(kind=kind, binary=kind, **runtime_fields),  # type: ignore[arg-type]
        tasks=tasks,
    )


def _task(**fields: object) -> Task:
    defaults: dict[str, object] = {"name": "main", "init": False, "image": "docker://img:1"}
    return Task(**{**defaults, **fields})  # type: ignore[arg-type]


def _argv(job: Job, task: Task | None = None) -> list[str]:
    commands = task_commands(job, task or job.tasks[0])
    return list(commands.run.resolve(WD, {"SLURM_NTASKS": "4"}))


def _after(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == option]


# --- words and command lines ----------------------------------------------------------------


def test_a_word_renders_references_as_quoted_expansions() -> None:
    word = Word.of(WORKDIR, "/emptyDirs/a b:", EnvRef("HOME"))
    assert word.shell() == '"$workdir"\'/emptyDirs/a b:\'"$HOME"'
    assert word.resolve("/w", {"HOME": "/h"}) == "/w/emptyDirs/a b:/h"


def test_words_merge_adjacent_literals_and_drop_empty_ones() -> None:
    assert Word.of("a", "", "b", WORKDIR, "c").parts == ("ab", WORKDIR, "c")
    assert Word.of("a", "b") == Word.of("ab")
    assert Word.of().shell() == "''"
    assert Word.of("").resolve("/w") == ""


def test_in_workdir() -> None:
    assert Word.in_workdir("configMaps/x").shell() == '"$workdir"/configMaps/x'
    assert Word.in_workdir("configMaps/x").resolve("/data/p") == "/data/p/configMaps/x"


def test_a_missing_variable_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="SLURM_NTASKS"):
        Word.of(EnvRef("SLURM_NTASKS")).resolve("/w", {})


def test_variable_names_must_be_identifiers() -> None:
    with pytest.raises(ValueError, match="variable name"):
        EnvRef("not-a-name")


def test_a_command_line_sets_its_environment_with_env() -> None:
    line = CommandLine(
        argv=(Word.of("run"), Word.in_workdir("x")),
        env=(("A.B", Word.of("v w")), ("C", Word.of(WORKDIR))),
    )
    assert line.shell() == "env 'A.B=v w' 'C='\"$workdir\" run \"$workdir\"/x"
    assert line.resolve("/w") == ("run", "/w/x")
    assert line.resolve_env("/w") == {"A.B": "v w", "C": "/w"}
    dashed = CommandLine(argv=(Word.of("run"),), env=(("-x", Word.of("1")),))
    assert dashed.shell_words() == ("env", "--", "-x=1", "run")


def test_plain_text_arguments_are_literal_words() -> None:
    plain = CommandLine(argv=("run", "a b", ""), env=(("A", "x y"), ("B", "")))
    words = CommandLine(
        argv=(Word.of("run"), Word.of("a b"), Word.of("")),
        env=(("A", Word.of("x y")), ("B", Word.of(""))),
    )
    assert plain.shell() == words.shell() == "env 'A=x y' 'B=' run 'a b' ''"
    assert plain.resolve("/w") == words.resolve("/w") == ("run", "a b", "")
    assert plain.resolve_env("/w") == words.resolve_env("/w") == {"A": "x y", "B": ""}


# --- apptainer / singularity ----------------------------------------------------------------


def test_apptainer_execs_a_command_with_binds_pwd_and_exact_environment() -> None:
    task = _task(
        command=("python", "-c", "print(1)"),
        args=("x",),
        env=(
            EnvVar(name="A", value="1"),
            EnvVar(name="B", value="$x\n"),
            EnvVar(name="A", value="2"),
        ),
        mounts=(
            Mount(source="emptyDirs/d", target="/d"),
            Mount(source="configMaps/c", target="/etc/c", read_only=True),
            Mount(source="/cvmfs", target="/cvmfs", host=True),
        ),
        working_dir="/d",
        run_as_user=1000,
    )
    job = _job("apptainer", task, options=("--nv",), extra_mounts=("/scratch:/scratch",))
    run = task_commands(job, task).run
    assert _argv(job) == [
        "apptainer", "exec", "--nv", "--no-eval",
        "--bind", f"{WD}/emptyDirs/d:/d",
        "--bind", f"{WD}/configMaps/c:/etc/c:ro",
        "--bind", "/cvmfs:/cvmfs",
        "--bind", "/scratch:/scratch",
        "--pwd", "/d",
        "docker://img:1", "python", "-c", "print(1)", "x",
    ]  # fmt: skip
    # Later entries with the same name win, as in Kubernetes.
    assert run.resolve_env(WD) == {"APPTAINERENV_A": "2", "APPTAINERENV_B": "$x\n"}


def test_apptainer_runs_the_image_entrypoint_without_a_command() -> None:
    assert _argv(entrypoint("apptainer"))[:2] == ["apptainer", "run"]
    # An empty command is "not set" in Kubernetes.
    assert _argv(_job("apptainer", _task(command=())))[1] == "run"


def test_no_eval_is_not_repeated() -> None:
    job = _job("singularity", _task(command=("true",)), options=("--no-eval", "--containall"))
    argv = _argv(job)
    assert argv.count("--no-eval") == 1
    task = _task(command=("true",), env=(EnvVar(name="X", value="1"),))
    run = task_commands(_job("singularity", task), task).run
    assert run.resolve_env(WD) == {"SINGULARITYENV_X": "1"}


# --- enroot ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "uri"),
    [
        ("docker://ubuntu:22.04", "docker://ubuntu:22.04"),
        ("ubuntu:22.04", "docker://ubuntu:22.04"),
        ("docker://library/ubuntu", "docker://library/ubuntu"),
        ("docker://nvcr.io/nvidia/pytorch:24.03-py3", "docker://nvcr.io#nvidia/pytorch:24.03-py3"),
        ("docker://localhost/img", "docker://localhost#img"),
        ("docker://registry:5000/img:1", "docker://registry:5000#img:1"),
        ("docker://user@ghcr.io/org/img", "docker://user@ghcr.io#org/img"),
        ("docker://nvcr.io#nvidia/cuda", "docker://nvcr.io#nvidia/cuda"),
        ("dockerd://local/img", "dockerd://local/img"),
    ],
)
def test_enroot_imports_docker_references_in_its_own_syntax(image: str, uri: str) -> None:
    job = _job("enroot", _task(image=image, command=("true",)))
    prepare = [step.resolve(WD) for step in task_commands(job, job.tasks[0]).prepare]
    imports = [argv for argv in prepare if argv[1] == "import"]
    assert imports == [("enroot", "import", "--output", f"{WD}/enroot/run-main.sqsh", uri)]


def test_enroot_prepares_a_named_container_and_removes_it_after() -> None:
    job = _job("enroot", _task(command=("true",), read_only_root=False), options=("--conf", "c"))
    commands = task_commands(job, job.tasks[0])
    name = "uid-run-main"
    image = f"{WD}/enroot/run-main.sqsh"
    assert [(step.resolve(WD), step.may_fail) for step in commands.prepare] == [
        (("enroot", "remove", "--force", name), True),
        (("rm", "-f", "--", image), False),
        (("enroot", "import", "--output", image, "docker://img:1"), False),
        (("enroot", "create", "--name", name, image), False),
        (("rm", "-f", "--", image), False),
    ]
    assert commands.run.resolve(WD) == (
        "enroot", "start", "--conf", "c", "--rc", f"{WD}/enroot/run-main.rc", "--rw", name,
        "--", "true",
    )  # fmt: skip
    assert [step.resolve(WD) for step in commands.cleanup] == [
        ("enroot", "remove", "--force", name)
    ]


def test_enroot_creates_local_images_without_importing() -> None:
    job = _job("enroot", _task(image="/images/app.sqsh", command=("true",)))
    prepare = [step.resolve(WD) for step in task_commands(job, job.tasks[0]).prepare]
    assert prepare[1:] == [("enroot", "create", "--name", "uid-run-main", "/images/app.sqsh")]


def test_enroot_mounts_read_only_root_and_root_user() -> None:
    task = _task(
        command=("true",),
        mounts=(
            Mount(source="emptyDirs/d", target="/d"),
            Mount(source="configMaps/c/f", target="/etc/f", read_only=True),
        ),
        read_only_root=True,
        run_as_user=0,
    )
    argv = _argv(_job("enroot", task, extra_mounts=("/scratch:/scratch",)))
    assert "--rw" not in argv
    assert "--root" in argv
    assert _after(argv, "--mount") == [
        f"{WD}/emptyDirs/d:/d:none:x-create=auto,rbind",
        f"{WD}/configMaps/c/f:/etc/f:none:x-create=auto,rbind,ro",
        "/scratch:/scratch",
    ]


def test_enroot_command_script_exports_the_environment_and_runs_the_command() -> None:
    task = _task(command=("app",), env=(EnvVar(name="X", value="it's\n$HOME"),), working_dir="/w d")
    setup = runtime_setup(_job("enroot", task))
    assert setup.directories == ("enroot",)
    (rc,) = setup.files
    assert rc.path == "enroot/run-main.rc"
    assert rc.content.decode().splitlines()[1:] == [
        *ENROOT_RC_DEVICES,
        "export X='it'\\''s",
        "$HOME'",
        "cd -- '/w d' || exit 1",
        'exec "$@"',
    ]


def test_enroot_command_script_keeps_the_image_entrypoint() -> None:
    task = entrypoint("enroot").tasks[0]
    (rc,) = runtime_setup(entrypoint("enroot")).files
    assert rc.content.decode().splitlines()[-2:] == [
        "cd() { command cd -- /srv/app; }",
        ". /etc/rc",
    ]
    assert _argv(entrypoint("enroot"))[-len(task.args) - 2 :] == [
        f"{UID}-run-server",
        "--",
        *task.args,
    ]


def test_enroot_refuses_names_its_command_script_cannot_export() -> None:
    task = _task(command=("true",), env=(EnvVar(name="my.var", value="1"),))
    with pytest.raises(PodError, match=r"my\.var") as error:
        runtime_setup(_job("enroot", task))
    assert error.value.path == "spec.containers[name=main].env"


# --- podman ---------------------------------------------------------------------------------


def test_podman_runs_with_volumes_env_workdir_user_and_a_json_entrypoint() -> None:
    task = _task(
        command=("/bin/sh", "-c", '["not", "json"]'),
        args=("a",),
        env=(EnvVar(name="A", value="x=y\nz"),),
        mounts=(Mount(source="emptyDirs/d", target="/d", read_only=True),),
        working_dir="/d",
        run_as_user=1000,
        run_as_group=2000,
        read_only_root=True,
    )
    argv = _argv(_job("podman", task, extra_mounts=("/scratch:/scratch:ro",)))
    assert argv[:4] == ["podman", "run", "--rm", "--network=host"]
    assert _after(argv, "--volume") == [f"{WD}/emptyDirs/d:/d:ro", "/scratch:/scratch:ro"]
    assert _after(argv, "--env") == [*DEVICE_VARIABLES, "A=x=y\nz"]
    assert _after(argv, "--workdir") == ["/d"]
    assert _after(argv, "--user") == ["1000:2000"]
    assert "--read-only" in argv
    (entry,) = _after(argv, "--entrypoint")
    assert json.loads(entry) == ["/bin/sh", "-c", '["not", "json"]']
    assert argv[-2:] == ["docker://img:1", "a"]


def test_podman_keeps_the_image_entrypoint_and_the_site_network() -> None:
    job = attrs.evolve(
        entrypoint("podman"),
        runtime=Runtime(kind="podman", binary="podman", options=("--network=slirp4netns",)),
    )
    argv = _argv(job)
    assert "--entrypoint" not in argv
    assert "--network=host" not in argv
    assert _after(_argv(_job("podman", _task(run_as_user=7))), "--user") == ["7"]


# --- bwrap ----------------------------------------------------------------------------------


def test_bwrap_needs_a_command() -> None:
    with pytest.raises(PodError, match="command") as error:
        task_commands(_job("bwrap", _task()), _task())
    assert error.value.path == "spec.containers[name=main].command"


def test_bwrap_builds_a_root_from_the_host_userland_and_the_pod_mounts() -> None:
    task = _task(
        command=("sh", "-c", "true"),
        args=("a",),
        mounts=(
            Mount(source="emptyDirs/d/sub", target="/data/sub"),
            Mount(source="emptyDirs/d", target="/data", read_only=True),
        ),
        env=(EnvVar(name="A", value="1 2"),),
    )
    argv = _argv(_job("bwrap", task))
    assert argv[:3] == ["bwrap", "--die-with-parent", "--unshare-pid"]
    assert argv[argv.index("/etc") - 1 : argv.index("/etc") + 2] == ["--ro-bind", "/etc", "/etc"]
    assert argv[argv.index("/opt") - 1 : argv.index("/opt") + 2] == [
        "--ro-bind-try",
        "/opt",
        "/opt",
    ]
    text = " ".join(argv)
    assert "--proc /proc --dev /dev" in text
    assert f"--bind {WD}/tmp /tmp" in text
    # Parents first: the read-only /data, then the writable /data/sub on top of it.
    assert text.index(f"--ro-bind {WD}/emptyDirs/d /data") < text.index(
        f"--bind {WD}/emptyDirs/d/sub /data/sub"
    )
    assert "--unshare-user" not in argv
    assert argv[argv.index("--clearenv") :] == [
        "--clearenv",
        "--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--setenv", "A", "1 2",
        "--", "sh", "-c", "true", "a",
    ]  # fmt: skip
    assert runtime_setup(_job("bwrap", task)) == RuntimeSetup(directories=("tmp",))


def test_bwrap_rebuilds_etc_when_a_mount_lands_inside_it() -> None:
    task = _task(
        command=("true",),
        mounts=(
            Mount(source="configMaps/c", target="/etc/ssl/certs"),
            Mount(source="configMaps/o", target="/opt/app"),
        ),
    )
    argv = _argv(_job("bwrap", task))
    assert argv[argv.index("/etc") - 1 : argv.index("/etc") + 2] != ["--ro-bind", "/etc", "/etc"]
    assert argv[argv.index("/etc") - 1 : argv.index("/etc") + 1] == ["--dir", "/etc"]
    assert "/etc/passwd" in argv
    # /etc/ssl would hide nothing but cannot gain the mount point: left out.
    assert "/etc/ssl" not in argv
    assert "/opt" not in argv


def test_bwrap_user_working_dir_read_only_root_and_path() -> None:
    task = _task(
        command=("true",),
        working_dir="/w",
        run_as_user=1000,
        run_as_group=100,
        read_only_root=True,
        env=(EnvVar(name="PATH", value="/bin"),),
    )
    argv = _argv(_job("bwrap", task, extra_mounts=("/a:/b:ro", "/c")))
    text = " ".join(argv)
    assert "--unshare-user --uid 1000 --gid 100" in text
    assert "--dir /w --chdir /w" in text
    assert "--remount-ro /" in text
    assert "--ro-bind /a /b" in text and "--bind /c /c" in text
    assert _after(argv, "--setenv") == ["PATH"]
    assert argv[argv.index("PATH") + 1] == "/bin"


# --- the job's device selection ---------------------------------------------------------------

# The job's environment as a GPU job sees it: one variable set, one set to the empty string
# (CUDA reads that as "no GPU": it must arrive as it is), the others unset.
GPU_JOB = {"CUDA_VISIBLE_DEVICES": "0,1", "ZE_AFFINITY_MASK": "", "SLURM_NTASKS": "4"}


def _bash_words(words: tuple[str, ...], environ: dict[str, str]) -> list[str]:
    """The arguments ``words`` (shell text) expand to in bash, with a hostile IFS and nounset."""
    script = "IFS='_-+=S'; set -u; printf '%s\\0' begin " + " ".join(words) + " end"
    result = subprocess.run(
        ["bash", "-c", script], env=environ, capture_output=True, check=True, timeout=10
    )
    return [word.decode() for word in result.stdout.split(b"\0")[1:-2]]


def test_if_set_is_its_arguments_or_nothing() -> None:
    setenv = IfSet("V", ("--setenv", "V", Word.of(EnvRef("V"))))
    assert setenv.shell_words() == ("${V+'--setenv'}", "${V+'V'}", '${V+"$V"}')
    assert setenv.resolve("/w", {"V": "a b"}) == ("--setenv", "V", "a b")
    assert setenv.resolve("/w", {"V": ""}) == ("--setenv", "V", "")
    assert setenv.resolve("/w", {"W": "1"}) == ()
    assert setenv.resolve("/w") == ()
    line = CommandLine(argv=("run", setenv, Word.in_workdir("x")))
    assert line.resolve("/w", {"V": "1"}) == ("run", "--setenv", "V", "1", "/w/x")
    assert line.resolve("/w", {}) == ("run", "/w/x")
    with pytest.raises(ValueError, match="variable name"):
        IfSet("not-a-name", ("x",))


@pytest.mark.parametrize(
    "value", ["", "0", "0,1", "GPU-8932f937", " a  b ", "*", "$(touch x) `y` 'q' \"d\" }\n"]
)
def test_if_set_words_expand_exactly_in_bash(value: str) -> None:
    quirky = IfSet("V", ("--setenv", "it's }", Word.of("A=", EnvRef("V"), WORKDIR), ""))
    words = (*quirky.shell_words(), "next")
    environ = {"PATH": "/usr/bin:/bin", "workdir": "/w d"}
    assert _bash_words(words, {**environ, "V": value}) == [
        "--setenv", "it's }", f"A={value}/w d", "", "next",
    ]  # fmt: skip
    # Unset: nothing at all, not an empty word.
    assert _bash_words(words, environ) == ["next"]


def test_variables_set_only_where_the_job_sets_them() -> None:
    line = CommandLine(
        argv=("run",),
        env=(("A", "1"), ("P_V", "mine")),
        env_if_set=(("P_V", "V"), ("P_W", "W")),
    )
    assert line.shell_words() == (
        "env", '${V+\'P_V=\'"$V"}', '${W+\'P_W=\'"$W"}', "'A=1'", "'P_V=mine'", "run",
    )  # fmt: skip
    # The command's own env wins; an unset variable sets nothing.
    assert line.resolve_env("/w", {"V": "0", "W": ""}) == {"P_V": "mine", "P_W": "", "A": "1"}
    assert line.resolve_env("/w", {}) == {"A": "1", "P_V": "mine"}
    only = CommandLine(argv=("run",), env_if_set=(("P_W", "W"),))
    assert only.shell_words() == ("env", "${W+'P_W='\"$W\"}", "run")
    assert only.resolve_env("/w") == {}
    environ = {"PATH": "/usr/bin:/bin", "W": "x y"}
    result = subprocess.run(
        ["bash", "-c", " ".join([*only.shell_words()[:-1], "printenv", "P_W"])],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "x y\n"


def test_apptainer_gets_the_devices_the_job_sets() -> None:
    task = _task(command=("true",), env=(EnvVar(name="A", value="1"),))
    for kind, prefix in (("apptainer", "APPTAINERENV_"), ("singularity", "SINGULARITYENV_")):
        run = task_commands(_job(kind, task), task).run  # type: ignore[arg-type]
        assert run.resolve_env(WD, GPU_JOB) == {
            f"{prefix}CUDA_VISIBLE_DEVICES": "0,1",
            f"{prefix}ZE_AFFINITY_MASK": "",
            f"{prefix}A": "1",
        }
        assert run.resolve_env(WD, {}) == {f"{prefix}A": "1"}
        assert run.resolve(WD, GPU_JOB) == run.resolve(WD, {})


def test_enroot_passes_the_devices_to_its_command_script() -> None:
    job = _job("enroot", _task(command=("app", "-x")))
    run = task_commands(job, job.tasks[0]).run
    assert run.resolve(WD, GPU_JOB)[-6:] == (
        "uid-run-main", "CUDA_VISIBLE_DEVICES=0,1", "ZE_AFFINITY_MASK=", "--", "app", "-x",
    )  # fmt: skip
    assert run.resolve(WD, {})[-4:] == ("uid-run-main", "--", "app", "-x")
    assert run.resolve_env(WD, GPU_JOB) == {}


@pytest.mark.parametrize("command", [("printenv",), ()])
def test_the_enroot_command_script_exports_the_devices_exactly(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # The script runs in the container, where the job's environment is not: only what the
    # arguments before "--" carry. Without a command the image's /etc/rc runs (here a stub).
    task = _task(command=command, env=(EnvVar(name="HIP_VISIBLE_DEVICES", value="mine"),))
    (rc,) = runtime_setup(_job("enroot", task)).files
    script = tmp_path / "rc"
    script.write_bytes(rc.content)
    etc_rc = tmp_path / "etc-rc"
    etc_rc.write_text('exec printenv "$@"\n')
    text = script.read_text().replace(". /etc/rc", f". {etc_rc}")
    script.write_text(text)
    value = "0 'a'\n$(b) --"
    devices = [f"CUDA_VISIBLE_DEVICES={value}", "ZE_AFFINITY_MASK="]
    names = ["CUDA_VISIBLE_DEVICES", "ZE_AFFINITY_MASK", "HIP_VISIBLE_DEVICES"]
    result = subprocess.run(
        ["sh", str(script), *devices, "--", *command, *names],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout == f"{value}\n\nmine\n", result.stderr
    assert result.returncode == 0
    # Nothing set: nothing exported, and the arguments after "--" are the command's.
    result = subprocess.run(
        ["sh", str(script), "--", *command, "ROCR_VISIBLE_DEVICES", "--"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")


def test_podman_copies_each_device_variable_from_its_own_environment() -> None:
    task = _task(env=(EnvVar(name="A", value="1"),))
    argv = _argv(_job("podman", task))
    # A bare name: podman sets it only where its environment (the job's) has it.
    assert _after(argv, "--env") == [*DEVICE_VARIABLES, "A=1"]
    run = task_commands(_job("podman", task), task).run
    assert run.resolve(WD, GPU_JOB) == run.resolve(WD, {})
    assert run.env == () and run.env_if_set == ()


def test_bwrap_sets_the_devices_the_job_sets() -> None:
    task = _task(command=("true",), env=(EnvVar(name="A", value="1"),))
    run = task_commands(_job("bwrap", task), task).run
    tail = run.resolve(WD, GPU_JOB)
    assert tail[tail.index("--clearenv") :] == (
        "--clearenv",
        "--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--setenv", "CUDA_VISIBLE_DEVICES", "0,1",
        "--setenv", "ZE_AFFINITY_MASK", "",
        "--setenv", "A", "1",
        "--", "true",
    )  # fmt: skip
    assert "CUDA_VISIBLE_DEVICES" not in run.resolve(WD, {})


@pytest.mark.parametrize("kind", ["apptainer", "singularity", "enroot", "podman", "bwrap"])
def test_the_pod_env_wins_over_the_job_devices(kind: RuntimeKind) -> None:
    task = _task(
        command=("true",),
        env=(
            EnvVar(name="CUDA_VISIBLE_DEVICES", value="3"),
            EnvVar(name="NVIDIA_VISIBLE_DEVICES", value=""),
        ),
    )
    job = _job(kind, task)
    run = task_commands(job, task).run
    words = " ".join(run.shell_words())
    assert "${CUDA_VISIBLE_DEVICES+" not in words and "${NVIDIA_VISIBLE_DEVICES+" not in words
    assert "${ROCR_VISIBLE_DEVICES+" in words or "--env ROCR_VISIBLE_DEVICES" in words
    argv, env = run.resolve(WD, GPU_JOB), run.resolve_env(WD, GPU_JOB)
    if kind in ("apptainer", "singularity"):
        prefix = "APPTAINERENV_" if kind == "apptainer" else "SINGULARITYENV_"
        assert env[prefix + "CUDA_VISIBLE_DEVICES"] == "3"
        assert env[prefix + "NVIDIA_VISIBLE_DEVICES"] == ""
        assert env[prefix + "ZE_AFFINITY_MASK"] == ""
    elif kind == "enroot":
        assert "CUDA_VISIBLE_DEVICES=0,1" not in argv and "ZE_AFFINITY_MASK=" in argv
        (rc,) = runtime_setup(job).files
        assert "export CUDA_VISIBLE_DEVICES=3\n" in rc.content.decode()
    elif kind == "podman":
        assert _after(list(argv), "--env") == [
            "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL",
            "ZE_AFFINITY_MASK", "CUDA_VISIBLE_DEVICES=3", "NVIDIA_VISIBLE_DEVICES=",
        ]  # fmt: skip
    else:
        assert _after(list(argv), "--setenv") == [
            "PATH",
            "ZE_AFFINITY_MASK",
            "CUDA_VISIBLE_DEVICES",
            "NVIDIA_VISIBLE_DEVICES",
        ]
        assert argv[argv.index("CUDA_VISIBLE_DEVICES") + 1] == "3"


@needs_program("bwrap", "scripts/system-deps installs it")
@pytest.mark.parametrize(
    ("job_env", "seen"),
    [
        ({"CUDA_VISIBLE_DEVICES": "0"}, "0"),
        ({"CUDA_VISIBLE_DEVICES": ""}, ""),
        ({}, "unset"),
    ],
)
def test_a_bwrap_container_sees_the_job_devices_through_the_pod_script(
    tmp_path: Path, job_env: dict[str, str], seen: str
) -> None:
    # The script's words, run by bash as a batch job does, with the real bwrap.
    assert BWRAP is not None
    probe = 'printf "%s|%s" "${CUDA_VISIBLE_DEVICES-unset}" "${HIP_VISIBLE_DEVICES-unset}"'
    task = _task(
        command=("sh", "-c", probe), env=(EnvVar(name="HIP_VISIBLE_DEVICES", value="mine"),)
    )
    job = attrs.evolve(_job("bwrap", task), runtime=Runtime(kind="bwrap", binary=BWRAP))
    (tmp_path / "tmp").mkdir()
    run = task_commands(job, task).run
    environ = {"PATH": "/usr/bin:/bin", "workdir": str(tmp_path)}
    environ |= {"HIP_VISIBLE_DEVICES": "1", **job_env}
    result = subprocess.run(
        ["bash", "-c", run.shell()], env=environ, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, f"{seen}|mine"), result.stderr
    # The same command resolved, as the local backend runs it.
    result = subprocess.run(
        list(run.resolve(str(tmp_path), environ)), capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, f"{seen}|mine"), result.stderr


# --- MPI and the whole pod ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["apptainer", "enroot", "podman", "bwrap"])
def test_mpi_wraps_the_runtime_in_mpiexec(kind: RuntimeKind) -> None:
    job = mpi(kind)
    words = task_commands(job, job.tasks[0]).run.shell_words()
    # apptainer's device variables are set by env in front of everything.
    words = words[words.index("mpiexec") :]
    assert words[:5] == ("mpiexec", "-np", '"$SLURM_NTASKS"', "--bind-to", "none")
    assert _argv(job)[:6] == ["mpiexec", "-np", "4", "--bind-to", "none", kind]


def test_other_runtimes_need_nothing_in_the_working_directory() -> None:
    kinds: tuple[RuntimeKind, ...] = ("apptainer", "singularity", "podman")
    for kind in kinds:
        assert runtime_setup(shared_empty_dir(kind)) == RuntimeSetup()


def test_every_task_of_a_pod_gets_its_commands() -> None:
    job = init_containers("enroot")
    names = [task_commands(job, task).run.resolve(WD)[-5] for task in job.all_tasks]
    assert names == [f"{UID}-init-fetch", f"{UID}-init-check", f"{UID}-run-main"]
    assert [file.path for file in runtime_setup(job).files] == [
        "enroot/init-fetch.rc",
        "enroot/init-check.rc",
        "enroot/run-main.rc",
    ]


@needs_program("bwrap", "scripts/system-deps installs it")
def test_resolved_bwrap_argv_runs_without_a_shell(tmp_path: Path) -> None:
    # What the local backend does: resolve with the absolute directory, exec, no shell.
    assert BWRAP is not None
    workdir = tmp_path / "pod; $(x)"
    (workdir / "tmp").mkdir(parents=True)
    (workdir / "emptyDirs/d").mkdir(parents=True)
    task = _task(
        command=("sh", "-c", 'echo "$V" > /mnt/pyinterlink-out/v; pwd'),
        env=(EnvVar(name="V", value="a 'b' $(c)"),),
        mounts=(Mount(source="emptyDirs/d", target="/mnt/pyinterlink-out"),),
        working_dir="/mnt/pyinterlink-out",
    )
    job = attrs.evolve(_job("bwrap", task), runtime=Runtime(kind="bwrap", binary=BWRAP))
    run = task_commands(job, task).run
    result = subprocess.run(
        list(run.resolve(str(workdir))), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "/mnt/pyinterlink-out\n"
    assert (workdir / "emptyDirs/d/v").read_text() == "a 'b' $(c)\n"


def test_a_podman_command_line_renders_readably() -> None:
    job = hello("podman")
    run = task_commands(job, job.tasks[0]).run
    devices = " ".join(f"--env {name}" for name in DEVICE_VARIABLES)
    assert run.shell() == (
        f"podman run --rm --network=host {devices} --entrypoint '[\"echo\"]' "
        "docker://busybox:1.36 hello world"
    )


def test_the_pod_identity_applies_where_the_container_sets_none() -> None:
    task = _task(command=("true",), run_as_group=5)
    job = attrs.evolve(_job("bwrap", task), run_as_user=1000, run_as_group=100)
    assert "--unshare-user --uid 1000 --gid 5" in " ".join(_argv(job))
    podman = attrs.evolve(job, runtime=Runtime(kind="podman", binary="podman"))
    assert _after(_argv(podman), "--user") == ["1000:5"]
    enroot = attrs.evolve(job, runtime=Runtime(kind="enroot", binary="enroot"), run_as_user=0)
    assert "--root" in _argv(enroot)
