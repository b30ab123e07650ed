"""The state of a work area's warehouse, for comparing two runs that should end alike
(tests/reliability/test_crash_resume.py, test_duplicates_disorder.py).

:func:`warehouse_state` reads every table of the warehouse and every marts view as a multiset
of rows, leaving out the run history (run ids and clocks: a killed or repeated run is history
too) and the clock columns that say when a file was loaded. ``ops.load_manifest`` is kept
without its ``load_id``/``loaded_at`` and without its ``skipped`` rows (a file delivered again
adds one; the callers check those themselves).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

RUN_HISTORY = {
    "ops.pipeline_runs",
    "ops.gate_runs",
    "ops.gate_failures",
    "marts.fct_pipeline_runs",
    "marts.fct_gate_runs",
    "marts.fct_gate_failures",
}
CLOCK_COLUMNS = {"_loaded_at", "loaded_at"}
MANIFEST_COLUMNS = "file_name, table_name, sha256, status, rows_read, rows_loaded, reason"


def query(root: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "warehouse" / "revcycle.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def has_warehouse(root: Path) -> bool:
    return (root / "warehouse" / "revcycle.duckdb").exists()


def hashable(value: Any) -> Any:
    """Rows as dict keys: DuckDB returns LIST and STRUCT values as lists and dicts."""
    if isinstance(value, list | tuple):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    return value


def warehouse_state(
    root: Path, schemas: tuple[str, ...] | None = None
) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every compared relation (see the module docstring), or those of ``schemas`` -> its
    rows, as a multiset."""
    state: dict[str, Counter[tuple[Any, ...]]] = {}
    if not has_warehouse(root):
        return state
    with duckdb.connect(str(root / "warehouse" / "revcycle.duckdb"), read_only=True) as con:
        relations = con.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_type = 'BASE TABLE' or table_schema = 'marts'
            order by 1, 2
            """
        ).fetchall()
        for schema, table in relations:
            name = f"{schema}.{table}"
            if name in RUN_HISTORY or (schemas is not None and schema not in schemas):
                continue
            if name == "ops.load_manifest":
                rows = con.execute(
                    f"select {MANIFEST_COLUMNS} from ops.load_manifest where status <> 'skipped'"
                ).fetchall()
                state[name] = Counter(rows)
                continue
            columns = [
                str(c[0])
                for c in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if str(c[0]) not in CLOCK_COLUMNS
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {listed} from "{schema}"."{table}"').fetchall()
            state[name] = Counter(hashable(row) for row in rows)
    return state


def diff(name: str, actual: Counter[tuple[Any, ...]], expected: Counter[tuple[Any, ...]]) -> str:
    extra, missing = actual - expected, expected - actual

    def show(rows: Counter[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # The leading column (an id) of at most five rows: enough to find them, and no
        # names or birth dates in a failure message.
        return [row[:1] for row in list(rows.elements())[:5]]

    return (
        f"{name}: {sum(extra.values())} row(s) the reference lacks {show(extra)}, "
        f"{sum(missing.values())} row(s) missing {show(missing)}"
    )
