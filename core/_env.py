"""A container's environment, resolved to literal values.

Kubernetes order: every ``envFrom`` source in turn, then each ``env`` entry; a later name
replaces an earlier one. ``$(NAME)`` references in ``env`` values expand against what is
defined before them. References to ConfigMaps and Secrets resolve from the objects at hand;
a missing object or key is an error unless the reference is ``optional``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Literal

import attrs

from ._errors import PodError, join_path
from ._expand import expand_references
from ._model import (
    ConfigMapKeySelector,
    Container,
    EnvVarSource,
    ObjectFieldSelector,
    Pod,
    ResourceFieldSelector,
    SecretKeySelector,
)
from ._objects import PodObjects

__all__ = ["PodFacts", "field_value", "resolve_env", "resource_value"]

# Kubernetes (since 1.30) accepts any printable ASCII but "=" in a variable name; envFrom
# keys that are not valid names are skipped, as the kubelet does.
_ENV_NAME = re.compile(r"[\x21-\x3c\x3e-\x7e]+")
_LABEL_REF = re.compile(r"metadata\.(labels|annotations)\['(.*)'\]\Z", re.DOTALL)


@attrs.frozen(kw_only=True)
class PodFacts:
    """Facts about the pod known before the job runs, for ``fieldRef`` and downwardAPI."""

    pod: Pod
    namespace: str
    pod_ip: str | None = None
    amounts: Mapping[str, tuple[int | None, int | None]] = attrs.field(factory=dict)
    """Container name → (CPU millicores, memory bytes) by the limits-over-requests rule."""


def field_value(selector: ObjectFieldSelector, facts: PodFacts, *, path: str) -> str:
    """The value of a ``fieldRef`` (env or downwardAPI file)."""
    meta = facts.pod.metadata
    field_path = selector.field_path
    simple: dict[str, Callable[[], str]] = {
        "metadata.name": lambda: meta.name,
        "metadata.namespace": lambda: facts.namespace,
        "metadata.uid": lambda: meta.uid,
        "spec.nodeName": lambda: facts.pod.spec.node_name,
        "spec.serviceAccountName": lambda: facts.pod.spec.service_account_name,
        "metadata.labels": lambda: _format_map(meta.labels),
        "metadata.annotations": lambda: _format_map(meta.annotations),
    }
    if field_path in simple:
        return simple[field_path]()
    match = _LABEL_REF.match(field_path)
    if match:
        source = meta.labels if match.group(1) == "labels" else meta.annotations
        return source.get(match.group(2), "")
    if field_path in {"status.podIP", "status.podIPs"}:
        if facts.pod_ip is None:
            raise PodError(
                "the pod IP is not known before the job runs; set the interlink.eu/pod-ip "
                "annotation to provide one",
                path=join_path(path, "fieldPath"),
            )
        return facts.pod_ip
    raise PodError(
        f"field {field_path!r} cannot be resolved for an offloaded pod",
        path=join_path(path, "fieldPath"),
    )


def _format_map(values: Mapping[str, str]) -> str:
    # The kubelet's downwardAPI format: key="value" lines, sorted, values Go-quoted.
    def go_quote(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'

    return "\n".join(f"{key}={go_quote(values[key])}" for key in sorted(values))


def resource_value(
    selector: ResourceFieldSelector, default_container: str, facts: PodFacts, *, path: str
) -> str:
    """The value of a ``resourceFieldRef``: the amount divided by the divisor, rounded up."""
    container = selector.container_name or default_container
    if container not in facts.amounts:
        raise PodError(f"no container named {container!r}", path=join_path(path, "containerName"))
    cpu_millis, memory_bytes = facts.amounts[container]
    kind, _, resource = selector.resource.partition(".")
    if kind not in {"limits", "requests"} or resource not in {"cpu", "memory"}:
        raise PodError(
            f"resource {selector.resource!r} cannot be resolved for an offloaded pod",
            path=join_path(path, "resource"),
        )
    divisor = selector.divisor.value if selector.divisor is not None else Fraction(1)
    if divisor <= 0:
        raise PodError("the divisor must be positive", path=join_path(path, "divisor"))
    if resource == "cpu":
        amount = Fraction(cpu_millis if cpu_millis is not None else 1000, 1000)
    else:
        amount = Fraction(memory_bytes if memory_bytes is not None else 0)
    result = amount / divisor
    return str(-(-result.numerator // result.denominator))


def _source_value(
    source: EnvVarSource,
    container: Container,
    objects: PodObjects,
    facts: PodFacts,
    *,
    path: str,
) -> str | None:
    """The value of a ``valueFrom``; ``None`` when an optional reference is missing."""
    if source.field_ref is not None:
        return field_value(source.field_ref, facts, path=join_path(path, "fieldRef"))
    if source.resource_field_ref is not None:
        return resource_value(
            source.resource_field_ref,
            container.name,
            facts,
            path=join_path(path, "resourceFieldRef"),
        )
    references: tuple[
        tuple[Literal["ConfigMap", "Secret"], str, ConfigMapKeySelector | SecretKeySelector | None],
        ...,
    ] = (
        ("ConfigMap", "configMapKeyRef", source.config_map_key_ref),
        ("Secret", "secretKeyRef", source.secret_key_ref),
    )
    for kind, field, ref in references:
        if ref is None:
            continue
        where = join_path(path, field)
        contents = objects.contents(kind, ref.name)
        if contents is None:
            _missing(f"{kind} {ref.name!r} is not available", ref.optional, where)
            return None
        if ref.key not in contents:
            _missing(f"{kind} {ref.name!r} has no key {ref.key!r}", ref.optional, where)
            return None
        return _text(contents[ref.key], where)
    raise PodError("valueFrom names no source", path=path)


def _missing(reason: str, optional: bool | None, path: str) -> None:
    """Raise unless the reference is optional (a missing optional reference is skipped)."""
    if optional:
        return None
    raise PodError(reason, path=path)


def _text(raw: bytes, path: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise PodError(
            "the value is not UTF-8 text, so it cannot be an environment value", path=path
        ) from None


def resolve_env(
    container: Container, objects: PodObjects, facts: PodFacts, *, path: str
) -> dict[str, str]:
    """The container's environment as literal values, in Kubernetes order.

    ``path`` names the container (``spec.containers[0]``). Errors name the entry.
    """
    env: dict[str, str] = {}
    for index, source in enumerate(container.env_from):
        where = f"{path}.envFrom[{index}]"
        contents: dict[str, bytes] | None = None
        if source.config_map_ref is not None:
            cm = objects.config_maps.get(source.config_map_ref.name)
            if cm is None:
                _missing(
                    f"ConfigMap {source.config_map_ref.name!r} is not available",
                    source.config_map_ref.optional,
                    f"{where}.configMapRef",
                )
            else:
                contents = cm.contents()
        elif source.secret_ref is not None:
            secret = objects.secrets.get(source.secret_ref.name)
            if secret is None:
                _missing(
                    f"Secret {source.secret_ref.name!r} is not available",
                    source.secret_ref.optional,
                    f"{where}.secretRef",
                )
            else:
                contents = secret.contents()
        else:
            raise PodError("envFrom names no source", path=where)
        for key, raw in sorted((contents or {}).items()):
            name = source.prefix + key
            if _ENV_NAME.fullmatch(name):
                env[name] = _text(raw, where)
    for index, var in enumerate(container.env):
        if not _ENV_NAME.fullmatch(var.name):
            raise PodError(
                f"{var.name!r} is not a valid environment variable name",
                path=f"{path}.env[{index}].name",
            )
        if var.value_from is not None:
            value = _source_value(
                var.value_from, container, objects, facts, path=f"{path}.env[{index}].valueFrom"
            )
            if value is None:
                continue
        else:
            value = expand_references(var.value, env)
        env[var.name] = value
    return env
