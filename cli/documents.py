"""Reading pods and site configurations from files: YAML or JSON, with errors that name them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pyinterlink.core import (
    InputError,
    PodBundle,
    SiteConfig,
    default_site,
    parse_site_config,
    pod_bundle_from_documents,
)

__all__ = ["FileError", "load_documents", "load_pod_bundle", "load_site_config"]


class FileError(InputError):
    """A file that cannot be read or does not parse as YAML/JSON."""


class _KubernetesYamlLoader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: an unquoted timestamp stays a string.

    kubectl converts YAML to JSON before decoding, so ``2024-01-01`` in an annotation is
    text; PyYAML's default would make it a datetime and the pod would not decode.
    """


_KubernetesYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_documents(path: Path) -> list[Any]:
    """Every document of a YAML (multi-document) or JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FileError(f"cannot read the file: {reason}", source=str(path)) from None
    if path.suffix == ".json":
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise FileError(
                f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}", source=str(path)
            ) from None
    try:
        return list(yaml.load_all(text, Loader=_KubernetesYamlLoader))
    except yaml.YAMLError as exc:
        raise FileError(_yaml_reason(exc), source=str(path)) from None


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"line {mark.line + 1} column {mark.column + 1}: invalid YAML: {problem}"
    return f"invalid YAML: {problem}"


def load_pod_bundle(path: Path) -> PodBundle:
    """The pod (and the ConfigMaps and Secrets beside it) in ``path``."""
    return pod_bundle_from_documents(load_documents(path), source=str(path))


def load_site_config(path: Path | None, backend: str) -> SiteConfig:
    """The site configuration in ``path``, or the built-in defaults for ``backend``."""
    if path is None:
        return default_site(backend)
    documents = [d for d in load_documents(path) if d is not None]
    if len(documents) > 1:
        raise FileError("expected one YAML document", source=str(path))
    return parse_site_config(documents[0] if documents else {}, source=str(path))
