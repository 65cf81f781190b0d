"""The scheduler state tables as Markdown, made from the tables the parsers use.

``docs/reference/state-tables.md`` holds this text between generation markers; a test fails
when the page and the code disagree, so the reference cannot drift from the behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._htcondor_status import HTCONDOR_STATE_TABLE, StateRow
from ._slurm_states import SLURM_STATE_TABLE
from ._unicore_status import UNICORE_STATE_TABLE

__all__ = ["htcondor_table_markdown", "slurm_table_markdown", "unicore_table_markdown"]


def _cell(text: str) -> str:
    # A table cell is one line; a pipe would end it.
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _reason(reason: str | None, *, pending: bool = False) -> str:
    if pending:
        return "the scheduler's pending reason (`%r`)"
    return f"`{reason}`" if reason else ""


def _link(source: str) -> str:
    """The citations of a row as Markdown links where they are URLs."""
    parts = []
    for piece in source.split("; "):
        label, _, url = piece.rpartition(": ")
        if not url.startswith("http"):
            parts.append(piece)
            continue
        # A bare URL is labelled with its last path segment (page and anchor).
        parts.append(f"[{label or url.rstrip('/').rsplit('/', 1)[-1]}]({url})")
    return "; ".join(parts)


def slurm_table_markdown() -> str:
    """Every Slurm job state: code, neutral kind, reason, why, and the documentation."""
    return _table(
        ("state", "code", "kind", "reason", "why", "source"),
        (
            (
                f"`{row.state}`",
                f"`{row.code}`",
                row.kind,
                _reason(row.reason, pending=row.pending_reason),
                row.note,
                _link(row.source),
            )
            for row in SLURM_STATE_TABLE
        ),
    )


def _rows(table: Sequence[StateRow]) -> str:
    return _table(
        ("state", "when", "kind", "reason", "why", "source"),
        (
            (
                f"`{row.state}`",
                row.condition,
                row.kind,
                _reason(row.reason),
                row.note,
                _link(row.source),
            )
            for row in table
        ),
    )


def htcondor_table_markdown() -> str:
    """Every HTCondor ``JobStatus`` (and the conditions that refine it)."""
    return _rows(HTCONDOR_STATE_TABLE)


def unicore_table_markdown() -> str:
    """Every UNICORE job ``status`` (and the conditions that refine it)."""
    return _rows(UNICORE_STATE_TABLE)
