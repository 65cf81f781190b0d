"""POSIX shell quoting: the one filter every value goes through before it reaches a shell.

Theory of operation: a word is either left bare, when every character in it is inert in every
shell context it can appear in, or wrapped in single quotes. Inside single quotes a POSIX shell
gives no character a meaning except the closing quote itself, so the only transformation needed
is to end the quoted run, write an escaped quote and reopen it (``'\\''``). That rule holds for
newlines, ``$``, backticks, backslashes, globbing characters and any Unicode text alike, and the
same quoted text is read back identically by bash, dash and busybox sh.

NUL is the one character no shell word (and no ``execve`` argument) can carry, so it is refused.
"""

from __future__ import annotations

import re

__all__ = ["quote", "quote_words"]

# Characters that mean nothing to the shell in any position of a word. ``=`` is inert inside
# an argument but not at the start of a command, where ``NAME=...`` is an assignment, so words
# that look like assignments are quoted (see below). ``~`` is left out: it expands at the start
# of a word and after ``:`` in assignments.
_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def quote(word: str) -> str:
    """Quote ``word`` so that a POSIX shell reads it back as exactly one word, unchanged.

    Words made only of inert characters (``--bind``, ``/data/x:ro``) are returned as they are,
    which keeps generated scripts readable; everything else is single-quoted. The empty string
    becomes ``''``. Raises :class:`ValueError` if ``word`` contains NUL, which no shell word can
    hold: callers are expected to have refused such input earlier.
    """
    if "\0" in word:
        raise ValueError("a shell word cannot contain NUL")
    if not word:
        return "''"
    if _BARE.fullmatch(word) and not _ASSIGNMENT.match(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def quote_words(words: tuple[str, ...] | list[str]) -> str:
    """Quote each word with :func:`quote` and join them with single spaces."""
    return " ".join(quote(word) for word in words)
