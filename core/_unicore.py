"""UNICORE dialect: a :class:`~._job.Job` as a UNICORE REST job description.

Theory of operation: a pod becomes one UNICORE job whose executable is ``bash`` running the
pod script, which arrives with the job as an inline import. UNICORE creates a fresh job
directory for every job and starts the executable there, so the script's working directory
is ``$PWD`` at run time. Key names and their meaning follow the UNICORE job description
documentation (https://unicore-docs.readthedocs.io/, "Job description format").
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = [
    "UnicoreOptions",
]


@attrs.frozen(kw_only=True)
class UnicoreOptions:
    """What a site configures for UNICORE (the site YAML's ``Unicore:`` section).

    Every field has a default, so an empty section is valid. YAML keys are the PascalCase
    forms of the field names (``JobType`` for ``job_type``).

    ``project``: the accounting project (``Project``), used when the pod names no account.
    ``queue``: the batch queue or partition (``Resources.Queue``), used when the pod names
    none. ``job_type``: ``Job type``, ``batch`` (run through the batch system, UNICORE's
    default) or ``on_login_node`` (run on a login node, for sites without a batch system);
    ``login_node`` picks the login node by name for the latter (wildcards allowed).
    ``nodes``: ``Resources.Nodes``, written only when set. ``node_constraints``, ``qos`` and
    ``reservation``: the ``Resources`` entries of those names, written only when set.
    ``bash``: the shell that runs the pod script on the target system. ``tags``: extra job
    tags added to the ones pyinterlink uses to find the job again.
    """

    project: str | None = None
    queue: str | None = None
    job_type: Literal["batch", "on_login_node"] = "batch"
    login_node: str | None = None
    nodes: int | None = None
    node_constraints: str | None = None
    qos: str | None = None
    reservation: str | None = None
    bash: str = "/bin/bash"
    tags: tuple[str, ...] = ()
