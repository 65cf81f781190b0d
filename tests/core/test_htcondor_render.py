"""HTCondor dialect: submit descriptions read back by HTCondor's own parser, and job.sh run."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import attrs
import classad2  # type: ignore[import-untyped]
import htcondor2  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink.core._errors import ConfigError, PodError
from pyinterlink.core._htcondor import (
    HTCondorOptions,
    classad_string,
    htcondor_submit_description,
    render_htcondor,
    submit_literal,
)
from pyinterlink.core._job import (
    Accelerator,
    EnvVar,
    FileToWrite,
    Job,
    Resources,
    Runtime,
    Task,
)

from tests.core import sample_jobs
from tests.golden import assert_golden

UID = "6f1d0c1e-2a6b-4c4e-9a47-0d3b5c2f7e10"


def make_job(**changes: Any) -> Job:
    job = Job(
        pod_uid=UID,
        pod_name="analysis",
        namespace="physics",
        workdir="/scratch/physics-" + UID,
        runtime=Runtime(kind="apptainer", binary="apptainer"),
        tasks=(Task(name="main", init=False, image="docker://alpine:3.20", command=("true",)),),
    )
    return attrs.evolve(job, **changes)


def parse(text: str) -> dict[str, str]:
    """The commands HTCondor's parser reads from ``text``, with macros expanded."""
    submit = htcondor2.Submit(text)
    return {key: submit.expand(key) for key in submit}


def classad_value(expression: str) -> object:
    return classad2.ExprTree(expression).eval()


# --- what the description asks for --------------------------------------------------------


def test_minimal_job_reads_back_as_one_vanilla_job() -> None:
    commands = parse(htcondor_submit_description(make_job(), HTCondorOptions()))
    assert commands == {
        "universe": "vanilla",
        "executable": "job.sh",
        "batch_name": "physics/analysis",
        "MY.PodUID": f'"{UID}"',
        "MY.PodName": '"analysis"',
        "MY.PodNamespace": '"physics"',
        "request_cpus": "1",
        "should_transfer_files": "YES",
        "when_to_transfer_output": "ON_EXIT",
        "output": "job.out",
        "error": "job.err",
        "log": "job.log",
    }


def test_description_ends_with_a_single_queue_statement() -> None:
    text = htcondor_submit_description(make_job(), HTCondorOptions())
    lines = text.splitlines()
    assert lines[-1] == "queue"
    assert sum(1 for line in lines if line.startswith("queue")) == 1
    assert text.endswith("\n")


def test_resources_become_requests() -> None:
    gpu = Accelerator(resource="nvidia.com/gpu", count=2, htcondor=(("request_GPUs", "2"),))
    job = make_job(resources=Resources(cpus=4, memory_mib=3072, accelerators=(gpu,)))
    commands = parse(htcondor_submit_description(job, HTCondorOptions(request_disk="4GB")))
    assert commands["request_cpus"] == "4"
    assert commands["request_memory"] == "3072"  # a bare number is MiB
    assert commands["request_GPUs"] == "2"
    assert commands["request_disk"] == "4GB"


def test_pod_identity_attributes_are_classad_strings() -> None:
    commands = parse(htcondor_submit_description(make_job(), HTCondorOptions()))
    assert classad_value(commands["MY.PodUID"]) == UID
    assert classad_value(commands["MY.PodName"]) == "analysis"
    assert classad_value(commands["MY.PodNamespace"]) == "physics"


def test_account_wins_over_the_site_accounting_group() -> None:
    options = HTCondorOptions(accounting_group="group_default", accounting_group_user="svc")
    site = parse(htcondor_submit_description(make_job(), options))
    assert site["accounting_group"] == "group_default"
    assert site["accounting_group_user"] == "svc"
    pod = parse(htcondor_submit_description(make_job(account="group_cms"), options))
    assert pod["accounting_group"] == "group_cms"


def test_queue_goes_to_the_site_queue_attribute_or_nowhere() -> None:
    job = make_job(queue="longlunch")
    without = parse(htcondor_submit_description(job, HTCondorOptions()))
    assert "longlunch" not in "".join(without.values())
    with_attribute = parse(
        htcondor_submit_description(job, HTCondorOptions(queue_attribute="JobFlavour"))
    )
    assert classad_value(with_attribute["MY.JobFlavour"]) == "longlunch"


def test_requirements_and_rank_are_site_expressions() -> None:
    options = HTCondorOptions(requirements='OpSysAndVer == "AlmaLinux9"', rank="Memory")
    commands = parse(htcondor_submit_description(make_job(), options))
    assert commands["requirements"] == 'OpSysAndVer == "AlmaLinux9"'
    assert commands["rank"] == "Memory"


