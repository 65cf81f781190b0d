"""The Slurm dialect: a job, rendered as one self-contained sbatch script.

Theory of operation: ``job.slurm`` is ``#!/bin/bash``, one ``#SBATCH`` line per option, then the
shared pod script (:mod:`._podscript`) with the working directory written as a literal path.
sbatch reads its options from the leading comment block itself, so nothing on those lines goes
through a shell; they follow sbatch's own tokenizer instead (``_get_argument`` in
``src/sbatch/opt.c``): whitespace separates arguments, an unquoted ``#`` starts a comment,
``'`` and ``"`` group characters, and a backslash takes the next character literally, inside
quotes or not. A line ends an option list, so no value may hold a newline, and sbatch blanks
out the words ``packjob`` / ``hetjob`` wherever they appear on a line (heterogeneous-job
separators), so no value may hold those either. :func:`sbatch_line` writes every option so
that this tokenizer gives back exactly one argument equal to it, or refuses it.
"""

from __future__ import annotations

import re

from ._errors import PodError
from ._job import Artifact, Job
from ._podscript import render_pod_script

__all__ = ["render_slurm", "sbatch_line", "sbatch_options", "sbatch_time"]

# Characters that end or change a token on an #SBATCH line unless quoted.
_SPECIAL = re.compile(r"[\s\"'\\#]")
# Characters that sbatch_line quotes or refuses (see _sbatch_lines).
_NOT_PLAIN = re.compile(r"[\s\"'\\#\0]")


def sbatch_line(option: str) -> str:
    """The ``#SBATCH`` line that makes sbatch read ``option`` back as one exact argument.

    A plain option is written as is; one with spaces, quotes, ``#`` or backslashes is wrapped
    in double quotes with ``"`` and ``\\`` escaped. Raises :class:`PodError` if the option
    holds a newline (or NUL) or the words ``packjob`` / ``hetjob``, which sbatch cannot read back.
    """
    if "\n" in option or "\0" in option:
        raise PodError(f"an sbatch option cannot hold a newline or NUL: {option!r}")
    # sbatch splits a script into heterogeneous components at these words, matched anywhere
    # on the line and case-insensitively. A substring test of the lower-cased option finds
    # what a re.IGNORECASE search would (str.lower maps a character to one of these letters
    # exactly when re.IGNORECASE matches it to that letter) in a fraction of the time.
    lowered = option.lower()
    if "packjob" in lowered or "hetjob" in lowered:
        raise PodError(
            f"an sbatch option cannot contain 'packjob' or 'hetjob' "
            f"(sbatch reads them as job separators): {option!r}"
        )
    if _SPECIAL.search(option):
        option = '"' + option.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"#SBATCH {option}"


def sbatch_time(seconds: int) -> str:
    """A time limit in sbatch's format, rounded up to whole minutes, at least one minute.

    Slurm counts limits in minutes and ``--time=0`` means no limit at all, so the result is
    never shorter than asked: 90 s gives ``00:02:00``, one day and a second ``1-00:01:00``.
    """
    minutes = max(1, -(-seconds // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours:02d}:{minutes:02d}:00"
    return f"{days}-{clock}" if days else clock


def _output_pattern(path: str) -> str:
    # slurmstepd expands %j, %x, ... in --output/--error, %% being a literal %; but a path
    # holding any backslash is taken literally once its escaping backslashes are removed
    # (\\ is one backslash). See fname_create and remove_path_slashes in src/slurmd/common/fname.c.
    if "\\" in path:
        return path.replace("\\", "\\\\")
    return path.replace("%", "%%")


def sbatch_options(job: Job) -> tuple[str, ...]:
    """Every sbatch option of ``job``, in the order written, each one argument (``--x=y``).

    The job name is the pod UID (idempotent create and re-adoption look it up); the batch
    output and error both go to ``<workdir>/job.out``. Then CPUs, memory, accelerators, the
    time limit, partition and account, and last the pod's remaining ``slurm_options``.
    """
    output = _output_pattern(f"{job.workdir.rstrip('/')}/job.out")
    options = [
        f"--job-name={job.pod_uid}",
        f"--output={output}",
        f"--error={output}",
        f"--cpus-per-task={job.resources.cpus}",
    ]
    if job.resources.memory_mib is not None:
        options.append(f"--mem={job.resources.memory_mib}M")
    for accelerator in job.resources.accelerators:
        options += accelerator.slurm
    if job.time_limit_seconds is not None:
        options.append(f"--time={sbatch_time(job.time_limit_seconds)}")
    if job.queue is not None:
        options.append(f"--partition={job.queue}")
    if job.account is not None:
        options.append(f"--account={job.account}")
    options += [option.text for option in job.slurm_options]
    return tuple(options)


def render_slurm(job: Job) -> tuple[Artifact, ...]:
    """The sbatch script of ``job``: one executable artifact, ``job.slurm``.

    Raises :class:`PodError` when an option cannot be written on an ``#SBATCH`` line (see
    :func:`sbatch_line`) or a container cannot run under the runtime.
    """
    header = f"#!/bin/bash\n{_sbatch_lines(sbatch_options(job))}\n\n"
    script = render_pod_script(job, workdir=job.workdir, write_files=True, header=header)
    return (Artifact(name="job.slurm", content=script, executable=True),)


def _sbatch_lines(options: tuple[str, ...]) -> str:
    """The ``#SBATCH`` lines of ``options``, as :func:`sbatch_line` writes them."""
    # Options are nearly always plain: sbatch_line neither quotes nor refuses them. Checking
    # them all at once, concatenated, tells so in a few calls instead of a few per option,
    # which was most of the cost of the header (bench.render). Concatenation can only make a
    # separator word appear across two options, never hide one: that case, and any option
    # that is not plain, goes option by option.
    joined = "".join(options)
    lowered = joined.lower()
    if not _NOT_PLAIN.search(joined) and "packjob" not in lowered and "hetjob" not in lowered:
        return "#SBATCH " + "\n#SBATCH ".join(options)
    return "\n".join([sbatch_line(option) for option in options])
