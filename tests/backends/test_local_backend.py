"""The local backend with the real bwrap and real processes: the acceptance pods of issue 4
that apply on one host, idempotent create and restart recovery, stopping (delete, deadline,
close) without orphans, and logs with the kubelet's options."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
import yaml
from pyinterlink import core
from pyinterlink.backends import Backend, JobRef, LocalBackend, LogRequest, StatusAnswer
from pyinterlink.backends.local import JOB_END_FILE, JOB_ID_FILE, local_job_id
from pyinterlink.core.wire import ContainerLogOpts

from tests.real import needs_program

pytestmark = [
    pytest.mark.anyio,
    needs_program("bwrap", "scripts/system-deps installs it"),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def site(tmp_path: Path) -> core.SiteConfig:
    return core.parse_site_config(
        {"ContainerRuntime": "bwrap", "DataRootFolder": str(tmp_path / "jobs")}
    )


@attrs.frozen
class Loaded:
    pod: core.Pod
    objects: core.PodObjects

    @property
    def ref(self) -> JobRef:
        meta = self.pod.metadata
        return JobRef(pod_uid=meta.uid, namespace=meta.namespace or "default", name=meta.name)


def load(source: str | Path, **spec: Any) -> Loaded:
    """A pod (and its ConfigMaps and Secrets) from an example file or YAML text; ``spec``
    fields override the pod's."""
    text = source.read_text() if isinstance(source, Path) else source
    documents = list(yaml.safe_load_all(text))
    for document in documents:
        if document.get("kind", "Pod") == "Pod":
            document["spec"].update(spec)
    bundle = core.pod_bundle_from_documents(documents, source=str(source)[:40])
    pod, _ = core.ensure_uid(bundle.pod)
    return Loaded(pod=pod, objects=core.PodObjects.of(bundle.config_maps, bundle.secrets))


def one_container(command: list[str], *, name: str = "main", **spec: Any) -> Loaded:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"pod-{name}-{abs(hash(tuple(command))) % 10**8}", "namespace": "t"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": name, "image": "busybox", "command": command}],
            **spec,
        },
    }
    return load(json.dumps(pod))


@asynccontextmanager
async def local(site: core.SiteConfig, **options: Any) -> AsyncIterator[LocalBackend]:
    async with LocalBackend(site, **options) as backend:
        yield backend


async def until_ended(backend: LocalBackend, ref: JobRef, timeout: float = 10) -> StatusAnswer:
    with anyio.fail_after(timeout):
        while True:
            [answer] = await backend.status([ref])
            job = answer.observation.job
            if job is not None and job.terminal:
                return answer
            await anyio.sleep(0.02)


async def run_pod(backend: LocalBackend, loaded: Loaded) -> StatusAnswer:
    job_id = await backend.create(loaded.pod, loaded.objects)
    assert job_id == local_job_id(loaded.pod.metadata.uid)
    return await until_ended(backend, loaded.ref)


async def read_log(backend: LocalBackend, ref: JobRef, container: str, **options: Any) -> bytes:
    request = LogRequest(job=ref, container=container, opts=ContainerLogOpts(**options))
    out = b""
    async with backend.logs(request) as chunks:
        async for chunk in chunks:
            out += chunk
    return out


def exit_codes(answer: StatusAnswer) -> dict[str, int | None]:
    return {c.name: c.exit_code for c in answer.observation.containers}


def shown(loaded: Loaded, answer: StatusAnswer) -> core.PodStatus:
    """The Kubernetes status the answer gives, as the virtual kubelet would publish it."""
    return core.pod_status(loaded.pod, answer.observation, previous=None, now=core_now())


def core_now() -> datetime:
    return datetime.now(UTC)


