"""The command line of each container under each container runtime, as data.

Theory of operation: a batch script and the local backend must run *the same* command for a
container, but they know the pod working directory differently. A script knows it only as a
shell variable (``"$workdir"``; under HTCondor and UNICORE it is ``$PWD`` when the job starts),
while the local backend knows the absolute path and runs the command without any shell. So a
command line is built once, as data, from plain text and :class:`Word` values whose parts are
literal text or references (:data:`WORKDIR`, :class:`EnvRef`), and is then either rendered to
shell text (:meth:`CommandLine.shell`, every literal quoted with :func:`._shell.quote`) or
resolved to a plain ``argv`` (:meth:`CommandLine.resolve`). Neither form ever re-parses user text.

Each container becomes a :class:`TaskCommands`: commands that prepare it (enroot imports the
image and creates a container root), the command that runs it, and commands that clean up
after it. :func:`runtime_setup` lists what the runtime needs in the working directory for the
whole pod (the private ``/tmp`` of bwrap, enroot's command scripts).

How each runtime receives the container's environment, exactly:

- apptainer / singularity: ``APPTAINERENV_<NAME>=<value>`` (``SINGULARITYENV_``) in the
  runtime's own environment, set with ``env`` in front of it, plus ``--no-eval``. The runtime
  copies these into the container verbatim; ``--no-eval`` stops it from shell-evaluating the
  values (and the OCI arguments) when it injects them. ``--env`` is not exact (its value is a
  comma-separated list) and ``--env-file`` is shell-evaluated, so neither is used.
- enroot: enroot's ``--env`` goes through a line-based file that strips quotes, so the
  environment is exported instead by a per-container command script (``--rc``) that the job
  writes, with every value single-quoted. Names must then be shell identifiers.
- podman: ``--env NAME=VALUE`` (split at the first ``=``, copied into the OCI spec as is).
- bwrap: ``--clearenv`` and ``--setenv NAME VALUE`` (two separate arguments: nothing to split).

The job's device selection. A batch system hands a job its GPUs in its environment: Slurm sets
``CUDA_VISIBLE_DEVICES``, ``ROCR_VISIBLE_DEVICES``, ``ZE_AFFINITY_MASK`` and
``GPU_DEVICE_ORDINAL`` (NVIDIA, AMD, Intel, OpenCL; gres.conf ``Flags`` choose, all four by
default), HTCondor ``CUDA_VISIBLE_DEVICES``; site prologs also set ``HIP_VISIBLE_DEVICES``
(AMD's HIP) and ``NVIDIA_VISIBLE_DEVICES``, which the NVIDIA container toolkit and enroot's GPU
hook read.
Runtimes that start the container with a clean environment would drop them, so each of
:data:`DEVICE_VARIABLES` is passed from the job's environment into every container, as a
Kubernetes device plugin puts them into its containers, **only when the job's environment sets
it**: an unset variable stays unset (CUDA reads an empty ``CUDA_VISIBLE_DEVICES`` as "no GPU"),
and a variable the container's own ``env`` sets is left to that value. Whether a variable is
set is known only when the job runs, so the command line says so itself with :class:`IfSet`
(``${NAME+...}`` in a script), except for podman, whose ``--env NAME`` (a name, no value)
already copies the variable only when its own environment has it. Apptainer and singularity get
``APPTAINERENV_<NAME>`` / ``SINGULARITYENV_<NAME>`` from :attr:`CommandLine.env_if_set`; bwrap
a ``--setenv NAME VALUE`` per variable; enroot's command script exports the ``NAME=VALUE``
arguments that come before ``--`` after the container name (its ``--env`` would not be exact).

``run_as_user`` / ``run_as_group`` (the container's, else the pod's) are honoured by podman
(``--user uid[:gid]``; a group without a user is ignored, podman cannot keep the image's user
with another group), bwrap (``--uid`` / ``--gid`` inside a user namespace) and, for user 0 only,
enroot (``--root``). Apptainer and singularity always run the container as the submitting
user, so they ignore both.

Limits worth knowing. Bind specifications of apptainer (``src:dst:ro``), podman and enroot
(colon-separated fstab fields) cannot express a path holding ``:`` (nor, for apptainer, ``,``;
for enroot, whitespace), including the pod working directory; such sites need another
DataRootFolder. bwrap builds the container's root on a fresh tmpfs from the host's ``/usr``,
``/bin``, ``/lib*``, ``/etc`` and ``/opt``, so a mount target anywhere else need not exist on
the host; a target inside ``/etc`` makes ``/etc`` a directory of the usual host entries, one
inside ``/opt`` leaves ``/opt`` out, and one inside ``/usr`` must exist on the host (a
read-only bind cannot gain a mount point). bwrap does not pass signals on: a TERM ends the
sandbox at once (the command is killed with it), so under bwrap a container cannot shut down
gracefully.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import TypeAlias

import attrs

from ._errors import PodError
from ._job import FileToWrite, Job, Mount, Task
from ._shell import quote

__all__ = [
    "DEVICE_VARIABLES",
    "WORKDIR",
    "WORKDIR_VARIABLE",
    "Arg",
    "CommandLine",
    "EnvRef",
    "IfSet",
    "Part",
    "RuntimeSetup",
    "TaskCommands",
    "Word",
    "WorkdirRef",
    "runtime_setup",
    "task_commands",
]

WORKDIR_VARIABLE = "workdir"
"""Name of the shell variable that holds the pod working directory in rendered scripts."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

