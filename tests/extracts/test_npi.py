"""NPI check digits (CMS: Luhn over the prefix 80840 plus the nine identifier digits)."""

from __future__ import annotations

import pytest

from revcycle.extracts.npi import is_valid_npi, luhn_check_digit


@pytest.mark.parametrize(
    ("base", "check"),
    [
        ("123456789", "3"),  # the worked example in the CMS check-digit paper
        # By hand: the prefix 80840 always adds 24 to the Luhn sum.
        ("000000000", "6"),  # 24 -> 6
        ("100000000", "4"),  # 24 + 2 (the doubled 1) -> 4
    ],
)
def test_check_digit_matches_known_npis(base: str, check: str) -> None:
    assert luhn_check_digit(base) == check
    assert is_valid_npi(base + check)


def test_every_wrong_check_digit_is_rejected() -> None:
    good = "1234567893"
    wrong = [good[:9] + str(d) for d in range(10) if str(d) != good[9]]
    assert is_valid_npi(good)
    assert not any(is_valid_npi(npi) for npi in wrong)


def test_prefix_80840_is_part_of_the_sum() -> None:
    # A plain Luhn check over the ten digits alone accepts 1234567897, not 1234567893.
    assert not is_valid_npi("1234567897")


@pytest.mark.parametrize(
    "npi",
    ["", "123456789", "12345678931", "12345678a3", "\uff11234567893", " 234567893", "1234567893 "],
)
def test_malformed_npis_are_invalid(npi: str) -> None:
    assert not is_valid_npi(npi)


@pytest.mark.parametrize("base", ["12345678", "1234567890", "12345678x", "²23456789"])
def test_check_digit_needs_nine_ascii_digits(base: str) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        luhn_check_digit(base)
