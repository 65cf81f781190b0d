"""Site configuration: what one site (a Slurm, HTCondor or UNICORE installation) allows and
defaults to, read from the site's YAML file.

Theory of operation. The file is upstream interLink's ``SlurmConfig.yaml``, extended: every key
the upstream Slurm plugin reads is accepted with upstream's type and default, so an existing
file works unchanged, and our own keys sit beside them (``ResourceTable``, ``FlagPolicy``,
``AllowPreExec``, ``Partition``, ``Account``, ``HTCondor``, ``Unicore`` and the extra container
runtimes). The CLI reads the YAML; this module receives the decoded object.

Reading happens in two steps. First a dedicated, strict cattrs converter structures the data
into *document* classes that mirror the file (every key optional, ``null`` meaning "not
given", as in upstream's Go decoder): unknown keys and wrong types are collected, with their
paths in the file's own key names, into one :class:`ConfigError`. Then the document is checked
for meaning (a known runtime, a parseable memory size, an existing default flavor) and turned
into the frozen :class:`SiteConfig`, with defaults filled in and the built-in resource table
merged.

The reference of every key is ``docs/reference/site-config.md``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_mapping,
    list_structure_factory,
    mapping_structure_factory,
)
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, override

from ._errors import ConfigError, join_path, key_path
from ._flags import DEFAULT_DENY, FlagPolicy
from ._htcondor import HTCondorOptions
from ._job import Accelerator, RuntimeKind
from ._unicore import UnicoreOptions

__all__ = [
    "DEFAULT_RESOURCE_TABLE",
    "DEFAULT_SITE",
    "RUNTIME_KINDS",
    "Flavor",
    "ResourceMapping",
    "SSHSettings",
    "SiteConfig",
    "Taint",
    "TaintEffect",
    "parse_site_config",
]

RUNTIME_KINDS: Final[tuple[RuntimeKind, ...]] = (
    "singularity",
    "apptainer",
    "enroot",
    "podman",
    "bwrap",
)
"""The values ``ContainerRuntime`` accepts: upstream's two, then ours."""

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
_TAINT_EFFECTS: Final[tuple[TaintEffect, ...]] = get_args(TaintEffect)

# The placeholder a resource table entry uses for the requested count.
_COUNT: Final = "{n}"


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    # A read-only copy: a frozen value must not share the caller's dict.
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Flavor:
    """A named set of job defaults (upstream ``Flavors``), picked by the
    ``slurm-job.vk.io/flavor`` annotation, by ``DefaultFlavor``, or automatically for GPU pods.

    ``cpu_default`` and ``memory_default_mib`` apply when the pod does not say; ``None`` means
    the flavor does not set them either (upstream's ``0`` and ``""``). ``uid`` is the user the
    job runs as. ``slurm_flags`` are whole sbatch options (``--partition=gpu``) in order.
    """

    name: str
    description: str = ""
    cpu_default: int | None = None
    memory_default_mib: int | None = None
    uid: int | None = None
    slurm_flags: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Taint:
    """A taint the virtual node advertises in its ping answer (``key=value:effect``)."""

    key: str
    value: str = ""
    effect: TaintEffect = "NoSchedule"


