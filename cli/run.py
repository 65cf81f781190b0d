"""``interlink run``: run one pod to completion without Kubernetes.

It drives the same per-pod state machine as the virtual kubelet (through
:class:`~pyinterlink.backends.driver.PodDriver`): submit, poll, publish, cancel. On a
terminal it shows each phase change (with the scheduler's reason while the pod waits) and
every container's log, prefixed by the container's name; with ``--output json`` it prints
one JSON event per line instead. It exits 0 when the pod succeeded, else the exit code of
the failed container (1 when there is none). Ctrl-C cancels the job and cleans up.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import anyio
import attrs
from pyinterlink.backends.base import Backend, JobRef, LogRequest
from pyinterlink.backends.driver import PodDriver
from pyinterlink.core import (
    BACKENDS,
    InputError,
    Pod,
    PodObjects,
    PodStatus,
    exit_code_of,
    kubectl_status,
    translate,
)
from pyinterlink.core import machine as m
from pyinterlink.core.wire import ContainerLogOpts

from .backends import make_backend
from .documents import load_pod_bundle, load_site_config

__all__ = ["add_parser", "run_pod"]

RUNNABLE = ("local", "slurm")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``run`` and its options."""
    parser = commands.add_parser(
        "run",
        help="run a pod to completion on a backend (local by default), without Kubernetes",
        description=(
            "Submit a pod, show its phases and its containers' logs until it ends, and exit "
            "with its outcome: 0 when it succeeded, else the failed container's exit code. "
            "Ctrl-C cancels the job."
        ),
    )
    parser.add_argument("pod", type=Path, help="pod file (YAML or JSON)")
    parser.add_argument(
        "--backend",
        "-b",
        default="local",
        metavar="NAME",
        help=f"one of {', '.join(RUNNABLE)} (default: local)",
    )
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        metavar="SITE.yaml",
        help="site configuration (default: built-in defaults)",
    )
    parser.add_argument(
        "--output",
        "-o",
        choices=("text", "json"),
        default="text",
        help="text for people (default), json for programs: one event per line",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the pod's working directory afterwards"
    )
    parser.set_defaults(handler=run_pod)


def run_pod(args: argparse.Namespace) -> int:
    """Run the pod of ``args``; return the process exit status."""
    if args.backend not in RUNNABLE:
        known = ", ".join(RUNNABLE)
        hint = f"; {args.backend} can only be rendered for now" if args.backend in BACKENDS else ""
        raise InputError(
            f"unknown backend {args.backend!r} (choose from {known}){hint}", path="--backend"
        )
    site = load_site_config(args.config, args.backend)
    # A relative DataRootFolder stays relative: the local backend anchors it here, and for
    # Slurm it means "where the commands run" — over SSH, the login node's home (upstream).
    bundle = load_pod_bundle(args.pod)
    pod = bundle.pod
    if not pod.metadata.uid:
        # Each run is a new pod, as each pod the API server creates gets a new UID; a stable
        # UID would make the idempotent create find the job of an earlier run.
        pod = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, uid=str(uuid.uuid4())))
    objects = PodObjects.of(bundle.config_maps, bundle.secrets)
    try:
        job = translate(pod, objects, site)  # refuse a bad pod before anything is started
    except InputError as exc:
        raise exc.with_source(str(args.pod)) from None
    out = _Output(sys.stdout, json_lines=args.output == "json", name=pod.metadata.name)
    for warning in job.warnings:
        out.note("warning", warning)
    backend = make_backend(args.backend, site, keep=args.keep)
    return anyio.run(_run, backend, pod, objects, out)


class _Output:
    """Where ``run`` reports: lines for people, or one JSON object per event."""

    def __init__(self, stream: TextIO, *, json_lines: bool, name: str) -> None:
        self._stream = stream
        self._json = json_lines
        self._name = name

    def event(self, kind: str, text: str, **fields: Any) -> None:
        if self._json:
            self._stream.write(json.dumps({"event": kind, "pod": self._name, **fields}) + "\n")
        else:
            self._stream.write(f"interlink: {self._name}: {text}\n")
        self._stream.flush()

    def note(self, kind: str, text: str) -> None:
        self.event(kind, f"{kind}: {text}", message=text)

    def log_line(self, container: str, line: str) -> None:
        if self._json:
            self._stream.write(
                json.dumps(
                    {"event": "log", "pod": self._name, "container": container, "line": line}
                )
                + "\n"
            )
        else:
            self._stream.write(f"[{container}] {line}\n")
        self._stream.flush()


