"""Hand-built neutral jobs that the renderer tests (and golden files) share.

Each sample is a function of the runtime, so that every job can be rendered under every
runtime kind. Under bwrap every task has a command (translation guarantees it: bwrap has no
image, hence no entrypoint), so the one sample that relies on an image entrypoint is left out
for bwrap by :func:`samples`.
"""

from __future__ import annotations

from collections.abc import Callable

from pyinterlink.core._job import (
    Accelerator,
    EnvVar,
    FileToWrite,
    Job,
    Mount,
    Resources,
    Runtime,
    RuntimeKind,
    SlurmOption,
    Task,
)

RUNTIME_KINDS: tuple[RuntimeKind, ...] = ("apptainer", "singularity", "enroot", "podman", "bwrap")

UID = "7f3c2a10-5b8e-4d2f-9a61-0c4e8b9d1e23"
WORKDIR = f"/scratch/interlink/default-{UID}"


def runtime(kind: RuntimeKind) -> Runtime:
    """The runtime of the samples: the options a site would typically set."""
    if kind in ("apptainer", "singularity"):
        return Runtime(kind=kind, binary=kind, options=("--nv", "--containall"))
    return Runtime(kind=kind, binary=kind)


def _job(kind: RuntimeKind, name: str, **fields: object) -> Job:
    return Job(
        pod_uid=UID,
        pod_name=name,
        namespace="default",
        workdir=WORKDIR,
        runtime=runtime(kind),
        **fields,  # type: ignore[arg-type]
    )


def hello(kind: RuntimeKind) -> Job:
    """One container that prints a line: the smallest pod there is."""
    task = Task(
        name="hello",
        init=False,
        image="docker://busybox:1.36",
        command=("echo",),
        args=("hello", "world"),
    )
    return _job(kind, "hello", tasks=(task,))


def entrypoint(kind: RuntimeKind) -> Job:
    """A container that runs its image's entrypoint with arguments (not for bwrap)."""
    task = Task(
        name="server",
        init=False,
        image="docker://ghcr.io/example/server:2.1",
        args=("--port", "8080", "--name", "it's mine"),
        env=(EnvVar(name="LOG_LEVEL", value="debug"),),
        working_dir="/srv/app",
    )
    return _job(kind, "server", tasks=(task,))


def gpu(kind: RuntimeKind) -> Job:
    """GPUs, memory, a time limit, partition and account, extra sbatch options, pre-exec."""
    task = Task(
        name="train",
        init=False,
        image="docker://nvcr.io/nvidia/pytorch:24.03-py3",
        command=("python", "train.py"),
        args=("--epochs", "10"),
        env=(EnvVar(name="NCCL_DEBUG", value="INFO"),),
    )
    return _job(
        kind,
        "train",
        tasks=(task,),
        resources=Resources(
            cpus=8,
            memory_mib=16384,
            accelerators=(
                Accelerator(resource="nvidia.com/gpu", count=2, slurm=("--gres=gpu:2",)),
            ),
        ),
        time_limit_seconds=5400,
        queue="gpu",
        account="physics",
        slurm_options=(
            SlurmOption(name="exclusive"),
            SlurmOption(name="constraint", value="a100&ib"),
            SlurmOption(name="comment", value='run #1 of "Bob\'s" test'),
        ),
        pre_exec="module load cuda/12.2\nexport OMP_NUM_THREADS=1",
    )


BINARY_SECRET = bytes(range(256))


