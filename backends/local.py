"""The local backend: pods run on this host, as the core's :class:`~pyinterlink.core.LocalPlan`.

Theory of operation
-------------------
``create`` translates the pod (``core.translate``) and asks the core for its local plan; the
backend only carries the plan out. It prepares the working directory
``<DataRootFolder>/<namespace>-<uid>`` (DataRootFolder made absolute against the current
directory), then runs the pod as one background task in a task group the backend owns: the
site's pre-exec shell if any, the init containers one after another (the first non-zero exit
code stops the pod), then every app container at once. Each container is one process group
(its prepare and cleanup commands too), started without a shell, its standard output and error
appended to ``<init|run>-<name>.out`` and its exit code written to ``<init|run>-<name>.status``
when it ends (a death by signal N as 128 + N, as bash and the batch scripts write it). These are
the file names of the Slurm job, so status and logs read back the same way.

The files the backend adds: ``JobID.jid`` (the job id, written last when the directory is
ready: its presence is what makes a directory a created pod), ``job.out`` (the pod-level log:
the translation's warnings, such as images not being pulled under bwrap, the pre-exec output,
and what the backend did: deadline, delete), and ``job.end.json`` (how the pod ended, the
counterpart of Slurm's accounting, written once when it ended).

Job ids are ``local-<pod UID>``: derived, so that a create is idempotent without any lookup
table, in this process (the pod is in memory) and after a restart (the working directory has
a ``JobID.jid``; nothing is run again). A pod whose directory has a job id but no
``job.end.json`` and which this process does not run was interrupted when the process that ran
it ended (bwrap sandboxes die with their parent); it shows as failed with reason ``JobLost``.

Stopping: ``delete`` (and the pod's ``activeDeadlineSeconds``) sends SIGTERM to every process
group of the pod, waits the pod's ``terminationGracePeriodSeconds`` (30 by default), then sends
SIGKILL. No container starts after that. A deleted pod is ``cancelled``; one past its deadline
is ``failed`` with reason ``DeadlineExceeded``. ``aclose`` stops every pod the same way with
a short grace, then cancels what is left: no process outlives the backend.

The state of a pod comes from memory while this process runs it (``running``, then how it
ended) and from the status files; after a restart, from ``job.end.json`` and the status files.
The pod ends ``succeeded`` when every container that ran exited 0, else ``failed`` with the
highest exit code. Logs follow :mod:`pyinterlink.core._logs` (the kubelet's options over the
``.out`` files); a followed log ends when its container has ended (its ``.status`` file is
written) or the pod has.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import shutil
import signal
import subprocess
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import BinaryIO, Final, Literal, TypeAlias

import anyio
import anyio.to_thread
import attrs
from anyio.abc import TaskGroup
from pyinterlink.adapters.errors import TransportError
from pyinterlink.core import (
    ConfigError,
    ContainerResult,
    InputError,
    Observation,
    Pod,
    PodObjects,
    RemoteState,
    SiteConfig,
    ensure_uid,
    local_plan,
    parse_quantity,
    translate,
)
from pyinterlink.core._logs import follow_log, log_opts_errors, select_log
from pyinterlink.core._slurm_backend import KeepPolicy, should_remove
from pyinterlink.core.local import LocalCommand, LocalPlan, LocalProcess
from pyinterlink.core.machine import JOB_LOST
from pyinterlink.core.slurm import container_results
from pyinterlink.core.wire import PingResources, PingResponse

from .base import JobRef, LogRequest, StatusAnswer

__all__ = ["JOB_END_FILE", "JOB_ID_FILE", "KeepPolicy", "LocalBackend", "local_job_id"]

_log = logging.getLogger(__name__)

_IMAGES_NOTE = (
    "the bwrap runtime runs this host's programs in a sandbox: container images are not "
    "pulled, and a pod's image is ignored"
)

JOB_ID_FILE: Final = "JobID.jid"
"""Upstream's name for the file that holds the job id; written when the directory is ready."""
JOB_END_FILE: Final = "job.end.json"
"""How the pod ended (kind, exit code, reason, message, times), written once when it ends."""


