"""The bash body shared by every batch dialect: files, init containers, app containers.

Theory of operation: whatever the scheduler (an sbatch script, an HTCondor executable, a
UNICORE job), what runs on the worker is the same bash program, rendered here from the
neutral :class:`Job`. It

1. goes to the pod working directory, creating it;
2. creates the emptyDirs and writes the job's files, byte for byte and with their modes (unless
   the dialect ships the files by other means), plus what the runtime itself needs;
3. runs the site's pre-exec shell, if any (raw shell by contract);
4. runs the init containers one after another, stopping at the first failure with its code;
5. starts the app containers side by side and waits for all of them;
6. exits with the highest exit code of its containers.

Each container writes its output to ``<log_name>.out`` and, once it has ended, its exit code
alone to ``<log_name>.status`` (upstream interLink's names, read back by the status and log
code). Containers run as background processes that the script waits for, because bash only runs
a trap between foreground commands: waiting in the background is what lets a TERM from
``scancel`` (or a preStop) reach the containers at once. The traps pass TERM and INT on to the
running children and the script keeps waiting until they have really exited, so their exit
codes (128 + signal when killed) and status files are still recorded. ``set -e`` is not used:
every failure that matters is handled where it happens.

Every value that reaches the script passes through the ``quote`` filter (or is a command line
rendered by :meth:`._runtime.CommandLine.shell`, which quotes each word), except
``Job.pre_exec``, which is shell by contract.
"""

from __future__ import annotations

import base64
import json
import posixpath

import attrs
import jinja2

from ._job import FileToWrite, Job, Task
from ._runtime import (
    WORKDIR_VARIABLE,
    EnvRef,
    TaskCommands,
    Word,
    runtime_setup,
    task_commands,
)
from ._shell import quote

__all__ = ["CURRENT_DIRECTORY", "render_pod_script"]

CURRENT_DIRECTORY = EnvRef("PWD")
"""``workdir`` for dialects whose job starts in its own directory (HTCondor, UNICORE)."""

