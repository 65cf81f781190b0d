"""Slurm: the sbatch script a job becomes, and what Slurm says back (parsers, state table).

A public view of private modules; see their docstrings for the contracts.
"""

from __future__ import annotations

from ._slurm import (
    render_slurm,
    sbatch_line,
    sbatch_options,
    sbatch_time,
)
from ._slurm_states import (
    SLURM_STATE_TABLE,
    SLURM_STATES,
    SlurmStateRow,
    slurm_state,
)
from ._slurm_status import (
    SACCT_FIELDS,
    SACCT_FORMAT,
    SLURM_ENV,
    SQUEUE_FIELDS,
    SQUEUE_FORMAT,
    JobId,
    SacctField,
    SlurmJob,
    SqueueField,
    container_results,
    parse_container_status,
    parse_sacct,
    parse_sbatch_parsable,
    parse_scontrol_jobs,
    parse_slurm_time,
    parse_squeue,
    sacct_argv,
    sacct_jobs,
    scontrol_argv,
    scontrol_jobs,
    squeue_argv,
    squeue_format,
    squeue_jobs,
)

__all__ = [
    "SACCT_FIELDS",
    "SACCT_FORMAT",
    "SLURM_ENV",
    "SLURM_STATES",
    "SLURM_STATE_TABLE",
    "SQUEUE_FIELDS",
    "SQUEUE_FORMAT",
    "JobId",
    "SacctField",
    "SlurmJob",
    "SlurmStateRow",
    "SqueueField",
    "container_results",
    "parse_container_status",
    "parse_sacct",
    "parse_sbatch_parsable",
    "parse_scontrol_jobs",
    "parse_slurm_time",
    "parse_squeue",
    "render_slurm",
    "sacct_argv",
    "sacct_jobs",
    "sbatch_line",
    "sbatch_options",
    "sbatch_time",
    "scontrol_argv",
    "scontrol_jobs",
    "slurm_state",
    "squeue_argv",
    "squeue_format",
    "squeue_jobs",
]
