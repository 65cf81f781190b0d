"""The reference of the per-pod state machine, generated from its table and policy.

``docs/reference/pod-lifecycle.md`` embeds what these functions return, and a test checks
that it does, character for character, so the page cannot drift from the code.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from ._machine import (
    INPUTS,
    STATES,
    TRANSITIONS,
    Effect,
    Move,
    PollPolicy,
    effect_actions,
    effect_summary,
    input_summary,
    state_summary,
)

__all__ = [
    "effects_markdown",
    "events_markdown",
    "poll_policy_markdown",
    "state_diagram_mermaid",
    "transition_table_markdown",
]


def _actions(effect: Effect) -> str:
    names = [f"`{kind.__name__}`" for kind in effect_actions(effect)]
    return ", ".join(names) if names else "—"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _move_cells(move: Move) -> list[str]:
    return [f"`{move.target}`", move.effect.value, _actions(move.effect)]


def transition_table_markdown() -> str:
    """Every state with every input it accepts: the guard, the next state, the effect and the
    actions; then the inputs it refuses with :class:`MachineError`."""
    parts: list[str] = []
    for state in STATES:
        lines = [
            f"### `{state}`",
            "",
            f"{state_summary(state).capitalize()}.",
            "",
            "| input | when | next state | effect | actions |",
            "|---|---|---|---|---|",
        ]
        refused: list[str] = []
        for kind in INPUTS:
            transition = TRANSITIONS.get((state, kind))
            if transition is None:
                refused.append(kind.value)
                continue
            if transition.guard is None:
                lines.append(_row([kind.value, "", *_move_cells(transition.move)]))
                continue
            assert transition.otherwise is not None
            lines.append(_row([kind.value, transition.guard.value, *_move_cells(transition.move)]))
            lines.append(_row(["", "otherwise", *_move_cells(transition.otherwise)]))
        lines.append("")
        if refused:
            lines.append("Refused (`MachineError`): " + ", ".join(refused) + ".")
        else:
            lines.append("Refused: nothing.")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def state_diagram_mermaid() -> str:
    """A Mermaid state diagram of every move that changes the state (self-moves and ignored
    inputs are left out; the table lists them)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for (state, kind), transition in TRANSITIONS.items():
        for move in transition.moves:
            if move.target == state:
                continue
            labels = edges.setdefault((state.value, move.target.value), [])
            if kind.value not in labels:
                labels.append(kind.value)
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {STATES[0]}"]
    order = {state.value: index for index, state in enumerate(STATES)}
    for (source, target), labels in sorted(
        edges.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
    ):
        lines.append(f"    {source} --> {target}: {' / '.join(labels)}")
    lines.append(f"    {STATES[-1]} --> [*]")
    lines.append("```")
    return "\n".join(lines) + "\n"


def events_markdown() -> str:
    """Which events each table input stands for."""
    lines = ["| input | events |", "|---|---|"]
    lines.extend(_row([kind.value, input_summary(kind)]) for kind in INPUTS)
    return "\n".join(lines) + "\n"


def effects_markdown() -> str:
    """What each effect does and which actions it may return (in that order)."""
    lines = ["| effect | actions | what it does |", "|---|---|---|"]
    lines.extend(
        _row([effect.value, _actions(effect), effect_summary(effect).replace("``", "`")])
        for effect in Effect
    )
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds >= 60 and seconds % 60 == 0:
            return f"{seconds / 60:g} min"
        return f"{seconds:g} s"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def poll_policy_markdown(policy: PollPolicy | None = None) -> str:
    """The fields of :class:`PollPolicy` with their defaults (or ``policy``'s values)."""
    chosen = policy if policy is not None else PollPolicy()
    lines = ["| field | default | meaning |", "|---|---|---|"]
    for field in attrs.fields(PollPolicy):
        value = getattr(chosen, field.name)
        lines.append(_row([f"`{field.name}`", _value(value), field.metadata["doc"]]))
    return "\n".join(lines) + "\n"