_TEMPLATE = """\
# The pod's containers, as pyinterlink runs them. Init containers run one after another and
# the first one that fails ends the pod; app containers then run side by side. A container's
# output goes to <name>.out and its exit code to <name>.status in the working directory; the
# script exits with the highest exit code. TERM and INT are passed on to running containers.

{{ workdir_variable }}={{ workdir }}
mkdir -p -- "${{ workdir_variable }}" && cd -- "${{ workdir_variable }}" || exit 1

children=()
interrupted=
stopped_by=

# Passes a signal on to the running children and remembers it: no container starts after it.
forward() {
    interrupted=1
    stopped_by=${stopped_by:-$2}
    if [ "${#children[@]}" -gt 0 ]; then
        kill -s "$1" "${children[@]}" 2>/dev/null
    fi
}
arm_traps() {
    trap 'forward TERM 143' TERM
    trap 'forward INT 130' INT
}

# Waits until process $1 has ended and sets rc to its exit code. A trap interrupts `wait`
# early; waiting again then returns the status of the process itself.
await() {
    while :; do
        interrupted=
        wait "$1"
        rc=$?
        [ -z "$interrupted" ] && return
    done
}

# Runs a command in the background and waits for it (so that traps run at once), sets rc.
# INT and QUIT are restored, which bash ignores in background processes.
step() {
    ( trap - INT QUIT; exec "$@" ) &
    children=("$!")
    await "$!"
    children=()
    return "$rc"
}

# Runs a container: output to $1.out, then its exit code to $1.status.
run_container() {
    local name=$1
    shift
    step "$@" >"${{ workdir_variable }}/$name.out" 2>&1 </dev/null
    printf '%s\\n' "$rc" >"${{ workdir_variable }}/$name.status"
    return "$rc"
}

# Records that the container $1 could not start: a preparation step failed with code rc.
not_started() {
    printf 'pyinterlink: preparing the container failed with exit code %s (see job.out)\\n' \\
        "$rc" >"${{ workdir_variable }}/$1.out"
    printf '%s\\n' "$rc" >"${{ workdir_variable }}/$1.status"
    return "$rc"
}

arm_traps
{% if directories %}

# Directories the containers mount or the runtime needs.
{% for directory in directories %}
mkdir -p -- {{ directory }} || exit 1
{% endfor %}
{% endif %}
{% for file in files %}
{% if loop.first %}

# Files the containers mount (ConfigMaps, Secrets, projected volumes, runtime scripts).
{% endif %}
{{ file.write }}
chmod {{ file.mode }} -- {{ file.path }} || exit 1
{% endfor %}
{% if pre_exec %}

# Site pre-exec commands (raw shell from the pod's annotation, allowed by the site).
{{ pre_exec }}
{% endif %}
{% for task in tasks %}

# {{ task.role }} {{ task.name | comment }}.
{{ task.function }}() {
{% if task.prepare %}
    if {{ task.prepare | join(" &&\n        ") }}
    then
        {{ task.run }}
    else
        not_started {{ task.log_name }}
    fi
{% else %}
    {{ task.run }}
{% endif %}
{% if task.cleanup %}
    local status=$rc
{% for line in task.cleanup %}
    {{ line }}
{% endfor %}
    return "$status"
{% endif %}
}
{% endfor %}
{% if init_tasks %}

# Init containers, one after another.
{% for task in init_tasks %}
{{ task.function }} || exit
[ -z "$stopped_by" ] || exit "$stopped_by"
{% endfor %}
{% endif %}

# App containers, side by side.
highest=0
apps=()
{% for task in app_tasks %}
( arm_traps; {{ task.function }} ) &
apps+=("$!")
{% endfor %}
children=("${apps[@]}")
for app in "${apps[@]}"; do
    await "$app"
    [ "$rc" -gt "$highest" ] && highest=$rc
done
exit "$highest"
"""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.DictLoader({"pod.sh": _TEMPLATE}),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 (the output is bash, not HTML: quoting is explicit)
    # bash's ${#array[@]} would open a jinja comment.
    comment_start_string="{##",
    comment_end_string="##}",
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENVIRONMENT.filters["quote"] = quote
# Names in comments are JSON strings: one line whatever they hold, since a newline would end
# the comment and turn the rest of the name into commands.
_ENVIRONMENT.filters["comment"] = lambda text: json.dumps(text, ensure_ascii=False)
_POD_TEMPLATE = _ENVIRONMENT.get_template("pod.sh")

# Long command lines are broken (between words) to stay readable.
_WIDTH = 100
_INDENT = "    "

# Lines of base64 as `base64` itself writes them.
_BASE64_LINE = 76


@attrs.frozen(kw_only=True)
class _RenderedFile:
    write: str
    path: str
    mode: str


@attrs.frozen(kw_only=True)
class _RenderedTask:
    name: str
    log_name: str
    role: str
    function: str
    prepare: tuple[str, ...]
    run: str
    cleanup: tuple[str, ...]


def render_pod_script(job: Job, *, workdir: str | EnvRef, write_files: bool = True) -> str:
    """The bash program that runs ``job``'s containers; no shebang, callers add their header.

    ``workdir`` is either the absolute path of the pod working directory (Slurm, local:
    ``job.workdir``) or a variable holding it when the job starts (:data:`CURRENT_DIRECTORY`
    for HTCondor and UNICORE, whose jobs start in their sandbox). ``write_files`` says whether
    the script writes ``job.files`` itself (Slurm, HTCondor) or finds them in place (UNICORE
    ships them as imports); the runtime's own helper files are always written, and
    ``job.empty_dirs`` always created. Raises :class:`PodError` where the runtime cannot run a
    task faithfully (see :func:`._runtime.task_commands`).
    """
    setup = runtime_setup(job)
    files = (job.files if write_files else ()) + setup.files
    directories: list[str] = []
    for directory in (
        *job.empty_dirs,
        *(posixpath.dirname(file.path) for file in files),
        *setup.directories,
    ):
        if directory and directory not in directories:
            directories.append(directory)
    tasks = [
        _rendered_task(task_commands(job, task), index)
        for index, task in enumerate(job.all_tasks, start=1)
    ]
    return _POD_TEMPLATE.render(
        workdir_variable=WORKDIR_VARIABLE,
        workdir=Word.of(workdir).shell() if isinstance(workdir, EnvRef) else quote(workdir),
        directories=[Word.in_workdir(directory).shell() for directory in directories],
        files=[_rendered_file(file) for file in files],
        pre_exec=job.pre_exec,
        tasks=tasks,
        init_tasks=tasks[: len(job.init_tasks)],
        app_tasks=tasks[len(job.init_tasks) :],
    )


