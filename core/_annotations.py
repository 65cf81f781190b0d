"""Typed pod options from the annotations upstream interLink users already write.

Theory of operation: :func:`parse_annotations` reads every annotation under the prefixes we
own (``slurm-job.vk.io/`` and ``htcondor-job.vk.io/``) plus ``interlink.eu/pod-ip``, and turns
each into a typed field of :class:`PodOptions`, or raises :class:`AnnotationError` naming the
annotation (``metadata.annotations["slurm-job.vk.io/flags"]``). It takes no site decision:
whether raw shell (``pre-exec``) is allowed, which sbatch options pass the policy, which flavor
exists, are decided by translation with the site configuration.

Upstream interLink pastes most of these values verbatim into a shell script. We parse them
instead: word lists are split with POSIX quoting and nothing is expanded, so a value means the
same thing whatever characters it holds. ``docs/reference/annotations.md`` lists every key, its
upstream meaning and where we differ.

A key under our prefixes that we do not know is an error that suggests the closest known key:
a typo silently ignored would be a pod silently misconfigured. So is a key under a legacy or
look-alike prefix (``slurm-job.knoc.io/``, ``slurm-jobs.vk.io/``). ``interlink.eu/`` is not
ours alone (the upstream virtual kubelet and its network add-ons keep their own keys there),
so only ``interlink.eu/pod-ip`` is read and the rest is left alone, as is every other key.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import json
from collections.abc import Mapping
from typing import Protocol, TypeVar

import attrs

from ._errors import AnnotationError
from ._flags import parse_sbatch_options, split_flags
from ._job import SlurmOption

__all__ = [
    "KNOWN_ANNOTATIONS",
    "PodOptions",
    "parse_annotations",
]

SLURM_PREFIX = "slurm-job.vk.io/"
HTCONDOR_PREFIX = "htcondor-job.vk.io/"
_OWN_PREFIXES = (SLURM_PREFIX, HTCONDOR_PREFIX)

FLAGS = SLURM_PREFIX + "flags"
PRE_EXEC = SLURM_PREFIX + "pre-exec"
SINGULARITY_MOUNTS = SLURM_PREFIX + "singularity-mounts"
SINGULARITY_OPTIONS = SLURM_PREFIX + "singularity-options"
ENROOT_MOUNTS = SLURM_PREFIX + "enroot-mounts"
ENROOT_OPTIONS = SLURM_PREFIX + "enroot-options"
IMAGE_ROOT = SLURM_PREFIX + "image-root"
FLAVOR = SLURM_PREFIX + "flavor"
MPI_FLAGS = SLURM_PREFIX + "mpi-flags"
HTCONDOR_SINGULARITY_OPTIONS = HTCONDOR_PREFIX + "singularity-options"
POD_IP = "interlink.eu/pod-ip"

KNOWN_ANNOTATIONS: frozenset[str] = frozenset(
    {
        FLAGS,
        PRE_EXEC,
        SINGULARITY_MOUNTS,
        SINGULARITY_OPTIONS,
        ENROOT_MOUNTS,
        ENROOT_OPTIONS,
        IMAGE_ROOT,
        FLAVOR,
        MPI_FLAGS,
        HTCONDOR_SINGULARITY_OPTIONS,
        POD_IP,
    }
)
"""Every annotation key :func:`parse_annotations` reads."""

# Keys upstream knows and we do not implement. Accepting them silently would run the pod
# without what they ask for, so they are refused with a reason rather than a spelling hint.
_UNSUPPORTED: dict[str, str] = {
    SLURM_PREFIX + "singularity-commands": (
        "upstream documents it but no longer reads it; put runtime options in "
        f"{SINGULARITY_OPTIONS} and shell commands in {PRE_EXEC}"
    ),
    **{
        SLURM_PREFIX + suffix: "pyinterlink does not mount NFS-backed persistent volumes"
        for suffix in (
            "nfs-mode",
            "nfs-mount-options",
            "nfs-fusemount-type",
            "nfs-helper-fusemount-type",
            "nfs-bridge-path",
            "nfs-bridge-pvc",
            "nfs-fuse-command",
            "nfs-helper-command",
        )
    },
}

# Prefixes older interLink releases used for the same keys.
_LEGACY_PREFIXES = {"slurm-job.knoc.io/": SLURM_PREFIX, "htcondor-job.knoc.io/": HTCONDOR_PREFIX}

# How close a key's domain must be to one of ours to be taken for a misspelling of it
# (difflib ratio; "slurm-jobs.vk.io" scores 0.97, unrelated domains far lower).
_LOOKALIKE_RATIO = 0.9

_T_co = TypeVar("_T_co", covariant=True)
_T = TypeVar("_T")
_D = TypeVar("_D")


class _Parser(Protocol[_T_co]):
    """A parser of one annotation value; ``path`` names the annotation in its errors."""

    def __call__(self, value: str, /, *, path: str) -> _T_co: ...


@attrs.frozen(kw_only=True)
class PodOptions:
    """What a pod's annotations ask for, parsed and typed; defaults mean "absent".

    ``slurm_flags`` are the sbatch options of ``slurm-job.vk.io/flags`` in the order given,
    canonical names, duplicates kept (translation merges them over the flavor's and checks
    the site policy). ``pre_exec`` is raw shell by contract. The ``*_mounts`` fields are bind
    specs (``/src:/dst[:ro]``) without the runtime option that introduces them; the
    ``*_options`` fields are runtime options split into words. ``image_root`` is the prefix
    for image names (may be empty: no prefix). ``mpi_flags`` is ``None`` when the pod does not
    ask for MPI, else the extra ``mpiexec`` words (possibly none). ``pod_ip`` is a valid IPv4
    or IPv6 address in its canonical text form.
    """

    slurm_flags: tuple[SlurmOption, ...] = ()
    pre_exec: str | None = None
    singularity_mounts: tuple[str, ...] = ()
    singularity_options: tuple[str, ...] = ()
    enroot_mounts: tuple[str, ...] = ()
    enroot_options: tuple[str, ...] = ()
    image_root: str | None = None
    flavor: str | None = None
    mpi_flags: tuple[str, ...] | None = None
    htcondor_singularity_options: tuple[str, ...] = ()
    pod_ip: str | None = None


def annotation_path(key: str) -> str:
    """The field path of one annotation: ``metadata.annotations["slurm-job.vk.io/flags"]``."""
    return f"metadata.annotations[{json.dumps(key, ensure_ascii=False)}]"


def parse_annotations(annotations: Mapping[str, str]) -> PodOptions:
    """Parse the annotations of a pod into :class:`PodOptions`.

    Keys outside ``slurm-job.vk.io/``, ``htcondor-job.vk.io/`` and ``interlink.eu/pod-ip`` are
    ignored. Raises :class:`AnnotationError`, whose path names the annotation, for a value that
    does not parse, for an unknown key under our prefixes (suggesting the closest known one),
    for a key upstream knows but we do not support, and for a key under a legacy or
    look-alike prefix. The error raised does not depend on the mapping's order. Never raises
    anything else, whatever the mapping holds.
    """
    raw: dict[str, str] = {}
    for key in sorted(k for k in annotations if isinstance(k, str)):
        _check_key(key)
        if key in KNOWN_ANNOTATIONS:
            value = annotations[key]
            if not isinstance(value, str):
                raise AnnotationError(
                    f"must be a string, not {type(value).__name__}", path=annotation_path(key)
                )
            raw[key] = value
    return _options(tuple(raw.items()))


# The pods of one workload carry the same annotation values again and again, and the options
# are a pure function of them (immutable values): remember them.
@functools.lru_cache(maxsize=1024)
def _options(items: tuple[tuple[str, str], ...]) -> PodOptions:
    raw = dict(items)
    return PodOptions(
        slurm_flags=_parsed(raw, FLAGS, _flags, ()),
        pre_exec=_parsed(raw, PRE_EXEC, _pre_exec, None),
        singularity_mounts=_parsed(raw, SINGULARITY_MOUNTS, _singularity_mounts, ()),
        singularity_options=_parsed(raw, SINGULARITY_OPTIONS, split_flags, ()),
        enroot_mounts=_parsed(raw, ENROOT_MOUNTS, _enroot_mounts, ()),
        enroot_options=_parsed(raw, ENROOT_OPTIONS, split_flags, ()),
        image_root=_parsed(raw, IMAGE_ROOT, _image_root, None),
        flavor=_parsed(raw, FLAVOR, _flavor, None),
        mpi_flags=_parsed(raw, MPI_FLAGS, _mpi, None),
        htcondor_singularity_options=_parsed(raw, HTCONDOR_SINGULARITY_OPTIONS, split_flags, ()),
        pod_ip=_parsed(raw, POD_IP, _pod_ip, None),
    )


def _parsed(raw: Mapping[str, str], key: str, parse: _Parser[_T], default: _D) -> _T | _D:
    """``parse(value, path=...)`` of the annotation ``key`` if present, else ``default``."""
    if key not in raw:
        return default
    return parse(raw[key], path=annotation_path(key))


def _check_key(key: str) -> None:
    """Raise for a key that looks meant for us but is not one we read."""
    if key in KNOWN_ANNOTATIONS:
        return
    path = annotation_path(key)
    if key in _UNSUPPORTED:
        raise AnnotationError(
            f"{key} is an upstream annotation that pyinterlink does not support "
            f"({_UNSUPPORTED[key]})",
            path=path,
        )
    lowered = key.lower()
    for legacy, current in _LEGACY_PREFIXES.items():
        if lowered.startswith(legacy):
            raise AnnotationError(
                f"{legacy} is the old prefix of these annotations; "
                f"write {current}{key[len(legacy) :]}",
                path=path,
            )
    if lowered.startswith(_OWN_PREFIXES):
        raise AnnotationError(f"unknown annotation {key}{_suggestion(key)}", path=path)
    domain, slash, _ = key.partition("/")
    if not slash:
        return
    for prefix in _OWN_PREFIXES:
        own = prefix.rstrip("/")
        ratio = difflib.SequenceMatcher(None, domain.lower(), own).ratio()
        if ratio >= _LOOKALIKE_RATIO:
            raise AnnotationError(
                f"unknown annotation {key}: {domain}/ looks like a misspelling of {prefix}"
                f"{_suggestion(prefix + key[len(domain) + 1 :])}",
                path=path,
            )


def _suggestion(key: str) -> str:
    """``" (did you mean ...?)"`` with the closest known key, else the keys of its prefix.

    Only the part after the prefix is compared (a shared prefix would make every key look
    close), keys under the same prefix first, then the others (``htcondor-job.vk.io/flags``
    is most likely ``slurm-job.vk.io/flags``).
    """
    prefix, _, suffix = key.lower().partition("/")
    known = sorted(KNOWN_ANNOTATIONS)
    same = {k.partition("/")[2]: k for k in known if k.startswith(prefix + "/")}
    other = {k.partition("/")[2]: k for k in known if not k.startswith(prefix + "/")}
    for pool in (same, other):
        matches = difflib.get_close_matches(suffix, list(pool), n=1, cutoff=0.6)
        if matches:
            return f" (did you mean {pool[matches[0]]}?)"
    return f" (known annotations under {prefix}/: {', '.join(same.values())})"


def _no_control(value: str, *, what: str, path: str, allow_space: bool = False) -> str:
    """Return ``value`` unless it holds a non-printable character, or a space when not allowed.

    Non-printable covers control characters (newline, tab, NUL), format characters and every
    separator but the ASCII space: nothing a name, prefix or path has a use for.
    """
    for index, char in enumerate(value):
        if not char.isprintable():
            raise AnnotationError(
                f"{what} must not contain the character {char!r} (character {index + 1})",
                path=path,
            )
        if char == " " and not allow_space:
            raise AnnotationError(
                f"{what} must not contain spaces (character {index + 1})", path=path
            )
    return value


def _singularity_mounts(value: str, *, path: str) -> tuple[str, ...]:
    return _mounts(value, path=path, long="--bind", short="-B", runtime="singularity")


def _enroot_mounts(value: str, *, path: str) -> tuple[str, ...]:
    return _mounts(value, path=path, long="--mount", short="-m", runtime="enroot")


def _mounts(value: str, *, path: str, long: str, short: str, runtime: str) -> tuple[str, ...]:
    """Bind specs from a mount annotation: ``--bind SPEC``, ``--bind=SPEC`` or a bare SPEC.

    Upstream pastes the value into the runtime's command line, so users write the runtime's
    own mount option (``--bind /a:/b`` for singularity, ``--mount /a:/b`` for enroot); bare
    specs are accepted too. Any other option belongs in the ``*-options`` annotation.
    """
    words = split_flags(value, path=path)
    specs: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in (long, short):
            if i + 1 >= len(words):
                raise AnnotationError(f"{word} at the end needs a mount spec", path=path)
            spec = words[i + 1]
            i += 2
        elif word.startswith(long + "="):
            spec = word[len(long) + 1 :]
            i += 1
        elif word.startswith("-"):
            raise AnnotationError(
                f"{word!r} is not a mount: this annotation takes mount specs, alone or after "
                f"{long} or {short}; put other {runtime} options in "
                f"{SLURM_PREFIX}{runtime}-options",
                path=path,
            )
        else:
            spec = word
            i += 1
        if not spec:
            raise AnnotationError("a mount spec is empty", path=path)
        specs.append(_no_control(spec, what="a mount spec", path=path, allow_space=True))
    return tuple(specs)


def _mpi(value: str, *, path: str) -> tuple[str, ...] | None:
    """``None`` (no MPI) for ``false``; no extra words for ``true`` or empty; else the words.

    Upstream means to prepend ``mpiexec -np $SLURM_NTASKS <words>`` to every container unless
    the value is ``true``, but its change is lost (it edits a loop copy), so no upstream user
    depends on an exact behaviour. Reading a boolean-looking value as a boolean is what those
    users expect.
    """
    keyword = value.strip().lower()
    if keyword in ("", "true"):
        return ()
    if keyword == "false":
        return None
    return split_flags(value, path=path)


def _pod_ip(value: str, *, path: str) -> str:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise AnnotationError(f"{value!r} is not an IPv4 or IPv6 address", path=path) from None
    return str(address)


def _flavor(value: str, *, path: str) -> str:
    if not value:
        raise AnnotationError("names no flavor (the value is empty)", path=path)
    return _no_control(value, what="a flavor name", path=path)


def _pre_exec(value: str, *, path: str) -> str:
    nul = value.find("\0")
    if nul >= 0:
        raise AnnotationError(f"NUL character at character {nul + 1}", path=path)
    return value


def _flags(value: str, *, path: str) -> tuple[SlurmOption, ...]:
    return parse_sbatch_options(split_flags(value, path=path), path=path)


def _image_root(value: str, *, path: str) -> str:
    return _no_control(value, what="an image prefix", path=path)
