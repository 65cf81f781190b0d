"""Site configuration: upstream files, our keys, strictness, defaults, totality."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink.core._errors import ConfigError, PolicyError
from pyinterlink.core._flags import DEFAULT_DENY
from pyinterlink.core._htcondor import HTCondorOptions
from pyinterlink.core._job import Accelerator, SlurmOption
from pyinterlink.core._site import (
    DEFAULT_RESOURCE_TABLE,
    DEFAULT_SITE,
    Flavor,
    ResourceMapping,
    SiteConfig,
    Taint,
    parse_site_config,
)
from pyinterlink.core._unicore import UnicoreOptions

# The keys of upstream's example SlurmConfig.yaml (interlink-slurm-plugin, docker/ and
# examples/config/), with values of our own.
UPSTREAM_EXAMPLE = """\
SidecarPort: "4001"
Socket: ""
SbatchPath: "/opt/slurm/bin/sbatch"
ScancelPath: "/opt/slurm/bin/scancel"
SqueuePath: "/opt/slurm/bin/squeue"
SinfoPath: "/opt/slurm/bin/sinfo"
CommandPrefix: "module load apptainer"
SingularityPrefix: ""
SingularityPath: "/opt/apptainer/bin/singularity"
ExportPodData: true
DataRootFolder: "/scratch/interlink/"
Namespace: "offload"
Tsocks: false
TsocksPath: "$HOME/lib/libtsocks.so"
TsocksLoginNode: "login02"
BashPath: /usr/bin/bash
VerboseLogging: false
ErrorsOnlyLogging: true
ContainerRuntime: enroot
EnrootDefaultOptions: ["--rw", "--mount", "/scratch"]
EnrootPrefix: ""
EnrootPath: /usr/local/bin/enroot
EnableProbes: true
VKConfigPath: /etc/interlink/vk.yaml
ImagePrefix: "docker://"
SingularityDefaultOptions: ["--nv", "--cleanenv"]
DefaultUID: 2000

DefaultFlavor: "small"
Flavors:
  small:
    Name: "small"
    Description: "One core, 2 GB"
    CPUDefault: 1
    MemoryDefault: "2G"
    SlurmFlags:
      - "--partition=short"
  gpu:
    Name: "gpu"
    Description: "A100 node share"
    CPUDefault: 8
    MemoryDefault: "64000MB"
    UID: 1500
    SlurmFlags:
      - "--gres=gpu:1"
      - "  --partition=gpu  "
