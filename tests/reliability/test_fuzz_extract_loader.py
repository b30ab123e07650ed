"""Fuzzing the EMR extract loader: any bytes as a CSV file end as loaded rows (all of them, in
``raw``) or quarantined with a reason that names the file and quotes no value; never an
unhandled exception, never a hang.

The property is tests/reliability/fuzzing.py::check_extract_file. Inputs: valid files of every
table broken the way deliveries break (columns dropped, moved, renamed or repeated, text in
number and date columns, ragged rows, repeated keys, quotes and line breaks in values, other
line ends and encodings, bytes flipped or cut), arbitrary bytes under a table's name, and big
files made by repeating a row. Findings it made are listed in docs/reliability.md.

PROVENANCE: the seed rows are invented (fuzzing.seed_rows); every text value starts with
"Phi" so that a reason quoting a value is caught.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.extracts.load import ensure_warehouse
from revcycle.extracts.schema import TABLES
from tests.reliability.fuzzing import (
    CSV_VALUES,
    any_bytes_as_extract,
    budget,
    check_extract_file,
    extract_files,
    render_csv,
    seed_rows,
)


@functools.cache
def _loader_env() -> tuple[duckdb.DuckDBPyConnection, Path, Path]:
    """One warehouse for every example of the process (building one costs a second)."""
    root = Path(tempfile.mkdtemp(prefix="revcycle-fuzz-extracts-"))
    con = duckdb.connect(str(root / "wh.duckdb"))
    ensure_warehouse(con)
    atexit.register(shutil.rmtree, root, True)
    atexit.register(con.close)  # runs first: atexit is last in, first out
    folder = root / "extracts"
    folder.mkdir()
    return con, folder, root / "quarantine"


def _check(name: str, data: bytes) -> str:
    con, folder, quarantine = _loader_env()
    try:
        return check_extract_file(con, folder, quarantine, name, data)
    finally:
        for leftover in folder.iterdir():  # a failing example must not leak into the next
            leftover.unlink()


@given(extract_files())
@budget(150)
def test_broken_extract_files_load_or_are_quarantined(item: tuple[str, bytes]) -> None:
    """Before the fixes: a ragged row after a blank line, or a quoted value holding a line
    break, put the row's values into the reason (DuckDB's "Original Line" runs over several
    lines); a header whose first names repeated quoted them (values, in a file without a
    header)."""
    _check(*item)


@given(any_bytes_as_extract())
@budget(150)
def test_any_bytes_as_an_extract_file(item: tuple[str, bytes]) -> None:
    _check(*item)


@st.composite
def big_extract_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A header and one row (maybe broken) repeated to a few hundred kilobytes, or one line of
    a repeated unit with no line break (before the fix, a long first line of short fields made
    the header check quadratic)."""
    table = draw(st.sampled_from(list(TABLES)))
    rows = seed_rows(table, 1)
    if draw(st.booleans()):
        column = draw(st.integers(0, len(rows[0]) - 1))
        rows[1][column] = draw(st.sampled_from(CSV_VALUES))
    target = draw(st.integers(100_000, 600_000))
    if draw(st.booleans()):
        unit = draw(st.sampled_from([b"a,", b"ab,", b"x", b'"', b",", b"\x00,"]))
        return table.file_name, unit * (target // len(unit))
    header, row = render_csv(rows[:1]).encode(), render_csv(rows[1:]).encode()
    return table.file_name, header + row * (target // len(row))


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@given(big_extract_files())
@budget(12)
def test_big_extract_files_in_bounded_time(item: tuple[str, bytes]) -> None:
    _check(*item)
