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

Every value that reaches the script passes through :func:`._shell.quote` (or is a command line
rendered by :meth:`._runtime.CommandLine.shell_words`, which quotes each word), except
``Job.pre_exec``, which is shell by contract.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re

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

# The script is put together from text blocks, not rendered from one jinja2 template: most of
# it is the same for every pod (the opening comment and the helper functions), and rendering
# the whole template for each pod cost about 13 us, a fifth of rendering the pod's sbatch
# script (bench.render). The fixed blocks are rendered once, at import; the rest is short and
# built below, each value quoted where it is inserted.
_ENVIRONMENT = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 (the output is bash, not HTML: quoting is explicit)
    # bash's ${#array[@]} would open a jinja comment.
    comment_start_string="{##",
    comment_end_string="##}",
    keep_trailing_newline=True,
)


def _fixed(template: str) -> str:
    return _ENVIRONMENT.from_string(template).render(workdir_variable=WORKDIR_VARIABLE)


# Up to the line that sets the working directory.
_OPENING = """\
# The pod's containers, as pyinterlink runs them. Init containers run one after another and
# the first one that fails ends the pod; app containers then run side by side. A container's
# output goes to <name>.out and its exit code to <name>.status in the working directory; the
# script exits with the highest exit code. TERM and INT are passed on to running containers.

"""

# From the working directory to the first container: the helpers every script uses.
_HELPERS = _fixed("""\
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
""")

# Headings of the parts that a script may or may not have, each after a blank line.
_DIRECTORIES = """
# Directories the containers mount or the runtime needs.
"""
_FILES = """
# Files the containers mount (ConfigMaps, Secrets, projected volumes, runtime scripts).
"""
_PRE_EXEC = """
# Site pre-exec commands (raw shell from the pod's annotation, allowed by the site).
"""
_INIT = """
# Init containers, one after another.
"""
# The end of every script: the app containers, started side by side, and the exit code.
_APPS = """
# App containers, side by side.
highest=0
apps=()
"""
_APPS_WAIT = """\
children=("${apps[@]}")
for app in "${apps[@]}"; do
    await "$app"
    [ "$rc" -gt "$highest" ] && highest=$rc
done
exit "$highest"
"""

# Names in comments are JSON strings: one line whatever they hold, since a newline would end
# the comment and turn the rest of the name into commands. (An encoder made once: json.dumps
# with an option builds a new one per call.)
_json_string = json.JSONEncoder(ensure_ascii=False).encode

# Long command lines are broken (between words) to stay readable.
_WIDTH = 100
_INDENT = "    "

# Lines of base64 as `base64` itself writes them.
_BASE64_LINE = 76


