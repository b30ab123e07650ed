"""Pausing Python's cyclic garbage collector around bulk object work.

The X12 reader and writers, claim building, the inbox's Arrow conversion and the simulated
payers each create millions of short-lived containers (tuples, lists, dicts, small dataclass
instances) that form no reference cycles: reference counting frees them. With the collector
on, every generation-2 collection walks every live container (all the claims the stage holds)
for nothing; at a million claims that was half of some stages' time (bench/README.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block; re-entrant, and it leaves the collector as it
    found it (a nested pause does not switch it back on early)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
