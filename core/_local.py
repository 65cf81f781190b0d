"""Local dialect: a :class:`~._job.Job` as a plan the local backend carries out without a shell.

Theory of operation: batch dialects hand a script to a scheduler; the local backend runs the
pod on this host itself, so what it needs is the script's *decisions* as data. A
:class:`LocalPlan` says which directories and files to create in the working directory, and
which processes to start: the init containers one after another (the first failure stops the
pod), then the app containers all at once. Each container is a :class:`LocalProcess` whose
argument vectors are fully resolved by :mod:`._runtime` with the absolute working directory,
so the backend passes them to ``execve`` as they are: no word of the pod is ever parsed by a
shell. What a script decides only when it runs, whether the job's environment sets a device
variable (:data:`._runtime.DEVICE_VARIABLES`: the GPUs a batch system gives the job), the plan
decides from the environment it is given, the backend's own, which its containers start from.
The backend writes what it learns where the batch scripts do (``<init|run>-<name>.out`` for the
output, ``<init|run>-<name>.status`` for the exit code), so that status and logs are read back
the same way for every dialect.

:func:`render_local` shows the plan as ``plan.json``, for people (``interlink render``) and
golden tests; the backend uses the :class:`LocalPlan` value itself.
"""

from __future__ import annotations

import base64
import json
import posixpath
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from ._errors import PodError
from ._job import Artifact, FileToWrite, Job, Task
from ._runtime import DEVICE_VARIABLES, CommandLine, runtime_setup, task_commands

__all__ = [
    "LocalCommand",
    "LocalFile",
    "LocalPlan",
    "LocalProcess",
    "local_plan",
    "plan_json",
    "render_local",
]


def _frozen_env(value: Mapping[str, str]) -> Mapping[str, str]:
    # A read-only copy, so that a plan stays a value.
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class LocalCommand:
    """A command to run in the working directory, without a shell.

    ``env`` holds the variables to add to the environment the backend itself runs with (the
    runtime's own settings, such as ``APPTAINERENV_*``); the container's environment is not
    here but inside ``argv`` for runtimes that take it as arguments (``bwrap --setenv``).
    ``may_fail`` marks a command whose failure is expected and harmless: its exit code is
    ignored.
    """

    argv: tuple[str, ...]
    env: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_env, hash=False)
    may_fail: bool = False


@attrs.frozen(kw_only=True)
class LocalProcess:
    """One container of the pod, as the local backend runs it.

    ``prepare`` commands run first, one after another (enroot imports the image); the first
    failing one that may not fail is the container's failure, with its exit code, and the
    container itself is then not started. ``argv`` and ``env`` run the container (see
    :class:`LocalCommand`); ``cleanup`` commands run after it ended or was skipped, their
    failures ignored. The output of all of them goes to ``stdout`` (a file name in the
    working directory, standard error included); the container's exit code, in decimal with
    a newline, goes to ``status`` once it is known.
    """

    name: str
    init: bool
    argv: tuple[str, ...]
    env: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_env, hash=False)
    stdout: str
    status: str
    prepare: tuple[LocalCommand, ...] = ()
    cleanup: tuple[LocalCommand, ...] = ()


@attrs.frozen(kw_only=True)
class LocalFile:
    """A file to write before any container starts: ``path`` is relative to the workdir."""

    path: str
    content: bytes
    mode: int


@attrs.frozen(kw_only=True)
class LocalPlan:
    """Everything the local backend does for one pod, in order.

    1. Create ``workdir`` (absolute), then ``directories`` (relative to it, parents first).
    2. Write ``files`` with their modes.
    3. Run ``pre_exec`` when set (the site-allowed raw shell of the pod), its output appended
       to ``log``; a failure stops the pod before any container.
    4. Run ``init_processes`` one after another; a non-zero exit code stops the pod.
    5. Start ``processes`` all at once and wait for every one of them.

    Every command runs with ``workdir`` as its current directory. ``time_limit_seconds``,
    when set, is how long the pod may run before the backend stops it (SIGTERM to every
    process, as a batch scheduler does at the deadline). ``log`` is the pod-level output
    file, the counterpart of a batch job's ``job.out``.
    """

    workdir: str
    directories: tuple[str, ...] = ()
    files: tuple[LocalFile, ...] = ()
    pre_exec: LocalCommand | None = None
    init_processes: tuple[LocalProcess, ...] = ()
    processes: tuple[LocalProcess, ...] = ()
    time_limit_seconds: int | None = None
    log: str = "job.out"


def _resolve(
    command: CommandLine, workdir: str, where: str, devices: Mapping[str, str]
) -> LocalCommand:
    try:
        argv = command.resolve(workdir, devices)
        env = command.resolve_env(workdir, devices)
    except KeyError as missing:
        # The only variables commands refer to are the batch system's (SLURM_NTASKS for
        # MPI); the local backend has no batch system to provide them.
        raise PodError(
            f"{where} needs the batch system's ${missing.args[0]}, which a local run lacks"
        ) from None
    return LocalCommand(argv=argv, env=env, may_fail=command.may_fail)


