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
from datetime import UTC, datetime, timedelta
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
    """A pod and its objects from YAML documents, with a fresh UID: the UID names the job,
    and every test's pod must be a new one to Slurm (``core.ensure_uid`` would derive the
    same UID from the same name each time)."""
    for document in documents:
        if document.get("kind", "Pod") == "Pod":
            document.setdefault("metadata", {})["uid"] = str(uuid.uuid4())
    bundle = core.pod_bundle_from_documents(documents, source=source)
    return Loaded(pod=bundle.pod, objects=core.PodObjects.of(bundle.config_maps, bundle.secrets))


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


def now() -> datetime:
    return datetime.now(UTC)


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
    counting: CountingRunner, slurm_jobs_dir: Path, deadline_pod: DeadlinePod
) -> None:
    site = core.parse_site_config(
        {
            "ContainerRuntime": "bwrap",
            "DataRootFolder": str(slurm_jobs_dir),
            "CommandPrefix": 'echo "prefix ran in $SLURM_JOB_ID"',
        }
    )
    backend = SlurmBackend(counting, site)
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
    # The site's CommandPrefix ran in the job, before the containers.
    job_out = (Path(backend.workdir(ref)) / "job.out").read_text()
    assert f"prefix ran in {job_id}\n" in job_out

    lines = b"".join(b"line %d\n" % i for i in range(1, 11))
    assert await read_log(backend, ref, "main") == lines
    assert await read_log(backend, ref, "main", tail=3) == b"line 8\nline 9\nline 10\n"
    assert await read_log(backend, ref, "main", tail=1) == b"line 10\n"
    assert await read_log(backend, ref, "main", limit_bytes=9) == b"line 1\nli"
    assert await read_log(backend, ref, "main", tail=2, limit_bytes=8) == b"line 9\nl"
    assert await read_log(backend, ref, "main", since_seconds=3600) == lines
    # The file was last written before this instant: nothing of it is newer.
    later = now() + timedelta(seconds=5)
    assert await read_log(backend, ref, "main", since_time=later) == b""
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
    loaded = make_pod(sh("main", "sleep 30"), annotations={"slurm-job.vk.io/flags": "--hold"})
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
    status = core.pod_status(loaded.pod, answer.observation, previous=None, now=now())
    assert status.phase == "Failed"
    terminated = {c.name: c.state.terminated for c in status.container_statuses}
    assert terminated["fail"] is not None and terminated["fail"].exit_code == 3
    assert await read_log(backend, ref, "fail") == b"about to fail\n"
    await backend.delete(ref)  # keep="on-failure": kept for debugging
    assert (Path(backend.workdir(ref)) / "run-fail.status").read_text() == "3\n"
    await SlurmBackend(counting, site, keep="never").delete(ref)
    assert not Path(backend.workdir(ref)).exists()


async def test_status_of_many_pods_costs_one_squeue(
    backend: SlurmBackend, counting: CountingRunner, site: core.SiteConfig
) -> None:
    # Held jobs: they stay queued, costing the two-core node nothing.
    pods = [
        make_pod(sh("main", f"echo {i}"), annotations={"slurm-job.vk.io/flags": "--hold"})
        for i in range(3)
    ]
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
    loaded = make_pod(sh("main", "sleep 300"), annotations={"slurm-job.vk.io/flags": "--hold"})
    job_id = await backend.create(loaded.pod, loaded.objects)
    await backend.delete(loaded.ref)  # no job id: found by the pod UID
    with anyio.fail_after(10):
        while squeue_state(job_id) != "CANCELLED":
            await anyio.sleep(0.2)


