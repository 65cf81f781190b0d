"""Fuzz targets for the inputs of issue 2: pods, quantities, annotations, site configs."""

from __future__ import annotations

import contextlib
import json

from pyinterlink.core import (
    InputError,
    parse_annotations,
    parse_quantity,
    parse_site_config,
    pod_from_json,
    split_flags,
)

from . import Target


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _json(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def pod_json(data: bytes) -> None:
    """A pod from decoded JSON: a Pod or a PodError."""
    with contextlib.suppress(InputError):
        pod_from_json(_json(data))


def quantity(data: bytes) -> None:
    """A Kubernetes quantity: a Quantity or a QuantityError."""
    with contextlib.suppress(InputError):
        parse_quantity(_text(data))


def flags(data: bytes) -> None:
    """The sbatch flags annotation: options or an AnnotationError."""
    with contextlib.suppress(InputError):
        parse_annotations({"slurm-job.vk.io/flags": _text(data)})
    with contextlib.suppress(InputError):
        split_flags(_text(data), path="flags")


def site_config(data: bytes) -> None:
    """A site configuration from decoded JSON: a SiteConfig or a ConfigError."""
    with contextlib.suppress(InputError):
        parse_site_config(_json(data))


TARGETS: dict[str, Target] = {
    "pod_json": pod_json,
    "quantity": quantity,
    "flags": flags,
    "site_config": site_config,
}