# --- time limits --------------------------------------------------------------------------


def test_no_time_limit_without_a_deadline() -> None:
    commands = parse(htcondor_submit_description(make_job(), HTCondorOptions()))
    assert "allowed_execute_duration" not in commands
    assert "periodic_remove" not in commands


def test_deadline_becomes_allowed_execute_duration_by_default() -> None:
    options = HTCondorOptions(max_runtime_attribute="MaxRuntime")
    commands = parse(htcondor_submit_description(make_job(time_limit_seconds=600), options))
    assert commands["allowed_execute_duration"] == "600"
    assert commands["MY.MaxRuntime"] == "600"
    assert "periodic_remove" not in commands


def test_periodic_remove_fires_only_after_the_deadline_while_running() -> None:
    options = HTCondorOptions(time_limit="periodic_remove")
    commands = parse(htcondor_submit_description(make_job(time_limit_seconds=600), options))
    assert "allowed_execute_duration" not in commands
    expression = classad2.ExprTree(commands["periodic_remove"])
    now = int(time.time())

    def fires(status: int, entered: int) -> object:
        ad = classad2.ClassAd({"JobStatus": status, "EnteredCurrentStatus": entered})
        ad["remove"] = expression
        return ad.eval("remove")

    assert fires(2, now - 601) is True
    assert fires(2, now - 10) is False
    assert fires(1, now - 6000) is False  # idle in the queue: not executing yet


# --- container universe -------------------------------------------------------------------


def test_container_universe_uses_the_one_image() -> None:
    job = make_job(
        init_tasks=(Task(name="init", init=True, image="docker://alpine:3.20"),),
    )
    commands = parse(htcondor_submit_description(job, HTCondorOptions(universe="container")))
    assert commands["universe"] == "container"
    assert commands["container_image"] == "docker://alpine:3.20"


def test_container_universe_refuses_several_images() -> None:
    job = make_job(
        tasks=(
            Task(name="a", init=False, image="docker://alpine:3.20"),
            Task(name="b", init=False, image="docker://busybox:1"),
        )
    )
    with pytest.raises(PodError, match="2 images"):
        htcondor_submit_description(job, HTCondorOptions(universe="container"))


# --- site extra commands ------------------------------------------------------------------


def test_extra_commands_come_last_before_queue() -> None:
    options = HTCondorOptions(extra_commands={"+ProjectName": '"physics"', "nice_user": "true"})
    text = htcondor_submit_description(make_job(), options)
    assert text.splitlines()[-3:] == ['+ProjectName = "physics"', "nice_user = true", "queue"]
    commands = parse(text)
    assert classad_value(commands["MY.ProjectName"]) == "physics"


@pytest.mark.parametrize(
    "name",
    [
        *("executable", "Executable", "output", "queue", "arguments", "transfer_output_files"),
        *("+PodUID", "MY.PodUID", "+poduid", "request_cpus", "Request_Cpus", "log"),
    ],
)
def test_extra_commands_cannot_replace_what_pyinterlink_sets(name: str) -> None:
    options = HTCondorOptions(extra_commands={name: "x"})
    with pytest.raises(ConfigError, match="sets"):
        htcondor_submit_description(make_job(), options)


def test_extra_command_may_set_what_this_job_leaves_alone() -> None:
    # request_memory is the pod's when it asks for memory, the site's default otherwise.
    options = HTCondorOptions(extra_commands={"request_memory": "2048"})
    assert parse(htcondor_submit_description(make_job(), options))["request_memory"] == "2048"
    job = make_job(resources=Resources(memory_mib=512))
    with pytest.raises(ConfigError):
        htcondor_submit_description(job, options)


@pytest.mark.parametrize("name", ["", "two words", "a=b", "+", "+1x", "my.x y", "-x"])
def test_extra_command_names_must_be_submit_command_names(name: str) -> None:
    with pytest.raises(ConfigError, match="not a submit command name"):
        htcondor_submit_description(make_job(), HTCondorOptions(extra_commands={name: "1"}))


def test_accelerator_commands_are_checked_like_site_values() -> None:
    bad_name = Accelerator(resource="x.com/fpga", count=1, htcondor=(("request FPGAs", "1"),))
    with pytest.raises(ConfigError, match=r"x\.com/fpga"):
        htcondor_submit_description(
            make_job(resources=Resources(accelerators=(bad_name,))), HTCondorOptions()
        )
    clash = Accelerator(resource="x.com/cpu", count=1, htcondor=(("request_cpus", "8"),))
    with pytest.raises(ConfigError, match="twice"):
        htcondor_submit_description(
            make_job(resources=Resources(accelerators=(clash,))), HTCondorOptions()
        )


