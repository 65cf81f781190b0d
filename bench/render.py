"""Pods per second from pod JSON to an sbatch script: pyinterlink next to PSI/J, in one run.

Run from the repository root::

    .venv/bin/python -m bench.render              # the table (about 10-20 s)
    .venv/bin/python -m bench.render --profile    # plus cProfile of the pyinterlink path
    .venv/bin/python -m bench.render --show       # print both scripts for the first pod

pyinterlink starts from the **bytes** of a pod's JSON and does what ``interlink render`` and
the Slurm backend do: ``json.loads`` → ``pod_from_json`` → ``translate`` (default site, no
ConfigMaps or Secrets) → ``render_slurm``, and keeps the ``job.slurm`` text.

PSI/J (``psij-python``, the reference) is measured twice, on the same pods:

* ``values``: the job's values are already Python objects (executable, argument list, env
  dict, cores, GPUs, bytes of memory, a ``timedelta``, queue and account). Per pod it builds
  ``ResourceSpecV1``, ``JobAttributes``, ``JobSpec`` and ``Job`` and renders the script exactly
  as ``BatchSchedulerExecutor.submit`` does, minus writing the file and running ``sbatch``:
  ``_check_job`` → ``_create_script_context`` → ``generate_submit_script`` (the real
  ``slurm.mustache`` template through pystache). This gives PSI/J less work than pyinterlink
  (no parsing, no validation): the strict comparison, used for the goal.
* ``json``: from the same pod bytes, ``json.loads`` and a minimal hand-written pod → PSI/J
  adapter (a few dictionary look-ups, a small quantity parser, ``shlex.split`` of the flags
  annotation), then the same rendering. This is the like-for-like comparison.

Every repetition renders N distinct pods (distinct names, UIDs, arguments and env values,
generated before timing), so no side can profit from a cache keyed by its input. The sides
alternate within each repetition; the table shows the median rate over repetitions.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import itertools
import json
import math
import platform
import pstats
import random
import re
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, NamedTuple

import psij
from psij import Job, JobAttributes, JobExecutor, JobSpec, ResourceSpecV1
from psij.executors.batch.batch_scheduler_executor import BatchSchedulerExecutor
from psij.executors.batch.slurm import SlurmExecutorConfig, SlurmJobExecutor
from pyinterlink.core import (
    DEFAULT_SITE,
    Artifact,
    PodObjects,
    pod_from_json,
    render_slurm,
    translate,
)

GOAL: Final = 3.0
"""The issue's target: pyinterlink renders at least this many times PSI/J's rate."""

PARTITION: Final = "gpu"
ACCOUNT: Final = "proj"


# --- the workload -------------------------------------------------------------------------------


class PodValues(NamedTuple):
    """One pod of the workload, as plain values (both sides are built from these)."""

    name: str
    uid: str
    executable: str
    arguments: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cpus: int
    memory: str  # a Kubernetes quantity
    gpus: int
    deadline_seconds: int


def make_workload(count: int, seed: int = 1) -> list[PodValues]:
    """``count`` distinct, realistic training pods: one container, 4 CPUs, 8Gi, one GPU."""
    rng = random.Random(seed)
    pods = []
    for i in range(count):
        pods.append(
            PodValues(
                name=f"train-{i}",
                uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                executable="python3",
                arguments=(
                    "train.py",
                    "--epochs",
                    str(10 + i % 7),
                    "--lr",
                    f"0.00{1 + i % 9}",
                    "--out",
                    f"/scratch/runs/train-{i}",
                ),
                env=(
                    ("RUN_ID", f"run-{i}"),
                    ("OMP_NUM_THREADS", "4"),
                    ("DATA_DIR", "/scratch/data/imagenet"),
                    ("WANDB_MODE", "offline"),
                ),
                cpus=4,
                memory="8Gi",
                gpus=1,
                deadline_seconds=3600 + 60 * (i % 5),
            )
        )
    return pods


def pod_json(values: PodValues) -> bytes:
    """The pod as the API server (or ``kubectl get -o json``) sends it."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": values.name,
            "namespace": "default",
            "uid": values.uid,
            "annotations": {"slurm-job.vk.io/flags": f"-p {PARTITION} -A {ACCOUNT}"},
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": values.deadline_seconds,
            "containers": [
                {
                    "name": "main",
                    "image": "docker://pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
                    "command": [values.executable],
                    "args": list(values.arguments),
                    "env": [{"name": k, "value": v} for k, v in values.env],
                    "resources": {
                        "limits": {
                            "cpu": str(values.cpus),
                            "memory": values.memory,
                            "nvidia.com/gpu": str(values.gpus),
                        },
                    },
                }
            ],
        },
    }
    return json.dumps(pod).encode()


