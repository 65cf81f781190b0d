"""Kubernetes resource quantities, parsed and printed exactly as Kubernetes does.

Theory of operation. A quantity is ``<signedNumber><suffix>``: a decimal number (``1``,
``1.5``, ``.5``, ``1.``) followed by a binary suffix (``Ki`` … ``Ei``, powers of 1024), a
decimal suffix (``n u m k M G T P E``, powers of 1000, or none) or a decimal exponent
(``e3``, ``E-3``). The suffix also chooses how the value is printed back: its *format*,
``BinarySI``, ``DecimalSI`` or ``DecimalExponent``. These are the rules of
``k8s.io/apimachinery/pkg/api/resource`` (``quantity.go``, ``suffix.go``); the value is kept
as an exact :class:`~fractions.Fraction`, never a float.

Parsing keeps a value only down to the nano (10^-9): anything finer is rounded away from zero,
so ``0.1n`` is ``1n`` (Kubernetes' reasoning: whoever asks for some of a resource should get
some). A binary quantity above 2^63-1 is silently capped there, as Kubernetes does.

Printing is canonical: no fractional digits, the largest suffix that loses nothing, the
decimal exponent a multiple of three (``1.5`` -> ``1500m``, ``0.5Gi`` -> ``512Mi``,
``1.2345`` -> ``1234500u``). A binary value prints in binary only when it is a whole multiple
of 1024 of at least ``1Ki``; anything else prints in decimal (``0.5Ki`` -> ``512``). A
decimal value beyond the ``E`` suffix prints with an exponent (``1000E`` -> ``1e21``).

Where this module deliberately differs from Kubernetes:

* A :class:`Quantity` always carries the format its canonical text shows, so
  ``parse_quantity(str(q)) == q`` holds field by field. Kubernetes keeps the suffix kind the
  text had even when it cannot print it (a ``BinarySI`` 3000 prints as ``3000`` there, and
  as ``3k`` here, which is what Kubernetes prints once it reads ``3000`` back).
* A number without any digit (``k``, ``Mi``, ``.``, ``-``) is refused; Kubernetes reads it
  as zero, but it is never what anybody meant, and the API server would have rewritten it as
  ``0`` before it reached us.
* Texts longer than :data:`MAX_TEXT_LENGTH` characters and magnitudes above
  :data:`MAX_MAGNITUDE` are refused, so that no input can make the arithmetic explode.
  Kubernetes has no such bound (its int64 accessors overflow long before).
"""

from __future__ import annotations

import functools
import json
import math
import re
from fractions import Fraction
from typing import Final, Literal

import attrs

from ._errors import QuantityError

__all__ = [
    "MAX_MAGNITUDE",
    "MAX_TEXT_LENGTH",
    "Quantity",
    "QuantityFormat",
    "parse_nonnegative_quantity",
    "parse_quantity",
    "quantity_from_json",
]

QuantityFormat = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

MAX_TEXT_LENGTH: Final = 1000
"""The longest quantity text accepted (keeps every integer far below Python's str limits)."""

MAX_MAGNITUDE: Final = 10**100
"""The largest absolute value a quantity may have."""

_NANO: Final = 10**9
# quantity.go caps a BinarySI quantity at the largest int64 when parsing.
_MAX_BINARY: Final = 2**63 - 1

# suffix.go: decimal suffixes with their power of ten, binary ones with their power of two.
_DECIMAL_EXPONENTS: Final = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}  # fmt: skip
_DECIMAL_SUFFIXES: Final = {exponent: suffix for suffix, exponent in _DECIMAL_EXPONENTS.items()}
_BINARY_EXPONENTS: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_SUFFIXES: Final = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")

# Only ASCII digits: Python's \d would also take Arabic-Indic or fullwidth digits, which
# Go's scanner refuses.
_NUMBER: Final = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
_EXPONENT: Final = re.compile(r"[eE]([+-]?[0-9]+)")

# Go's unicode.IsSpace: what Quantity.UnmarshalJSON trims (strings.TrimSpace) before parsing.
_GO_SPACE: Final = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" + (
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _round_to_nano(value: Fraction | int) -> Fraction:
    # Away from zero, as quantity.go rounds on parse: a tiny request stays a request.
    value = Fraction(value)
    nanos = math.ceil(abs(value) * _NANO)
    return Fraction(-nanos if value < 0 else nanos, _NANO)


def _check_magnitude(_: Quantity, __: attrs.Attribute[Fraction], value: Fraction) -> None:
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"a quantity's magnitude must not exceed 10**100, got {value}")


