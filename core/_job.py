"""The neutral job: what a pod becomes before any scheduler dialect is chosen.

Translation (:mod:`._translate`) turns a pod, the objects it mounts and the site configuration
into a :class:`Job`; each renderer (Slurm, HTCondor, UNICORE, local) turns a ``Job`` into its
own artifacts. Every decision about *meaning* (which resources, which files, which
environment, which flags survive the site policy) is taken before a ``Job`` exists, so the
renderers only decide *syntax*.

Paths inside a job are relative to the pod's working directory unless they say otherwise:
each dialect decides where that directory is (``<DataRootFolder>/<namespace>-<uid>`` for
Slurm and local, the sandbox for HTCondor, the job directory for UNICORE).
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = [
    "Accelerator",
    "Artifact",
    "EnvVar",
    "FileToWrite",
    "Job",
    "Mount",
    "Resources",
    "Runtime",
    "RuntimeKind",
    "SlurmOption",
    "Task",
]

RuntimeKind = Literal["apptainer", "singularity", "enroot", "podman", "bwrap"]


@attrs.frozen(kw_only=True)
class EnvVar:
    """One environment variable with its literal value (references already resolved)."""

    name: str
    value: str


@attrs.frozen(kw_only=True)
class Mount:
    """A bind mount of a task.

    ``source`` is relative to the pod working directory (``emptyDirs/cache``,
    ``configMaps/settings``, ``configMaps/settings/app.conf`` for a subPath) unless ``host``
    is true, in which case it is an absolute path on the execution host (hostPath volumes).
    ``target`` is the absolute path inside the container.
    """

    source: str
    target: str
    read_only: bool = False
    host: bool = False


@attrs.frozen(kw_only=True)
class FileToWrite:
    """A file the job materialises in its working directory before any container starts.

    ``path`` is relative to the working directory (``configMaps/<volume>/<key>``,
    ``secrets/<volume>/<key>``, ``projectedVolumeMaps/<volume>/<path>``); it never contains
    ``..`` or starts with ``/`` (translation checks it). ``content`` is raw bytes: ConfigMap
    ``binaryData`` and Secrets need not be text.
    """

    path: str
    content: bytes
    mode: int = 0o644


@attrs.frozen(kw_only=True)
class Task:
    """One container of the pod, as the container runtime will run it.

    ``command`` is the pod's ``command`` (an entrypoint override) or ``None`` when the image's
    own entrypoint must run; ``args`` follow it (or the entrypoint). ``image`` already carries
    the site's or annotation's prefix (``docker://``). ``env`` is ordered as Kubernetes
    defines it: ``envFrom`` sources first, then ``env`` entries, later names winning.
    """

    name: str
    init: bool
    image: str
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    working_dir: str | None = None
    mounts: tuple[Mount, ...] = ()
    cpu_millis: int | None = None
    memory_mib: int | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    read_only_root: bool = False

    @property
    def log_name(self) -> str:
        """Base name of the per-container files: ``init-<name>`` or ``run-<name>``."""
        return f"{'init' if self.init else 'run'}-{self.name}"


@attrs.frozen(kw_only=True)
class Accelerator:
    """A Kubernetes extended resource and what each scheduler dialect asks for it.

    The site resource table decides the dialect requests; translation has already substituted
    the count, so ``slurm`` holds finished sbatch options (``--gres=gpu:4``), ``htcondor``
    finished submit commands (``("request_GPUs", "4")``) and ``unicore`` finished resource
    entries (``("GPUS", "4")``).
    """

    resource: str
    count: int
    slurm: tuple[str, ...] = ()
    htcondor: tuple[tuple[str, str], ...] = ()
    unicore: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class Resources:
    """What the whole pod asks of the scheduler (the Kubernetes effective request)."""

    cpus: int = 1
    memory_mib: int | None = None
    accelerators: tuple[Accelerator, ...] = ()


@attrs.frozen(kw_only=True)
class SlurmOption:
    """An sbatch option from an annotation or a flavor, after policy and de-duplication.

    ``name`` is the canonical long form without dashes (``partition`` for ``-p``); ``value`` is
    ``None`` for a flag without a value (``--exclusive``). ``text`` is how the option is
    written on an ``#SBATCH`` line (``--partition=geant4``).
    """

    name: str
    value: str | None = None

    @property
    def text(self) -> str:
        return f"--{self.name}" if self.value is None else f"--{self.name}={self.value}"


@attrs.frozen(kw_only=True)
class Runtime:
    """The container runtime and the options it runs every container with.

    ``binary`` is the command to call (``apptainer``, ``/opt/singularity/bin/singularity``).
    ``options`` are runtime options from the site defaults and the pod's annotations, already
    tokenized (``--nv``, ``--containall``); ``extra_mounts`` are additional bind specs from
    annotations, passed verbatim to the runtime's bind option.
    """

    kind: RuntimeKind
    binary: str
    options: tuple[str, ...] = ()
    extra_mounts: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Job:
    """The neutral job a pod becomes.

    Init tasks run one after another and stop the job at the first failure; app tasks run
    concurrently; the job's exit code is the highest exit code of its tasks. ``files`` and
    ``empty_dirs`` exist in the working directory before the first task starts.
    ``time_limit_seconds`` comes from ``activeDeadlineSeconds``. ``slurm_options`` are the
    extra sbatch options left after the pod spec took what it owns (CPU, memory,
    accelerators, time, partition, account); other dialects ignore them.
    ``pre_exec`` is raw shell by contract, present only when the site allows it.
    ``mpi_options``, when not ``None``, asks for every task to run under
    ``mpiexec -np $SLURM_NTASKS <mpi_options...>`` (annotation ``slurm-job.vk.io/mpi-flags``).
    ``warnings`` tell the user what was accepted but not honoured exactly.
    """

    pod_uid: str
    pod_name: str
    namespace: str
    workdir: str
    runtime: Runtime
    init_tasks: tuple[Task, ...] = ()
    tasks: tuple[Task, ...] = ()
    resources: Resources = Resources()
    time_limit_seconds: int | None = None
    queue: str | None = None
    account: str | None = None
    slurm_options: tuple[SlurmOption, ...] = ()
    files: tuple[FileToWrite, ...] = ()
    empty_dirs: tuple[str, ...] = ()
    pre_exec: str | None = None
    mpi_options: tuple[str, ...] | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def all_tasks(self) -> tuple[Task, ...]:
        """Init tasks in order, then app tasks."""
        return self.init_tasks + self.tasks


@attrs.frozen(kw_only=True)
class Artifact:
    """One file a renderer produces: ``job.slurm``, ``job.sub``, ``job.sh``, ``job.json``.

    ``name`` is a bare file name; ``executable`` asks for mode 0755 when written out.
    """

    name: str
    content: str
    executable: bool = False
