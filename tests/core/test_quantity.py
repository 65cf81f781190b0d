"""Kubernetes quantities: examples from the Kubernetes rules, and properties over generated ones."""

from __future__ import annotations

import math
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink.core._errors import QuantityError
from pyinterlink.core._quantity import (
    MAX_MAGNITUDE,
    Quantity,
    QuantityFormat,
    parse_nonnegative_quantity,
    parse_quantity,
    quantity_from_json,
)

GI = 2**30


@pytest.mark.parametrize(
    ("text", "value", "fmt", "canonical"),
    [
        ("500m", Fraction(1, 2), "DecimalSI", "500m"),
        ("1.5", Fraction(3, 2), "DecimalSI", "1500m"),
        ("2Gi", 2 * GI, "BinarySI", "2Gi"),
        ("1e3", 1000, "DecimalExponent", "1e3"),
        ("1E3", 1000, "DecimalExponent", "1e3"),
        ("100M", 10**8, "DecimalSI", "100M"),
        ("0.5Gi", 512 * 2**20, "BinarySI", "512Mi"),
        ("1.5Gi", 1536 * 2**20, "BinarySI", "1536Mi"),
        ("1024Mi", GI, "BinarySI", "1Gi"),
        ("1500Ki", 1500 * 1024, "BinarySI", "1500Ki"),
        ("1Ki", 1024, "BinarySI", "1Ki"),
        ("-1Ki", -1024, "BinarySI", "-1Ki"),
        ("1k", 1000, "DecimalSI", "1k"),
        ("12E-3", Fraction(12, 1000), "DecimalExponent", "12e-3"),
        ("1e+3", 1000, "DecimalExponent", "1e3"),
        ("1e03", 1000, "DecimalExponent", "1e3"),
        ("1E", 10**18, "DecimalSI", "1E"),
        ("12E", 12 * 10**18, "DecimalSI", "12E"),
        ("3000m", 3, "DecimalSI", "3"),
        ("1000000", 10**6, "DecimalSI", "1M"),
        ("1.0", 1, "DecimalSI", "1"),
        ("0", 0, "DecimalSI", "0"),
        ("-0", 0, "DecimalSI", "0"),
        ("0Ki", 0, "DecimalSI", "0"),
        ("+1", 1, "DecimalSI", "1"),
        ("-1.5", Fraction(-3, 2), "DecimalSI", "-1500m"),
        # The grammar's "<digits>." and ".<digits>".
        ("1.", 1, "DecimalSI", "1"),
        (".5", Fraction(1, 2), "DecimalSI", "500m"),
        ("1.G", 10**9, "DecimalSI", "1G"),
        # quantity.go's own documented example.
        ("1.2345", Fraction(12345, 10000), "DecimalSI", "1234500u"),
        ("100.035Ki", Fraction(100035 * 1024, 1000), "DecimalSI", "102435840m"),
        # Rounded away from zero to the nano.
        ("0.1n", Fraction(1, 10**9), "DecimalSI", "1n"),
        ("-0.1n", Fraction(-1, 10**9), "DecimalSI", "-1n"),
        ("3.001n", Fraction(4, 10**9), "DecimalSI", "4n"),
        ("1e-10", Fraction(1, 10**9), "DecimalExponent", "1e-9"),
        ("0.000000001Ki", Fraction(1024, 10**9), "DecimalSI", "1024n"),
        # Binary below 1Ki or not a multiple of 1024: printed as decimal.
        ("0.5Ki", 512, "DecimalSI", "512"),
        ("2.9296875Ki", 3000, "DecimalSI", "3k"),
        # Binary capped at 2**63-1, as Kubernetes caps it.
        ("8Ei", 2**63 - 1, "DecimalSI", "9223372036854775807"),
        ("9223372036854775807Ki", 2**63 - 1, "DecimalSI", "9223372036854775807"),
        # Decimal is not capped; beyond the E suffix it prints with an exponent.
        ("18446744073709551616", 2**64, "DecimalSI", "18446744073709551616"),
        ("1000E", 10**21, "DecimalExponent", "1e21"),
        ("1e100", 10**100, "DecimalExponent", "10e99"),
        ("1e-99999999", Fraction(1, 10**9), "DecimalExponent", "1e-9"),
    ],
)
def test_examples(text: str, value: Fraction | int, fmt: QuantityFormat, canonical: str) -> None:
    quantity = parse_quantity(text)
    assert quantity.value == value
    assert quantity.format == fmt
    assert str(quantity) == canonical


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "it is empty"),
        ("1.2.3", "a second decimal point"),
        ("1.1.M", "a second decimal point"),
        ("12Qi", 'unknown suffix "Qi"'),
        ("1KiB", 'unknown suffix "KiB"'),
        ("1ki", 'unknown suffix "ki"'),
        ("1K", 'unknown suffix "K"'),
        ("0.1mi", 'unknown suffix "mi"'),
        ("0.1am", 'unknown suffix "am"'),
        ("1i", 'unknown suffix "i"'),
        (".5i", 'unknown suffix "i"'),
        ("-3.01i", 'unknown suffix "i"'),
        ("1e", 'unknown suffix "e"'),
        ("1e+", 'unknown suffix "e+"'),
        ("-3.01e-", 'unknown suffix "e-"'),
        ("1e1.5", 'unknown suffix "e1.5"'),
        ("1e3k", 'unknown suffix "e3k"'),
        ("1+1.0M", 'unknown suffix "+1.0M"'),
        ("1-", 'unknown suffix "-"'),
        ("0x10", 'unknown suffix "x10"'),
        ("--1", "no digits in the number"),
        ("++1", "no digits in the number"),
        ("aoeu", "no digits in the number"),
        ("Ki", "no digits in the number"),
        (".", "no digits in the number"),
        ("-", "no digits in the number"),
        ("\uff11", "no digits in the number"),  # fullwidth 1
        ("\u0663", "no digits in the number"),  # Arabic-Indic 3
        (" 1", "whitespace is not allowed"),
        ("1 ", "whitespace is not allowed"),
        ("1 Gi", "whitespace is not allowed"),
        ("1e101", "too large"),
        ("1.1e100", "too large"),
        ("1e9223372036854775808", "too large"),
    ],
)
def test_refused(text: str, why: str) -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity(text, path="spec.containers[0].resources.limits.cpu")
    error = caught.value
    assert error.path == "spec.containers[0].resources.limits.cpu"
    assert why in error.reason
    assert error.reason.startswith(f'"{text}" is not a Kubernetes quantity')