StopReason: TypeAlias = Literal["deleted", "deadline", "closed"]

DEFAULT_GRACE_SECONDS: Final = 30
"""Kubernetes' default ``terminationGracePeriodSeconds``."""

_DEADLINE: Final = "DeadlineExceeded"
_POLL_MIN: Final = 0.02
_POLL_MAX: Final = 0.25
_READ_CHUNK: Final = 4 * 1024 * 1024
_KEPT_KINDS: Final = frozenset({"succeeded", "failed", "cancelled", "running", "unknown"})


def local_job_id(pod_uid: str) -> str:
    """The job id of the pod with ``pod_uid``: ``local-<uid>``."""
    return f"local-{pod_uid}"


def _now() -> datetime:
    return datetime.now(UTC)


@attrs.define(eq=False)
class _PodRun:
    """One pod this process runs (or ran): the plan and what happened so far."""

    uid: str
    job_id: str
    plan: LocalPlan
    grace: float
    started_at: datetime = attrs.field(factory=_now)
    groups: set[int] = attrs.field(factory=set)
    """Process groups alive now (each group's id is its leader's pid)."""
    container_started: dict[str, datetime] = attrs.field(factory=dict)
    """Start times by status file name (``run-main.status``)."""
    exit_codes: dict[str, int] = attrs.field(factory=dict)
    """Exit codes by status file name, as they were written."""
    stop_reason: StopReason | None = None
    pre_exec_code: int | None = None
    error: str | None = None
    final: RemoteState | None = None
    executed: anyio.Event = attrs.field(factory=anyio.Event)
    """Set when nothing of the pod runs any more (no process left, none will start)."""
    done: anyio.Event = attrs.field(factory=anyio.Event)
    """Set when the pod has ended and ``final`` holds its state."""

    def process(self, container: str, *, init: bool | None) -> LocalProcess | None:
        """The container named ``container``: of the kind ``init`` asks for when the pod has
        one of that kind, else of either kind (init and app names never collide)."""
        named = [
            process
            for process in (*self.plan.init_processes, *self.plan.processes)
            if process.name == container
        ]
        preferred = [process for process in named if init in (None, process.init)]
        candidates = preferred or named
        return candidates[0] if candidates else None


