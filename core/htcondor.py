"""HTCondor: the submit description and executable a job becomes, and what HTCondor says back.

A public view of private modules; see their docstrings for the contracts.
"""

from __future__ import annotations

from ._htcondor import (
    HTCondorOptions,
    classad_string,
    htcondor_executable,
    htcondor_submit_description,
    render_htcondor,
    submit_literal,
)
from ._htcondor_status import (
    HTCONDOR_AD_ATTRIBUTES,
    HTCONDOR_HOLD_REASONS,
    HTCONDOR_STATE_TABLE,
    CondorJob,
    StateRow,
    htcondor_job_state,
    parse_condor_ads,
    parse_condor_jobs,
    parse_condor_submit,
)

__all__ = [
    "HTCONDOR_AD_ATTRIBUTES",
    "HTCONDOR_HOLD_REASONS",
    "HTCONDOR_STATE_TABLE",
    "CondorJob",
    "HTCondorOptions",
    "StateRow",
    "classad_string",
    "htcondor_executable",
    "htcondor_job_state",
    "htcondor_submit_description",
    "parse_condor_ads",
    "parse_condor_jobs",
    "parse_condor_submit",
    "render_htcondor",
    "submit_literal",
]
