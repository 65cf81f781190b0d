"""Fixtures of the backends' real-component tests.

--- Slurm -----------------------------------------------------------------------------------

``slurm_cluster`` sets up and starts the real single-node Slurm of ``scripts/slurm-up`` once per
session (idempotent: a running cluster is reused). Where it cannot run (not root and no
passwordless sudo, not a Debian-like system, or the script failing) the tests that need it
skip with a message saying what is missing; ``INTERLINK_REQUIRE_REAL=1`` (set by CI) turns
that skip into a failure. ``slurm_runner`` is the transport the Slurm backend talks through,
the same tests running over each one: ``local`` (:class:`LocalRunner`) and ``ssh``
(:class:`SSHRunner` to the loopback sshd of ``scripts/sshd-up``, when that transport exists).
:class:`CountingRunner` wraps a runner and records every command, for the tests that count
the commands an operation costs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import attrs
import pytest
from pyinterlink.adapters.commands import DEFAULT_MAX_OUTPUT, CommandResult, CommandRunner

REPO = Path(__file__).resolve().parents[2]
REQUIRE_REAL = os.environ.get("INTERLINK_REQUIRE_REAL") == "1"
SLURM_COMMANDS = frozenset({"sbatch", "squeue", "sacct", "scancel", "sinfo", "scontrol"})


def skip_or_fail(message: str) -> None:
    """Skip the test with ``message``, or fail with it when ``INTERLINK_REQUIRE_REAL=1``."""
    if REQUIRE_REAL:
        pytest.fail(f"{message} (INTERLINK_REQUIRE_REAL=1: real components must run)")
    pytest.skip(message)


def _can_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    return subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0


def _slurm_missing() -> str | None:
    """What stops ``scripts/slurm-up`` from running here, or ``None``."""
    if os.geteuid() != 0 and not _can_sudo():
        return (
            f"real Slurm needs root or passwordless sudo to install and start munge, slurmctld "
            f"and slurmd (running as uid {os.geteuid()} without sudo)"
        )
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        return (
            "real Slurm needs a Debian or Ubuntu system (apt-get and /etc/debian_version) "
            "to install slurmctld, slurmd, slurm-client and munge"
        )
    return None


@attrs.frozen
class SlurmCluster:
    """The running single-node cluster: the node's name."""

    node: str


@pytest.fixture(scope="session")
def slurm_cluster() -> SlurmCluster:
    """The real Slurm of ``scripts/slurm-up``, started (or found running) once per session."""
    missing = _slurm_missing()
    if missing is not None:
        skip_or_fail(missing)
    script = REPO / "scripts" / "slurm-up"
    done = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        skip_or_fail(f"scripts/slurm-up failed with exit status {done.returncode}: {tail}")
    if shutil.which("bwrap") is None:
        skip_or_fail("bwrap is missing (the container runtime of these tests): scripts/system-deps")
    return SlurmCluster(node=socket.gethostname().split(".")[0])


def _ssh_missing() -> str | None:
    """What stops the SSH transport from being tested, or ``None``."""
    if importlib.util.find_spec("pyinterlink.adapters.ssh") is None:
        return "the SSH transport (adapters/ssh.py, SSHRunner) is not in this tree"
    if not (REPO / "scripts" / "sshd-up").exists():
        return "scripts/sshd-up (the loopback sshd of the SSH tests) is not in this tree"
    return None


def _sshd_settings() -> Mapping[str, str]:
    """The key=value lines of ``scripts/sshd-up`` (host, port, user, identity_file,
    known_hosts), starting the loopback sshd if it does not run."""
    try:
        done = subprocess.run(
            [str(REPO / "scripts" / "sshd-up")],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        skip_or_fail(f"no test sshd: scripts/sshd-up could not run: {exc}")
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1:] or ["no message"]
        skip_or_fail(f"no test sshd: scripts/sshd-up exited {done.returncode}: {message[0]}")
    return dict(
        line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and line[0] != "#"
    )


@asynccontextmanager
async def _open_runner(kind: str) -> AsyncIterator[CommandRunner]:
    if kind == "local":
        from pyinterlink.adapters.local_process import LocalRunner

        async with LocalRunner() as local:
            yield local
        return
    missing = _ssh_missing()
    if missing is not None:
        skip_or_fail(missing)
    from pyinterlink.adapters.ssh import SSHRunner, SSHTarget

    settings = _sshd_settings()
    target = SSHTarget(
        host=settings["host"],
        port=int(settings["port"]),
        user=settings["user"],
        identity_file=settings["identity_file"],
        known_hosts=settings["known_hosts"],
        config_file="none",
    )
    async with SSHRunner(target) as remote:
        yield remote


@pytest.fixture(params=["local", "ssh"])
async def slurm_runner(
    request: pytest.FixtureRequest, slurm_cluster: SlurmCluster
) -> AsyncIterator[CommandRunner]:
    """The transport to the Slurm login node (this host): local processes, then SSH."""
    async with _open_runner(request.param) as runner:
        yield runner


@attrs.define
class CountingRunner:
    """A runner that records every command it runs or streams (argv as given)."""

    inner: CommandRunner
    calls: list[tuple[str, ...]] = attrs.field(factory=list)

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 60.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> CommandResult:
        self.calls.append(tuple(argv))
        return await self.inner.run(
            argv, stdin=stdin, env=env, timeout=timeout, max_output=max_output
        )

    def stream(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        self.calls.append(tuple(argv))
        return self.inner.stream(argv, env=env)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def programs(self) -> list[str]:
        """The program of each command (``squeue``, ``sh``), in order."""
        return [os.path.basename(argv[0]) for argv in self.calls]

    def scheduler_commands(self) -> list[str]:
        """The Slurm commands run directly (not from inside a ``sh -c`` program)."""
        return [name for name in self.programs() if name in SLURM_COMMANDS]

    def clear(self) -> None:
        self.calls.clear()


def cancel_jobs_under(root: Path) -> None:
    """Cancel every job of this user whose batch output goes below ``root``: what a test left
    running when it failed half-way must not hold the node's two cores for the next ones."""
    done = subprocess.run(
        ["squeue", "--noheader", "--me", "--Format=JobID:|,STDOUT:"],
        capture_output=True,
        text=True,
        check=False,
    )
    prefix = f"{root}/"
    ids = [
        job_id
        for job_id, _, output in (line.partition("|") for line in done.stdout.splitlines())
        if output.startswith(prefix)
    ]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, check=False)


@pytest.fixture(scope="session")
def slurm_data_root(slurm_cluster: SlurmCluster) -> Iterator[Path]:
    """A directory of this session for the Slurm tests' pods, outside pytest's temporary
    directories: pytest removes old ones of its own when another session starts, which must
    not pull the directory from under a running job. At the end of the session, jobs still
    queued or running there are cancelled and the directory is removed."""
    root = Path(tempfile.mkdtemp(prefix="pyinterlink-slurm-tests-"))
    yield root
    cancel_jobs_under(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def slurm_jobs_dir(slurm_data_root: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A data root for one test's pods (jobs run as this user, who can write there). Jobs
    the test leaves behind are cancelled after it."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:80]
    root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=slurm_data_root))
    yield root
    cancel_jobs_under(root)
