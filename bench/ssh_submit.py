"""Per-command cost of the SSH transport with multiplexing, next to local commands.

Run from the repository root::

    .venv/bin/python -m bench.ssh_submit              # the table (about 5 s)
    .venv/bin/python -m bench.ssh_submit --commands 200 --repeat 7

A submission over SSH is one command: ``sbatch`` reading the job script on its stdin. The
transport adds the time to open a channel over the master connection, the remote login shell
and the runner's wrapper script, and the trip of stdin and output. This measures, in the same
run, N commands of each kind through:

* ``local``: :class:`LocalRunner` on this host, the reference;
* ``ssh, multiplexed``: :class:`SSHRunner` to the loopback sshd of ``scripts/sshd-up``, its
  master connection open (opened once, before timing);
* ``ssh, new connection``: plain ``ssh`` with ``ControlPath=none``, a handshake per command,
  what the runner would cost without multiplexing (fewer commands: it is slow).

The commands: ``true`` (nothing but the transport) and ``cat > /dev/null`` fed a 4 KiB job
script on stdin (a submission's shape, without a scheduler); with ``--sbatch``, also
``sbatch --test-only`` of a one-line job, when Slurm runs here (``scripts/slurm-up``).

The issue's goal: under 20 ms per pod over SSH with multiplexing, counted as the difference
to the same command run locally. The test sshd gives its sessions a home of their own, so the
account's shell start-up files do not run (see ``scripts/sshd-up``); on a real login node
they run before every command and add their own time, which ``--show-login`` prints for this
machine's account.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Final

import anyio
from pyinterlink.adapters import CommandRunner, LocalRunner, SSHRunner, SSHTarget

GOAL_MS: Final = 20.0
"""The issue's target: milliseconds per pod over SSH with multiplexing, above local."""

REPO: Final = Path(__file__).resolve().parent.parent
SCRIPT: Final = (
    "#!/bin/bash\n#SBATCH --job-name=bench\n#SBATCH --output=/dev/null\n"
    + "".join(f"# line {n:04d} of a job script of realistic length\n" for n in range(80))
    + "echo hello\n"
).encode()[:4096]

Call = Callable[[], Awaitable[None]]


def sshd_target() -> SSHTarget:
    """A target for the test sshd, which ``scripts/sshd-up`` starts or reuses."""
    done = subprocess.run(
        [str(REPO / "scripts" / "sshd-up")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"scripts/sshd-up failed ({done.returncode}): {done.stderr.strip()}")
    values = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and line[0] != "#"
    )
    return SSHTarget(
        host=values["host"],
        port=int(values["port"]),
        user=values["user"],
        identity_file=values["identity_file"],
        known_hosts=values["known_hosts"],
        config_file="none",
    )


def plain_ssh(target: SSHTarget, command: str) -> list[str]:
    """``ssh`` without multiplexing: a new connection for ``command``."""
    assert target.identity_file is not None
    assert target.known_hosts is not None
    return [
        "ssh", "-F", "none", "-T",
        "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none",
        "-o", f"UserKnownHostsFile={target.known_hosts}",
        "-i", target.identity_file, "-o", "IdentitiesOnly=yes",
        "-p", str(target.port), "-l", str(target.user), "--", target.host, command,
    ]  # fmt: skip


def workloads(runner: CommandRunner, sbatch: bool) -> dict[str, Call]:
    async def true() -> None:
        result = await runner.run(["true"])
        assert result.ok, result.error_text()

    async def submit_shape() -> None:
        result = await runner.run(["sh", "-c", "cat > /dev/null"], stdin=SCRIPT)
        assert result.ok, result.error_text()

    async def sbatch_test_only() -> None:
        result = await runner.run(["sbatch", "--test-only"], stdin=b"#!/bin/sh\ntrue\n")
        assert result.ok, result.error_text()

    calls: dict[str, Call] = {"true": true, "4 KiB stdin": submit_shape}
    if sbatch:
        calls["sbatch --test-only"] = sbatch_test_only
    return calls