def test_error_message_format() -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity("12Qi", path="limits.memory")
    assert (
        str(caught.value)
        == 'limits.memory: "12Qi" is not a Kubernetes quantity (unknown suffix "Qi")'
    )


def test_long_and_control_texts_are_shown_safely() -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity("9" * 2000)
    assert "longer than 1000 characters" in caught.value.reason
    assert len(caught.value.reason) < 200
    with pytest.raises(QuantityError) as caught:
        parse_quantity("1\n2")
    assert "\n" not in caught.value.reason


def test_accessors_round_up() -> None:
    assert parse_quantity("500m").millis_ceil() == 500
    assert parse_quantity("1").millis_ceil() == 1000
    assert parse_quantity("0.1m").millis_ceil() == 1
    assert parse_quantity("1500m").ceil() == 2
    assert parse_quantity("-1500m").ceil() == -1
    assert parse_quantity("1Gi").mib_ceil() == 1024
    assert parse_quantity("1G").mib_ceil() == 954  # 10**9 / 2**20 = 953.67
    assert parse_quantity("1").mib_ceil() == 1
    assert parse_quantity("0").mib_ceil() == 0


@pytest.mark.parametrize("value", [1, 1.5, None, b"1", ["1"]])
def test_parse_refuses_non_strings(value: object) -> None:
    with pytest.raises(QuantityError, match="expected a quantity as a string"):
        parse_quantity(value)  # type: ignore[arg-type]


