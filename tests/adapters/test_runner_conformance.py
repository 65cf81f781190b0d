"""The CommandRunner contract, run against every implementation (``runner`` fixture).

The SSH runner talks to the real test sshd on 127.0.0.1, which runs commands on this very
machine: files under ``tmp_path`` and pids are the same on both sides.
"""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyinterlink.adapters import (
    CommandResult,
    CommandRunner,
    CommandTimeoutError,
    LocalRunner,
    OutputTooLargeError,
    SSHRunner,
    TransportError,
)

from .conftest import KILL_GRACE, read_pids, wait_until_gone

pytestmark = pytest.mark.anyio

# A command that records its shell's pid and a child's, then waits: what a timeout, a
# cancellation or leaving a stream must end entirely.
FAMILY = "echo $$ >> {pids}; sleep 30 & echo $! >> {pids}; wait"


def family(pids: Path, *, ignore_term: bool = False) -> list[str]:
    script = FAMILY.format(pids=shlex.quote(str(pids)))
    if ignore_term:
        # The shell and its child (which inherits the disposition) ignore SIGTERM: only the
        # SIGKILL after the grace period ends them.
        script = "trap '' TERM; " + script
    return ["sh", "-c", script]


# --- exit status and output ------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 2, 42, 126, 255])
async def test_exit_status_is_in_the_result(runner: CommandRunner, code: int) -> None:
    result = await runner.run(["sh", "-c", f"exit {code}"])
    assert result == CommandResult(argv=("sh", "-c", f"exit {code}"), returncode=code)
    assert result.ok is (code == 0)


async def test_stdout_and_stderr_are_separate(runner: CommandRunner) -> None:
    result = await runner.run(["sh", "-c", "echo out; echo err >&2; printf tail >&2; exit 3"])
    assert (result.returncode, result.stdout, result.stderr) == (3, b"out\n", b"err\ntail")
    assert result.text() == "out\n"
    assert result.error_text() == "err\ntail"


async def test_a_command_killed_by_a_signal(runner: CommandRunner) -> None:
    result = await runner.run(["sh", "-c", "kill -9 $$"])
    # Locally the status is the signal, negated; over SSH the remote shell reports 128 + 9.
    assert result.returncode == (-9 if isinstance(runner, LocalRunner) else 128 + 9)


async def test_a_missing_program_cannot_run(runner: CommandRunner) -> None:
    with pytest.raises(TransportError, match="pyinterlink-no-such-program"):
        await runner.run(["pyinterlink-no-such-program", "--help"])


async def test_a_missing_program_path_cannot_run(runner: CommandRunner, tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="no-such-program"):
        await runner.run([str(tmp_path / "no-such-program")])


async def test_a_program_that_is_not_executable_cannot_run(
    runner: CommandRunner, tmp_path: Path
) -> None:
    program = tmp_path / "not-executable"
    program.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(TransportError, match="not-executable"):
        await runner.run([str(program)])


async def test_programs_are_found_on_the_path_given_in_env(
    runner: CommandRunner, tmp_path: Path
) -> None:
    tool = tmp_path / "pyinterlink-test-tool"
    tool.write_text('#!/bin/sh\necho "tool: $*"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    path = f"{tmp_path}:/usr/bin:/bin"
    result = await runner.run(["pyinterlink-test-tool", "a b"], env={"PATH": path})
    assert result.stdout == b"tool: a b\n"


async def test_invalid_commands_are_refused_before_running(runner: CommandRunner) -> None:
    with pytest.raises(ValueError, match="empty"):
        await runner.run([])
    with pytest.raises(ValueError, match="NUL"):
        await runner.run(["echo", "a\0b"])
    with pytest.raises(TypeError, match="sequence of words"):
        await runner.run("echo hi")
    for env in ({"A=B": "x"}, {"": "x"}, {"A": "x\0y"}):
        with pytest.raises(ValueError, match="environment variable"):
            await runner.run(["true"], env=env)


# --- argv, stdin, env ----------------------------------------------------------------------

WORDS = st.lists(
    st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=12),
    min_size=1,
    max_size=6,
)
NASTY_WORDS = [
    "",
    " ",
    "two words",
    "it's",
    '"double"',
    "$(touch pwned)",
    "`touch pwned`",
    "$HOME",
    "*",
    "?",
    "[a-z]",
    "~",
    "a\nb",
    "tab\there",
    ";",
    "&&",
    "|",
    ">",
    "\\",
    "-n",
    "--",
    "ünïcödé ✓ 😀",
    "'\"'\"'",
]


