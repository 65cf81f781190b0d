"""Go's ``encoding/json``, as far as the interLink wire depends on it.

Theory of operation. Every interLink peer other than us is either Go (``encoding/json``
reading into and writing out of structs) or a FastAPI/pydantic plugin. To read what they
send as they would, and to write bytes they read as Go's own, this module reproduces the
behaviours of ``encoding/json`` that can change meaning or bytes:

* **Reading** accepts JSON only: no ``NaN``/``Infinity`` literals, no numbers beyond float64
  (Python would make them infinite), no encoding other than UTF-8. Invalid UTF-8 and lone
  UTF-16 surrogate escapes (``"\\ud800"``) become U+FFFD, as Go's decoder replaces them; so a
  value read here can always be written again.
* **Writing** is Go's ``json.Marshal``: compact, keys in the order given (Go writes struct
  fields in declaration order), non-ASCII as UTF-8, and ``<``, ``>``, ``&``, U+2028, U+2029
  escaped as ``\\u003c`` and so on (Go's HTML-safe default), so that our bytes equal Go's
  bytes for the same value. Floats inside passed-through objects may print differently from
  Go (``1e-07`` against ``1e-7``); the value is the same.
* **Keys** of a struct match case-insensitively under Unicode simple case folding, as
  ``bytes.EqualFold`` does: ASCII case, plus the long s (U+017F) for ``s`` and the Kelvin
  sign (U+212A) for ``k``, the only non-ASCII letters that fold onto ASCII ones. Underscores are
  not ignored: ``pod_uid`` is not ``PodUID``.
* **Times** are RFC 3339 as ``time.Parse(time.RFC3339, …)`` reads them: a ``T``, seconds,
  an optional fraction, and ``Z`` or a ``±hh:mm`` offset; nothing else that ISO 8601 allows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from ._errors import InputError

__all__ = [
    "WireError",
    "describe",
    "dump_json",
    "fold_key",
    "format_rfc3339",
    "load_json",
    "parse_rfc3339",
]


class WireError(InputError):
    """An interLink message that does not decode; ``path`` is the JSON path of the culprit
    (``pod.spec.containers[0].name``, ``Opts.Tail``, ``[2].UID``)."""


def describe(value: object) -> str:
    """What a JSON value is, for error messages: ``null``, ``a string``, ``a list``, …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


# --- reading --------------------------------------------------------------------------------


def _refuse_constant(name: str) -> object:
    raise WireError(f"not valid JSON ({name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        # Go refuses it too ("cannot unmarshal number … out of range").
        raise WireError(f"not valid JSON (the number {text[:40]} is out of range)")
    return value


_DECODER: Final = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
# A \u escape of a UTF-16 surrogate (U+D800..U+DFFF); json.loads keeps a lone one as is.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def load_json(body: bytes | str) -> object:
    """Decode a request or answer body as Go's ``encoding/json`` would, or raise WireError.

    Bytes are UTF-8 (invalid sequences become U+FFFD, as in Go); lone surrogate escapes
    become U+FFFD too. Refused: anything that is not exactly one JSON value, ``NaN`` and
    ``Infinity``, numbers too large for a float64, nesting deeper than Python's recursion
    limit.
    """
    text = bytes(body).decode("utf-8", errors="replace") if not isinstance(body, str) else body
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise WireError("not valid JSON (nested too deeply)") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        where = f" at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise WireError(f"not valid JSON ({reason}{where})") from None
    if _SURROGATE_ESCAPE.search(text):
        value = _without_surrogates(value)
    return value


def _without_surrogates(value: object) -> object:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _SURROGATE.sub("\ufffd", key): _without_surrogates(item) for key, item in value.items()
        }
    return value


# --- writing --------------------------------------------------------------------------------

_GO_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
# These characters only ever occur inside strings of json.dumps' output, so a plain
# substitution over the whole text is safe. A lone surrogate cannot be written as UTF-8:
# Go writes U+FFFD for invalid text, and so do we.
_TO_ESCAPE: Final = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def _go_escape(match: re.Match[str]) -> str:
    return _GO_ESCAPES.get(match.group(), "\ufffd")


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")  # our bug, not input


def dump_json(value: object) -> bytes:
    """Encode a JSON-ready value (dicts, lists, tuples, str, int, float, bool, None; any
    Mapping or Sequence too) into the bytes Go's ``json.Marshal`` writes for it.

    Keys are written in the order of the mappings. NaN and infinities are refused with
    ValueError (a bug of the caller: :func:`load_json` never produces them).
    """
    text = json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain
    )
    return _TO_ESCAPE.sub(_go_escape, text).encode()


# --- keys -----------------------------------------------------------------------------------

# The non-ASCII letters whose simple case folding reaches an ASCII letter.
_NON_ASCII_FOLDS: Final = str.maketrans({"\u017f": "s", "\u212a": "k"})


def fold_key(key: str) -> str:
    """The form under which Go matches a JSON key to a struct field: two keys match when
    their folds are equal. Only ASCII field names are compared with it."""
    if key.isascii():
        return key.lower()
    # Other non-ASCII letters stay as they are and so never equal an ASCII name.
    return "".join(c.lower() if c.isascii() else c for c in key.translate(_NON_ASCII_FOLDS))


# --- times ----------------------------------------------------------------------------------

_RFC3339: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 time in UTC, as Go's ``time.Parse(time.RFC3339, text)`` reads it
    (fractions beyond microseconds are cut). Raises ValueError saying why not."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text[:60]!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, sign, offset_hours, offset_minutes = match.group(7, 8, 9, 10)
    micro = int((fraction or "")[:6].ljust(6, "0"))
    offset = timedelta()
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            raise ValueError(f"{text!r} has an offset out of range")
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        offset = -offset if sign == "-" else offset
    try:
        local = datetime(year, month, day, hour, minute, second, micro, timezone(offset))
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a valid date and time") from None


def format_rfc3339(value: datetime, *, fraction: bool) -> str:
    """RFC 3339 in UTC: with ``fraction``, Go's ``time.Time`` form (``RFC3339Nano``: the
    fraction without trailing zeros, none when whole); without, ``metav1.Time``'s (seconds,
    the fraction cut). A naive datetime is a bug of the caller (ValueError)."""
    if value.tzinfo is None:
        raise ValueError("a time without a timezone cannot be written")
    u = value.astimezone(UTC)
    text = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
    if fraction and u.microsecond:
        text += "." + f"{u.microsecond:06d}".rstrip("0")
    return text + "Z"