DEVICE_VARIABLES = (
    "CUDA_VISIBLE_DEVICES",
    "ROCR_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "GPU_DEVICE_ORDINAL",
    "ZE_AFFINITY_MASK",
    "NVIDIA_VISIBLE_DEVICES",
)
"""The job's device selection, passed into every container where the job's environment sets it."""


@attrs.frozen
class WorkdirRef:
    """A reference to the pod working directory (absolute, without a trailing slash)."""


WORKDIR = WorkdirRef()
"""The one :class:`WorkdirRef`: ``"$workdir"`` in scripts, the absolute path when resolved."""

_WORKDIR_EXPANSION = f'"${WORKDIR_VARIABLE}"'


def _check_identifier(_instance: object, _attribute: object, value: str) -> None:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"not a shell variable name: {value!r}")


@attrs.frozen
class EnvRef:
    """A reference to an environment variable of the job (``SLURM_NTASKS``, ``PWD``).

    ``name`` must be a shell identifier, since scripts expand it as ``"$NAME"``.
    """

    name: str = attrs.field(validator=_check_identifier)


Part: TypeAlias = str | WorkdirRef | EnvRef
"""One piece of a :class:`Word`: literal text, the working directory or a variable."""


def _normalise_parts(parts: Iterable[Part]) -> tuple[Part, ...]:
    # Adjacent literals are merged and empty ones dropped, so that equal words compare equal
    # and render the same whichever way they were assembled.
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + part
                continue
        merged.append(part)
    return tuple(merged)


