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

import functools
import re

__all__ = ["quote", "quote_words"]

# A word that can stay bare: only characters that mean nothing to the shell in any position
# of a word, and not shaped like an assignment. ``=`` is inert inside an argument but not at
# the start of a command, where ``NAME=...`` is an assignment, so such words are quoted.
# ``~`` is left out: it expands at the start of a word and after ``:`` in assignments.
# One pattern, so that the common case (a bare word) costs a single match: a script quotes a
# few dozen words.
_BARE_WORD = re.compile(r"(?![A-Za-z_][A-Za-z0-9_]*=)[A-Za-z0-9_@%+=:,./-]+")

# Most words of a script come back pod after pod (runtime binaries and options, images,
# commands, flags), and a script quotes dozens: remembering short ones makes them a dictionary
# look-up instead of a pattern match. Long words are not kept, so that the cache stays small
# (at most _CACHED_WORDS * _CACHED_LENGTH characters) whatever the pods hold.
_CACHED_LENGTH = 256
_CACHED_WORDS = 1024


def quote(word: str) -> str:
    """Quote ``word`` so that a POSIX shell reads it back as exactly one word, unchanged.

    Words made only of inert characters (``--bind``, ``/data/x:ro``) are returned as they are,
    which keeps generated scripts readable; everything else is single-quoted. The empty string
    becomes ``''``. Raises :class:`ValueError` if ``word`` contains NUL, which no shell word can
    hold: callers are expected to have refused such input earlier.
    """
    if len(word) <= _CACHED_LENGTH:
        return _quote_short(word)
    return _quote(word)


def _quote(word: str) -> str:
    if _BARE_WORD.fullmatch(word):
        return word
    if "\0" in word:
        raise ValueError("a shell word cannot contain NUL")
    if not word:
        return "''"
    return "'" + word.replace("'", "'\\''") + "'"


_quote_short = functools.lru_cache(maxsize=_CACHED_WORDS)(_quote)


def quote_words(words: tuple[str, ...] | list[str]) -> str:
    """Quote each word with :func:`quote` and join them with single spaces."""
    return " ".join(quote(word) for word in words)
