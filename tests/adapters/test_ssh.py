"""What only the SSH runner does: host keys, multiplexing, its configuration, the remote
script and the reports it writes on stderr."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.adapters import CommandResult, SSHRunner, SSHTarget, TransportError
from pyinterlink.adapters.ssh import _Reports, remote_command

from .conftest import Sshd, read_pids, wait_until_gone

# --- against the test sshd ------------------------------------------------------------------


def master_pid(runner: SSHRunner) -> int | None:
    """The pid of the runner's master connection, as ``ssh -O check`` reports it."""
    target = runner.target
    check = ["ssh", "-F", "none", "-o", f"ControlPath={runner.control_path}", "-O", "check"]
    check += ["-p", str(target.port), "-l", str(target.user), "--", target.host]
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    found = re.search(r"Master running \(pid=(\d+)\)", done.stderr)
    return int(found.group(1)) if found else None


@pytest.mark.anyio
async def test_an_unknown_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.touch()
    async with SSHRunner(sshd.target(known_hosts=known)) as runner:
        with pytest.raises(TransportError, match="Host key verification failed"):
            await runner.run(["true"])
    assert known.read_text() == ""


@pytest.mark.anyio
async def test_accept_new_trusts_a_new_host_and_remembers_it(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    target = sshd.target(known_hosts=known, strict_host_key_checking="accept-new")
    async with SSHRunner(target) as runner:
        assert (await runner.run(["echo", "hi"])).stdout == b"hi\n"
    host_key = Path(sshd.known_hosts).read_text().split()[1:3]
    assert known.read_text().split()[1:3] == host_key
    # Known from now on, also to strict checking.
    async with SSHRunner(sshd.target(known_hosts=known)) as runner:
        assert (await runner.run(["true"])).ok


@pytest.mark.anyio
async def test_a_changed_host_key_is_refused_even_with_accept_new(
    sshd: Sshd, tmp_path: Path
) -> None:
    # An ed25519 key that is not the host's: the client's own.
    kind, key = Path(f"{sshd.identity_file}.pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{sshd.host}]:{sshd.port} {kind} {key}\n")
    target = sshd.target(known_hosts=known, strict_host_key_checking="accept-new")
    async with SSHRunner(target) as runner:
        with pytest.raises(TransportError, match="Host key verification failed"):
            await runner.run(["true"])


@pytest.mark.anyio
async def test_a_key_the_server_does_not_know_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    key = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    async with SSHRunner(sshd.target(identity_file=key)) as runner:
        with pytest.raises(TransportError, match="Permission denied"):
            await runner.run(["true"])


@pytest.mark.anyio
async def test_a_closed_port_is_a_transport_error(sshd: Sshd) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with SSHRunner(sshd.target(port=port)) as runner:
        with pytest.raises(TransportError, match="Connection refused"):
            await runner.run(["true"])


@pytest.mark.anyio
async def test_a_missing_ssh_client_is_a_transport_error(sshd: Sshd) -> None:
    async with SSHRunner(sshd.target(ssh="pyinterlink-no-ssh-client")) as runner:
        with pytest.raises(TransportError, match="cannot run 'pyinterlink-no-ssh-client'"):
            await runner.run(["true"])


@pytest.mark.anyio
async def test_commands_share_one_master_connection(sshd: Sshd) -> None:
    async with SSHRunner(sshd.target()) as runner:
        start = anyio.current_time()
        await runner.connect()
        handshake = anyio.current_time() - start
        master = master_pid(runner)
        assert master is not None
        costs = []
        for _ in range(10):
            start = anyio.current_time()
            assert (await runner.run(["true"])).ok
            costs.append(anyio.current_time() - start)
        assert master_pid(runner) == master
        # A channel over the open connection, not a handshake of its own.
        assert statistics.median(costs) < handshake / 2, (costs, handshake)


@pytest.mark.anyio
async def test_aclose_stops_the_master_and_removes_its_directory(sshd: Sshd) -> None:
    runner = SSHRunner(sshd.target())
    assert (await runner.run(["true"])).ok
    master = master_pid(runner)
    directory = runner.control_directory
    assert master is not None
    await runner.aclose()
    assert await wait_until_gone([master]) == []
    assert not os.path.exists(directory)
    await runner.aclose()  # idempotent
    # A later command opens a new master.
    assert (await runner.run(["true"])).ok
    await runner.aclose()


@pytest.mark.anyio
async def test_a_control_directory_of_the_callers_own(sshd: Sshd) -> None:
    # Short (a socket's path has room for about 100 bytes), with a space and a percent sign.
    directory = Path(tempfile.mkdtemp(prefix="pil %d "))
    try:
        async with SSHRunner(sshd.target(), control_dir=directory) as runner:
            assert (await runner.run(["echo", "ok"])).stdout == b"ok\n"
            assert master_pid(runner) is not None
        assert directory.is_dir()  # the caller's: left in place, the socket gone
        assert list(directory.iterdir()) == []
    finally:
        shutil.rmtree(directory)


@pytest.mark.anyio
async def test_more_commands_than_sessions_get_connections_of_their_own(sshd: Sshd) -> None:
    results: list[CommandResult] = []

    async def one() -> None:
        results.append(await runner.run(["sh", "-c", "sleep 0.2; echo ok"]))

    async with SSHRunner(sshd.target(max_sessions=2)) as runner, anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one)
    assert [result.stdout for result in results] == [b"ok\n"] * 5


