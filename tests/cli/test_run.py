"""``interlink run`` end to end on the local backend: real processes under bubblewrap."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.real import needs_program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

pytestmark = needs_program("bwrap", "scripts/system-deps installs it")


def run(pod: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyinterlink.cli.main", "run", str(pod), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_hello_runs_and_shows_its_log(tmp_path: Path) -> None:
    result = run(EXAMPLES / "hello.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[hello] greeting: Grüß Gott; it's hello" in result.stdout
    assert "interlink: hello: Completed" in result.stdout
    assert result.stdout.rstrip().endswith("interlink: hello: exit 0")


def test_a_failing_container_gives_its_exit_code(tmp_path: Path) -> None:
    result = run(EXAMPLES / "acceptance" / "failing.yaml", cwd=tmp_path)
    assert result.returncode == 3
    assert "[fail] about to fail" in result.stdout
    assert "interlink: failing: Error" in result.stdout


def test_json_output_is_one_event_per_line(tmp_path: Path) -> None:
    result = run(EXAMPLES / "init-containers.yaml", "--output", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "submitted" and kinds[-1] == "exit"
    assert events[-1]["code"] == 0
    logs = [(e["container"], e["line"]) for e in events if e["event"] == "log"]
    assert ("check-inputs", "inputs ok") in logs
    phases = [e["phase"] for e in events if e["event"] == "status"]
    assert phases[-1] == "Succeeded"


def test_ctrl_c_cancels_the_job_and_leaves_no_process(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pyinterlink.cli.main",
            "run",
            str(EXAMPLES / "acceptance" / "long-running.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    for line in process.stdout:  # wait until the container runs
        if "Running" in line:
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "cancelling the job" in out
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert leftovers == []


def test_a_bad_pod_is_refused_before_anything_runs(tmp_path: Path) -> None:
    pod = tmp_path / "bad.yaml"
    pod.write_text(
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i, args: [x]}\n"
    )
    result = run(pod, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"interlink: error: {pod}: spec.containers[0].command: the bwrap runtime runs the host "
        "userland and has no image entrypoint: set command"
    )
    assert not (tmp_path / ".local").exists()


def test_only_runnable_backends_are_accepted(tmp_path: Path) -> None:
    result = run(EXAMPLES / "hello.yaml", "--backend", "unicore", cwd=tmp_path)
    assert result.returncode == 1
    assert "unicore can only be rendered for now" in result.stderr