# --- injection ----------------------------------------------------------------------------

INJECTIONS = [
    "x\nexecutable = /bin/evil",
    "x\rexecutable = /bin/evil",
    "x\u2028executable = /bin/evil",
    "x\x00y",
    "x\\",  # a trailing backslash joins the next line
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_pod_values_that_could_add_commands_are_refused(value: str) -> None:
    with pytest.raises(PodError):
        htcondor_submit_description(make_job(account=value), HTCondorOptions())


@pytest.mark.parametrize("value", INJECTIONS[:4])
def test_classad_strings_refuse_line_breaks(value: str) -> None:
    with pytest.raises(PodError):
        htcondor_submit_description(
            make_job(queue=value), HTCondorOptions(queue_attribute="JobFlavour")
        )


@pytest.mark.parametrize("value", [*INJECTIONS, " padded", "padded ", ""])
def test_site_values_that_could_add_commands_are_refused(value: str) -> None:
    with pytest.raises(ConfigError):
        htcondor_submit_description(make_job(), HTCondorOptions(requirements=value))
    with pytest.raises(ConfigError):
        htcondor_submit_description(make_job(), HTCondorOptions(extra_commands={"+X": value}))


def test_dollar_in_a_plain_pod_value_is_refused() -> None:
    with pytest.raises(PodError, match="macro"):
        htcondor_submit_description(make_job(account="$(Owner)"), HTCondorOptions())


def test_macros_in_pod_classad_strings_are_not_expanded() -> None:
    queue = "$(Owner)$ENV(HOME)$$(x)$(DOLLAR)(DOLLAR)$"
    options = HTCondorOptions(queue_attribute="JobFlavour")
    commands = parse(htcondor_submit_description(make_job(queue=queue), options))
    assert classad_value(commands["MY.JobFlavour"]) == queue


# Text the submit language can carry on one line: no control characters or line separators.
one_line_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
    max_size=30,
)


@given(one_line_text)
def test_classad_strings_round_trip_through_htcondor(value: str) -> None:
    text = f"+Probe = {classad_string(value, what='probe')}\nqueue\n"
    commands = parse(text)
    assert list(commands) == ["MY.Probe"]
    assert classad_value(commands["MY.Probe"]) == value


@given(st.text(max_size=30))
def test_plain_values_round_trip_or_are_refused(value: str) -> None:
    try:
        literal = submit_literal(value, what="probe")
    except PodError:
        return
    commands = parse(f"accounting_group = {literal}\nqueue\n")
    assert commands == {"accounting_group": value}


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_pod_name_and_queue_give_exactly_the_expected_commands(name: str, queue: str) -> None:
    job = make_job(pod_name=name, queue=queue)
    options = HTCondorOptions(queue_attribute="JobFlavour")
    try:
        text = htcondor_submit_description(job, options)
    except PodError:
        return
    commands = parse(text)
    assert set(commands) == set(parse(htcondor_submit_description(make_job(), options))) | {
        "MY.JobFlavour"
    }
    assert classad_value(commands["MY.PodName"]) == name
    assert classad_value(commands["MY.JobFlavour"]) == queue
    assert commands["batch_name"] == f"physics/{name}"


# --- artifacts ----------------------------------------------------------------------------


def test_render_gives_the_description_and_an_executable_script() -> None:
    artifacts = {a.name: a for a in render_htcondor(make_job(), HTCondorOptions())}
    assert set(artifacts) == {"job.sub", "job.sh"}
    assert not artifacts["job.sub"].executable
    assert artifacts["job.sh"].executable
    assert artifacts["job.sh"].content.startswith("#!")


def test_golden_vanilla() -> None:
    gpu = Accelerator(resource="nvidia.com/gpu", count=1, htcondor=(("request_GPUs", "1"),))
    job = make_job(
        resources=Resources(cpus=2, memory_mib=4096, accelerators=(gpu,)),
        time_limit_seconds=3600,
        account="group_physics",
    )
    options = HTCondorOptions(
        requirements='OpSysAndVer == "AlmaLinux9"',
        max_runtime_attribute="MaxRuntime",
        extra_commands={"+ProjectName": '"physics"'},
    )
    assert_golden("htcondor/vanilla.sub", htcondor_submit_description(job, options))


