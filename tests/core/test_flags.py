"""sbatch options: word splitting, option grouping, site policy and merging."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyinterlink.core._errors import AnnotationError, PolicyError
from pyinterlink.core._flags import (
    DEFAULT_DENY,
    FlagPolicy,
    canonical_option_name,
    merge_options,
    parse_sbatch_options,
    split_flags,
)
from pyinterlink.core._job import SlurmOption

from tests.real import needs_program

PATH = 'metadata.annotations["slurm-job.vk.io/flags"]'


def parse(text: str) -> tuple[SlurmOption, ...]:
    return parse_sbatch_options(split_flags(text, path=PATH), path=PATH)


def opt(name: str, value: str | None = None) -> SlurmOption:
    return SlurmOption(name=name, value=value)


# --- split_flags -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ()),
        ("   \n\t ", ()),
        ("--gres=gpu:4 --job-name test", ("--gres=gpu:4", "--job-name", "test")),
        ('--comment "a b"', ("--comment", "a b")),
        ("--comment 'a b'", ("--comment", "a b")),
        ("a\\ b", ("a b",)),
        ("-p\ngeant4\n", ("-p", "geant4")),
        ("''", ("",)),
        ('""', ("",)),
        ("a''b", ("ab",)),
        ("'it'\\''s'", ("it's",)),
        # Nothing is expanded: variables, command substitution, globs, tildes, comments.
        ("$HOME `id` $(id) *.txt ~ #x", ("$HOME", "`id`", "$(id)", "*.txt", "~", "#x")),
        ("a;b|c&d>e", ("a;b|c&d>e",)),
        # Inside double quotes a backslash only escapes " \ $ ` and newline.
        ('"\\"\\\\\\$\\`"', ('"\\$`',)),
        ('"\\n\\a"', ("\\n\\a",)),
        ('"a\\\nb"', ("ab",)),
        # Inside single quotes nothing is special.
        ("'a\\b\"c'", ('a\\b"c',)),
        # Backslash-newline outside quotes joins lines without splitting the word.
        ("ab\\\ncd ef", ("abcd", "ef")),
        ("a \\\n b", ("a", "b")),
        ('x"a b"y', ("xa by",)),
    ],
)
def test_split_flags_follows_posix_quoting(text: str, words: tuple[str, ...]) -> None:
    assert split_flags(text, path=PATH) == words


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("--comment 'abc", "single quote at character 11 is never closed"),
        ('--comment "abc', "double quote at character 11 is never closed"),
        ('"abc\\"', "double quote at character 1 is never closed"),
        ("abc\\", "backslash at character 4"),
        ("a\0b", "NUL character at character 2"),
    ],
)
def test_split_flags_errors_name_path_and_position(text: str, fragment: str) -> None:
    with pytest.raises(AnnotationError) as info:
        split_flags(text, path=PATH)
    assert fragment in info.value.reason
    assert info.value.path == PATH


words = st.lists(st.text(st.characters(exclude_characters="\0"), max_size=12), max_size=8)


@given(words)
def test_split_flags_inverts_shlex_quote(items: list[str]) -> None:
    assert split_flags(" ".join(shlex.quote(w) for w in items), path=PATH) == tuple(items)


@given(st.text(max_size=60))
def test_split_flags_is_total(text: str) -> None:
    try:
        result = split_flags(text, path=PATH)
    except AnnotationError as error:
        assert error.path == PATH
    else:
        assert all(isinstance(word, str) for word in result)


# Characters whose meaning bash and split_flags share when nothing may expand (no $, `, globs,
# ~, #, operators): a differential check of the quoting rules against a real shell.
SHELL_ALPHABET = "ab -:'\"\\\n\t"


BASH = shutil.which("bash")


@needs_program("bash", "it is part of every Debian system")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(SHELL_ALPHABET, max_size=14))
def test_split_flags_agrees_with_bash(text: str) -> None:
    assert BASH is not None
    # An array assignment lets newlines separate words, as they do in an annotation.
    script = f"set -f\nwords=( {text}\n)\nprintf '%s\\0' START \"${{words[@]}}\""
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", script],
        capture_output=True,
        check=False,
    )
    try:
        ours = split_flags(text, path=PATH)
    except AnnotationError as error:
        # A shell would read on past a final backslash; an annotation has nothing after it.
        assert done.returncode != 0 or "ends the text" in error.reason
        return
    assert done.returncode == 0, done.stderr
    theirs = done.stdout.decode().split("\0")[1:-1]
    assert ours == tuple(theirs)


# --- parse_sbatch_options ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "options"),
    [
        (
            "--gres=gpu:4 --job-name test --time=20:00:00",
            (opt("gres", "gpu:4"), opt("job-name", "test"), opt("time", "20:00:00")),
        ),
        ("-p geant4", (opt("partition", "geant4"),)),
        ("-pgeant4", (opt("partition", "geant4"),)),
        ("--partition geant4", (opt("partition", "geant4"),)),
        ("--part=geant4", (opt("partition", "geant4"),)),
        ("--time 01:00:00", (opt("time", "01:00:00"),)),
        ("-t 1:00:00", (opt("time", "1:00:00"),)),
        ('--comment "a b"', (opt("comment", "a b"),)),
        ("--comment=", (opt("comment", ""),)),
        (
            "--exclusive --requeue --no-requeue",
            (opt("exclusive"), opt("requeue"), opt("no-requeue")),
        ),
        ("--exclusive=user", (opt("exclusive", "user"),)),
        ("-Q", (opt("quiet"),)),
        ("-Hp geant4", (opt("hold"), opt("partition", "geant4"))),
        ("-Opx", (opt("overcommit"), opt("partition", "x"))),
        ("-k", (opt("no-kill"),)),
        ("-kno", (opt("no-kill", "no"),)),
        ("--nice", (opt("nice"),)),
        ("--nice=5", (opt("nice", "5"),)),
        # getopt takes the next word as a required value whatever it looks like.
        ("--comment -x", (opt("comment", "-x"),)),
        (
            "-A proj -N 2 -n 8 -c 4 -G 1 -C ssd",
            (
                opt("account", "proj"),
                opt("nodes", "2"),
                opt("ntasks", "8"),
                opt("cpus-per-task", "4"),
                opt("gpus", "1"),
                opt("constraint", "ssd"),
            ),
        ),
        ("--cluster=a --tasks-per-node=2", (opt("clusters", "a"), opt("ntasks-per-node", "2"))),
        # Options sbatch does not know (newer Slurm, SPANK plugins) are kept as given.
        ("--new-thing --new-thing=1", (opt("new-thing"), opt("new-thing", "1"))),
        ("--time=1 --time=2", (opt("time", "1"), opt("time", "2"))),
    ],
)
def test_parse_groups_options_with_values(text: str, options: tuple[SlurmOption, ...]) -> None:
    assert parse(text) == options


def test_parsed_options_render_as_sbatch_lines() -> None:
    assert [o.text for o in parse("-p geant4 --exclusive -t 1:00")] == [
        "--partition=geant4",
        "--exclusive",
        "--time=1:00",
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("geant4", "word 1 ('geant4') is not an sbatch option"),
        ("-p geant4 extra", "word 3 ('extra') is not an sbatch option"),
        ("--comment a b", "word 3 ('b') is not an sbatch option"),
        ("--new-thing value", "--new-thing=value"),
        ("--exclusive user", "word 2 ('user') is not an sbatch option"),
        ("''", "word 1 ('') is not an sbatch option"),
        ("-", "is not an sbatch option"),
        ("--", "is not an sbatch option"),
        ("--time", "option --time needs a value"),
        ("-p", "option -p (--partition) needs a value"),
        ("--requeue=yes", "option --requeue takes no value"),
        ("-Z", "sbatch has no option -Z"),
        ("-Hz", "sbatch has no option -z"),
        ("--gre=gpu:1", "option --gre is ambiguous: it could be --gres, --gres-flags"),
        ("--no=1", "is ambiguous"),
        ("--$(id)", "is not a valid sbatch option name"),
        ("'--comment=a\nb'", "the value of --comment contains a newline"),
        ("--comment 'a\nb'", "the value of --comment contains a newline"),
        ("'-pa\rb'", "the value of -p contains a carriage return"),
        ("'--new=a\nb'", "the value of --new contains a newline"),
    ],
)
def test_parse_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(AnnotationError) as info:
        parse(text)
    assert fragment in info.value.reason
    assert info.value.path == PATH


def test_nul_in_a_value_is_refused() -> None:
    with pytest.raises(AnnotationError, match="NUL"):
        parse_sbatch_options(["--comment", "a\0b"], path=PATH)


@given(st.lists(st.text(max_size=12), max_size=8))
def test_parse_is_total(tokens: list[str]) -> None:
    try:
        result = parse_sbatch_options(tokens, path=PATH)
    except AnnotationError as error:
        assert error.path == PATH
    else:
        assert all(isinstance(o, SlurmOption) for o in result)


@given(st.text(max_size=60))
def test_split_then_parse_is_total(text: str) -> None:
    try:
        parse(text)
    except AnnotationError as error:
        assert error.path == PATH


# Options as parsing produces them: known names under their canonical spelling with a value
# when they may take one, and unknown names with an attached value or none.
_KNOWN = ["partition", "time", "gres", "comment", "exclusive", "requeue", "nice", "mem"]
_ARITY = {"partition": "r", "time": "r", "gres": "r", "comment": "r", "mem": "r",
          "exclusive": "o", "nice": "o", "requeue": "n"}  # fmt: skip
values = st.text(st.characters(exclude_characters="\n\r\0"), max_size=10)


@st.composite
def parsed_options(draw: st.DrawFn) -> SlurmOption:
    name = draw(st.sampled_from([*_KNOWN, "new-thing", "x-y_z"]))
    arity = _ARITY.get(name, "o")
    if arity == "n":
        return opt(name)
    if arity == "r":
        return opt(name, draw(values))
    return opt(name, draw(st.none() | values))


@given(st.lists(parsed_options(), max_size=8))
def test_rendering_quoted_and_reparsing_is_stable(options: list[SlurmOption]) -> None:
    text = " ".join(shlex.quote(o.text) for o in options)
    assert parse(text) == tuple(options)


# --- canonical_option_name ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "name"),
    [
        ("-p", "partition"),
        ("-pgeant4", "partition"),
        ("--mem", "mem"),
        ("--partition=x", "partition"),
        ("--part", "partition"),
        ("--out", "output"),
        ("--cluster", "clusters"),
        ("-M", "clusters"),
        ("--tasks-per-node", "ntasks-per-node"),
        ("job-name", "job-name"),
        ("J", "job-name"),
        ("--new-thing=1", "new-thing"),
        ("--gre", "gre"),  # ambiguous: left as written
        ("-Z", "Z"),
        ("", ""),
    ],
)
def test_canonical_option_name(token: str, name: str) -> None:
    assert canonical_option_name(token) == name


@given(st.text(max_size=20))
def test_canonical_option_name_never_raises(token: str) -> None:
    assert isinstance(canonical_option_name(token), str)


# --- FlagPolicy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "--job-name x",
        "-J x",
        "-Jx",
        "--job=x",
        "--output=/tmp/x",
        "-o x",
        "--out=x",
        "--uid=0",
        "--chdir=/",
        "-D /",
        "-e err",
        "--array=1-10",
        "--wait",
        "-W",
        "--parsable",
        "-Q",
        "--test-only",
        "--wrap=id",
        "--cluster=other",
        "-Hv -J x",
    ],
)
def test_default_policy_refuses_options_that_break_tracking(text: str) -> None:
    policy = FlagPolicy()
    with pytest.raises(PolicyError) as info:
        for option in parse(text):
            policy.check(option, path=PATH)
    assert "is refused by the site policy" in info.value.reason
    assert info.value.path == PATH


def test_refusal_names_the_canonical_option_and_why() -> None:
    with pytest.raises(PolicyError) as info:
        FlagPolicy().check(opt("job-name", "x"), path=PATH)
    assert info.value.reason == (
        "sbatch option --job-name is refused by the site policy "
        "(the job name is the pod UID, which tracking relies on)"
    )


def test_default_policy_lets_ordinary_options_pass() -> None:
    policy = FlagPolicy()
    for option in parse("-p geant4 --gres=gpu:4 --time=20:00:00 --exclusive --requeue --hold"):
        policy.check(option, path=PATH)


def test_allow_list_lets_only_its_options_pass() -> None:
    policy = FlagPolicy(allow=frozenset({"-p", "--time", "gres"}))
    assert policy.allow == frozenset({"partition", "time", "gres"})
    for option in parse("-p geant4 --time=1:00 --gres=gpu:1"):
        policy.check(option, path=PATH)
    with pytest.raises(PolicyError, match="not in the site's allow-list"):
        policy.check(opt("exclusive"), path=PATH)


def test_deny_wins_over_allow() -> None:
    policy = FlagPolicy(allow=frozenset({"job-name", "partition"}))
    with pytest.raises(PolicyError, match="--job-name"):
        policy.check(opt("job-name", "x"), path=PATH)


def test_a_site_can_lift_a_default_refusal() -> None:
    policy = FlagPolicy(deny=DEFAULT_DENY - {"quiet"})
    policy.check(opt("quiet"), path=PATH)
    with pytest.raises(PolicyError):
        policy.check(opt("output", "x"), path=PATH)


def test_policy_compares_canonical_names_of_options_built_by_hand() -> None:
    with pytest.raises(PolicyError, match="--output"):
        FlagPolicy().check(opt("out", "x"), path=PATH)


def test_custom_deny_is_normalised() -> None:
    policy = FlagPolicy(deny=frozenset({"-p", "--mail-user"}))
    assert policy.deny == frozenset({"partition", "mail-user"})
    with pytest.raises(PolicyError, match="denied by the site"):
        policy.check(opt("partition", "x"), path=PATH)


def test_default_deny_holds_the_tracking_options() -> None:
    assert {"uid", "output", "chdir", "job-name", "error"} <= DEFAULT_DENY


# --- merge_options -----------------------------------------------------------------------


def test_merge_keeps_first_position_and_last_value() -> None:
    flavor = parse("--partition=cpu --time=01:00:00 --constraint=ssd")
    annotation = parse("--time 04:00:00 -p gpu --gres=gpu:1")
    assert merge_options(flavor, annotation) == (
        opt("partition", "gpu"),
        opt("time", "04:00:00"),
        opt("constraint", "ssd"),
        opt("gres", "gpu:1"),
    )


def test_merge_deduplicates_within_a_layer() -> None:
    assert merge_options(parse("--time=1 -t 2 --exclusive --exclusive=user")) == (
        opt("time", "2"),
        opt("exclusive", "user"),
    )


def test_merge_canonicalises_hand_built_names() -> None:
    assert merge_options([opt("p", "a")], [opt("partition", "b")]) == (opt("partition", "b"),)


def test_merge_of_nothing_is_empty() -> None:
    assert merge_options() == ()
    assert merge_options([], []) == ()


option_lists = st.lists(parsed_options(), max_size=8)


@given(st.lists(option_lists, max_size=4))
def test_merge_is_idempotent_and_keeps_one_option_per_name(layers: list[list[SlurmOption]]) -> None:
    merged = merge_options(*layers)
    assert merge_options(merged) == merged
    assert merge_options(*layers, merged) == merged
    names = [o.name for o in merged]
    assert len(names) == len(set(names))
    everything = [o for layer in layers for o in layer]
    assert set(names) == {o.name for o in everything}
    for option in merged:
        assert option == [o for o in everything if o.name == option.name][-1]
