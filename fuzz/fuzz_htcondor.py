"""Fuzz targets for HTCondor's output: condor_submit, and condor_q / condor_history ads."""

from __future__ import annotations

import contextlib

from pyinterlink.core._errors import InputError
from pyinterlink.core._htcondor_status import parse_condor_ads, parse_condor_submit

from . import Target


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def condor_submit(data: bytes) -> None:
    """condor_submit's report (plain or -terse): a cluster id or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_condor_submit(_text(data))


def condor_ads(data: bytes) -> None:
    """condor_q -json / condor_history -json: states by pod or a SchedulerOutputError."""
    with contextlib.suppress(InputError):
        parse_condor_ads(_text(data))


TARGETS: dict[str, Target] = {
    "condor_submit": condor_submit,
    "condor_ads": condor_ads,
}
