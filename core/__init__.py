"""The pure core of pyinterlink: values in, values out, no I/O.

What a pod means and what it becomes, for every backend, without touching a socket, a
process, a file or the clock. The typical use::

    from pyinterlink import core

    bundle = core.pod_bundle_from_documents(documents, source="pod.yaml")
    site = core.parse_site_config(site_yaml_data, source="site.yaml")
    job = core.translate(bundle.pod, core.PodObjects.of(bundle.config_maps, bundle.secrets), site)
    for artifact in core.render(job, "slurm", site):
        print(artifact.name, artifact.content)

Status flows the other way: a scheduler's answer parses (``core.slurm.parse_squeue``,
``core.htcondor.parse_condor_ads``, ``core.unicore.parse_unicore_job``) into a
:class:`RemoteState`, and :func:`pod_status` makes the Kubernetes :class:`PodStatus` of it.

Public modules group what belongs to one dialect or role: :mod:`.slurm`, :mod:`.htcondor`,
:mod:`.unicore`, :mod:`.local` (renderers, parsers, state tables), :mod:`.wire` (the interLink
messages) and :mod:`.machine` (the per-pod state machine). Everything else not listed in
``__all__`` is private.
"""

from . import htcondor, local, machine, slurm, unicore, wire
from ._annotations import PodOptions, parse_annotations
from ._errors import (
    AnnotationError,
    ConfigError,
    InputError,
    InterlinkError,
    PodError,
    PolicyError,
    QuantityError,
    SchedulerOutputError,
)
from ._flags import FlagPolicy, merge_options, parse_sbatch_options, split_flags
from ._htcondor import HTCondorOptions, render_htcondor
from ._job import (
    Accelerator,
    Artifact,
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
from ._kstatus import (
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    PodCondition,
    PodPhase,
    PodStatus,
)
from ._kube import (
    PodBundle,
    config_map_from_json,
    config_map_to_json,
    pod_bundle_from_documents,
    pod_from_json,
    pod_to_json,
    secret_from_json,
    secret_to_json,
)
from ._local import LocalPlan, local_plan, render_local
from ._model import ConfigMap, Container, ObjectMeta, Pod, PodSpec, Secret, Volume
from ._objects import PodObjects
from ._publish import exit_code_of, status_for
from ._quantity import Quantity, parse_quantity
from ._remote import REMOTE_KINDS, ContainerResult, RemoteKind, RemoteState
from ._render import BACKENDS, default_site, render
from ._site import (
    DEFAULT_SITE,
    Flavor,
    ResourceMapping,
    SiteConfig,
    SSHSettings,
    parse_site_config,
)
from ._slurm import render_slurm
from ._status import Observation, failed_create_status, kubectl_status, pod_status
from ._translate import ensure_uid, translate
from ._unicore import UnicoreOptions, render_unicore, unicore_job_description

__all__ = [
    "BACKENDS",
    "DEFAULT_SITE",
    "REMOTE_KINDS",
    "Accelerator",
    "AnnotationError",
    "Artifact",
    "ConfigError",
    "ConfigMap",
    "Container",
    "ContainerResult",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "EnvVar",
    "FileToWrite",
    "FlagPolicy",
    "Flavor",
    "HTCondorOptions",
    "InputError",
    "InterlinkError",
    "Job",
    "LocalPlan",
    "Mount",
    "ObjectMeta",
    "Observation",
    "Pod",
    "PodBundle",
    "PodCondition",
    "PodError",
    "PodObjects",
    "PodOptions",
    "PodPhase",
    "PodSpec",
    "PodStatus",
    "PolicyError",
    "Quantity",
    "QuantityError",
    "RemoteKind",
    "RemoteState",
    "ResourceMapping",
    "Resources",
    "Runtime",
    "RuntimeKind",
    "SSHSettings",
    "SchedulerOutputError",
    "Secret",
    "SiteConfig",
    "SlurmOption",
    "Task",
    "UnicoreOptions",
    "Volume",
    "config_map_from_json",
    "config_map_to_json",
    "default_site",
    "ensure_uid",
    "exit_code_of",
    "failed_create_status",
    "htcondor",
    "kubectl_status",
    "local",
    "local_plan",
    "machine",
    "merge_options",
    "parse_annotations",
    "parse_quantity",
    "parse_sbatch_options",
    "parse_site_config",
    "pod_bundle_from_documents",
    "pod_from_json",
    "pod_status",
    "pod_to_json",
    "render",
    "render_htcondor",
    "render_local",
    "render_slurm",
    "render_unicore",
    "secret_from_json",
    "secret_to_json",
    "slurm",
    "split_flags",
    "status_for",
    "translate",
    "unicore",
    "unicore_job_description",
    "wire",
]