@attrs.frozen(kw_only=True)
class ResourceMapping:
    """How each scheduler dialect asks for a Kubernetes extended resource.

    Every string may hold ``{n}``, replaced by the requested count: ``slurm`` holds whole sbatch
    options (``--gres=gpu:{n}``), ``htcondor`` submit commands as ``(name, value)``
    (``("request_GPUs", "{n}")``) and ``unicore`` job ``Resources`` entries
    (``("GPUsPerNode", "{n}")``). An empty dialect means the site has no way to ask for the
    resource there.
    """

    resource: str
    slurm: tuple[str, ...] = ()
    htcondor: tuple[tuple[str, str], ...] = ()
    unicore: tuple[tuple[str, str], ...] = ()

    def expand(
        self, n: int
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        """The three dialects' requests for ``n`` of the resource, ``{n}`` substituted.

        Only ``{n}`` is replaced; other braces stay as they are (a ClassAd list is legal).
        """
        count = str(n)
        return (
            tuple(option.replace(_COUNT, count) for option in self.slurm),
            tuple((key, value.replace(_COUNT, count)) for key, value in self.htcondor),
            tuple((key, value.replace(_COUNT, count)) for key, value in self.unicore),
        )

    def accelerator(self, n: int) -> Accelerator:
        """The neutral job's :class:`~._job.Accelerator` for ``n`` of the resource."""
        slurm, htcondor, unicore = self.expand(n)
        return Accelerator(
            resource=self.resource, count=n, slurm=slurm, htcondor=htcondor, unicore=unicore
        )


def _gpu_mapping(resource: str) -> ResourceMapping:
    # Slurm: GRES "gpu" (slurm.schedmd.com/gres.html); HTCondor: request_GPUs (condor_submit);
    # UNICORE: the GPUsPerNode resource (UNICORE REST API, job description, "Resources").
    return ResourceMapping(
        resource=resource,
        slurm=("--gres=gpu:{n}",),
        htcondor=(("request_GPUs", "{n}"),),
        unicore=(("GPUsPerNode", "{n}"),),
    )


DEFAULT_RESOURCE_TABLE: Final[Mapping[str, ResourceMapping]] = MappingProxyType(
    {
        "nvidia.com/gpu": _gpu_mapping("nvidia.com/gpu"),
        "amd.com/gpu": _gpu_mapping("amd.com/gpu"),
        # No standard name exists for FPGAs: a GRES called "fpga" in Slurm and a custom machine
        # resource called FPGA in HTCondor (MACHINE_RESOURCE_FPGA, asked with request_FPGA) are
        # the usual choices; UNICORE has no FPGA resource, so a site names its own.
        "xilinx.com/fpga": ResourceMapping(
            resource="xilinx.com/fpga",
            slurm=("--gres=fpga:{n}",),
            htcondor=(("request_FPGA", "{n}"),),
        ),
    }
)
"""The built-in resource table; a site's ``ResourceTable`` entry replaces one resource whole."""


@attrs.frozen(kw_only=True)
class SSHSettings:
    """How to reach the site's login node over SSH (``SSH:`` section, ours).

    The user's OpenSSH client does the work, so ``~/.ssh/config`` (jump hosts, certificates,
    agents) applies; these keys only add to it. Host keys are always verified:
    ``StrictHostKeyChecking`` is ``yes`` unless the site writes ``accept-new``.
    """

    host: str
    port: int | None = None
    user: str | None = None
    identity_file: str | None = None
    known_hosts: str | None = None
    strict_host_key_checking: Literal["yes", "accept-new"] = "yes"
    config_file: str | None = None
    options: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class SiteConfig:
    """Everything a site configures, defaults filled in. See ``docs/reference/site-config.md``.

    Upstream keys keep upstream's meaning and default, with two exceptions documented there:
    ``ExportPodData`` defaults to true (upstream's Go zero value is false, but every upstream
    example sets it and pods without their volumes cannot run), and the paths of Slurm commands
    that upstream leaves empty default to the bare command name (found on ``PATH``).
    ``warnings`` lists keys that were accepted for compatibility but have no effect here.
    """

    # Upstream interLink Slurm plugin keys.
    vk_config_path: str = ""
    sidecar_port: int = 4000
    socket: str = ""
    sbatch_path: str = "sbatch"
    scancel_path: str = "scancel"
    squeue_path: str = "squeue"
    sinfo_path: str = "/usr/bin/sinfo"
    command_prefix: str = ""
    image_prefix: str = ""
    data_root_folder: str = ".local/interlink/jobs/"
    export_pod_data: bool = True
    namespace: str = ""
    tsocks: bool = False
    tsocks_path: str = ""
    tsocks_login_node: str = ""
    bash_path: str = "/bin/bash"
    verbose_logging: bool = False
    errors_only_logging: bool = False
    singularity_default_options: tuple[str, ...] = ("--nv", "--no-eval", "--containall")
    singularity_prefix: str = ""
    singularity_path: str = "singularity"
    enable_probes: bool = False
    enroot_default_options: tuple[str, ...] = ("--rw",)
    enroot_prefix: str = ""
    enroot_path: str = "enroot"
    container_runtime: RuntimeKind = "singularity"
    flavors: Mapping[str, Flavor] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    default_flavor: str | None = None
    default_uid: int | None = None
    taints: tuple[Taint, ...] = ()
    # Ours.
    apptainer_path: str = "apptainer"
    podman_path: str = "podman"
    bwrap_path: str = "bwrap"
    resource_table: Mapping[str, ResourceMapping] = attrs.field(
        default=DEFAULT_RESOURCE_TABLE, converter=_frozen_mapping, hash=False
    )
    flag_policy: FlagPolicy = attrs.field(factory=FlagPolicy)
    allow_pre_exec: bool = True
    partition: str | None = None
    account: str | None = None
    htcondor: HTCondorOptions = attrs.field(factory=HTCondorOptions)
    unicore: UnicoreOptions = attrs.field(factory=UnicoreOptions)
    ssh: SSHSettings | None = None
    """Where the scheduler's commands run: over SSH to this login node, or here (``None``)."""
    keep_work_dir: Literal["always", "on-failure", "never"] = "on-failure"
    """Whether a deleted pod's working directory stays: by default only a failed pod's, for
    debugging."""
    warnings: tuple[str, ...] = ()

    @property
    def runtime_binary(self) -> str:
        """The command that runs the selected ``container_runtime``."""
        return {
            "singularity": self.singularity_path,
            "apptainer": self.apptainer_path,
            "enroot": self.enroot_path,
            "podman": self.podman_path,
            "bwrap": self.bwrap_path,
        }[self.container_runtime]

    @property
    def runtime_default_options(self) -> tuple[str, ...]:
        """The site's options for every container of the selected runtime.

        Apptainer is Singularity's successor with the same options, so it shares
        ``SingularityDefaultOptions``; podman and bwrap have no site-wide options.
        """
        if self.container_runtime in ("singularity", "apptainer"):
            return self.singularity_default_options
        if self.container_runtime == "enroot":
            return self.enroot_default_options
        return ()


DEFAULT_SITE: Final = SiteConfig()
"""The configuration of a site without a file."""


# ---------------------------------------------------------------------------------------------
# Documents: the file as written. Every field is optional; the YAML key of a field is its
# PascalCase form (see _pascal).
# Values whose accepted types cannot be told by a type hint (a port as a number or a string, a
# memory size) are ``Any`` here and checked in the second step.


@attrs.frozen(kw_only=True)
class _FlavorDoc:
    name: str | None = None
    description: str | None = None
    cpu_default: int | None = None
    memory_default: Any = None
    uid: int | None = None
    slurm_flags: list[str] | None = None


@attrs.frozen(kw_only=True)
class _TaintDoc:
    key: str | None = None
    value: str | None = None
    effect: str | None = None


@attrs.frozen(kw_only=True)
class _ResourceDoc:
    slurm: list[str] | None = None
    htcondor: dict[str, Any] | None = None
    unicore: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class _FlagPolicyDoc:
    allow: list[str] | None = None
    deny: list[str] | None = None


@attrs.frozen(kw_only=True)
class _SiteDoc:
    vk_config_path: str | None = None
    sidecar_port: Any = None
    socket: str | None = None
    sbatch_path: str | None = None
    scancel_path: str | None = None
    squeue_path: str | None = None
    sinfo_path: str | None = None
    command_prefix: str | None = None
    image_prefix: str | None = None
    data_root_folder: str | None = None
    export_pod_data: bool | None = None
    namespace: str | None = None
    tsocks: bool | None = None
    tsocks_path: str | None = None
    tsocks_login_node: str | None = None
    bash_path: str | None = None
    verbose_logging: bool | None = None
    errors_only_logging: bool | None = None
    singularity_default_options: list[str] | None = None
    singularity_prefix: str | None = None
    singularity_path: str | None = None
    enable_probes: bool | None = None
    enroot_default_options: list[str] | None = None
    enroot_prefix: str | None = None
    enroot_path: str | None = None
    container_runtime: str | None = None
    flavors: dict[str, _FlavorDoc] | None = None
    default_flavor: str | None = None
    default_uid: int | None = None
    taints: list[_TaintDoc] | None = None
    apptainer_path: str | None = None
    podman_path: str | None = None
    bwrap_path: str | None = None
    resource_table: dict[str, _ResourceDoc] | None = None
    flag_policy: _FlagPolicyDoc | None = None
    allow_pre_exec: bool | None = None
    partition: str | None = None
    account: str | None = None
    htcondor: HTCondorOptions | None = None
    unicore: UnicoreOptions | None = None
    ssh: SSHSettings | None = None
    keep_work_dir: Literal["always", "on-failure", "never"] | None = None


# ---------------------------------------------------------------------------------------------
# The strict converter.


class _MismatchError(TypeError):
    """A value of the wrong kind; the message is the reason shown to the user."""


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


def _show(text: str) -> str:
    if len(text) > 60:
        return json.dumps(text[:60], ensure_ascii=False)[:-1] + '…"'
    return json.dumps(text, ensure_ascii=False)


def _strict(expected_type: type, expected: str) -> Callable[[Any, Any], Any]:
    # cattrs' own hooks convert (str(4000), bool("false") is True); a config file must not.
    def hook(value: Any, _: Any) -> Any:
        if type(value) is not expected_type:
            raise _MismatchError(f"expected {expected}, got {_kind(value)}")
        return value

    return hook


def _pascal(name: str) -> str:
    """The YAML key of a document field: ``sbatch_path`` -> ``SbatchPath``,
    ``vk_config_path`` -> ``VKConfigPath``, ``qos`` -> ``QoS``."""
    return "".join(_ACRONYMS.get(part) or part.capitalize() for part in name.split("_"))


# Words spelled otherwise than capitalised: upstream's keys (VKConfigPath, CPUDefault, UID,
# DefaultUID), HTCondor's own name, UNICORE's "QoS".
_ACRONYMS: Final = {
    "vk": "VK",
    "cpu": "CPU",
    "uid": "UID",
    "htcondor": "HTCondor",
    "qos": "QoS",
    "ssh": "SSH",
}

_T = TypeVar("_T")


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(bool, _strict(bool, "true or false"))
    converter.register_structure_hook(float, _strict(float, "a number"))

    def literal_factory(literal: Any) -> Callable[[Any, Any], Any]:
        choices = get_args(literal)
        shown = ", ".join(str(choice) for choice in choices)

        def hook(value: Any, _: Any) -> Any:
            if isinstance(value, str) and value in choices:
                return value
            raise _MismatchError(f"expected one of {shown}, got {_kind(value)}")

        return hook

    def guarded(
        make: Callable[[Any, cattrs.Converter], Callable[[Any, Any], Any]],
        accepts: tuple[type, ...],
        expected: str,
    ) -> Callable[[Any], Callable[[Any, Any], Any]]:
        # cattrs would happily read a string as a list of characters, or a list as nothing.
        def factory(type_: Any) -> Callable[[Any, Any], Any]:
            inner = make(type_, converter)

            def hook(value: Any, _: Any) -> Any:
                if not isinstance(value, accepts) or isinstance(value, str):
                    raise _MismatchError(f"expected {expected}, got {_kind(value)}")
                return inner(value, type_)

            return hook

        return factory

    converter.register_structure_hook_factory(_origin(Literal), literal_factory)
    converter.register_structure_hook_factory(
        _origin(list), guarded(list_structure_factory, (list, tuple), "a list")
    )
    converter.register_structure_hook_factory(
        _origin(tuple), guarded(homogenous_tuple_structure_factory, (list, tuple), "a list")
    )
    converter.register_structure_hook_factory(
        is_mapping, guarded(mapping_structure_factory, (Mapping,), "a mapping")
    )

    for cls in (
        _FlavorDoc,
        _TaintDoc,
        _ResourceDoc,
        _FlagPolicyDoc,
        _SiteDoc,
        HTCondorOptions,
        UnicoreOptions,
        SSHSettings,
    ):
        _register_document(converter, cls)
    return converter


def _origin(target: object) -> Callable[[Any], bool]:
    def predicate(type_: Any) -> bool:
        origin: object = get_origin(type_)
        return origin is target

    return predicate


def _register_document(converter: cattrs.Converter, cls: type[Any]) -> None:
    overrides = {field.name: override(rename=_pascal(field.name)) for field in attrs.fields(cls)}
    structure: Callable[[Mapping[Any, Any], Any], Any] = make_dict_structure_fn(
        cls,
        converter,
        _cattrs_forbid_extra_keys=True,
        **overrides,  # type: ignore[arg-type]
    )
    if cls is _TaintDoc:
        structure = _accepting_lowercase(structure)

    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise _MismatchError(f"expected a mapping, got {_kind(value)}")
        return structure(value, cls)

    converter.register_structure_hook(cls, hook)


def _accepting_lowercase(
    structure: Callable[[Mapping[Any, Any], Any], _T],
) -> Callable[[Mapping[Any, Any], Any], _T]:
    # Taints are also written key/value/effect, the spelling of the ping answer's JSON.
    def hook(value: Mapping[Any, Any], cls: Any) -> _T:
        renamed = {
            key.capitalize() if key in ("key", "value", "effect") else key: item
            for key, item in value.items()
        }
        if len(renamed) < len(value):
            raise _MismatchError("a key is given twice, capitalised and not")
        return structure(renamed, cls)

    return hook


_CONVERTER: Final = _make_converter()


def _yaml_keys(cls: type) -> dict[str, str]:
    return {field.name: _pascal(field.name) for field in attrs.fields(cls)}


def _problems(error: BaseException, path: str) -> Iterator[tuple[str, str]]:
    """Every (path, reason) in a cattrs error tree, paths in the file's own key names."""
    if isinstance(error, ClassValidationError):
        keys = _yaml_keys(error.cl) if attrs.has(error.cl) else {}
        with_notes, without_notes = error.group_exceptions()
        for inner, note in with_notes:
            yield from _problems(inner, join_path(path, keys.get(note.name, note.name)))
        for inner in without_notes:
            yield from _problems(inner, path)
    elif isinstance(error, IterableValidationError):
        with_items, without_items = error.group_exceptions()
        for inner, item in with_items:
            if str(item).startswith("Structuring mapping key"):
                yield key_path(path, str(item.index)), "keys must be strings"
            elif isinstance(item.index, int) and not str(item).startswith("Structuring mapping"):
                yield from _problems(inner, f"{path}[{item.index}]")
            else:
                yield from _problems(inner, key_path(path, str(item.index)))
        for inner in without_items:
            yield from _problems(inner, path)
    elif isinstance(error, ForbiddenExtraKeysError):
        known = list(_yaml_keys(error.cl).values()) if attrs.has(error.cl) else []
        for extra in sorted(error.extra_fields, key=str):
            name = str(extra)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            where = join_path(path, name) if name.isidentifier() else key_path(path, name)
            yield where, f"unknown key{hint}"
    elif isinstance(error, _MismatchError):
        yield path, str(error)
    else:
        yield path, f"invalid value ({error})"


def _structure_error(error: Exception, source: str) -> ConfigError:
    problems = list(_problems(error, ""))
    if not problems:
        return ConfigError("malformed configuration", source=source)
    (path, reason), rest = problems[0], problems[1:]
    if rest:
        others = "; ".join(f"{where or '(top level)'}: {why}" for where, why in rest[:5])
        more = f" and {len(rest) - 5} more" if len(rest) > 5 else ""
        reason = f"{reason} (also {others}{more})"
    return ConfigError(reason, path=path, source=source)


# ---------------------------------------------------------------------------------------------
# The second step: meaning.


def parse_site_config(data: object, *, source: str = "") -> SiteConfig:
    """Read a site configuration from its decoded YAML (``None`` for an empty file).

    Returns the :class:`SiteConfig` with defaults filled in and the built-in resource table
    merged (a site entry replaces a built-in one whole). Raises :class:`ConfigError` naming
    ``source`` and the key path (``Flavors.gpu.MemoryDefault``) for an unknown key, a value of
    the wrong type or a value that makes no sense; several structural problems are reported
    together in one error. Never raises anything else.
    """
    if data is None:
        return DEFAULT_SITE
    try:
        document = _CONVERTER.structure(data, _SiteDoc)
    except (BaseValidationError, ForbiddenExtraKeysError, _MismatchError) as error:
        raise _structure_error(error, source) from None
    try:
        return _site(document)
    except ConfigError as error:
        raise error.with_source(source) from None


def _site(doc: _SiteDoc) -> SiteConfig:
    defaults = DEFAULT_SITE
    flavors = {
        name: _flavor(name, flavor, key_path("Flavors", name))
        for name, flavor in (doc.flavors or {}).items()
    }
    default_flavor = doc.default_flavor or None
    if default_flavor is not None and default_flavor not in flavors:
        known = ", ".join(sorted(flavors)) or "none"
        raise ConfigError(
            f"names no flavor of Flavors ({_show(default_flavor)}; defined: {known})",
            path="DefaultFlavor",
        )
    runtime = doc.container_runtime or defaults.container_runtime
    if runtime not in RUNTIME_KINDS:
        raise ConfigError(
            f"expected one of {', '.join(RUNTIME_KINDS)}, got {_show(runtime)}",
            path="ContainerRuntime",
        )
    warnings = []
    if doc.tsocks:
        warnings.append("Tsocks: accepted for compatibility, but tsocks proxying is not supported")
    return SiteConfig(
        vk_config_path=_or(doc.vk_config_path, defaults.vk_config_path),
        sidecar_port=_port(doc.sidecar_port, defaults.sidecar_port),
        socket=_or(doc.socket, defaults.socket),
        # Upstream treats an empty path as unset; so do we.
        sbatch_path=doc.sbatch_path or defaults.sbatch_path,
        scancel_path=doc.scancel_path or defaults.scancel_path,
        squeue_path=doc.squeue_path or defaults.squeue_path,
        sinfo_path=doc.sinfo_path or defaults.sinfo_path,
        command_prefix=_or(doc.command_prefix, defaults.command_prefix),
        image_prefix=_or(doc.image_prefix, defaults.image_prefix),
        data_root_folder=doc.data_root_folder or defaults.data_root_folder,
        export_pod_data=_or(doc.export_pod_data, defaults.export_pod_data),
        namespace=_or(doc.namespace, defaults.namespace),
        tsocks=_or(doc.tsocks, defaults.tsocks),
        tsocks_path=_or(doc.tsocks_path, defaults.tsocks_path),
        tsocks_login_node=_or(doc.tsocks_login_node, defaults.tsocks_login_node),
        bash_path=doc.bash_path or defaults.bash_path,
        verbose_logging=_or(doc.verbose_logging, defaults.verbose_logging),
        errors_only_logging=_or(doc.errors_only_logging, defaults.errors_only_logging),
        singularity_default_options=_options(
            doc.singularity_default_options,
            defaults.singularity_default_options,
            "SingularityDefaultOptions",
        ),
        singularity_prefix=_or(doc.singularity_prefix, defaults.singularity_prefix),
        singularity_path=doc.singularity_path or defaults.singularity_path,
        enable_probes=_or(doc.enable_probes, defaults.enable_probes),
        enroot_default_options=_options(
            doc.enroot_default_options, defaults.enroot_default_options, "EnrootDefaultOptions"
        ),
        enroot_prefix=_or(doc.enroot_prefix, defaults.enroot_prefix),
        enroot_path=doc.enroot_path or defaults.enroot_path,
        container_runtime=runtime,
        flavors=flavors,
        default_flavor=default_flavor,
        default_uid=_uid(doc.default_uid, "DefaultUID"),
        taints=tuple(
            _taint(taint, f"Taints[{index}]") for index, taint in enumerate(doc.taints or ())
        ),
        apptainer_path=doc.apptainer_path or defaults.apptainer_path,
        podman_path=doc.podman_path or defaults.podman_path,
        bwrap_path=doc.bwrap_path or defaults.bwrap_path,
        resource_table=_resource_table(doc.resource_table or {}),
        flag_policy=_flag_policy(doc.flag_policy),
        allow_pre_exec=_or(doc.allow_pre_exec, defaults.allow_pre_exec),
        partition=doc.partition or None,
        account=doc.account or None,
        htcondor=doc.htcondor or defaults.htcondor,
        unicore=doc.unicore or defaults.unicore,
        ssh=doc.ssh,
        keep_work_dir=doc.keep_work_dir or defaults.keep_work_dir,
        warnings=tuple(warnings),
    )


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _port(value: Any, default: int) -> int:
    # Upstream's SidecarPort is a string ("4000"); YAML lets people write a number too.
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ConfigError(f"expected a port number, got {_kind(value)}", path="SidecarPort")
    if not 1 <= number <= 65535:
        raise ConfigError(f"a port is between 1 and 65535, got {number}", path="SidecarPort")
    return number


def _options(values: list[str] | None, default: tuple[str, ...], path: str) -> tuple[str, ...]:
    # Upstream replaces an empty list by the default too (len(...) == 0).
    if not values:
        return default
    for index, option in enumerate(values):
        _check_line(option, f"{path}[{index}]")
        if not option.strip():
            raise ConfigError("an option must not be empty", path=f"{path}[{index}]")
    return tuple(values)


def _check_line(text: str, path: str) -> None:
    # These values end up on one line of a script or a submit description.
    if any(char in text for char in "\n\r\0"):
        raise ConfigError("must not contain a line break or a NUL character", path=path)


def _uid(value: int | None, path: str) -> int | None:
    if value is not None and value < 0:
        raise ConfigError(f"a user id is zero or more, got {value}", path=path)
    return value


def _flavor(name: str, doc: _FlavorDoc, path: str) -> Flavor:
    if not name:
        raise ConfigError("a flavor name must not be empty", path=path)
    if doc.name and doc.name != name:
        raise ConfigError(
            f"Name {_show(doc.name)} differs from the flavor's key {_show(name)}",
            path=join_path(path, "Name"),
        )
    if doc.cpu_default is not None and doc.cpu_default < 0:
        raise ConfigError(
            f"must be zero or more, got {doc.cpu_default}", path=join_path(path, "CPUDefault")
        )
    flags = []
    for index, flag in enumerate(doc.slurm_flags or ()):
        where = join_path(path, f"SlurmFlags[{index}]")
        _check_line(flag, where)
        flag = flag.strip()  # noqa: PLW2901  (upstream trims each flag)
        if not flag.startswith("-"):
            raise ConfigError(
                f"an sbatch option starts with - or --, got {_show(flag)}", path=where
            )
        flags.append(flag)
    return Flavor(
        name=name,
        description=doc.description or "",
        cpu_default=doc.cpu_default or None,  # upstream: 0 means "not set"
        memory_default_mib=_memory_mib(doc.memory_default, join_path(path, "MemoryDefault")),
        uid=_uid(doc.uid, join_path(path, "UID")),
        slurm_flags=tuple(flags),
    )


# Upstream's MemoryDefault: a whole number with an optional K, M, G (and T) suffix, an optional
# B after it, any case, all powers of 1024 ("16G", "32000MB", "1024" bytes). Ours besides: the
# Kubernetes binary suffixes Ki, Mi, Gi, Ti, which mean the same and cannot be misread.
_MEMORY: Final = re.compile(r"([0-9]+)(?:([KMGTkmgt])([Bb]?)|(Ki|Mi|Gi|Ti))?")
_MEMORY_POWERS: Final = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def _memory_mib(value: Any, path: str) -> int | None:
    """A flavor's memory size in MiB, rounded up; ``None`` for upstream's "not set"."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _MEMORY.fullmatch(text) if text.isascii() else None
        if match is None:
            raise ConfigError(
                f"expected a memory size such as 16G, 32000M or 1024 (bytes), got {_show(text)}",
                path=path,
            )
        number, letter, _, binary = match.groups()
        unit = (binary or letter or "")[:1].lower()
        size = int(number) * 1024 ** _MEMORY_POWERS[unit]
    else:
        raise ConfigError(f"expected a memory size, got {_kind(value)}", path=path)
    if size < 0:
        raise ConfigError(f"a memory size is zero or more, got {size}", path=path)
    return math.ceil(size / 2**20) or None


def _taint(doc: _TaintDoc, path: str) -> Taint:
    if not doc.key:
        raise ConfigError("a taint needs a Key", path=join_path(path, "Key"))
    effect = doc.effect or "NoSchedule"
    for effect_choice in _TAINT_EFFECTS:
        if effect == effect_choice:
            return Taint(key=doc.key, value=doc.value or "", effect=effect_choice)
    raise ConfigError(
        f"expected one of {', '.join(_TAINT_EFFECTS)}, got {_show(effect)}",
        path=join_path(path, "Effect"),
    )


# A Kubernetes resource name: an optional DNS-subdomain prefix and "/", then a name.
_RESOURCE_NAME: Final = re.compile(
    r"(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
# An HTCondor submit command name (custom attributes start with "+" or "My.").
_SUBMIT_NAME: Final = re.compile(r"\+?[A-Za-z_][A-Za-z0-9_.]*")


def _resource_table(entries: Mapping[str, _ResourceDoc]) -> dict[str, ResourceMapping]:
    table = dict(DEFAULT_RESOURCE_TABLE)
    for resource, doc in entries.items():
        path = key_path("ResourceTable", resource)
        if not _RESOURCE_NAME.fullmatch(resource):
            raise ConfigError(
                f"{_show(resource)} is not a Kubernetes resource name (such as nvidia.com/gpu)",
                path=path,
            )
        slurm = []
        for index, option in enumerate(doc.slurm or ()):
            where = join_path(path, f"Slurm[{index}]")
            _check_line(option, where)
            if not option.startswith("-"):
                raise ConfigError(
                    f"an sbatch option starts with - or --, got {_show(option)}", path=where
                )
            slurm.append(option)
        table[resource] = ResourceMapping(
            resource=resource,
            slurm=tuple(slurm),
            htcondor=_templates(doc.htcondor or {}, join_path(path, "HTCondor"), _SUBMIT_NAME),
            unicore=_templates(doc.unicore or {}, join_path(path, "Unicore"), None),
        )
    return table


def _templates(
    entries: Mapping[str, Any], path: str, name_pattern: re.Pattern[str] | None
) -> tuple[tuple[str, str], ...]:
    pairs = []
    for name, value in entries.items():
        where = key_path(path, name)
        if name_pattern is not None and not name_pattern.fullmatch(name):
            raise ConfigError(f"{_show(name)} is not a submit command name", path=where)
        if not name:
            raise ConfigError("a resource name must not be empty", path=where)
        if isinstance(value, str):
            text = value
        elif isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        else:
            raise ConfigError(
                f"expected a string (with {_COUNT} for the count) or an integer, "
                f"got {_kind(value)}",
                path=where,
            )
        _check_line(text, where)
        pairs.append((name, text))
    return tuple(pairs)


def _flag_policy(doc: _FlagPolicyDoc | None) -> FlagPolicy:
    if doc is None:
        return FlagPolicy()
    for field, names in (("Allow", doc.allow), ("Deny", doc.deny)):
        for index, name in enumerate(names or ()):
            if not name.strip("-") or any(char.isspace() for char in name):
                raise ConfigError(
                    f"expected an sbatch option name such as partition or --time, "
                    f"got {_show(name)}",
                    path=f"FlagPolicy.{field}[{index}]",
                )
    return FlagPolicy(
        allow=None if doc.allow is None else frozenset(doc.allow),
        deny=DEFAULT_DENY | frozenset(doc.deny or ()),
    )
