"""Fuzzing the X12 reader, the 835 / 999 / 277CA / 271 parsers on top of it, and the inbox.

The property (tests/reliability/fuzzing.py::check_reader_and_parsers): whatever the bytes,
every target returns a result or raises X12ReadError that names the file and was raised on
purpose (not a guard wrapping an IndexError & co.), every 835 amount fits its warehouse
column, and each call uses at most 0.5 + 1 CPU second per MB. Inputs: arbitrary bytes, X12-shaped
token soup, real files mutated segment by segment and byte by byte, a few hundred kilobytes of
repetition, and fixed pathological shapes whose time must grow linearly.

``make test`` runs a few hundred examples per property; ``fuzz/run.py`` runs the same
properties for as long as it is given (see fuzz/README.md).

PROVENANCE: mutations start from the public samples of tests/fixtures/x12 (PROVENANCE.md
there); nothing here is patient data.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.extracts.load import LoadStatus, ensure_warehouse
from revcycle.gc_pause import gc_paused
from revcycle.inbox import PARSERS, load_inbox_file
from revcycle.x12.reader import X12ReadError
from tests.reliability.fuzzing import (
    EXAMPLES,
    PATHOLOGICAL,
    X12_TARGETS,
    big_x12,
    budget,
    byte_mutated_x12,
    check_reader_and_parsers,
    cpu_seconds,
    mutated_x12,
    time_bound,
    x12_shaped,
)


@given(st.binary(max_size=4096))
@budget(200)
def test_arbitrary_bytes(data: bytes) -> None:
    check_reader_and_parsers(data)


@given(x12_shaped())
@budget(200)
def test_x12_shaped_token_soup(data: bytes) -> None:
    check_reader_and_parsers(data)


@given(mutated_x12())
@budget(300)
def test_real_files_mutated_segment_by_segment(data: bytes) -> None:
    check_reader_and_parsers(data)


@given(byte_mutated_x12())
@budget(200)
def test_real_files_mutated_byte_by_byte(data: bytes) -> None:
    check_reader_and_parsers(data)


# A failing example of this size is printed anyway (Hypothesis warns about its repr).
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@given(big_x12())
@budget(20)
def test_hundreds_of_kilobytes_in_bounded_time(data: bytes) -> None:
    assert len(data) >= 50_000
    check_reader_and_parsers(data)


def _best_of_three(target: str, data: bytes) -> float:
    """Best CPU time of three runs, with the cyclic collector paused: in a test worker that has
    run the big flow tests, a collection of their heap landing in one measurement and not the
    other would look like superlinear growth. (Pausing costs nothing; a full collection per
    measurement cost seconds on such a heap.)"""
    best = float("inf")
    for _ in range(3):
        with gc_paused():
            started = cpu_seconds()
            with contextlib.suppress(X12ReadError):
                X12_TARGETS[target](data, "scale.x12")
            best = min(best, cpu_seconds() - started)
    return best


@pytest.mark.parametrize(
    ("label", "make", "n", "target"), PATHOLOGICAL, ids=[row[0] for row in PATHOLOGICAL]
)
def test_pathological_shapes_take_linear_time(
    label: str, make: Callable[[int], bytes], n: int, target: str
) -> None:
    """Each shape at ``n`` and ``4n``: every target within the per-MB bound at ``4n``, and the
    time of the target the shape aims at grows by less than 8x (linear: 4x; quadratic: 16x).
    Before the fixes ``headerless-groups`` (a list slice per group in the reader) and
    ``lq-remarks`` (a remark string grown by concatenation) grew quadratically."""
    big = make(4 * n)
    check_reader_and_parsers(big, f"{label}.x12")
    small_time = _best_of_three(target, make(n))
    big_time = _best_of_three(target, big)
    assert big_time <= 8 * small_time + 0.05, (
        f"{target} on {label}: {small_time:.3f}s at n={n}, {big_time:.3f}s at 4n"
    )


# --------------------------------------------------------------------------------------------
# The inbox on top: any bytes end loaded, skipped or quarantined with a reason


@functools.cache
def _inbox_env() -> tuple[duckdb.DuckDBPyConnection, Path]:
    """One warehouse for every example of the process (building one costs a second)."""
    root = Path(tempfile.mkdtemp(prefix="revcycle-fuzz-inbox-"))
    con = duckdb.connect(str(root / "wh.duckdb"))
    ensure_warehouse(con)
    atexit.register(shutil.rmtree, root, True)
    atexit.register(con.close)  # runs first: atexit is last in, first out
    return con, root


@given(
    st.sampled_from(sorted(PARSERS)),
    mutated_x12() | byte_mutated_x12() | st.binary(max_size=2000),
)
@budget(60)
def test_any_bytes_in_the_inbox_end_loaded_or_quarantined(kind: str, data: bytes) -> None:
    """Before the fix, an 835 whose claim amounts were each valid but whose balance check
    (CLP03 - CAS) did not fit DECIMAL(18,2) stopped the whole inbox batch with an
    ArrowInvalid raised while inserting."""
    con, root = _inbox_env()
    EXAMPLES["inbox"] += 1
    folder = root / "inbox" / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fuzz.x12"
    path.write_bytes(data)
    started = cpu_seconds()
    outcome = load_inbox_file(con, kind, path, root / "archive", root / "quarantine")
    assert cpu_seconds() - started <= 2 * time_bound(len(data))
    assert not path.exists()  # archived or quarantined, never left behind
    if outcome.status is LoadStatus.QUARANTINED:
        reason = outcome.reason or ""
        assert reason.startswith("fuzz.x12"), reason
        assert "unexpected error" not in reason and "unreadable X12" not in reason, reason
        assert outcome.quarantined_to is not None and outcome.quarantined_to.exists()
    elif outcome.status is LoadStatus.LOADED:
        (rows,) = con.execute(
            "select count(*) from ops.load_manifest where sha256 = ? and status = 'loaded'",
            [outcome.sha256],
        ).fetchone() or (0,)
        assert rows == 1
    else:
        assert outcome.status is LoadStatus.SKIPPED
