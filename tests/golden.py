"""Golden files: what a renderer produces, pinned in tests/golden/.

Run the tests with ``UPDATE_GOLDEN=1`` to rewrite the files after an intended change, then
read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """Assert that ``text`` equals ``tests/golden/<name>`` (or rewrite it when asked to)."""
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it"
    expected = path.read_text()
    assert text == expected, f"output differs from {path}; UPDATE_GOLDEN=1 rewrites it"