class LocalBackend:
    """Runs pods on this host (see the module docstring); use it as ``async with``.

    ``site`` gives the runtime (``ContainerRuntime: bwrap`` runs the host's programs in a
    sandbox, no image) and ``DataRootFolder``. ``keep`` decides what ``delete`` does with the
    working directory (``True``: ``"always"``, ``False``: ``"never"``). ``close_grace`` is the
    grace, in seconds, that ``aclose`` gives running pods before killing them.
    """

    name = "local"

    def __init__(
        self,
        site: SiteConfig,
        *,
        keep: KeepPolicy | bool = "on-failure",
        close_grace: float = 2.0,
    ) -> None:
        root = os.path.abspath(os.path.expanduser(site.data_root_folder))
        self._site = attrs.evolve(site, data_root_folder=root)
        self._root = root
        if isinstance(keep, bool):
            keep = "always" if keep else "never"
        self._keep: KeepPolicy = keep
        self._close_grace = close_grace
        self._runs: dict[str, _PodRun] = {}
        self._create_lock = anyio.Lock()
        self._tasks: TaskGroup | None = None
        self._closed = False
        self._warned_runtime = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> LocalBackend:
        if self._tasks is not None or self._closed:
            raise RuntimeError("a LocalBackend can be entered once")
        tasks = anyio.create_task_group()
        await tasks.__aenter__()
        self._tasks = tasks
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop every running pod (SIGTERM, ``close_grace``, SIGKILL) and end the background
        tasks; idempotent. Pods stopped this way show as cancelled."""
        if self._closed:
            return
        self._closed = True
        tasks, self._tasks = self._tasks, None
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as stopping:
                for run in self._runs.values():
                    if not run.done.is_set():
                        stopping.start_soon(self._stop, run, "closed", self._close_grace)
        if tasks is not None:
            # Every pod has ended or is ending; what is left (a pod being written down) is
            # cancelled. The group must be left from the task and scope that entered it.
            tasks.cancel_scope.cancel()
            await tasks.__aexit__(None, None, None)

    def _task_group(self) -> TaskGroup:
        if self._tasks is None:
            state = "closed" if self._closed else "not open: use `async with LocalBackend(...)`"
            raise RuntimeError(f"the local backend is {state}")
        return self._tasks

    # --- create --------------------------------------------------------------------------------

    def workdir(self, namespace: str, pod_uid: str) -> str:
        """The working directory of a pod (the path ``core.translate`` gives the job)."""
        return f"{self._root}/{namespace or 'default'}-{pod_uid}"

    async def create(self, pod: Pod, objects: PodObjects) -> str:
        """Run ``pod`` here; return ``local-<uid>``. Idempotent by pod UID (see the module
        docstring). Raises ``InputError`` for a pod that cannot run here (``ConfigError``
        when the container runtime is not installed) and ``TransportError`` when the working
        directory cannot be written."""
        tasks = self._task_group()
        pod, _ = ensure_uid(pod)
        uid = pod.metadata.uid
        async with self._create_lock:
            known = self._runs.get(uid)
            if known is not None:
                return known.job_id
            workdir = self.workdir(pod.metadata.namespace, uid)
            existing = await anyio.to_thread.run_sync(_read_text, f"{workdir}/{JOB_ID_FILE}")
            if existing and existing.strip():
                return existing.strip()
            job = translate(pod, objects, self._site)
            # Its containers start from this process's environment: their devices come from it.
            plan = local_plan(job, workdir=job.workdir, environ=os.environ)
            _check_programs(plan)
            self._warn_once(job.runtime.kind)
            job_id = local_job_id(uid)
            try:
                notes = job.warnings + ((_IMAGES_NOTE,) if job.runtime.kind == "bwrap" else ())
                await anyio.to_thread.run_sync(_prepare_workdir, plan, job_id, notes)
            except OSError as exc:
                raise TransportError(f"cannot prepare {plan.workdir}: {exc}") from exc
            grace = pod.spec.termination_grace_period_seconds
            run = _PodRun(
                uid=uid,
                job_id=job_id,
                plan=plan,
                grace=DEFAULT_GRACE_SECONDS if grace is None else max(0, grace),
            )
            self._runs[uid] = run
            tasks.start_soon(self._run_pod, run)
            return job_id

    def _warn_once(self, runtime: str) -> None:
        if runtime == "bwrap" and not self._warned_runtime:
            self._warned_runtime = True
            _log.warning(_IMAGES_NOTE)

    # --- running a pod -------------------------------------------------------------------------

    async def _run_pod(self, run: _PodRun) -> None:
        try:
            async with anyio.create_task_group() as watchers:
                if run.plan.time_limit_seconds is not None:
                    watchers.start_soon(self._deadline, run, run.plan.time_limit_seconds)
                try:
                    await self._execute(run)
                except Exception as exc:  # a failure of ours must end this pod, not the backend
                    run.error = f"{type(exc).__name__}: {exc}"
                    _log.exception("pod %s: the local backend failed", run.uid)
                finally:
                    run.executed.set()
                watchers.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._finish(run)

    async def _execute(self, run: _PodRun) -> None:
        plan = run.plan
        if plan.pre_exec is not None:
            with open(f"{plan.workdir}/{plan.log}", "ab", buffering=0) as out:
                code = await self._exec(run, plan.pre_exec, out)
            if code is None or code != 0:
                run.pre_exec_code = code
                return
        for process in plan.init_processes:
            code = await self._container(run, process)
            if code is None or code != 0:
                return
        async with anyio.create_task_group() as apps:
            for process in plan.processes:
                apps.start_soon(self._container, run, process)

    async def _container(self, run: _PodRun, process: LocalProcess) -> int | None:
        """Run one container; its exit code, or ``None`` when it was not started."""
        if run.stop_reason is not None:
            return None
        workdir = run.plan.workdir
        run.container_started[process.status] = _now()
        code: int | None = None
        with open(f"{workdir}/{process.stdout}", "ab", buffering=0) as out:
            for step in process.prepare:
                code = await self._exec(run, step, out)
                if code is None or (code != 0 and not step.may_fail):
                    break
            else:
                main = LocalCommand(argv=process.argv, env=process.env)
                code = await self._exec(run, main, out)
            for step in process.cleanup:
                await self._exec(run, step, out, cleanup=True)
        if code is None:
            run.container_started.pop(process.status, None)
            return None
        _write_atomic(f"{workdir}/{process.status}", f"{code}\n")
        run.exit_codes[process.status] = code
        return code

    async def _exec(
        self, run: _PodRun, command: LocalCommand, out: BinaryIO, *, cleanup: bool = False
    ) -> int | None:
        """Run one command in its own process group; its exit status (128 + N for signal N),
        or ``None`` when the pod is stopping and it was not started."""
        if run.stop_reason is not None and not cleanup:
            return None
        env = {**os.environ, **command.env} if command.env else None
        try:
            process = await anyio.open_process(
                list(command.argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                cwd=run.plan.workdir,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            # What a shell would say and return: 127 when the program is missing, else 126.
            out.write(f"interlink: cannot run {command.argv[0]}: {exc.strerror or exc}\n".encode())
            return 127 if isinstance(exc, FileNotFoundError) else 126
        group = process.pid
        run.groups.add(group)
        try:
            if run.stop_reason is not None and not cleanup:
                _signal_group(group, signal.SIGTERM)  # it started while the pod was stopping
            status = await process.wait()
        except BaseException:
            with anyio.CancelScope(shield=True):
                _signal_group(group, signal.SIGKILL)
                await process.wait()
            raise
        finally:
            # Whatever the command left behind in its group ends with it, as a container's
            # processes end with the container.
            _signal_group(group, signal.SIGKILL)
            run.groups.discard(group)
        return 128 - status if status < 0 else status

    async def _deadline(self, run: _PodRun, seconds: int) -> None:
        await anyio.sleep(seconds)
        _note(run, f"activeDeadlineSeconds ({seconds} s) exceeded: stopping the pod")
        await self._stop(run, "deadline", run.grace)

    async def _stop(self, run: _PodRun, reason: StopReason, grace: float) -> None:
        """Stop the pod's processes: SIGTERM, ``grace`` seconds, SIGKILL; return when none is
        left. The first reason given is the one the pod shows."""
        if run.executed.is_set():
            return
        if run.stop_reason is None:
            run.stop_reason = reason
        for group in list(run.groups):
            _signal_group(group, signal.SIGTERM)
        with anyio.move_on_after(grace):
            await run.executed.wait()
        while not run.executed.is_set():
            for group in list(run.groups):
                _signal_group(group, signal.SIGKILL)
            with anyio.move_on_after(0.5):
                await run.executed.wait()

    async def _finish(self, run: _PodRun) -> None:
        final = _final_state(run, _now())
        run.final = final
        try:
            await anyio.to_thread.run_sync(_write_end, run.plan.workdir, final)
            if final.message:
                _note(run, final.message)
        except OSError:
            _log.exception("pod %s: cannot record how it ended", run.uid)
        run.done.set()

    # --- delete --------------------------------------------------------------------------------

    async def delete(self, job: JobRef) -> None:
        """Stop the pod (SIGTERM, its grace period, SIGKILL), then keep or remove its working
        directory per ``keep``. Idempotent; a pod this process does not know is cleaned up."""
        workdir = self.workdir(job.namespace, job.pod_uid)
        # What the pod showed before this delete decides whether its directory stays (the
        # same rule as Slurm's, in core): a pod cancelled by this very delete has not failed.
        (before,) = await self.status([job])
        run = self._runs.get(job.pod_uid)
        if run is not None:
            await self._stop(run, "deleted", run.grace)
            await run.done.wait()
        keep = not should_remove(self._keep, before.observation if before.found else None)
        if not keep:
            try:
                await anyio.to_thread.run_sync(_remove_tree, workdir)
            except OSError as exc:
                raise TransportError(f"cannot remove {workdir}: {exc}") from exc

    # --- status --------------------------------------------------------------------------------

    async def status(self, jobs: Sequence[JobRef]) -> list[StatusAnswer]:
        """The state of every pod in ``jobs``, in order: from memory for the pods this process
        runs, from the working directory for the others; the containers' results from the
        ``.status`` files. One worker thread reads the files of all of them."""
        known = [self._snapshot(job.pod_uid) for job in jobs]
        workdirs = [self.workdir(job.namespace, job.pod_uid) for job in jobs]
        return await anyio.to_thread.run_sync(_status_answers, list(jobs), workdirs, known)

    def _snapshot(self, uid: str) -> _Known | None:
        run = self._runs.get(uid)
        if run is None:
            return None
        state = run.final or RemoteState(kind="running", raw="running", started_at=run.started_at)
        return _Known(job_id=run.job_id, state=state, started=dict(run.container_started))

    # --- logs ----------------------------------------------------------------------------------

    def logs(self, request: LogRequest) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """A container's log from its ``.out`` file, with the kubelet's options
        (:mod:`pyinterlink.core._logs`). With ``follow``, the stream ends when the container
        (or the pod) has ended. Raises ``LogRequestError`` for invalid options or a container
        the pod does not have."""
        return self._logs(request)

    @asynccontextmanager
    async def _logs(self, request: LogRequest) -> AsyncIterator[AsyncIterator[bytes]]:
        errors = log_opts_errors(request.opts)
        if errors:
            raise errors[0]
        name = request.container
        if not name or "/" in name or name.startswith("."):
            raise InputError(f"{name!r} is not a container name", path="ContainerName")
        workdir = self.workdir(request.job.namespace, request.job.pod_uid)
        run = self._runs.get(request.job.pod_uid)
        init = request.init
        if run is not None:
            process = run.process(name, init=init)
            if process is None:
                raise InputError(f"the pod has no container {name!r}", path="ContainerName")
            init = process.init
        elif init is None:
            run_file = f"{workdir}/run-{name}.out"
            init_file = f"{workdir}/init-{name}.out"
            init = not os.path.exists(run_file) and os.path.exists(init_file)
        base = f"{workdir}/{'init' if init else 'run'}-{name}"
        chunks = self._follow(run, base, request) if request.opts.follow else _once(base, request)
        try:
            yield chunks
        finally:
            await chunks.aclose()  # the caller may leave before the end

    async def _follow(
        self, run: _PodRun | None, base: str, request: LogRequest
    ) -> AsyncGenerator[bytes, None]:
        data, mtime = await anyio.to_thread.run_sync(_read_from, base + ".out", 0)
        out, follower = follow_log(data, request.opts, now=_now(), mtime=mtime)
        if out:
            yield out
        delay = _POLL_MIN
        while not follower.done:
            ended = await anyio.to_thread.run_sync(_container_ended, base + ".status")
            ended = ended or run is None or run.done.is_set()
            new, _ = await anyio.to_thread.run_sync(_read_from, base + ".out", follower.offset)
            out, follower = follower.feed(new, now=_now())
            if out:
                yield out
            if ended and len(new) < _READ_CHUNK:
                out, follower = follower.finish(now=_now())
                if out:
                    yield out
                return
            delay = _POLL_MIN if new else min(_POLL_MAX, delay * 2)
            await anyio.sleep(delay)

    # --- ping ----------------------------------------------------------------------------------

    async def ping(self) -> PingResponse:
        """``ok``, with this host's free CPUs (usable CPUs less the 1-minute load average) and
        available memory (``MemAvailable`` of ``/proc/meminfo``)."""
        cpu_millis, memory_kib = await anyio.to_thread.run_sync(_free_resources)
        return PingResponse(
            status="ok",
            resources=PingResources(
                cpu=parse_quantity(f"{cpu_millis}m"),
                memory=None if memory_kib is None else parse_quantity(f"{memory_kib}Ki"),
            ),
        )


# --- state ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Known:
    """What memory says about a pod at a status call."""

    job_id: str
    state: RemoteState
    started: Mapping[str, datetime]


def _final_state(run: _PodRun, now: datetime) -> RemoteState:
    """How the pod ended, from what this process saw of it."""
    state = _end_without_times(run)
    return attrs.evolve(state, started_at=run.started_at, finished_at=now)


def _end_without_times(run: _PodRun) -> RemoteState:
    highest = max(run.exit_codes.values(), default=None)
    if run.stop_reason == "deadline":
        seconds = run.plan.time_limit_seconds
        message = f"the pod ran longer than its activeDeadlineSeconds ({seconds} s)"
        return RemoteState(kind="failed", raw="deadline", reason=_DEADLINE, message=message)
    if run.stop_reason == "deleted":
        return RemoteState(kind="cancelled", raw="deleted", message="the pod was deleted")
    if run.stop_reason == "closed":
        message = "the local backend was closed while the pod ran"
        return RemoteState(kind="cancelled", raw="closed", message=message)
    if run.error is not None:
        message = f"the local backend failed: {run.error}"
        return RemoteState(kind="failed", raw="error", message=message, exit_code=highest)
    if run.pre_exec_code is not None:
        message = f"the pre-exec command exited with {run.pre_exec_code}"
        return RemoteState(
            kind="failed", raw="failed", message=message, exit_code=run.pre_exec_code
        )
    if highest is None or highest == 0:
        return RemoteState(kind="succeeded", raw="succeeded", exit_code=0)
    return RemoteState(kind="failed", raw="failed", exit_code=highest)


def _status_answers(
    jobs: list[JobRef], workdirs: list[str], known: list[_Known | None]
) -> list[StatusAnswer]:
    return [
        _status_answer(job, workdir, memory)
        for job, workdir, memory in zip(jobs, workdirs, known, strict=True)
    ]


def _status_answer(job: JobRef, workdir: str, memory: _Known | None) -> StatusAnswer:
    uid = job.pod_uid
    if memory is None:
        job_id = (_read_text(f"{workdir}/{JOB_ID_FILE}") or "").strip()
        if not job_id:
            return StatusAnswer(pod_uid=uid, found=False, job_id=job.job_id)
        state = _read_end(workdir) or RemoteState(
            kind="failed",
            raw="interrupted",
            reason=JOB_LOST,
            message="the process that ran the pod ended before the pod did",
        )
        memory = _Known(job_id=job_id, state=state, started={})
    try:
        containers = _container_results(workdir, memory.started)
    except InputError as exc:
        state = RemoteState(kind="unknown", raw="unreadable", message=str(exc))
        return StatusAnswer(pod_uid=uid, observation=Observation(job=state), job_id=memory.job_id)
    observation = Observation(job=memory.state, containers=containers)
    return StatusAnswer(pod_uid=uid, observation=observation, job_id=memory.job_id)


def _container_results(
    workdir: str, started: Mapping[str, datetime]
) -> tuple[ContainerResult, ...]:
    contents: dict[str, str] = {}
    finished: dict[str, datetime] = {}
    try:
        entries = list(os.scandir(workdir))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        if not entry.name.endswith(".status") or entry.name.startswith("."):
            continue
        text = _read_text(entry.path)
        if text is None:
            continue
        contents[entry.name] = text
        with contextlib.suppress(OSError):
            finished[entry.name] = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
    results = []
    for result in container_results(contents):
        name = f"{'init' if result.init else 'run'}-{result.name}.status"
        results.append(
            attrs.evolve(
                result,
                started_at=started.get(name),
                finished_at=finished.get(name) if result.exit_code is not None else None,
            )
        )
    return tuple(results)


# --- files ---------------------------------------------------------------------------------


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _write_atomic(path: str, text: str) -> None:
    # Readers never see half a file: write beside it (a dot name no reader matches), rename.
    directory, name = posixpath.split(path)
    temporary = f"{directory}/.{name}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)


def _note(run: _PodRun, text: str) -> None:
    with contextlib.suppress(OSError), open(f"{run.plan.workdir}/{run.plan.log}", "ab") as out:
        out.write(f"interlink: {text}\n".encode())


def _prepare_workdir(plan: LocalPlan, job_id: str, warnings: Sequence[str]) -> None:
    workdir = plan.workdir
    os.makedirs(workdir, exist_ok=True)
    for directory in plan.directories:
        os.makedirs(f"{workdir}/{directory}", exist_ok=True)
    for file in plan.files:
        path = f"{workdir}/{file.path}"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a read-only file left by an interrupted preparation
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(file.content)
        os.chmod(path, file.mode)  # exactly the pod's mode, whatever the umask
    # Leftovers of an earlier preparation that never became a pod must not read as results.
    for process in (*plan.init_processes, *plan.processes):
        for name in (process.stdout, process.status):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{workdir}/{name}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(f"{workdir}/{JOB_END_FILE}")
    with open(f"{workdir}/{plan.log}", "wb") as log:
        for warning in warnings:
            log.write(f"interlink: warning: {warning}\n".encode())
    _write_atomic(f"{workdir}/{JOB_ID_FILE}", f"{job_id}\n")


def _write_end(workdir: str, state: RemoteState) -> None:
    record = {
        "kind": state.kind,
        "exit_code": state.exit_code,
        "reason": state.reason,
        "message": state.message,
        "started_at": state.started_at.isoformat() if state.started_at else None,
        "finished_at": state.finished_at.isoformat() if state.finished_at else None,
    }
    _write_atomic(f"{workdir}/{JOB_END_FILE}", json.dumps(record) + "\n")


def _read_end(workdir: str) -> RemoteState | None:
    text = _read_text(f"{workdir}/{JOB_END_FILE}")
    if text is None:
        return None
    try:
        record = json.loads(text)
        kind = record["kind"]
        if kind not in _KEPT_KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        code = record.get("exit_code")
        started, finished = record.get("started_at"), record.get("finished_at")
        return RemoteState(
            kind=kind,
            raw=kind,
            exit_code=code if isinstance(code, int) else None,
            reason=record.get("reason") or None,
            message=record.get("message") or None,
            started_at=datetime.fromisoformat(started) if started else None,
            finished_at=datetime.fromisoformat(finished) if finished else None,
        )
    except (ValueError, KeyError, TypeError) as exc:
        return RemoteState(kind="unknown", raw="unreadable", message=f"{JOB_END_FILE}: {exc}")


def _remove_tree(workdir: str) -> None:
    if os.path.lexists(workdir):
        shutil.rmtree(workdir)


def _read_from(path: str, offset: int) -> tuple[bytes, datetime | None]:
    """Up to ``_READ_CHUNK`` bytes of ``path`` from ``offset``, and its modification time
    (nothing and ``None`` while it does not exist)."""
    try:
        with open(path, "rb") as file:
            mtime = datetime.fromtimestamp(os.fstat(file.fileno()).st_mtime, UTC)
            file.seek(offset)
            return file.read(_READ_CHUNK if offset else -1), mtime
    except FileNotFoundError:
        return b"", None


def _container_ended(status_path: str) -> bool:
    text = _read_text(status_path)
    return text is not None and bool(text.strip())


async def _once(base: str, request: LogRequest) -> AsyncGenerator[bytes, None]:
    data, mtime = await anyio.to_thread.run_sync(_read_from, base + ".out", 0)
    out = select_log(data, request.opts, now=_now(), mtime=mtime)
    if out:
        yield out


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _check_programs(plan: LocalPlan) -> None:
    programs: set[str] = set()
    for process in (*plan.init_processes, *plan.processes):
        commands = (*process.prepare, LocalCommand(argv=process.argv), *process.cleanup)
        programs.update(command.argv[0] for command in commands if command.argv)
    for program in sorted(programs):
        if shutil.which(program) is None:
            raise ConfigError(
                f"{program!r} (the container runtime) is not installed on this host",
                path="ContainerRuntime",
            )


def _free_resources() -> tuple[int, int | None]:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    load = os.getloadavg()[0]
    cpu_millis = max(0, round((cpus - load) * 1000))
    memory_kib = None
    for line in _lines("/proc/meminfo"):
        key, _, value = line.partition(":")
        if key == "MemAvailable":
            memory_kib = int(value.split()[0])
    return cpu_millis, memory_kib


def _lines(path: str) -> Iterator[str]:
    text = _read_text(path)
    if text is not None:
        yield from text.splitlines()