def _decimal_canonical(nanos: int) -> tuple[int, int]:
    """``nanos`` (> 0) as mantissa * 10**exponent, the exponent a multiple of 3, the mantissa
    as small as that allows (quantity.go, ``AsCanonicalBytes``)."""
    mantissa, exponent = nanos, -9
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def _printable_format(value: Fraction, requested: QuantityFormat) -> QuantityFormat:
    """The format the canonical text of ``value`` shows when ``requested`` is asked for."""
    if value == 0:
        return "DecimalSI"
    magnitude = abs(value)
    if requested == "BinarySI":
        if (
            magnitude.denominator == 1
            and 1024 <= magnitude <= _MAX_BINARY
            and magnitude.numerator % 1024 == 0
        ):
            return "BinarySI"
        # quantity.go, CanonicalizeBytes: below 1Ki, or not whole, a binary value prints as
        # a decimal one; not a multiple of 1024, it prints without a suffix, which reads
        # back as decimal.
        requested = "DecimalSI"
    _, exponent = _decimal_canonical(int(magnitude * _NANO))
    if requested == "DecimalSI" and exponent > 18:
        return "DecimalExponent"  # no suffix beyond E: printed as 1e21
    if requested == "DecimalExponent" and exponent == 0:
        return "DecimalSI"  # printed without exponent: reads back as decimal
    return requested


