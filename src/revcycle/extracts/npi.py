"""National Provider Identifier (NPI) check digits.

An NPI is ten digits: nine identifier digits and a check digit. The check digit is the
standard Luhn digit computed over the card-issuer prefix ``80840`` followed by the nine
identifier digits (CMS, "Requirements for the NPI check digit"). Prefixing 80840 is what
makes an NPI valid as an ISO 7812 card number; it is why a plain Luhn check over the ten
digits alone gives the wrong answer.
"""

from __future__ import annotations

NPI_PREFIX = "80840"


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts characters such as "²"; an NPI is ASCII digits only.
    return text.isascii() and text.isdigit()


def luhn_check_digit(npi9: str) -> str:
    """Return the check digit that completes the nine-digit NPI base ``npi9``."""
    if len(npi9) != 9 or not _is_ascii_digits(npi9):
        raise ValueError(f"an NPI base is exactly 9 digits, got {npi9!r}")
    total = 0
    # Walking from the right of the payload, every digit in an even position (0, 2, ...) is
    # doubled: those are the digits that sit left of the (future) check digit at odd offsets.
    for position, char in enumerate(reversed(NPI_PREFIX + npi9)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is ten ASCII digits whose last digit is the Luhn check digit."""
    if len(npi) != 10 or not _is_ascii_digits(npi):
        return False
    return luhn_check_digit(npi[:9]) == npi[9]
