"""The Slurm renderer: golden scripts, sbatch's own reading of the #SBATCH lines, bash syntax."""

from __future__ import annotations

import shutil
import subprocess

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core._errors import PodError
from pyinterlink.core._job import Accelerator, Artifact, Job, Resources, SlurmOption
from pyinterlink.core._slurm import render_slurm, sbatch_line, sbatch_options, sbatch_time

from tests.core.sample_jobs import RUNTIME_KINDS, WORKDIR, gpu, hello, samples
from tests.golden import assert_golden
from tests.real import needs_program

BASH = shutil.which("bash")
needs_bash = needs_program("bash", "it is part of every Debian system")

CASES = [(kind, name) for kind in RUNTIME_KINDS for name in samples(kind)]


def _script(job: Job) -> str:
    (artifact,) = render_slurm(job)
    return artifact.content


def sbatch_arguments(script: str) -> list[str]:
    """The arguments sbatch reads from a script's #SBATCH lines.

    A transcription of sbatch's reader (``_opt_batch_script`` and ``_get_argument`` in
    ``src/sbatch/opt.c``): lines starting with ``#SBATCH`` are tokenized until the first line
    that is neither blank nor a comment; whitespace separates arguments, ``'`` and ``"`` group,
    a backslash takes the next character literally, an unquoted ``#`` ends the line.
    """
    arguments: list[str] = []
    for line in script.split("\n"):
        if not line.startswith("#SBATCH"):
            if line.strip() and not line.lstrip().startswith("#"):
                break
            continue
        rest = line[len("#SBATCH") :]
        i = 0
        while True:
            while i < len(rest) and rest[i].isspace():
                i += 1
            if i >= len(rest):
                break
            argument: list[str] = []
            quote_char = ""
            escape = False
            while i < len(rest) and (quote_char or not rest[i].isspace()):
                char = rest[i]
                i += 1
                if escape:
                    escape = False
                elif char == "\\":
                    escape = True
                    continue
                elif quote_char:
                    if char == quote_char:
                        quote_char = ""
                        continue
                elif char in "\"'":
                    quote_char = char
                    continue
                elif char == "#":
                    i = len(rest)
                    break
                argument.append(char)
            arguments.append("".join(argument))
    return arguments


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_golden_slurm_script(kind: str, name: str) -> None:
    job = samples(kind)[name]  # type: ignore[arg-type]
    assert_golden(f"slurm/{name}.{kind}.slurm", _script(job))


def test_one_executable_artifact_named_job_slurm() -> None:
    artifacts = render_slurm(hello("apptainer"))
    assert [(a.name, a.executable) for a in artifacts] == [("job.slurm", True)]
    assert isinstance(artifacts[0], Artifact)
    assert artifacts[0].content.startswith("#!/bin/bash\n#SBATCH ")