async def _words_arrive(runner: CommandRunner, words: list[str]) -> None:
    result = await runner.run(["printf", "%s\\0", *words])
    assert result.returncode == 0, result.error_text()
    assert result.stdout.split(b"\0")[:-1] == [word.encode() for word in words]


async def test_nasty_argv_words_arrive_exactly(runner: CommandRunner) -> None:
    await _words_arrive(runner, NASTY_WORDS)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=WORDS)
async def test_any_argv_words_arrive_exactly(runner: CommandRunner, words: list[str]) -> None:
    await _words_arrive(runner, words)


async def test_binary_stdin_arrives_exactly(runner: CommandRunner) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB, every byte value
    result = await runner.run(["cat"], stdin=data)
    assert result.stdout == data


async def test_no_stdin_is_empty_stdin(runner: CommandRunner) -> None:
    result = await runner.run(["cat"], timeout=10)
    assert result.stdout == b""


async def test_stdin_a_command_does_not_read_is_no_error(runner: CommandRunner) -> None:
    result = await runner.run(["true"], stdin=b"x" * (4 * 1024 * 1024))
    assert result.returncode == 0


NASTY_ENV = {
    "PYINTERLINK_QUOTES": "it's \"quoted\" 'twice'",
    "PYINTERLINK_NEWLINES": "line one\nline two\n",
    "PYINTERLINK_SUBST": "$(touch {marker}) `touch {marker}` ${{HOME}}",
    "PYINTERLINK_EMPTY": "",
    "PYINTERLINK_UNICODE": "ünïcödé ✓",
    "pyinterlink.dotted-name": "dots and dashes, as Kubernetes allows",
}


