"""From what Slurm prints to what the pod shows: parsers and the status mapping together.

The single-module tests prove each step; these prove the chain keeps its promises — the exit
code and signal a job reports are the ones the pod shows, and the scheduler's reason reaches
the pod.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from pyinterlink import core
from pyinterlink.core import slurm

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
UID = "0b7a1e2c-6d8a-4f4e-9a53-1f1d3c2b9a10"
POD = core.pod_from_json(
    {
        "metadata": {"name": "p", "namespace": "ns", "uid": UID},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}],
        },
    }
)


def squeue_line(state: str, *, reason: str = "None", wait_status: int = 0) -> str:
    """One line as `squeue --Format=<SQUEUE_FORMAT>` prints it (see tests/slurm_output/)."""
    ended = state not in {"PENDING", "RUNNING"}
    end = "2026-11-23T16:59:00" if ended else "NONE"
    start = "2026-11-23T16:58:00" if state != "PENDING" else "N/A"
    return f"77|{state}|{reason}|{start}|{end}|{wait_status}|{UID}\n"


def observe(line: str, status_files: dict[str, str]) -> core.PodStatus:
    (job,) = slurm.parse_squeue(line).values()
    containers = slurm.container_results(status_files)
    return core.pod_status(
        POD, core.Observation(job=job, containers=containers), previous=None, now=NOW
    )


@given(st.integers(0, 255), st.integers(0, 255))
def test_container_exit_codes_reach_the_pod_unchanged(code_a: int, code_b: int) -> None:
    highest = max(code_a, code_b)
    state = "COMPLETED" if highest == 0 else "FAILED"
    status = observe(
        squeue_line(state, wait_status=highest << 8),
        {"run-a.status": f"{code_a}\n", "run-b.status": f"{code_b}\n"},
    )
    shown = {c.name: c.state.terminated for c in status.container_statuses}
    assert shown["a"] is not None and shown["b"] is not None
    assert (shown["a"].exit_code, shown["b"].exit_code) == (code_a, code_b)
    for terminated, code in ((shown["a"], code_a), (shown["b"], code_b)):
        assert terminated.signal == (code - 128 if 128 < code <= 192 else None)
    assert status.phase == ("Succeeded" if highest == 0 else "Failed")


@given(st.sampled_from([9, 15, 6, 11]))
def test_a_job_killed_by_a_signal_shows_the_signal(signal: int) -> None:
    status = observe(squeue_line("FAILED", wait_status=signal), {})
    for container in status.container_statuses:
        terminated = container.state.terminated
        assert terminated is not None
        assert terminated.signal == signal
        assert terminated.exit_code == 128 + signal
    assert status.phase == "Failed"


def test_out_of_memory_and_timeouts_keep_their_reason() -> None:
    for state, reason in (("OUT_OF_MEMORY", "OOMKilled"), ("TIMEOUT", "DeadlineExceeded")):
        status = observe(squeue_line(state, wait_status=9), {})
        assert status.phase == "Failed"
        reasons = {
            c.state.terminated.reason
            for c in status.container_statuses
            if c.state.terminated is not None
        }
        assert reasons == {reason}, state


def test_a_pending_job_says_why_it_waits() -> None:
    status = observe(squeue_line("PENDING", reason="Resources"), {})
    assert status.phase == "Pending"
    assert "Resources" in status.message
    ready = {c.type: c for c in status.conditions}["Ready"]
    assert ready.status == "False" and "Resources" in ready.message