@pytest.mark.anyio
async def test_the_commands_own_status_255_is_no_transport_error(ssh_runner: SSHRunner) -> None:
    result = await ssh_runner.run(["sh", "-c", "echo out; echo err >&2; exit 255"])
    assert (result.returncode, result.stdout, result.stderr) == (255, b"out\n", b"err\n")


@pytest.mark.anyio
async def test_reports_never_reach_the_caller(ssh_runner: SSHRunner) -> None:
    result = await ssh_runner.run(["sh", "-c", "printf 'no newline at the end' >&2; exit 4"])
    assert (result.returncode, result.stderr) == (4, b"no newline at the end")


@pytest.mark.anyio
async def test_a_connection_lost_mid_command_is_a_transport_error(
    sshd: Sshd, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    script = f"echo $$ >> {shlex.quote(str(pids))}; sleep 30"
    caught: list[BaseException] = []

    async def run() -> None:
        try:
            await runner.run(["sh", "-c", script], timeout=20)
        except TransportError as exc:
            caught.append(exc)

    async with SSHRunner(sshd.target()) as runner:
        with anyio.fail_after(15):
            async with anyio.create_task_group() as tg:
                tg.start_soon(run)
                (shell,) = await read_pids(pids, 1)
                master = master_pid(runner)
                assert master is not None
                os.kill(master, signal.SIGTERM)  # the master we started: the connection drops
    try:
        assert len(caught) == 1
        assert "connection lost while 'sh' ran" in str(caught[0])
    finally:
        # A lost connection leaves the remote command behind (it has no terminal to lose).
        os.killpg(os.getpgid(shell), signal.SIGKILL)


@pytest.mark.anyio
async def test_a_host_alias_of_an_ssh_config_file(sshd: Sshd, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "Host pyinterlink-test-alias\n"
        f"  HostName {sshd.host}\n"
        f"  Port {sshd.port}\n"
        f"  User {sshd.user}\n"
        f"  IdentityFile {sshd.identity_file}\n"
        f"  UserKnownHostsFile {sshd.known_hosts}\n"
        "  RemoteCommand echo the runner sends its own command\n"
        "  RequestTTY force\n"
    )
    target = SSHTarget(host="pyinterlink-test-alias", config_file=config)
    async with SSHRunner(target) as runner:
        result = await runner.run(["sh", "-c", "echo ok; test -t 0 || echo no terminal"])
    assert result.stdout == b"ok\nno terminal\n"


@pytest.mark.anyio
async def test_extra_options_are_used(sshd: Sshd, tmp_path: Path) -> None:
    kind, key = Path(sshd.known_hosts).read_text().split()[1:3]
    known = tmp_path / "known_hosts"
    known.write_text(f"pyinterlink-alias {kind} {key}\n")
    target = sshd.target(known_hosts=known, options=["HostKeyAlias=pyinterlink-alias"])
    async with SSHRunner(target) as runner:
        assert (await runner.run(["true"])).ok


# --- the target ------------------------------------------------------------------------------


def test_options_are_a_list_not_one_string() -> None:
    with pytest.raises(TypeError, match="Key=Value"):
        SSHTarget(host="login", options="ProxyJump=bastion")


def test_the_target_takes_paths_and_lists() -> None:
    target = SSHTarget(host="login", identity_file=Path("/k"), options=["ProxyJump=bastion"])
    assert (target.identity_file, target.options) == ("/k", ("ProxyJump=bastion",))
    assert target.destination == "login"
    assert SSHTarget(host="login", user="me", port=2222).destination == "me@login:2222"


@pytest.mark.parametrize(
    ("option", "hint"),
    [
        ("StrictHostKeyChecking=no", "strict_host_key_checking"),
        ("stricthostkeychecking no", "strict_host_key_checking"),
        ("UserKnownHostsFile=/dev/null", "known_hosts"),
        ("ControlPath=/tmp/x", "private directory"),
        ("Port=22", "SSHTarget.port"),
        ("RequestTTY=force", "terminal"),
        ("BatchMode=no", "prompt"),
    ],
)
def test_options_the_runner_sets_are_refused(option: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        SSHTarget(host="login", options=[option])


@pytest.mark.parametrize(
    "fields",
    [
        {"host": ""},
        {"host": "-oProxyCommand=x"},
        {"host": "two words"},
        {"host": "h", "port": 0},
        {"host": "h", "port": 65536},
        {"host": "h", "strict_host_key_checking": "no"},
        {"host": "h", "options": ["NoValue"]},
        {"host": "h", "control_persist": 0},
        {"host": "h", "max_sessions": 0},
        {"host": "h", "known_hosts": 'with "quotes"'},
    ],
)
def test_invalid_targets_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SSHTarget(**fields)  # type: ignore[arg-type]


# --- the remote script, under this machine's POSIX shells -----------------------------------

TAG = "pyinterlink-test"
# The POSIX shells of this machine, once each (sh is dash on Debian).
SHELLS = sorted(
    {
        os.path.realpath(shell)
        for shell in ("/bin/sh", "/bin/bash", "/bin/dash")
        if os.path.exists(shell)
    }
)
ENV_NAMES = st.from_regex(r"PYI_[A-Za-z0-9_.-]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=12)


def run_script(shell: str, script: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([shell, "-c", script], capture_output=True, timeout=10, check=False)


@pytest.mark.parametrize("shell", SHELLS)
@settings(max_examples=15, deadline=None)
@given(words=st.lists(TEXT, min_size=1, max_size=5), env=st.dictionaries(ENV_NAMES, TEXT))
def test_the_script_passes_words_and_env_exactly(
    shell: str, words: list[str], env: dict[str, str]
) -> None:
    done = run_script(shell, remote_command(["printf", "%s\\0", *words], env, TAG))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split("\0")[:-1] == words
    assert re.fullmatch(rf"{TAG} s \d+\n{TAG} x 0\n", done.stderr.decode())
    # env -0 prints the environment it received, NUL-separated.
    done = run_script(shell, remote_command(["env", "-0"], env, TAG))
    received = dict(item.split("=", 1) for item in done.stdout.decode().split("\0")[:-1])
    assert {name: received.get(name) for name in env} == env


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_reports_a_missing_program(shell: str) -> None:
    done = run_script(shell, remote_command(["pyinterlink-no-such-program"], {}, TAG))
    assert (done.returncode, done.stderr) == (127, f"{TAG} n\n".encode())


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_runs_programs_not_shell_functions(shell: str) -> None:
    script = "true() { echo function; }; " + remote_command(["true"], {}, TAG)
    done = run_script(shell, script)
    assert (done.returncode, done.stdout) == (0, b"")


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_runs_a_program_whose_name_has_an_equals_sign(
    shell: str, tmp_path: Path
) -> None:
    program = tmp_path / "pyi=tool"
    program.write_text('#!/bin/sh\necho "tool $PYI_A $*"\n')
    program.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "PYI_A": "a"}
    done = run_script(shell, remote_command(["pyi=tool", "x y"], env, TAG))
    assert done.stdout == b"tool a x y\n"


def test_the_tag_is_checked() -> None:
    with pytest.raises(ValueError, match="tag"):
        remote_command(["true"], {}, "bad tag; rm -rf /")


# --- reading the reports -----------------------------------------------------------------------

LINES = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.text(max_size=30).map(str.encode)),
        st.tuples(st.just("start"), st.integers(1, 10**6).map(lambda n: b"%d" % n)),
        st.tuples(st.just("exit"), st.integers(0, 255).map(lambda n: b"%d" % n)),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(lines=LINES, cuts=st.lists(st.integers(0, 400), max_size=10))
def test_reports_are_taken_out_of_stderr_wherever_chunks_split(
    lines: list[tuple[str, bytes]], cuts: list[int]
) -> None:
    stream, expected_text = b"", b""
    pid = status = None
    for kind, value in lines:
        if kind == "text":
            stream += value
            expected_text += value
        elif kind == "start":
            stream += b"%s s %s\n" % (TAG.encode(), value)
            pid = int(value)
        else:
            stream += b"%s x %s\n" % (TAG.encode(), value)
            status = int(value)
    reports = _Reports(TAG)
    out = b""
    previous = 0
    for cut in sorted({min(cut, len(stream)) for cut in cuts}):
        out += reports.feed(stream[previous:cut])
        previous = cut
    out += reports.feed(stream[previous:]) + reports.close()
    assert (out, reports.pid, reports.status) == (expected_text, pid, status)


def test_text_that_merely_contains_the_tag_passes_through() -> None:
    reports = _Reports(TAG)
    text = f"{TAG} is mentioned\n{TAG}".encode() + b"x" * 300
    assert reports.feed(text) + reports.close() == text
    assert (reports.pid, reports.status, reports.not_found) == (None, None, False)
