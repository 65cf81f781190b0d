"""Building a backend from its name and the site configuration (the composition root's job)."""

from __future__ import annotations

from pyinterlink.backends.base import Backend
from pyinterlink.core import InputError, SiteConfig

__all__ = ["make_backend"]


def make_backend(name: str, site: SiteConfig, *, keep: bool = False) -> Backend:
    """The backend ``name`` for ``site``. ``keep`` keeps every pod's working directory
    (by default a failed pod's is kept for debugging, a successful one's removed)."""
    if name == "local":
        from pyinterlink.backends.local import LocalBackend  # noqa: PLC0415 - only when used

        return LocalBackend(site, keep=True if keep else "on-failure")
    if name == "slurm":
        from pyinterlink.adapters.local_process import LocalRunner  # noqa: PLC0415
        from pyinterlink.backends.slurm import SlurmBackend  # noqa: PLC0415

        return SlurmBackend(LocalRunner(), site)
    raise InputError(f"unknown backend {name!r}", path="--backend")
