"""sbatch options from annotations and flavors: tokenizing, grouping, policy, merging.

Theory of operation: an annotation such as ``slurm-job.vk.io/flags: "-p geant4 --time 1:00:00"``
goes through pure steps. :func:`split_flags` cuts the text into words with POSIX shell quoting
and expands nothing; :func:`parse_sbatch_options` groups each option with its value the way
sbatch's own ``getopt_long`` would, using sbatch's option table, so that every option ends up
under its *canonical* long name (``-p``, ``-pgeant4``, ``--part=geant4`` and
``--partition geant4`` are all ``partition``); :class:`FlagPolicy` refuses what the site
forbids; :func:`merge_options` folds the layers (site flavor, then annotation) into one option
per name.

Canonical names are what makes the policy hold: sbatch accepts any unambiguous prefix of a long
option (``--out=x`` is ``--output=x``) and clustered short options (``-QJx`` is ``-Q -J x``), so
a deny list that compared spellings could be walked around. Everything here compares canonical
names only.

The option table below is sbatch's (Slurm ``src/common/slurm_opt.c``: the options that have a
generic or an sbatch-specific handler, with their ``has_arg`` and short letter). Options sbatch
does not know are kept as given, since a site may run a newer Slurm or SPANK plugins that add
options; their value must then be attached with ``=`` because nothing says whether they take one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

from ._errors import AnnotationError, PolicyError
from ._job import SlurmOption

__all__ = [
    "DEFAULT_DENY",
    "FlagPolicy",
    "canonical_option_name",
    "merge_options",
    "parse_sbatch_options",
    "split_flags",
]

Arity = Literal["none", "required", "optional"]

# canonical long name -> (has_arg, short letter); from Slurm src/common/slurm_opt.c, keeping
# the options sbatch registers (a generic set_func or a set_func_sbatch, and a name).
_SBATCH_OPTIONS: dict[str, tuple[Arity, str | None]] = {
    "account": ("required", "A"),
    "acctg-freq": ("required", None),
    "array": ("required", "a"),
    "autocomplete": ("required", None),
    "batch": ("required", None),
    "bb": ("required", None),
    "bbf": ("required", None),
    "begin": ("required", "b"),
    "chdir": ("required", "D"),
    "cluster-constraint": ("required", None),
    "clusters": ("required", "M"),
    "comment": ("required", None),
    "constraint": ("required", "C"),
    "container": ("required", None),
    "container-id": ("required", None),
    "context": ("required", None),
    "contiguous": ("none", None),
    "core-spec": ("required", "S"),
    "cores-per-socket": ("required", None),
    "cpu-freq": ("required", None),
    "cpus-per-gpu": ("required", None),
    "cpus-per-task": ("required", "c"),
    "deadline": ("required", None),
    "delay-boot": ("required", None),
    "dependency": ("required", "d"),
    "distribution": ("required", "m"),
    "error": ("required", "e"),
    "exclude": ("required", "x"),
    "exclusive": ("optional", None),
    "export": ("required", None),
    "export-file": ("required", None),
    "extra": ("required", None),
    "extra-node-info": ("required", "B"),
    "get-user-env": ("optional", None),
    "gid": ("required", None),
    "gpu-bind": ("required", None),
    "gpu-freq": ("required", None),
    "gpus": ("required", "G"),
    "gpus-per-node": ("required", None),
    "gpus-per-socket": ("required", None),
    "gpus-per-task": ("required", None),
    "gres": ("required", None),
    "gres-flags": ("required", None),
    "help": ("none", "h"),
    "hint": ("required", None),
    "hold": ("none", "H"),
    "ignore-pbs": ("none", None),
    "input": ("required", "i"),
    "job-name": ("required", "J"),
    "kill-on-invalid-dep": ("required", None),
    "licenses": ("required", "L"),
    "mail-type": ("required", None),
    "mail-user": ("required", None),
    "mcs-label": ("required", None),
    "mem": ("required", None),
    "mem-bind": ("required", None),
    "mem-per-cpu": ("required", None),
    "mem-per-gpu": ("required", None),
    "mincpus": ("required", None),
    "network": ("required", None),
    "nice": ("optional", None),
    "no-kill": ("optional", "k"),
    "no-requeue": ("none", None),
    "nodefile": ("required", "F"),
    "nodelist": ("required", "w"),
    "nodes": ("required", "N"),
    "ntasks": ("required", "n"),
    "ntasks-per-core": ("required", None),
    "ntasks-per-gpu": ("required", None),
    "ntasks-per-node": ("required", None),
    "ntasks-per-socket": ("required", None),
    "ntasks-per-tres": ("required", None),
    "open-mode": ("required", None),
    "output": ("required", "o"),
    "overcommit": ("none", "O"),
    "oversubscribe": ("none", "s"),
    "parsable": ("none", None),
    "partition": ("required", "p"),
    "prefer": ("required", None),
    "priority": ("required", None),
    "profile": ("required", None),
    "propagate": ("optional", None),
    "qos": ("required", "q"),
    "quiet": ("none", "Q"),
    "reboot": ("none", None),
    "requeue": ("none", None),
    "reservation": ("required", None),
    "segment": ("required", None),
    "signal": ("required", None),
    "sockets-per-node": ("required", None),
    "spread-job": ("none", None),
    "stepmgr": ("none", None),
    "switches": ("required", None),
    "test-only": ("none", None),
    "thread-spec": ("required", None),
    "threads-per-core": ("required", None),
    "time": ("required", "t"),
    "time-min": ("required", None),
    "tmp": ("required", None),
    "tres-bind": ("required", None),
    "tres-per-task": ("required", None),
    "uid": ("required", None),
    "usage": ("none", None),
    "use-min-nodes": ("none", None),
    "verbose": ("none", "v"),
    "version": ("none", "V"),
    "wait": ("none", "W"),
    "wait-all-nodes": ("required", None),
    "wckey": ("required", None),
    "wrap": ("required", None),
}

# Second spellings sbatch registers for the same setting (slurm_opt.c: "--clusters and
# --cluster are equivalent"; --tasks-per-node is the deprecated form of --ntasks-per-node).
_ALIASES: dict[str, str] = {"cluster": "clusters", "tasks-per-node": "ntasks-per-node"}

# Every long spelling getopt_long matches against, exact names and aliases alike.
_LONG: dict[str, str] = {name: name for name in _SBATCH_OPTIONS} | _ALIASES
_SHORT: dict[str, str] = {
    short: name for name, (_, short) in _SBATCH_OPTIONS.items() if short is not None
}

# Why each option is refused unless a site explicitly lifts it. Each would break how
# pyinterlink finds, names, watches or reads back the job, or would stop sbatch from
# submitting it. Deliberately *not* here: --open-mode (only changes whether job.out is
# truncated on a requeue), --requeue/--no-requeue and --hold (the job id stays the same, the
# pod just waits), --input (read by the job itself, which can read that file anyway).
_DENY_REASONS: dict[str, str] = {
    # The job name is the pod UID: idempotent create and re-adoption look jobs up by it.
    "job-name": "the job name is the pod UID, which tracking relies on",
    # Running as someone else escapes the site's identity mapping and hides the job.
    "uid": "the job must run as the submitting user",
    "gid": "the job must run with the submitting user's group",
    # job.out in the pod working directory is where the batch output is read back from.
    "output": "the batch output must go to job.out in the pod directory",
    "error": "the batch error stream must go to job.out in the pod directory",
    # Every relative path of the job (configMaps/, emptyDirs/, *.status) hangs off the workdir.
    "chdir": "the job runs in the pod's working directory",
    # An array is many jobs under one submission; a pod is tracked as exactly one job.
    "array": "a pod is tracked as exactly one job",
    # Another cluster's job is invisible to the squeue/scancel we run.
    "clusters": "the job must stay on the cluster that is polled",
    # The job id is learned from sbatch's "Submitted batch job N" line; these change or
    # suppress it (sbatch prints nothing at all when quiet).
    "parsable": "the job id is read from sbatch's normal output",
    "quiet": "the job id is read from sbatch's normal output",
    # sbatch would block until the job ends, holding the create request hostage.
    "wait": "submission must return as soon as the job is queued",
    # These make sbatch exit without submitting, or submit something other than our script.
    "test-only": "the job would not be submitted",
    "wrap": "the job script is generated by pyinterlink",
    "help": "the job would not be submitted",
    "usage": "the job would not be submitted",
    "version": "the job would not be submitted",
    "autocomplete": "the job would not be submitted",
}

DEFAULT_DENY: frozenset[str] = frozenset(_DENY_REASONS)
"""Canonical option names refused by default: each would break job tracking or submission."""

# What an option sbatch does not know may be called: it ends up on an #SBATCH line.
_UNKNOWN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# Characters that cannot be written inside one #SBATCH line.
_LINE_BREAKERS = ("\n", "\r", "\0")


# Called for every option of every pod (policy, merging); the option table is fixed.
@functools.lru_cache(maxsize=1024)
def canonical_option_name(token: str) -> str:
    """The canonical long name of an sbatch option spelling: ``-p`` -> ``partition``.

    Accepts ``-p``, ``-pgeant4``, ``--partition``, ``--part`` (sbatch takes unambiguous
    prefixes), ``--partition=x``, ``--cluster`` (an alias, -> ``clusters``) and a bare name
    (``partition``, or a bare letter ``p`` for a short option), the last two being how site
    configuration names options. Never raises: a spelling that names no known option, or an
    ambiguous prefix, comes back without its dashes and value (``--new-thing=1`` ->
    ``new-thing``).
    """
    if token.startswith("--"):
        body = token[2:].split("=", 1)[0]
    elif token.startswith("-") and len(token) > 1:
        return _SHORT.get(token[1], token[1:].split("=", 1)[0])
    else:
        body = token.split("=", 1)[0]
        if len(body) == 1 and body in _SHORT:
            return _SHORT[body]
    candidates = _long_candidates(body)
    return candidates[0] if len(candidates) == 1 else body


def _long_candidates(body: str) -> tuple[str, ...]:
    """Canonical names ``--<body>`` may stand for, as getopt_long decides.

    An exact spelling wins outright; otherwise every option the text is a prefix of counts.
    Aliases of one option count once (glibc does not call those ambiguous either).
    """
    if not body:
        return ()
    if body in _LONG:
        return (_LONG[body],)
    return tuple(sorted({name for spelling, name in _LONG.items() if spelling.startswith(body)}))


def _canonical_names(names: Iterable[str] | None) -> frozenset[str] | None:
    # A site may write ``-J`` or ``--job-name`` in its config; compare canonical names only.
    if names is None:
        return None
    return frozenset(canonical_option_name(name) for name in names)


def _canonical_deny(names: Iterable[str]) -> frozenset[str]:
    return frozenset(canonical_option_name(name) for name in names)


@attrs.frozen(kw_only=True)
class FlagPolicy:
    """Which sbatch options a site lets pods ask for.

    ``allow``, when set, is the only set of options that may pass; ``deny`` is always refused
    and wins over ``allow``. Both hold canonical long names; spellings such as ``-p`` or
    ``--partition`` given here are normalised with :func:`canonical_option_name`. A site that
    really wants to lift a default refusal passes its own ``deny`` set (for example
    ``DEFAULT_DENY - {"quiet"}``).
    """

    allow: frozenset[str] | None = attrs.field(default=None, converter=_canonical_names)
    deny: frozenset[str] = attrs.field(default=DEFAULT_DENY, converter=_canonical_deny)

    def check(self, option: SlurmOption, *, path: str) -> None:
        """Return if ``option`` may pass, else raise :class:`PolicyError` naming ``path``."""
        name = canonical_option_name(option.name)
        if name in self.deny:
            reason = _DENY_REASONS.get(name, "denied by the site")
        elif self.allow is not None and name not in self.allow:
            reason = "not in the site's allow-list"
        else:
            return
        raise PolicyError(
            f"sbatch option --{name} is refused by the site policy ({reason})", path=path
        )


_BLANKS = frozenset(" \t\n")
# Inside double quotes a backslash only escapes these (POSIX, "Double-Quotes").
_DQUOTE_ESCAPABLE = frozenset('"\\$`\n')


def split_flags(text: str, *, path: str) -> tuple[str, ...]:
    """Split ``text`` into words with POSIX shell quoting, expanding nothing.

    Words are separated by spaces, tabs and newlines. Single quotes keep everything up to the
    next single quote; inside double quotes a backslash escapes only ``"``, ``\\``, ``$``,
    backquote and newline (and a backslash-newline disappears), any other backslash stays;
    outside quotes a backslash keeps the next character, and a backslash-newline joins lines.
    ``$``, backquotes, globs, ``~``, ``#`` and shell operators are ordinary characters. ``''``
    is an empty word.

    Raises :class:`AnnotationError` naming ``path`` and the 1-based character position for an
    unterminated quote, a trailing backslash, or a NUL character (which no argument can hold).
    """
    nul = text.find("\0")
    if nul >= 0:
        raise AnnotationError(f"NUL character at character {nul + 1}", path=path)
    words: list[str] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _BLANKS:
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
        elif c == "\\":
            if i + 1 == n:
                raise AnnotationError(
                    f"backslash at character {i + 1} ends the text and escapes nothing",
                    path=path,
                )
            if text[i + 1] != "\n":  # backslash-newline is a line continuation
                word.append(text[i + 1])
                in_word = True
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise AnnotationError(
                    f"single quote at character {i + 1} is never closed", path=path
                )
            word.append(text[i + 1 : end])
            in_word = True
            i = end + 1
        elif c == '"':
            i = _double_quoted(text, i, word, path=path)
            in_word = True
        else:
            word.append(c)
            in_word = True
            i += 1
    if in_word:
        words.append("".join(word))
    return tuple(words)


def _double_quoted(text: str, start: int, word: list[str], *, path: str) -> int:
    """Append the double-quoted string opening at ``start`` to ``word``; return the next index."""
    j, n = start + 1, len(text)
    while j < n:
        d = text[j]
        if d == '"':
            return j + 1
        if d == "\\" and j + 1 < n and text[j + 1] in _DQUOTE_ESCAPABLE:
            if text[j + 1] != "\n":
                word.append(text[j + 1])
            j += 2
        else:
            word.append(d)
            j += 1
    raise AnnotationError(f"double quote at character {start + 1} is never closed", path=path)


def _checked_value(value: str, *, option: str, path: str) -> str:
    for bad in _LINE_BREAKERS:
        if bad in value:
            shown = {"\n": "a newline", "\r": "a carriage return", "\0": "a NUL character"}[bad]
            raise AnnotationError(
                f"the value of {option} contains {shown}, which cannot be written on an "
                "#SBATCH line",
                path=path,
            )
    return value


def parse_sbatch_options(tokens: Sequence[str], *, path: str) -> tuple[SlurmOption, ...]:
    """Group words (from :func:`split_flags`) into sbatch options, as sbatch's getopt would.

    Accepted spellings: ``--time=01:00:00``, ``--time 01:00:00``, unambiguous prefixes
    (``--part=x``), ``-p geant4``, ``-pgeant4``, clustered short flags (``-Hp geant4``), flags
    (``--requeue``) and optional values (``--exclusive``, ``--exclusive=user``; an optional
    value must be attached with ``=``, as getopt requires). A required value is taken from the
    next word whatever it looks like (``--comment -x`` is a comment), as getopt does. Each
    option comes out under its canonical long name, in the order given, duplicates kept (see
    :func:`merge_options`).

    Long options sbatch does not know are kept as given (``--foo``, ``--foo=bar``); their value
    must be attached with ``=``. Raises :class:`AnnotationError` naming ``path`` for a word
    that is not an option (a stray value such as ``geant4``), an unknown short option, an
    ambiguous prefix, a missing value, a value given to a flag, and a value holding a newline,
    carriage return or NUL (it could not be written on one ``#SBATCH`` line).
    """
    options: list[SlurmOption] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if len(token) > 2 and token.startswith("--"):
            consumed = _parse_long(token, tokens, i, options, path=path)
        elif len(token) > 1 and token.startswith("-") and token[1] != "-":
            consumed = _parse_short(token, tokens, i, options, path=path)
        else:
            hint = "values go right after their option: -p geant4, --time=01:00:00"
            if options and options[-1].value is None and options[-1].name not in _SBATCH_OPTIONS:
                hint = (
                    f"sbatch does not know --{options[-1].name}, so a value for it must be "
                    f"attached with '=': --{options[-1].name}={token}"
                )
            raise AnnotationError(
                f"word {i + 1} ({token!r}) is not an sbatch option ({hint})", path=path
            )
        i += consumed
    return tuple(options)


def _parse_long(
    token: str, tokens: Sequence[str], i: int, out: list[SlurmOption], *, path: str
) -> int:
    """Parse the long option at ``tokens[i]`` into ``out``; return how many words it used."""
    body, eq, attached = token[2:].partition("=")
    candidates = _long_candidates(body)
    if len(candidates) > 1:
        shown = ", ".join(f"--{name}" for name in candidates)
        raise AnnotationError(f"option --{body} is ambiguous: it could be {shown}", path=path)
    if not candidates:
        if not _UNKNOWN_NAME.fullmatch(body):
            raise AnnotationError(f"{token!r} is not a valid sbatch option name", path=path)
        value = _checked_value(attached, option=f"--{body}", path=path) if eq else None
        out.append(SlurmOption(name=body, value=value))
        return 1
    name = candidates[0]
    arity = _SBATCH_OPTIONS[name][0]
    if arity == "none":
        if eq:
            raise AnnotationError(f"option --{name} takes no value (given {token!r})", path=path)
        out.append(SlurmOption(name=name))
        return 1
    if eq:
        value = _checked_value(attached, option=f"--{name}", path=path)
        out.append(SlurmOption(name=name, value=value))
        return 1
    if arity == "optional":
        out.append(SlurmOption(name=name))
        return 1
    if i + 1 >= len(tokens):
        raise AnnotationError(f"option --{name} needs a value", path=path)
    value = _checked_value(tokens[i + 1], option=f"--{name}", path=path)
    out.append(SlurmOption(name=name, value=value))
    return 2


def _parse_short(
    token: str, tokens: Sequence[str], i: int, out: list[SlurmOption], *, path: str
) -> int:
    """Parse a (possibly clustered) short option word; return how many words it used."""
    k = 1
    while k < len(token):
        letter = token[k]
        name = _SHORT.get(letter)
        if name is None:
            raise AnnotationError(f"sbatch has no option -{letter} (in {token!r})", path=path)
        arity = _SBATCH_OPTIONS[name][0]
        rest = token[k + 1 :]
        if arity == "none":
            out.append(SlurmOption(name=name))
            k += 1
            continue
        if rest:
            value = _checked_value(rest, option=f"-{letter}", path=path)
            out.append(SlurmOption(name=name, value=value))
            return 1
        if arity == "optional":
            out.append(SlurmOption(name=name))
            return 1
        if i + 1 >= len(tokens):
            raise AnnotationError(f"option -{letter} (--{name}) needs a value", path=path)
        value = _checked_value(tokens[i + 1], option=f"-{letter}", path=path)
        out.append(SlurmOption(name=name, value=value))
        return 2
    return 1


def merge_options(*layers: Iterable[SlurmOption]) -> tuple[SlurmOption, ...]:
    """Fold layers of options into one option per canonical name.

    Layers come lowest priority first (site flavor, then annotation). An option given more
    than once, in one layer or across layers, appears once: the **value of the last**
    occurrence wins, at the **position of the first** (so the order of ``#SBATCH`` lines is
    stable when a pod overrides a flavor). Names come out canonical.

    No option is kept twice: for almost every sbatch option a later occurrence replaces the
    earlier one anyway. The exception is ``--mail-type``, whose occurrences sbatch ORs
    together; here the last wins, so write ``--mail-type=BEGIN,END`` as one option.
    """
    merged: dict[str, SlurmOption] = {}
    for layer in layers:
        for option in layer:
            name = canonical_option_name(option.name)
            # Re-assigning an existing key keeps its insertion position in a dict.
            merged[name] = option if option.name == name else attrs.evolve(option, name=name)
    return tuple(merged.values())
