"""``interlink render``: the offline dry-run of what a pod becomes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import attrs
from pyinterlink.core import (
    BACKENDS,
    Artifact,
    InputError,
    PodObjects,
    ensure_uid,
    render,
    translate,
)

from .documents import load_pod_bundle, load_site_config

__all__ = ["add_parser", "run_render"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``render`` and its options."""
    parser = commands.add_parser(
        "render",
        help="show what a pod becomes, without contacting anything",
        description=(
            "Read a pod (YAML or JSON; a multi-document YAML may also carry the ConfigMaps "
            "and Secrets it mounts), apply the site configuration and print the job it "
            "becomes: the sbatch script, the HTCondor submit description and executable, the "
            "UNICORE job description or the local execution plan."
        ),
    )
    parser.add_argument("pod", type=Path, help="pod file (YAML or JSON)")
    parser.add_argument(
        "--backend",
        "-b",
        default="slurm",
        metavar="NAME",
        help=f"one of {', '.join(BACKENDS)} (default: slurm)",
    )
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        metavar="SITE.yaml",
        help="site configuration (default: built-in defaults)",
    )
    parser.add_argument(
        "--out",
        "-o",
        type=Path,
        metavar="DIR",
        help="write every artifact as a file in DIR instead of printing",
    )
    parser.set_defaults(handler=run_render)


def run_render(args: argparse.Namespace) -> int:
    """Render the pod of ``args``; print artifacts, or write them under ``args.out``."""
    stdout, stderr = sys.stdout, sys.stderr
    if args.backend not in BACKENDS:
        raise InputError(
            f"unknown backend {args.backend!r} (choose from {', '.join(BACKENDS)})",
            path="--backend",
        )
    site = load_site_config(args.config, args.backend)
    if args.backend == "local" and not site.data_root_folder.startswith("/"):
        # A relative DataRootFolder means "where the plugin runs" (upstream); here, that is
        # the current directory.
        site = attrs.evolve(site, data_root_folder=str(Path.cwd() / site.data_root_folder))
    bundle = load_pod_bundle(args.pod)
    pod, placeholder = ensure_uid(bundle.pod)
    if placeholder:
        print(
            f"note: {args.pod}: metadata.uid is not set; using {pod.metadata.uid} "
            "(derived from the namespace and name)",
            file=stderr,
        )
    objects = PodObjects.of(bundle.config_maps, bundle.secrets)
    try:
        job = translate(pod, objects, site)
        artifacts = render(job, args.backend, site)
    except InputError as exc:
        raise exc.with_source(str(args.pod)) from None
    for warning in job.warnings:
        print(f"warning: {args.pod}: {warning}", file=stderr)
    if args.out is None:
        _print(artifacts, stdout)
    else:
        _write(artifacts, args.out, stdout)
    return 0


def _print(artifacts: tuple[Artifact, ...], stdout: TextIO) -> None:
    if len(artifacts) == 1:
        stdout.write(artifacts[0].content)
        return
    for index, artifact in enumerate(artifacts):
        if index:
            stdout.write("\n")
        stdout.write(f"# ==> {artifact.name} <==\n{artifact.content}")


def _write(artifacts: tuple[Artifact, ...], out: Path, stdout: TextIO) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for artifact in artifacts:
            target = out / artifact.name
            target.write_text(artifact.content, encoding="utf-8")
            target.chmod(0o755 if artifact.executable else 0o644)
            print(target, file=stdout)
    except OSError as exc:
        raise InputError(
            f"cannot write: {exc.strerror or exc}", path="--out", source=str(exc.filename or out)
        ) from None