async def per_command_ms(call: Call, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        await call()
    return (time.perf_counter() - start) / count * 1000


def fmt(values: Sequence[float]) -> str:
    return f"{statistics.median(values):7.2f}  ({min(values):6.2f} .. {max(values):6.2f})"


async def bench(commands: int, repeat: int, fresh: int, sbatch: bool, show_login: bool) -> int:
    target = sshd_target()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    version = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
    print(f"ssh: {version.stderr.strip()}")
    print(f"target: {target.destination} (scripts/sshd-up), {commands} commands x {repeat} rounds")
    async with LocalRunner() as local, SSHRunner(target) as ssh:
        start = time.perf_counter()
        await ssh.connect()
        print(f"opening the master connection: {(time.perf_counter() - start) * 1000:.0f} ms")
        sides = {"local": workloads(local, sbatch), "ssh, multiplexed": workloads(ssh, sbatch)}
        for calls in sides.values():  # warm-up: imports, first processes, first channels
            for call in calls.values():
                await per_command_ms(call, 3)
        times: dict[tuple[str, str], list[float]] = {}
        names = list(sides)
        for round_ in range(repeat):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for side in order:
                for work, call in sides[side].items():
                    ms = await per_command_ms(call, commands)
                    times.setdefault((work, side), []).append(ms)

        async def fresh_true() -> None:
            result = await local.run(plain_ssh(target, "true"))
            assert result.ok, result.error_text()

        fresh_ms = [await per_command_ms(fresh_true, fresh) for _ in range(2)]

        if show_login:
            # What this machine's account adds on a real login node: its shell start-up files.
            login = ["bash", "-c", "true"]
            # bash reads ~/.bashrc when sshd runs it: SSH_CLIENT set, the first shell level.
            env = {"SSH_CLIENT": "127.0.0.1 1 22", "SHLVL": "0"}

            async def bash_login() -> None:
                await local.run(login, env=env)

            async def bash_bare() -> None:
                await local.run(login, env={"SHLVL": "0"})

            with_rc = await per_command_ms(bash_login, 10)
            bare = await per_command_ms(bash_bare, 10)

    print()
    print(f"{'command':<20} {'side':<22} {'ms/command: median (min .. max)':>34}")
    for (work, side), values in times.items():
        print(f"{work:<20} {side:<22} {fmt(values):>34}")
    print(f"{'true':<20} {'ssh, new connection':<22} {fmt(fresh_ms):>34}")
    print()
    met = True
    for work in sides["local"]:
        extra = statistics.median(times[(work, "ssh, multiplexed")]) - statistics.median(
            times[(work, "local")]
        )
        ok = extra < GOAL_MS
        met = met and ok
        verdict = "met" if ok else "NOT met"
        print(f"{work}: ssh adds {extra:.2f} ms per command (goal < {GOAL_MS:g} ms: {verdict})")
    saved = statistics.median(fresh_ms) - statistics.median(times[("true", "ssh, multiplexed")])
    print(f"multiplexing saves {saved:.1f} ms per command against a new connection each")
    if show_login:
        print(
            f"this account's ~/.bashrc under sshd: {with_rc - bare:.1f} ms per command "
            "(a login node adds its own: not counted above)"
        )
    return 0 if met else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ssh_submit",
        description="Per-command cost of SSH with multiplexing next to local commands.",
    )
    parser.add_argument("--commands", type=int, default=50, help="commands per round (50)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (5)")
    parser.add_argument(
        "--fresh", type=int, default=10, help="commands over new connections, twice (10)"
    )
    parser.add_argument(
        "--sbatch", action="store_true", help="also sbatch --test-only (Slurm must run here)"
    )
    parser.add_argument(
        "--show-login",
        action="store_true",
        help="also time this account's shell start-up files as sshd would run them",
    )
    args = parser.parse_args(argv)
    if args.sbatch and shutil.which("sbatch") is None:
        parser.error("--sbatch: no sbatch here (scripts/slurm-up)")
    return anyio.run(bench, args.commands, args.repeat, args.fresh, args.sbatch, args.show_login)


if __name__ == "__main__":
    sys.exit(main())
