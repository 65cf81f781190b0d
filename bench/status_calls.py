"""Commands per status call of the Slurm backend while it tracks 1, 10, 100 and 500 jobs.

Run from the repository root, with the local Slurm up (``scripts/slurm-up``)::

    .venv/bin/python -m bench.status_calls                # the table (about 30 s)
    .venv/bin/python -m bench.status_calls --sizes 1,10,100,500,2000

The backend answers ``status(jobs)`` for every job it tracks with one ``squeue`` (by job id),
and beside it one ``sh`` program that prints every working directory's ``JobID.jid`` and
``.status`` files; ``sacct`` runs only for jobs that left the queue, and only where the site
keeps accounting (the first "accounting storage is disabled" switches it off). The goal of
issue 4: the number of scheduler commands per call is constant.

For each size N, N real pods are submitted through the backend held (``--hold``, so they stay
PENDING and cost the two-core node nothing), then two status calls are counted:

* ``steady``: every job is in the queue: one ``squeue``, one ``sh``;
* ``with 10% gone``: a tenth of the tracked jobs carry ids that Slurm no longer lists (made-up
  ids, as for jobs that ended more than ``MinJobAge`` ago) with status files in their working
  directories. The first such call of a backend asks ``sacct`` once (this node has no
  accounting, so it says so and is never asked again); the count shown is a fresh backend's
  first call, then the steady count after it.

Every command the backend runs goes through a counting wrapper around :class:`LocalRunner`.
The time of each call is its wall time (the two commands run side by side). The jobs are
cancelled at the end (one ``scancel`` of all their ids) and their directories removed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Final

import anyio
from pyinterlink import core
from pyinterlink.adapters import DEFAULT_MAX_OUTPUT, CommandResult, CommandRunner, LocalRunner
from pyinterlink.backends.base import JobRef
from pyinterlink.backends.slurm import SlurmBackend

SIZES: Final = (1, 10, 100, 500)
SCHEDULER: Final = frozenset({"sbatch", "squeue", "sacct", "scancel", "sinfo", "scontrol"})


class Counting:
    """A runner that counts the programs it runs (``squeue``, ``sh``, ``sacct``)."""

    def __init__(self, inner: CommandRunner) -> None:
        self.inner = inner
        self.programs: Counter[str] = Counter()

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> CommandResult:
        self.programs[os.path.basename(argv[0])] += 1
        return await self.inner.run(
            argv, stdin=stdin, env=env, timeout=timeout, max_output=max_output
        )

    def stream(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        self.programs[os.path.basename(argv[0])] += 1
        return self.inner.stream(argv, env=env)

    async def aclose(self) -> None:
        await self.inner.aclose()


def held_pod(index: int) -> core.Pod:
    return core.pod_from_json(
        {
            "metadata": {
                "name": f"bench-{index}",
                "namespace": "bench",
                "uid": str(uuid.uuid4()),
                "annotations": {"slurm-job.vk.io/flags": "--hold"},
            },
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "none", "command": ["true"]}],
            },
        }
    )


def shown(programs: Counter[str]) -> str:
    scheduler = sum(n for name, n in programs.items() if name in SCHEDULER)
    detail = ", ".join(f"{n} {name}" for name, n in sorted(programs.items()))
    return f"{scheduler} ({detail})"


async def measure(sizes: Sequence[int], root: Path) -> list[str]:
    site = core.parse_site_config(
        {"ContainerRuntime": "bwrap", "DataRootFolder": str(root)}, source="bench"
    )
    runner = LocalRunner()
    backend = SlurmBackend(runner, site)
    refs: list[JobRef] = []
    rows = []
    limiter = anyio.CapacityLimiter(16)

    async def submit(index: int) -> None:
        pod = held_pod(index)
        async with limiter:
            job_id = await backend.create(pod, core.PodObjects())
        meta = pod.metadata
        refs.append(JobRef(pod_uid=meta.uid, namespace="bench", name=meta.name, job_id=job_id))

    try:
        for size in sizes:
            async with anyio.create_task_group() as group:
                for index in range(len(refs), size):
                    group.start_soon(submit, index)
            tracked = refs[:size]
            counting = Counting(runner)
            counted = SlurmBackend(counting, site)
            times = []
            for _ in range(3):
                counting.programs.clear()
                start = time.perf_counter()
                answers = await counted.status(tracked)
                times.append(time.perf_counter() - start)
            assert all(a.found and a.observation.job is not None for a in answers)
            steady = Counter(counting.programs)

            gone = make_gone(site, max(1, size // 10))
            fresh = SlurmBackend(counting, site)
            counting.programs.clear()
            await fresh.status([*tracked, *gone])
            first = Counter(counting.programs)
            counting.programs.clear()
            answers = await fresh.status([*tracked, *gone])
            after = Counter(counting.programs)
            assert all(a.found for a in answers)
            rows.append(
                f"{size:>6}  {shown(steady):<22} {shown(first):<30} {shown(after):<22}"
                f" {statistics.median(times) * 1000:8.1f}"
            )
    finally:
        ids = [ref.job_id for ref in refs if ref.job_id]
        if ids:
            subprocess.run(["scancel", *ids], check=False)
    return rows


def make_gone(site: core.SiteConfig, count: int) -> list[JobRef]:
    """Jobs that left the queue: ids Slurm does not list, and status files in their dirs."""
    gone = []
    for index in range(count):
        uid = str(uuid.uuid4())
        ref = JobRef(
            pod_uid=uid, namespace="bench", name=f"gone-{index}", job_id=str(60_000_000 + index)
        )
        workdir = Path(site.data_root_folder) / f"bench-{uid}"
        workdir.mkdir(parents=True)
        (workdir / "run-main.status").write_text("0\n")
        gone.append(ref)
    return gone


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="jobs tracked")
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    if (
        shutil.which("squeue") is None
        or subprocess.run(["sinfo"], capture_output=True, check=False).returncode
    ):
        sys.exit("no Slurm here: run scripts/slurm-up first")
    root = Path(tempfile.mkdtemp(prefix="pyinterlink-bench-status-"))
    try:
        rows = anyio.run(measure, sizes, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("scheduler commands per status call (all commands in brackets), and its wall time")
    header = ("jobs", "steady", "10% gone, first call", "10% gone, after", "ms/call")
    print(f"{header[0]:>6}  {header[1]:<22} {header[2]:<30} {header[3]:<22} {header[4]:>8}")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
