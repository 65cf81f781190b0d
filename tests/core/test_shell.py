"""Shell quoting: every string without NUL comes back from a real shell exactly as it was."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyinterlink.core._shell import quote, quote_words

from tests.real import needs_program

BASH = shutil.which("bash")
SH = shutil.which("sh")

no_nul_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=40)


@pytest.mark.parametrize(
    ("word", "quoted"),
    [
        ("plain", "plain"),
        ("--bind=/a/b:/c:ro", "--bind=/a/b:/c:ro"),
        ("user@host,1%", "user@host,1%"),
        ("", "''"),
        ("two words", "'two words'"),
        ("it's", "'it'\\''s'"),
        ("$(reboot)", "'$(reboot)'"),
        ("`id`", "'`id`'"),
        ("a;b", "'a;b'"),
        ("line\nbreak", "'line\nbreak'"),
        ("~user", "'~user'"),
        ("*", "'*'"),
        ("caf\u00e9", "'caf\u00e9'"),
        # At the start of a command this would be an assignment, not a word.
        ("NAME=value", "'NAME=value'"),
    ],
)
def test_quote(word: str, quoted: str) -> None:
    assert quote(word) == quoted


def test_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote("a\0b")
    with pytest.raises(ValueError, match="NUL"):
        quote("a" * 1000 + "\0")


INERT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-"


@given(st.text(alphabet=st.sampled_from([*INERT, "~", " ", "'", "$", "\u00e9"]), max_size=12))
def test_a_word_stays_bare_exactly_when_every_character_is_inert_and_it_is_no_assignment(
    word: str,
) -> None:
    name, equals, _ = word.partition("=")
    assignment = bool(equals) and name.isidentifier() and name.isascii()
    bare = bool(word) and all(char in INERT for char in word) and not assignment
    assert (quote(word) == word) == bare


def test_long_words_are_quoted_like_short_ones() -> None:
    assert quote("--x" * 100) == "--x" * 100
    assert quote("a b" * 100) == "'" + "a b" * 100 + "'"
    assert quote("N=" * 200) == "'" + "N=" * 200 + "'"
    assert quote("'" * 300) == "'" + "'\\''" * 300 + "'"


def test_quote_words_joins_quoted_words() -> None:
    assert quote_words(["echo", "a b", ""]) == "echo 'a b' ''"


@given(no_nul_text)
def test_posix_splitting_gives_back_the_word(word: str) -> None:
    assert shlex.split(quote(word)) == [word]


def _echo_back(shell: str, words: list[str]) -> list[str]:
    script = "printf '%s\\0' " + quote_words(words)
    result = subprocess.run([shell, "-c", script], capture_output=True, check=True)
    return result.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


@needs_program("bash", "it is part of every Debian system")
@settings(max_examples=40, deadline=None)
@given(st.lists(no_nul_text, min_size=1, max_size=20))
def test_bash_reads_every_word_back_exactly(words: list[str]) -> None:
    assert BASH is not None
    assert _echo_back(BASH, words) == words


@needs_program("sh", "it is part of every Debian system")
@settings(max_examples=20, deadline=None)
@given(st.lists(no_nul_text, min_size=1, max_size=20))
def test_posix_sh_reads_every_word_back_exactly(words: list[str]) -> None:
    assert SH is not None
    assert _echo_back(SH, words) == words


@needs_program("bash", "it is part of every Debian system")
def test_a_quoted_assignment_is_a_command_name_not_an_assignment() -> None:
    assert BASH is not None
    result = subprocess.run(
        [BASH, "-c", quote("PYINTERLINK_X=1") + '; echo "[$PYINTERLINK_X]"'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout == "[]\n"
    assert "command not found" in result.stderr
