"""HTCondor dialect: a :class:`~._job.Job` as a submit description and its executable.

Theory of operation: a pod becomes one HTCondor job (one ``queue`` statement, one proc). The
executable ``job.sh`` is the self-contained pod script; HTCondor starts it in the job's scratch
directory on the execute node (the *sandbox*), so the script's working directory is ``$PWD``
at run time, not a path known at submit time. The submit description ``job.sub`` is the only
place where HTCondor's own language appears, and every value that reaches it goes through
:func:`submit_value`, which refuses what could end a line (and so start a new command).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs

__all__ = [
    "HTCondorOptions",
]


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    # A read-only copy: the options are a frozen value, the caller's dict must not leak in.
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class HTCondorOptions:
    """What a site configures for HTCondor (the site YAML's ``HTCondor:`` section).

    Every field has a default, so an empty section is valid. YAML keys are the PascalCase
    forms of the field names (``AccountingGroup`` for ``accounting_group``).

    ``universe``: ``vanilla`` runs the pod script on the execute node, and the script starts
    every container through the job's container runtime (``apptainer`` …); ``container``
    asks HTCondor itself to start the script inside the containers' image
    (``container_image``), which needs every container of the pod to use the same image.

    ``requirements``: a ClassAd expression added as the job's ``requirements``
    (``OpSysAndVer == "AlmaLinux9"``). ``rank``: a ClassAd expression ranking machines.

    ``accounting_group`` and ``accounting_group_user``: the fair-share group and user.

    ``request_disk``: the sandbox size to ask for, in HTCondor's syntax (``2GB``, ``2048``
    meaning KiB); the pod spec has no disk request of its own.

    ``time_limit``: how ``activeDeadlineSeconds`` is enforced. ``allowed_execute_duration``
    (HTCondor 9.4 and later) puts a job on hold once it has executed that long;
    ``periodic_remove`` removes it with a ``periodic_remove`` expression on the wall clock of
    the current run, which works on every version. ``max_runtime_attribute``, when set, also
    publishes the limit in seconds under that job attribute (``MaxRuntime`` at sites whose
    scheduling policy reads it).

    ``extra_commands``: site-wide submit commands written verbatim as ``name = value``
    (``+ProjectName: '"physics"'``); values are checked like every other value but not
    quoted, since they are already in the submit language.
    """

    universe: Literal["vanilla", "container"] = "vanilla"
    requirements: str | None = None
    rank: str | None = None
    accounting_group: str | None = None
    accounting_group_user: str | None = None
    request_disk: str | None = None
    time_limit: Literal["allowed_execute_duration", "periodic_remove"] = "allowed_execute_duration"
    max_runtime_attribute: str | None = None
    extra_commands: Mapping[str, str] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )
