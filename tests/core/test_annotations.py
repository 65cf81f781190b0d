"""Pod annotations into typed PodOptions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink.core._annotations import KNOWN_ANNOTATIONS, PodOptions, parse_annotations
from pyinterlink.core._errors import AnnotationError, InterlinkError
from pyinterlink.core._job import SlurmOption


def path(key: str) -> str:
    return f'metadata.annotations["{key}"]'


def error_for(annotations: dict[str, str]) -> AnnotationError:
    with pytest.raises(AnnotationError) as info:
        parse_annotations(annotations)
    return info.value


def test_no_annotations_means_defaults() -> None:
    assert parse_annotations({}) == PodOptions()


def test_annotations_of_other_tools_are_ignored() -> None:
    annotations = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "JobID": "1234",
        "interlink.eu/pod-vpn": "true",
        "interlink.eu/wstunnel-client-commands": "anything at all",
        "job.vk.io/singularity-mounts": "--nv",
        "no-slash": "x",
    }
    assert parse_annotations(annotations) == PodOptions()


def test_the_seed_pod_flags() -> None:
    options = parse_annotations(
        {"slurm-job.vk.io/flags": "--gres=gpu:4 --job-name test --time=20:00:00"}
    )
    assert options.slurm_flags == (
        SlurmOption(name="gres", value="gpu:4"),
        SlurmOption(name="job-name", value="test"),
        SlurmOption(name="time", value="20:00:00"),
    )


def test_flags_are_split_with_shell_quoting() -> None:
    options = parse_annotations({"slurm-job.vk.io/flags": '-p geant4\n--comment "a b"'})
    assert options.slurm_flags == (
        SlurmOption(name="partition", value="geant4"),
        SlurmOption(name="comment", value="a b"),
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("--comment 'a b", "single quote at character 11 is never closed"),
        ("-p geant4 stray", "word 3 ('stray') is not an sbatch option"),
        ("--comment 'a\nb'", "contains a newline"),
    ],
)
def test_flag_errors_name_the_annotation(value: str, fragment: str) -> None:
    error = error_for({"slurm-job.vk.io/flags": value})
    assert fragment in error.reason
    assert error.path == path("slurm-job.vk.io/flags")


def test_every_field_from_its_annotation() -> None:
    options = parse_annotations(
        {
            "slurm-job.vk.io/pre-exec": "module load cuda\necho $HOME | tee x",
            "slurm-job.vk.io/singularity-mounts": "--bind /cvmfs:/cvmfs:ro -B /a:/b",
            "slurm-job.vk.io/singularity-options": "--nv --env 'A=1 2'",
            "slurm-job.vk.io/enroot-mounts": "--mount /data:/data",
            "slurm-job.vk.io/enroot-options": "--rw",
            "slurm-job.vk.io/image-root": "oras://",
            "slurm-job.vk.io/flavor": "gpu-nvidia",
            "slurm-job.vk.io/mpi-flags": "--mca btl ^openib",
            "htcondor-job.vk.io/singularity-options": "--cleanenv --nv",
            "interlink.eu/pod-ip": "10.0.0.7",
        }
    )
    assert options == PodOptions(
        pre_exec="module load cuda\necho $HOME | tee x",
        singularity_mounts=("/cvmfs:/cvmfs:ro", "/a:/b"),
        singularity_options=("--nv", "--env", "A=1 2"),
        enroot_mounts=("/data:/data",),
        enroot_options=("--rw",),
        image_root="oras://",
        flavor="gpu-nvidia",
        mpi_flags=("--mca", "btl", "^openib"),
        htcondor_singularity_options=("--cleanenv", "--nv"),
        pod_ip="10.0.0.7",
    )


def test_pre_exec_is_kept_verbatim() -> None:
    shell = "  set -e\n  export X='$(id)'  \n"
    assert parse_annotations({"slurm-job.vk.io/pre-exec": shell}).pre_exec == shell


@pytest.mark.parametrize(
    ("value", "mounts"),
    [
        ("--bind /a:/b", ("/a:/b",)),
        ("--bind=/a:/b,/c:/d", ("/a:/b,/c:/d",)),
        ("-B /a:/b --bind /c:/d:ro", ("/a:/b", "/c:/d:ro")),
        ("/a:/b /c", ("/a:/b", "/c")),
        ("--bind '/my data:/data'", ("/my data:/data",)),
        ("", ()),
    ],
)
def test_singularity_mounts_are_bind_specs(value: str, mounts: tuple[str, ...]) -> None:
    assert (
        parse_annotations({"slurm-job.vk.io/singularity-mounts": value}).singularity_mounts
        == mounts
    )


def test_enroot_mounts_take_enroot_mount_options() -> None:
    options = parse_annotations({"slurm-job.vk.io/enroot-mounts": "-m /a:/b --mount=/c:/d /e"})
    assert options.enroot_mounts == ("/a:/b", "/c:/d", "/e")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("slurm-job.vk.io/singularity-mounts", "--nv", "put other singularity options in"),
        ("slurm-job.vk.io/singularity-mounts", "--bind", "--bind at the end needs a mount spec"),
        ("slurm-job.vk.io/singularity-mounts", "--bind ''", "a mount spec is empty"),
        ("slurm-job.vk.io/singularity-mounts", "'/a\n:/b'", "must not contain the character"),
        ("slurm-job.vk.io/enroot-mounts", "--bind /a:/b", "slurm-job.vk.io/enroot-options"),
    ],
)
def test_mount_errors(key: str, value: str, fragment: str) -> None:
    error = error_for({key: value})
    assert fragment in error.reason
    assert error.path == path(key)


@pytest.mark.parametrize(
    ("value", "flags"),
    [
        ("true", ()),
        ("True", ()),
        ("", ()),
        ("false", None),
        ("--mca btl tcp", ("--mca", "btl", "tcp")),
        ("-x 'A B'", ("-x", "A B")),
    ],
)
def test_mpi_flags(value: str, flags: tuple[str, ...] | None) -> None:
    assert parse_annotations({"slurm-job.vk.io/mpi-flags": value}).mpi_flags == flags


def test_mpi_absent_means_no_mpi() -> None:
    assert parse_annotations({}).mpi_flags is None


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("10.1.2.3", "10.1.2.3"),
        (" 10.1.2.3\n", "10.1.2.3"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
    ],
)
def test_pod_ip_is_an_address(value: str, address: str) -> None:
    assert parse_annotations({"interlink.eu/pod-ip": value}).pod_ip == address


@pytest.mark.parametrize("value", ["", "1.2.3", "10.0.0.1; rm -rf /", "localhost", "10.0.0.256"])
def test_pod_ip_that_is_not_an_address_is_refused(value: str) -> None:
    error = error_for({"interlink.eu/pod-ip": value})
    assert "is not an IPv4 or IPv6 address" in error.reason
    assert error.path == path("interlink.eu/pod-ip")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("slurm-job.vk.io/flavor", "", "names no flavor"),
        ("slurm-job.vk.io/flavor", "gpu nvidia", "must not contain spaces"),
        ("slurm-job.vk.io/image-root", "docker://\n", "must not contain the character '\\n'"),
        ("slurm-job.vk.io/pre-exec", "echo \0", "NUL character at character 6"),
        ("slurm-job.vk.io/singularity-options", "--nv '", "single quote"),
        ("htcondor-job.vk.io/singularity-options", '"', "double quote"),
        ("slurm-job.vk.io/mpi-flags", "-x 'a", "single quote"),
    ],
)
def test_value_errors_name_the_annotation(key: str, value: str, fragment: str) -> None:
    error = error_for({key: value})
    assert fragment in error.reason
    assert error.path == path(key)


def test_image_root_may_be_empty() -> None:
    assert parse_annotations({"slurm-job.vk.io/image-root": ""}).image_root == ""


def test_a_value_that_is_not_a_string_is_refused() -> None:
    error = error_for({"slurm-job.vk.io/flavor": 3})  # type: ignore[dict-item]
    assert error.reason == "must be a string, not int"


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("slurm-job.vk.io/flag", "(did you mean slurm-job.vk.io/flags?)"),
        ("slurm-job.vk.io/singularity-mount", "(did you mean slurm-job.vk.io/singularity-mounts?)"),
        ("slurm-job.vk.io/preexec", "(did you mean slurm-job.vk.io/pre-exec?)"),
        ("slurm-job.vk.io/mpi_flags", "(did you mean slurm-job.vk.io/mpi-flags?)"),
        ("Slurm-Job.vk.io/Flags", "(did you mean slurm-job.vk.io/flags?)"),
        (
            "htcondor-job.vk.io/singularity-option",
            "(did you mean htcondor-job.vk.io/singularity-options?)",
        ),
        ("slurm-job.vk.io/zzzzzzzzzzzzzzzz", "known annotations under slurm-job.vk.io/:"),
        ("slurm-jobs.vk.io/flags", "looks like a misspelling of slurm-job.vk.io/"),
        ("slurm.job.vk.io/flavor", "(did you mean slurm-job.vk.io/flavor?)"),
        ("slurm-job.knoc.io/flags", "old prefix of these annotations; write slurm-job.vk.io/flags"),
        ("slurm-job.vk.io/nfs-mode", "does not mount NFS-backed persistent volumes"),
        ("slurm-job.vk.io/singularity-commands", "upstream documents it but no longer reads it"),
    ],
)
def test_keys_meant_for_us_but_unknown_are_refused(key: str, fragment: str) -> None:
    error = error_for({key: "x"})
    assert fragment in error.reason
    assert error.path == path(key)


def test_the_reported_error_does_not_depend_on_order() -> None:
    first = error_for({"slurm-job.vk.io/zz": "x", "slurm-job.vk.io/aa": "y"})
    second = error_for({"slurm-job.vk.io/aa": "y", "slurm-job.vk.io/zz": "x"})
    assert first.path == second.path == path("slurm-job.vk.io/aa")


def test_known_annotations_are_the_documented_ones() -> None:
    assert {
        "slurm-job.vk.io/flags",
        "slurm-job.vk.io/pre-exec",
        "slurm-job.vk.io/singularity-mounts",
        "slurm-job.vk.io/singularity-options",
        "slurm-job.vk.io/enroot-mounts",
        "slurm-job.vk.io/enroot-options",
        "slurm-job.vk.io/image-root",
        "slurm-job.vk.io/flavor",
        "slurm-job.vk.io/mpi-flags",
        "htcondor-job.vk.io/singularity-options",
        "interlink.eu/pod-ip",
    } == KNOWN_ANNOTATIONS


keys = st.sampled_from(sorted(KNOWN_ANNOTATIONS)) | st.text(max_size=30)


@given(st.dictionaries(keys, st.text(max_size=40), max_size=4))
def test_parse_annotations_is_total(annotations: dict[str, str]) -> None:
    try:
        result = parse_annotations(annotations)
    except AnnotationError as error:
        assert error.path.startswith("metadata.annotations[")
    else:
        assert isinstance(result, PodOptions)


@given(
    st.dictionaries(
        keys,
        st.none() | st.integers() | st.text(max_size=10) | st.lists(st.text(max_size=3)),
        max_size=4,
    )
)
def test_parse_annotations_never_raises_foreign_errors_on_odd_values(
    annotations: dict[str, object],
) -> None:
    try:
        parse_annotations(annotations)  # type: ignore[arg-type]
    except InterlinkError as error:
        assert isinstance(error, AnnotationError)
