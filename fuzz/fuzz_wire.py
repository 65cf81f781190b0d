"""Fuzz targets for interLink's wire messages: one per top-level decoder.

A body that decodes must also survive encode → decode unchanged (what we pass on means what we
received); one that does not decode must raise WireError. Seeds are the golden bodies of
tests/golden/wire/ (what upstream's Go code sends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from pyinterlink.core import InputError
from pyinterlink.core._wire import (
    create_struct_from_json,
    create_struct_to_json,
    dump_json,
    load_json,
    log_struct_from_json,
    log_struct_to_json,
    ping_response_from_body,
    ping_response_from_json,
    ping_response_to_json,
    pod_create_requests_from_json,
    pod_create_requests_to_json,
    pod_status_list_from_json,
    pod_status_list_to_json,
    pods_from_json,
    pods_to_json,
    retrieved_pod_data_from_json,
    retrieved_pod_data_to_json,
    wire_pod_from_json,
    wire_pod_to_json,
)

from . import Target


def _target(decode: Callable[[object], Any], encode: Callable[[Any], object]) -> Target:
    def run(data: bytes) -> None:
        try:
            value = decode(load_json(data))
        except InputError:
            return
        again = decode(load_json(dump_json(encode(value))))
        if again != value:
            raise AssertionError(f"decode(encode(x)) != x for {data[:200]!r}")

    return run


def _ping_body(data: bytes) -> None:
    """The ping answer as the virtual kubelet reads it: optional, else a PingResponse."""
    with contextlib.suppress(InputError):
        ping_response_from_body(data)
    _target(ping_response_from_json, ping_response_to_json)(data)


TARGETS: dict[str, Target] = {
    "wire_pod_create_requests": _target(pod_create_requests_from_json, pod_create_requests_to_json),
    "wire_retrieved_pod_data": _target(retrieved_pod_data_from_json, retrieved_pod_data_to_json),
    "wire_create_struct": _target(create_struct_from_json, create_struct_to_json),
    "wire_pod": _target(wire_pod_from_json, wire_pod_to_json),
    "wire_status_request": _target(pods_from_json, pods_to_json),
    "wire_status_answer": _target(pod_status_list_from_json, pod_status_list_to_json),
    "wire_log_struct": _target(log_struct_from_json, log_struct_to_json),
    "wire_ping_response": _ping_body,
}
