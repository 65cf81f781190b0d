"""UNICORE dialect: the job description's structure, and its job directory brought to life."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink.core._errors import ConfigError, PodError
from pyinterlink.core._job import (
    Accelerator,
    EnvVar,
    FileToWrite,
    Job,
    Resources,
    Runtime,
    Task,
)
from pyinterlink.core._unicore import (
    UnicoreOptions,
    pod_uid_tag,
    render_unicore,
    travels_as_import,
    unicore_job_description,
    unicore_script,
)

from tests.core import sample_jobs
from tests.golden import assert_golden

UID = "2b1e8f4c-0d3a-4e6b-8c7d-9f0a1b2c3d4e"


def make_job(**changes: Any) -> Job:
    job = Job(
        pod_uid=UID,
        pod_name="analysis",
        namespace="physics",
        workdir="/scratch/physics-" + UID,
        runtime=Runtime(kind="apptainer", binary="apptainer"),
        tasks=(Task(name="main", init=False, image="docker://alpine:3.20", command=("true",)),),
    )
    return attrs.evolve(job, **changes)


def imports_by_path(description: dict[str, object]) -> dict[str, str]:
    imports = description["Imports"]
    assert isinstance(imports, list)
    for entry in imports:
        assert set(entry) == {"From", "To", "Data"}
        assert entry["From"].startswith("inline://")
    return {entry["To"]: entry["Data"] for entry in imports}


# --- structure ----------------------------------------------------------------------------


def test_minimal_description() -> None:
    description = unicore_job_description(make_job(), UnicoreOptions())
    assert description == {
        "Name": UID,
        "Executable": "/bin/bash",
        "Arguments": ["job.sh"],
        "Stdout": "job.out",
        "Stderr": "job.err",
        "Resources": {"CPUs": "1"},
        "Imports": [
            {"From": "inline://dummy", "To": "job.sh", "Data": unicore_script(make_job())},
        ],
        "Tags": ["pyinterlink", f"pod-uid:{UID}"],
    }


def test_resources_take_units_unicore_understands() -> None:
    job = make_job(
        resources=Resources(cpus=8, memory_mib=16384),
        time_limit_seconds=5400,
        queue="gpu",
        account="physics",
    )
    description = unicore_job_description(job, UnicoreOptions())
    # Runtime in seconds (UNICORE's default unit); M is MiB for UNICORE's unit parser.
    assert description["Resources"] == {
        "CPUs": "8",
        "Memory": "16384M",
        "Runtime": "5400",
        "Queue": "gpu",
    }
    assert description["Project"] == "physics"


def test_site_defaults_fill_in_what_the_pod_leaves_open() -> None:
    options = UnicoreOptions(
        project="site-project",
        queue="batch",
        nodes=1,
        node_constraints="mem192",
        qos="normal",
        reservation="maint",
    )
    description = unicore_job_description(make_job(), options)
    assert description["Project"] == "site-project"
    assert description["Resources"] == {
        "CPUs": "1",
        "Nodes": "1",
        "Queue": "batch",
        "NodeConstraints": "mem192",
        "QoS": "normal",
        "Reservation": "maint",
    }
    pod = unicore_job_description(make_job(queue="gpu", account="mine"), options)
    assert pod["Project"] == "mine"
    assert isinstance(pod["Resources"], dict)
    assert pod["Resources"]["Queue"] == "gpu"


def test_accelerators_add_site_resources() -> None:
    gpu = Accelerator(resource="nvidia.com/gpu", count=4, unicore=(("GPUS", "4"),))
    job = make_job(resources=Resources(accelerators=(gpu,)))
    resources = unicore_job_description(job, UnicoreOptions())["Resources"]
    assert resources == {"CPUs": "1", "GPUS": "4"}


@pytest.mark.parametrize("name", ["CPUs", "Runtime", "Memory", "Queue"])
def test_accelerators_cannot_replace_builtin_resources(name: str) -> None:
    bad = Accelerator(resource="example.com/thing", count=1, unicore=((name, "1"),))
    with pytest.raises(ConfigError, match=r"example\.com/thing"):
        unicore_job_description(
            make_job(resources=Resources(accelerators=(bad,))), UnicoreOptions()
        )


def test_login_node_jobs() -> None:
    options = UnicoreOptions(job_type="on_login_node", login_node="login0*")
    description = unicore_job_description(make_job(), options)
    assert description["Job type"] == "on_login_node"
    assert description["Login node"] == "login0*"
    # Batch is UNICORE's default: the key is left out, which every server version reads.
    batch = unicore_job_description(make_job(), UnicoreOptions(login_node="ignored"))
    assert "Job type" not in batch
    assert "Login node" not in batch


def test_tags_find_the_pod_and_carry_site_tags() -> None:
    description = unicore_job_description(make_job(), UnicoreOptions(tags=("team-a",)))
    assert description["Tags"] == ["pyinterlink", pod_uid_tag(UID), "team-a"]
    assert pod_uid_tag(UID) == f"pod-uid:{UID}"


@pytest.mark.parametrize("tag", ["", "a,b", "new\nline"])
def test_unusable_site_tags_are_refused(tag: str) -> None:
    with pytest.raises(ConfigError, match="tag"):
        unicore_job_description(make_job(), UnicoreOptions(tags=(tag,)))


def test_unusable_pod_uid_is_refused() -> None:
    with pytest.raises(PodError):
        unicore_job_description(make_job(pod_uid="a,b"), UnicoreOptions())


@pytest.mark.parametrize("bash", ["bash", "/bin/bash -x", "/bin/ba$h", "/bin/bash;rm"])
def test_shell_must_be_a_plain_absolute_path(bash: str) -> None:
    with pytest.raises(ConfigError, match="Bash"):
        unicore_job_description(make_job(), UnicoreOptions(bash=bash))


@pytest.mark.parametrize("field", ["queue", "account"])
def test_line_breaks_in_pod_values_are_refused(field: str) -> None:
    job = make_job(**{field: "gpu\n#SBATCH --uid=0"})
    with pytest.raises(PodError, match="control character"):
        unicore_job_description(job, UnicoreOptions())


@pytest.mark.parametrize(
    "options",
    [
        UnicoreOptions(queue="a\nb"),
        UnicoreOptions(project="a\rb"),
        UnicoreOptions(qos="a\x00"),
        UnicoreOptions(job_type="on_login_node", login_node="a\nb"),
    ],
)
def test_line_breaks_in_site_values_are_refused(options: UnicoreOptions) -> None:
    with pytest.raises(ConfigError, match="control character"):
        unicore_job_description(make_job(), options)


@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20))
def test_any_pod_values_give_json_or_a_pod_error(name: str, queue: str, account: str) -> None:
    job = make_job(pod_name=name, queue=queue, account=account)
    try:
        description = unicore_job_description(job, UnicoreOptions())
    except PodError:
        return
    assert json.loads(json.dumps(description)) == description
    resources = description["Resources"]
    assert isinstance(resources, dict)
    assert resources["Queue"] == queue
    assert description["Project"] == account


# --- files: imports or script -------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (FileToWrite(path="a", content=b"text\n"), True),
        (FileToWrite(path="a", content=b""), True),
        (FileToWrite(path="a", content="caf\u00e9".encode()), True),
        (FileToWrite(path="a", content=b"\xff\xfe"), False),
        (FileToWrite(path="a", content=b"text\n", mode=0o400), False),
        (FileToWrite(path="a", content=b"#!/bin/sh\n", mode=0o755), False),
    ],
)
def test_only_default_mode_text_travels_as_import(file: FileToWrite, expected: bool) -> None:
    assert travels_as_import(file) is expected


def test_files_are_split_between_imports_and_the_script() -> None:
    job = sample_jobs.config_files("apptainer")
    description = unicore_job_description(job, UnicoreOptions())
    imports = imports_by_path(description)
    as_imports = {f.path for f in job.files if travels_as_import(f)}
    assert set(imports) == {"job.sh"} | as_imports
    for file in job.files:
        # How the pod script writes a file (these sample paths need no quoting).
        written_by_script = f'>"$workdir"/{file.path} ' in imports["job.sh"]
        if file.path in as_imports:
            assert imports[file.path] == file.content.decode()
            assert not written_by_script
        else:
            assert written_by_script


# --- rendering ----------------------------------------------------------------------------


def test_job_json_reads_back_as_the_description() -> None:
    job = sample_jobs.config_files("apptainer")
    (artifact,) = render_unicore(job, UnicoreOptions())
    assert artifact.name == "job.json"
    assert not artifact.executable
    assert json.loads(artifact.content) == unicore_job_description(job, UnicoreOptions())


def test_job_json_is_indented_with_sorted_keys() -> None:
    job = sample_jobs.hello("apptainer")
    (artifact,) = render_unicore(job, UnicoreOptions())
    description = unicore_job_description(job, UnicoreOptions())
    assert artifact.content == json.dumps(description, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", sorted(sample_jobs.SAMPLES))
def test_golden(name: str) -> None:
    # The script is pinned as its own file, where a diff is readable, and replaced by a
    # marker in the pinned description.
    job = sample_jobs.SAMPLES[name]("apptainer")
    options = UnicoreOptions(project="site-project", tags=("interlink",))
    (artifact,) = render_unicore(job, options)
    description = json.loads(artifact.content)
    (script_import,) = [i for i in description["Imports"] if i["To"] == "job.sh"]
    assert_golden(f"unicore/{name}.sh", script_import["Data"])
    script_import["Data"] = f"<tests/golden/unicore/{name}.sh>"
    text = json.dumps(description, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert_golden(f"unicore/{name}.json", text)


# --- the job directory, brought to life ---------------------------------------------------

STUB_RUNTIME = """\
#!/bin/bash
# Stands in for apptainer: acts as the container would.
echo "hello from ${APPTAINERENV_NAME:?}"
exit "${APPTAINERENV_EXIT_CODE:-0}"
"""


def test_imports_and_script_together_give_every_file(tmp_path: Path) -> None:
    stub = tmp_path / "apptainer"
    stub.write_text(STUB_RUNTIME)
    stub.chmod(0o755)
    env = (EnvVar(name="NAME", value="main"), EnvVar(name="EXIT_CODE", value="4"))
    job = attrs.evolve(
        sample_jobs.config_files("apptainer"),
        runtime=Runtime(kind="apptainer", binary=str(stub)),
        tasks=(Task(name="main", init=False, image="docker://x", command=("x",), env=env),),
    )
    description = unicore_job_description(job, UnicoreOptions())

    # What UNICORE does: a fresh job directory, the imports staged in, then the executable.
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    for path, data in imports_by_path(description).items():
        target = job_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data)
    executable = description["Executable"]
    arguments = description["Arguments"]
    assert isinstance(executable, str)
    assert isinstance(arguments, list)
    result = subprocess.run(
        [executable, *arguments], cwd=job_dir, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 4, result.stderr

    for file in job.files:
        written = job_dir / file.path
        assert written.read_bytes() == file.content, file.path
        if not travels_as_import(file):
            assert written.stat().st_mode & 0o777 == file.mode, file.path
    assert (job_dir / "run-main.out").read_text() == "hello from main\n"
    assert (job_dir / "run-main.status").read_text() == "4\n"
