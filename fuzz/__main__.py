"""Drive one fuzz target with atheris: ``python -m fuzz <target> [libFuzzer options]``."""

from __future__ import annotations

import sys

from fuzz import all_targets, seeds


def main() -> int:
    """Run the named target under atheris (needs ``pip install atheris``)."""
    targets = all_targets()
    if len(sys.argv) < 2 or sys.argv[1] not in targets:
        print(f"usage: python -m fuzz TARGET [options]; targets: {', '.join(sorted(targets))}")
        return 2
    try:
        import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: PLC0415
    except ImportError:
        print("atheris is not installed: pip install atheris")
        return 2
    name = sys.argv[1]
    target = targets[name]
    if not seeds(name):
        print(f"note: no corpus for {name} in fuzz/corpus/{name}/")
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
