"""The simulation writers' cached formatting gives exactly the text of revcycle.x12.text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from revcycle.sim.fast_text import amount, day, identifier
from revcycle.x12.text import clean_id, format_amount, format_date


@pytest.mark.parametrize(
    "value",
    ["225", "225.00", "2.25E+2", "0", "-0", "-0.00", "0.10", "-3.25", "1.000", "99999999.99"],
)
def test_amount_is_format_amount_whatever_was_cached_before(value: str) -> None:
    # Equal Decimals share a cache entry: their text must not depend on the exponent.
    for other in ("225", "0", "0.1", "-3.250", "1"):
        amount(Decimal(other))
    assert amount(Decimal(value)) == format_amount(Decimal(value))


def test_amount_with_a_fraction_of_a_cent_still_raises() -> None:
    with pytest.raises(ValueError):
        amount(Decimal("1.005"))


def test_day_is_format_date() -> None:
    assert day(date(2026, 1, 9)) == format_date(date(2026, 1, 9)) == "20260109"


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("C1C5E7E659C74F70D-001", 50),
        ("C1C5E7E659C74F70D", 38),
        ("c1c5e7", 50),  # lower case: cleaned
        ("AB*CD~EF:GH^IJ|", 50),  # delimiters: removed
        ("AB CD", 50),  # a space: removed
        ("A" * 60, 50),  # too long: cut
        ("ÉCOLE-1", 50),  # not ASCII
        ("", 50),
        ("B", 1),
        ("BL", 1),
    ],
)
def test_identifier_is_clean_id(value: str, size: int) -> None:
    assert identifier(value, size) == clean_id(value, size)


def test_identifier_of_none_is_empty() -> None:
    assert identifier(None, 10) == clean_id(None, 10) == ""
