"""Fixtures of the transport tests: the runners under test and the real sshd the SSH one needs.

``scripts/sshd-up`` starts (or reuses) a throwaway OpenSSH server on 127.0.0.1. It is left
running afterwards, since other test runs on the machine may be using it at the same time
(``scripts/sshd-down`` stops it). Where it cannot run, the SSH tests skip with its message;
with ``INTERLINK_REQUIRE_REAL=1`` (as CI sets it) they fail instead.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import anyio
import attrs
import pytest
from pyinterlink.adapters import CommandRunner, LocalRunner, SSHRunner, SSHTarget

REPO = Path(__file__).resolve().parents[2]
REQUIRE_REAL = os.environ.get("INTERLINK_REQUIRE_REAL") == "1"

# Short, so that tests of killing a command that ignores SIGTERM stay fast.
KILL_GRACE = 0.5


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when real components are required (CI)."""
    if REQUIRE_REAL:
        pytest.fail(f"{reason} (INTERLINK_REQUIRE_REAL=1: this must run here)")
    pytest.skip(reason)


@attrs.frozen(kw_only=True)
class Sshd:
    """The test server that scripts/sshd-up started, and how to reach it."""

    host: str
    port: int
    user: str
    identity_file: str
    known_hosts: str
    pid: int

    def target(self, **changes: Any) -> SSHTarget:
        """A target for this server that reads no ssh configuration file; ``changes``
        override any field."""
        fields: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "identity_file": self.identity_file,
            "known_hosts": self.known_hosts,
            "config_file": "none",
        }
        fields.update(changes)
        return SSHTarget(**fields)


def _sshd_up() -> Sshd:
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
    values = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and line[0] != "#"
    )
    return Sshd(
        host=values["host"],
        port=int(values["port"]),
        user=values["user"],
        identity_file=values["identity_file"],
        known_hosts=values["known_hosts"],
        pid=int(values["pid"]),
    )


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sshd() -> Sshd:
    return _sshd_up()


@pytest.fixture(scope="session")
async def local_runner(anyio_backend: str) -> AsyncIterator[LocalRunner]:
    async with LocalRunner(kill_grace=KILL_GRACE) as runner:
        yield runner


@pytest.fixture(scope="session")
async def ssh_runner(sshd: Sshd, anyio_backend: str) -> AsyncIterator[SSHRunner]:
    async with SSHRunner(sshd.target(), kill_grace=KILL_GRACE) as runner:
        await runner.connect(timeout=30)
        yield runner


@pytest.fixture(scope="session", params=["local", "ssh"])
def runner(request: pytest.FixtureRequest) -> CommandRunner:
    """Each runner in turn: the conformance suite runs against every implementation."""
    found: CommandRunner = request.getfixturevalue(f"{request.param}_runner")
    return found


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended: only its exit status is left to collect)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def wait_until_gone(pids: list[int], within: float = 3.0) -> list[int]:
    """The pids still alive after waiting up to ``within`` seconds for them to end."""
    with anyio.move_on_after(within):
        while any(process_alive(pid) for pid in pids):
            await anyio.sleep(0.02)
    return [pid for pid in pids if process_alive(pid)]


async def read_pids(path: Path, count: int, within: float = 10.0) -> list[int]:
    """The first ``count`` pids a command wrote to ``path``, one a line, once it has."""
    with anyio.fail_after(within):
        while True:
            lines = path.read_text().split() if path.exists() else []
            if len(lines) >= count:
                return [int(line) for line in lines[:count]]
            await anyio.sleep(0.01)
