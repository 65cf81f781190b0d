"""The Slurm backend's pure decisions (``core/_slurm_backend.py``): the commands of every
operation, what their output means, and the small shell programs run for real with ``sh`` on
temporary directories (no Slurm needed: the backend's own tests run them on the real one)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink import core
from pyinterlink.core import ContainerResult, Observation, RemoteState, SchedulerOutputError
from pyinterlink.core import _slurm_backend as sb
from pyinterlink.core.slurm import SLURM_ENV, SQUEUE_FORMAT, SlurmJob, squeue_jobs

OUTPUT = Path(__file__).resolve().parents[1] / "slurm_output"
SITE = core.SiteConfig(data_root_folder="/scratch/jobs/", container_runtime="bwrap")
UID = "7f3c2a10-5b8e-4d2f-9a61-0c4e8b9d1e23"
SH = shutil.which("sh") or "/bin/sh"


def job(job_id: str, name: str | None, kind: core.RemoteKind = "running") -> SlurmJob:
    return SlurmJob(job_id=job_id, name=name, state=RemoteState(kind=kind, raw=kind.upper()))


# --- paths --------------------------------------------------------------------------------------


def test_workdir_is_translations() -> None:
    pod = core.pod_from_json(
        {
            "metadata": {"name": "p", "namespace": "team-a", "uid": UID},
            "spec": {"containers": [{"name": "c", "image": "i", "command": ["true"]}]},
        }
    )
    job_ = core.translate(pod, core.PodObjects(), SITE)
    assert sb.workdir_of(SITE, "team-a", UID) == job_.workdir == f"/scratch/jobs/team-a-{UID}"


@pytest.mark.parametrize(
    ("namespace", "uid"), [("../x", UID), ("ns", "../../etc"), ("NS", UID), ("ns", "")]
)
def test_workdir_refuses_names_that_are_not_names(namespace: str, uid: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        sb.workdir_of(SITE, namespace, uid)


# --- create -------------------------------------------------------------------------------------


def test_create_argv_passes_everything_as_arguments() -> None:
    site = attrs.evolve(SITE, sbatch_path="/opt/slurm/bin/sbatch", squeue_path="/opt/sq")
    argv = sb.create_argv(site, UID, "/scratch/jobs/ns-x")
    assert argv == (
        "sh",
        "-c",
        sb.CREATE_SCRIPT,
        "sh",
        UID,
        "/scratch/jobs/ns-x",
        "/opt/sq",
        "/opt/slurm/bin/sbatch",
    )
    # squeue alone runs with SLURM_ENV: sbatch hands its environment on to the job.
    lookup = next(line for line in sb.CREATE_SCRIPT.splitlines() if '"$squeue"' in line)
    assert all(f"{name}=" in lookup for name in SLURM_ENV)
    assert "TZ" not in next(line for line in sb.CREATE_SCRIPT.splitlines() if '"$sbatch"' in line)
    with pytest.raises(ValueError, match="UID"):
        sb.create_argv(SITE, "a b", "/x")
    with pytest.raises(ValueError, match="working directory"):
        sb.create_argv(SITE, UID, "/x\n/y")


def test_parse_create_submitted_recorded_found() -> None:
    parsable = (OUTPUT / "sbatch-parsable.txt").read_text()
    assert sb.parse_create(UID, 0, "submitted\n" + parsable, "") == sb.CreateOutcome(
        job_id=parsable.strip(), submitted=True
    )
    assert sb.parse_create(UID, 0, "recorded\n4242\n", "") == sb.CreateOutcome(job_id="4242")
    lines = "\n".join(
        [
            f"10|COMPLETED|None|2026-11-23T16:04:16|2026-11-23T16:04:17|0|{UID}",
            f"12|RUNNING|None|2026-11-23T16:05:16|NONE|0|{UID}",
            f"11|FAILED|NonZeroExitCode|2026-11-23T16:04:16|2026-11-23T16:04:17|256|{UID}",
        ]
    )
    # Of several jobs under the pod's name, the newest that has not ended.
    assert sb.parse_create(UID, 0, f"found\n{lines}\n", "").job_id == "12"


def test_parse_create_refusals_are_permanent_with_slurms_message() -> None:
    refused = (OUTPUT / "sbatch-refused.txt").read_text()
    outcome = sb.parse_create(UID, 1, "refused\n", refused)
    assert outcome == sb.CreateOutcome(message=refused.strip(), permanent=True)
    partition = (
        "sbatch: error: invalid partition specified: nowhere\n"
        "sbatch: error: Batch job submission failed: Invalid partition name specified"
    )
    assert sb.parse_create(UID, 1, "refused\n", partition).permanent


@pytest.mark.parametrize(
    "message",
    [
        "sbatch: error: Batch job submission failed: Unable to contact slurm controller "
        "(connect failure)",
        "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation",
        "sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying",
        "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy "
        "(job submit limit, user's size and/or time limits)",
        "sbatch: error: Invalid user for SlurmUser root, munge decode failed",
    ],
)
def test_parse_create_busy_or_unreachable_is_transient(message: str) -> None:
    outcome = sb.parse_create(UID, 1, "refused\n", message)
    assert outcome.job_id is None and not outcome.permanent and outcome.message == message


def test_parse_create_other_failures_are_transient() -> None:
    assert sb.parse_create(UID, 1, "lookup-failed\n", "squeue: error: down") == sb.CreateOutcome(
        message="squeue: error: down"
    )
    assert not sb.parse_create(UID, 1, "prepare-failed\n", "mkdir: Read-only").permanent
    assert "the create command failed" in sb.parse_create(UID, 255, "", "").message
    with pytest.raises(SchedulerOutputError):
        sb.parse_create(UID, 0, "submitted\nSubmitted batch job 3\n", "")
    with pytest.raises(SchedulerOutputError, match="no job named"):
        sb.parse_create(UID, 0, "found\n9|RUNNING|None|N/A|NONE|0|other\n", "")


@given(st.integers(-300, 300), st.text(max_size=200), st.text(max_size=200))
def test_parse_create_is_total(returncode: int, stdout: str, stderr: str) -> None:
    for head in ("", "recorded\n", "found\n", "submitted\n", "refused\n"):
        try:
            outcome = sb.parse_create(UID, returncode, head + stdout, stderr)
        except SchedulerOutputError:
            continue
        assert (outcome.job_id is None) == bool(outcome.message)


def test_command_prefix_goes_after_the_sbatch_lines() -> None:
    script = "#!/bin/bash\n#SBATCH --job-name=x\n#SBATCH --output=y\n\nworkdir=/w\n"
    prefixed = sb.with_command_prefix(script, "module load apptainer\nexport A=1\n")
    assert prefixed == (
        "#!/bin/bash\n#SBATCH --job-name=x\n#SBATCH --output=y\n\n"
        "# The site's CommandPrefix.\nmodule load apptainer\nexport A=1\n\nworkdir=/w\n"
    )
    assert sb.with_command_prefix(script, "  ") == script


def test_pick_job() -> None:
    jobs = [job("5", UID, "failed"), job("7", UID, "running"), job("9", UID, "succeeded")]
    assert sb.pick_job(jobs, UID) == jobs[1]
    assert sb.pick_job(jobs, UID, "9") == jobs[2]
    assert sb.pick_job(jobs, UID, "8") == jobs[1]  # the id is not listed: by name
    assert sb.pick_job(jobs[::2], UID) == jobs[2]  # all ended: the newest
    assert sb.pick_job(jobs, "other") is None
    assert sb.pick_job([job("3", None)], "x", "3") == job("3", None)
    assert sb.pick_job([job("3", "someone-else")], UID, "3") is None  # an id given again


# --- status -------------------------------------------------------------------------------------


def tracked(n: int, *, ids: bool = True) -> list[sb.Tracked]:
    return [
        sb.Tracked(uid=f"uid-{i}", workdir=f"/w/ns-uid-{i}", job_id=str(100 + i) if ids else None)
        for i in range(n)
    ]


def test_one_squeue_for_any_number_of_jobs() -> None:
    site = attrs.evolve(SITE, squeue_path="/usr/local/bin/squeue")
    assert sb.status_squeue_argv(site, []) is None
    argv = sb.status_squeue_argv(site, tracked(500))
    assert argv is not None and argv[0] == "/usr/local/bin/squeue"
    assert argv[-2] == "--jobs=" + ",".join(str(100 + i) for i in range(500))
    assert argv[-1] == f"--Format={SQUEUE_FORMAT}"
    mixed = [*tracked(2), sb.Tracked(uid="lost", workdir="/w/ns-lost")]
    by_name = sb.status_squeue_argv(site, mixed)
    assert by_name is not None and "--name=uid-0,uid-1,lost" in by_name
    assert "--states=all" in by_name


def test_squeue_and_sacct_messages() -> None:
    assert sb.squeue_missing_all(1, "slurm_load_jobs error: Invalid job id specified")
    assert not sb.squeue_missing_all(1, "slurm_load_jobs error: Unable to contact slurm controller")
    assert sb.accounting_disabled("sacct: error: Slurm accounting storage is disabled")
    assert not sb.accounting_disabled("sacct: error: Problem talking to the database")
    assert sb.sacct_status_argv(["5", "6"])[0] == "sacct"


def run_files_script(workdirs: list[str]) -> str:
    done = subprocess.run(
        [SH, "-c", sb.FILES_SCRIPT],
        input=sb.files_stdin(workdirs),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_files_script_reads_every_directory_in_one_process(tmp_path: Path) -> None:
    one, two, missing = tmp_path / "ns-a", tmp_path / "ns b'$x", tmp_path / "ns-missing"
    for directory in (one, two):
        directory.mkdir()
    (one / "JobID.jid").write_text("77\n")
    (one / "init-setup.status").write_text("0\n")
    (one / "run-main.status").write_text("")  # being written: ended, no code yet
    (one / "run-main.out").write_text("not a status file\n")
    (two / "run-app.status").write_text("137")  # no newline
    (two / "job.out").write_text("x")
    text = run_files_script([str(one), str(two), str(missing)])
    files = sb.parse_files(text, 3)
    assert files == (
        sb.WorkdirFiles(
            job_id="77",
            containers=(
                ContainerResult(name="setup", init=True, exit_code=0),
                ContainerResult(name="main", exit_code=None),
            ),
        ),
        sb.WorkdirFiles(containers=(ContainerResult(name="app", exit_code=137),)),
        sb.WorkdirFiles(),
    )
    assert sb.files_argv() == ("sh", "-c", sb.FILES_SCRIPT)


def test_parse_files_leaves_damaged_files_out() -> None:
    text = "0 JobID.jid garbage\n0 run-a.status -1\n0 run-b.status 3\n1 run-c.status 0\n"
    assert sb.parse_files(text, 2) == (
        sb.WorkdirFiles(containers=(ContainerResult(name="b", exit_code=3),)),
        sb.WorkdirFiles(containers=(ContainerResult(name="c", exit_code=0),)),
    )
    with pytest.raises(SchedulerOutputError, match="line 1"):
        sb.parse_files("2 run-a.status 0\n", 2)
    with pytest.raises(SchedulerOutputError, match="line 2"):
        sb.parse_files("0 run-a.status 0\nnonsense\n", 1)
    with pytest.raises(ValueError, match="working directory"):
        sb.files_stdin(["/a\n/b"])


@given(st.text(max_size=300), st.integers(0, 5))
def test_parse_files_is_total(text: str, count: int) -> None:
    try:
        files = sb.parse_files(text, count)
    except SchedulerOutputError:
        return
    assert len(files) == count


def test_reports_from_squeue_sacct_and_files() -> None:
    jobs = [
        sb.Tracked(uid="queued", workdir="/w/ns-queued", job_id="1"),
        sb.Tracked(uid="running", workdir="/w/ns-running", job_id="2"),
        sb.Tracked(uid="accounted", workdir="/w/ns-accounted", job_id="3"),
        sb.Tracked(uid="gone-ok", workdir="/w/ns-gone-ok", job_id="4"),
        sb.Tracked(uid="gone-failed", workdir="/w/ns-gone-failed"),
        sb.Tracked(uid="never", workdir="/w/ns-never", job_id="6"),
        sb.Tracked(uid="by-name", workdir="/w/ns-by-name"),
    ]
    queue = [job("1", "queued", "queued"), job("2", "running"), job("17", "by-name")]
    init_done = ContainerResult(name="setup", init=True, exit_code=0)
    files = [
        sb.WorkdirFiles(),
        sb.WorkdirFiles(job_id="2", containers=(init_done,)),
        sb.WorkdirFiles(containers=(ContainerResult(name="main", exit_code=1),)),
        sb.WorkdirFiles(containers=(init_done, ContainerResult(name="main", exit_code=0))),
        sb.WorkdirFiles(job_id="5", containers=(ContainerResult(name="main", exit_code=2),)),
        sb.WorkdirFiles(),
        sb.WorkdirFiles(),
    ]
    assert sb.jobs_to_account(jobs, queue, files) == ("3", "4", "5", "6")
    accounted = {"3": RemoteState(kind="failed", raw="OUT_OF_MEMORY", reason="OOMKilled")}
    reports = sb.pod_reports(jobs, queue, files, accounted=accounted)
    by_uid = {report.uid: report for report in reports}
    assert [report.uid for report in reports] == [j.uid for j in jobs]
    assert by_uid["queued"].observation == Observation(job=queue[0].state)
    assert by_uid["running"].observation == Observation(job=queue[1].state, containers=(init_done,))
    assert by_uid["accounted"].observation.job == accounted["3"]
    ok = by_uid["gone-ok"].observation.job
    assert ok is not None and (ok.kind, ok.exit_code) == ("succeeded", 0)
    failed = by_uid["gone-failed"]
    assert failed.job_id == "5"  # from JobID.jid
    assert failed.observation.job is not None
    assert (failed.observation.job.kind, failed.observation.job.exit_code) == ("failed", 2)
    assert by_uid["never"] == sb.PodReport(uid="never", found=False, job_id="6")
    assert by_uid["by-name"].job_id == "17" and by_uid["by-name"].found
    with pytest.raises(ValueError, match="file listings"):
        sb.pod_reports(jobs, queue, files[:2])


def test_a_container_without_its_code_after_the_job_left_means_failed() -> None:
    files = [sb.WorkdirFiles(containers=(ContainerResult(name="main", exit_code=None),))]
    [report] = sb.pod_reports([sb.Tracked(uid="u", workdir="/w/ns-u", job_id="1")], [], files)
    assert report.observation.job is not None and report.observation.job.kind == "failed"


def test_reports_from_real_squeue_output() -> None:
    queue = squeue_jobs((OUTPUT / "squeue-O-all.txt").read_text())
    by_name = {j.name: j for j in queue}
    jobs = [
        sb.Tracked(uid=name or "", workdir=f"/w/ns-{name}", job_id=j.job_id)
        for name, j in by_name.items()
    ]
    reports = sb.pod_reports(jobs, queue, [sb.WorkdirFiles()] * len(jobs))
    assert all(report.found for report in reports)
    assert [r.observation.job for r in reports] == [j.state for j in by_name.values()]


# --- delete -------------------------------------------------------------------------------------


def test_cancel_and_cleanup_commands() -> None:
    site = attrs.evolve(SITE, scancel_path="/opt/scancel")
    assert sb.cancel_argv(site, UID, "55") == ("/opt/scancel", "55")
    assert sb.cancel_argv(site, UID, None) == ("/opt/scancel", f"--name={UID}")
    with pytest.raises(ValueError, match="job id"):
        sb.cancel_argv(site, UID, "5;rm")
    assert sb.cleanup_argv(f"/scratch/jobs/ns-{UID}") == (
        "rm",
        "-rf",
        "--",
        f"/scratch/jobs/ns-{UID}",
    )
    for bad in ("/", "", "/scratch/jobs/", "/scratch/..", "/a\nb-c"):
        with pytest.raises(ValueError, match="directory"):
            sb.cleanup_argv(bad)


@pytest.mark.parametrize(
    ("keep", "observation", "removed"),
    [
        ("never", Observation(job=RemoteState(kind="failed")), True),
        ("always", Observation(job=RemoteState(kind="succeeded")), False),
        ("on-failure", None, True),
        ("on-failure", Observation(job=RemoteState(kind="running")), True),
        ("on-failure", Observation(job=RemoteState(kind="succeeded")), True),
        ("on-failure", Observation(job=RemoteState(kind="failed")), False),
        ("on-failure", Observation(containers=(ContainerResult(name="a", exit_code=3),)), False),
        ("on-failure", Observation(containers=(ContainerResult(name="a", exit_code=0),)), True),
    ],
)
def test_keep_policy(keep: sb.KeepPolicy, observation: Observation | None, removed: bool) -> None:
    assert sb.should_remove(keep, observation) is removed
    assert set(sb.KEEP_POLICIES) == {"always", "on-failure", "never"}


# --- logs ---------------------------------------------------------------------------------------


def read_log_files(workdir: Path, container: str, init: bool | None, **kw: bool) -> bytes:
    argv = sb.log_read_argv(str(workdir), container, init, **kw)
    done = subprocess.run([SH, *argv[1:]], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_log_read_script(tmp_path: Path) -> None:
    (tmp_path / "init-setup.out").write_bytes(b"a\nb")
    (tmp_path / "run-main.out").write_bytes(b"x\ny\n")
    (tmp_path / "run-main.status").write_text("0\n")
    (tmp_path / "job.out").write_bytes(b"slurmstepd: error: *** JOB 5 CANCELLED ***\n")
    main = sb.parse_log_read(read_log_files(tmp_path, "main", None))
    assert main is not None and (main.name, main.data, main.ended) == (
        "run-main.out",
        b"x\ny\n",
        True,
    )
    mtime = datetime.fromtimestamp((tmp_path / "run-main.out").stat().st_mtime, UTC)
    assert main.mtime is not None and abs((main.mtime - mtime).total_seconds()) < 0.001
    setup = sb.parse_log_read(read_log_files(tmp_path, "setup", None))
    assert setup is not None and (setup.name, setup.data, setup.ended) == (
        "init-setup.out",
        b"a\nb",
        False,
    )
    assert sb.parse_log_read(read_log_files(tmp_path, "setup", False)) is not None  # job.out
    other = sb.parse_log_read(read_log_files(tmp_path, "other", None))
    assert other is not None and other.name == "job.out"
    assert sb.parse_log_read(read_log_files(tmp_path, "other", None, batch_output=False)) is None
    assert sb.parse_log_read(read_log_files(tmp_path / "nowhere", "main", None)) is None


def test_parse_log_read_refuses_what_the_script_does_not_print() -> None:
    for output in (b"run-x.out 3\nabc", b"../etc/passwd 3 1.0\nabc", b"run-x.out 2 1.0\nabc"):
        with pytest.raises(SchedulerOutputError):
            sb.parse_log_read(output)
    with pytest.raises(SchedulerOutputError, match="modification time"):
        sb.parse_log_read(b"run-x.out 1 nan\na")
    read = sb.parse_log_read(b"run-x.out 1 1700000000\na")
    assert read is not None and read.mtime == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_log_commands_check_their_arguments() -> None:
    with pytest.raises(ValueError, match="container"):
        sb.log_read_argv("/w/ns-u", "../x", None)
    with pytest.raises(ValueError, match="output file"):
        sb.log_follow_argv(SITE, "/w/ns-u", ["job.out"], 0, None)
    with pytest.raises(ValueError, match="no output file"):
        sb.log_follow_argv(SITE, "/w/ns-u", [], 0, None)
    with pytest.raises(ValueError, match="negative"):
        sb.log_rest_argv("/w/ns-u", ["run-a.out"], -1)
    with pytest.raises(ValueError, match="job id"):
        sb.log_follow_argv(SITE, "/w/ns-u", ["run-a.out"], 0, "1;2")
    argv = sb.log_follow_argv(SITE, "/w/ns-u", sb.log_names("a", None), 10, "42")
    assert argv[4:] == ("/w/ns-u", "squeue", "42", "11", "run-a.out", "init-a.out")
    assert sb.log_names("a", True) == ("init-a.out",)
    assert sb.log_names("a", False) == ("run-a.out",)


def test_log_rest_script(tmp_path: Path) -> None:
    (tmp_path / "init-a.out").write_bytes(b"0123456789")
    argv = sb.log_rest_argv(str(tmp_path), sb.log_names("a", None), 4)
    done = subprocess.run([SH, *argv[1:]], capture_output=True, check=False)
    assert (done.returncode, done.stdout) == (0, b"456789")
    argv = sb.log_rest_argv(str(tmp_path), sb.log_names("b", None), 0)
    assert subprocess.run([SH, *argv[1:]], capture_output=True, check=False).stdout == b""


# --- ping ---------------------------------------------------------------------------------------

# Captured here (scripts/slurm-up's node) with the command of sinfo_argv: idle, then with a
# one-GPU job running.
SINFO_IDLE = "vm|idle|0/2/0/2|8000|0|gpu:2|gpu:0\n"
SINFO_BUSY = "vm|mixed|1/1/0/2|8000|256|gpu:2|gpu:1\n"


def test_ping_from_sinfo() -> None:
    assert sb.sinfo_argv(SITE)[0] == "/usr/bin/sinfo"
    assert sb.sinfo_argv(attrs.evolve(SITE, partition="gpu"))[-1] == "--partition=gpu"
    idle = sb.parse_sinfo(SINFO_IDLE, SITE)
    assert idle.status == "ok" and idle.resources is not None
    assert idle.resources.cpu == core.parse_quantity("2")
    assert idle.resources.memory == core.parse_quantity("8000Mi")
    assert [(a.resource_type, a.available) for a in idle.resources.accelerators] == [
        ("nvidia.com/gpu", 2)
    ]
    busy = sb.parse_sinfo(SINFO_BUSY, SITE)
    assert busy.resources is not None
    assert busy.resources.cpu == core.parse_quantity("1")
    assert busy.resources.memory == core.parse_quantity("7744Mi")
    assert busy.resources.accelerators[0].available == 1
    assert idle.taints == ()


def test_ping_counts_usable_nodes_once_and_maps_gres_through_the_site_table() -> None:
    text = "\n".join(
        [
            "a|mixed|2/6/0/8|64000|8000|gpu:a100:4(S:0-1),fpga:2|gpu:a100:1(IDX:0),fpga:0",
            "a|mixed|2/6/0/8|64000|8000|gpu:a100:4(S:0-1),fpga:2|gpu:a100:1(IDX:0),fpga:0",
            "b|drained|0/8/0/8|64000|0|gpu:4|gpu:0",
            "c|idle*|0/8/0/8|64000|0|gpu:4|gpu:0",
            "d|idle|0/4/0/4|16000|0|(null)|(null)",
            "e|down~|0/4/0/4|16000|0|(null)|(null)",
        ]
    )
    site = core.parse_site_config({"Taints": [{"Key": "k", "Value": "v", "Effect": "NoExecute"}]})
    answer = sb.parse_sinfo(text, site)
    assert answer.resources is not None
    assert answer.resources.cpu == core.parse_quantity("10")
    assert answer.resources.memory == core.parse_quantity(f"{56000 + 16000}Mi")
    assert {(a.resource_type, a.available) for a in answer.resources.accelerators} == {
        ("nvidia.com/gpu", 3),
        ("xilinx.com/fpga", 2),
    }
    assert answer.taints == (core.wire.PingTaint(key="k", value="v", effect="NoExecute"),)
    with pytest.raises(SchedulerOutputError, match="line 1"):
        sb.parse_sinfo("a|idle|x|1|0|(null)|(null)", SITE)
    with pytest.raises(SchedulerOutputError, match="7 fields"):
        sb.parse_sinfo("a|idle", SITE)


# --- adoption -----------------------------------------------------------------------------------


def test_adopt_finds_this_sites_jobs() -> None:
    other = "8f3c2a10-5b8e-4d2f-9a61-0c4e8b9d1e24"
    text = "\n".join(
        [
            f"10|/scratch/jobs/team-a-{UID}/job.out|{UID}",
            f"12|/scratch/jobs/team-a-{UID}/job.out|{UID}",  # a second job: the newest counts
            f"11|/elsewhere/team-b-{other}/job.out|{other}",  # another data root
            "13|/home/u/slurm-13.out|my analysis | with bars",  # someone's own job
            f"14|/scratch/jobs/Team-{other}/job.out|{other}",  # not a namespace
            "garbage",
        ]
    )
    assert sb.parse_adopt(text, SITE) == ((UID, "team-a", "12"),)
    relative = core.parse_site_config({"DataRootFolder": ".local/interlink/jobs/"})
    line = f"20|/home/u/.local/interlink/jobs/default-{UID}/job.out|{UID}"
    assert sb.parse_adopt(line, relative) == ((UID, "default", "20"),)
    assert sb.adopt_argv(SITE)[-2:] == ("--me", "--Format=JobID:|,STDOUT:|,Name:")