def _wrapped(words: list[str], *, indent: int = 1) -> str:
    """Shell words on lines of at most ``_WIDTH`` characters, continued with backslashes.

    ``indent`` is the nesting level (four spaces each) the text is placed at. Lines are broken
    only before an option (a word starting with ``-``), so that an option and its values stay
    together; a group longer than a line stays whole.
    """
    groups: list[str] = []
    for word in words:
        if groups and not word.startswith("-"):
            groups[-1] += " " + word
        else:
            groups.append(word)
    margin = _INDENT * indent
    lines: list[str] = []
    line = ""
    for group in groups:
        if line and len(margin) + len(line) + 1 + len(group) + 2 > _WIDTH:
            lines.append(line + " \\")
            line = _INDENT + group
        else:
            line = f"{line} {group}" if line else group
    lines.append(line)
    return ("\n" + margin).join(lines)


def _rendered_task(commands: TaskCommands, index: int) -> _RenderedTask:
    task: Task = commands.task
    log_name = quote(task.log_name)
    # Preparation steps form one `&&` chain (the first failure skips the rest and the run);
    # a step allowed to fail is made to succeed.
    prepare = [
        (
            _wrapped(["{", "step", *step.shell_words(), "||", ":;", "}"], indent=2)
            if step.may_fail
            else _wrapped(["step", *step.shell_words()], indent=2)
        )
        for step in commands.prepare
    ]
    run_words = ["run_container", log_name, *commands.run.shell_words()]
    return _RenderedTask(
        name=task.name,
        log_name=log_name,
        role="Init container" if task.init else "Container",
        function=f"container_{index}",
        prepare=tuple(prepare),
        run=_wrapped(run_words, indent=2 if prepare else 1),
        cleanup=tuple(_wrapped(["step", *step.shell_words()]) for step in commands.cleanup),
    )


def _is_text(content: bytes) -> bool:
    # Text is written as a quoted here-document, which is readable in golden files and job
    # scripts; it must end with a newline (a here-document always does) and hold no control
    # characters but tabs and newlines, so that what a reader sees is what gets written.
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not text.endswith("\n"):
        return False
    return all(char in "\t\n" or (char >= " " and char != "\x7f") for char in text)


def _delimiter(text: str) -> str:
    delimiter = "PYINTERLINK_EOF"
    counter = 0
    while delimiter in text:
        counter += 1
        delimiter = f"PYINTERLINK_EOF_{counter}"
    return delimiter


def _rendered_file(file: FileToWrite) -> _RenderedFile:
    path = Word.in_workdir(file.path).shell()
    content = file.content
    if not content:
        write = f": >{path} || exit 1"
    elif _is_text(content):
        text = content.decode("utf-8")
        end = _delimiter(text)
        write = f"cat >{path} <<'{end}' || exit 1\n{text}{end}"
    else:
        encoded = base64.b64encode(content).decode("ascii")
        lines = [encoded[i : i + _BASE64_LINE] for i in range(0, len(encoded), _BASE64_LINE)]
        end = "PYINTERLINK_EOF"
        write = f"base64 -d >{path} <<'{end}' || exit 1\n" + "\n".join(lines) + f"\n{end}"
    return _RenderedFile(write=write, path=path, mode=f"{file.mode:04o}")