def test_golden_container_universe() -> None:
    job = make_job(time_limit_seconds=900)
    options = HTCondorOptions(universe="container", time_limit="periodic_remove")
    assert_golden("htcondor/container.sub", htcondor_submit_description(job, options))


# --- job.sh, run --------------------------------------------------------------------------

STUB_RUNTIME = """\
#!/bin/bash
# Stands in for apptainer: records its arguments, then acts as the container would.
name=${APPTAINERENV_NAME:?}
printf '%s\\0' "$@" >"calls-$name"
echo "hello from $name"
exit "${APPTAINERENV_EXIT_CODE:-0}"
"""


def stub_task(name: str, *, init: bool = False, exit_code: int = 0) -> Task:
    env = (EnvVar(name="NAME", value=name), EnvVar(name="EXIT_CODE", value=str(exit_code)))
    return Task(
        name=name, init=init, image="docker://alpine:3.20", command=("echo",), args=(name,), env=env
    )


def run_executable(job: Job, sandbox: Path) -> subprocess.CompletedProcess[str]:
    artifacts = {a.name: a for a in render_htcondor(job, HTCondorOptions())}
    script = sandbox / "job.sh"
    script.write_text(artifacts["job.sh"].content)
    script.chmod(0o755)
    # HTCondor starts the executable in the sandbox, with nothing but the sandbox in it.
    return subprocess.run(
        [str(script)], cwd=sandbox, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture
def stub(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "apptainer"
    path.parent.mkdir()
    path.write_text(STUB_RUNTIME)
    path.chmod(0o755)
    return path


def test_executable_runs_the_pod_in_its_sandbox(tmp_path: Path, stub: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    job = make_job(
        runtime=Runtime(kind="apptainer", binary=str(stub)),
        init_tasks=(stub_task("prepare", init=True),),
        tasks=(stub_task("main", exit_code=3), stub_task("sidecar")),
        files=(
            FileToWrite(path="configMaps/settings/app.conf", content=b"level = debug\n"),
            FileToWrite(path="secrets/token/key", content=b"\x00\xffsecret", mode=0o400),
        ),
        empty_dirs=("emptyDirs/cache",),
    )
    result = run_executable(job, sandbox)
    assert result.returncode == 3, result.stderr

    assert (sandbox / "configMaps/settings/app.conf").read_bytes() == b"level = debug\n"
    secret = sandbox / "secrets/token/key"
    assert secret.read_bytes() == b"\x00\xffsecret"
    assert secret.stat().st_mode & 0o777 == 0o400
    assert (sandbox / "emptyDirs/cache").is_dir()

    for log_name, code in (("init-prepare", 0), ("run-main", 3), ("run-sidecar", 0)):
        assert (sandbox / f"{log_name}.status").read_text() == f"{code}\n"
        name = log_name.split("-", 1)[1]
        assert (sandbox / f"{log_name}.out").read_text() == f"hello from {name}\n"

    argv = (sandbox / "calls-main").read_text().split("\0")[:-1]
    assert argv[0] == "exec"
    assert argv[-3:] == ["docker://alpine:3.20", "echo", "main"]


def test_executable_stops_at_a_failing_init_container(tmp_path: Path, stub: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    job = make_job(
        runtime=Runtime(kind="apptainer", binary=str(stub)),
        init_tasks=(stub_task("first", init=True, exit_code=7), stub_task("second", init=True)),
        tasks=(stub_task("main"),),
    )
    result = run_executable(job, sandbox)
    assert result.returncode == 7
    assert (sandbox / "init-first.status").read_text() == "7\n"
    assert not (sandbox / "init-second.status").exists()
    assert not (sandbox / "run-main.status").exists()


def test_render_refuses_the_container_universe_until_the_script_can_run_in_it() -> None:
    with pytest.raises(ConfigError, match="container universe"):
        render_htcondor(make_job(), HTCondorOptions(universe="container"))


def test_mpi_pods_are_refused() -> None:
    with pytest.raises(PodError, match="MPI"):
        render_htcondor(sample_jobs.mpi("apptainer"), HTCondorOptions())


@pytest.mark.parametrize("name", sorted(set(sample_jobs.SAMPLES) - {"mpi"}))
def test_golden_samples(name: str) -> None:
    artifacts = render_htcondor(sample_jobs.SAMPLES[name]("apptainer"), HTCondorOptions())
    for artifact in artifacts:
        assert_golden(f"htcondor/{name}/{artifact.name}", artifact.content)
    assert parse(artifacts[0].content)["executable"] == "job.sh"