def test_nonnegative() -> None:
    assert parse_nonnegative_quantity("0").value == 0
    assert parse_nonnegative_quantity("2Gi").value == 2 * GI
    with pytest.raises(QuantityError, match="negative") as caught:
        parse_nonnegative_quantity("-1", path="requests.cpu")
    assert caught.value.path == "requests.cpu"
    with pytest.raises(QuantityError, match="not a Kubernetes quantity"):
        parse_nonnegative_quantity("-x")


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (2, "2"),
        (0.5, "500m"),
        (1e3, "1k"),
        (1e20, "100e18"),  # the float prints as 1e+20: an exponent
        (1.5e-7, "150e-9"),
        (-0.0, "0"),
        (0, "0"),
        (None, "0"),
        ("1Gi", "1Gi"),
        (" 1Gi\n", "1Gi"),
        ("\u00a01\u3000", "1"),
    ],
)
def test_from_json(value: object, canonical: str) -> None:
    assert str(quantity_from_json(value)) == canonical


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (True, "boolean"),
        (False, "boolean"),
        ([1], "a list"),
        ({"a": 1}, "a mapping"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (10**200, "too large"),
        (b"1", "bytes"),
        ("", "it is empty"),
        ("1 Gi", "whitespace"),
    ],
)
def test_from_json_refused(value: object, why: str) -> None:
    with pytest.raises(QuantityError, match=why) as caught:
        quantity_from_json(value, path="limits.cpu")
    assert caught.value.path == "limits.cpu"


def test_from_json_nonnegative() -> None:
    assert quantity_from_json(-1).value == -1
    with pytest.raises(QuantityError, match="negative"):
        quantity_from_json(-1, nonnegative=True)
    with pytest.raises(QuantityError, match="negative"):
        quantity_from_json("-1m", nonnegative=True)


def test_constructor_normalises() -> None:
    assert Quantity(value=Fraction(1, 3)).value == Fraction(333333334, 10**9)
    assert Quantity(value=Fraction(-1, 3)).value == Fraction(-333333334, 10**9)
    assert Quantity(value=512, format="BinarySI").format == "DecimalSI"
    assert Quantity(value=2**70, format="BinarySI").format == "DecimalSI"
    assert Quantity(value=10**21, format="BinarySI").format == "DecimalExponent"
    assert Quantity(value=1500, format="DecimalExponent").format == "DecimalSI"
    assert Quantity(value=10**21).format == "DecimalExponent"
    with pytest.raises(ValueError, match="magnitude"):
        Quantity(value=MAX_MAGNITUDE + 1)


def test_equality_and_order_ignore_format() -> None:
    assert parse_quantity("1Ki") == parse_quantity("1024")
    assert hash(parse_quantity("1Ki")) == hash(parse_quantity("1024"))
    assert parse_quantity("1e3") == parse_quantity("1k")
    assert parse_quantity("1k") < parse_quantity("1Ki") < parse_quantity("1.1k")
    assert max(parse_quantity("1Gi"), parse_quantity("1G")) == parse_quantity("1Gi")
    assert len({parse_quantity("1k"), parse_quantity("1e3"), parse_quantity("1000")}) == 1


def test_pickles() -> None:
    quantity = parse_quantity("1.5Gi")
    again = pickle.loads(pickle.dumps(quantity))
    assert again == quantity
    assert again.format == quantity.format


# Generated quantities: any whole number of nanos, any requested format; multiples of 1024
# too, so that BinarySI survives normalisation often.
_FORMATS = st.sampled_from(["DecimalSI", "BinarySI", "DecimalExponent"])
_NANOS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=-(2**53), max_value=2**53).map(lambda n: n * 1024 * 10**9),
    st.integers(min_value=-(10**100), max_value=10**100).map(lambda n: n * 10**9),
)
quantities = st.builds(
    lambda nanos, fmt: Quantity(value=Fraction(nanos, 10**9), format=fmt), _NANOS, _FORMATS
)