async def test_follow_streams_until_the_container_ends(backend: SlurmBackend) -> None:
    loaded = make_pod(
        sh("main", "for i in 1 2 3 4; do echo \"tick $i\"; sleep 0.3; done; printf 'no newline'"),
        init=(sh("setup", "echo preparing; sleep 0.5; echo ready"),),
    )
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    followed: dict[str, list[bytes]] = {"main": [], "setup": []}

    async def follow(container: str) -> None:
        # Asked before the job runs, without saying which kind of container it is: the
        # follow waits for the container's file, whichever it is, and ends with it.
        request = LogRequest(job=ref, container=container, opts=ContainerLogOpts(follow=True))
        async with backend.logs(request) as stream:
            async for chunk in stream:
                followed[container].append(chunk)

    with anyio.fail_after(40):
        async with anyio.create_task_group() as group:
            group.start_soon(follow, "main")
            group.start_soon(follow, "setup")
    assert b"".join(followed["main"]) == b"tick 1\ntick 2\ntick 3\ntick 4\nno newline"
    assert len(followed["main"]) > 1, "lines arrive as they are written"
    assert b"".join(followed["setup"]) == b"preparing\nready\n"
    answer = await until(backend, ref, ended)
    assert codes(answer) == {"setup": 0, "main": 0}


async def test_leaving_a_follow_early_leaves_no_tail_behind(backend: SlurmBackend) -> None:
    loaded = make_pod(sh("main", "echo first; sleep 300"))
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    request = LogRequest(job=ref, container="main", opts=ContainerLogOpts(follow=True))
    with anyio.fail_after(30):
        async with backend.logs(request) as stream:
            async for chunk in stream:
                assert chunk == b"first\n"
                assert followers_in(backend.workdir(ref)), "tail follows the file"
                break
    with anyio.fail_after(10):
        while followers_in(backend.workdir(ref)):
            await anyio.sleep(0.1)
    await backend.delete(ref)


