"""The pod model: the parts of a Kubernetes pod that offloading needs, as frozen values.

Field names are the snake_case forms of the Kubernetes JSON names (``volumeMounts`` →
``volume_mounts``, ``downwardAPI`` → ``downward_api``); :mod:`._kube` converts between the
two. Lists become tuples, maps stay dicts (never mutated), and a field the JSON omits takes
the Kubernetes default or an empty value, so that "absent" and "empty" are the same thing, as
they are to the API server. Fields that offloading cannot use are not modelled and are
ignored on input; volume sources we cannot honour are kept by name
(:class:`UnsupportedVolumeSource`) so that translation can refuse them with their path.
"""

from __future__ import annotations

import attrs

from ._quantity import Quantity

__all__ = [
    "ConfigMap",
    "ConfigMapEnvSource",
    "ConfigMapKeySelector",
    "ConfigMapProjection",
    "ConfigMapVolumeSource",
    "Container",
    "ContainerPort",
    "DownwardAPIProjection",
    "DownwardAPIVolumeFile",
    "DownwardAPIVolumeSource",
    "EmptyDirVolumeSource",
    "EnvFromSource",
    "EnvVar",
    "EnvVarSource",
    "HostPathVolumeSource",
    "KeyToPath",
    "ObjectFieldSelector",
    "ObjectMeta",
    "PersistentVolumeClaimVolumeSource",
    "Pod",
    "PodSecurityContext",
    "PodSpec",
    "ProjectedVolumeSource",
    "ResourceFieldSelector",
    "ResourceRequirements",
    "Secret",
    "SecretEnvSource",
    "SecretKeySelector",
    "SecretProjection",
    "SecretVolumeSource",
    "SecurityContext",
    "ServiceAccountTokenProjection",
    "Toleration",
    "UnsupportedVolumeSource",
    "Volume",
    "VolumeMount",
    "VolumeProjection",
]


def _dict() -> dict[str, str]:
    return {}


# --- metadata -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ObjectMeta:
    """Object metadata: identity, labels and annotations."""

    name: str = ""
    namespace: str = ""
    uid: str = ""
    labels: dict[str, str] = attrs.field(factory=_dict)
    annotations: dict[str, str] = attrs.field(factory=_dict)


# --- environment ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ObjectFieldSelector:
    """``fieldRef``: a field of the pod (``metadata.name``, ``status.podIP``, …)."""

    field_path: str
    api_version: str = ""


@attrs.frozen(kw_only=True)
class ResourceFieldSelector:
    """``resourceFieldRef``: a container's resource request or limit."""

    resource: str
    container_name: str = ""
    divisor: Quantity | None = None


@attrs.frozen(kw_only=True)
class ConfigMapKeySelector:
    """``configMapKeyRef``: one key of a ConfigMap."""

    name: str
    key: str
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class SecretKeySelector:
    """``secretKeyRef``: one key of a Secret."""

    name: str
    key: str
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class EnvVarSource:
    """``valueFrom``: exactly one of the references."""

    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    config_map_key_ref: ConfigMapKeySelector | None = None
    secret_key_ref: SecretKeySelector | None = None


@attrs.frozen(kw_only=True)
class EnvVar:
    """One ``env`` entry: a literal ``value`` or a ``valueFrom`` reference."""

    name: str
    value: str = ""
    value_from: EnvVarSource | None = None


@attrs.frozen(kw_only=True)
class ConfigMapEnvSource:
    """``envFrom[].configMapRef``."""

    name: str
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class SecretEnvSource:
    """``envFrom[].secretRef``."""

    name: str
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class EnvFromSource:
    """One ``envFrom`` entry: every key of a ConfigMap or Secret, with an optional prefix."""

    prefix: str = ""
    config_map_ref: ConfigMapEnvSource | None = None
    secret_ref: SecretEnvSource | None = None


# --- containers -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ResourceRequirements:
    """``resources``: requests and limits by resource name."""

    limits: dict[str, Quantity] = attrs.field(factory=dict)
    requests: dict[str, Quantity] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class VolumeMount:
    """``volumeMounts[]``: where a volume (or one path inside it) appears in the container."""

    name: str
    mount_path: str
    sub_path: str = ""
    sub_path_expr: str = ""
    read_only: bool = False
    mount_propagation: str = ""


@attrs.frozen(kw_only=True)
class ContainerPort:
    """``ports[]``: informational for batch jobs (nothing is exposed)."""

    container_port: int
    name: str = ""
    protocol: str = ""
    host_port: int | None = None
    host_ip: str = ""


@attrs.frozen(kw_only=True)
class SecurityContext:
    """Container ``securityContext``: the parts a batch runtime can honour or must refuse."""

    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    privileged: bool | None = None
    read_only_root_filesystem: bool | None = None
    allow_privilege_escalation: bool | None = None


