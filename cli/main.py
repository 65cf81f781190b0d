"""The ``interlink`` command: parses arguments and hands over to one subcommand."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pyinterlink.core import InterlinkError

from . import render, run

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="interlink",
        description="Run Kubernetes pods on Slurm, HTCondor, UNICORE and plain hosts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    render.add_parser(commands)
    run.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the process exit status (0 success, 1 bad input, 2 usage)."""
    args = build_parser().parse_args(argv)
    # Backends report what the user should know (images not pulled, a pod left behind)
    # through logging; show it like the rest of the command's messages.
    logging.basicConfig(format="interlink: %(message)s", level=logging.WARNING)
    try:
        status: int = args.handler(args)
    except InterlinkError as exc:
        print(f"interlink: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
