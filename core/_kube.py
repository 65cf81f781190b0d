"""Kubernetes JSON ⇄ the pod model: one cattrs converter for the whole boundary.

The rules are the API server's: camelCase keys, unknown fields ignored (pods arrive with
``status``, ``managedFields`` and fields newer than this code), ``null`` wherever a list or map
may be, Secret and ConfigMap ``binaryData`` as base64, quantities as strings or JSON numbers.
Scalars are strict (a label ``1`` is an error, not ``"1"``; ``"false"`` is not a bool), as the
Go decoder is. Every error is a :class:`~._errors.PodError` naming the JSON path of the field
(``spec.containers[0].resources.limits.cpu``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _model as m
from ._errors import InputError, PodError, key_path
from ._quantity import Quantity, quantity_from_json

__all__ = [
    "PodBundle",
    "config_map_from_json",
    "config_map_to_json",
    "format_time",
    "json_key",
    "parse_time",
    "pod_bundle_from_documents",
    "pod_from_json",
    "pod_to_json",
    "secret_from_json",
    "secret_to_json",
]

T = TypeVar("T")

# Kubernetes spells a few names in a way plain camelCase does not produce.
_SPECIAL_KEYS = {
    "downward_api": "downwardAPI",
    "host_ip": "hostIP",
    "pod_ip": "podIP",
    "image_id": "imageID",
    "container_id": "containerID",
}


def json_key(field_name: str) -> str:
    """The Kubernetes JSON key of a model field: ``volume_mounts`` → ``volumeMounts``."""
    special = _SPECIAL_KEYS.get(field_name)
    if special is not None:
        return special
    head, *rest = field_name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


# Volume sources and projection sources: their JSON keys, to tell an unknown source apart.
def _source_keys(cls: type) -> frozenset[str]:
    return frozenset(
        json_key(field.name)
        for field in attrs.fields(cls)
        if field.name not in {"name", "unsupported", "default_mode"}
    )


_VOLUME_SOURCE_KEYS = _source_keys(m.Volume)
_PROJECTION_SOURCE_KEYS = _source_keys(m.VolumeProjection)


class _ScalarError(ValueError):
    """A JSON scalar of the wrong type; the message is the reason shown to the user."""


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "a list"
    return type(value).__name__


def _structure_str(value: object, _: type) -> str:
    if type(value) is str:  # the common case first: isinstance on ABCs is slow
        return value
    if value is None:  # Go decodes null into a string as "leave it empty"
        return ""
    if not isinstance(value, str):
        raise _ScalarError(f"expected a string, got {_describe(value)}")
    return value


def _structure_int(value: object, _: type) -> int:
    if value is None:  # as Go: null leaves the zero value
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)  # JSON has one number type; 3.0 is the integer 3
        raise _ScalarError(f"expected an integer, got {_describe(value)}")
    return value


def _structure_bool(value: object, _: type) -> bool:
    if value is None:  # as Go: null leaves the zero value
        return False
    if not isinstance(value, bool):
        raise _ScalarError(f"expected true or false, got {_describe(value)}")
    return value


def _structure_bytes(value: object, _: type) -> bytes:
    text = _structure_str(value, str)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _ScalarError("not valid base64") from exc


def _structure_time(value: object, _: type) -> datetime:
    text = _structure_str(value, str)
    parsed = parse_time(text)
    if parsed is None:
        raise _ScalarError(f"{text!r} is not an RFC 3339 time")
    return parsed


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time (``2026-11-23T16:04:16Z``, fractions and offsets allowed) in UTC,
    or ``None`` when ``text`` is not one. A time without offset is refused: it is ambiguous."""
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None or "T" not in text.upper():
        return None
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes writes ``metav1.Time``."""
    if value.tzinfo is None:
        raise ValueError("a time without a timezone cannot be written")  # our bug, not input
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _structure_quantity(value: object, _: type) -> Quantity:
    return quantity_from_json(value)


def _is_tuple(cls: Any) -> bool:
    return get_origin(cls) is tuple


def _is_dict(cls: Any) -> bool:
    return get_origin(cls) is dict


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    _register_scalars(converter)
    _register_collections(converter)
    _register_models(converter)
    return converter


def _register_scalars(converter: cattrs.Converter) -> None:
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(bytes, _structure_bytes)
    converter.register_unstructure_hook(bytes, lambda raw: base64.b64encode(raw).decode())
    converter.register_structure_hook(Quantity, _structure_quantity)
    converter.register_unstructure_hook(Quantity, str)
    converter.register_structure_hook(datetime, _structure_time)
    converter.register_unstructure_hook(datetime, format_time)


def _register_collections(converter: cattrs.Converter) -> None:
    """Lists become tuples and maps dicts; ``null`` is empty; errors keep index and key."""

    def tuple_hook(cls: Any) -> Callable[[object, Any], tuple[object, ...]]:
        (item_type, _) = get_args(cls)
        item_hook = converter.get_structure_hook(item_type)

        def structure(value: object, _: Any) -> tuple[object, ...]:
            if value is None:  # Go and YAML both write null for an empty list
                return ()
            if type(value) is not list and (
                isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence)
            ):
                raise _ScalarError(f"expected a list, got {_describe(value)}")
            items = []
            errors: list[Exception] = []
            for index, item in enumerate(value):
                try:
                    items.append(item_hook(item, item_type))
                except Exception as exc:
                    exc.__notes__ = [*getattr(exc, "__notes__", []), f"index {index}"]
                    errors.append(_IndexedError(index, exc))
            if errors:
                raise cattrs.IterableValidationError("list", errors, cls)
            return tuple(items)

        return structure

    def dict_hook(cls: Any) -> Callable[[object, Any], dict[object, object]]:
        _key_type, value_type = get_args(cls)
        value_hook = converter.get_structure_hook(value_type)

        def structure(value: object, _: Any) -> dict[object, object]:
            if value is None:
                return {}
            if type(value) is not dict and not isinstance(value, Mapping):
                raise _ScalarError(f"expected an object, got {_describe(value)}")
            result: dict[object, object] = {}
            errors: list[Exception] = []
            for key, item in value.items():
                try:
                    result[_structure_str(key, str)] = value_hook(item, value_type)
                except Exception as exc:
                    errors.append(_KeyedError(str(key), exc))
            if errors:
                raise cattrs.IterableValidationError("map", errors, cls)
            return result

        return structure

    converter.register_structure_hook_factory(_is_tuple, tuple_hook)
    converter.register_structure_hook_factory(_is_dict, dict_hook)


def _register_models(converter: cattrs.Converter) -> None:
    """Every attrs model class: camelCase keys, defaults omitted, unknown volume sources kept."""

    def attrs_structure(cls: Any) -> Callable[[object, Any], object]:
        renames = {a.name: override(rename=json_key(a.name)) for a in attrs.fields(cls)}
        generated = make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]

        def structure(value: object, _: Any) -> object:
            if value is None:
                value = {}
            if type(value) is not dict and not isinstance(value, Mapping):
                raise _ScalarError(f"expected an object, got {_describe(value)}")
            if cls is m.Volume:
                value = _with_unsupported(value, _VOLUME_SOURCE_KEYS | {"name"})
            elif cls is m.VolumeProjection:
                value = _with_unsupported(value, _PROJECTION_SOURCE_KEYS)
            return generated(value, cls)

        return structure

    def attrs_unstructure(cls: Any) -> Callable[[Any], dict[str, object]]:
        renames = {a.name: override(rename=json_key(a.name)) for a in attrs.fields(cls)}
        generated = make_dict_unstructure_fn(
            cls,
            converter,
            _cattrs_omit_if_default=True,
            **renames,  # type: ignore[arg-type]
        )
        if cls not in (m.Volume, m.VolumeProjection):
            return generated

        def unstructure(value: Any) -> dict[str, object]:
            data = generated(value)
            unsupported = data.pop("unsupported", None)
            if isinstance(unsupported, Mapping):
                data[str(unsupported["kind"])] = {}
            return data

        return unstructure

    converter.register_structure_hook_factory(attrs.has, attrs_structure)
    converter.register_unstructure_hook_factory(attrs.has, attrs_unstructure)


def _with_unsupported(value: Mapping[str, object], known: frozenset[str]) -> Mapping[str, object]:
    """Record the first unknown source key of a volume, so translation can refuse it."""
    if any(key in value for key in known - {"name"}):
        return value
    unknown = sorted(key for key in value if key not in known and key != "unsupported")
    if not unknown:
        return value
    return {**value, "unsupported": {"kind": unknown[0]}}


class _IndexedError(Exception):
    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


class _KeyedError(Exception):
    def __init__(self, key: str, error: Exception) -> None:
        super().__init__(str(error))
        self.key = key
        self.error = error


_CONVERTER = _make_converter()


def _first_error(exc: BaseException, path: str) -> tuple[str, str]:
    """Walk a cattrs error tree to its first leaf: (JSON path, reason)."""
    if isinstance(exc, _IndexedError):
        return _first_error(exc.error, f"{path}[{exc.index}]")
    if isinstance(exc, _KeyedError):
        return _first_error(exc.error, key_path(path, exc.key))
    if isinstance(exc, cattrs.ClassValidationError):
        for sub in exc.exceptions:
            notes = getattr(sub, "__notes__", [])
            note = next((n for n in notes if hasattr(n, "name")), None)
            name = json_key(note.name) if note is not None else ""
            return _first_error(sub, f"{path}.{name}" if name else path)
    if isinstance(exc, cattrs.BaseValidationError):
        for sub in exc.exceptions:
            return _first_error(sub, path)
    if isinstance(exc, KeyError):
        return path, "required field missing"
    if isinstance(exc, InputError):
        return path, exc.reason
    if isinstance(exc, _ScalarError):
        return path, str(exc)
    return path, f"invalid value ({exc})"


def _structure(data: object, cls: type[T], source: str) -> T:
    try:
        return _CONVERTER.structure(data, cls)
    except (cattrs.BaseValidationError, _ScalarError, InputError) as exc:
        path, reason = _first_error(exc, "")
        raise PodError(reason, path=path.lstrip("."), source=source) from None


def pod_from_json(data: object, *, source: str = "") -> m.Pod:
    """Build a :class:`~._model.Pod` from decoded Kubernetes JSON (or YAML).

    Unknown fields are ignored; a field of the wrong type raises :class:`PodError` naming its
    path. ``source`` (a file name) is carried into the error.
    """
    return _structure(data, m.Pod, source)


def pod_to_json(pod: m.Pod) -> dict[str, Any]:
    """Kubernetes JSON for a pod: camelCase keys, fields at their default left out."""
    result: dict[str, Any] = _CONVERTER.unstructure(pod)
    return result


def config_map_from_json(data: object, *, source: str = "") -> m.ConfigMap:
    """Build a ConfigMap from decoded JSON; ``binaryData`` values are base64."""
    return _structure(data, m.ConfigMap, source)


def config_map_to_json(config_map: m.ConfigMap) -> dict[str, Any]:
    """Kubernetes JSON for a ConfigMap."""
    result: dict[str, Any] = _CONVERTER.unstructure(config_map)
    return result


def secret_from_json(data: object, *, source: str = "") -> m.Secret:
    """Build a Secret from decoded JSON; ``data`` values are base64, ``stringData`` text."""
    return _structure(data, m.Secret, source)


def secret_to_json(secret: m.Secret) -> dict[str, Any]:
    """Kubernetes JSON for a Secret."""
    result: dict[str, Any] = _CONVERTER.unstructure(secret)
    return result


@attrs.frozen(kw_only=True)
class PodBundle:
    """A pod and the ConfigMaps and Secrets that came with it."""

    pod: m.Pod
    config_maps: tuple[m.ConfigMap, ...] = ()
    secrets: tuple[m.Secret, ...] = ()


def pod_bundle_from_documents(documents: Sequence[object], *, source: str = "") -> PodBundle:
    """Pick the pod, ConfigMaps and Secrets out of decoded documents (a multi-document YAML).

    A document's ``kind`` says what it is; a document without ``kind`` that has
    ``spec.containers`` is a pod (pods often arrive without ``kind``). ``kind: List`` documents
    are flattened. Exactly one pod must be present; other kinds are an error, since silently
    ignoring a Deployment would render nothing the user meant.
    """
    pods: list[m.Pod] = []
    config_maps: list[m.ConfigMap] = []
    secrets: list[m.Secret] = []
    for number, path, document in _flatten(documents):
        where = f"{source} (document {number})" if len(documents) > 1 else source
        if document is None:
            continue
        try:
            if not isinstance(document, Mapping):
                raise PodError(f"expected an object, got {_describe(document)}")
            kind = document.get("kind")
            if kind == "Pod" or (kind is None and _looks_like_pod(document)):
                pods.append(pod_from_json(document))
            elif kind == "ConfigMap":
                config_maps.append(config_map_from_json(document))
            elif kind == "Secret":
                secrets.append(secret_from_json(document))
            else:
                shown = "no kind" if kind is None else f"kind {kind!r}"
                raise PodError(f"{shown}: expected a Pod, ConfigMap or Secret", path="kind")
        except InputError as exc:
            raise exc.under(path).with_source(where) from None
    if len(pods) != 1:
        raise PodError(f"expected exactly one Pod, found {len(pods)}", source=source)
    return PodBundle(pod=pods[0], config_maps=tuple(config_maps), secrets=tuple(secrets))


def _looks_like_pod(document: Mapping[str, object]) -> bool:
    spec = document.get("spec")
    return isinstance(spec, Mapping) and "containers" in spec


def _flatten(documents: Sequence[object]) -> list[tuple[int, str, object]]:
    """(document number, path inside it, object), with ``kind: List`` items spread out."""
    flat: list[tuple[int, str, object]] = []
    for number, document in enumerate(documents, start=1):
        if isinstance(document, Mapping) and document.get("kind") == "List":
            items = document.get("items") or []
            if isinstance(items, Sequence) and not isinstance(items, str):
                flat.extend((number, f"items[{i}]", item) for i, item in enumerate(items))
                continue
        flat.append((number, "", document))
    return flat
