"""pyinterlink.backends: a site that runs pods, behind one interface (see DESIGN.md).

:class:`Backend` is the interface (create, delete, status, logs, ping); :class:`LocalBackend`
runs pods on this host.
"""

from .base import Backend, JobRef, LogRequest, StatusAnswer
from .local import KeepPolicy, LocalBackend, local_job_id

__all__ = [
    "Backend",
    "JobRef",
    "KeepPolicy",
    "LocalBackend",
    "LogRequest",
    "StatusAnswer",
    "local_job_id",
]