@attrs.frozen
class Word:
    """One argument of a command: literal text and references, concatenated.

    ``Word.of(WORKDIR, "/emptyDirs/cache:/cache")`` is ``"$workdir"/emptyDirs/cache:/cache``
    in a script and ``/data/ns-uid/emptyDirs/cache:/cache`` once resolved.
    """

    parts: tuple[Part, ...] = attrs.field(converter=_normalise_parts)

    @classmethod
    def of(cls, *parts: Part) -> Word:
        """A word made of ``parts``, in order."""
        return cls(parts)

    @classmethod
    def in_workdir(cls, relative: str) -> Word:
        """The path ``relative`` (no leading ``/``) inside the pod working directory."""
        return cls((WORKDIR, "/" + relative))

    def shell(self, *, quote_all: bool = False) -> str:
        """This word as shell text that expands to exactly one word.

        Literals are quoted with :func:`quote`; references become ``"$workdir"`` / ``"$NAME"``
        (double-quoted, so that neither word splitting nor globbing applies to their values).
        ``quote_all`` single-quotes every literal, even one that could stay bare: the text
        inside an unquoted ``${NAME+...}`` is split at the characters of ``IFS`` unless quoted.
        """
        if not self.parts:
            return "''"
        rendered: list[str] = []
        for part in self.parts:
            if isinstance(part, WorkdirRef):
                rendered.append(_WORKDIR_EXPANSION)
            elif isinstance(part, EnvRef):
                rendered.append(f'"${part.name}"')
            elif quote_all:
                rendered.append(_quoted(part))
            else:
                rendered.append(quote(part))
        return "".join(rendered)

    def resolve(self, workdir: str, environ: Mapping[str, str] | None = None) -> str:
        """This word as a plain string, given the working directory and the environment.

        Raises :class:`KeyError` naming a variable that the word needs and ``environ`` lacks.
        """
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, WorkdirRef):
                out.append(workdir)
            elif isinstance(part, EnvRef):
                if environ is None or part.name not in environ:
                    raise KeyError(part.name)
                out.append(environ[part.name])
            else:
                out.append(part)
        return "".join(out)


def _quoted(text: str) -> str:
    # quote() leaves inert text bare; bare text never holds a quote, so wrapping it is enough.
    quoted = quote(text)
    return quoted if quoted.startswith("'") else f"'{quoted}'"


Arg: TypeAlias = str | Word
"""One argument of a :class:`CommandLine`: a :class:`Word`, or a ``str`` taken literally.

Nearly every argument is plain text, and a pod script renders dozens per container: plain
text skips building a ``Word`` for each (``"x"`` means ``Word.of("x")``).
"""


def _as_word(arg: Arg) -> Word:
    return Word.of(arg) if isinstance(arg, str) else arg


@attrs.frozen(cache_hash=True)
class IfSet:
    """Arguments a command has only when the job's environment sets the variable ``name``.

    ``IfSet("V", ("--setenv", "V", Word.of(EnvRef("V"))))`` is three arguments where ``V`` is
    set (to anything, the empty string included) and none where it is not. In a script each
    argument is an unquoted ``${V+...}``, which vanishes when ``V`` is unset; every literal
    inside it is single-quoted and every reference double-quoted, so that what it yields is
    neither split (whatever ``IFS`` holds) nor globbed. ``name`` must be a shell identifier.
    """

    name: str = attrs.field(validator=_check_identifier)
    args: tuple[Arg, ...]

    def shell_words(self) -> tuple[str, ...]:
        """One shell word per argument, each expanding to one word or, when unset, to none."""
        return _if_set_words(self)

    def shell(self) -> str:
        """The arguments as one run of shell text: all of them, or nothing (:meth:`shell_words`)."""
        return _if_set_text(self)

    def resolve(self, workdir: str, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """The arguments as plain strings where ``environ`` sets ``name``, else none."""
        if environ is None or self.name not in environ:
            return ()
        return tuple([_resolved_word(arg, workdir, environ) for arg in self.args])


@functools.lru_cache(maxsize=256)
def _if_set_words(if_set: IfSet) -> tuple[str, ...]:
    # The same few (one per device variable and runtime) come back in every container of
    # every pod: rendered once.
    head = "${" + if_set.name + "+"
    return tuple([head + _as_word(arg).shell(quote_all=True) + "}" for arg in if_set.args])


@functools.lru_cache(maxsize=256)
def _if_set_text(if_set: IfSet) -> str:
    return " ".join(_if_set_words(if_set))


def _assignment(name: str, value: Arg) -> str:
    # NAME=VALUE as one word: "NAME=" joins the value's leading text, so that the two are
    # quoted as one run ('A=b c', not 'A=''b c').
    if isinstance(value, str):
        return quote(name + "=" + value)
    return Word.of(name + "=", *value.parts).shell()


def _resolved_word(arg: Arg, workdir: str, environ: Mapping[str, str] | None) -> str:
    return arg if isinstance(arg, str) else arg.resolve(workdir, environ)


@functools.lru_cache(maxsize=256)
def _env_if_set_words(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], bool]:
    # The words of CommandLine.env_if_set, and whether a name starts with "-". The same few
    # tuples (one per runtime) come back in every container of every pod: rendered once.
    words = [
        IfSet(variable, (Word.of(name + "=", EnvRef(variable)),)).shell()
        for name, variable in pairs
    ]
    return tuple(words), any([name.startswith("-") for name, _ in pairs])


