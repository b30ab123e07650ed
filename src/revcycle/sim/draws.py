"""Deterministic "random" draws for the simulation: a hash of the seed and a key.

Every decision the simulated clearinghouse and payers make (reject this interchange, deny this
claim, bundle this line ...) is a draw keyed by what is decided about, never a position in a
shared random stream. So the answer for a claim depends on the seed and the claim, not on the
order in which files or claims are read, and adding a claim to a batch changes no other
claim's answer. BLAKE2b is used as a fast, well-mixed hash, not for security.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")

_SCALE = float(1 << 64)
_blake2b = hashlib.blake2b


def _digest(seed: int, keys: tuple[object, ...]) -> int:
    text = "\x1f".join(map(str, (seed, *keys)))
    return int.from_bytes(_blake2b(text.encode(), digest_size=8).digest(), "big")


def unit(seed: int, *keys: object) -> float:
    """A number in [0, 1), the same for the same seed and keys."""
    return _digest(seed, keys) / _SCALE


def chance(rate: float, seed: int, *keys: object) -> bool:
    """True with probability ``rate`` (0 never, 1 always)."""
    # unit() inlined: a night's run draws a few million times.
    return rate > 0 and _digest(seed, keys) / _SCALE < rate


def pick(options: Sequence[T], seed: int, *keys: object) -> T:
    """One of ``options``, uniformly."""
    return options[_digest(seed, keys) % len(options)]


def pick_weighted(options: Sequence[T], weights: Sequence[int], seed: int, *keys: object) -> T:
    """One of ``options`` with probability proportional to its (integer) weight."""
    total = sum(weights)
    point = _digest(seed, keys) % total
    for option, weight in zip(options, weights, strict=True):
        if point < weight:
            return option
        point -= weight
    return options[-1]  # pragma: no cover - unreachable while weights are non-negative


def digits(count: int, seed: int, *keys: object) -> str:
    """``count`` decimal digits (the first one not zero), e.g. for a payer claim number."""
    text = "\x1f".join(map(str, (seed, *keys)))
    value = int.from_bytes(_blake2b(text.encode(), digest_size=16).digest(), "big")
    low = 10 ** (count - 1)
    return str(low + value % (9 * low))


def percent_between(low: Decimal, high: Decimal, seed: int, *keys: object) -> Decimal:
    """A percentage from ``low`` to ``high`` in steps of 0.01."""
    steps = int((high - low) * 100)
    return low + Decimal(_digest(seed, keys) % (steps + 1)) / 100
