"""The Slurm backend on the real single-node Slurm of ``scripts/slurm-up``, containers under
bwrap, over each transport (``slurm_runner``: local processes, SSH): submission and completion,
idempotent create, a refused submission, exit codes, the cost of a status call, delete, logs,
GPUs, deadlines, restart recovery, and every example pod checked by ``sbatch --test-only``."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
import yaml
from pyinterlink import core
from pyinterlink.adapters.commands import CommandRunner
from pyinterlink.backends.base import JobRef, LogRequest, StatusAnswer
from pyinterlink.backends.slurm import SlurmBackend
from pyinterlink.core._slurm_backend import SlurmRefusedError
from pyinterlink.core.wire import ContainerLogOpts

from .conftest import CountingRunner, SlurmCluster

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def site(slurm_jobs_dir: Path) -> core.SiteConfig:
    return core.parse_site_config(
        {"ContainerRuntime": "bwrap", "DataRootFolder": str(slurm_jobs_dir)}, source="test"
    )


@pytest.fixture
def counting(slurm_runner: CommandRunner) -> CountingRunner:
    return CountingRunner(slurm_runner)


@attrs.frozen
class DeadlinePod:
    site: core.SiteConfig
    loaded: Loaded
    job_id: str


@pytest.fixture(scope="module")
def deadline_pod(slurm_data_root: Path) -> DeadlinePod:
    """A pod whose activeDeadlineSeconds will expire, submitted when the first test of this
    module that uses a backend starts, so that its wait overlaps the other tests.

    Slurm counts time limits in whole minutes (the deadline becomes ``--time=00:01:00``) and
    checks them every 30 s: the administrator's ``scontrol update TimeLimit=0`` right after
    the submission ends the job at the next check instead of after a minute and a half.
    """
    from pyinterlink.adapters.local_process import LocalRunner

    root = slurm_data_root / "deadline"
    root.mkdir()
    site = core.parse_site_config({"ContainerRuntime": "bwrap", "DataRootFolder": str(root)})
    loaded = make_pod(sh("main", "echo waiting; sleep 300"), activeDeadlineSeconds=30)
    backend = SlurmBackend(LocalRunner(), site)
    job_id = anyio.run(backend.create, loaded.pod, loaded.objects)
    subprocess.run(["scontrol", "update", f"jobid={job_id}", "TimeLimit=0"], check=True)
    return DeadlinePod(site=site, loaded=loaded, job_id=job_id)


@pytest.fixture
def backend(
    counting: CountingRunner, site: core.SiteConfig, deadline_pod: DeadlinePod
) -> SlurmBackend:
    return SlurmBackend(counting, site)


@attrs.frozen
class Loaded:
    pod: core.Pod
    objects: core.PodObjects

    @property
    def ref(self) -> JobRef:
        meta = self.pod.metadata
        return JobRef(pod_uid=meta.uid, namespace=meta.namespace or "default", name=meta.name)


def load_documents(documents: list[Any], source: str) -> Loaded:
    bundle = core.pod_bundle_from_documents(documents, source=source)
    pod, _ = core.ensure_uid(bundle.pod)
    return Loaded(pod=pod, objects=core.PodObjects.of(bundle.config_maps, bundle.secrets))


def make_pod(
    *containers: dict[str, Any],
    init: tuple[dict[str, Any], ...] = (),
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> Loaded:
    """A pod with a fresh UID; each container a dict with at least ``name`` and ``command``."""
    uid = str(uuid.uuid4())
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod-{uid[:8]}",
            "namespace": "slurm-test",
            "uid": uid,
            "annotations": annotations or {},
        },
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{"image": "busybox", **c} for c in init],
            "containers": [{"image": "busybox", **c} for c in containers],
            **spec,
        },
    }
    return load_documents([document], source=uid)


def sh(name: str, script: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "command": ["sh", "-c", script], **more}


def with_id(ref: JobRef, job_id: str) -> JobRef:
    return attrs.evolve(ref, job_id=job_id)


async def until(
    backend: SlurmBackend,
    ref: JobRef,
    done: Callable[[StatusAnswer], bool],
    *,
    timeout: float = 60,
) -> StatusAnswer:
    with anyio.fail_after(timeout):
        while True:
            [answer] = await backend.status([ref])
            if done(answer):
                return answer
            await anyio.sleep(0.1)


def ended(answer: StatusAnswer) -> bool:
    job = answer.observation.job
    return job is not None and job.terminal


def running(answer: StatusAnswer) -> bool:
    job = answer.observation.job
    return job is not None and job.kind == "running"


async def read_log(backend: SlurmBackend, ref: JobRef, container: str, **opts: Any) -> bytes:
    init = opts.pop("init", None)
    request = LogRequest(job=ref, container=container, opts=ContainerLogOpts(**opts), init=init)
    out = b""
    async with backend.logs(request) as chunks:
        async for chunk in chunks:
            out += chunk
    return out


def codes(answer: StatusAnswer) -> dict[str, int | None]:
    return {result.name: result.exit_code for result in answer.observation.containers}


def squeue_names(uid: str) -> list[str]:
    """The job ids Slurm lists under the name ``uid`` (in any state)."""
    done = subprocess.run(
        ["squeue", "--noheader", "--states=all", f"--name={uid}", "--format=%i"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def squeue_state(job_id: str) -> str:
    done = subprocess.run(
        ["squeue", "--noheader", "--states=all", f"--jobs={job_id}", "--format=%T"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(f"{entry.name}: {command}")
    return found


# --- create, status, logs ---------------------------------------------------------------------


async def test_pod_runs_to_completion_with_its_logs(
    backend: SlurmBackend, counting: CountingRunner
) -> None:
    loaded = make_pod(
        sh("main", 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; done'),
        init=(sh("first", "echo one; echo two"), sh("second", "test -d /tmp && echo three")),
    )
    job_id = await backend.create(loaded.pod, loaded.objects)
    assert job_id.isdigit()
    assert counting.programs() == ["sh"], "create is one command"
    ref = with_id(loaded.ref, job_id)
    answer = await until(backend, ref, ended)
    job = answer.observation.job
    assert job is not None
    assert (job.kind, job.raw, job.exit_code) == ("succeeded", "COMPLETED", 0)
    assert codes(answer) == {"first": 0, "second": 0, "main": 0}
    assert answer.observation.containers[0].init
    assert answer.job_id == job_id

    lines = b"".join(b"line %d\n" % i for i in range(1, 11))
    assert await read_log(backend, ref, "main") == lines
    assert await read_log(backend, ref, "main", tail=3) == b"line 8\nline 9\nline 10\n"
    assert await read_log(backend, ref, "main", tail=1) == b"line 10\n"
    assert await read_log(backend, ref, "main", limit_bytes=9) == b"line 1\nli"
    assert await read_log(backend, ref, "main", tail=2, limit_bytes=8) == b"line 9\nl"
    assert await read_log(backend, ref, "main", since_seconds=3600) == lines
    stamped = await read_log(backend, ref, "main", tail=1, timestamps=True)
    assert stamped.endswith(b"Z line 10\n") and len(stamped.split(b" ")[0]) == 30
    # Init containers' logs, found by name or asked for as init containers.
    assert await read_log(backend, ref, "first") == b"one\ntwo\n"
    assert await read_log(backend, ref, "second", init=True) == b"three\n"
    assert await read_log(backend, ref, "first", tail=1) == b"two\n"
    # Following a container that has ended: its whole log, and the stream ends.
    with anyio.fail_after(10):
        assert await read_log(backend, ref, "main", follow=True, tail=2) == b"line 9\nline 10\n"


async def test_create_is_idempotent(
    backend: SlurmBackend, counting: CountingRunner, site: core.SiteConfig
) -> None:
    loaded = make_pod(sh("main", "sleep 30"))
    first = await backend.create(loaded.pod, loaded.objects)
    second = await backend.create(loaded.pod, loaded.objects)
    # A backend that never saw the pod, and the job found by name alone (no JobID.jid).
    workdir = Path(backend.workdir(loaded.ref))
    (workdir / "JobID.jid").unlink()
    third = await SlurmBackend(counting, site).create(loaded.pod, loaded.objects)
    try:
        assert first == second == third
        assert squeue_names(loaded.pod.metadata.uid) == [first]
    finally:
        await backend.delete(with_id(loaded.ref, first))
    assert squeue_state(first) == "CANCELLED"


async def test_refused_submission_keeps_slurms_message_and_leaves_nothing(
    backend: SlurmBackend,
) -> None:
    loaded = make_pod(
        sh("main", "echo never"), annotations={"slurm-job.vk.io/flags": "--partition=nowhere"}
    )
    for _ in range(2):  # a retried create is refused the same way
        with pytest.raises(SlurmRefusedError) as refused:
            await backend.create(loaded.pod, loaded.objects)
        assert "Invalid partition name specified" in str(refused.value)
        assert isinstance(refused.value, core.InputError)
        assert not Path(backend.workdir(loaded.ref)).exists()
        assert squeue_names(loaded.pod.metadata.uid) == []
    [answer] = await backend.status([loaded.ref])
    assert not answer.found


async def test_exit_code_reaches_status_and_a_failed_pod_is_kept(
    backend: SlurmBackend, site: core.SiteConfig, counting: CountingRunner
) -> None:
    loaded = make_pod(sh("fail", "echo 'about to fail' >&2; exit 3"), sh("fine", "true"))
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    answer = await until(backend, ref, ended)
    job = answer.observation.job
    assert job is not None
    assert (job.kind, job.raw, job.exit_code) == ("failed", "FAILED", 3)
    assert codes(answer) == {"fail": 3, "fine": 0}
    status = core.pod_status(loaded.pod, answer.observation, previous=None, now=core_now())
    assert status.phase == "Failed"
    terminated = {c.name: c.state.terminated for c in status.container_statuses}
    assert terminated["fail"] is not None and terminated["fail"].exit_code == 3
    assert await read_log(backend, ref, "fail") == b"about to fail\n"
    await backend.delete(ref)  # keep="on-failure": kept for debugging
    assert (Path(backend.workdir(ref)) / "run-fail.status").read_text() == "3\n"
    await SlurmBackend(counting, site, keep="never").delete(ref)
    assert not Path(backend.workdir(ref)).exists()


def core_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_status_of_many_pods_costs_one_squeue(
    backend: SlurmBackend, counting: CountingRunner, site: core.SiteConfig
) -> None:
    pods = [make_pod(sh("main", f"echo {i}")) for i in range(3)]
    refs = [with_id(p.ref, await backend.create(p.pod, p.objects)) for p in pods]
    # Jobs Slurm does not have (ids far ahead of this cluster's; squeue itself refuses ids
    # beyond its MaxJobId, 67043327 by default).
    made_up = [
        JobRef(pod_uid=str(uuid.uuid4()), namespace="slurm-test", name=f"x{i}", job_id=str(i))
        for i in range(66_000_000, 66_000_050)
    ]
    counting.clear()
    answers = await backend.status([*refs, *made_up])
    # One squeue for all; the files of every working directory beside it; and, since squeue
    # does not list the made-up jobs (they "left the queue"), one sacct, which answers that
    # this site keeps no accounting: never asked again.
    assert counting.programs() == ["squeue", "sh", "sacct"]
    assert backend.accounting is False
    assert [a.found for a in answers] == [True] * 3 + [False] * 50
    assert [a.job_id for a in answers[:3]] == [r.job_id for r in refs]
    counting.clear()
    await backend.status([*refs, *made_up])
    assert counting.programs() == ["squeue", "sh"]

    # Without job ids: one squeue by name finds them all the same.
    anonymous = [attrs.evolve(ref, job_id=None) for ref in refs]
    counting.clear()
    answers = await backend.status([*anonymous, *made_up])
    assert counting.programs() == ["squeue", "sh"]
    assert [a.job_id for a in answers[:3]] == [r.job_id for r in refs]
    for ref in refs:
        await backend.delete(ref)

    # A job that left the queue, with status files: the files say how it ended.
    gone = made_up[0]
    workdir = Path(backend.workdir(gone))
    workdir.mkdir()
    (workdir / "init-setup.status").write_text("0\n")
    (workdir / "run-main.status").write_text("0\n")
    [answer] = await backend.status([gone])
    job = answer.observation.job
    assert answer.found and job is not None and job.kind == "succeeded"
    assert codes(answer) == {"setup": 0, "main": 0}
    (workdir / "run-main.status").write_text("137\n")
    [answer] = await backend.status([gone])
    job = answer.observation.job
    assert job is not None and (job.kind, job.exit_code) == ("failed", 137)


async def test_delete_while_running(backend: SlurmBackend, counting: CountingRunner) -> None:
    loaded = make_pod(sh("main", "echo started; sleep 300"), sh("other", "sleep 300"))
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    workdir = backend.workdir(ref)
    await until(backend, ref, lambda a: running(a) and "started" in read_or_empty(workdir))
    assert processes_mentioning(workdir), "the pod's processes run"
    counting.clear()
    await backend.delete(ref)
    assert "scancel" in counting.programs()
    assert squeue_state(str(ref.job_id)) in ("CANCELLED", "COMPLETING")
    assert not Path(workdir).exists(), "a cancelled pod has not failed: its directory goes"
    with anyio.fail_after(15):
        while processes_mentioning(workdir) or squeue_state(str(ref.job_id)) != "CANCELLED":
            await anyio.sleep(0.2)
    await backend.delete(ref)  # idempotent
    [answer] = await backend.status([ref])
    job = answer.observation.job
    assert job is not None and job.kind == "cancelled"


def read_or_empty(workdir: str) -> str:
    try:
        return Path(workdir, "run-main.out").read_text()
    except OSError:
        return ""


async def test_delete_without_job_id_cancels_by_name(backend: SlurmBackend) -> None:
    loaded = make_pod(sh("main", "sleep 300"))
    job_id = await backend.create(loaded.pod, loaded.objects)
    await backend.delete(loaded.ref)  # no job id: found by the pod UID
    with anyio.fail_after(10):
        while squeue_state(job_id) != "CANCELLED":
            await anyio.sleep(0.2)


async def test_follow_streams_until_the_container_ends(backend: SlurmBackend) -> None:
    loaded = make_pod(
        sh("main", "for i in 1 2 3 4; do echo \"tick $i\"; sleep 0.3; done; printf 'no newline'"),
        init=(sh("setup", "sleep 0.5"),),
    )
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    request = LogRequest(job=ref, container="main", opts=ContainerLogOpts(follow=True))
    chunks: list[bytes] = []
    with anyio.fail_after(40):
        async with backend.logs(request) as stream:
            async for chunk in stream:
                chunks.append(chunk)
    assert b"".join(chunks) == b"tick 1\ntick 2\ntick 3\ntick 4\nno newline"
    assert len(chunks) > 1, "lines arrive as they are written"
    answer = await until(backend, ref, ended)
    assert codes(answer) == {"setup": 0, "main": 0}


async def test_follow_ends_when_the_job_is_cancelled_before_the_container_ran(
    backend: SlurmBackend,
) -> None:
    loaded = make_pod(sh("main", "echo never"), init=(sh("setup", "sleep 300"),))
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    await until(backend, ref, running)
    request = LogRequest(job=ref, container="main", opts=ContainerLogOpts(follow=True))
    with anyio.fail_after(30):
        async with backend.logs(request) as stream:
            await backend.delete(ref)
            assert [chunk async for chunk in stream] == []


# --- resources and limits ---------------------------------------------------------------------


async def test_gpu_pod_gets_a_gpu(backend: SlurmBackend) -> None:
    loaded = make_pod(
        sh(
            "main",
            'echo "container sees CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"',
            resources={"limits": {"nvidia.com/gpu": "1"}},
        ),
        annotations={
            "slurm-job.vk.io/pre-exec": 'echo "job has CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"'
        },
    )
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    assert "#SBATCH --gres=gpu:1" in (Path(backend.workdir(ref)) / "job.slurm").read_text()
    answer = await until(backend, ref, ended)
    assert codes(answer) == {"main": 0}
    job_out = (Path(backend.workdir(ref)) / "job.out").read_text()
    assert "job has CUDA_VISIBLE_DEVICES=0" in job_out
    log = await read_log(backend, ref, "main")
    if b"=unset" in log:
        pytest.xfail(
            "Slurm gives the job its GPU, but the bwrap runtime (core/_runtime.py) starts the "
            "container with --clearenv and does not pass CUDA_VISIBLE_DEVICES on"
        )
    assert log == b"container sees CUDA_VISIBLE_DEVICES=0\n"


async def test_ping_reports_free_cpus_memory_and_gpus(
    backend: SlurmBackend, counting: CountingRunner
) -> None:
    counting.clear()
    answer = await backend.ping()
    assert counting.programs() == ["sinfo"]
    assert answer.status == "ok"
    assert answer.resources is not None
    assert answer.resources.cpu is not None and 0 <= answer.resources.cpu.value <= 2
    assert answer.resources.memory is not None and answer.resources.memory.value > 0
    gpus = {a.resource_type: a.available for a in answer.resources.accelerators}
    assert set(gpus) == {"nvidia.com/gpu"} and 0 <= gpus["nvidia.com/gpu"] <= 2


async def test_command_prefix_runs_first(counting: CountingRunner, slurm_jobs_dir: Path) -> None:
    site = core.parse_site_config(
        {
            "ContainerRuntime": "bwrap",
            "DataRootFolder": str(slurm_jobs_dir),
            "CommandPrefix": 'echo "prefix ran in $SLURM_JOB_ID"',
        }
    )
    backend = SlurmBackend(counting, site)
    loaded = make_pod(sh("main", "true"))
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    await until(backend, ref, ended)
    job_out = (Path(backend.workdir(ref)) / "job.out").read_text()
    assert f"prefix ran in {ref.job_id}" in job_out


# --- restart ----------------------------------------------------------------------------------


async def test_a_new_backend_adopts_and_carries_on(
    backend: SlurmBackend, counting: CountingRunner, site: core.SiteConfig
) -> None:
    loaded = make_pod(sh("main", "sleep 300"))
    job_id = await backend.create(loaded.pod, loaded.objects)
    await until(backend, with_id(loaded.ref, job_id), running)

    restarted = SlurmBackend(counting, site)
    counting.clear()
    adopted = await restarted.adopt()
    assert counting.programs() == ["squeue"]
    mine = [ref for ref in adopted if ref.pod_uid == loaded.pod.metadata.uid]
    assert mine == [attrs.evolve(loaded.ref, name="", job_id=job_id)]
    [answer] = await restarted.status([attrs.evolve(loaded.ref, job_id=None)])
    job = answer.observation.job
    assert answer.found and answer.job_id == job_id and job is not None and job.kind == "running"
    await restarted.delete(mine[0])
    with anyio.fail_after(10):
        while squeue_state(job_id) != "CANCELLED":
            await anyio.sleep(0.2)


# --- every example, as sbatch reads it ----------------------------------------------------------

# Examples that ask for more than this two-core, two-GPU node has: sbatch --test-only refuses
# them for that reason alone, and accepts them once their resources are overridden.
TOO_BIG = {
    "gpu-training.yaml": "Requested node configuration is not available",
    "fpga.yaml": "Invalid generic resource (gres) specification",
}


def example_pods() -> list[Path]:
    paths = sorted(EXAMPLES.rglob("*.yaml"))
    return [p for p in paths if "kind: Pod" in p.read_text()]


@pytest.mark.parametrize("path", example_pods(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_scripts_pass_sbatch_test_only(
    path: Path, slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    site = core.parse_site_config({"ContainerRuntime": "bwrap", "DataRootFolder": str(tmp_path)})
    loaded = load_documents(list(yaml.safe_load_all(path.read_text())), source=path.name)
    job = core.translate(loaded.pod, loaded.objects, site)
    (artifact,) = core.render_slurm(job)
    script = artifact.content.encode()
    done = subprocess.run(["sbatch", "--test-only"], input=script, capture_output=True, check=False)
    said = done.stderr.decode()
    if path.name in TOO_BIG:
        assert done.returncode == 1 and TOO_BIG[path.name] in said, said
        smaller = ["--cpus-per-task=1", "--mem=256M", "--gres=none"]
        done = subprocess.run(
            ["sbatch", "--test-only", *smaller], input=script, capture_output=True, check=False
        )
        said = done.stderr.decode()
    assert done.returncode == 0, said
    assert "to start at" in said


def test_examples_are_found() -> None:
    names = {p.name for p in example_pods()}
    assert {"hello.yaml", "gpu-training.yaml", "deadline.yaml"} <= names
    assert json.dumps(sorted(TOO_BIG)) and set(TOO_BIG) <= names


# --- last: the deadline pod submitted by the first test ----------------------------------------


async def test_deadline_ends_in_timeout_and_deadline_exceeded(
    counting: CountingRunner, deadline_pod: DeadlinePod
) -> None:
    backend = SlurmBackend(counting, deadline_pod.site)
    ref = with_id(deadline_pod.loaded.ref, deadline_pod.job_id)
    script = (Path(backend.workdir(ref)) / "job.slurm").read_text()
    assert "#SBATCH --time=00:01:00" in script
    answer = await until(backend, ref, ended, timeout=70)
    job = answer.observation.job
    assert job is not None
    assert (job.kind, job.raw, job.reason) == ("failed", "TIMEOUT", "DeadlineExceeded")
    status = core.pod_status(
        deadline_pod.loaded.pod, answer.observation, previous=None, now=core_now()
    )
    assert (status.phase, status.reason) == ("Failed", "DeadlineExceeded")
    assert await read_log(backend, ref, "main") == b"waiting\n"
