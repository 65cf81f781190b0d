"""The layering rules of DESIGN.md, checked by reading every import of every package."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "adapters", "backends", "server", "vk", "cli")

# Which of our own packages each package may import (DESIGN.md, "Layout").
ALLOWED_OWN = {
    "core": {"core"},
    "adapters": {"core", "adapters"},
    "backends": {"core", "adapters", "backends"},
    "server": {"core", "adapters", "backends", "server"},
    "vk": {"core", "adapters", "backends", "server", "vk"},
    "cli": set(PACKAGES),
}

# core/ does no I/O: neither these modules nor these calls.
CORE_FORBIDDEN_MODULES = {
    "anyio",
    "asyncio",
    "socket",
    "ssl",
    "subprocess",
    "os",
    "shutil",
    "tempfile",
    "io",
    "threading",
    "multiprocessing",
    "concurrent",
    "urllib",
    "http",
    "select",
    "selectors",
    "signal",
    "time",
    "random",
    "secrets",
    "sys",
    "logging",
    "pathlib",
    "glob",
    "importlib",
    "h11",
    "kubernetes",
    "yaml",
    "requests",
    "httpx",
    "pkgutil",
    "sqlite3",
}
CORE_ALLOWED_THIRD_PARTY = {"attrs", "cattrs", "jinja2", "markupsafe"}
CORE_FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "__import__", "breakpoint"}
CLOCK_METHODS = {"now", "utcnow", "today", "time", "monotonic", "uuid1", "uuid4"}


def _modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def _imports(tree: ast.AST, package_parts: list[str]) -> Iterator[tuple[int, str]]:
    """Absolute names of everything a module imports, relative imports resolved.

    ``package_parts`` is the dotted package the module lives in (``["pyinterlink", "core"]``).
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                yield node.lineno, node.module or ""
                continue
            base = package_parts[: len(package_parts) - (node.level - 1)]
            if node.module:
                yield node.lineno, ".".join([*base, node.module])
            else:
                for alias in node.names:
                    yield node.lineno, ".".join([*base, alias.name])


def _package_parts(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).parent.parts
    return ["pyinterlink", *relative]


def _own_package(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "pyinterlink" and len(parts) > 1:
        return parts[1]
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_the_layers_below_them(package: str) -> None:
    problems = []
    for path in _modules(package):
        tree = ast.parse(path.read_text(), str(path))
        for line, name in _imports(tree, _package_parts(path)):
            own = _own_package(name)
            if own is not None and own not in ALLOWED_OWN[package]:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
            if name.split(".")[0] == "kubernetes" and package not in {"vk", "cli"}:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports kubernetes")
    assert problems == []


def test_core_does_no_io() -> None:
    stdlib = sys.stdlib_module_names
    problems = []
    for path in _modules("core"):
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(ROOT)
        for line, name in _imports(tree, _package_parts(path)):
            top = name.split(".")[0]
            if top in CORE_FORBIDDEN_MODULES:
                problems.append(f"{where}:{line} imports {name}")
            elif top not in stdlib and top != "pyinterlink" and top not in CORE_ALLOWED_THIRD_PARTY:
                problems.append(f"{where}:{line} imports third-party {name}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in CORE_FORBIDDEN_CALLS:
                problems.append(f"{where}:{node.lineno} calls {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_METHODS:
                problems.append(f"{where}:{node.lineno} calls .{func.attr}() (clock or identity)")
    assert problems == []


def test_the_import_reader_resolves_relative_imports() -> None:
    """A guard against checks that cannot fail: the reader sees what the rules need."""
    tree = ast.parse("import socket\nfrom ..cli import main\nfrom . import _x\nfrom .. import vk\n")
    names = [name for _, name in _imports(tree, ["pyinterlink", "core"])]
    assert names == ["socket", "pyinterlink.cli", "pyinterlink.core._x", "pyinterlink.vk"]
    assert _own_package("pyinterlink.cli.main") == "cli"
