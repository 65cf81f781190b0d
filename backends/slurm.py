"""The Slurm backend: pods as sbatch jobs, over any :class:`CommandRunner` (this host or SSH).

Theory of operation
-------------------
Every decision is the core's (:mod:`pyinterlink.core._slurm_backend`: which command, what its
answer means); this module runs the commands and turns the answers into the
:class:`~.base.Backend` interface. The commands, per operation (``<...>`` are arguments):

* ``create``: one ``sh -c <create program> sh <uid> <workdir> <squeue> <sbatch>`` with the
  sbatch script on standard input. The program returns the job of an earlier submission
  (``<workdir>/JobID.jid``, else ``squeue --name=<uid>``) or makes the working directory,
  keeps the script as ``job.slurm`` and submits it with ``sbatch --parsable`` reading it on
  standard input. A refusal (an unknown partition) is :class:`SlurmRefusedError` with Slurm's
  message, and the program removes what it made.
* ``status``: ``squeue --noheader --states=all --jobs=<ids> --Format=...`` (``--name=<uids>``
  when a job's id is unknown) and, at the same time, ``sh -c <files program>`` reading every
  working directory's ``JobID.jid`` and ``.status`` files (the directories on its standard
  input). For jobs that left the queue, one ``sacct`` where the site keeps accounting: the
  first answer "accounting storage is disabled" switches it off for the backend's lifetime.
* ``delete``: the status of the pod (as above), ``scancel <id>`` (``--name=<uid>`` without an
  id), then, when the keep policy says so, ``rm -rf <workdir>`` once the job has stopped.
* ``logs``: ``sh -c <read program> sh <workdir> <files>`` prints the container's output file
  with its size and modification time (``job.out`` for a container without one); following
  then streams ``sh -c <follow program>`` (GNU ``tail --follow``, waiting for the file) until
  the container's ``.status`` file appears or squeue says the job ended, and reads what tail
  had not sent with ``sh -c <rest program>`` (``tail -c +<offset>``).
* ``ping``: ``sinfo --noheader --Node --Format=...``.
* :meth:`SlurmBackend.adopt`: ``squeue --noheader --states=all --me --Format=JobID,STDOUT,Name``.

squeue and sacct run with ``SLURM_ENV`` (UTC, standard time format); sbatch does not, since it
passes its environment on to the job.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
from pyinterlink.adapters.commands import CommandResult, CommandRunner
from pyinterlink.core import (
    Pod,
    PodObjects,
    RemoteState,
    SchedulerOutputError,
    SiteConfig,
    translate,
)
from pyinterlink.core._logs import follow_log, log_opts_errors, select_log
from pyinterlink.core._slurm_backend import (
    KeepPolicy,
    LogFile,
    SlurmRefusedError,
    SlurmUnavailableError,
    Tracked,
    WorkdirFiles,
    accounting_disabled,
    adopt_argv,
    cancel_argv,
    cleanup_argv,
    create_argv,
    files_argv,
    files_stdin,
    jobs_to_account,
    log_follow_argv,
    log_names,
    log_read_argv,
    log_rest_argv,
    parse_adopt,
    parse_create,
    parse_files,
    parse_log_read,
    parse_sinfo,
    pod_reports,
    sacct_status_argv,
    should_remove,
    sinfo_argv,
    squeue_missing_all,
    status_squeue_argv,
    with_command_prefix,
    workdir_of,
)
from pyinterlink.core.slurm import (
    SLURM_ENV,
    SlurmJob,
    parse_sacct,
    render_slurm,
    squeue_argv,
    squeue_jobs,
)
from pyinterlink.core.wire import PingResponse

from .base import JobRef, LogRequest, StatusAnswer

__all__ = ["SlurmBackend"]

_log = logging.getLogger(__name__)

_A = TypeVar("_A")
_B = TypeVar("_B")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SlurmBackend:
    """Pods as Slurm jobs, through ``runner`` (a :class:`LocalRunner` on the login node, or an
    :class:`SSHRunner` to it), at the site ``site``.

    ``keep`` decides what ``delete`` does with a pod's working directory (``on-failure``: kept
    when the pod had failed, for debugging). ``timeout`` bounds every command, in seconds.
    ``stop_wait`` is how long ``delete`` waits for a cancelled running job to stop before it
    removes the directory the job writes to. ``clock`` is the time logs are read at. With
    ``owns_runner``, :meth:`aclose` closes the runner too.
    """

    name = "slurm"

    def __init__(
        self,
        runner: CommandRunner,
        site: SiteConfig,
        *,
        keep: KeepPolicy = "on-failure",
        timeout: float = 60.0,
        stop_wait: float = 10.0,
        clock: Callable[[], datetime] = _utc_now,
        owns_runner: bool = False,
    ) -> None:
        self._runner = runner
        self._owns_runner = owns_runner
        self._site = site
        self._keep: KeepPolicy = keep
        self._timeout = timeout
        self._stop_wait = stop_wait
        self._clock = clock
        self._accounting: bool | None = None  # unknown until sacct answers once

    @property
    def site(self) -> SiteConfig:
        """The site configuration the backend submits with."""
        return self._site

    @property
    def accounting(self) -> bool | None:
        """Whether the site keeps accounting (``sacct`` works); ``None`` until it was needed."""
        return self._accounting

    def workdir(self, job: JobRef) -> str:
        """The pod's working directory, ``<DataRootFolder>/<namespace>-<uid>``."""
        return workdir_of(self._site, job.namespace, job.pod_uid)

    async def _run(
        self, argv: Sequence[str], *, stdin: bytes | None = None, slurm_env: bool = False
    ) -> CommandResult:
        return await self._runner.run(
            argv, stdin=stdin, env=SLURM_ENV if slurm_env else None, timeout=self._timeout
        )

    # --- create -------------------------------------------------------------------------------

    async def create(self, pod: Pod, objects: PodObjects) -> str:
        """Submit the pod's sbatch script, or return the job an earlier create submitted.

        Raises ``InputError`` for a pod that cannot run here (translation, or
        :class:`SlurmRefusedError` with Slurm's message), :class:`SlurmUnavailableError` when
        Slurm could not take it now, ``TransportError`` when the site was not reached.
        """
        job = translate(pod, objects, self._site)
        (artifact,) = render_slurm(job)
        script = with_command_prefix(artifact.content, self._site.command_prefix)
        result = await self._run(
            create_argv(self._site, job.pod_uid, job.workdir), stdin=script.encode()
        )
        outcome = parse_create(job.pod_uid, result.returncode, result.text(), result.error_text())
        if outcome.job_id is not None:
            return outcome.job_id
        if outcome.permanent:
            raise SlurmRefusedError(outcome.message)
        raise SlurmUnavailableError(outcome.message)

    # --- status -------------------------------------------------------------------------------

    async def status(self, jobs: Sequence[JobRef]) -> list[StatusAnswer]:
        """The state of every job, in order: one squeue call and one read of the working
        directories' files, side by side, whatever the number of jobs; one sacct call more for
        jobs that left the queue where the site keeps accounting."""
        if not jobs:
            return []
        tracked = [
            Tracked(uid=job.pod_uid, workdir=self.workdir(job), job_id=job.job_id) for job in jobs
        ]
        queue, files = await _side_by_side(self._squeue(tracked), self._read_files(tracked))
        accounted: dict[str, RemoteState] = {}
        if self._accounting is not False:
            left = jobs_to_account(tracked, queue, files)
            if left:
                accounted = await self._sacct(left)
        reports = pod_reports(tracked, queue, files, accounted=accounted)
        return [
            StatusAnswer(
                pod_uid=report.uid,
                found=report.found,
                observation=report.observation,
                job_id=report.job_id,
            )
            for report in reports
        ]

    async def _squeue(self, tracked: Sequence[Tracked]) -> tuple[SlurmJob, ...]:
        argv = status_squeue_argv(self._site, tracked)
        if argv is None:
            return ()
        result = await self._run(argv, slurm_env=True)
        if not result.ok:
            if squeue_missing_all(result.returncode, result.error_text()):
                return ()
            raise SlurmUnavailableError(_failure("squeue", result))
        return squeue_jobs(result.text())

    async def _read_files(self, tracked: Sequence[Tracked]) -> tuple[WorkdirFiles, ...]:
        result = await self._run(files_argv(), stdin=files_stdin([job.workdir for job in tracked]))
        if not result.ok:
            raise SlurmUnavailableError(_failure("reading the status files", result))
        return parse_files(result.text(), len(tracked))

    async def _sacct(self, job_ids: Sequence[str]) -> dict[str, RemoteState]:
        result = await self._run(sacct_status_argv(job_ids), slurm_env=True)
        if result.ok:
            self._accounting = True
            try:
                return dict(parse_sacct(result.text()))
            except SchedulerOutputError as exc:
                _log.warning("sacct's answer cannot be read (%s): using the status files", exc)
                return {}
        if accounting_disabled(result.error_text()):
            _log.info("this Slurm keeps no accounting: ended jobs are read from their files")
            self._accounting = False
        else:
            # sacct is down for now: the status files still tell how the jobs ended.
            _log.warning("%s", _failure("sacct", result))
        return {}

    # --- delete -------------------------------------------------------------------------------

    async def delete(self, job: JobRef) -> None:
        """Cancel the pod's job, then remove its working directory unless the keep policy
        says otherwise. Idempotent: a job that ended or never existed is fine."""
        (before,) = await self.status([job])
        job_id = job.job_id or before.job_id
        result = await self._run(cancel_argv(self._site, job.pod_uid, job_id))
        if not result.ok:
            raise SlurmUnavailableError(_failure("scancel", result))
        observation = before.observation if before.found else None
        if not should_remove(self._keep, observation):
            return
        state = observation.job if observation is not None else None
        if job_id is not None and state is not None and state.kind in ("starting", "running"):
            # The job writes into its directory until its processes have ended.
            await self._wait_stopped(job_id)
        result = await self._run(cleanup_argv(self.workdir(job)))
        if not result.ok:
            raise SlurmUnavailableError(_failure("removing the working directory", result))

    async def _wait_stopped(self, job_id: str) -> None:
        with anyio.move_on_after(self._stop_wait):
            delay = 0.1
            while True:
                result = await self._run(squeue_argv([job_id]), slurm_env=True)
                if not result.ok:
                    return  # gone from the queue (or squeue is down: nothing to wait for)
                states = [job.state for job in squeue_jobs(result.text())]
                if all(state.terminal for state in states):
                    return
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)

    # --- logs ---------------------------------------------------------------------------------

    def logs(self, request: LogRequest) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """A container's log from its output file in the working directory (``init-`` or
        ``run-<name>.out``), with the kubelet's options (tail, limit, since, timestamps). A
        container without an output file shows the batch output ``job.out`` (Slurm's and the
        pod script's messages: why it did not run). With ``follow`` the stream waits for the
        container's file and ends when the container has ended (its ``.status`` file) or the
        job has."""
        return self._logs(request)

    @asynccontextmanager
    async def _logs(self, request: LogRequest) -> AsyncIterator[AsyncIterator[bytes]]:
        errors = log_opts_errors(request.opts)
        if errors:
            raise errors[0]
        workdir = self.workdir(request.job)
        follow = request.opts.follow
        argv = log_read_argv(workdir, request.container, request.init, batch_output=not follow)
        result = await self._run(argv)
        if not result.ok:
            raise SlurmUnavailableError(_failure("reading the log", result))
        found = parse_log_read(result.stdout)
        now = self._clock()
        if not follow:
            data = b""
            if found is not None:
                data = select_log(found.data, request.opts, now=now, mtime=found.mtime)
            yield _chunks(data)
            return
        async with self._followed(request, workdir, found, now) as chunks:
            yield chunks

    @asynccontextmanager
    async def _followed(
        self, request: LogRequest, workdir: str, found: LogFile | None, now: datetime
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        data = found.data if found is not None else b""
        first, follower = follow_log(
            data, request.opts, now=now, mtime=found.mtime if found is not None else None
        )
        if follower.done or (found is not None and found.ended):
            last, _ = follower.finish(now=now)
            yield _chunks(first + last)
            return
        names = (found.name,) if found is not None else log_names(request.container, request.init)
        job_id = request.job.job_id
        if job_id is None:
            # The watcher of the follow needs the job to tell when it ended without the
            # container having run.
            (answer,) = await self.status([request.job])
            job_id = answer.job_id
        argv = log_follow_argv(self._site, workdir, names, follower.offset, job_id)
        async with self._runner.stream(argv) as stream:

            async def chunks() -> AsyncIterator[bytes]:
                nonlocal follower
                if first:
                    yield first
                async for chunk in stream:
                    out, follower = follower.feed(chunk, now=self._clock())
                    if out:
                        yield out
                    if follower.done:
                        return
                # The container (or the job) ended and tail was stopped: what it had not
                # read yet, then the partial last line.
                rest = await self._run(log_rest_argv(workdir, names, follower.offset))
                if rest.ok and rest.stdout:
                    out, follower = follower.feed(rest.stdout, now=self._clock())
                    if out:
                        yield out
                out, follower = follower.finish(now=self._clock())
                if out:
                    yield out

            yield chunks()

    # --- ping ---------------------------------------------------------------------------------

    async def ping(self) -> PingResponse:
        """``ok`` with the free CPUs, memory and GRES (as extended resources) of the nodes
        that take jobs, from one ``sinfo`` call."""
        result = await self._run(sinfo_argv(self._site))
        if not result.ok:
            raise SlurmUnavailableError(_failure("sinfo", result))
        return parse_sinfo(result.text(), self._site)

    # --- restart ------------------------------------------------------------------------------

    async def adopt(self) -> list[JobRef]:
        """Every job this site's backend submitted that Slurm still lists, found with one squeue
        call after a restart: the pod UID (the job name), the namespace (from the working
        directory its output goes to) and the job id. Pod names are not known to Slurm
        (``name`` is empty). ``status`` carries on from these."""
        result = await self._run(adopt_argv(self._site), slurm_env=True)
        if not result.ok:
            raise SlurmUnavailableError(_failure("squeue", result))
        return [
            JobRef(pod_uid=uid, namespace=namespace, name="", job_id=job_id)
            for uid, namespace, job_id in parse_adopt(result.text(), self._site)
        ]

    async def aclose(self) -> None:
        """Close the runner if the backend owns it (``owns_runner``); idempotent. Jobs keep
        running: they belong to Slurm, and a new backend adopts them."""
        if self._owns_runner:
            await self._runner.aclose()

    async def __aenter__(self) -> SlurmBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _side_by_side(first: Awaitable[_A], second: Awaitable[_B]) -> tuple[_A, _B]:
    """Both results, awaited at the same time; the first error raised as itself (not in an
    exception group), the other call then cancelled."""
    results: list[Any] = [None, None]
    errors: list[BaseException] = []

    async def one(index: int, call: Awaitable[Any], scope: anyio.CancelScope) -> None:
        try:
            results[index] = await call
        except Exception as exc:
            errors.append(exc)
            scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(one, 0, first, group.cancel_scope)
        group.start_soon(one, 1, second, group.cancel_scope)
    if errors:
        raise errors[0]
    return results[0], results[1]


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


def _failure(what: str, result: CommandResult) -> str:
    said = result.error_text() or result.text().strip()
    return f"{what} failed with exit status {result.returncode}" + (f": {said}" if said else "")