@attrs.frozen(kw_only=True)
class CommandLine:
    """A command to run: its arguments and the variables to add to its environment.

    Each argument, and each variable's value, is one word (see :data:`Arg`); an :class:`IfSet`
    is its arguments or nothing, depending on the job's environment. ``env`` is added on top
    of the environment the command inherits (the job's); later entries win. ``env_if_set``
    holds ``(NAME, VARIABLE)`` pairs: ``NAME`` is set to the job's ``$VARIABLE`` where the
    job's environment sets ``VARIABLE``, and not at all where it does not; ``env`` wins over
    it. ``may_fail`` marks a step whose failure is expected and harmless (removing a container
    that may not exist): runners ignore its exit code.
    """

    argv: tuple[Arg | IfSet, ...]
    env: tuple[tuple[str, Arg], ...] = ()
    env_if_set: tuple[tuple[str, str], ...] = ()
    may_fail: bool = False

    def shell_words(self) -> tuple[str, ...]:
        """The command as shell words: ``env NAME=VALUE ... argv...`` when it sets variables.

        Each item expands to exactly one word, except the conditional ones, which start with
        ``${`` and end with ``}``: an :class:`IfSet` is one item (:meth:`IfSet.shell`) that
        expands to all its arguments or to nothing, an ``env_if_set`` entry one that expands
        to one word or to nothing. ``env`` (the utility) is used rather than shell assignments
        because names such as ``APPTAINERENV_my.var`` are valid in an environment but not in
        shell syntax.
        """
        words = [quote(arg) if isinstance(arg, str) else arg.shell() for arg in self.argv]
        if not self.env and not self.env_if_set:
            return tuple(words)
        conditional, dashed = _env_if_set_words(self.env_if_set)
        assignments = [_assignment(name, value) for name, value in self.env]
        # A name starting with "-" would be read by env as an option.
        dashed = dashed or any([name.startswith("-") for name, _ in self.env])
        marker = ("--",) if dashed else ()
        return ("env", *marker, *conditional, *assignments, *words)

    def shell(self) -> str:
        """The command as one line of shell (see :meth:`shell_words`)."""
        return " ".join(self.shell_words())

    def resolve(self, workdir: str, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """The argument vector, for running the command without a shell.

        ``environ`` is the job's environment: it gives the values of :class:`EnvRef` and
        decides which :class:`IfSet` arguments there are (none when it is ``None``).
        """
        resolved: list[str] = []
        for arg in self.argv:
            if isinstance(arg, IfSet):
                resolved += arg.resolve(workdir, environ)
            else:
                resolved.append(_resolved_word(arg, workdir, environ))
        return tuple(resolved)

    def resolve_env(self, workdir: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The variables to add to the inherited environment, resolved (see :meth:`resolve`)."""
        resolved = {
            name: environ[variable]
            for name, variable in self.env_if_set
            if environ is not None and variable in environ
        }
        resolved.update({name: _resolved_word(value, workdir, environ) for name, value in self.env})
        return resolved


@attrs.frozen(kw_only=True)
class TaskCommands:
    """Everything that runs one container, in order.

    ``prepare`` runs first, one command after another; the first failing one (unless
    ``may_fail``) is the container's failure, with its exit code, and ``run`` is then skipped.
    ``run`` is the container itself: its output is the container log. ``cleanup`` runs after
    ``run`` ended (or was skipped), whatever happened; its failures are ignored.
    """

    task: Task
    prepare: tuple[CommandLine, ...] = ()
    run: CommandLine
    cleanup: tuple[CommandLine, ...] = ()


@attrs.frozen(kw_only=True)
class RuntimeSetup:
    """What the runtime needs in the working directory before any container starts.

    ``directories`` (relative to the working directory) are created first, then ``files`` are
    written. Both are in addition to the job's own ``files`` and ``empty_dirs``, and are needed
    even where the job's files are shipped by other means (UNICORE imports).
    """

    directories: tuple[str, ...] = ()
    files: tuple[FileToWrite, ...] = ()


_NO_SETUP = RuntimeSetup()
"""What apptainer, singularity and podman need: nothing."""


def task_commands(job: Job, task: Task) -> TaskCommands:
    """How ``task`` (one of ``job.all_tasks``) runs under ``job.runtime``.

    Raises :class:`PodError` for a bwrap task without a command: bwrap runs host programs and
    has no image, hence no entrypoint.
    """
    kind = job.runtime.kind
    if kind in ("apptainer", "singularity"):
        return _apptainer(job, task)
    if kind == "enroot":
        return _enroot(job, task)
    if kind == "podman":
        return _podman(job, task)
    return _bwrap(job, task)


def runtime_setup(job: Job) -> RuntimeSetup:
    """The directories and helper files ``job.runtime`` needs, for the whole pod.

    Raises :class:`PodError` for an enroot task with an environment variable whose name is not
    a shell identifier: its command script cannot export it.
    """
    kind = job.runtime.kind
    if kind == "bwrap":
        return RuntimeSetup(directories=(BWRAP_TMP,))
    if kind == "enroot":
        return RuntimeSetup(
            directories=(ENROOT_DIR,),
            files=tuple(_enroot_rc_file(task) for task in job.all_tasks),
        )
    return _NO_SETUP


# --- shared helpers -----------------------------------------------------------------------


def _task_path(task: Task, field: str) -> str:
    # Tasks know their container's name, not its index in the pod spec.
    kind = "initContainers" if task.init else "containers"
    return f"spec.{kind}[name={task.name}].{field}"


def _environment(task: Task) -> tuple[tuple[str, str], ...]:
    # Kubernetes lets a later entry with the same name win; keep one entry per name, where
    # the name first appeared.
    return tuple({var.name: var.value for var in task.env}.items())


def _device_variables(task: Task) -> tuple[str, ...]:
    # The container's own env wins: a device variable it sets is not taken from the job.
    if not task.env:
        return DEVICE_VARIABLES
    own = {var.name for var in task.env}
    if own.isdisjoint(DEVICE_VARIABLES):
        return DEVICE_VARIABLES
    return tuple([name for name in DEVICE_VARIABLES if name not in own])


@functools.lru_cache(maxsize=64)
def _device_args(kind: str, variables: tuple[str, ...]) -> tuple[Arg | IfSet, ...]:
    # What passes the job's ``variables`` into a container of runtime ``kind``. Nearly always
    # all of them: built once.
    if kind == "podman":
        # A bare name: podman copies it from its own environment only where it is set there.
        return tuple([arg for name in variables for arg in ("--env", name)])
    if kind == "bwrap":
        return tuple([IfSet(name, ("--setenv", name, Word.of(EnvRef(name)))) for name in variables])
    # enroot: NAME=VALUE arguments, read and removed by its command script (_enroot_rc_file).
    return tuple([IfSet(name, (Word.of(name + "=", EnvRef(name)),)) for name in variables])


@functools.lru_cache(maxsize=64)
def _apptainer_devices(prefix: str, variables: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple([(prefix + name, name) for name in variables])


def _identity(job: Job, task: Task) -> tuple[int | None, int | None]:
    # A container's securityContext wins over the pod's, field by field, as in Kubernetes.
    uid = task.run_as_user if task.run_as_user is not None else job.run_as_user
    gid = task.run_as_group if task.run_as_group is not None else job.run_as_group
    return uid, gid


def _command(task: Task) -> tuple[str, ...] | None:
    # An empty command list means "not set" in Kubernetes: the image entrypoint runs.
    return task.command if task.command else None


def _source(mount: Mount) -> Word:
    return Word.of(mount.source) if mount.host else Word.in_workdir(mount.source)


def _under_mpi(job: Job, argv: list[Arg | IfSet]) -> tuple[Arg | IfSet, ...]:
    if job.mpi_options is None:
        return tuple(argv)
    return ("mpiexec", "-np", Word.of(EnvRef("SLURM_NTASKS")), *job.mpi_options, *argv)


# --- apptainer / singularity --------------------------------------------------------------


def _apptainer(job: Job, task: Task) -> TaskCommands:
    runtime = job.runtime
    prefix = "APPTAINERENV_" if runtime.kind == "apptainer" else "SINGULARITYENV_"
    command = _command(task)
    argv: list[Arg | IfSet] = [runtime.binary, "exec" if command is not None else "run"]
    argv += runtime.options
    if "--no-eval" not in runtime.options:
        argv.append("--no-eval")
    for mount in task.mounts:
        suffix = ":" + mount.target + (":ro" if mount.read_only else "")
        argv += ["--bind", Word.of(*_source(mount).parts, suffix)]
    for spec in runtime.extra_mounts:
        argv += ["--bind", spec]
    if task.working_dir:
        argv += ["--pwd", task.working_dir]
    argv.append(task.image)
    argv += command or ()
    argv += task.args
    env = tuple([(prefix + name, value) for name, value in _environment(task)])
    devices = _apptainer_devices(prefix, _device_variables(task))
    return TaskCommands(
        task=task, run=CommandLine(argv=_under_mpi(job, argv), env=env, env_if_set=devices)
    )


# --- enroot -------------------------------------------------------------------------------

ENROOT_DIR = "enroot"
"""Directory (in the working directory) for enroot's command scripts and imported images."""

_REGISTRY_HINT = re.compile(r"[.:]|^localhost$")


def _enroot_container(job: Job, task: Task) -> str:
    return f"{job.pod_uid}-{task.log_name}"


def _enroot_uri(image: str) -> str:
    """A Docker reference in enroot's syntax: ``docker://[REGISTRY#]IMAGE[:TAG]``."""
    scheme, sep, rest = image.partition("://")
    if not sep:
        scheme, rest = "docker", image
    if scheme == "docker" and "#" not in rest:
        head, slash, tail = rest.partition("/")
        if slash and _REGISTRY_HINT.search(head.rpartition("@")[2]):
            rest = f"{head}#{tail}"
    return f"{scheme}://{rest}"


def _enroot_local_image(image: str) -> bool:
    return image.startswith("/") or image.endswith(".sqsh")


# The arguments before "--" are the job's device variables, NAME=VALUE, each exported as is.
_ENROOT_RC_DEVICES = """\
while [ "$#" -gt 0 ]; do
    if [ "$1" = -- ]; then shift; break; fi
    export "$1"
    shift
done"""


def _enroot_rc_file(task: Task) -> FileToWrite:
    lines = [
        "# Command script of the container (enroot start --rc), written by pyinterlink.",
        '# First the job\'s device selection: NAME=VALUE arguments up to "--".',
        _ENROOT_RC_DEVICES,
    ]
    for name, value in _environment(task):
        if not _IDENTIFIER.fullmatch(name):
            raise PodError(
                f"enroot cannot set the environment variable {name!r}: "
                "its name is not a shell identifier",
                path=_task_path(task, "env"),
            )
        lines.append(f"export {name}={quote(value)}")
    if _command(task) is not None:
        if task.working_dir:
            lines.append(f"cd -- {quote(task.working_dir)} || exit 1")
        lines.append('exec "$@"')
    else:
        if task.working_dir:
            # The image's own /etc/rc changes to the image's working directory before it runs
            # the entrypoint; pointing its `cd` at the pod's working directory keeps the rest
            # of it (rc.local, entrypoint, default arguments) as the image defines it.
            lines.append(f"cd() {{ command cd -- {quote(task.working_dir)}; }}")
        lines.append(". /etc/rc")
    return FileToWrite(
        path=f"{ENROOT_DIR}/{task.log_name}.rc", content=("\n".join(lines) + "\n").encode()
    )


def _enroot(job: Job, task: Task) -> TaskCommands:
    runtime = job.runtime
    binary = runtime.binary
    name = _enroot_container(job, task)
    prepare: list[CommandLine] = [
        # A requeued job finds the container of its previous run.
        CommandLine(argv=(binary, "remove", "--force", name), may_fail=True)
    ]
    if _enroot_local_image(task.image):
        prepare.append(CommandLine(argv=(binary, "create", "--name", name, task.image)))
    else:
        image_file = Word.in_workdir(f"{ENROOT_DIR}/{task.log_name}.sqsh")
        prepare += [
            CommandLine(argv=("rm", "-f", "--", image_file)),
            CommandLine(argv=(binary, "import", "--output", image_file, _enroot_uri(task.image))),
            CommandLine(argv=(binary, "create", "--name", name, image_file)),
            CommandLine(argv=("rm", "-f", "--", image_file)),
        ]
    argv: list[Arg | IfSet] = [binary, "start", *runtime.options]
    argv += ["--rc", Word.in_workdir(f"{ENROOT_DIR}/{task.log_name}.rc")]
    if not task.read_only_root:
        argv.append("--rw")
    if _identity(job, task)[0] == 0:
        argv.append("--root")
    for mount in task.mounts:
        # enroot reads --mount as fstab fields separated by colons; x-create=auto makes the
        # mount point (a file for a subPath file, else a directory) when the image lacks it.
        options = "x-create=auto,rbind" + (",ro" if mount.read_only else "")
        argv += ["--mount", Word.of(*_source(mount).parts, f":{mount.target}:none:{options}")]
    for spec in runtime.extra_mounts:
        argv += ["--mount", spec]
    argv.append(name)
    # Read and removed by the command script (_enroot_rc_file), which exports them.
    argv += _device_args("enroot", _device_variables(task))
    argv.append("--")
    argv += _command(task) or ()
    argv += task.args
    return TaskCommands(
        task=task,
        prepare=tuple(prepare),
        run=CommandLine(argv=_under_mpi(job, argv)),
        cleanup=(CommandLine(argv=(binary, "remove", "--force", name), may_fail=True),),
    )


# --- podman -------------------------------------------------------------------------------


def _podman(job: Job, task: Task) -> TaskCommands:
    runtime = job.runtime
    argv: list[Arg | IfSet] = [runtime.binary, "run", "--rm", *runtime.options]
    # The containers of a pod share one network namespace (they reach each other on
    # localhost); the host's is the one every other runtime here gives them.
    if not any(opt.startswith(("--network", "--net")) for opt in runtime.options):
        argv.append("--network=host")
    for mount in task.mounts:
        suffix = ":" + mount.target + (":ro" if mount.read_only else "")
        argv += ["--volume", Word.of(*_source(mount).parts, suffix)]
    for spec in runtime.extra_mounts:
        argv += ["--volume", spec]
    argv += _device_args("podman", _device_variables(task))
    for name, value in _environment(task):
        argv += ["--env", f"{name}={value}"]
    if task.working_dir:
        argv += ["--workdir", task.working_dir]
    uid, gid = _identity(job, task)
    if uid is not None:
        argv += ["--user", str(uid) if gid is None else f"{uid}:{gid}"]
    if task.read_only_root:
        argv.append("--read-only")
    command = _command(task)
    if command is not None:
        # A JSON array is taken as the whole entrypoint, word for word; a plain string would
        # be a single word (and one that looks like JSON would be misread).
        argv += ["--entrypoint", json.dumps(list(command), ensure_ascii=False)]
    argv.append(task.image)
    argv += task.args
    return TaskCommands(task=task, run=CommandLine(argv=_under_mpi(job, argv)))


# --- bwrap --------------------------------------------------------------------------------

BWRAP_TMP = "tmp"
"""Directory (in the working directory) bound at ``/tmp`` in every bwrap container of the pod."""

_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The host userland, bound read-only. The root itself is bwrap's fresh tmpfs, so a mount
# target outside these directories (/data, /workspace, /var/run/x) is simply created there.
_HOST_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Bound whole unless a mount target lies inside them: a read-only bind cannot gain a new
# mount point. /etc is then rebuilt from the entries programs commonly need; /opt is left out.
_HOST_ETC_ENTRIES = (
    "alternatives", "bash.bashrc", "ca-certificates", "ca-certificates.conf", "gai.conf",
    "group", "host.conf", "hostname", "hosts", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
    "localtime", "login.defs", "machine-id", "mime.types", "nsswitch.conf", "os-release",
    "passwd", "pki", "profile", "protocols", "resolv.conf", "services", "shells", "ssl",
    "timezone",
)  # fmt: skip


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _depth(mount: Mount) -> int:
    return len([part for part in mount.target.split("/") if part])


def _bwrap(job: Job, task: Task) -> TaskCommands:
    command = _command(task)
    if command is None:
        raise PodError(
            "the bwrap runtime runs host programs and has no image entrypoint: "
            "the container needs a command",
            path=_task_path(task, "command"),
        )
    runtime = job.runtime
    targets = [mount.target for mount in task.mounts]
    if task.working_dir:
        targets.append(task.working_dir)
    argv: list[Arg | IfSet] = [runtime.binary, *runtime.options]
    argv += ["--die-with-parent", "--unshare-pid"]
    for directory in _HOST_SYSTEM_DIRS:
        argv += ["--ro-bind-try", directory, directory]
    if not any(_inside(target, "/etc") for target in targets):
        argv += ["--ro-bind", "/etc", "/etc"]
    else:
        argv += ["--dir", "/etc"]
        for entry in _HOST_ETC_ENTRIES:
            path = f"/etc/{entry}"
            if not any(_inside(target, path) for target in targets):
                argv += ["--ro-bind-try", path, path]
    if not any(_inside(target, "/opt") for target in targets):
        argv += ["--ro-bind-try", "/opt", "/opt"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--bind", Word.in_workdir(BWRAP_TMP), "/tmp"]  # noqa: S108 (a private /tmp)
    # Parents before children, so that a mount inside another mount lands on top of it.
    for mount in sorted(task.mounts, key=_depth):
        argv += ["--ro-bind" if mount.read_only else "--bind", _source(mount), mount.target]
    for spec in runtime.extra_mounts:
        # The bind syntax the other runtimes share: source[:target[:ro]].
        source, _, rest = spec.partition(":")
        target, _, flags = rest.partition(":")
        argv += ["--ro-bind" if flags == "ro" else "--bind", source, target or source]
    uid, gid = _identity(job, task)
    if uid is not None or gid is not None:
        argv.append("--unshare-user")
        if uid is not None:
            argv += ["--uid", str(uid)]
        if gid is not None:
            argv += ["--gid", str(gid)]
    if task.working_dir:
        argv += ["--dir", task.working_dir, "--chdir", task.working_dir]
    if task.read_only_root:
        argv += ["--remount-ro", "/"]
    argv.append("--clearenv")
    environment = _environment(task)
    if not any(name == "PATH" for name, _ in environment):
        argv += ["--setenv", "PATH", _DEFAULT_PATH]
    argv += _device_args("bwrap", _device_variables(task))
    for name, value in environment:
        argv += ["--setenv", name, value]
    argv += ["--", *command, *task.args]
    return TaskCommands(task=task, run=CommandLine(argv=_under_mpi(job, argv)))
