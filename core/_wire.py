"""interLink's wire types: what the virtual kubelet, the API server and the plugins send.

Theory of operation. Each type mirrors one of upstream's Go structs (``pkg/interlink/types.go``)
field for field, under Go's JSON key and in Go's field order; the Python names are snake_case.
A table of fields per type (:class:`_Struct`: Go key, codec, Go's ``omitempty``) drives both
decoding and encoding, so the two cannot disagree, and every table is checked against its
class when the module loads.

Decoding reads what any upstream peer may send, the way Go's ``encoding/json`` reads it (see
:mod:`._wire_json`): keys match case-insensitively, unknown keys are ignored, ``null`` leaves a
field at its zero value (so a ``null`` list is empty; a ``null`` time is unset), the zero time
``0001-01-01T00:00:00Z`` is unset. It is total: a value, or :class:`WireError` naming the JSON
path. Where Go would silently take a zero value for a field without which a message means
nothing (the pod of a create request, the UID of a status), decoding refuses instead.

Encoding writes what Go writes: every field in struct order, empty lists as ``null``, fields
tagged ``omitempty`` left out when empty, times as RFC 3339 and never ``""``.

Kubernetes objects inside messages (``v1.Pod``, ``v1.ConfigMap``, ``v1.Secret``,
``v1.ContainerStatus``) travel as received: each keeps its decoded JSON object (``raw``, what
encoding writes back, unknown Kubernetes fields and all) next to its parse into our model.
The parse is what pyinterlink reads; the raw object is what the next hop gets, so a pod passed
through our API server reaches a plugin with the same meaning it left the virtual kubelet with.
Build one from a model with ``.of()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeVar

import attrs

from . import _kstatus as ks
from ._errors import InputError, join_path
from ._kube import (
    config_map_from_json,
    config_map_to_json,
    pod_from_json,
    pod_to_json,
    secret_from_json,
    secret_to_json,
)
from ._model import ConfigMap, Pod, Secret
from ._quantity import Quantity, quantity_from_json
from ._wire_json import (
    WireError,
    describe,
    dump_json,
    fold_key,
    format_rfc3339,
    load_json,
    parse_rfc3339,
)

__all__ = [
    "GO_ZERO_TIME",
    "TAINT_EFFECTS",
    "ContainerLogOpts",
    "CreateStruct",
    "LogStruct",
    "PingAccelerator",
    "PingResources",
    "PingResponse",
    "PingTaint",
    "PodCreateRequests",
    "RetrievedContainer",
    "RetrievedPodData",
    "TaintEffect",
    "WireConfigMap",
    "WireContainerStatus",
    "WireError",
    "WirePod",
    "WirePodStatus",
    "WireSecret",
    "container_status_from_json",
    "container_status_to_json",
    "create_struct_from_json",
    "create_struct_to_json",
    "dump_json",
    "load_json",
    "log_struct_from_json",
    "log_struct_to_json",
    "ping_response_from_body",
    "ping_response_from_json",
    "ping_response_to_json",
    "pod_create_requests_from_json",
    "pod_create_requests_to_json",
    "pod_status_list_from_json",
    "pod_status_list_to_json",
    "pods_from_json",
    "pods_to_json",
    "retrieved_pod_data_from_json",
    "retrieved_pod_data_to_json",
    "wire_pod_from_json",
    "wire_pod_to_json",
]

T = TypeVar("T")

GO_ZERO_TIME: Final = datetime(1, 1, 1, tzinfo=UTC)
"""Go's zero ``time.Time`` (``0001-01-01T00:00:00Z``): "unset" on the wire."""

_INT64: Final = (-(2**63), 2**63 - 1)  # Go's int on every platform interLink runs on
_INT32: Final = (-(2**31), 2**31 - 1)  # the int32 fields of Kubernetes types

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
TAINT_EFFECTS: Final[tuple[TaintEffect, ...]] = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _int64(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f"{attribute.name} must fit Go's int (64 bits)")