@attrs.frozen(kw_only=True, order=True)
class Quantity:
    """An exact Kubernetes quantity.

    ``value`` is exact and a whole number of nanos: a finer value given to the constructor is
    rounded away from zero (as Kubernetes rounds when parsing); its magnitude is at most
    :data:`MAX_MAGNITUDE` (``ValueError`` otherwise, a programming error). ``format`` is
    normalised to the format the canonical text shows (``BinarySI`` 512 becomes
    ``DecimalSI``), so ``parse_quantity(str(q))`` gives back ``q`` with the same format.

    Equality, hashing and ordering look at ``value`` only, across formats, as Kubernetes'
    ``Cmp`` does: ``1Ki == 1024 < 1.1k``.
    """

    value: Fraction = attrs.field(converter=_round_to_nano, validator=_check_magnitude)
    format: QuantityFormat = attrs.field(default="DecimalSI", eq=False, order=False)
    nanos: int = attrs.field(init=False, eq=False, order=False, repr=False)
    """The value in nanos, an exact integer (the value is a whole number of nanos): integer
    arithmetic is what translation needs, and it is many times faster than Fraction's."""

    def __attrs_post_init__(self) -> None:
        # Frozen: the documented way to normalise a field after the fact.
        object.__setattr__(self, "format", _printable_format(self.value, self.format))
        object.__setattr__(self, "nanos", int(self.value * _NANO))

    def __str__(self) -> str:
        """The canonical Kubernetes text (``1500m``, ``512Mi``, ``1e3``, ``0``)."""
        if self.value == 0:
            return "0"
        sign = "-" if self.value < 0 else ""
        magnitude = abs(self.value)
        if self.format == "BinarySI":
            number, power = magnitude.numerator, 0
            while number % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
                number //= 1024
                power += 1
            return f"{sign}{number}{_BINARY_SUFFIXES[power]}"
        mantissa, exponent = _decimal_canonical(int(magnitude * _NANO))
        if self.format == "DecimalSI":
            return f"{sign}{mantissa}{_DECIMAL_SUFFIXES[exponent]}"
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")

    def ceil(self) -> int:
        """The smallest integer >= the value (``1500m`` -> 2, ``-1500m`` -> -1)."""
        return -(-self.nanos // _NANO)

    def millis_ceil(self) -> int:
        """The value in thousandths, rounded up: CPU ``500m`` -> 500, ``1`` -> 1000."""
        return -(-self.nanos // 1_000_000)

    def mib_ceil(self) -> int:
        """The value divided by 2**20, rounded up: memory in MiB (``1G`` -> 954)."""
        return -(-self.nanos // (_NANO * 2**20))


def _show(text: str) -> str:
    # Quoted with escapes (a control character must not garble a log line), and short.
    if len(text) > 40:
        return json.dumps(text[:40], ensure_ascii=False)[:-1] + '…"'
    return json.dumps(text, ensure_ascii=False)


def _refuse(text: str, why: str, path: str) -> QuantityError:
    return QuantityError(f"{_show(text)} is not a Kubernetes quantity ({why})", path=path)


def parse_quantity(text: str, *, path: str = "") -> Quantity:
    """Parse a Kubernetes quantity (``500m``, ``1.5``, ``2Gi``, ``1e3``, ``-1``).

    Returns the exact value (rounded away from zero to the nano, binary values capped at
    2^63-1, as Kubernetes does) with the format its suffix chose. Raises
    :class:`QuantityError` naming ``path`` for anything else: empty text, whitespace, a
    number without digits, an unknown suffix, more than :data:`MAX_TEXT_LENGTH` characters or
    a magnitude above :data:`MAX_MAGNITUDE`. Never raises another exception for any ``str``.
    """
    if not isinstance(text, str):  # a caller bypassing the types; still our error
        raise QuantityError(f"expected a quantity as a string, got {_json_kind(text)}", path=path)
    try:
        return _parse_text(text)
    except QuantityError as exc:
        raise QuantityError(exc.reason, path=path) from None


# Pods repeat the same few quantities ("500m", "1Gi") endlessly, and a Quantity is an
# immutable value: remembering the parse is safe and saves most of the work of decoding a pod.
@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> Quantity:
    path = ""
    if not text:
        raise _refuse(text, "it is empty", path)
    if len(text) > MAX_TEXT_LENGTH:
        raise _refuse(text, f"longer than {MAX_TEXT_LENGTH} characters", path)
    if any(char.isspace() for char in text):
        raise _refuse(text, "whitespace is not allowed", path)
    number = _NUMBER.match(text)
    assert number is not None  # every part of the pattern may be empty
    sign, whole, fraction = number.group(1), number.group(2), number.group(3) or ""
    suffix = text[number.end() :]
    if not whole and not fraction:
        raise _refuse(text, "no digits in the number", path)

    digits = whole + fraction
    mantissa = int(digits)
    if suffix in _BINARY_EXPONENTS:
        fmt: QuantityFormat = "BinarySI"
        exact = Fraction(mantissa, 10 ** len(fraction)) * 2 ** _BINARY_EXPONENTS[suffix]
        nanos = math.ceil(exact * _NANO)
        value = min(Fraction(nanos, _NANO), Fraction(_MAX_BINARY))
    else:
        if suffix in _DECIMAL_EXPONENTS:
            fmt, exponent = "DecimalSI", _DECIMAL_EXPONENTS[suffix]
        elif exponent_match := _EXPONENT.fullmatch(suffix):
            fmt, exponent = "DecimalExponent", int(exponent_match.group(1))
        elif suffix.startswith("."):
            raise _refuse(text, "a second decimal point", path)
        else:
            raise _refuse(text, f"unknown suffix {_show(suffix)}", path)
        decimal = _decimal_value(mantissa, len(digits.lstrip("0")), exponent - len(fraction))
        if decimal is None:
            raise _refuse(text, "too large: the magnitude must not exceed 10^100", path)
        value = decimal
    return Quantity(value=-value if sign == "-" else value, format=fmt)


def _decimal_value(mantissa: int, significant: int, exponent: int) -> Fraction | None:
    """``mantissa * 10**exponent`` rounded up to the nano, or ``None`` beyond MAX_MAGNITUDE.

    ``significant`` is the number of digits of ``mantissa``. Exponents can be huge (``1e-99999``
    is legal), so the order of magnitude is checked before any power is computed.
    """
    if mantissa == 0:
        return Fraction(0)
    order = significant - 1 + exponent  # value in [10**order, 10**(order + 1))
    if order > 100:
        return None
    if order < -9:
        return Fraction(1, _NANO)  # below 1n: rounds up to 1n
    nanos = math.ceil(mantissa * Fraction(10) ** (exponent + 9))
    value = Fraction(nanos, _NANO)
    return None if value > MAX_MAGNITUDE else value


def parse_nonnegative_quantity(text: str, *, path: str = "") -> Quantity:
    """Like :func:`parse_quantity`, and also refuse negative values (resource amounts)."""
    return _nonnegative(parse_quantity(text, path=path), text, path)


def _nonnegative(quantity: Quantity, text: str, path: str) -> Quantity:
    if quantity.value < 0:
        raise QuantityError(
            f"{_show(text)} is negative; a resource amount must be zero or more", path=path
        )
    return quantity


def quantity_from_json(value: object, *, path: str = "", nonnegative: bool = False) -> Quantity:
    """A quantity from a decoded JSON or YAML value, as Kubernetes' JSON decoder reads one.

    A string is parsed after trimming surrounding whitespace (``Quantity.UnmarshalJSON`` does
    ``strings.TrimSpace``); a number means its JSON text (``2`` -> ``2``, ``0.5`` ->
    ``500m``; a float is written back in its shortest exact form, so ``1e3`` decoded as
    ``1000.0`` comes back as ``1k``, not ``1e3``); ``null`` means zero, as in Kubernetes.
    Booleans, lists, mappings, NaN and infinities are refused. With ``nonnegative``, negative
    values are refused too. Raises only :class:`QuantityError`, naming ``path``.
    """
    if isinstance(value, bool):
        raise QuantityError(
            f"expected a quantity (a string or a number), got the boolean {str(value).lower()}",
            path=path,
        )
    if value is None:
        return Quantity(value=Fraction(0))
    if isinstance(value, int):
        if abs(value) > MAX_MAGNITUDE:
            raise QuantityError("too large: the magnitude must not exceed 10^100", path=path)
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(f"expected a finite number, got {value}", path=path)
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip(_GO_SPACE)
    else:
        raise QuantityError(
            f"expected a quantity (a string or a number), got {_json_kind(value)}", path=path
        )
    quantity = parse_quantity(text, path=path)
    return _nonnegative(quantity, text, path) if nonnegative else quantity


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a value of type {type(value).__name__}"