def followers_in(workdir: str) -> list[str]:
    """The follow program's processes (its shell, watcher and tail) working in ``workdir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"--follow=name" in command and cwd == workdir:
            found.append(f"{entry.name}: {command!r}")
    return found


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


# --- the acceptance pods of issue 4, all at once ---------------------------------------------


def load_example(name: str) -> Loaded:
    path = EXAMPLES / name
    return load_documents(list(yaml.safe_load_all(path.read_text())), source=name)


async def test_acceptance_pods(backend: SlurmBackend) -> None:
    names = [
        "hello.yaml",
        "acceptance/python-args.yaml",
        "acceptance/env-quotes.yaml",
        "shared-emptydir.yaml",
        "config-volumes.yaml",
        "acceptance/init-order.yaml",
    ]
    pods = {name: load_example(name) for name in names}
    refs = {
        name: with_id(p.ref, await backend.create(p.pod, p.objects)) for name, p in pods.items()
    }
    with anyio.fail_after(90):
        while True:
            answers = dict(zip(refs, await backend.status(list(refs.values())), strict=True))
            if all(ended(answer) for answer in answers.values()):
                break
            await anyio.sleep(0.2)

    async def log(name: str, container: str) -> bytes:
        return await read_log(backend, refs[name], container)

    hello = answers["hello.yaml"]
    assert codes(hello) == {"hello": 0}
    text = (await log("hello.yaml", "hello")).decode()
    assert text.startswith("hello from ") and "greeting: Grüß Gott; it's hello\n" in text
    phase = core.pod_status(pods["hello.yaml"].pod, hello.observation, previous=None, now=now())
    assert phase.phase == "Succeeded"

    assert codes(answers["acceptance/python-args.yaml"]) == {"script": 0}
    assert json.loads(await log("acceptance/python-args.yaml", "script")) == [
        'it\'s a "quoted" word',
        "$HOME $(date) `id` ; | & > /dev/null",
        "$(escaped) stays $(date)",
        "Grüße, 世界 🚀",
        "back\\slash and a\ttab",
        "line one\nline two",
        "",
        "*",
        "--flag=value with spaces",
    ]

    assert codes(answers["acceptance/env-quotes.yaml"]) == {"show": 0}
    assert json.loads(await log("acceptance/env-quotes.yaml", "show")) == {
        "SINGLE": "it's",
        "DOUBLE": 'say "hi"',
        "SHELL": "$HOME `id` $(unknown) \\n ; rm -rf /",
        "UNICODE": "Grüß Gott 🚀",
        "MULTILINE": "first line\nsecond line",
        "EMPTY": "",
        "REF": "<it's>",
    }

    assert codes(answers["shared-emptydir.yaml"]) == {"consumer": 0, "producer": 0}
    assert await log("shared-emptydir.yaml", "consumer") == (
        b"item 1\nitem 2\nitem 3\nread-only mount enforced\n"
    )
    shared = Path(backend.workdir(refs["shared-emptydir.yaml"])) / "emptyDirs/shared"
    assert not (shared / "forbidden").exists()

    assert codes(answers["config-volumes.yaml"]) == {"analysis": 0}
    token = "s3cr3t-t0ken with spaces and 'quotes'"
    assert (await log("config-volumes.yaml", "analysis")).decode() == (
        "settings:\n[run]\nevents = 10000\nseed = 42\n"
        'cuts: {"pt_min": 25.0, "eta_max": 2.4}\n'
        f"token is {len(token)} bytes; mode 400\n"
    )

    init = answers["acceptance/init-order.yaml"]
    assert codes(init) == {"first": 0, "second": 0, "third": 0, "main": 0}
    assert [(c.name, c.init) for c in init.observation.containers][:3] == [
        ("first", True),
        ("second", True),
        ("third", True),
    ]
    assert {
        name: await log("acceptance/init-order.yaml", name)
        for name in ("first", "second", "third", "main")
    } == {
        "first": b"init 1 of 3\n",
        "second": b"init 2 of 3\n",
        "third": b"init 3 of 3\n",
        "main": b"first\nsecond\nthird\n",
    }


# --- resources and limits ---------------------------------------------------------------------


async def test_gpu_pod_gets_a_gpu(backend: SlurmBackend) -> None:
    loaded = make_pod(
        sh(
            "main",
            'echo "container sees CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"',
            resources={"limits": {"nvidia.com/gpu": "1"}},
        ),
        # Its own value wins; Slurm also sets ROCR_VISIBLE_DEVICES (and GPU_DEVICE_ORDINAL,
        # ZE_AFFINITY_MASK), but not HIP_VISIBLE_DEVICES, which stays unset.
        sh(
            "own",
            'echo "${CUDA_VISIBLE_DEVICES-unset} ${ROCR_VISIBLE_DEVICES-unset}'
            ' ${HIP_VISIBLE_DEVICES-unset}"',
            env=[{"name": "CUDA_VISIBLE_DEVICES", "value": "7"}],
        ),
        annotations={
            "slurm-job.vk.io/pre-exec": 'echo "job has CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"'
        },
    )
    ref = with_id(loaded.ref, await backend.create(loaded.pod, loaded.objects))
    assert "#SBATCH --gres=gpu:1" in (Path(backend.workdir(ref)) / "job.slurm").read_text()
    answer = await until(backend, ref, ended)
    assert codes(answer) == {"main": 0, "own": 0}
    job_out = (Path(backend.workdir(ref)) / "job.out").read_text()
    assert "job has CUDA_VISIBLE_DEVICES=0" in job_out
    # bwrap starts the container with --clearenv: the job's device selection is passed on.
    assert await read_log(backend, ref, "main") == b"container sees CUDA_VISIBLE_DEVICES=0\n"
    assert await read_log(backend, ref, "own") == b"7 0 unset\n"


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


# --- restart ----------------------------------------------------------------------------------


async def test_a_new_backend_adopts_and_carries_on(
    backend: SlurmBackend, counting: CountingRunner, site: core.SiteConfig
) -> None:
    loaded = make_pod(sh("main", "sleep 300"), annotations={"slurm-job.vk.io/flags": "--hold"})
    job_id = await backend.create(loaded.pod, loaded.objects)

    restarted = SlurmBackend(counting, site)
    counting.clear()
    adopted = await restarted.adopt()
    assert counting.programs() == ["squeue"]
    mine = [ref for ref in adopted if ref.pod_uid == loaded.pod.metadata.uid]
    assert mine == [attrs.evolve(loaded.ref, name="", job_id=job_id)]
    [answer] = await restarted.status([attrs.evolve(loaded.ref, job_id=None)])
    job = answer.observation.job
    assert answer.found and answer.job_id == job_id and job is not None
    assert (job.kind, job.reason) == ("queued", "JobHeldUser")
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
    status = core.pod_status(deadline_pod.loaded.pod, answer.observation, previous=None, now=now())
    assert (status.phase, status.reason) == ("Failed", "DeadlineExceeded")
    assert await read_log(backend, ref, "main") == b"waiting\n"
