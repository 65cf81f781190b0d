"""The pod's effective resources, by the Kubernetes rule.

A container's amount of a resource is its limit when it has one, else its request (limits
win: the batch scheduler enforces one number, and the limit is what the container may use).
The pod's amount is the larger of (the largest init container) and (the sum of the app
containers): init containers run one at a time before the app containers, which run together
(Kubernetes "Resources" section of the init containers concept page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from ._errors import PodError, key_path
from ._model import Container
from ._quantity import Quantity

__all__ = [
    "IGNORED_RESOURCES",
    "ContainerAmounts",
    "PodAmounts",
    "container_amounts",
    "pod_amounts",
]

# Standard resources that a batch job cannot enforce: accepted, with a warning.
IGNORED_RESOURCES = frozenset({"ephemeral-storage", "storage"})
_NANO = 10**9


@attrs.frozen(kw_only=True)
class ContainerAmounts:
    """What one container asks for: CPU in millicores, memory in bytes, extended counts."""

    cpu_millis: int | None = None
    memory_bytes: int | None = None
    extended: Mapping[str, int] = attrs.field(factory=dict)
    ignored: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class PodAmounts:
    """What the whole pod asks for (``None``: no container says)."""

    cpu_millis: int | None = None
    memory_bytes: int | None = None
    extended: Mapping[str, int] = attrs.field(factory=dict)
    ignored: tuple[str, ...] = ()


def _effective(container: Container) -> dict[str, tuple[str, Quantity]]:
    """Name → (which map it came from, quantity): limits over requests."""
    chosen = {name: ("requests", q) for name, q in container.resources.requests.items()}
    chosen.update({name: ("limits", q) for name, q in container.resources.limits.items()})
    return chosen


def container_amounts(container: Container, *, path: str) -> ContainerAmounts:
    """The amounts one container asks for; ``path`` names the container for errors.

    Negative amounts and fractional extended resources are errors (the API server refuses
    both). Hugepages cannot be requested from a batch scheduler portably, so they are errors.
    """
    cpu: int | None = None
    memory: int | None = None
    extended: dict[str, int] = {}
    ignored: list[str] = []
    for name, (where, quantity) in sorted(_effective(container).items()):
        nanos = quantity.nanos
        if nanos < 0:
            raise PodError(f"must not be negative, got {quantity}", path=_field(path, where, name))
        if name == "cpu":
            cpu = quantity.millis_ceil()
        elif name == "memory":
            memory = quantity.ceil()
        elif name in IGNORED_RESOURCES:
            ignored.append(name)
        elif name.startswith("hugepages-"):
            raise PodError(
                "hugepages cannot be requested from a batch scheduler",
                path=_field(path, where, name),
            )
        else:
            if nanos % _NANO:
                raise PodError(
                    f"an extended resource must be a whole number, got {quantity}",
                    path=_field(path, where, name),
                )
            extended[name] = nanos // _NANO
    return ContainerAmounts(
        cpu_millis=cpu, memory_bytes=memory, extended=extended, ignored=tuple(ignored)
    )


def _field(path: str, where: str, name: str) -> str:
    # Built only when an error needs it: most pods never pay for the path.
    return key_path(f"{path}.resources.{where}", name)


def _combine(init: Iterable[int | None], apps: Iterable[int | None]) -> int | None:
    init_values = [v for v in init if v is not None]
    app_values = [v for v in apps if v is not None]
    if not init_values and not app_values:
        return None
    return max(max(init_values, default=0), sum(app_values))


def pod_amounts(init: Iterable[ContainerAmounts], apps: Iterable[ContainerAmounts]) -> PodAmounts:
    """max(largest init container, sum of app containers), resource by resource."""
    init = tuple(init)
    apps = tuple(apps)
    if not init and len(apps) == 1:
        # Most pods: one container, whose amounts are the pod's.
        (app,) = apps
        return PodAmounts(
            cpu_millis=app.cpu_millis,
            memory_bytes=app.memory_bytes,
            extended={k: v for k, v in app.extended.items() if v},
            ignored=tuple(sorted(set(app.ignored))),
        )
    names = sorted({name for c in init + apps for name in c.extended})
    extended: dict[str, int] = {}
    for name in names:
        total = _combine((c.extended.get(name) for c in init), (c.extended.get(name) for c in apps))
        if total:
            extended[name] = total
    ignored = tuple(sorted({name for c in init + apps for name in c.ignored}))
    return PodAmounts(
        cpu_millis=_combine((c.cpu_millis for c in init), (c.cpu_millis for c in apps)),
        memory_bytes=_combine((c.memory_bytes for c in init), (c.memory_bytes for c in apps)),
        extended=extended,
        ignored=ignored,
    )