"""


def load(text: str) -> SiteConfig:
    return parse_site_config(yaml.safe_load(text), source="site.yaml")


def refused(data: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_site_config(data, source="site.yaml")
    assert caught.value.source == "site.yaml"
    return caught.value


def test_upstream_example_parses() -> None:
    site = load(UPSTREAM_EXAMPLE)
    assert site.sidecar_port == 4001
    assert site.sbatch_path == "/opt/slurm/bin/sbatch"
    assert site.scancel_path == "/opt/slurm/bin/scancel"
    assert site.squeue_path == "/opt/slurm/bin/squeue"
    assert site.sinfo_path == "/opt/slurm/bin/sinfo"
    assert site.command_prefix == "module load apptainer"
    assert site.image_prefix == "docker://"
    assert site.data_root_folder == "/scratch/interlink/"
    assert site.namespace == "offload"
    assert site.bash_path == "/usr/bin/bash"
    assert site.errors_only_logging is True
    assert site.enable_probes is True
    assert site.vk_config_path == "/etc/interlink/vk.yaml"
    assert site.container_runtime == "enroot"
    assert site.runtime_binary == "/usr/local/bin/enroot"
    assert site.runtime_default_options == ("--rw", "--mount", "/scratch")
    assert site.singularity_default_options == ("--nv", "--cleanenv")
    assert site.default_uid == 2000
    assert site.default_flavor == "small"
    assert site.flavors["small"] == Flavor(
        name="small",
        description="One core, 2 GB",
        cpu_default=1,
        memory_default_mib=2048,
        slurm_flags=("--partition=short",),
    )
    gpu = site.flavors["gpu"]
    assert gpu.memory_default_mib == 64000
    assert gpu.uid == 1500
    assert gpu.slurm_flags == ("--gres=gpu:1", "--partition=gpu")  # trimmed, as upstream
    assert site.warnings == ()


def test_empty_file_is_the_default_site() -> None:
    assert parse_site_config(None) == DEFAULT_SITE
    assert parse_site_config({}) == DEFAULT_SITE
    assert SiteConfig() == DEFAULT_SITE


def test_defaults() -> None:
    site = DEFAULT_SITE
    assert site.sidecar_port == 4000
    assert site.sbatch_path == "sbatch"
    assert site.sinfo_path == "/usr/bin/sinfo"
    assert site.singularity_default_options == ("--nv", "--no-eval", "--containall")
    assert site.enroot_default_options == ("--rw",)
    assert site.container_runtime == "singularity"
    assert site.runtime_binary == "singularity"
    assert site.export_pod_data is True
    assert site.allow_pre_exec is True
    assert site.partition is None
    assert site.account is None
    assert site.flag_policy.allow is None
    assert site.flag_policy.deny == DEFAULT_DENY
    assert site.htcondor == HTCondorOptions()
    assert site.unicore == UnicoreOptions()
    assert dict(site.resource_table) == dict(DEFAULT_RESOURCE_TABLE)
    assert site.flavors == {}
    assert site.taints == ()


def test_null_and_empty_values_mean_default_as_in_upstream() -> None:
    site = parse_site_config(
        {
            "SbatchPath": "",
            "SingularityPath": None,
            "SingularityDefaultOptions": [],
            "Flavors": None,
            "DefaultFlavor": "",
            "Partition": "",
            "SidecarPort": "",
        }
    )
    assert site.sbatch_path == "sbatch"
    assert site.singularity_path == "singularity"
    assert site.singularity_default_options == ("--nv", "--no-eval", "--containall")
    assert site.default_flavor is None
    assert site.partition is None
    assert site.sidecar_port == 4000


@pytest.mark.parametrize(
    ("runtime", "binary", "options"),
    [
        ("singularity", "/s/singularity", ("--nv", "--no-eval", "--containall")),
        ("apptainer", "/a/apptainer", ("--nv", "--no-eval", "--containall")),
        ("enroot", "/e/enroot", ("--rw",)),
        ("podman", "/p/podman", ()),
        ("bwrap", "/b/bwrap", ()),
    ],
)
def test_runtime_binary(runtime: str, binary: str, options: tuple[str, ...]) -> None:
    site = parse_site_config(
        {
            "ContainerRuntime": runtime,
            "SingularityPath": "/s/singularity",
            "ApptainerPath": "/a/apptainer",
            "EnrootPath": "/e/enroot",
            "PodmanPath": "/p/podman",
            "BwrapPath": "/b/bwrap",
        }
    )
    assert site.runtime_binary == binary
    assert site.runtime_default_options == options


def test_our_keys() -> None:
    site = load(
        """
        AllowPreExec: false
        Partition: geant4
        Account: physics
        HTCondor: {AccountingGroup: group_physics, Universe: container,
                   ExtraCommands: {"+ProjectName": '"atlas"'}}
        Unicore: {Project: proj1, QoS: normal, Nodes: 1, Tags: [interlink, test]}
        Taints:
          - {Key: site.example/maintenance, Value: "true", Effect: NoExecute}
          - {key: other, effect: PreferNoSchedule}
          - {Key: plain}
        """
    )
    assert site.allow_pre_exec is False
    assert site.partition == "geant4"
    assert site.account == "physics"
    assert site.htcondor.accounting_group == "group_physics"
    assert site.htcondor.universe == "container"
    assert dict(site.htcondor.extra_commands) == {"+ProjectName": '"atlas"'}
    assert site.unicore.project == "proj1"
    assert site.unicore.qos == "normal"
    assert site.unicore.nodes == 1
    assert site.unicore.tags == ("interlink", "test")
    assert site.taints == (
        Taint(key="site.example/maintenance", value="true", effect="NoExecute"),
        Taint(key="other", effect="PreferNoSchedule"),
        Taint(key="plain"),
    )


def test_tsocks_is_accepted_with_a_warning() -> None:
    site = parse_site_config({"Tsocks": True})
    assert site.tsocks is True
    assert any("Tsocks" in warning for warning in site.warnings)


@pytest.mark.parametrize(
    ("memory", "mib"),
    [
        ("16G", 16384),
        ("16GB", 16384),
        ("16g", 16384),
        ("  16G  ", 16384),
        ("32000M", 32000),
        ("32000MB", 32000),
        ("1024K", 1),
        ("1024KB", 1),
        ("1T", 1024 * 1024),
        ("1Gi", 1024),
        ("512Mi", 512),
        ("1024", 1),  # bytes, rounded up
        (2**30, 1024),  # a YAML number: bytes
        ("", None),
        ("0", None),
        (None, None),
    ],
)
def test_flavor_memory(memory: object, mib: int | None) -> None:
    site = parse_site_config({"Flavors": {"f": {"MemoryDefault": memory}}})
    assert site.flavors["f"].memory_default_mib == mib


@pytest.mark.parametrize("memory", ["16X", "abcG", "1.5G", "G", "-1G", "16 G", True, [1]])
def test_flavor_memory_refused(memory: object) -> None:
    error = refused({"Flavors": {"f": {"MemoryDefault": memory}}})
    assert error.path == "Flavors.f.MemoryDefault"


def test_flavor_zero_cpu_means_unset_as_in_upstream() -> None:
    assert parse_site_config({"Flavors": {"f": {"CPUDefault": 0}}}).flavors["f"].cpu_default is None


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        ({"Flavors": {"f": {"CPUDefault": -1}}}, "Flavors.f.CPUDefault", "zero or more"),
        ({"Flavors": {"f": {"UID": -5}}}, "Flavors.f.UID", "zero or more"),
        ({"Flavors": {"f": {"Name": "g"}}}, "Flavors.f.Name", "differs"),
        ({"Flavors": {"f": {"SlurmFlags": ["partition=x"]}}}, "Flavors.f.SlurmFlags[0]", "-"),
        ({"Flavors": {"f": {"SlurmFlags": [" "]}}}, "Flavors.f.SlurmFlags[0]", "-"),
        ({"Flavors": {"f": {"SlurmFlags": ["--a\n--b"]}}}, "Flavors.f.SlurmFlags[0]", "line"),
        ({"Flavors": {"": {}}}, 'Flavors[""]', "empty"),
        ({"DefaultFlavor": "big", "Flavors": {"f": {}}}, "DefaultFlavor", "names no flavor"),
        ({"DefaultUID": -1}, "DefaultUID", "zero or more"),
        ({"ContainerRuntime": "docker"}, "ContainerRuntime", "singularity, apptainer"),
        ({"SidecarPort": 70000}, "SidecarPort", "between 1 and 65535"),
        ({"SidecarPort": "http"}, "SidecarPort", "port number"),
        ({"SidecarPort": True}, "SidecarPort", "port number"),
        ({"Taints": [{"Value": "x"}]}, "Taints[0].Key", "needs a Key"),
        ({"Taints": [{"Key": "k", "Effect": "Never"}]}, "Taints[0].Effect", "NoSchedule"),
        ({"SingularityDefaultOptions": ["--nv", ""]}, "SingularityDefaultOptions[1]", "empty"),
    ],
)
def test_meaningless_values(data: object, path: str, reason: str) -> None:
    error = refused(data)
    assert error.path == path
    assert reason in error.reason


def test_unknown_key_nested_names_its_path() -> None:
    error = refused({"Flavors": {"gpu": {"MemoryDefalt": "1G"}}})
    assert error.path == "Flavors.gpu.MemoryDefalt"
    assert error.reason.startswith("unknown key")
    assert "did you mean MemoryDefault?" in error.reason
    assert str(error) == (
        "site.yaml: Flavors.gpu.MemoryDefalt: unknown key (did you mean MemoryDefault?)"
    )


def test_unknown_key_top_level() -> None:
    error = refused({"SbatchPth": "/usr/bin/sbatch"})
    assert error.path == "SbatchPth"
    assert "did you mean SbatchPath?" in error.reason


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"FlagPolicy": {"Allow": [], "Denied": []}}, "FlagPolicy.Denied"),
        ({"HTCondor": {"Univers": "vanilla"}}, "HTCondor.Univers"),
        ({"Unicore": {"Qos": "x"}}, "Unicore.Qos"),
        (
            {"ResourceTable": {"nvidia.com/gpu": {"Slrum": []}}},
            'ResourceTable["nvidia.com/gpu"].Slrum',
        ),
        ({"Taints": [{"Key": "a", "Operator": "Exists"}]}, "Taints[0].Operator"),
        ({"slurmpath": 1}, "slurmpath"),
        ({"With space": 1}, "With space"),
    ],
)
def test_unknown_keys_everywhere(data: object, path: str) -> None:
    error = refused(data)
    assert error.path == path.replace("With space", '["With space"]')
    assert error.reason.startswith("unknown key")


@pytest.mark.parametrize(
    ("data", "path", "expected"),
    [
        ({"ExportPodData": "yes"}, "ExportPodData", "true or false"),
        ({"ExportPodData": 1}, "ExportPodData", "true or false"),
        ({"SbatchPath": 5}, "SbatchPath", "a string"),
        ({"DefaultUID": "1000"}, "DefaultUID", "an integer"),
        ({"DefaultUID": True}, "DefaultUID", "an integer"),
        ({"Flavors": ["small"]}, "Flavors", "a mapping"),
        ({"Flavors": {"f": None}}, "Flavors.f", "a mapping"),
        ({"Flavors": {"f": {"CPUDefault": 1.5}}}, "Flavors.f.CPUDefault", "an integer"),
        ({"Flavors": {"f": {"SlurmFlags": "--exclusive"}}}, "Flavors.f.SlurmFlags", "a list"),
        ({"Flavors": {"f": {"SlurmFlags": ["--a", 3]}}}, "Flavors.f.SlurmFlags[1]", "a string"),
        ({"Flavors": {7: {}}}, "Flavors.7", "keys must be strings"),
        ({"SingularityDefaultOptions": "--nv"}, "SingularityDefaultOptions", "a list"),
        ({"Taints": {"Key": "a"}}, "Taints", "a list"),
        ({"HTCondor": {"Universe": "grid"}}, "HTCondor.Universe", "vanilla, container"),
        ({"HTCondor": "vanilla"}, "HTCondor", "a mapping"),
        ({"Unicore": {"Tags": "abc"}}, "Unicore.Tags", "a list"),
        ({"Unicore": {"Nodes": "2"}}, "Unicore.Nodes", "an integer"),
        ({"FlagPolicy": ["partition"]}, "FlagPolicy", "a mapping"),
    ],
)
def test_wrong_types(data: object, path: str, expected: str) -> None:
    error = refused(data)
    assert error.path == path
    assert f"expected {expected}" in error.reason or expected in error.reason


@pytest.mark.parametrize("data", ["SbatchPath: x", ["a"], 3, True])
def test_top_level_must_be_a_mapping(data: object) -> None:
    error = refused(data)
    assert error.path == ""
    assert "expected a mapping" in error.reason


def test_several_problems_in_one_error() -> None:
    error = refused({"Bogus": 1, "ExportPodData": "yes", "Flavors": {"f": {"CPUDefault": "2"}}})
    text = str(error)
    assert "Bogus: unknown key" in text
    assert "ExportPodData" in text
    assert "Flavors.f.CPUDefault" in text


def test_resource_table_defaults() -> None:
    gpu = DEFAULT_SITE.resource_table["nvidia.com/gpu"]
    assert gpu.expand(4) == (("--gres=gpu:4",), (("request_GPUs", "4"),), (("GPUsPerNode", "4"),))
    assert DEFAULT_SITE.resource_table["amd.com/gpu"].expand(1)[0] == ("--gres=gpu:1",)
    fpga = DEFAULT_SITE.resource_table["xilinx.com/fpga"]
    assert fpga.expand(2) == (("--gres=fpga:2",), (("request_FPGA", "2"),), ())


def test_resource_table_merge_replaces_per_resource() -> None:
    site = load(
        """
        ResourceTable:
          nvidia.com/gpu: {Slurm: ["--gres=gpu:a100:{n}", "--constraint=a100"]}
          example.org/qpu:
            Slurm: ["--gres=qpu:{n}"]
            HTCondor: {request_QPUs: "{n}", "+WantQPU": true_is_not_a_bool}
            Unicore: {QPUs: 3}
        """
    )
    table = site.resource_table
    # Replaced whole: the site gave Slurm only, so HTCondor and UNICORE are empty now.
    assert table["nvidia.com/gpu"] == ResourceMapping(
        resource="nvidia.com/gpu", slurm=("--gres=gpu:a100:{n}", "--constraint=a100")
    )
    # Untouched defaults stay.
    assert table["amd.com/gpu"] == DEFAULT_RESOURCE_TABLE["amd.com/gpu"]
    assert table["xilinx.com/fpga"] == DEFAULT_RESOURCE_TABLE["xilinx.com/fpga"]
    slurm, htcondor, unicore = table["example.org/qpu"].expand(2)
    assert slurm == ("--gres=qpu:2",)
    assert htcondor == (("request_QPUs", "2"), ("+WantQPU", "true_is_not_a_bool"))
    assert unicore == (("QPUs", "3"),)


def test_expand_only_replaces_the_count() -> None:
    mapping = ResourceMapping(
        resource="x/y",
        slurm=("--gres=y:{n}",),
        htcondor=(("requirements", 'member("y", {"a", "b"}) && Ys >= {n}'),),
    )
    _, htcondor, _ = mapping.expand(3)
    assert htcondor == (("requirements", 'member("y", {"a", "b"}) && Ys >= 3'),)
    assert mapping.accelerator(3) == Accelerator(
        resource="x/y", count=3, slurm=("--gres=y:3",), htcondor=htcondor
    )


@pytest.mark.parametrize(
    ("table", "path"),
    [
        ({"not a name": {}}, 'ResourceTable["not a name"]'),
        ({"x/y": {"Slurm": ["gres=y:{n}"]}}, 'ResourceTable["x/y"].Slurm[0]'),
        ({"x/y": {"Slurm": ["--gres=y:{n}\n#SBATCH --uid=0"]}}, 'ResourceTable["x/y"].Slurm[0]'),
        (
            {"x/y": {"HTCondor": {"request GPUs": "{n}"}}},
            'ResourceTable["x/y"].HTCondor["request GPUs"]',
        ),
        (
            {"x/y": {"HTCondor": {"request_Y": "{n}\nqueue 10"}}},
            'ResourceTable["x/y"].HTCondor.request_Y',
        ),
        ({"x/y": {"HTCondor": {"request_Y": False}}}, 'ResourceTable["x/y"].HTCondor.request_Y'),
        ({"x/y": {"Unicore": {"Y": [1]}}}, 'ResourceTable["x/y"].Unicore.Y'),
        ({"x/y": {"Unicore": {"": "1"}}}, 'ResourceTable["x/y"].Unicore[""]'),
    ],
)
def test_resource_table_refused(table: object, path: str) -> None:
    assert refused({"ResourceTable": table}).path == path


def test_flag_policy_deny_adds_to_the_default() -> None:
    site = parse_site_config({"FlagPolicy": {"Deny": ["--exclusive", "-p"]}})
    policy = site.flag_policy
    assert policy.allow is None
    assert policy.deny >= DEFAULT_DENY
    assert {"exclusive", "partition"} <= policy.deny
    with pytest.raises(PolicyError):
        policy.check(SlurmOption(name="partition", value="x"), path="flags")
    with pytest.raises(PolicyError):
        policy.check(SlurmOption(name="uid", value="0"), path="flags")
    policy.check(SlurmOption(name="time", value="10"), path="flags")


def test_flag_policy_allow_is_the_only_list() -> None:
    policy = parse_site_config({"FlagPolicy": {"Allow": ["time", "--mem", "-c"]}}).flag_policy
    assert policy.allow == frozenset({"time", "mem", "cpus-per-task"})
    policy.check(SlurmOption(name="time", value="10"), path="flags")
    with pytest.raises(PolicyError):
        policy.check(SlurmOption(name="partition", value="x"), path="flags")
    # The default deny still wins over an allow-list.
    assert parse_site_config({"FlagPolicy": {"Allow": ["uid"]}}).flag_policy.deny >= {"uid"}


@pytest.mark.parametrize("name", ["", "--", "a b", "time\n"])
def test_flag_policy_names_refused(name: str) -> None:
    assert refused({"FlagPolicy": {"Deny": [name]}}).path == "FlagPolicy.Deny[0]"


def test_site_config_is_a_frozen_hashable_value() -> None:
    site = load(UPSTREAM_EXAMPLE)
    assert site == load(UPSTREAM_EXAMPLE)
    assert hash(site) == hash(load(UPSTREAM_EXAMPLE))
    with pytest.raises(AttributeError):
        site.sbatch_path = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        site.flavors["new"] = Flavor(name="new")  # type: ignore[index]


# Arbitrary YAML-like data: parse returns a value or raises ConfigError, nothing else. The keys
# include real ones, so the strategy also reaches nested documents.
_KEYS = st.sampled_from(
    [
        "Flavors", "CPUDefault", "MemoryDefault", "SlurmFlags", "UID", "Name", "Taints", "Key",
        "Effect", "ResourceTable", "Slurm", "HTCondor", "Unicore", "FlagPolicy", "Allow", "Deny",
        "SidecarPort", "ContainerRuntime", "DefaultFlavor", "ExportPodData", "Tags", "Universe",
        "ExtraCommands", "Nodes", "nvidia.com/gpu", "gpu", "SingularityDefaultOptions",
    ]
) | st.text(max_size=8)  # fmt: skip
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
)
_DATA = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_DATA)
def test_parse_is_total(data: object) -> None:
    try:
        site = parse_site_config(data, source="fuzz.yaml")
    except ConfigError as error:
        assert error.source == "fuzz.yaml"
    else:
        assert isinstance(site, SiteConfig)


@given(st.dictionaries(_KEYS, _DATA, max_size=6))
def test_parse_is_total_on_mappings(data: dict[object, object]) -> None:
    try:
        site = parse_site_config(data)
    except ConfigError as error:
        assert error.reason
    else:
        assert isinstance(site, SiteConfig)
