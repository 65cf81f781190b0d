"""Skipping tests that need a real component — unless CI says they must run.

``INTERLINK_REQUIRE_REAL=1`` (set by ``.ci/run``) turns every such skip off, so that a
missing component fails the run instead of hiding behind a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_REAL = os.environ.get("INTERLINK_REQUIRE_REAL") == "1"


def needs_program(program: str, hint: str) -> pytest.MarkDecorator:
    """Skip when ``program`` is not on PATH (``hint`` says how to get it), unless required."""
    return pytest.mark.skipif(
        shutil.which(program) is None and not REQUIRE_REAL,
        reason=f"{program} is not installed: {hint}",
    )
