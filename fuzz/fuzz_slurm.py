"""Fuzz targets for Slurm's output: sbatch, squeue, scontrol, sacct and the ``.status`` files.

The seed corpora are real captures from the local Slurm (``tests/slurm_output/``), except
sacct's, which are samples of its documented format (no accounting runs here).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta, timezone

from pyinterlink.core._errors import InputError
from pyinterlink.core._slurm_status import (
    SqueueField,
    container_results,
    parse_container_status,
    parse_sacct,
    parse_sbatch_parsable,
    parse_scontrol_jobs,
    parse_squeue,
)

from . import Target

# The field layout of SLURM.md's `-o '%i|%t|%T|%r|%S|%e'`, beside the backend's default.
_SQUEUE_O: tuple[SqueueField, ...] = (
    "job_id",
    "state_code",
    "state",
    "reason",
    "start_time",
    "end_time",
)
# A zone with an offset, so that times are read in a zone other than the default.
_ZONE = timezone(timedelta(hours=5, minutes=30))


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def sbatch_parsable(data: bytes) -> None:
    """``sbatch --parsable`` output: a JobId or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_sbatch_parsable(_text(data))


def squeue(data: bytes) -> None:
    """squeue output in both field layouts: states or a SchedulerOutputError."""
    text = _text(data)
    with contextlib.suppress(InputError):
        parse_squeue(text)
    with contextlib.suppress(InputError):
        parse_squeue(text, fields=_SQUEUE_O, tz=_ZONE)


def scontrol(data: bytes) -> None:
    """``scontrol show job`` records: states or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_scontrol_jobs(_text(data), tz=_ZONE)


def sacct(data: bytes) -> None:
    """``sacct --parsable2`` output: states or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_sacct(_text(data))


def container_status(data: bytes) -> None:
    """A container's ``.status`` file, alone and as part of a directory listing."""
    text = _text(data)
    with contextlib.suppress(InputError):
        parse_container_status(text)
    with contextlib.suppress(InputError):
        container_results({"run-main.status": text, "job.out": text, text: text})


TARGETS: dict[str, Target] = {
    "sbatch_parsable": sbatch_parsable,
    "squeue": squeue,
    "scontrol": scontrol,
    "sacct": sacct,
    "container_status": container_status,
}
