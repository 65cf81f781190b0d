"""Local: the plan the local backend executes on this host.

A public view of private modules; see their docstrings for the contracts.
"""

from __future__ import annotations

from ._local import (
    LocalCommand,
    LocalFile,
    LocalPlan,
    LocalProcess,
    local_plan,
    plan_json,
    render_local,
)

__all__ = [
    "LocalCommand",
    "LocalFile",
    "LocalPlan",
    "LocalProcess",
    "local_plan",
    "plan_json",
    "render_local",
]
