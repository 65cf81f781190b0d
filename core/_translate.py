"""Translation: a pod, the objects it mounts and the site configuration → a neutral Job.

Theory of operation. Every decision about what the pod *means* is taken here, once, for all
dialects: the effective resources (Kubernetes rule, limits over requests, site flavor defaults
when the pod is silent), the accelerators through the site's resource table, the sbatch options
that survive the site policy and the pod spec (the pod spec wins over an annotation for what it
sets), the files and mounts of every volume, each container's literal environment, the image
with its prefix, and the runtime options. Renderers only choose syntax.

A pod field that cannot be honoured is an error naming its path; a field that is accepted but
not honoured exactly (ports, a memory-backed emptyDir, restartPolicy Always) becomes a warning
in :attr:`Job.warnings`, so nothing is dropped silently.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping, Sequence

import attrs

from ._annotations import PodOptions, parse_annotations
from ._env import PodFacts, resolve_env
from ._errors import AnnotationError, PodError, PolicyError, key_path
from ._expand import expand_references
from ._flags import merge_options, parse_sbatch_options, split_flags
from ._job import Accelerator, EnvVar, Job, Resources, Runtime, SlurmOption, Task
from ._model import Container, Pod
from ._objects import PodObjects
from ._resources import ContainerAmounts, container_amounts, pod_amounts
from ._site import Flavor, ResourceMapping, SiteConfig
from ._volumes import VolumeLayout, lay_out_volumes, mounts_of

__all__ = ["ensure_uid", "translate"]

_ANNOTATIONS = "metadata.annotations"
_FLAGS_PATH = key_path(_ANNOTATIONS, "slurm-job.vk.io/flags")
_PRE_EXEC_PATH = key_path(_ANNOTATIONS, "slurm-job.vk.io/pre-exec")
_FLAVOR_PATH = key_path(_ANNOTATIONS, "slurm-job.vk.io/flavor")

# Names end up in paths and file names: Kubernetes' own rules, checked again here because a
# pod may come from a file rather than the API server.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_IMAGE_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://")
# Accelerator resources that make a pod a "GPU pod" for upstream's flavor auto-pick.
_GPU_RESOURCES = frozenset({"nvidia.com/gpu", "amd.com/gpu"})
# sbatch options the pod spec owns when it sets the matching value.
_CPU_OPTIONS = frozenset({"cpus-per-task"})
_MEMORY_OPTIONS = frozenset({"mem", "mem-per-cpu", "mem-per-gpu"})
_SLURM_MEMORY = re.compile(r"(\d+)([KMGT]?)\Z", re.IGNORECASE)
# sbatch's memory units in KiB (binary, default M): integers, so the rounding is exact.
_SLURM_MEMORY_KIB = {"k": 1, "": 1024, "m": 1024, "g": 1024**2, "t": 1024**3}


def translate(pod: Pod, objects: PodObjects, site: SiteConfig) -> Job:
    """Turn ``pod`` into the neutral :class:`Job` it becomes at ``site``.

    ``objects`` holds the ConfigMaps, Secrets and resolved projected volumes the pod refers
    to. Raises an :class:`~._errors.InputError` subclass naming the field path for anything
    that cannot be honoured (without a source: the caller adds the file name).
    """
    meta = pod.metadata
    namespace = meta.namespace or "default"
    _check_identity(pod, namespace)
    options = parse_annotations(meta.annotations)
    warnings: list[str] = []

    if not pod.spec.containers:
        raise PodError("a pod needs at least one container", path="spec.containers")
    _check_container_names(pod)

    init_amounts = [
        container_amounts(c, path=f"spec.initContainers[{i}]")
        for i, c in enumerate(pod.spec.init_containers)
    ]
    app_amounts = [
        container_amounts(c, path=f"spec.containers[{i}]")
        for i, c in enumerate(pod.spec.containers)
    ]
    amounts = pod_amounts(init_amounts, app_amounts)
    for name in amounts.ignored:
        warnings.append(f"resource {name!r} is not enforced by the batch scheduler")

    accelerators = _accelerators(amounts.extended, site, pod)
    flavor = _flavor(options, site, accelerators)
    slurm_options = _slurm_options(options, flavor, site)
    cpus, memory_mib, slurm_options = _pod_resources(
        amounts.cpu_millis,
        amounts.memory_bytes,
        flavor=flavor,
        slurm_options=slurm_options,
        accelerators=accelerators,
        warnings=warnings,
    )
    time_limit = pod.spec.active_deadline_seconds
    if time_limit is not None:
        if time_limit <= 0:
            raise PodError("must be positive", path="spec.activeDeadlineSeconds")
        if any(o.name == "time" for o in slurm_options):
            warnings.append(f"{_FLAGS_PATH}: --time is replaced by spec.activeDeadlineSeconds")
            slurm_options = tuple(o for o in slurm_options if o.name != "time")
    queue = _take(slurm_options, "partition") or site.partition
    account = _take(slurm_options, "account") or site.account
    slurm_options = tuple(o for o in slurm_options if o.name not in {"partition", "account"})

    facts = PodFacts(
        pod=pod,
        namespace=namespace,
        pod_ip=options.pod_ip,
        amounts={
            c.name: (a.cpu_millis, a.memory_bytes)
            for c, a in zip(
                pod.spec.init_containers + pod.spec.containers,
                init_amounts + app_amounts,
                strict=True,
            )
        },
    )
    layout = lay_out_volumes(pod, objects, facts)
    warnings.extend(layout.warnings)

    runtime = _runtime(options, site)
    image_prefix = options.image_root if options.image_root is not None else site.image_prefix
    context = _TaskContext(
        pod=pod,
        objects=objects,
        facts=facts,
        layout=layout,
        runtime=runtime,
        image_prefix=image_prefix,
        warnings=warnings,
    )
    init_tasks = tuple(
        _task(c, a, init=True, path=f"spec.initContainers[{i}]", context=context)
        for i, (c, a) in enumerate(zip(pod.spec.init_containers, init_amounts, strict=True))
    )
    tasks = tuple(
        _task(c, a, init=False, path=f"spec.containers[{i}]", context=context)
        for i, (c, a) in enumerate(zip(pod.spec.containers, app_amounts, strict=True))
    )

    if options.pre_exec is not None and not site.allow_pre_exec:
        raise PolicyError(
            "raw pre-exec shell is switched off by the site (AllowPreExec)", path=_PRE_EXEC_PATH
        )
    if pod.spec.restart_policy in {"Always", "OnFailure"}:
        warnings.append(
            f"spec.restartPolicy: {pod.spec.restart_policy} is not honoured; the job runs once"
        )

    security = pod.spec.security_context
    run_as_user = security.run_as_user if security else None
    if run_as_user is None:
        run_as_user = flavor.uid if flavor and flavor.uid is not None else site.default_uid
    return Job(
        pod_uid=meta.uid,
        pod_name=meta.name,
        namespace=namespace,
        workdir=f"{site.data_root_folder.rstrip('/')}/{namespace}-{meta.uid}",
        runtime=runtime,
        init_tasks=init_tasks,
        tasks=tasks,
        resources=Resources(cpus=cpus, memory_mib=memory_mib, accelerators=accelerators),
        time_limit_seconds=time_limit,
        queue=queue,
        account=account,
        slurm_options=slurm_options,
        files=layout.files,
        empty_dirs=layout.empty_dirs,
        pre_exec=options.pre_exec,
        mpi_options=options.mpi_flags,
        run_as_user=run_as_user,
        run_as_group=security.run_as_group if security else None,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _check_identity(pod: Pod, namespace: str) -> None:
    meta = pod.metadata
    if not meta.name:
        raise PodError("required field missing", path="metadata.name")
    if not meta.uid:
        raise PodError(
            "required field missing (the job is named after the pod UID)", path="metadata.uid"
        )
    if not _UID.match(meta.uid) or len(meta.uid) > 128:
        raise PodError(f"{meta.uid!r} is not a valid UID", path="metadata.uid")
    if not _DNS_LABEL.match(namespace) or len(namespace) > 63:
        raise PodError(f"{namespace!r} is not a valid namespace name", path="metadata.namespace")


@functools.lru_cache(maxsize=1024)
def _is_dns_label(name: str) -> bool:
    # Container names repeat across the pods of a workload: check each spelling once.
    return len(name) <= 63 and _DNS_LABEL.match(name) is not None


def _check_container_names(pod: Pod) -> None:
    seen: set[str] = set()
    for kind, containers in (
        ("initContainers", pod.spec.init_containers),
        ("containers", pod.spec.containers),
    ):
        for index, container in enumerate(containers):
            path = f"spec.{kind}[{index}].name"
            if not _is_dns_label(container.name):
                raise PodError(
                    f"{container.name!r} is not a valid container name "
                    "(lowercase letters, digits and '-')",
                    path=path,
                )
            if container.name in seen:
                raise PodError(f"duplicate container name {container.name!r}", path=path)
            seen.add(container.name)


def _accelerators(
    extended: Mapping[str, int], site: SiteConfig, pod: Pod
) -> tuple[Accelerator, ...]:
    result = []
    for resource, count in sorted(extended.items()):
        mapping = site.resource_table.get(resource)
        if mapping is None:
            raise PodError(
                f"extended resource {resource!r} has no entry in the site's ResourceTable",
                path=_resource_path(pod, resource),
            )
        result.append(_accelerator(mapping, count))
    return tuple(result)


# Pods ask for the same few counts of the same few resources: expand each pairing once.
@functools.lru_cache(maxsize=256)
def _accelerator(mapping: ResourceMapping, count: int) -> Accelerator:
    return mapping.accelerator(count)


def _resource_path(pod: Pod, resource: str) -> str:
    """The first place in the pod spec that asks for ``resource``."""
    for kind, containers in (
        ("initContainers", pod.spec.init_containers),
        ("containers", pod.spec.containers),
    ):
        for index, container in enumerate(containers):
            for where in ("limits", "requests"):
                if resource in getattr(container.resources, where):
                    return key_path(f"spec.{kind}[{index}].resources.{where}", resource)
    return "spec"


def _flavor(
    options: PodOptions, site: SiteConfig, accelerators: Sequence[Accelerator]
) -> Flavor | None:
    """The site flavor: named by annotation, else a GPU flavor for a GPU pod, else default."""
    if options.flavor is not None:
        flavor = site.flavors.get(options.flavor)
        if flavor is None:
            known = ", ".join(sorted(site.flavors)) or "none"
            raise AnnotationError(
                f"unknown flavor {options.flavor!r} (site flavors: {known})", path=_FLAVOR_PATH
            )
        return flavor
    if any(a.resource in _GPU_RESOURCES for a in accelerators):
        # Upstream picks a flavor that asks for GPUs itself; the first by name, to be stable.
        for name in sorted(site.flavors):
            if _asks_for_gpus(site.flavors[name]):
                return site.flavors[name]
    if site.default_flavor is not None:
        return site.flavors.get(site.default_flavor)
    return None


def _asks_for_gpus(flavor: Flavor) -> bool:
    options = _flavor_options(flavor)
    return any(
        o.name in {"gpus", "gpus-per-node", "gpus-per-task"}
        or (o.name == "gres" and (o.value or "").startswith("gpu"))
        for o in options
    )


@functools.lru_cache(maxsize=256)
def _flavor_options(flavor: Flavor) -> tuple[SlurmOption, ...]:
    """The sbatch options of a site flavor (parsed once per flavor: sites have a few)."""
    where = f"Flavors.{flavor.name}.SlurmFlags"
    tokens: list[str] = []
    for flag in flavor.slurm_flags:
        tokens.extend(split_flags(flag, path=where))
    return parse_sbatch_options(tokens, path=where)


def _slurm_options(
    options: PodOptions, flavor: Flavor | None, site: SiteConfig
) -> tuple[SlurmOption, ...]:
    """Flavor flags then annotation flags, policy-checked, one per option name."""
    flavor_options = _flavor_options(flavor) if flavor is not None else ()
    for option in options.slurm_flags:
        site.flag_policy.check(option, path=_FLAGS_PATH)
    return merge_options(flavor_options, options.slurm_flags)


def _take(options: Sequence[SlurmOption], name: str) -> str | None:
    for option in options:
        if option.name == name:
            return option.value
    return None


def _pod_resources(
    cpu_millis: int | None,
    memory_bytes: int | None,
    *,
    flavor: Flavor | None,
    slurm_options: tuple[SlurmOption, ...],
    accelerators: Sequence[Accelerator],
    warnings: list[str],
) -> tuple[int, int | None, tuple[SlurmOption, ...]]:
    """CPUs and MiB for the job: the pod spec, else the flags, else the flavor defaults.

    Options the pod spec overrides are removed from ``slurm_options`` with a warning.
    """

    def drop(names: frozenset[str], owner: str) -> tuple[SlurmOption, ...]:
        for option in slurm_options:
            if option.name in names:
                warnings.append(f"--{option.name} from the flags is replaced by {owner}")
        return tuple(o for o in slurm_options if o.name not in names)

    if cpu_millis is not None:
        cpus = max(1, -(-cpu_millis // 1000))
        slurm_options = drop(_CPU_OPTIONS, "the pod's CPU request")
    else:
        flag = _take(slurm_options, "cpus-per-task")
        if flag is not None:
            if not flag.isdigit() or int(flag) < 1:
                raise AnnotationError(
                    f"--cpus-per-task={flag} is not a positive integer", path=_FLAGS_PATH
                )
            cpus = int(flag)
        elif flavor is not None and flavor.cpu_default is not None:
            cpus = flavor.cpu_default
        else:
            cpus = 1
        slurm_options = tuple(o for o in slurm_options if o.name not in _CPU_OPTIONS)
    memory_mib: int | None
    if memory_bytes is not None:
        memory_mib = max(1, -(-memory_bytes // (1024 * 1024)))
        slurm_options = drop(_MEMORY_OPTIONS, "the pod's memory request")
    else:
        flag = _take(slurm_options, "mem")
        if flag is not None:
            memory_mib = _slurm_memory_mib(flag)
            slurm_options = tuple(o for o in slurm_options if o.name != "mem")
        elif any(o.name in _MEMORY_OPTIONS for o in slurm_options):
            memory_mib = None  # --mem-per-cpu and friends stay as the user wrote them
        elif flavor is not None and flavor.memory_default_mib is not None:
            memory_mib = flavor.memory_default_mib
        else:
            memory_mib = None
    owned = {o for a in accelerators for o in a.slurm}
    if any(o.startswith("--gres") for o in owned):
        slurm_options = drop(frozenset({"gres"}), "the pod's extended resources")
    if any(o.startswith("--gpus") for o in owned):
        slurm_options = drop(frozenset({"gpus"}), "the pod's extended resources")
    return cpus, memory_mib, slurm_options


def _slurm_memory_mib(value: str) -> int:
    """sbatch's ``--mem`` syntax (default unit M, binary K/M/G/T) in MiB, rounded up."""
    match = _SLURM_MEMORY.match(value)
    if match is None:
        raise AnnotationError(f"--mem={value} is not a Slurm memory size", path=_FLAGS_PATH)
    kib = int(match.group(1)) * _SLURM_MEMORY_KIB[match.group(2).lower()]
    return max(1, -(-kib // 1024))


def _runtime(options: PodOptions, site: SiteConfig) -> Runtime:
    kind = site.container_runtime
    runtime_options: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    if kind in {"apptainer", "singularity"}:
        runtime_options = tuple(site.singularity_default_options) + options.singularity_options
        mounts = options.singularity_mounts
    elif kind == "enroot":
        runtime_options = tuple(site.enroot_default_options) + options.enroot_options
        mounts = options.enroot_mounts
    return Runtime(
        kind=kind, binary=site.runtime_binary, options=runtime_options, extra_mounts=mounts
    )


@attrs.frozen(kw_only=True)
class _TaskContext:
    """What every container of one pod is translated against."""

    pod: Pod
    objects: PodObjects
    facts: PodFacts
    layout: VolumeLayout
    runtime: Runtime
    image_prefix: str
    warnings: list[str]


def _task(
    container: Container,
    amounts: ContainerAmounts,
    *,
    init: bool,
    path: str,
    context: _TaskContext,
) -> Task:
    pod, runtime, warnings = context.pod, context.runtime, context.warnings
    if init and container.restart_policy == "Always":
        raise PodError(
            "sidecar init containers (restartPolicy: Always) are not supported",
            path=f"{path}.restartPolicy",
        )
    if not container.image and runtime.kind != "bwrap":
        raise PodError("required field missing", path=f"{path}.image")
    env = resolve_env(container, context.objects, context.facts, path=path)
    command = tuple(expand_references(word, env) for word in container.command)
    args = tuple(expand_references(word, env) for word in container.args)
    if runtime.kind == "bwrap" and not command:
        raise PodError(
            "the bwrap runtime runs the host userland and has no image entrypoint: set command",
            path=f"{path}.command",
        )
    if container.working_dir and not container.working_dir.startswith("/"):
        raise PodError(
            f"{container.working_dir!r} must be an absolute path", path=f"{path}.workingDir"
        )
    security = container.security_context
    if security is not None and security.privileged:
        raise PodError(
            "privileged containers cannot be offloaded", path=f"{path}.securityContext.privileged"
        )
    if container.ports:
        warnings.append(f"{path}.ports: batch jobs expose no ports")
    pod_security = pod.spec.security_context
    run_as_user = (
        security.run_as_user
        if security and security.run_as_user is not None
        else (pod_security.run_as_user if pod_security else None)
    )
    run_as_group = (
        security.run_as_group
        if security and security.run_as_group is not None
        else (pod_security.run_as_group if pod_security else None)
    )
    _refuse_nul(command, args, env, path=path)
    return Task(
        name=container.name,
        init=init,
        image=_image(container.image, context.image_prefix),
        command=command or None,
        args=args,
        env=tuple(EnvVar(name=k, value=v) for k, v in env.items()),
        working_dir=container.working_dir or None,
        mounts=mounts_of(container.volume_mounts, context.layout, field=path),
        cpu_millis=amounts.cpu_millis,
        memory_mib=(
            -(-amounts.memory_bytes // (1024 * 1024)) if amounts.memory_bytes is not None else None
        ),
        run_as_user=run_as_user,
        run_as_group=run_as_group,
        read_only_root=bool(security and security.read_only_root_filesystem),
    )


def _refuse_nul(
    command: Sequence[str], args: Sequence[str], env: Mapping[str, str], *, path: str
) -> None:
    """No process can receive a NUL character: refuse it, naming the word that holds it."""
    if "\x00" not in "".join((*command, *args, *env, *env.values())):
        return  # one scan of everything: the common case costs next to nothing
    for field, words in (("command", command), ("args", args)):
        for index, word in enumerate(words):
            if "\x00" in word:
                raise PodError("must not contain a NUL character", path=f"{path}.{field}[{index}]")
    raise PodError("an environment value must not contain a NUL character", path=f"{path}.env")


def _image(image: str, prefix: str) -> str:
    """The image with the site/annotation prefix, unless it already names a scheme or file."""
    if not image or not prefix or _IMAGE_SCHEME.match(image) or image.startswith("/"):
        return image
    return prefix + image


def ensure_uid(pod: Pod) -> tuple[Pod, bool]:
    """``pod`` with a UID: its own, or one derived from its namespace and name.

    Pods written by hand have no UID (the API server assigns it), but the job is named after
    it. The derived UID is a UUID 5, so the same pod renders the same way every time.
    Returns the pod and whether the UID was derived.
    """
    if pod.metadata.uid:
        return pod, False
    namespace = pod.metadata.namespace or "default"
    uid = str(uuid.uuid5(_UID_NAMESPACE, f"{namespace}/{pod.metadata.name}"))
    return attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, uid=uid)), True


# A fixed namespace for derived UIDs (itself uuid5(NAMESPACE_DNS, "pyinterlink")).
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "pyinterlink")
