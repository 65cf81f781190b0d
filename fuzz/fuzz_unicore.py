"""Fuzz targets for UNICORE's REST answers: job properties, job lists and its times."""

from __future__ import annotations

import contextlib

from pyinterlink.core._errors import InputError
from pyinterlink.core._unicore_status import (
    parse_unicore_job,
    parse_unicore_job_list,
    parse_unicore_time,
)

from . import Target


def unicore_job(data: bytes) -> None:
    """A job's properties (the raw HTTP body): a RemoteState or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_unicore_job(data)


def unicore_job_list(data: bytes) -> None:
    """A job list (the raw HTTP body): job URLs or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_unicore_job_list(data)


def unicore_time(data: bytes) -> None:
    """A UNICORE time (2026-11-23T16:04:16+0100): a datetime or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_unicore_time(data.decode("utf-8", errors="replace"))


TARGETS: dict[str, Target] = {
    "unicore_job": unicore_job,
    "unicore_job_list": unicore_job_list,
    "unicore_time": unicore_time,
}
