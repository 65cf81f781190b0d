"""HTCondor dialect: a :class:`~._job.Job` as a submit description and its executable.

Theory of operation: a pod becomes one HTCondor job (one ``queue`` statement, one proc). The
executable ``job.sh`` is the self-contained pod script; HTCondor starts it in the job's scratch
directory on the execute node (the *sandbox*), so the script's working directory is ``$PWD``
at run time, not a path known at submit time. The script writes the pod's files there itself,
so nothing but the executable is transferred in. When the job exits, HTCondor transfers back
every file the job created or changed at the top of the sandbox (the manual's rule when
``transfer_output_files`` is not given; subdirectories are not scanned): that is exactly the
per-container ``<init|run>-<name>.out`` and ``.status`` files, without the ConfigMap, Secret
and emptyDir trees below them. Naming the files in ``transfer_output_files`` instead would put
the job on hold whenever a container never started and so left no file behind.

The submit description ``job.sub`` is the only place where HTCondor's own language appears.
It is built as an ordered list of ``(command, value)`` pairs, each checked before it is
written: a submit description is line based (a newline ends a command, a trailing backslash
joins the next line, ``$(...)`` expands macros), so a value from a pod could otherwise add
commands of its own. Values that come from the pod are escaped (``$`` becomes
``$(DOLLAR)``; ClassAd strings escape ``\\`` and ``"``); values that come from the site
configuration are written as given, since they are in the submit language already, but are
checked all the same. Rejected everywhere: line breaks (``\\n``, ``\\r``, and the other
Unicode line separators), NUL and other control characters except tab, a trailing backslash,
and leading or trailing blanks (HTCondor would strip them, so the value would not round-trip).
condor_submit also expands macros (``$(NAME)``, ``$ENV(NAME)``, ``$$(NAME)`` at match time)
in every value, and its ``$(DOLLAR)`` escape does not survive every neighbour (``$$`` and
``$(DOLLAR)(DOLLAR)`` do not read back): so a plain value from the pod may not contain ``$``
at all, and a ClassAd string from the pod writes it as the octal escape ``\\044``, which the
ClassAd parser turns back into ``$`` after condor_submit has looked for macros.

``condor_submit`` resolves the relative names (``job.sh``, ``job.out``) against the directory
it runs in: the backend runs it in the pod's directory, where it wrote both artifacts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Literal

import attrs

from ._errors import ConfigError, PodError
from ._job import Artifact, Job
from ._podscript import CURRENT_DIRECTORY, render_pod_script

__all__ = [
    "HTCondorOptions",
    "classad_string",
    "htcondor_executable",
    "htcondor_submit_description",
    "render_htcondor",
    "submit_literal",
]


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    # A read-only copy: the options are a frozen value, the caller's dict must not leak in.
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class HTCondorOptions:
    """What a site configures for HTCondor (the site YAML's ``HTCondor:`` section).

    Every field has a default, so an empty section is valid. YAML keys are the PascalCase
    forms of the field names (``AccountingGroup`` for ``accounting_group``).

    ``universe``: ``vanilla`` runs the pod script on the execute node, and the script starts
    every container through the job's container runtime (``apptainer`` …); ``container``
    asks HTCondor itself to start the script inside the containers' image
    (``container_image``), which needs every container of the pod to use the same image.

    ``requirements``: a ClassAd expression added as the job's ``requirements``
    (``OpSysAndVer == "AlmaLinux9"``). ``rank``: a ClassAd expression ranking machines.

    ``accounting_group`` and ``accounting_group_user``: the fair-share group and user; the
    pod's account (annotation or flavor), when it names one, wins over ``accounting_group``.

    ``queue_attribute``: HTCondor has no queues; a site that sorts jobs into classes with a
    job attribute (``JobFlavour`` at CERN) names it here, and the pod's queue is written
    under it as a string. Without it the pod's queue is ignored.

    ``request_disk``: the sandbox size to ask for, in HTCondor's syntax (``2GB``, ``2048``
    meaning KiB); the pod spec has no disk request of its own.

    ``time_limit``: how ``activeDeadlineSeconds`` is enforced. ``allowed_execute_duration``
    (HTCondor 10.0 and later) puts the job on hold once it has executed that long, with
    ``HoldReasonCode`` 47 (``JobExecuteExceeded``): the status side is to read that as
    ``DeadlineExceeded`` and remove the held job. ``periodic_remove`` removes the job with an
    expression on the time spent in the Running state, which works on every version.
    ``max_runtime_attribute``, when set, also publishes the limit in seconds under that job
    attribute (``MaxRuntime`` at sites whose scheduling policy reads it).

    ``extra_commands``: site-wide submit commands written verbatim as ``name = value``
    (``+ProjectName: '"physics"'``), after everything else; a name that pyinterlink writes
    itself, or one that would break how the job is found, run or read back (``executable``,
    ``output``, ``queue`` …), is refused.
    """

    universe: Literal["vanilla", "container"] = "vanilla"
    requirements: str | None = None
    rank: str | None = None
    accounting_group: str | None = None
    accounting_group_user: str | None = None
    queue_attribute: str | None = None
    request_disk: str | None = None
    time_limit: Literal["allowed_execute_duration", "periodic_remove"] = "allowed_execute_duration"
    max_runtime_attribute: str | None = None
    extra_commands: Mapping[str, str] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )


# A submit command name: a plain command (``request_GPUs``) or a job attribute, written as
# ``+Name`` or ``MY.Name`` (ClassAd attribute names: a letter or underscore, then word chars).
_COMMAND_NAME = re.compile(r"(?:\+|MY\.)?[A-Za-z_][A-Za-z0-9_.]*\Z")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Everything str.splitlines() would cut at, plus the other C0 controls and DEL: none of it
# belongs in a one-line submit value. Tab is allowed (HTCondor treats it as a blank).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")

# Commands a site may not set through extra_commands, beyond those pyinterlink writes for a
# given job (which are refused as duplicates): each would change which program runs, where
# its output goes, how many jobs one submission makes, or how the job is found again.
_RESERVED_COMMANDS = frozenset(
    {
        "arguments",
        "error",
        "executable",
        "initialdir",
        "log",
        "my.podname",
        "my.podnamespace",
        "my.poduid",
        "output",
        "queue",
        "should_transfer_files",
        "transfer_executable",
        "transfer_input_files",
        "transfer_output_files",
        "transfer_output_remaps",
        "universe",
        "when_to_transfer_output",
    }
)

# The ClassAd attributes that carry the pod's identity: the backend finds a pod's job with
# ``condor_q -constraint 'PodUID == "<uid>"'`` before submitting, so a retried create never
# makes a second job.
POD_UID_ATTRIBUTE = "PodUID"
POD_NAME_ATTRIBUTE = "PodName"
POD_NAMESPACE_ATTRIBUTE = "PodNamespace"


def _check_value(value: str, *, what: str, error: type[PodError] | type[ConfigError]) -> str:
    match = _FORBIDDEN_CHARS.search(value)
    if match:
        raise error(f"{what}: control character {match.group()!r} is not allowed")
    if value != value.strip(" \t"):
        raise error(f"{what}: leading or trailing blanks are not allowed")
    if value.endswith("\\"):
        raise error(f"{what}: a trailing backslash would continue the line")
    if not value:
        raise error(f"{what}: must not be empty")
    return value


def submit_literal(value: str, *, what: str) -> str:
    """Return ``value`` as a plain submit value that condor_submit reads back unchanged.

    A value that cannot be written on one line as itself (line breaks, control characters,
    a trailing backslash, blanks at either end, empty) or that contains ``$`` (a macro to
    condor_submit) raises :class:`PodError` naming ``what``.
    """
    _check_value(value, what=what, error=PodError)
    if "$" in value:
        raise PodError(f"{what}: '$' is not allowed (HTCondor would expand it as a macro)")
    return value


def classad_string(value: str, *, what: str) -> str:
    """Return ``value`` as a ClassAd string literal for a ``+Attribute`` submit command.

    Backslashes and double quotes are escaped as the ClassAd language defines, and ``$`` is
    written as the octal escape ``\\044`` so that condor_submit finds no macro in it.
    Control characters and line breaks raise :class:`PodError` naming ``what``; unlike
    :func:`submit_literal`, blanks at either end and the empty string are fine, since the
    quotes keep them.
    """
    match = _FORBIDDEN_CHARS.search(value)
    if match:
        raise PodError(f"{what}: control character {match.group()!r} is not allowed")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\044")
    return f'"{escaped}"'


def _site_value(value: str, *, what: str) -> str:
    return _check_value(value, what=what, error=ConfigError)


def _command_key(name: str) -> str:
    # Submit commands are case-insensitive, and +Name is another spelling of MY.Name.
    key = name.lower()
    return "my." + key[1:] if key.startswith("+") else key


def _attribute(name: str, *, what: str) -> str:
    if not _ATTRIBUTE_NAME.match(name):
        raise ConfigError(f"{what}: {name!r} is not a ClassAd attribute name")
    return f"+{name}"


def _container_image(job: Job) -> str:
    images = {task.image for task in job.all_tasks}
    if len(images) != 1:
        listed = ", ".join(sorted(images)) or "none"
        raise PodError(
            "the site runs pods in HTCondor's container universe, which starts one image "
            f"per job; this pod's containers use {len(images)} images ({listed})"
        )
    (image,) = images
    return image


def _time_limit_commands(job: Job, options: HTCondorOptions) -> Iterator[tuple[str, str]]:
    seconds = job.time_limit_seconds
    if seconds is None:
        return
    if options.time_limit == "allowed_execute_duration":
        yield "allowed_execute_duration", str(seconds)
    else:
        # JobStatus 2 is Running; EnteredCurrentStatus is when the job entered it, so the
        # clock restarts with each run, as allowed_execute_duration's does.
        yield "periodic_remove", f"JobStatus == 2 && time() - EnteredCurrentStatus > {seconds}"
    if options.max_runtime_attribute is not None:
        name = _attribute(options.max_runtime_attribute, what="HTCondor.MaxRuntimeAttribute")
        yield name, str(seconds)


def _job_commands(job: Job, options: HTCondorOptions) -> Iterator[tuple[str, str]]:
    """The commands pyinterlink writes for ``job``, in the order they appear."""
    yield "universe", options.universe
    yield "executable", "job.sh"
    if options.universe == "container":
        yield "container_image", submit_literal(_container_image(job), what="container image")
    yield "batch_name", submit_literal(f"{job.namespace}/{job.pod_name}", what="pod name")
    yield f"+{POD_UID_ATTRIBUTE}", classad_string(job.pod_uid, what="pod UID")
    yield f"+{POD_NAME_ATTRIBUTE}", classad_string(job.pod_name, what="pod name")
    yield f"+{POD_NAMESPACE_ATTRIBUTE}", classad_string(job.namespace, what="pod namespace")

    yield "request_cpus", str(job.resources.cpus)
    if job.resources.memory_mib is not None:
        # A bare number is MiB for request_memory.
        yield "request_memory", str(job.resources.memory_mib)
    if options.request_disk is not None:
        yield "request_disk", _site_value(options.request_disk, what="HTCondor.RequestDisk")
    for accelerator in job.resources.accelerators:
        for name, value in accelerator.htcondor:
            what = f"accelerator {accelerator.resource}"
            if not _COMMAND_NAME.match(name):
                raise ConfigError(f"{what}: {name!r} is not a submit command name")
            yield name, _site_value(value, what=what)
    if options.requirements is not None:
        yield "requirements", _site_value(options.requirements, what="HTCondor.Requirements")
    if options.rank is not None:
        yield "rank", _site_value(options.rank, what="HTCondor.Rank")

    group = job.account if job.account is not None else options.accounting_group
    if group is not None:
        yield "accounting_group", submit_literal(group, what="account")
    if options.accounting_group_user is not None:
        user = _site_value(options.accounting_group_user, what="HTCondor.AccountingGroupUser")
        yield "accounting_group_user", user
    if job.queue is not None and options.queue_attribute is not None:
        name = _attribute(options.queue_attribute, what="HTCondor.QueueAttribute")
        yield name, classad_string(job.queue, what="queue")
    yield from _time_limit_commands(job, options)

    yield "should_transfer_files", "YES"
    # ON_EXIT, not ON_EXIT_OR_EVICT: files saved at an eviction come back into the sandbox
    # of the next run, whose pod script must start from a clean directory.
    yield "when_to_transfer_output", "ON_EXIT"
    yield "output", "job.out"
    yield "error", "job.err"
    yield "log", "job.log"


def _commands(job: Job, options: HTCondorOptions) -> list[tuple[str, str]]:
    commands = list(_job_commands(job, options))
    seen: dict[str, str] = {}
    for name, _ in commands:
        key = _command_key(name)
        if key in seen:
            raise ConfigError(f"submit command {name!r} would be written twice")
        seen[key] = name
    for name, value in options.extra_commands.items():
        what = f"HTCondor.ExtraCommands[{name!r}]"
        if not _COMMAND_NAME.match(name):
            raise ConfigError(f"{what}: not a submit command name")
        key = _command_key(name)
        if key in _RESERVED_COMMANDS or key in seen:
            raise ConfigError(f"{what}: pyinterlink sets {name!r} itself")
        seen[key] = name
        commands.append((name, _site_value(value, what=what)))
    return commands


def htcondor_submit_description(job: Job, options: HTCondorOptions) -> str:
    """Return the submit description (``job.sub``) that queues ``job`` as one HTCondor job.

    The executable is ``job.sh`` beside it, started in the job's sandbox. The job carries
    the pod's identity in the attributes ``PodUID``, ``PodName`` and ``PodNamespace``.
    Raises :class:`PodError` when a value from the pod cannot be written safely, or when the
    container universe is asked for and the pod's containers do not share one image;
    :class:`ConfigError` when a site value cannot (see the module docstring for the rules).
    """
    lines = ["# Generated by pyinterlink from a Kubernetes pod; condor_submit job.sub"]
    lines.extend(f"{name} = {value}" for name, value in _commands(job, options))
    lines.append("queue")
    return "\n".join(lines) + "\n"


def htcondor_executable(job: Job) -> str:
    """Return ``job.sh``: the pod script, run by bash in the job's sandbox.

    The script writes the pod's files itself (nothing else is transferred in) and its
    working directory is the sandbox, ``$PWD`` when HTCondor starts it. A job with
    ``mpi_options`` raises :class:`PodError`: its containers would run under
    ``mpiexec -np $SLURM_NTASKS``, and an HTCondor job has no Slurm allocation.
    """
    if job.mpi_options is not None:
        raise PodError("MPI flags (slurm-job.vk.io/mpi-flags) need Slurm, not HTCondor")
    body = render_pod_script(job, workdir=CURRENT_DIRECTORY, write_files=True)
    return "#!/bin/bash\n" + body


def render_htcondor(job: Job, options: HTCondorOptions) -> tuple[Artifact, ...]:
    """Return the artifacts of ``job`` for HTCondor: ``job.sub`` and the executable ``job.sh``.

    Both go into one directory, where ``condor_submit job.sub`` is run. Raises as
    :func:`htcondor_submit_description` and :func:`htcondor_executable` do, and
    :class:`ConfigError` for the container universe: HTCondor then starts ``job.sh`` inside
    the pod's image, where the pod script would need to run each container's command
    directly, and the runtime layer has no such runtime-free command line yet.
    """
    description = htcondor_submit_description(job, options)
    if options.universe == "container":
        raise ConfigError(
            "HTCondor.Universe: the container universe cannot run pods yet (the pod script "
            "has no way to run a container's command without a container runtime)"
        )
    return (
        Artifact(name="job.sub", content=description),
        Artifact(name="job.sh", content=htcondor_executable(job), executable=True),
    )