@given(quantities)
def test_round_trip_keeps_value_and_format(quantity: Quantity) -> None:
    again = parse_quantity(str(quantity))
    assert again == quantity
    assert again.value == quantity.value
    assert again.format == quantity.format


@given(quantities)
def test_printing_is_canonical(quantity: Quantity) -> None:
    text = str(quantity)
    assert str(parse_quantity(text)) == text
    body = text.lstrip("-")
    assert "." not in body  # no fractional digits
    assert not body.startswith("0") or body == "0"


@given(quantities, quantities)
def test_order_follows_value_across_formats(a: Quantity, b: Quantity) -> None:
    assert (a < b) == (a.value < b.value)
    assert (a <= b) == (a.value <= b.value)
    assert (a == b) == (a.value == b.value)
    if a == b:
        assert hash(a) == hash(b)


# Texts from the grammar, checked against an independent computation through Decimal.
_DECIMAL_MULTIPLIERS = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}  # fmt: skip
_BINARY_MULTIPLIERS = {
    s: Fraction(2**p)
    for s, p in zip(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), range(10, 70, 10), strict=True)
}


@st.composite
def grammar_texts(draw: st.DrawFn) -> tuple[str, Fraction, bool]:
    """A valid quantity text, its exact value before rounding, and whether it is binary."""
    sign = draw(st.sampled_from(["", "+", "-"]))
    whole = draw(st.text("0123456789", max_size=25))
    fraction = draw(st.none() | st.text("0123456789", max_size=25))
    if not whole and not fraction:
        whole = "0"
    number = whole if fraction is None else f"{whole}.{fraction}"
    exact = Fraction(Decimal(number))
    kind = draw(st.sampled_from(["decimal", "binary", "exponent"]))
    if kind == "decimal":
        suffix = draw(st.sampled_from(sorted(_DECIMAL_MULTIPLIERS)))
        multiplier = _DECIMAL_MULTIPLIERS[suffix]
    elif kind == "binary":
        suffix = draw(st.sampled_from(sorted(_BINARY_MULTIPLIERS)))
        multiplier = _BINARY_MULTIPLIERS[suffix]
    else:
        power = draw(st.integers(min_value=-40, max_value=60))
        letter = draw(st.sampled_from("eE"))
        plus = draw(st.sampled_from(["", "+"])) if power >= 0 else ""
        suffix = f"{letter}{plus}{power}"
        multiplier = Fraction(10) ** power
    value = exact * multiplier
    return f"{sign}{number}{suffix}", -value if sign == "-" else value, kind == "binary"


@given(grammar_texts())
def test_grammar_texts_parse_to_their_value(case: tuple[str, Fraction, bool]) -> None:
    text, exact, binary = case
    nanos = math.ceil(abs(exact) * 10**9)
    expected = Fraction(nanos, 10**9)
    if binary:
        expected = min(expected, Fraction(2**63 - 1))
    if exact < 0:
        expected = -expected
    if abs(expected) > MAX_MAGNITUDE:
        with pytest.raises(QuantityError, match="too large"):
            parse_quantity(text)
        return
    quantity = parse_quantity(text)
    assert quantity.value == expected
    again = parse_quantity(str(quantity))
    assert (again.value, again.format) == (quantity.value, quantity.format)


_QUANTITY_ALPHABET = "0123456789.+-eEinumkKMGTPQ i\n\x00\u0661"


@given(st.text() | st.text(_QUANTITY_ALPHABET, max_size=30))
def test_parse_is_total(text: str) -> None:
    try:
        quantity = parse_quantity(text, path="p")
    except QuantityError as error:
        assert error.path == "p"
    else:
        assert parse_quantity(str(quantity)) == quantity


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(_QUANTITY_ALPHABET, max_size=20)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)


@given(_json_values, st.booleans())
def test_from_json_is_total(value: object, nonnegative: bool) -> None:
    try:
        quantity = quantity_from_json(value, path="q", nonnegative=nonnegative)
    except QuantityError as error:
        assert error.path == "q"
    else:
        assert not nonnegative or quantity.value >= 0