def processes_with(marker: str) -> list[int]:
    """Live processes on this host whose command line holds ``marker`` (the sandboxes and
    shells that pass it on included)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def sleeping(seconds: str) -> list[int]:
    """Live ``sleep <seconds>`` processes on this host."""
    return [
        pid
        for pid in processes_with(seconds)
        if _cmdline(pid) == b"sleep\0" + seconds.encode() + b"\0"
    ]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


async def wait_for(condition: Callable[[], bool], timeout: float = 5) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.02)


# --- acceptance pods -----------------------------------------------------------------------


async def test_hello_world(site: core.SiteConfig) -> None:
    pod = load(EXAMPLES / "hello.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        log = await read_log(backend, pod.ref, "hello")
    assert answer.observation.job is not None
    assert answer.observation.job.kind == "succeeded"
    assert exit_codes(answer) == {"hello": 0}
    assert log.decode().startswith("hello from ")
    assert "greeting: Grüß Gott; it's hello\n" in log.decode()
    assert shown(pod, answer).phase == "Succeeded"


async def test_images_are_not_pulled_and_the_pod_log_says_so(
    site: core.SiteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    hello, failing = load(EXAMPLES / "hello.yaml"), load(EXAMPLES / "acceptance/failing.yaml")
    async with local(site) as backend:
        await run_pod(backend, hello)
        await run_pod(backend, failing)
    warnings = [r.getMessage() for r in caplog.records if "images are not pulled" in r.getMessage()]
    assert len(warnings) == 1  # once per backend, not once per pod
    workdir = Path(backend.workdir("default", hello.pod.metadata.uid))
    assert "container images are not pulled" in (workdir / "job.out").read_text()


async def test_python_arguments_arrive_exactly(site: core.SiteConfig) -> None:
    pod = load(EXAMPLES / "acceptance/python-args.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        log = await read_log(backend, pod.ref, "script")
    assert exit_codes(answer) == {"script": 0}
    assert json.loads(log) == [
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


async def test_env_values_with_quotes_arrive_exactly(site: core.SiteConfig) -> None:
    pod = load(EXAMPLES / "acceptance/env-quotes.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        log = await read_log(backend, pod.ref, "show")
    assert exit_codes(answer) == {"show": 0}
    assert json.loads(log) == {
        "SINGLE": "it's",
        "DOUBLE": 'say "hi"',
        "SHELL": "$HOME `id` $(unknown) \\n ; rm -rf /",
        "UNICODE": "Grüß Gott 🚀",
        "MULTILINE": "first line\nsecond line",
        "EMPTY": "",
        "REF": "<it's>",
    }


async def test_shared_empty_dir_is_read_only_for_the_reader(site: core.SiteConfig) -> None:
    pod = load(EXAMPLES / "shared-emptydir.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        consumer = await read_log(backend, pod.ref, "consumer")
    assert exit_codes(answer) == {"consumer": 0, "producer": 0}
    assert consumer == b"item 1\nitem 2\nitem 3\nread-only mount enforced\n"
    workdir = Path(backend.workdir("default", pod.pod.metadata.uid))
    assert not (workdir / "emptyDirs/shared/forbidden").exists()
    assert (workdir / "emptyDirs/shared/items").read_text().count("item") == 3


async def test_config_map_and_secret_volumes_with_items_and_sub_path(
    site: core.SiteConfig,
) -> None:
    pod = load(EXAMPLES / "config-volumes.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        log = (await read_log(backend, pod.ref, "analysis")).decode()
    assert exit_codes(answer) == {"analysis": 0}
    token = "s3cr3t-t0ken with spaces and 'quotes'"
    assert log == (
        "settings:\n[run]\nevents = 10000\nseed = 42\n"
        'cuts: {"pt_min": 25.0, "eta_max": 2.4}\n'
        f"token is {len(token)} bytes; mode 400\n"
    )


async def test_three_init_containers_run_in_order_and_keep_their_logs(
    site: core.SiteConfig,
) -> None:
    pod = load(EXAMPLES / "acceptance/init-order.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        logs = {
            name: await read_log(backend, pod.ref, name)
            for name in ("first", "second", "third", "main")
        }
    assert exit_codes(answer) == {"first": 0, "second": 0, "third": 0, "main": 0}
    assert [(c.name, c.init) for c in answer.observation.containers][:3] == [
        ("first", True),
        ("second", True),
        ("third", True),
    ]
    assert logs == {
        "first": b"init 1 of 3\n",
        "second": b"init 2 of 3\n",
        "third": b"init 3 of 3\n",
        "main": b"first\nsecond\nthird\n",
    }
    results = {c.name: c for c in answer.observation.containers}
    order = [results[name] for name in ("first", "second", "third", "main")]
    for before, after in itertools.pairwise(order):
        assert before.finished_at is not None and after.started_at is not None
        assert before.finished_at <= after.started_at


async def test_a_failing_container_fails_the_pod_with_its_exit_code(
    site: core.SiteConfig,
) -> None:
    pod = load(EXAMPLES / "acceptance/failing.yaml")
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        log = await read_log(backend, pod.ref, "fail")
    assert answer.observation.job is not None
    assert (answer.observation.job.kind, answer.observation.job.exit_code) == ("failed", 3)
    assert exit_codes(answer) == {"fail": 3}
    assert log == b"about to fail\n"  # standard error goes to the same file
    status = shown(pod, answer)
    assert status.phase == "Failed"
    terminated = status.container_statuses[0].state.terminated
    assert terminated is not None
    assert (terminated.exit_code, terminated.reason) == (3, "Error")


async def test_a_failed_init_container_stops_the_pod(site: core.SiteConfig) -> None:
    pod = load(
        EXAMPLES / "acceptance/init-order.yaml",
        initContainers=[
            {"name": "broken", "image": "busybox", "command": ["sh", "-c", "exit 2"]},
            {"name": "never", "image": "busybox", "command": ["true"]},
        ],
    )
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        assert await read_log(backend, pod.ref, "main", follow=True) == b""
    assert exit_codes(answer) == {"broken": 2}
    assert answer.observation.job is not None
    assert (answer.observation.job.kind, answer.observation.job.exit_code) == ("failed", 2)
    assert shown(pod, answer).phase == "Failed"


def with_pre_exec(loaded: Loaded, shell: str) -> Loaded:
    meta = loaded.pod.metadata
    annotations = {**meta.annotations, "slurm-job.vk.io/pre-exec": shell}
    pod = attrs.evolve(loaded.pod, metadata=attrs.evolve(meta, annotations=annotations))
    return attrs.evolve(loaded, pod=pod)


async def test_the_pre_exec_shell_runs_first_and_its_failure_stops_the_pod(
    site: core.SiteConfig,
) -> None:
    good = with_pre_exec(one_container(["true"], name="good"), "echo prepared; test -d tmp")
    bad = with_pre_exec(one_container(["true"], name="bad"), "echo broken >&2; exit 4")
    async with local(site) as backend:
        ok, failed = await run_pod(backend, good), await run_pod(backend, bad)
        good_log = Path(backend.workdir("t", good.pod.metadata.uid), "job.out").read_text()
        bad_log = Path(backend.workdir("t", bad.pod.metadata.uid), "job.out").read_text()
    assert exit_codes(ok) == {"good": 0}
    assert "prepared\n" in good_log
    assert failed.observation.job is not None
    assert (failed.observation.job.kind, failed.observation.job.exit_code) == ("failed", 4)
    assert exit_codes(failed) == {}
    assert "broken\n" in bad_log
    assert "the pre-exec command exited with 4" in bad_log


async def test_active_deadline_stops_the_pod_with_deadline_exceeded(
    site: core.SiteConfig,
) -> None:
    pod = load(EXAMPLES / "acceptance/deadline.yaml", activeDeadlineSeconds=1)
    started = time.monotonic()
    async with local(site) as backend:
        answer = await run_pod(backend, pod)
        log = await read_log(backend, pod.ref, "sleeper")
    assert time.monotonic() - started < 5
    job = answer.observation.job
    assert job is not None
    assert (job.kind, job.reason) == ("failed", "DeadlineExceeded")
    assert exit_codes(answer) == {"sleeper": 128 + 15}  # SIGTERM
    assert log == b"sleeping past the deadline\n"
    status = shown(pod, answer)
    assert (status.phase, status.reason) == ("Failed", "DeadlineExceeded")


async def test_a_pod_deleted_while_running_leaves_no_process(site: core.SiteConfig) -> None:
    marker = "31.4159"
    pod = one_container(["sh", "-c", f"trap '' TERM; sleep {marker} & echo up; sleep {marker}"])
    async with local(site) as backend:
        await backend.create(pod.pod, pod.objects)
        await wait_for(lambda: len(sleeping(marker)) == 2)
        [answer] = await backend.status([pod.ref])
        assert answer.observation.job is not None
        assert answer.observation.job.kind == "running"
        assert exit_codes(answer) == {}
        started = time.monotonic()
        await backend.delete(pod.ref)
        assert time.monotonic() - started < 5
        assert processes_with(marker) == []
        [answer] = await backend.status([pod.ref])
        assert answer.observation.job is not None
        assert answer.observation.job.kind == "cancelled"
        assert not Path(backend.workdir("t", pod.pod.metadata.uid)).exists()
        await backend.delete(pod.ref)  # idempotent


async def test_closing_the_backend_stops_every_pod(site: core.SiteConfig) -> None:
    marker = "27.1828"
    pods = [one_container(["sleep", marker], name=f"c{i}") for i in range(3)]
    async with local(site) as backend:
        for pod in pods:
            await backend.create(pod.pod, pod.objects)
        await wait_for(lambda: len(sleeping(marker)) == 3)
    assert processes_with(marker) == []
    async with local(site) as again:  # a new process finds them cancelled, not lost
        answers = await again.status([pod.ref for pod in pods])
    assert {a.observation.job.kind for a in answers if a.observation.job} == {"cancelled"}


# --- idempotence and restart -----------------------------------------------------------------


async def test_create_is_idempotent_by_pod_uid_in_memory_and_after_a_restart(
    site: core.SiteConfig,
) -> None:
    pod = one_container(["sh", "-c", "echo ran >> /tmp/runs; cat /tmp/runs"])
    async with local(site) as backend:
        first = await backend.create(pod.pod, pod.objects)
        assert await backend.create(pod.pod, pod.objects) == first
        await until_ended(backend, pod.ref)
    async with local(site) as restarted:
        assert await restarted.create(pod.pod, pod.objects) == first
        await anyio.sleep(0.1)
        [answer] = await restarted.status([pod.ref])
        assert await read_log(restarted, pod.ref, "main") == b"ran\n"  # run once only
    assert answer.job_id == first
    assert answer.observation.job is not None
    assert answer.observation.job.kind == "succeeded"
    assert exit_codes(answer) == {"main": 0}


async def test_after_a_restart_an_interrupted_pod_is_lost_and_an_unknown_one_not_found(
    site: core.SiteConfig,
) -> None:
    pod = one_container(["true"])
    async with local(site) as backend:
        workdir = Path(backend.workdir("t", pod.pod.metadata.uid))
        workdir.mkdir(parents=True)
        (workdir / JOB_ID_FILE).write_text("local-earlier\n")
        (workdir / "run-main.status").write_text("")  # being written when it stopped
        other = attrs.evolve(pod.ref, pod_uid="00000000-0000-4000-8000-000000000000")
        lost, missing = await backend.status([pod.ref, other])
    assert lost.job_id == "local-earlier"
    assert lost.observation.job is not None
    assert (lost.observation.job.kind, lost.observation.job.reason) == ("failed", "JobLost")
    assert exit_codes(lost) == {"main": None}
    assert not missing.found


async def test_delete_keeps_the_directory_of_a_failed_pod_by_default(
    site: core.SiteConfig,
) -> None:
    failing = load(EXAMPLES / "acceptance/failing.yaml")
    hello = load(EXAMPLES / "hello.yaml")
    async with local(site) as backend:
        await run_pod(backend, failing)
        await run_pod(backend, hello)
        await backend.delete(failing.ref)
        await backend.delete(hello.ref)
        kept = Path(backend.workdir("default", failing.pod.metadata.uid))
        assert json.loads((kept / JOB_END_FILE).read_text())["exit_code"] == 3
        assert not Path(backend.workdir("default", hello.pod.metadata.uid)).exists()
    async with local(site, keep=False) as backend:
        await backend.delete(failing.ref)  # a pod of an earlier process, removed now
        assert not kept.exists()


# --- logs ----------------------------------------------------------------------------------


async def test_logs_tail_and_limit_bytes(site: core.SiteConfig) -> None:
    pod = one_container(["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; printf end"])
    async with local(site) as backend:
        await run_pod(backend, pod)
        assert await read_log(backend, pod.ref, "main", tail=2) == b"line 5\nend"
        assert await read_log(backend, pod.ref, "main", limit_bytes=9) == b"line 1\nli"
        assert await read_log(backend, pod.ref, "main", tail=1, limit_bytes=2) == b"en"
        stamped = await read_log(backend, pod.ref, "main", tail=1, timestamps=True)
        assert stamped.endswith(b"Z end") and len(stamped) == len(
            "2026-01-01T00:00:00.000000000Z end"
        )
        assert await read_log(backend, pod.ref, "main", since_seconds=3600) != b""
        with pytest.raises(core.InputError, match="at most one"):
            await read_log(backend, pod.ref, "main", since_seconds=1, since_time=core_now())
        with pytest.raises(core.InputError, match="no container"):
            await read_log(backend, pod.ref, "nope")


async def test_follow_streams_until_the_container_ends(site: core.SiteConfig) -> None:
    script = "echo one; sleep 0.3; echo two; sleep 0.3; printf three"
    pod = one_container(["sh", "-c", script])
    async with local(site) as backend:
        await backend.create(pod.pod, pod.objects)
        request = LogRequest(job=pod.ref, container="main", opts=ContainerLogOpts(follow=True))
        chunks: list[bytes] = []
        with anyio.fail_after(10):
            async with backend.logs(request) as stream:
                async for chunk in stream:
                    chunks.append(chunk)
        [answer] = await backend.status([pod.ref])
    assert b"".join(chunks) == b"one\ntwo\nthree"
    assert len(chunks) >= 2  # it streamed as the lines came, not once at the end
    assert exit_codes(answer) == {"main": 0}


async def test_follow_with_a_byte_limit_stops_at_the_limit(site: core.SiteConfig) -> None:
    pod = one_container(["sh", "-c", "echo abc; sleep 30"])
    async with local(site) as backend:
        await backend.create(pod.pod, pod.objects)
        with anyio.fail_after(5):
            log = await read_log(backend, pod.ref, "main", follow=True, limit_bytes=3)
        assert log == b"abc"
        await backend.delete(pod.ref)


# --- ping and set-up errors ----------------------------------------------------------------


async def test_ping_reports_free_cpu_and_memory(site: core.SiteConfig) -> None:
    async with local(site) as backend:
        answer = await backend.ping()
    assert answer.status == "ok"
    assert answer.resources is not None
    assert answer.resources.cpu is not None
    assert 0 <= answer.resources.cpu.value <= os.cpu_count()  # type: ignore[operator]
    assert answer.resources.memory is not None
    assert answer.resources.memory.value > 0


async def test_a_missing_runtime_is_a_configuration_error(tmp_path: Path) -> None:
    site = core.parse_site_config(
        {"ContainerRuntime": "bwrap", "DataRootFolder": str(tmp_path), "BwrapPath": "/no/bwrap"}
    )
    pod = one_container(["true"])
    async with local(site) as backend:
        with pytest.raises(core.ConfigError, match="not installed"):
            await backend.create(pod.pod, pod.objects)
        assert not Path(backend.workdir("t", pod.pod.metadata.uid)).exists()


async def test_a_relative_data_root_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    site = core.parse_site_config({"ContainerRuntime": "bwrap", "DataRootFolder": "jobs/"})
    pod = one_container(["true"])
    async with local(site) as backend:
        await run_pod(backend, pod)
    assert (
        tmp_path / "jobs" / f"t-{pod.pod.metadata.uid}" / "run-main.status"
    ).read_text() == "0\n"


async def test_using_the_backend_outside_async_with_is_an_error(site: core.SiteConfig) -> None:
    pod = one_container(["true"])
    backend = LocalBackend(site)
    with pytest.raises(RuntimeError, match="async with"):
        await backend.create(pod.pod, pod.objects)
    await backend.aclose()


async def test_leaving_a_followed_log_early_is_clean(site: core.SiteConfig) -> None:
    pod = one_container(["sh", "-c", "echo first; sleep 30"])
    async with LocalBackend(site) as local_backend:
        opened: Backend = local_backend  # it implements the protocol (mypy checks)
        await opened.create(pod.pod, pod.objects)
        request = LogRequest(job=pod.ref, container="main", opts=ContainerLogOpts(follow=True))
        with anyio.fail_after(5):
            async with opened.logs(request) as stream:
                async for chunk in stream:
                    assert chunk == b"first\n"
                    break
