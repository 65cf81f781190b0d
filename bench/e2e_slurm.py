"""100 trivial pods through the Slurm backend to completion, next to bare sbatch, in one run.

Run from the repository root, with the local Slurm up (``scripts/slurm-up``)::

    .venv/bin/python -m bench.e2e_slurm                    # one round of each (about 2 min)
    .venv/bin/python -m bench.e2e_slurm --pods 20 --repeat 3 --poll 0.5

Both sides run the same kind of work on the same cluster, one after the other, and are timed
from the first submission until every job is seen to have ended:

* ``backend``: N pods (one container running ``true`` under bwrap) go through
  :meth:`SlurmBackend.create` (translation, rendering, the one-command idempotent create:
  ``JobID.jid`` and ``squeue --name`` look-up, ``mkdir``, ``sbatch`` on stdin), 8 at a time as
  the driver's tasks would, then :meth:`SlurmBackend.status` for all of them (one ``squeue`` and
  one read of the status files) every ``--poll`` seconds until every job has ended;
* ``bare sbatch``: the same N pods rendered to their sbatch scripts *before* timing (written
  to their working directories, which are made before timing too), submitted with
  ``sbatch --parsable <script>``, 8 at a time, then one ``squeue --jobs=<ids> --format=%T``
  every ``--poll`` seconds until every job has ended. This is the least any tool does that
  submits these scripts and waits for them.

The ratio is backend time over bare time; the issue's goal is at most 1.25. Rounds alternate
which side goes first. Between sides the bench waits until this user has no job pending or
running, so each side starts on an idle node; jobs of other users running at the same time
disturb both sides (the bench says when it saw some). Submission time (until the last job
id came back) is printed per side as well. Working directories are removed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Final, NamedTuple

import anyio
from pyinterlink import core
from pyinterlink.adapters import LocalRunner
from pyinterlink.backends.base import JobRef
from pyinterlink.backends.slurm import SlurmBackend
from pyinterlink.core.slurm import SLURM_ENV, render_slurm, slurm_state

GOAL: Final = 1.25
CONCURRENCY: Final = 8


class Timing(NamedTuple):
    submitted: float
    ended: float


def trivial_pod(index: int) -> core.Pod:
    return core.pod_from_json(
        {
            "metadata": {"name": f"e2e-{index}", "namespace": "bench", "uid": str(uuid.uuid4())},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "none", "command": ["true"]}],
            },
        }
    )


def site_at(root: Path) -> core.SiteConfig:
    return core.parse_site_config(
        {"ContainerRuntime": "bwrap", "DataRootFolder": str(root)}, source="bench"
    )


async def through_backend(pods: int, root: Path, poll: float) -> Timing:
    site = site_at(root)
    backend = SlurmBackend(LocalRunner(), site)
    batch = [trivial_pod(index) for index in range(pods)]
    refs: list[JobRef] = []
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def create(pod: core.Pod) -> None:
        async with limiter:
            job_id = await backend.create(pod, core.PodObjects())
        meta = pod.metadata
        refs.append(JobRef(pod_uid=meta.uid, namespace="bench", name=meta.name, job_id=job_id))

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for pod in batch:
            group.start_soon(create, pod)
    submitted = time.perf_counter() - start
    while True:
        answers = await backend.status(refs)
        states = [answer.observation.job for answer in answers]
        if all(state is not None and state.terminal for state in states):
            break
        await anyio.sleep(poll)
    ended = time.perf_counter() - start
    failed = [s for s in states if s is None or s.kind != "succeeded"]
    if failed:
        sys.exit(f"backend: {len(failed)} pods did not succeed: {failed[:3]}")
    return Timing(submitted=submitted, ended=ended)


async def bare_sbatch(pods: int, root: Path, poll: float) -> Timing:
    site = site_at(root)
    runner = LocalRunner()
    scripts = []
    for index in range(pods):
        job = core.translate(trivial_pod(index), core.PodObjects(), site)
        (artifact,) = render_slurm(job)
        workdir = Path(job.workdir)
        workdir.mkdir(parents=True)
        path = workdir / "job.slurm"
        path.write_text(artifact.content)
        scripts.append(str(path))
    ids: list[str] = []
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def submit(script: str) -> None:
        async with limiter:
            result = await runner.run(["sbatch", "--parsable", script])
        if not result.ok:
            sys.exit(f"bare sbatch failed: {result.error_text()}")
        ids.append(result.text().strip().split(";")[0])

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for script in scripts:
            group.start_soon(submit, script)
    submitted = time.perf_counter() - start
    argv = ["squeue", "--noheader", "--states=all", f"--jobs={','.join(ids)}", "--format=%T"]
    while True:
        result = await runner.run(argv, env=SLURM_ENV)
        words = result.text().split()
        rows = [slurm_state(word) for word in words]
        if len(words) == len(ids) and all(r is not None and r.kind in _ENDED for r in rows):
            break
        await anyio.sleep(poll)
    ended = time.perf_counter() - start
    if any(word != "COMPLETED" for word in words):
        sys.exit(f"bare sbatch: not every job completed: {sorted(set(words))}")
    return Timing(submitted=submitted, ended=ended)


_ENDED: Final = frozenset({"succeeded", "failed", "cancelled"})


def my_live_jobs() -> int:
    done = subprocess.run(
        ["squeue", "--noheader", "--me", "--states=PENDING,RUNNING,COMPLETING,CONFIGURING"],
        capture_output=True,
        text=True,
        check=False,
    )
    return len(done.stdout.splitlines())


def others_live_jobs() -> int:
    done = subprocess.run(
        ["squeue", "--noheader", "--states=RUNNING,PENDING", "--format=%u"],
        capture_output=True,
        text=True,
        check=False,
    )
    me = subprocess.run(["id", "-un"], capture_output=True, text=True, check=False).stdout.strip()
    return sum(1 for user in done.stdout.split() if user != me)


def wait_idle(timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while my_live_jobs() and time.monotonic() < deadline:
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=100, help="pods per side (default 100)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (default 1)")
    parser.add_argument("--poll", type=float, default=0.5, help="poll interval, seconds")
    args = parser.parse_args(argv)
    if (
        shutil.which("sbatch") is None
        or subprocess.run(["sinfo"], capture_output=True, check=False).returncode
    ):
        sys.exit("no Slurm here: run scripts/slurm-up first")
    root = Path(tempfile.mkdtemp(prefix="pyinterlink-bench-e2e-"))
    results: dict[str, list[Timing]] = {"backend": [], "bare sbatch": []}
    busy = 0
    try:
        for round_ in range(args.repeat):
            sides = ["bare sbatch", "backend"] if round_ % 2 == 0 else ["backend", "bare sbatch"]
            for side in sides:
                wait_idle()
                busy = max(busy, others_live_jobs())
                where = root / f"{side.replace(' ', '-')}-{round_}"
                run = bare_sbatch if side == "bare sbatch" else through_backend
                timing = anyio.run(run, args.pods, where, args.poll)
                results[side].append(timing)
                print(
                    f"round {round_ + 1} {side:<12} submitted in {timing.submitted:6.2f} s,"
                    f" all ended after {timing.ended:6.2f} s",
                    flush=True,
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    backend = statistics.median(t.ended for t in results["backend"])
    bare = statistics.median(t.ended for t in results["bare sbatch"])
    per_pod = (
        statistics.median(t.submitted for t in results["backend"])
        - statistics.median(t.submitted for t in results["bare sbatch"])
    ) / args.pods
    print()
    print(f"{args.pods} trivial pods, poll every {args.poll} s, {args.repeat} round(s), medians:")
    print(f"  bare sbatch + squeue   {bare:7.2f} s")
    print(f"  SlurmBackend           {backend:7.2f} s")
    print(f"  ratio                  {backend / bare:7.3f}   (goal <= {GOAL})")
    print(f"  submission overhead    {per_pod * 1000:7.2f} ms per pod (backend - bare)")
    if busy:
        print(f"  note: up to {busy} jobs of other users were queued or running meanwhile")


if __name__ == "__main__":
    main()
