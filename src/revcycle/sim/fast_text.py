"""The simulation's writers' hot formatting calls: the same text as
:mod:`revcycle.x12.text`, computed less often.

A night's replies format a few hundred thousand amounts and dates and a few hundred thousand
identifiers, most of them repeats (charges such as 225, zero, the same service days) or
already clean (claim ids, line control numbers). Amounts and dates are cached (bounded, and
a money amount's text depends only on its value, so equal ``Decimal``s share one entry); an
identifier made only of characters cleaning keeps is returned as it is, without touching
the shared cleaning cache (where unique ids would only push names out).
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal

from revcycle.x12.text import clean_id, format_amount, format_date

_CACHE_SIZE = 16_384

# Characters clean_id keeps unchanged (upper-case letters, digits and the kept punctuation;
# no space): a value made only of these, within the length limit, is its own clean form.
_CLEAN_ID = re.compile(r"[A-Z0-9&'(),\-./;?=+!\"#@%]+")


@functools.lru_cache(maxsize=_CACHE_SIZE)
def amount(value: Decimal) -> str:
    """:func:`~revcycle.x12.text.format_amount`, cached."""
    return format_amount(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def day(value: date) -> str:
    """:func:`~revcycle.x12.text.format_date` (CCYYMMDD), cached."""
    return format_date(value)


def identifier(value: str | None, max_length: int) -> str:
    """:func:`~revcycle.x12.text.clean_id`; an already clean value is returned as it is."""
    if value and len(value) <= max_length and _CLEAN_ID.fullmatch(value):
        return value
    return clean_id(value, max_length)