def render_pod_script(
    job: Job, *, workdir: str | EnvRef, write_files: bool = True, header: str = ""
) -> str:
    """The bash program that runs ``job``'s containers, after ``header``.

    ``header`` is the caller's text, placed first as it is: the shebang and the dialect's own
    lines, ending with a newline. (Taking it here makes the whole script one join.)

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
    # In order, each once (dict keys keep the first occurrence); "" is the directory itself.
    wanted = (
        *job.empty_dirs,
        *[posixpath.dirname(file.path) for file in files],
        *setup.directories,
    )
    directories = [directory for directory in dict.fromkeys(wanted) if directory]
    tasks = job.all_tasks
    inits = len(job.init_tasks)

    workdir_text = Word.of(workdir).shell() if isinstance(workdir, EnvRef) else quote(workdir)
    script = [header, _OPENING, f"{WORKDIR_VARIABLE}={workdir_text}\n", _HELPERS]
    if directories:
        script.append(_DIRECTORIES)
        script += [
            f"mkdir -p -- {Word.in_workdir(directory).shell()} || exit 1\n"
            for directory in directories
        ]
    if files:
        script.append(_FILES)
        script += [_file_lines(file) for file in files]
    if job.pre_exec:
        script += [_PRE_EXEC, job.pre_exec, "\n"]
    # Container n (from 1, init containers first) is the shell function container_<n>.
    script += [
        _container_function(task_commands(job, task), f"container_{number}")
        for number, task in enumerate(tasks, start=1)
    ]
    if inits:
        script.append(_INIT)
        script += [
            f'container_{number} || exit\n[ -z "$stopped_by" ] || exit "$stopped_by"\n'
            for number in range(1, inits + 1)
        ]
    script.append(_APPS)
    script += [
        f'( arm_traps; container_{number} ) &\napps+=("$!")\n'
        for number in range(inits + 1, len(tasks) + 1)
    ]
    script.append(_APPS_WAIT)
    return "".join(script)


def _wrapped(words: list[str], *, indent: int = 1) -> str:
    """Shell words on lines of at most ``_WIDTH`` characters, continued with backslashes.

    ``indent`` is the nesting level (four spaces each) the text is placed at. Lines are broken
    only before an option (a word starting with ``-``) and around the words that depend on a
    variable (``${NAME+...}``, see :class:`._runtime.IfSet`, one item per variable), so that an
    option and its values stay together; a group longer than a line stays whole.
    """
    margin = _INDENT * indent
    # Room for a line's text: a line that is continued ends with " \".
    room = _WIDTH - len(margin) - 2
    text = " ".join(words)
    if len(text) <= room:
        return text  # no line to break (most commands): no groups to form
    # The groups: an option with the words after it, or a conditional item alone. Shell words
    # cannot hold NUL (quote refuses it), so NUL can mark where words meet, and a group starts
    # wherever a word starts with "-" or "${", or follows one that ends with "}" (only
    # conditional items do: a literal "${" or "}" is quoted): splitting the text there costs
    # less than a loop over the words.
    groups = [group.replace("\0", " ") for group in _GROUP_START.split("\0".join(words))]
    lines: list[str] = []
    line = ""
    for group in groups:
        if line and len(line) + 1 + len(group) > room:
            lines.append(line + " \\")
            line = _INDENT + group
        else:
            line = f"{line} {group}" if line else group
    lines.append(line)
    return ("\n" + margin).join(lines)


# NUL first in every branch, so that the search runs from one NUL to the next.
_GROUP_START = re.compile(r"\0(?:(?=-|\$\{)|(?<=\}\0))")


def _container_function(commands: TaskCommands, function: str) -> str:
    """The shell function ``function`` that runs one container, with its comment line."""
    task: Task = commands.task
    log_name = quote(task.log_name)
    name = _json_string(task.name)
    role = "Init container" if task.init else "Container"
    run_words = ["run_container", log_name, *commands.run.shell_words()]
    text = [f"\n# {role} {name}.\n{function}() {{\n"]
    if commands.prepare:
        # Preparation steps form one `&&` chain (the first failure skips the rest and the
        # run); a step allowed to fail is made to succeed.
        chain = " &&\n        ".join(
            [
                _wrapped(["{", "step", *step.shell_words(), "||", ":;", "}"], indent=2)
                if step.may_fail
                else _wrapped(["step", *step.shell_words()], indent=2)
                for step in commands.prepare
            ]
        )
        text.append(
            f"    if {chain}\n"
            "    then\n"
            f"        {_wrapped(run_words, indent=2)}\n"
            "    else\n"
            f"        not_started {log_name}\n"
            "    fi\n"
        )
    else:
        text.append(f"    {_wrapped(run_words)}\n")
    if commands.cleanup:
        text.append("    local status=$rc\n")
        text += [f"    {_wrapped(['step', *step.shell_words()])}\n" for step in commands.cleanup]
        text.append('    return "$status"\n')
    text.append("}\n")
    return "".join(text)


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
    return _CONTROL.search(text) is None


# The control characters a text file may not hold (one search instead of a loop over the text).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _delimiter(text: str) -> str:
    delimiter = "PYINTERLINK_EOF"
    counter = 0
    while delimiter in text:
        counter += 1
        delimiter = f"PYINTERLINK_EOF_{counter}"
    return delimiter


def _file_lines(file: FileToWrite) -> str:
    """The lines that write ``file`` and set its mode."""
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
    return f"{write}\nchmod {file.mode:04o} -- {path} || exit 1\n"
