"""Fuzz targets: one per parser of outside input.

Each ``fuzz/fuzz_<area>.py`` module defines ``TARGETS``, a mapping from a target name to a
function taking arbitrary ``bytes``. A target feeds the bytes to one parser and lets only
pyinterlink's own :class:`~pyinterlink.core.InputError` family pass; any other exception is a
finding. Seed inputs live in ``fuzz/corpus/<target>/`` (real scheduler output where possible).

The test suite runs every target briefly with hypothesis and over its whole corpus
(``tests/test_fuzz.py``); ``python -m fuzz <target>`` drives one with atheris, a
coverage-guided fuzzer, when it is installed (``pip install atheris``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["CORPUS", "Target", "all_targets"]

Target = Callable[[bytes], None]
CORPUS = Path(__file__).resolve().parent / "corpus"


def all_targets() -> dict[str, Target]:
    """Every target of every ``fuzz_*`` module, by name (names are unique)."""
    targets: dict[str, Target] = {}
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("fuzz_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for name, target in loaded.TARGETS.items():
            if name in targets:
                raise RuntimeError(f"fuzz target {name!r} is defined twice")
            targets[name] = target
    return targets


def seeds(name: str) -> list[bytes]:
    """The corpus of one target (empty when it has none)."""
    folder = CORPUS / name
    if not folder.is_dir():
        return []
    return [path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()]
