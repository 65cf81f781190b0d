"""The pure core of pyinterlink: values in, values out, no I/O.

What a pod means and what it becomes, for every backend, without touching a socket, a
process, a file or the clock. The typical use::

    from pyinterlink import core

    bundle = core.pod_bundle_from_documents(documents, source="pod.yaml")
    site = core.parse_site_config(site_yaml_data, source="site.yaml")
    job = core.translate(bundle.pod, core.PodObjects.of(bundle.config_maps, bundle.secrets), site)
    for artifact in core.render(job, "slurm", site):
        print(artifact.name, artifact.content)

Everything not listed in ``__all__`` is private.
"""

from ._annotations import PodOptions, parse_annotations
from ._errors import (
    AnnotationError,
    ConfigError,
    InputError,
    InterlinkError,
    PodError,
    PolicyError,
    QuantityError,
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
from ._quantity import Quantity, parse_quantity
from ._render import BACKENDS, default_site, render
from ._site import DEFAULT_SITE, Flavor, ResourceMapping, SiteConfig, parse_site_config
from ._slurm import render_slurm
from ._translate import ensure_uid, translate
from ._unicore import UnicoreOptions, render_unicore, unicore_job_description

__all__ = [
    "BACKENDS",
    "DEFAULT_SITE",
    "Accelerator",
    "AnnotationError",
    "Artifact",
    "ConfigError",
    "ConfigMap",
    "Container",
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
    "Pod",
    "PodBundle",
    "PodError",
    "PodObjects",
    "PodOptions",
    "PodSpec",
    "PolicyError",
    "Quantity",
    "QuantityError",
    "ResourceMapping",
    "Resources",
    "Runtime",
    "RuntimeKind",
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
    "local_plan",
    "merge_options",
    "parse_annotations",
    "parse_quantity",
    "parse_sbatch_options",
    "parse_site_config",
    "pod_bundle_from_documents",
    "pod_from_json",
    "pod_to_json",
    "render",
    "render_htcondor",
    "render_local",
    "render_slurm",
    "render_unicore",
    "secret_from_json",
    "secret_to_json",
    "split_flags",
    "translate",
    "unicore_job_description",
]