def _process(job: Job, task: Task, workdir: str, devices: Mapping[str, str]) -> LocalProcess:
    commands = task_commands(job, task)
    where = f"container {task.name!r}"
    run = _resolve(commands.run, workdir, where, devices)
    return LocalProcess(
        name=task.name,
        init=task.init,
        argv=run.argv,
        env=run.env,
        stdout=f"{task.log_name}.out",
        status=f"{task.log_name}.status",
        prepare=tuple(_resolve(step, workdir, where, devices) for step in commands.prepare),
        cleanup=tuple(_resolve(step, workdir, where, devices) for step in commands.cleanup),
    )


def _with_parents(paths: list[str]) -> tuple[str, ...]:
    # Every directory a file or an emptyDir needs, each once, parents before children.
    directories: set[str] = set()
    for path in paths:
        directory = path
        while directory and directory != ".":
            directories.add(directory)
            directory = posixpath.dirname(directory)
    return tuple(sorted(directories, key=lambda d: (d.count("/"), d)))


def local_plan(job: Job, *, workdir: str, environ: Mapping[str, str] | None = None) -> LocalPlan:
    """Return the plan that runs ``job`` on this host in ``workdir`` (an absolute path).

    Directories are the job's emptyDirs, what the runtime needs (:func:`._runtime.runtime_setup`)
    and the parents of every file; files are the job's own, then the runtime's. The job's
    ``mpi_options`` cannot be honoured (``mpiexec -np $SLURM_NTASKS`` needs Slurm): such a
    job raises :class:`PodError`, as does a task the runtime cannot represent.

    ``environ`` is the environment the containers will be started from (the backend's own;
    none when ``None``). Only the device variables are read from it
    (:data:`._runtime.DEVICE_VARIABLES`): each one it sets is passed into every container that
    does not set it itself, as a batch script does with the job's environment.
    """
    if not workdir.startswith("/"):
        raise ValueError(f"the working directory must be absolute, not {workdir!r}")
    workdir = workdir.rstrip("/") or "/"
    setup = runtime_setup(job)
    files: tuple[FileToWrite, ...] = job.files + setup.files
    directories = _with_parents(
        [*job.empty_dirs, *setup.directories, *(posixpath.dirname(f.path) for f in files)]
    )
    devices = {name: environ[name] for name in DEVICE_VARIABLES if environ and name in environ}
    pre_exec = None
    if job.pre_exec is not None:
        pre_exec = LocalCommand(argv=("/bin/bash", "-c", job.pre_exec))
    return LocalPlan(
        workdir=workdir,
        directories=directories,
        files=tuple(LocalFile(path=f.path, content=f.content, mode=f.mode) for f in files),
        pre_exec=pre_exec,
        init_processes=tuple(_process(job, task, workdir, devices) for task in job.init_tasks),
        processes=tuple(_process(job, task, workdir, devices) for task in job.tasks),
        time_limit_seconds=job.time_limit_seconds,
    )


def _file_json(file: LocalFile) -> dict[str, object]:
    try:
        text = file.content.decode("utf-8")
    except UnicodeDecodeError:
        encoded = base64.b64encode(file.content).decode("ascii")
        return {"path": file.path, "mode": f"0{file.mode:03o}", "base64": encoded}
    return {"path": file.path, "mode": f"0{file.mode:03o}", "text": text}


def _command_json(command: LocalCommand) -> dict[str, object]:
    out: dict[str, object] = {"argv": list(command.argv)}
    if command.env:
        out["env"] = dict(command.env)
    if command.may_fail:
        out["may_fail"] = True
    return out


def _process_json(process: LocalProcess) -> dict[str, object]:
    out: dict[str, object] = {"name": process.name, "stdout": process.stdout}
    out["status"] = process.status
    if process.prepare:
        out["prepare"] = [_command_json(step) for step in process.prepare]
    out.update(_command_json(LocalCommand(argv=process.argv, env=process.env)))
    if process.cleanup:
        out["cleanup"] = [_command_json(step) for step in process.cleanup]
    return out


def plan_json(plan: LocalPlan) -> dict[str, object]:
    """``plan`` as a JSON-ready object, for people to read.

    A file's content is under ``text`` when it is UTF-8, else under ``base64``; modes are
    octal strings (``"0644"``). Keys keep the order the backend follows.
    """
    out: dict[str, object] = {"workdir": plan.workdir, "log": plan.log}
    if plan.time_limit_seconds is not None:
        out["time_limit_seconds"] = plan.time_limit_seconds
    out["directories"] = list(plan.directories)
    out["files"] = [_file_json(file) for file in plan.files]
    if plan.pre_exec is not None:
        out["pre_exec"] = _command_json(plan.pre_exec)
    out["init_processes"] = [_process_json(p) for p in plan.init_processes]
    out["processes"] = [_process_json(p) for p in plan.processes]
    return out


def _dumps(value: object, indent: str = "") -> str:
    # Indented JSON, except that a list of plain values stays on one line: an argv reads as
    # a command line that way, instead of one word per line.
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        items = [inner + _dumps(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def render_local(
    job: Job, *, workdir: str, environ: Mapping[str, str] | None = None
) -> tuple[Artifact, ...]:
    """Return ``plan.json``: :func:`local_plan` shown as JSON (see :func:`plan_json`).

    The JSON is indented, with each list of plain values (an ``argv``, the directories) on
    one line. ``environ`` is as for :func:`local_plan`: without it, the plan is the one for
    an environment that sets no device variable.
    """
    plan = local_plan(job, workdir=workdir, environ=environ)
    return (Artifact(name="plan.json", content=_dumps(plan_json(plan)) + "\n"),)
