"""UNICORE dialect: a :class:`~._job.Job` as a UNICORE REST job description.

Theory of operation: a pod becomes one UNICORE job whose executable is ``bash`` running the
pod script ``job.sh``, which travels inside the job description as an inline import. UNICORE
creates a fresh job directory for every job, stages the imports into it and starts the
executable there, so the script's working directory is ``$PWD`` at run time.

The pod's files (ConfigMaps, Secrets, projected volumes) travel as inline imports too, when
that is exact: an inline import carries a JSON string and no permissions, so a file goes as
an import only when its content is UTF-8 text and its mode is the default ``0644`` (UNICORE
creates the parent directories of an import's target). Every other file (binary Secrets,
``defaultMode: 0400``, executable scripts) is written by the pod script itself, byte for
byte and with its mode.

A pod with MPI flags keeps them: its containers run under ``mpiexec -np $SLURM_NTASKS``,
which works where the UNICORE site's batch system is Slurm (the usual case).

Key names and meanings follow the UNICORE job description documentation
(https://unicore-docs.readthedocs.io/, "Job description format"; the same table is in the
UCC manual): ``Name``, ``Executable``, ``Arguments``, ``Stdout``, ``Stderr``, ``Project``,
``Resources`` (``Runtime`` in seconds, ``Memory`` with a unit where ``M`` is MiB as UNICORE's
unit parser counts in powers of 1024, ``CPUs`` the total, ``Queue``, ``Nodes``,
``NodeConstraints``, ``QoS``, ``Reservation`` and any resource a site defines), ``Imports``
(``From: inline://…``, ``To``, ``Data``), ``Job type``, ``Login node`` and ``Tags``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Literal

import attrs

from ._errors import ConfigError, PodError
from ._job import Artifact, FileToWrite, Job
from ._podscript import CURRENT_DIRECTORY, render_pod_script

__all__ = [
    "POD_UID_TAG_PREFIX",
    "UnicoreOptions",
    "pod_uid_tag",
    "render_unicore",
    "travels_as_import",
    "unicore_job_description",
    "unicore_script",
]


@attrs.frozen(kw_only=True)
class UnicoreOptions:
    """What a site configures for UNICORE (the site YAML's ``Unicore:`` section).

    Every field has a default, so an empty section is valid. YAML keys are the PascalCase
    forms of the field names (``JobType`` for ``job_type``).

    ``project``: the accounting project (``Project``), used when the pod names no account.
    ``queue``: the batch queue or partition (``Resources.Queue``), used when the pod names
    none. ``job_type``: ``batch`` (through the batch system, UNICORE's default, so the key is
    left out) or ``on_login_node`` (on a login node, for sites without a batch system);
    ``login_node`` picks the login node by name for the latter (wildcards allowed).
    ``nodes``: ``Resources.Nodes``, written only when set. ``node_constraints``, ``qos`` and
    ``reservation``: the ``Resources`` entries of those names, written only when set.
    ``bash``: the absolute path of the shell that runs the pod script on the target system.
    ``tags``: extra job tags added to the ones pyinterlink uses to find the job again.
    """

    project: str | None = None
    queue: str | None = None
    job_type: Literal["batch", "on_login_node"] = "batch"
    login_node: str | None = None
    nodes: int | None = None
    node_constraints: str | None = None
    qos: str | None = None
    reservation: str | None = None
    bash: str = "/bin/bash"
    tags: tuple[str, ...] = ()


POD_UID_TAG_PREFIX = "pod-uid:"
"""Tags of the form ``pod-uid:<uid>`` find a pod's job: ``GET /rest/core/jobs?tags=…``."""

# Every job pyinterlink submits carries this tag, so its jobs can be listed apart from the
# user's other UNICORE jobs.
_PYINTERLINK_TAG = "pyinterlink"

# UNICORE writes Executable and Arguments into the batch script it generates without quoting
# them, so the shell path must be a plain path.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_./+-]*\Z")

# Tags are matched by the ``tags`` query parameter, a comma-separated list.
_FORBIDDEN_TAG_CHARS = re.compile(r"[,\x00-\x1f\x7f]")

# UNICORE turns Project and the Resources into batch system directives, one per line, in
# the script it generates; a line break in a value would add directives of its own.
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")

# The resources pyinterlink writes itself; an accelerator entry may not replace one of them.
_BUILTIN_RESOURCES = frozenset(
    {"Runtime", "Queue", "Nodes", "CPUs", "CPUsPerNode", "Memory", "Reservation", "QoS"}
    | {"NodeConstraints"}
)

_DEFAULT_FILE_MODE = 0o644


def pod_uid_tag(pod_uid: str) -> str:
    """The job tag that names the pod ``pod_uid`` (``pod-uid:<uid>``)."""
    return POD_UID_TAG_PREFIX + pod_uid


def _check_tag(tag: str, *, what: str) -> str:
    if not tag or _FORBIDDEN_TAG_CHARS.search(tag):
        raise ConfigError(f"{what}: {tag!r} is not a usable job tag (empty, comma or control)")
    return tag


def travels_as_import(file: FileToWrite) -> bool:
    """Whether ``file`` can be an inline import: UTF-8 text with the default mode ``0644``."""
    if file.mode != _DEFAULT_FILE_MODE:
        return False
    try:
        file.content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unicore_script(job: Job) -> str:
    """Return ``job.sh``: the pod script, run by bash in the UNICORE job directory.

    It writes the files that cannot travel as inline imports (see :func:`travels_as_import`)
    and finds the others in place; its working directory is ``$PWD`` when UNICORE starts it.
    """
    written = tuple(file for file in job.files if not travels_as_import(file))
    script_job = attrs.evolve(job, files=written)
    body = render_pod_script(script_job, workdir=CURRENT_DIRECTORY, write_files=True)
    return "#!/bin/bash\n" + body


def _imports(job: Job, script: str) -> list[dict[str, object]]:
    imports: list[dict[str, object]] = [
        {"From": "inline://dummy", "To": "job.sh", "Data": script},
    ]
    imports.extend(
        {"From": "inline://dummy", "To": file.path, "Data": file.content.decode("utf-8")}
        for file in job.files
        if travels_as_import(file)
    )
    return imports


def _one_line(value: str, *, what: str, error: type[PodError] | type[ConfigError]) -> str:
    match = _LINE_BREAKS.search(value)
    if match:
        raise error(f"{what}: control character {match.group()!r} is not allowed")
    return value


def _resources(job: Job, options: UnicoreOptions) -> dict[str, str]:
    resources: dict[str, str] = {"CPUs": str(job.resources.cpus)}
    if options.nodes is not None:
        resources["Nodes"] = str(options.nodes)
    if job.resources.memory_mib is not None:
        resources["Memory"] = f"{job.resources.memory_mib}M"
    if job.time_limit_seconds is not None:
        resources["Runtime"] = str(job.time_limit_seconds)
    if job.queue is not None:
        resources["Queue"] = _one_line(job.queue, what="queue", error=PodError)
    elif options.queue is not None:
        resources["Queue"] = _one_line(options.queue, what="Unicore.Queue", error=ConfigError)
    for key, value in (
        ("NodeConstraints", options.node_constraints),
        ("QoS", options.qos),
        ("Reservation", options.reservation),
    ):
        if value is not None:
            resources[key] = _one_line(value, what=f"Unicore.{key}", error=ConfigError)
    for accelerator in job.resources.accelerators:
        for name, value in accelerator.unicore:
            if name in _BUILTIN_RESOURCES or name in resources:
                raise ConfigError(
                    f"accelerator {accelerator.resource}: resource {name!r} is already set"
                )
            what = f"accelerator {accelerator.resource}"
            resources[name] = _one_line(value, what=what, error=ConfigError)
    return resources


def _tags(job: Job, options: UnicoreOptions) -> Iterator[str]:
    yield _PYINTERLINK_TAG
    uid = pod_uid_tag(job.pod_uid)
    if _FORBIDDEN_TAG_CHARS.search(uid):
        raise PodError(f"pod UID {job.pod_uid!r} cannot be written as a job tag")
    yield uid
    for index, tag in enumerate(options.tags):
        yield _check_tag(tag, what=f"Unicore.Tags[{index}]")


def unicore_job_description(job: Job, options: UnicoreOptions) -> dict[str, object]:
    """Return the UNICORE job description (the JSON object POSTed to ``/rest/core/jobs``).

    The job is named after the pod UID (the batch system's job name, as for Slurm) and
    tagged ``pyinterlink`` and ``pod-uid:<uid>``; its standard output and error go to
    ``job.out`` and ``job.err`` in the job directory. Raises :class:`ConfigError` when a
    site value cannot be used (a shell path that is not a plain absolute path, a tag with a
    comma, an accelerator resource that clashes with another resource, a control character
    in a value that UNICORE writes into its batch script) and :class:`PodError` when a value
    from the pod cannot (a control character in the queue or account, a UID that cannot be
    a tag).
    """
    if not _PLAIN_PATH.match(options.bash):
        raise ConfigError(f"Unicore.Bash: {options.bash!r} is not a plain absolute path")
    description: dict[str, object] = {
        "Name": job.pod_uid,
        "Executable": options.bash,
        "Arguments": ["job.sh"],
        "Stdout": "job.out",
        "Stderr": "job.err",
        "Resources": _resources(job, options),
        "Imports": _imports(job, unicore_script(job)),
        "Tags": list(_tags(job, options)),
    }
    if job.account is not None:
        description["Project"] = _one_line(job.account, what="account", error=PodError)
    elif options.project is not None:
        project = _one_line(options.project, what="Unicore.Project", error=ConfigError)
        description["Project"] = project
    if options.job_type != "batch":
        description["Job type"] = options.job_type
        if options.login_node is not None:
            login_node = _one_line(options.login_node, what="Unicore.LoginNode", error=ConfigError)
            description["Login node"] = login_node
    return description


def render_unicore(job: Job, options: UnicoreOptions) -> tuple[Artifact, ...]:
    """Return ``job.json``: the job description, pretty-printed with sorted keys.

    Sorted keys make the file easy to compare between pods and stable under golden tests;
    UNICORE reads the keys in any order. Raises as :func:`unicore_job_description`.
    """
    text = json.dumps(
        unicore_job_description(job, options), indent=2, sort_keys=True, ensure_ascii=False
    )
    return (Artifact(name="job.json", content=text + "\n"),)