def _aware(_: object, attribute: attrs.Attribute[datetime | None], value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{attribute.name} needs a timezone")


def _unset_if_zero(value: datetime | None) -> datetime | None:
    # Go's zero time and "no time" are the same thing on the wire; one Python value for both
    # keeps decode(encode(x)) == x.
    if value is not None and value.tzinfo is not None and value == GO_ZERO_TIME:
        return None
    return value


def _nonempty(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


def _is_mapping(_: object, attribute: attrs.Attribute[object], value: object) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{attribute.name} must be a JSON object (a mapping)")


# --- Kubernetes objects, kept as received ---------------------------------------------------


@attrs.frozen(kw_only=True)
class WirePod:
    """A ``v1.Pod`` on the wire: ``raw`` is the JSON object encoding writes (treat it as
    immutable); ``pod`` is its parse, which must agree with it."""

    raw: Mapping[str, Any] = attrs.field(validator=_is_mapping)
    pod: Pod

    @classmethod
    def of(cls, pod: Pod) -> WirePod:
        """A pod we built ourselves: its raw object is its Kubernetes JSON."""
        return cls(raw=pod_to_json(pod), pod=pod)


@attrs.frozen(kw_only=True)
class WireConfigMap:
    """A ``v1.ConfigMap`` on the wire: ``raw`` as received, ``config_map`` its parse."""

    raw: Mapping[str, Any] = attrs.field(validator=_is_mapping)
    config_map: ConfigMap

    @classmethod
    def of(cls, config_map: ConfigMap) -> WireConfigMap:
        """A ConfigMap we built ourselves (the projected volume maps are)."""
        return cls(raw=config_map_to_json(config_map), config_map=config_map)


@attrs.frozen(kw_only=True)
class WireSecret:
    """A ``v1.Secret`` on the wire: ``raw`` as received, ``secret`` its parse."""

    raw: Mapping[str, Any] = attrs.field(validator=_is_mapping)
    secret: Secret

    @classmethod
    def of(cls, secret: Secret) -> WireSecret:
        """A Secret we built ourselves."""
        return cls(raw=secret_to_json(secret), secret=secret)


@attrs.frozen(kw_only=True)
class WireContainerStatus:
    """A ``v1.ContainerStatus`` on the wire: ``raw`` as received, ``status`` its parse."""

    raw: Mapping[str, Any] = attrs.field(validator=_is_mapping)
    status: ks.ContainerStatus

    @classmethod
    def of(cls, status: ks.ContainerStatus) -> WireContainerStatus:
        """A status we produced: written as Go writes a ``v1.ContainerStatus``."""
        return cls(raw=container_status_to_json(status), status=status)


# --- interLink's types ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PodCreateRequests:
    """``PodCreateRequests``: virtual kubelet → API server, ``POST /create``.

    ``config_maps`` and ``secrets`` are those the pod mounts as volumes;
    ``projected_volume_maps`` holds one ConfigMap per projected or downwardAPI volume (named
    after the volume, data = relative path → content). ``persistent_volume_claims`` are kept
    as received (upstream's ``persistentvolumes``; we do not use them). ``job_script_url`` is
    ``""`` when unused.
    """

    pod: WirePod
    config_maps: tuple[WireConfigMap, ...] = ()
    secrets: tuple[WireSecret, ...] = ()
    persistent_volume_claims: tuple[Mapping[str, Any], ...] = ()
    projected_volume_maps: tuple[WireConfigMap, ...] = ()
    job_script_url: str = ""


@attrs.frozen(kw_only=True)
class RetrievedContainer:
    """``RetrievedContainer``: what one container mounts, as the API server hands it to a
    plugin. ``empty_dirs`` is deprecated upstream and sent empty."""

    name: str
    config_maps: tuple[WireConfigMap, ...] = ()
    projected_volume_maps: tuple[WireConfigMap, ...] = ()
    secrets: tuple[WireSecret, ...] = ()
    empty_dirs: tuple[str, ...] = ()
    persistent_volume_claims: tuple[Mapping[str, Any], ...] = ()


def _zero_job_config() -> dict[str, Any]:
    # What Go writes for an unused ScriptBuildConfig: the struct is never omitted, even
    # though its tag says omitempty, so a plugin always sees this object.
    return {
        "SingularityHubProxy": {"server": "", "master_token": "", "cache_validity_seconds": 0},
        "ApptainerOptions": {
            "executable": "",
            "fakeroot": False,
            "containall": False,
            "fuseMode": "",
            "noInit": False,
            "noHome": False,
            "noPrivs": False,
            "nvidiaSupport": False,
            "cleanenv": False,
            "unsquash": False,
        },
        "Volumes": {
            "scratch_area": "",
            "apptainer_cachedir": "",
            "image_dir": "",
            "additional_directories_in_path": None,
            "fuse_sleep_seconds": 0,
        },
    }


@attrs.frozen(kw_only=True)
class RetrievedPodData:
    """``RetrievedPodData``: API server → plugin, ``POST /create`` (one object).

    ``containers`` lists init containers first, then containers. ``job_config`` is upstream's
    job-script build configuration, kept as an opaque object (Go's zero value when unused);
    ``job_script`` is left out of the JSON when empty.
    """

    pod: WirePod
    containers: tuple[RetrievedContainer, ...] = ()
    job_config: Mapping[str, Any] = attrs.field(factory=_zero_job_config, validator=_is_mapping)
    job_script: str = ""


@attrs.frozen(kw_only=True)
class CreateStruct:
    """``CreateStruct``: a plugin's answer to a create, passed on to the virtual kubelet."""

    pod_uid: str
    pod_jid: str = ""


@attrs.frozen(kw_only=True)
class WirePodStatus:
    """interLink's ``PodStatus`` (an element of a ``/status`` answer): the pod's identity, the
    job id and the container states; the virtual kubelet derives the pod phase from these."""

    name: str = ""
    uid: str
    namespace: str = ""
    jid: str = ""
    containers: tuple[WireContainerStatus, ...] = ()
    init_containers: tuple[WireContainerStatus, ...] = ()


@attrs.frozen(kw_only=True)
class ContainerLogOpts:
    """``ContainerLogOpts``: the options of ``kubectl logs``. Zero means unset for the
    numbers; ``since_time`` is ``None`` when unset (written as Go's zero time)."""

    tail: int = attrs.field(default=0, validator=_int64)
    limit_bytes: int = attrs.field(default=0, validator=_int64)
    timestamps: bool = False
    follow: bool = False
    previous: bool = False
    since_seconds: int = attrs.field(default=0, validator=_int64)
    since_time: datetime | None = attrs.field(
        default=None, converter=_unset_if_zero, validator=_aware
    )


@attrs.frozen(kw_only=True)
class LogStruct:
    """``LogStruct``: virtual kubelet → API server → plugin, ``GET /getLogs``."""

    namespace: str = ""
    pod_uid: str
    pod_name: str = ""
    container_name: str = ""
    opts: ContainerLogOpts = ContainerLogOpts()


@attrs.frozen(kw_only=True)
class PingAccelerator:
    """How many devices of one extended resource (``nvidia.com/gpu``) the site offers."""

    resource_type: str = attrs.field(validator=_nonempty)
    available: int = attrs.field(validator=[_int64, attrs.validators.ge(0)])


@attrs.frozen(kw_only=True)
class PingResources:
    """The capacity a plugin reports; ``None`` leaves the node's value as it is."""

    cpu: Quantity | None = None
    memory: Quantity | None = None
    pods: Quantity | None = None
    accelerators: tuple[PingAccelerator, ...] = ()


@attrs.frozen(kw_only=True)
class PingTaint:
    """A node taint a plugin asks for."""

    key: str = attrs.field(validator=_nonempty)
    value: str = ""
    effect: TaintEffect = attrs.field(validator=attrs.validators.in_(TAINT_EFFECTS))


@attrs.frozen(kw_only=True)
class PingResponse:
    """A plugin's optional answer to the ping.

    ``resources`` is ``None`` when absent (capacity unchanged). ``taints`` distinguishes
    present from absent: a tuple, even empty, replaces the node's plugin taints; ``None``
    (absent or ``null``) keeps them.
    """

    status: str = ""
    resources: PingResources | None = None
    taints: tuple[PingTaint, ...] | None = None


# --- codecs ---------------------------------------------------------------------------------


@attrs.frozen
class _Codec:
    """How one JSON value decodes (value, JSON path → Python value, or WireError) and encodes."""

    decode: Callable[[object, str], Any]
    encode: Callable[[Any], object]


def _same(value: T) -> T:
    return value


def _decode_str(value: object, path: str) -> str:
    if isinstance(value, str):
        return value
    raise WireError(f"expected a string, got {describe(value)}", path=path)


def _decode_nonempty_str(value: object, path: str) -> str:
    text = _decode_str(value, path)
    if not text:
        raise WireError("must not be empty", path=path)
    return text


def _decode_bool(value: object, path: str) -> bool:
    if isinstance(value, bool):
        return value
    raise WireError(f"expected true or false, got {describe(value)}", path=path)


def _int_codec(bounds: tuple[int, int], *, nonnegative: bool = False) -> _Codec:
    low = 0 if nonnegative else bounds[0]
    high = bounds[1]

    def decode(value: object, path: str) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON has one number type: 3.0 is the integer 3
        if isinstance(value, bool) or not isinstance(value, int):
            raise WireError(f"expected an integer, got {describe(value)}", path=path)
        if not low <= value <= high:
            raise WireError(f"out of range: must be from {low} to {high}", path=path)
        return value

    return _Codec(decode, _same)


def _choice(options: tuple[str, ...]) -> _Codec:
    def decode(value: object, path: str) -> str:
        text = _decode_str(value, path)
        if text not in options:
            raise WireError(f"{text[:60]!r} is not one of {', '.join(options)}", path=path)
        return text

    return _Codec(decode, _same)


def _decode_time(value: object, path: str) -> datetime | None:
    text = _decode_str(value, path)
    if not text:
        return None  # upstream never sends "", but a lenient reading costs nothing
    try:
        parsed = parse_rfc3339(text)
    except ValueError as exc:
        raise WireError(str(exc), path=path) from None
    return None if parsed == GO_ZERO_TIME else parsed


def _encode_go_time(value: datetime | None) -> str:
    # Go writes an unset time.Time as its zero time; every Go peer and the Python SDK read it
    # back, while "" fails in Go.
    return format_rfc3339(GO_ZERO_TIME if value is None else value, fraction=True)


def _encode_kube_time(value: datetime | None) -> str | None:
    # metav1.Time writes null when unset, and whole seconds otherwise.
    return None if value is None else format_rfc3339(value, fraction=False)


def _decode_quantity(value: object, path: str) -> Quantity:
    try:
        return quantity_from_json(value, path=path, nonnegative=True)
    except InputError as exc:
        raise WireError(exc.reason, path=exc.path or path) from None


def _decode_object(value: object, path: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    raise WireError(f"expected an object, got {describe(value)}", path=path)


def _list(item: _Codec, *, empty: Literal["null", "[]"] = "null") -> _Codec:
    """A JSON list as a tuple; ``empty`` is how an empty one is written (Go: ``null``)."""

    def decode(value: object, path: str) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise WireError(f"expected a list, got {describe(value)}", path=path)
        return tuple(item.decode(element, f"{path}[{i}]") for i, element in enumerate(value))

    def encode(values: tuple[Any, ...]) -> list[object] | None:
        if not values and empty == "null":
            return None
        return [item.encode(element) for element in values]

    return _Codec(decode, encode)


_STR: Final = _Codec(_decode_str, _same)
_NONEMPTY_STR: Final = _Codec(_decode_nonempty_str, _same)
_BOOL: Final = _Codec(_decode_bool, _same)
_INT: Final = _int_codec(_INT64)
_COUNT: Final = _int_codec(_INT64, nonnegative=True)
_KUBE_INT: Final = _int_codec(_INT32)
_GO_TIME: Final = _Codec(_decode_time, _encode_go_time)
_KUBE_TIME: Final = _Codec(_decode_time, _encode_kube_time)
_QUANTITY: Final = _Codec(_decode_quantity, str)
_OBJECT: Final = _Codec(_decode_object, _same)


@attrs.frozen
class _Field:
    attr: str
    key: str
    codec: _Codec
    omitempty: bool = False
    """Go's ``omitempty``: left out of the JSON when at its default."""


class _Struct:
    """The JSON form of one attrs class: its fields by Go key, in the order Go writes them."""

    def __init__(self, cls: type[Any], *fields: _Field) -> None:
        model_fields = {a.name: a for a in attrs.fields(cls)}
        if sorted(f.attr for f in fields) != sorted(model_fields):
            raise RuntimeError(f"the wire table of {cls.__name__} does not match its fields")
        self.cls = cls
        self.fields = fields
        self._by_fold = {fold_key(f.key): f for f in fields}
        self._required = tuple(f for f in fields if model_fields[f.attr].default is attrs.NOTHING)
        self._defaults = {name: _default(a) for name, a in model_fields.items()}
        self.codec = _Codec(self.decode, self.encode)

    def decode(self, data: object, path: str) -> Any:
        if not isinstance(data, Mapping):
            raise WireError(f"expected an object, got {describe(data)}", path=path)
        values: dict[str, Any] = {}
        for key, value in data.items():
            field = self._by_fold.get(fold_key(key)) if isinstance(key, str) else None
            if field is None or value is None:
                continue  # Go ignores unknown keys, and null leaves a field as it was
            values[field.attr] = field.codec.decode(value, join_path(path, field.key))
        for field in self._required:
            if field.attr not in values:
                raise WireError("required field missing", path=join_path(path, field.key))
        return self.cls(**values)

    def encode(self, value: Any) -> dict[str, object]:
        result: dict[str, object] = {}
        for field in self.fields:
            item = getattr(value, field.attr)
            if field.omitempty and item == self._defaults[field.attr]:
                continue
            result[field.key] = field.codec.encode(item)
        return result


def _default(attribute: attrs.Attribute[Any]) -> object:
    default: object = attribute.default
    factory = getattr(default, "factory", None)  # an attrs.Factory
    return factory() if callable(factory) else default


def _embedded(wrap: Callable[[Mapping[str, Any], Any], Any], parse: Callable[[Any], Any]) -> _Codec:
    """A Kubernetes object: kept as received, parsed next to it; errors keep their path."""

    def decode(value: object, path: str) -> Any:
        raw = _decode_object(value, path)
        try:
            model = parse(raw)
        except InputError as exc:
            raise WireError(exc.reason, path=join_path(path, exc.path)) from None
        return wrap(raw, model)

    def encode(wire: Any) -> object:
        return wire.raw

    return _Codec(decode, encode)


# v1.ContainerStatus and its parts, as Go writes them: which fields are always present and
# which are omitempty follows the struct tags of k8s.io/api/core/v1.
_WAITING: Final = _Struct(
    ks.ContainerStateWaiting,
    _Field("reason", "reason", _STR, omitempty=True),
    _Field("message", "message", _STR, omitempty=True),
)
_RUNNING: Final = _Struct(ks.ContainerStateRunning, _Field("started_at", "startedAt", _KUBE_TIME))
_TERMINATED: Final = _Struct(
    ks.ContainerStateTerminated,
    _Field("exit_code", "exitCode", _KUBE_INT),
    _Field("signal", "signal", _KUBE_INT, omitempty=True),
    _Field("reason", "reason", _STR, omitempty=True),
    _Field("message", "message", _STR, omitempty=True),
    _Field("started_at", "startedAt", _KUBE_TIME),
    _Field("finished_at", "finishedAt", _KUBE_TIME),
    _Field("container_id", "containerID", _STR, omitempty=True),
)
_STATE: Final = _Struct(
    ks.ContainerState,
    _Field("waiting", "waiting", _WAITING.codec, omitempty=True),
    _Field("running", "running", _RUNNING.codec, omitempty=True),
    _Field("terminated", "terminated", _TERMINATED.codec, omitempty=True),
)
_CONTAINER_STATUS: Final = _Struct(
    ks.ContainerStatus,
    _Field("name", "name", _STR),
    _Field("state", "state", _STATE.codec),
    _Field("last_state", "lastState", _STATE.codec),
    _Field("ready", "ready", _BOOL),
    _Field("restart_count", "restartCount", _KUBE_INT),
    _Field("image", "image", _STR),
    _Field("image_id", "imageID", _STR),
    _Field("container_id", "containerID", _STR, omitempty=True),
    _Field("started", "started", _BOOL, omitempty=True),
)


def _parse_container_status(raw: Mapping[str, Any]) -> ks.ContainerStatus:
    status: ks.ContainerStatus = _CONTAINER_STATUS.decode(raw, "")
    return status


_POD: Final = _embedded(lambda raw, pod: WirePod(raw=raw, pod=pod), pod_from_json)
_CONFIG_MAP: Final = _embedded(
    lambda raw, model: WireConfigMap(raw=raw, config_map=model), config_map_from_json
)
_SECRET: Final = _embedded(lambda raw, model: WireSecret(raw=raw, secret=model), secret_from_json)
_WIRE_CONTAINER_STATUS: Final = _embedded(
    lambda raw, model: WireContainerStatus(raw=raw, status=model), _parse_container_status
)

_POD_CREATE_REQUESTS: Final = _Struct(
    PodCreateRequests,
    _Field("pod", "pod", _POD),
    _Field("config_maps", "configmaps", _list(_CONFIG_MAP)),
    _Field("secrets", "secrets", _list(_SECRET)),
    _Field("persistent_volume_claims", "persistentvolumes", _list(_OBJECT)),
    _Field("projected_volume_maps", "projectedvolumesmaps", _list(_CONFIG_MAP)),
    _Field("job_script_url", "jobscriptURL", _STR),
)
_RETRIEVED_CONTAINER: Final = _Struct(
    RetrievedContainer,
    _Field("name", "name", _STR),
    _Field("config_maps", "configMaps", _list(_CONFIG_MAP)),
    _Field("projected_volume_maps", "projectedvolumemaps", _list(_CONFIG_MAP)),
    _Field("secrets", "secrets", _list(_SECRET)),
    _Field("empty_dirs", "emptyDirs", _list(_STR)),
    _Field("persistent_volume_claims", "persistentVolumeClaims", _list(_OBJECT)),
)
_RETRIEVED_POD_DATA: Final = _Struct(
    RetrievedPodData,
    _Field("pod", "pod", _POD),
    _Field("containers", "container", _list(_RETRIEVED_CONTAINER.codec)),
    _Field("job_config", "jobConfig", _OBJECT),
    _Field("job_script", "jobScript", _STR, omitempty=True),
)
_CREATE_STRUCT: Final = _Struct(
    CreateStruct,
    _Field("pod_uid", "PodUID", _STR),
    _Field("pod_jid", "PodJID", _STR),
)
_POD_STATUS: Final = _Struct(
    WirePodStatus,
    _Field("name", "name", _STR),
    _Field("uid", "UID", _STR),
    _Field("namespace", "namespace", _STR),
    _Field("jid", "JID", _STR),
    _Field("containers", "containers", _list(_WIRE_CONTAINER_STATUS)),
    _Field("init_containers", "initContainers", _list(_WIRE_CONTAINER_STATUS)),
)
_LOG_OPTS: Final = _Struct(
    ContainerLogOpts,
    _Field("tail", "Tail", _INT),
    _Field("limit_bytes", "Bytes", _INT),
    _Field("timestamps", "Timestamps", _BOOL),
    _Field("follow", "Follow", _BOOL),
    _Field("previous", "Previous", _BOOL),
    _Field("since_seconds", "SinceSeconds", _INT),
    _Field("since_time", "SinceTime", _GO_TIME),
)
_LOG_STRUCT: Final = _Struct(
    LogStruct,
    _Field("namespace", "Namespace", _STR),
    _Field("pod_uid", "PodUID", _STR),
    _Field("pod_name", "PodName", _STR),
    _Field("container_name", "ContainerName", _STR),
    _Field("opts", "Opts", _LOG_OPTS.codec),
)
_PING_ACCELERATOR: Final = _Struct(
    PingAccelerator,
    _Field("resource_type", "resourceType", _NONEMPTY_STR),
    _Field("available", "available", _COUNT),
)
_PING_RESOURCES: Final = _Struct(
    PingResources,
    _Field("cpu", "cpu", _QUANTITY, omitempty=True),
    _Field("memory", "memory", _QUANTITY, omitempty=True),
    _Field("pods", "pods", _QUANTITY, omitempty=True),
    _Field("accelerators", "accelerators", _list(_PING_ACCELERATOR.codec, empty="[]")),
)
_PING_TAINT: Final = _Struct(
    PingTaint,
    _Field("key", "key", _NONEMPTY_STR),
    _Field("value", "value", _STR),
    _Field("effect", "effect", _choice(TAINT_EFFECTS)),
)
_PING_RESPONSE: Final = _Struct(
    PingResponse,
    _Field("status", "status", _STR),
    _Field("resources", "resources", _PING_RESOURCES.codec, omitempty=True),
    # present (even empty) replaces the node's taints, so an empty tuple is written as []
    _Field("taints", "taints", _list(_PING_TAINT.codec, empty="[]"), omitempty=True),
)


# --- public functions -----------------------------------------------------------------------


def pod_create_requests_from_json(data: object) -> PodCreateRequests:
    """Decode a ``/create`` request body of the virtual kubelet (decoded JSON)."""
    result: PodCreateRequests = _POD_CREATE_REQUESTS.decode(data, "")
    return result


def pod_create_requests_to_json(value: PodCreateRequests) -> dict[str, object]:
    """Encode a ``/create`` request as the Go virtual kubelet writes it."""
    return _POD_CREATE_REQUESTS.encode(value)


def retrieved_pod_data_from_json(data: object) -> RetrievedPodData:
    """Decode the ``/create`` body a plugin receives. A list holding exactly one object is
    accepted too: upstream API servers before the single-object form sent that."""
    if isinstance(data, list | tuple) and len(data) == 1:
        result: RetrievedPodData = _RETRIEVED_POD_DATA.decode(data[0], "[0]")
    else:
        result = _RETRIEVED_POD_DATA.decode(data, "")
    return result


def retrieved_pod_data_to_json(value: RetrievedPodData) -> dict[str, object]:
    """Encode the ``/create`` body for a plugin (one object, as current upstream sends)."""
    return _RETRIEVED_POD_DATA.encode(value)


def create_struct_from_json(data: object) -> CreateStruct:
    """Decode a plugin's answer to ``/create``; ``PodUID`` is required."""
    result: CreateStruct = _CREATE_STRUCT.decode(data, "")
    return result


def create_struct_to_json(value: CreateStruct) -> dict[str, object]:
    """Encode an answer to ``/create``."""
    return _CREATE_STRUCT.encode(value)


def wire_pod_from_json(data: object) -> WirePod:
    """Decode a bare pod: the ``/delete`` body (and ``/updateCache``'s, as upstream sends)."""
    result: WirePod = _POD.decode(data, "")
    return result


def wire_pod_to_json(value: WirePod) -> Mapping[str, Any]:
    """The JSON object of a pod on the wire (its raw object)."""
    return value.raw


def pods_from_json(data: object) -> tuple[WirePod, ...]:
    """Decode a ``/status`` request body: a list of pods (``null`` is an empty list)."""
    return () if data is None else tuple(_list(_POD).decode(data, ""))


def pods_to_json(pods: tuple[WirePod, ...]) -> list[object]:
    """Encode a ``/status`` request; an empty one is ``[]``, the ping (what Go sends)."""
    return [pod.raw for pod in pods]


def pod_status_list_from_json(data: object) -> tuple[WirePodStatus, ...]:
    """Decode a ``/status`` answer: a list of statuses, or ``null`` for none."""
    return () if data is None else tuple(_list(_POD_STATUS.codec).decode(data, ""))


def pod_status_list_to_json(statuses: tuple[WirePodStatus, ...]) -> list[object]:
    """Encode a ``/status`` answer; an empty one is ``[]`` (every reader accepts it, while
    some non-Go clients would choke on a top-level ``null``)."""
    return [_POD_STATUS.encode(status) for status in statuses]


def container_status_from_json(data: object) -> WireContainerStatus:
    """Decode one ``v1.ContainerStatus`` (keys case-insensitive, ``null`` as absent, as
    Go reads it; an explicit Python-SDK ``"reason": null`` is fine)."""
    result: WireContainerStatus = _WIRE_CONTAINER_STATUS.decode(data, "")
    return result


def container_status_to_json(status: ks.ContainerStatus) -> dict[str, object]:
    """Write a ``v1.ContainerStatus`` as Go does: Kubernetes keys (``imageID``,
    ``containerID``), the fields Go always writes present, times in whole seconds."""
    return _CONTAINER_STATUS.encode(status)


def log_struct_from_json(data: object) -> LogStruct:
    """Decode a ``/getLogs`` request; ``SinceTime`` zero, ``null`` or absent is unset."""
    result: LogStruct = _LOG_STRUCT.decode(data, "")
    return result


def log_struct_to_json(value: LogStruct) -> dict[str, object]:
    """Encode a ``/getLogs`` request as the Go virtual kubelet writes it: every option, an
    unset ``SinceTime`` as Go's zero time."""
    return _LOG_STRUCT.encode(value)


def ping_response_from_json(data: object) -> PingResponse:
    """Decode a plugin's ping answer object; quantities must be non-negative, taint effects
    Kubernetes' three."""
    result: PingResponse = _PING_RESPONSE.decode(data, "")
    return result


def ping_response_to_json(value: PingResponse) -> dict[str, object]:
    """Encode a ping answer."""
    return _PING_RESPONSE.encode(value)


def ping_response_from_body(body: bytes | str) -> PingResponse | None:
    """Read the body of a ping answer, which is optional: ``None`` when it is empty, not
    JSON, or JSON but not an object (plugins commonly answer ``[]`` or ``null``, their
    answer to a status request for no pods). A JSON object that is not a valid ping answer
    raises WireError."""
    try:
        data = load_json(body)
    except WireError:
        return None
    if not isinstance(data, Mapping):
        return None
    return ping_response_from_json(data)
