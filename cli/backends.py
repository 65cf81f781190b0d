"""Building a backend from its name and the site configuration (the composition root's job)."""

from __future__ import annotations

from pyinterlink.adapters import CommandRunner, LocalRunner, SSHRunner, SSHTarget
from pyinterlink.backends.base import Backend
from pyinterlink.core import InputError, SiteConfig

__all__ = ["make_backend"]


def make_backend(name: str, site: SiteConfig, *, keep: bool = False) -> Backend:
    """The backend ``name`` for ``site``. ``keep`` keeps every pod's working directory;
    otherwise the site's ``KeepWorkDir`` decides (by default a failed pod's is kept)."""
    keep_policy = "always" if keep else site.keep_work_dir
    if name == "local":
        from pyinterlink.backends.local import LocalBackend  # noqa: PLC0415 - only when used

        return LocalBackend(site, keep=keep_policy)
    if name == "slurm":
        from pyinterlink.backends.slurm import SlurmBackend  # noqa: PLC0415

        return SlurmBackend(_runner(site), site, keep=keep_policy, owns_runner=True)
    raise InputError(f"unknown backend {name!r}", path="--backend")


def _runner(site: SiteConfig) -> CommandRunner:
    """Where the scheduler's commands run: over SSH when the site says so, else here."""
    if site.ssh is None:
        return LocalRunner()
    ssh = site.ssh
    try:
        target = SSHTarget(
            host=ssh.host,
            port=ssh.port,
            user=ssh.user,
            identity_file=ssh.identity_file,
            known_hosts=ssh.known_hosts,
            strict_host_key_checking=ssh.strict_host_key_checking,
            config_file=ssh.config_file,
            options=ssh.options,
        )
    except ValueError as exc:
        raise InputError(str(exc), path="SSH") from None
    return SSHRunner(target)
