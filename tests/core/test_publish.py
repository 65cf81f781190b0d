"""What a published machine state looks like on the pod, and the exit code `run` reports."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from pyinterlink import core
from pyinterlink.core import machine as m

AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
POD = core.pod_from_json(
    {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u-1"},
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{"name": "setup", "image": "i"}],
            "containers": [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}],
        },
    }
)


def published(**fields: object) -> m.PublishStatus:
    values: dict[str, object] = {
        "at": AT,
        "state": m.State.QUEUED,
        "job_id": "7",
        "remote": None,
        "containers": (),
        "failure": None,
    }
    values.update(fields)
    return m.PublishStatus(**values)  # type: ignore[arg-type]


def test_a_failed_create_shows_the_error_on_every_container() -> None:
    failure = m.Failure(reason=m.PROVIDER_FAILED, message="partition 'x' does not exist")
    status = core.status_for(
        POD, published(state=m.State.FINISHED, failure=failure, job_id=None), previous=None
    )
    assert status.phase == "Failed"
    for container in status.container_statuses:
        assert container.state.terminated is not None
        assert "partition 'x' does not exist" in container.state.terminated.message


def test_a_retried_submission_shows_the_pod_waiting_and_why() -> None:
    failure = m.Failure(reason=m.SUBMIT_RETRYING, message="connection refused")
    status = core.status_for(
        POD, published(state=m.State.RETRYING_SUBMIT, failure=failure, job_id=None), previous=None
    )
    assert status.phase == "Pending"
    assert "connection refused" in status.message


def test_an_observation_is_mapped_like_pod_status() -> None:
    remote = core.RemoteState(kind="running", raw="RUNNING", started_at=AT)
    action = published(state=m.State.RUNNING, remote=remote)
    assert core.status_for(POD, action, previous=None) == core.pod_status(
        POD, core.Observation(job=remote), previous=None, now=AT
    )


codes = st.integers(0, 255)


@given(codes, codes, codes)
def test_the_exit_code_is_the_first_failed_container(setup: int, a: int, b: int) -> None:
    failed = any((setup, a, b))
    remote = core.RemoteState(
        kind="failed" if failed else "succeeded", raw="X", exit_code=max(setup, a, b)
    )
    containers = (
        core.ContainerResult(name="setup", init=True, exit_code=setup),
        core.ContainerResult(name="a", exit_code=a),
        core.ContainerResult(name="b", exit_code=b),
    )
    status = core.pod_status(
        POD, core.Observation(job=remote, containers=containers), previous=None, now=AT
    )
    expected = next((c for c in (setup, a, b) if c), 0) if status.phase != "Succeeded" else 0
    if status.phase != "Succeeded" and expected == 0:
        expected = 1
    assert core.exit_code_of(status) == expected


def test_no_status_at_all_is_a_failure() -> None:
    assert core.exit_code_of(None) == 1