class _Runner:
    """The driver's listener for one pod: prints, follows logs, remembers the outcome."""

    def __init__(self, backend: Backend, out: _Output, tasks: anyio.abc.TaskGroup) -> None:
        self.backend = backend
        self.out = out
        self.tasks = tasks
        self.status: PodStatus | None = None
        self.job: JobRef | None = None
        self.shown = ""
        self.following: set[str] = set()
        self.logs_done = 0
        self.ended = anyio.Event()
        self.done = anyio.Event()

    async def job_recorded(self, pod: Pod, job_id: str) -> None:
        self.job = JobRef(
            pod_uid=pod.metadata.uid,
            namespace=pod.metadata.namespace or "default",
            name=pod.metadata.name,
            job_id=job_id,
        )
        self.out.event("submitted", f"submitted as job {job_id}", job_id=job_id)

    async def status_changed(self, pod: Pod, status: PodStatus) -> None:
        self.status = status
        shown = kubectl_status(pod, status)
        if shown != self.shown:
            self.shown = shown
            detail = f" ({status.message})" if status.message and status.phase == "Pending" else ""
            self.out.event(
                "status",
                f"{shown}{detail}",
                phase=status.phase,
                status=shown,
                reason=status.reason,
                message=status.message,
            )
        self._follow_started_containers(pod, status)
        if status.phase in {"Succeeded", "Failed"}:
            self.ended.set()

    def _follow_started_containers(self, pod: Pod, status: PodStatus) -> None:
        if self.job is None:
            return
        inits = {c.name for c in pod.spec.init_containers}
        for container in status.init_container_statuses + status.container_statuses:
            state = container.state
            if container.name in self.following or (
                state.running is None and state.terminated is None
            ):
                continue
            self.following.add(container.name)
            request = LogRequest(
                job=self.job,
                container=container.name,
                opts=ContainerLogOpts(follow=state.terminated is None),
                init=container.name in inits,
            )
            self.tasks.start_soon(self._stream_log, request)

    async def _stream_log(self, request: LogRequest) -> None:
        pending = b""
        try:
            async with self.backend.logs(request) as chunks:
                async for chunk in chunks:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        self.out.log_line(request.container, line.decode(errors="replace"))
        except Exception as exc:
            self.out.note("warning", f"the log of {request.container} cannot be read: {exc}")
        if pending:
            self.out.log_line(request.container, pending.decode(errors="replace"))
        self.logs_done += 1

    async def job_ended(self, pod: Pod, job: JobRef) -> None:
        self.job = job if job.job_id else self.job
        if self.status is not None:
            self._follow_started_containers(pod, self.status)
        self.ended.set()

    async def forgotten(self, pod: Pod, forget: m.Forget) -> None:
        if forget.abandoned:
            self.out.note("warning", forget.message)
        self.done.set()


async def _run(backend: Backend, pod: Pod, objects: PodObjects, out: _Output) -> int:
    async with backend:
        return await _drive(backend, pod, objects, out)


async def _drive(backend: Backend, pod: Pod, objects: PodObjects, out: _Output) -> int:
    uid = pod.metadata.uid
    interrupted = False
    async with anyio.create_task_group() as tasks:
        runner = _Runner(backend, out, tasks)
        driver = PodDriver(backend, runner)
        await tasks.start(driver.run)
        driver.add(pod, objects)

        async def on_signal(cancel: Callable[[], None]) -> None:
            nonlocal interrupted
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    if not interrupted:
                        interrupted = True
                        out.note("interrupted", "cancelling the job")
                        cancel()

        tasks.start_soon(on_signal, lambda: driver.delete(uid))
        with anyio.CancelScope() as waiting:
            tasks.start_soon(_cancel_when, runner.done, waiting)
            await runner.ended.wait()
            # Logs of containers that just ended finish streaming; then clean up.
            with anyio.move_on_after(10):
                while runner.logs_done < len(runner.following):
                    await anyio.sleep(0.05)
            driver.delete(uid)
        await runner.done.wait()
        tasks.cancel_scope.cancel()
    code = 130 if interrupted else exit_code_of(runner.status)
    out.event("exit", f"exit {code}", code=code)
    return code


async def _cancel_when(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()