async def test_env_additions_arrive_exactly(runner: CommandRunner, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    env = {name: value.format(marker=marker) for name, value in NASTY_ENV.items()}
    # env -0: the whole environment, NUL-separated, as the program received it (no shell in
    # between: dash, for one, drops names such as the dotted one from what it passes on).
    result = await runner.run(["env", "-0"], env=env)
    assert result.returncode == 0, result.error_text()
    received = dict(item.split("=", 1) for item in result.text().split("\0")[:-1])
    assert {name: received.get(name) for name in env} == env
    assert not marker.exists()


async def test_env_additions_keep_the_rest_of_the_environment(runner: CommandRunner) -> None:
    result = await runner.run(
        ["sh", "-c", 'echo "$PYINTERLINK_A:${HOME:+home}"'], env={"PYINTERLINK_A": "1"}
    )
    assert result.stdout == b"1:home\n"


# --- ending commands ------------------------------------------------------------------------


async def test_a_timeout_kills_the_whole_process_group(
    runner: CommandRunner, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    with anyio.fail_after(10):
        with pytest.raises(CommandTimeoutError, match=r"within 0\.5 s"):
            await runner.run(family(pids), timeout=0.5)
    assert await wait_until_gone(await read_pids(pids, 2)) == []


async def test_a_timeout_kills_what_ignores_sigterm(runner: CommandRunner, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    start = anyio.current_time()
    with anyio.fail_after(10):
        with pytest.raises(CommandTimeoutError):
            await runner.run(family(pids, ignore_term=True), timeout=0.5)
    # SIGTERM first, SIGKILL only after the grace period.
    assert anyio.current_time() - start >= 0.5 + 0.9 * KILL_GRACE
    assert await wait_until_gone(await read_pids(pids, 2)) == []


async def test_cancelling_the_caller_kills_the_whole_process_group(
    runner: CommandRunner, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: runner.run(family(pids), timeout=None))
            started = await read_pids(pids, 2)
            tg.cancel_scope.cancel()
    assert await wait_until_gone(started) == []


async def test_the_timeout_counts_from_the_call(runner: CommandRunner) -> None:
    start = anyio.current_time()
    with pytest.raises(CommandTimeoutError):
        await runner.run(["sleep", "10"], timeout=0.3)
    assert anyio.current_time() - start < 3


async def test_runaway_stdout_is_killed(runner: CommandRunner) -> None:
    with anyio.fail_after(10):
        with pytest.raises(OutputTooLargeError, match="more than 1000 bytes to stdout"):
            await runner.run(["yes"], max_output=1000)


async def test_runaway_stderr_is_killed(runner: CommandRunner) -> None:
    with pytest.raises(OutputTooLargeError, match="more than 1000 bytes to stderr"):
        await runner.run(["sh", "-c", "head -c 5000 /dev/zero >&2"], max_output=1000)


async def test_output_up_to_the_limit_is_kept(runner: CommandRunner) -> None:
    result = await runner.run(["head", "-c", "1000", "/dev/zero"], max_output=1000)
    assert result.stdout == bytes(1000)


async def test_commands_run_concurrently(runner: CommandRunner) -> None:
    results: list[CommandResult] = []

    async def one(n: int) -> None:
        results.append(await runner.run(["sh", "-c", f"sleep 0.3; echo {n}"]))

    start = anyio.current_time()
    async with anyio.create_task_group() as tg:
        for n in range(12):
            tg.start_soon(one, n)
    assert sorted(int(r.stdout) for r in results) == list(range(12))
    assert anyio.current_time() - start < 12 * 0.3


# --- streams ---------------------------------------------------------------------------------


async def test_a_stream_yields_output_as_it_comes(runner: CommandRunner, tmp_path: Path) -> None:
    go = tmp_path / "go"
    script = f"echo ready; while [ ! -e {shlex.quote(str(go))} ]; do sleep 0.02; done; echo done"
    with anyio.fail_after(10):
        async with runner.stream(["sh", "-c", script]) as chunks:
            # The command cannot end before `go` exists: this chunk came while it ran.
            assert await anext(chunks) == b"ready\n"
            go.touch()
            rest = [chunk async for chunk in chunks]
    assert b"".join(rest) == b"done\n"


async def test_a_stream_ends_when_the_command_ends(runner: CommandRunner) -> None:
    with anyio.fail_after(10):
        async with runner.stream(["sh", "-c", "echo a; exit 3"], env={"X": "1"}) as chunks:
            assert b"".join([chunk async for chunk in chunks]) == b"a\n"
            with pytest.raises(StopAsyncIteration):
                await anext(chunks)


async def test_leaving_a_stream_kills_the_whole_process_group(
    runner: CommandRunner, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    script = FAMILY.format(pids=shlex.quote(str(pids))).replace("wait", "")
    script += "while :; do echo tick; sleep 0.05; done"
    with anyio.fail_after(10):
        async with runner.stream(["sh", "-c", script]) as chunks:
            assert (await anext(chunks)).startswith(b"tick")
            started = await read_pids(pids, 2)
    assert await wait_until_gone(started) == []


async def test_cancelling_a_stream_kills_the_whole_process_group(
    runner: CommandRunner, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    with anyio.fail_after(10):
        with anyio.move_on_after(0.5) as scope:
            async with runner.stream(family(pids)) as chunks:
                async for _ in chunks:
                    pass  # the command writes nothing: this waits until cancelled
    assert scope.cancelled_caught
    assert await wait_until_gone(await read_pids(pids, 2)) == []


async def test_errors_in_a_stream_body_come_out_as_raised(runner: CommandRunner) -> None:
    with pytest.raises(KeyError, match="from the body"):
        async with runner.stream(["sleep", "10"]):
            raise KeyError("from the body")


async def test_a_stream_of_a_missing_program_cannot_run(runner: CommandRunner) -> None:
    with pytest.raises(TransportError, match="pyinterlink-no-such-program"):
        async with runner.stream(["pyinterlink-no-such-program"]) as chunks:
            async for _ in chunks:
                pass


async def test_a_stream_passes_env_additions(runner: CommandRunner) -> None:
    env = {"PYINTERLINK_QUOTES": NASTY_ENV["PYINTERLINK_QUOTES"]}
    async with runner.stream(["printenv", "PYINTERLINK_QUOTES"], env=env) as chunks:
        output = b"".join([chunk async for chunk in chunks])
    assert output == f"{env['PYINTERLINK_QUOTES']}\n".encode()


def _conform(local: LocalRunner, ssh: SSHRunner) -> tuple[CommandRunner, CommandRunner]:
    return local, ssh  # mypy checks that both implement the protocol