# --- PSI/J ----------------------------------------------------------------------------------------


class PsijInput(NamedTuple):
    """What a PSI/J user hands to the library for one job."""

    executable: str
    arguments: list[str]
    environment: dict[str, str | int]  # what JobSpec takes (it copies it)
    cpus: int
    gpus: int
    memory_bytes: int
    duration: timedelta
    queue_name: str | None
    account: str | None


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _bytes_of(quantity: str) -> int:
    """A Kubernetes memory quantity in bytes (enough of the grammar for this workload)."""
    for suffixes in (_BINARY, _DECIMAL):
        for suffix, factor in suffixes.items():
            if quantity.endswith(suffix):
                return int(quantity[: -len(suffix)]) * factor
    return int(quantity)


def _cores_of(quantity: str) -> int:
    """A Kubernetes CPU quantity in whole cores, rounded up (``500m`` → 1)."""
    if quantity.endswith("m"):
        return -(-int(quantity[:-1]) // 1000)
    return int(quantity)


def psij_input_of_values(values: PodValues) -> PsijInput:
    """The job's values as a PSI/J user would already hold them."""
    return PsijInput(
        executable=values.executable,
        arguments=list(values.arguments),
        environment=dict(values.env),
        cpus=values.cpus,
        gpus=values.gpus,
        memory_bytes=_bytes_of(values.memory),
        duration=timedelta(seconds=values.deadline_seconds),
        queue_name=PARTITION,
        account=ACCOUNT,
    )


def psij_input_of_json(raw: bytes) -> PsijInput:
    """A minimal pod JSON → PSI/J adapter: what the PSI/J side does when it starts from bytes.

    No validation beyond what a look-up does by itself; the first container only.
    """
    pod = json.loads(raw)
    spec = pod["spec"]
    container = spec["containers"][0]
    limits = container.get("resources", {}).get("limits", {})
    command = container.get("command", [])
    queue = account = None
    flags = shlex.split(pod["metadata"].get("annotations", {}).get("slurm-job.vk.io/flags", ""))
    for option, value in itertools.pairwise(flags):
        if option in ("-p", "--partition"):
            queue = value
        elif option in ("-A", "--account"):
            account = value
    return PsijInput(
        executable=command[0],
        arguments=command[1:] + container.get("args", []),
        environment={e["name"]: e.get("value", "") for e in container.get("env", [])},
        cpus=_cores_of(limits.get("cpu", "1")),
        gpus=int(limits.get("nvidia.com/gpu", "0")),
        memory_bytes=_bytes_of(limits.get("memory", "0")),
        duration=timedelta(seconds=spec.get("activeDeadlineSeconds", 600)),
        queue_name=queue,
        account=account,
    )


class PsijRenderer:
    """PSI/J's Slurm executor, driven up to the submit script and no further.

    ``BatchSchedulerExecutor.submit`` does: ``_check_job`` → ``_create_script_context`` →
    ``generate_submit_script`` into the submit file → ``sbatch``. :meth:`render` does the
    first three into a ``StringIO``. The executor is built through ``JobExecutor.get_instance``
    (which sets the name its work directory derives from) with a throwaway work directory: the
    launcher script is deployed there once, on the first render, and nothing is submitted.
    """

    def __init__(self, work_directory: Path) -> None:
        config = SlurmExecutorConfig(work_directory=work_directory)
        executor = JobExecutor.get_instance("slurm", config=config)
        # psij's plugin loader executes slurm.py again, so the class is not the one imported
        # here; its base class is shared.
        assert isinstance(executor, BatchSchedulerExecutor)
        assert type(executor).__name__ == SlurmJobExecutor.__name__
        self._executor = executor

    def render(self, given: PsijInput) -> str:
        spec = JobSpec(
            executable=given.executable,
            arguments=given.arguments,
            environment=given.environment,
            resources=ResourceSpecV1(
                cpu_cores_per_process=given.cpus,
                gpu_cores_per_process=given.gpus or None,
                memory=given.memory_bytes,
            ),
            attributes=JobAttributes(
                duration=given.duration, queue_name=given.queue_name, account=given.account
            ),
        )
        job = Job(spec)
        executor = self._executor
        executor._check_job(job)
        context = executor._create_script_context(job)
        out = io.StringIO()
        executor.generate_submit_script(job, context, out)
        return out.getvalue()


# --- pyinterlink ---------------------------------------------------------------------------------


class Pyinterlink:
    """pod JSON bytes → sbatch script through pyinterlink, with the default site.

    The pod has no volumes, so it refers to no ConfigMap or Secret: the objects are empty.
    """

    def __init__(self) -> None:
        self.objects = PodObjects.of()
        self.site = DEFAULT_SITE

    def render(self, raw: bytes) -> str:
        job = translate(pod_from_json(json.loads(raw)), self.objects, self.site)
        return script_of(render_slurm(job))

    def stages(self, raws: Sequence[bytes]) -> list[tuple[str, Callable[[], object]]]:
        """The path cut into its four steps, each over ready inputs (for the breakdown)."""
        documents = [json.loads(raw) for raw in raws]
        pods = [pod_from_json(document) for document in documents]
        jobs = [translate(pod, self.objects, self.site) for pod in pods]
        return [
            ("json.loads", lambda: [json.loads(raw) for raw in raws]),
            ("pod_from_json", lambda: [pod_from_json(document) for document in documents]),
            ("translate", lambda: [translate(pod, self.objects, self.site) for pod in pods]),
            ("render_slurm", lambda: [render_slurm(job) for job in jobs]),
        ]


def script_of(artifacts: Sequence[Artifact]) -> str:
    for artifact in artifacts:
        if artifact.name == "job.slurm":
            return artifact.content
    raise AssertionError("render_slurm produced no job.slurm")


# --- measuring -----------------------------------------------------------------------------------


class Side(NamedTuple):
    label: str
    starts_from: str
    run: Callable[[], int]  # renders the whole batch once, returns the characters produced


def batch(render: Callable[[Any], str], inputs: Sequence[Any]) -> Callable[[], int]:
    def run() -> int:
        total = 0
        for item in inputs:
            total += len(render(item))
        return total

    return run


def measure(sides: Sequence[Side], count: int, repeat: int) -> dict[str, list[float]]:
    """Rates (pods/s) per side: one warm-up pass each, then ``repeat`` rounds, alternating."""
    for side in sides:
        side.run()
    rates: dict[str, list[float]] = {side.label: [] for side in sides}
    for round_ in range(repeat):
        # Rotate the order so that no side always runs right after the same other one.
        order = list(sides[round_ % len(sides) :]) + list(sides[: round_ % len(sides)])
        for side in order:
            gc.collect()
            start = time.perf_counter()
            side.run()
            elapsed = time.perf_counter() - start
            rates[side.label].append(count / elapsed)
    return rates


def check_equivalent(psij_script: str, our_script: str) -> None:
    """Fail loudly if the two sides stopped rendering the same job (pod 0 of the workload)."""
    expected = {
        "PSI/J": (
            "--cpus-per-task=4",
            "--gpus-per-task=1",
            "--mem=8388608K",
            "--time=1:0:0",
            f'--partition="{PARTITION}"',
            f'--account="{ACCOUNT}"',
            "export RUN_ID=run-0",
            "python3 train.py --epochs 10 --lr 0.001 --out /scratch/runs/train-0",
        ),
        "pyinterlink": (
            "--cpus-per-task=4",
            "--gres=gpu:1",
            "--mem=8192M",
            "--time=01:00:00",
            f"--partition={PARTITION}",
            f"--account={ACCOUNT}",
            "RUN_ID=run-0",
            "python3 train.py --epochs 10 --lr 0.001 --out /scratch/runs/train-0",
        ),
    }
    for side, script in (("PSI/J", psij_script), ("pyinterlink", our_script)):
        # Long command lines may be continued with backslash-newlines: join them back.
        joined = re.sub(r" *\\\n *", " ", script)
        for fragment in expected[side]:
            if fragment not in joined:  # not assert: the check must also run under -O
                raise SystemExit(f"the {side} script lacks {fragment!r}:\n{script}")


def profile(ours: Pyinterlink, raws: Sequence[bytes], top: int) -> None:
    """Where the pyinterlink path spends its time: per step without a profiler, then cProfile."""
    print(f"\npyinterlink path by step ({len(raws)} pods, best of 5, no profiler):")
    steps = ours.stages(raws)
    costs = {}
    for name, run in steps:
        run()
        best = math.inf
        for _ in range(5):
            gc.collect()
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        costs[name] = best / len(raws) * 1e6
    total = sum(costs.values())
    for name, cost in costs.items():
        print(f"  {name:<14} {cost:>7.1f} µs/pod  {cost / total:>4.0%}")
    print(f"  {'total':<14} {total:>7.1f} µs/pod")

    profiler = cProfile.Profile()
    profiler.enable()
    for raw in raws:
        ours.render(raw)
    profiler.disable()
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = out.getvalue()
        print(f"\ncProfile of the pyinterlink path, {len(raws)} pods, top {top} by {key}:")
        # pstats' preamble (file names, ordering) is noise here; keep the table.
        print(text[text.find("   ncalls") :].rstrip())
        if key == "tottime":
            print(f"  (total {stats.total_tt:.3f} s under the profiler)")  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.render", description="Pods per second, pod JSON → sbatch script."
    )
    parser.add_argument("--pods", type=int, default=1000, help="distinct pods per repetition")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions per side")
    parser.add_argument("--profile", action="store_true", help="profile the pyinterlink path")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print")
    parser.add_argument("--show", action="store_true", help="print both scripts for pod 0")
    args = parser.parse_args(argv)

    workload = make_workload(args.pods)
    raws = [pod_json(values) for values in workload]
    psij_values = [psij_input_of_values(values) for values in workload]
    if psij_input_of_json(raws[0]) != psij_values[0]:
        raise SystemExit("the two PSI/J starting points give different jobs")
    ours = Pyinterlink()

    with tempfile.TemporaryDirectory(prefix="bench-psij-") as work:
        reference = PsijRenderer(Path(work))
        psij_script = reference.render(psij_values[0])
        our_script = ours.render(raws[0])
        if args.show:
            print(f"--- PSI/J ---\n{psij_script}\n--- pyinterlink ---\n{our_script}")
        check_equivalent(psij_script, our_script)

        psij_version = getattr(psij, "__version__", "?")
        sides = [
            Side("pyinterlink", "pod JSON bytes", batch(ours.render, raws)),
            Side(
                f"PSI/J {psij_version} (values)",
                "Python values",
                batch(reference.render, psij_values),
            ),
            Side(
                f"PSI/J {psij_version} (json)",
                "pod JSON bytes",
                batch(lambda raw: reference.render(psij_input_of_json(raw)), raws),
            ),
        ]
        rates = measure(sides, args.pods, args.repeat)

    mode = "assertions on" if __debug__ else "python -O: no assertions, no typeguard"
    print(
        f"pod → sbatch script: {args.pods} distinct pods per repetition, {args.repeat} "
        f"repetitions, median (Python {platform.python_version()}, {platform.machine()}, "
        f"{mode})\n"
    )
    header = f"{'path':<22} {'starts from':<15} {'pods/s':>8} {'µs/pod':>7} {'min..max pods/s':>16}"
    print(header)
    print("-" * len(header))
    medians = {}
    for side in sides:
        samples = rates[side.label]
        medians[side.label] = median = statistics.median(samples)
        spread = f"{min(samples):,.0f}..{max(samples):,.0f}"
        print(
            f"{side.label:<22} {side.starts_from:<15} {median:>8,.0f} {1e6 / median:>7.1f} "
            f"{spread:>16}"
        )
    ours_rate, strict, like = (medians[side.label] for side in sides)
    verdict = "met" if ours_rate / strict >= GOAL else "NOT met"
    print(
        f"\npyinterlink / PSI/J (values): {ours_rate / strict:.2f}x   goal ≥ {GOAL:g}x: {verdict}"
        f"\npyinterlink / PSI/J (json):   {ours_rate / like:.2f}x"
    )
    if __debug__:
        print(
            "(PSI/J's JobSpec, JobAttributes and ResourceSpecV1 are @typechecked: typeguard "
            "checks them at run time unless Python runs with -O; run with -O to compare "
            "without them)"
        )
    if args.profile:
        profile(ours, raws[: min(len(raws), 1000)], args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
