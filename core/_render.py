"""One entry point over every renderer: a Job and a backend name → the artifacts."""

from __future__ import annotations

from typing import Final

import attrs

from ._errors import InputError
from ._htcondor import render_htcondor
from ._job import Artifact, Job
from ._local import render_local
from ._site import DEFAULT_SITE, SiteConfig
from ._slurm import render_slurm
from ._unicore import render_unicore

__all__ = ["BACKENDS", "default_site", "render"]

BACKENDS: Final = ("slurm", "htcondor", "unicore", "local")
"""Backend names ``render`` knows, in the order the documentation lists them."""


def default_site(backend: str) -> SiteConfig:
    """The site configuration used when none is given: upstream's defaults, except that the
    local backend runs containers under bubblewrap (the host has no image runtime to assume).
    """
    if backend == "local":
        return attrs.evolve(DEFAULT_SITE, container_runtime="bwrap")
    return DEFAULT_SITE


def render(job: Job, backend: str, site: SiteConfig) -> tuple[Artifact, ...]:
    """What ``job`` becomes for ``backend``: ``job.slurm``; ``job.sub`` + ``job.sh``;
    ``job.json``; or the local ``plan.json``. Raises :class:`InputError` for an unknown
    backend name."""
    if backend == "slurm":
        return render_slurm(job)
    if backend == "htcondor":
        return render_htcondor(job, site.htcondor)
    if backend == "unicore":
        return render_unicore(job, site.unicore)
    if backend == "local":
        if not job.workdir.startswith("/"):
            # Upstream's default DataRootFolder is relative to where the plugin runs; a plan
            # for this host needs to know where that is, which only the caller can tell.
            raise InputError(
                f"the local backend needs an absolute working directory, not {job.workdir!r}",
                path="DataRootFolder",
            )
        return render_local(job, workdir=job.workdir)
    raise InputError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
