"""UNICORE: the job description a job becomes, and what a UNICORE site says back.

A public view of private modules; see their docstrings for the contracts.
"""

from __future__ import annotations

from ._unicore import (
    POD_UID_TAG_PREFIX,
    UnicoreOptions,
    pod_uid_tag,
    render_unicore,
    travels_as_import,
    unicore_job_description,
    unicore_script,
)
from ._unicore_status import (
    UNICORE_STATE_TABLE,
    UnicoreJob,
    parse_unicore_job,
    parse_unicore_job_list,
    parse_unicore_job_properties,
    parse_unicore_time,
)

__all__ = [
    "POD_UID_TAG_PREFIX",
    "UNICORE_STATE_TABLE",
    "UnicoreJob",
    "UnicoreOptions",
    "parse_unicore_job",
    "parse_unicore_job_list",
    "parse_unicore_job_properties",
    "parse_unicore_time",
    "pod_uid_tag",
    "render_unicore",
    "travels_as_import",
    "unicore_job_description",
    "unicore_script",
]
