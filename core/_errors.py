"""The exception family of pyinterlink.

Errors are typed by blame, as in h11: an :class:`InputError` means that something a user or a
remote system handed us is wrong (a pod, a config file, an annotation, scheduler output), and
it names *where* (the file and the field path) and *why*. Anything else escaping the core is a
bug in pyinterlink.
"""

from __future__ import annotations

__all__ = [
    "AnnotationError",
    "ConfigError",
    "InputError",
    "InterlinkError",
    "PodError",
    "PolicyError",
    "QuantityError",
    "SchedulerOutputError",
    "join_path",
    "key_path",
]


class InterlinkError(Exception):
    """Base class of every error pyinterlink raises on purpose."""


class InputError(InterlinkError):
    """Input we cannot accept: names the source, the field path and the reason.

    ``source`` is the file or object the input came from (``pod.yaml``, ``site.yaml``);
    ``path`` is the field inside it (``spec.containers[0].resources.limits.cpu``). Both may be
    empty when unknown; callers higher up fill the source in with :meth:`with_source`.
    """

    def __init__(self, reason: str, *, path: str = "", source: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.source = source

    def with_source(self, source: str) -> InputError:
        """Return a copy of this error (same type) that names ``source``, unless it has one."""
        if self.source:
            return self
        return type(self)(self.reason, path=self.path, source=source)

    def under(self, prefix: str) -> InputError:
        """Return a copy whose path is nested under ``prefix`` (``spec`` + ``volumes[0]``)."""
        if not prefix:
            return self
        path = join_path(prefix, self.path) if self.path else prefix
        return type(self)(self.reason, path=path, source=self.source)

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.path, self.reason) if part)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, path={self.path!r}, source={self.source!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.reason, self.path, self.source))


def _rebuild(cls: type[InputError], reason: str, path: str, source: str) -> InputError:
    return cls(reason, path=path, source=source)


def join_path(prefix: str, suffix: str) -> str:
    """Join two field paths: ``spec`` + ``containers[0]`` and ``spec`` + ``[0]``."""
    if not prefix:
        return suffix
    if not suffix:
        return prefix
    if suffix.startswith("["):
        return prefix + suffix
    return f"{prefix}.{suffix}"


def key_path(prefix: str, key: str) -> str:
    """The path of a map entry: ``labels.app``, or ``limits["nvidia.com/gpu"]`` when the key
    is not a plain name (JSON string quoting, so any key reads back unambiguously)."""
    if key and all(char.isalnum() or char in "_-" for char in key) and key.isascii():
        return join_path(prefix, key)
    quoted = '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{prefix}[{quoted}]"


class PodError(InputError):
    """A pod, ConfigMap or Secret that is malformed or asks for something we cannot honour."""


class QuantityError(InputError):
    """A Kubernetes resource quantity that does not parse or is out of range."""


class AnnotationError(InputError):
    """A pod annotation whose value does not parse."""


class ConfigError(InputError):
    """A site configuration file that is malformed or has unknown keys."""


class PolicyError(InputError):
    """A request the site's policy forbids (a refused scheduler flag, raw shell when disabled)."""


class SchedulerOutputError(InputError):
    """Scheduler output we cannot read: a line of ``squeue``/``sacct``/``scontrol``/``sbatch``
    output, a ``.status`` file, a ClassAd or UNICORE's JSON that is not what the documented
    format allows.

    ``path`` names where: the line and field (``line 3.exit_code``) for line-oriented tool
    output, the file (``run-main.status``) for a status file, the key for JSON.
    """