@needs_bash
@pytest.mark.parametrize(("kind", "name"), CASES)
def test_scripts_are_valid_bash(kind: str, name: str) -> None:
    job = samples(kind)[name]  # type: ignore[arg-type]
    assert BASH is not None
    result = subprocess.run(
        [BASH, "-n"], input=_script(job), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_sbatch_reads_back_every_option() -> None:
    job = gpu("apptainer")
    assert sbatch_arguments(_script(job)) == list(sbatch_options(job))
    assert sbatch_options(job) == (
        f"--job-name={job.pod_uid}",
        f"--output={WORKDIR}/job.out",
        f"--error={WORKDIR}/job.out",
        "--cpus-per-task=8",
        "--mem=16384M",
        "--gres=gpu:2",
        "--time=01:30:00",
        "--partition=gpu",
        "--account=physics",
        "--exclusive",
        "--constraint=a100&ib",
        '--comment=run #1 of "Bob\'s" test',
    )


def test_options_without_memory_time_queue_or_account_are_left_out() -> None:
    options = sbatch_options(hello("apptainer"))
    assert [option.split("=")[0] for option in options] == [
        "--job-name",
        "--output",
        "--error",
        "--cpus-per-task",
    ]


def slurm_output_path(pattern: str) -> str:
    """The file slurmstepd writes for an --output pattern, job 42 (src/slurmd/common/fname.c)."""
    if "\\" in pattern:
        out, i = [], 0
        while i < len(pattern):
            if pattern[i] == "\\":
                if pattern[i + 1 : i + 2] == "\\":
                    out.append("\\")
                    i += 1
            else:
                out.append(pattern[i])
            i += 1
        return "".join(out)
    return pattern.replace("%%", "\0").replace("%j", "42").replace("\0", "%")


@pytest.mark.parametrize(
    "workdir", ["/data/100%/x", "/data/%j%%x", "/data/back\\slash%j", "/data/a\\\\b"]
)
def test_the_batch_output_lands_in_the_working_directory_whatever_its_name(workdir: str) -> None:
    job = attrs.evolve(hello("apptainer"), workdir=workdir)
    (output,) = [o for o in sbatch_options(job) if o.startswith("--output=")]
    assert slurm_output_path(output.removeprefix("--output=")) == f"{workdir}/job.out"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, "00:01:00"),
        (60, "00:01:00"),
        (61, "00:02:00"),
        (90, "00:02:00"),
        (3600, "01:00:00"),
        (5400, "01:30:00"),
        (86400, "1-00:00:00"),
        (86401, "1-00:01:00"),
        (0, "00:01:00"),
        (3 * 86400 + 5 * 3600 + 7 * 60, "3-05:07:00"),
    ],
)
def test_time_limit_rounds_up_to_whole_minutes(seconds: int, expected: str) -> None:
    assert sbatch_time(seconds) == expected


def _time_seconds(text: str) -> int:
    days, _, clock = text.rpartition("-")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return (int(days) if days else 0) * 86400 + hours * 3600 + minutes * 60 + seconds


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_time_limit_is_never_shorter_than_asked_nor_a_minute_longer(seconds: int) -> None:
    granted = _time_seconds(sbatch_time(seconds))
    assert seconds <= granted < seconds + 60


# sbatch cannot read back a newline (it ends the line) or the words it splits jobs at.
option_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\n\0"),
    max_size=30,
).filter(lambda text: "packjob" not in text.lower() and "hetjob" not in text.lower())


@settings(max_examples=200)
@given(option_values)
def test_any_option_value_is_read_back_exactly(value: str) -> None:
    option = f"--comment={value}"
    assert sbatch_arguments(sbatch_line(option)) == [option]


@pytest.mark.parametrize("value", ["two\nlines", "a packjob b", "x HetJob y", "nul\0"])
def test_values_sbatch_cannot_read_back_are_refused(value: str) -> None:
    with pytest.raises(PodError):
        sbatch_line(f"--comment={value}")
    job = attrs.evolve(hello("podman"), slurm_options=(SlurmOption(name="comment", value=value),))
    with pytest.raises(PodError):
        render_slurm(job)


def test_plain_options_are_written_bare_and_others_double_quoted() -> None:
    assert sbatch_line("--gres=gpu:2") == "#SBATCH --gres=gpu:2"
    assert sbatch_line("--comment=a b") == '#SBATCH "--comment=a b"'
    assert sbatch_line('--comment=say "hi" \\o/') == '#SBATCH "--comment=say \\"hi\\" \\\\o/"'


# Pieces of option texts: plain ones, ones sbatch_line quotes or refuses, and halves of the
# words sbatch splits jobs at, which may meet across two options.
option_texts = st.lists(
    st.sampled_from(["--x=", "pack", "het", "JOB", "job", "a b", '"', "#", "\\", "\t", "\n", "é"]),
    max_size=4,
).map("".join)


@settings(max_examples=300)
@given(st.lists(option_texts, max_size=5))
def test_the_header_writes_each_option_as_sbatch_line_does(texts: list[str]) -> None:
    accelerator = Accelerator(resource="example.com/x", count=1, slurm=tuple(texts))
    job = attrs.evolve(hello("podman"), resources=Resources(accelerators=(accelerator,)))
    options = sbatch_options(job)
    try:
        expected = [sbatch_line(option) for option in options]
    except PodError:
        with pytest.raises(PodError):
            render_slurm(job)
        return
    lines = _script(job).split("\n")
    assert lines[1 : len(options) + 2] == [*expected, ""]
