"""The state-table reference page is the tables the parsers use, rendered."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pyinterlink.core._state_docs import (
    htcondor_table_markdown,
    slurm_table_markdown,
    unicore_table_markdown,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "state-tables.md"
BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def test_the_page_shows_the_tables_of_the_code() -> None:
    blocks = {
        "slurm": slurm_table_markdown(),
        "htcondor": htcondor_table_markdown(),
        "unicore": unicore_table_markdown(),
    }
    text = DOC.read_text()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        text = BLOCK.sub(lambda m: m.group(1) + blocks[m.group("name")] + m.group(4), text)
        DOC.write_text(text)
    assert {m.group("name"): m.group("body") for m in BLOCK.finditer(text)} == blocks


def test_every_slurm_state_of_the_documentation_has_a_row() -> None:
    text = slurm_table_markdown()
    documented = [  # SLURM.md: the 24 states of squeue(1) "JOB STATE CODES"
        *("BOOT_FAIL", "CANCELLED", "COMPLETED", "CONFIGURING", "COMPLETING", "DEADLINE"),
        *("FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PENDING", "PREEMPTED", "RUNNING"),
        *("RESV_DEL_HOLD", "REQUEUE_FED", "REQUEUE_HOLD", "REQUEUED", "RESIZING", "REVOKED"),
        *("SIGNALING", "SPECIAL_EXIT", "STAGE_OUT", "STOPPED", "SUSPENDED", "TIMEOUT"),
    ]
    for state in documented:
        assert f"| `{state}` |" in text, state