@attrs.frozen(kw_only=True)
class Container:
    """A container or an init container."""

    name: str
    image: str = ""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFromSource, ...] = ()
    working_dir: str = ""
    resources: ResourceRequirements = ResourceRequirements()
    volume_mounts: tuple[VolumeMount, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    security_context: SecurityContext | None = None
    restart_policy: str = ""
    """Only init containers may set it (``Always`` makes a sidecar)."""


# --- volumes --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class KeyToPath:
    """``items[]``: put one key at a relative path, optionally with its own mode."""

    key: str
    path: str
    mode: int | None = None


@attrs.frozen(kw_only=True)
class ConfigMapVolumeSource:
    """``configMap`` volume."""

    name: str = ""
    items: tuple[KeyToPath, ...] = ()
    default_mode: int | None = None
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class SecretVolumeSource:
    """``secret`` volume (note the field is ``secretName``, not ``name``)."""

    secret_name: str = ""
    items: tuple[KeyToPath, ...] = ()
    default_mode: int | None = None
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class EmptyDirVolumeSource:
    """``emptyDir`` volume."""

    medium: str = ""
    size_limit: Quantity | None = None


@attrs.frozen(kw_only=True)
class DownwardAPIVolumeFile:
    """``downwardAPI.items[]``: a file holding a pod field or a resource value."""

    path: str
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    mode: int | None = None


@attrs.frozen(kw_only=True)
class DownwardAPIVolumeSource:
    """``downwardAPI`` volume."""

    items: tuple[DownwardAPIVolumeFile, ...] = ()
    default_mode: int | None = None


@attrs.frozen(kw_only=True)
class HostPathVolumeSource:
    """``hostPath`` volume: a path on the execution host."""

    path: str
    type: str = ""


@attrs.frozen(kw_only=True)
class PersistentVolumeClaimVolumeSource:
    """``persistentVolumeClaim`` volume."""

    claim_name: str
    read_only: bool = False


@attrs.frozen(kw_only=True)
class ConfigMapProjection:
    """``projected.sources[].configMap``."""

    name: str = ""
    items: tuple[KeyToPath, ...] = ()
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class SecretProjection:
    """``projected.sources[].secret``."""

    name: str = ""
    items: tuple[KeyToPath, ...] = ()
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class DownwardAPIProjection:
    """``projected.sources[].downwardAPI``."""

    items: tuple[DownwardAPIVolumeFile, ...] = ()


@attrs.frozen(kw_only=True)
class ServiceAccountTokenProjection:
    """``projected.sources[].serviceAccountToken``: the token comes from the cluster."""

    path: str
    audience: str = ""
    expiration_seconds: int | None = None


@attrs.frozen(kw_only=True)
class UnsupportedVolumeSource:
    """A volume source (or projection source) we do not model, kept by its JSON key."""

    kind: str


@attrs.frozen(kw_only=True)
class VolumeProjection:
    """One of ``projected.sources[]``: exactly one field is set."""

    config_map: ConfigMapProjection | None = None
    secret: SecretProjection | None = None
    downward_api: DownwardAPIProjection | None = None
    service_account_token: ServiceAccountTokenProjection | None = None
    unsupported: UnsupportedVolumeSource | None = None


@attrs.frozen(kw_only=True)
class ProjectedVolumeSource:
    """``projected`` volume."""

    sources: tuple[VolumeProjection, ...] = ()
    default_mode: int | None = None


@attrs.frozen(kw_only=True)
class Volume:
    """``volumes[]``: a name and exactly one source (``None`` everywhere means none given)."""

    name: str
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    empty_dir: EmptyDirVolumeSource | None = None
    projected: ProjectedVolumeSource | None = None
    downward_api: DownwardAPIVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    unsupported: UnsupportedVolumeSource | None = None


# --- pod ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PodSecurityContext:
    """Pod ``securityContext``."""

    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    fs_group: int | None = None


@attrs.frozen(kw_only=True)
class Toleration:
    """``tolerations[]``."""

    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    toleration_seconds: int | None = None


@attrs.frozen(kw_only=True)
class PodSpec:
    """The pod spec, as far as offloading needs it."""

    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    restart_policy: str = ""
    active_deadline_seconds: int | None = None
    termination_grace_period_seconds: int | None = None
    security_context: PodSecurityContext | None = None
    node_selector: dict[str, str] = attrs.field(factory=_dict)
    node_name: str = ""
    tolerations: tuple[Toleration, ...] = ()
    service_account_name: str = ""
    automount_service_account_token: bool | None = None
    hostname: str = ""
    subdomain: str = ""
    host_network: bool = False


@attrs.frozen(kw_only=True)
class Pod:
    """A Kubernetes pod (``status`` is not modelled: it is what we produce, not consume)."""

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = ObjectMeta()
    spec: PodSpec = PodSpec()


@attrs.frozen(kw_only=True)
class ConfigMap:
    """A ConfigMap: text ``data`` and raw ``binary_data`` (base64 on the wire)."""

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = ObjectMeta()
    data: dict[str, str] = attrs.field(factory=_dict)
    binary_data: dict[str, bytes] = attrs.field(factory=dict)
    immutable: bool | None = None

    def contents(self) -> dict[str, bytes]:
        """Every key with its bytes: ``data`` as UTF-8 and ``binaryData`` as is."""
        merged = {key: value.encode() for key, value in self.data.items()}
        merged.update(self.binary_data)
        return merged


@attrs.frozen(kw_only=True)
class Secret:
    """A Secret: ``data`` holds raw bytes (base64 on the wire), ``string_data`` text."""

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = ObjectMeta()
    data: dict[str, bytes] = attrs.field(factory=dict)
    string_data: dict[str, str] = attrs.field(factory=_dict)
    type: str = ""
    immutable: bool | None = None

    def contents(self) -> dict[str, bytes]:
        """Every key with its bytes; ``stringData`` wins over ``data`` as on the API server."""
        merged = dict(self.data)
        merged.update({key: value.encode() for key, value in self.string_data.items()})
        return merged
