"""``interlink run --backend slurm`` on the real Slurm, directly and over SSH: the command a
user types, end to end (the backend's own behaviour is tested in test_slurm_backend.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.backends.conftest import SlurmCluster, _sshd_settings

ROOT = Path(__file__).resolve().parents[2]


def run(pod: Path, site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pyinterlink.cli.main",
            "run",
            str(pod),
            "--backend",
            "slurm",
            "--config",
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(params=["direct", "ssh"])
def site_file(
    request: pytest.FixtureRequest, slurm_cluster: SlurmCluster, slurm_jobs_dir: Path
) -> Path:
    site: dict[str, object] = {"DataRootFolder": str(slurm_jobs_dir), "ContainerRuntime": "bwrap"}
    if request.param == "ssh":
        sshd = _sshd_settings()
        site["SSH"] = {
            "Host": sshd["host"],
            "Port": int(sshd["port"]),
            "IdentityFile": sshd["identity_file"],
            "KnownHosts": sshd["known_hosts"],
        }
    path = slurm_jobs_dir / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def test_config_volumes_run_on_slurm(site_file: Path, tmp_path: Path) -> None:
    result = run(ROOT / "examples" / "config-volumes.yaml", site_file, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '[analysis] cuts: {"pt_min": 25.0, "eta_max": 2.4}' in result.stdout
    assert "[analysis] token is 37 bytes; mode 400" in result.stdout
    assert "interlink: analysis: Completed" in result.stdout


def test_a_failing_pod_exits_with_its_code_on_slurm(site_file: Path, tmp_path: Path) -> None:
    result = run(ROOT / "examples" / "acceptance" / "failing.yaml", site_file, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "[fail] about to fail" in result.stdout