def config_files(kind: RuntimeKind) -> Job:
    """ConfigMap, Secret (binary) and projected files, mounted whole and through subPath."""
    task = Task(
        name="app",
        init=False,
        image="docker://python:3.12-slim",
        command=("python", "-m", "app"),
        mounts=(
            Mount(source="configMaps/settings", target="/etc/config", read_only=True),
            Mount(
                source="configMaps/settings/app.conf",
                target="/opt/app/app.conf",
                read_only=True,
            ),
            Mount(source="secrets/credentials", target="/var/run/secrets/app", read_only=True),
            Mount(source="projectedVolumeMaps/podinfo", target="/etc/podinfo", read_only=True),
        ),
    )
    return _job(
        kind,
        "config",
        tasks=(task,),
        files=(
            FileToWrite(
                path="configMaps/settings/app.conf",
                content=b'[server]\nport = 8080\nname = "$HOME" `not run`\n',
            ),
            FileToWrite(path="configMaps/settings/empty", content=b""),
            FileToWrite(path="configMaps/settings/no-newline", content="caf\u00e9".encode()),
            FileToWrite(path="secrets/credentials/token", content=b"s3cr3t\n", mode=0o400),
            FileToWrite(path="secrets/credentials/key.bin", content=BINARY_SECRET, mode=0o400),
            FileToWrite(path="projectedVolumeMaps/podinfo/labels", content=b'app="config"\n'),
            FileToWrite(path="configMaps/settings/run.sh", content=b"#!/bin/sh\n", mode=0o755),
        ),
    )


def init_containers(kind: RuntimeKind) -> Job:
    """Two init containers in order, then one app container."""

    def task(name: str, init: bool, script: str) -> Task:
        return Task(
            name=name,
            init=init,
            image="docker://busybox:1.36",
            command=("sh", "-c", script),
            mounts=(Mount(source="emptyDirs/work", target="/work"),),
        )

    return _job(
        kind,
        "init",
        init_tasks=(
            task("fetch", True, "echo fetched > /work/data"),
            task("check", True, "test -s /work/data"),
        ),
        tasks=(task("main", False, "cat /work/data"),),
        empty_dirs=("emptyDirs/work",),
    )


def shared_empty_dir(kind: RuntimeKind) -> Job:
    """Two app containers sharing an emptyDir; the reader mounts it read-only."""
    writer = Task(
        name="writer",
        init=False,
        image="docker://busybox:1.36",
        command=("sh", "-c", "date > /shared/now; sleep 1"),
        mounts=(Mount(source="emptyDirs/shared", target="/shared"),),
        run_as_user=1000,
        run_as_group=1000,
    )
    reader = Task(
        name="reader",
        init=False,
        image="docker://busybox:1.36",
        command=("sh", "-c"),
        args=("while [ ! -s /in/now ]; do sleep 0.1; done; cat /in/now",),
        mounts=(
            Mount(source="emptyDirs/shared", target="/in", read_only=True),
            Mount(source="/cvmfs/sft.cern.ch", target="/cvmfs/sft.cern.ch", host=True),
        ),
        env=(
            EnvVar(name="GREETING", value="hello, world"),
            EnvVar(name="MULTILINE", value="line one\nline 'two'"),
        ),
        working_dir="/in",
        read_only_root=True,
    )
    return _job(kind, "shared", tasks=(writer, reader), empty_dirs=("emptyDirs/shared",))


def mpi(kind: RuntimeKind) -> Job:
    """A container run under mpiexec with the pod's MPI flags."""
    task = Task(
        name="solver",
        init=False,
        image="docker://ghcr.io/example/solver:1.0",
        command=("/opt/solver/bin/solve",),
        args=("--mesh", "/data/mesh.h5"),
    )
    return _job(
        kind,
        "solver",
        tasks=(task,),
        resources=Resources(cpus=4),
        slurm_options=(SlurmOption(name="ntasks", value="4"),),
        mpi_options=("--bind-to", "none"),
    )


SAMPLES: dict[str, Callable[[RuntimeKind], Job]] = {
    "hello": hello,
    "entrypoint": entrypoint,
    "gpu": gpu,
    "config-files": config_files,
    "init-containers": init_containers,
    "shared-empty-dir": shared_empty_dir,
    "mpi": mpi,
}


def samples(kind: RuntimeKind) -> dict[str, Job]:
    """Every sample job under ``kind``, by name (without ``entrypoint`` for bwrap)."""
    return {
        name: build(kind)
        for name, build in SAMPLES.items()
        if not (kind == "bwrap" and name == "entrypoint")
    }
