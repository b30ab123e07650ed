"""Moving a DuckDB work area to Spark and comparing what both built.

:func:`export_sources` writes every table of the source schemas (raw, ops) of a DuckDB
warehouse as Parquet, one folder per table (what ``tests/spark/spark_build.py`` registers in
the Spark metastore). :func:`compare_marts` compares every relation of schema ``marts`` that
DuckDB built with the Parquet copy of Spark's, row for row and order-independent.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

SOURCE_SCHEMAS = ("raw", "ops")
SAMPLE_ROWS = 3


def export_sources(warehouse: Path, folder: Path) -> list[str]:
    """Every base table of schemas raw and ops as ``folder/<schema>/<table>/data.parquet``."""
    exported = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('raw', 'ops') and table_type = 'BASE TABLE'"
            " order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            target = folder / schema / table
            target.mkdir(parents=True, exist_ok=True)
            con.execute(
                f'copy (select * from {schema}."{table}") '
                f"to '{target / 'data.parquet'}' (format parquet)"
            )
            exported.append(f"{schema}.{table}")
    return exported


def normalise(value: Any) -> Any:
    """A value in a form both engines agree on: exact decimals (1.50 == 1.5 by value, never
    float), timestamps as naive UTC, lists and structs as tuples, floats to 12 digits."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return value.normalize() if value != 0 else Decimal(0)
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return tuple((key, normalise(item)) for key, item in sorted(value.items()))
    if isinstance(value, list | tuple):
        return tuple(normalise(item) for item in value)
    return value


@dataclass
class MartDifference:
    model: str
    problem: str
    duckdb_only: list[tuple[Any, ...]] = field(default_factory=list)
    spark_only: list[tuple[Any, ...]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"{self.model}: {self.problem}"]
        for label, rows in (("duckdb only", self.duckdb_only), ("spark only", self.spark_only)):
            for row in rows[:SAMPLE_ROWS]:
                lines.append(f"  {label}: {dict(zip(self.columns, row, strict=False))}")
        # Rows with the same first column (the key of most marts): name the columns that differ.
        spark_by_key = {row[0]: row for row in self.spark_only}
        for row in self.duckdb_only[:SAMPLE_ROWS]:
            other = spark_by_key.get(row[0])
            if other is not None:
                changed = {
                    name: (mine, theirs)
                    for name, mine, theirs in zip(self.columns, row, other, strict=False)
                    if mine != theirs
                }
                lines.append(
                    f"  {self.columns[0]}={row[0]!r} differs in (duckdb, spark): {changed}"
                )
        return "\n".join(lines)


@dataclass
class Comparison:
    compared: list[str]
    row_counts: dict[str, int]
    differences: list[MartDifference]
    type_differences: list[str]


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[str], Counter]:
    cursor = con.execute(f"select * from {relation}")
    columns = [d[0] for d in cursor.description]
    types = [str(d[1]) for d in cursor.description]
    return columns, types, Counter(tuple(normalise(v) for v in row) for row in cursor.fetchall())


def compare_marts(warehouse: Path, spark_marts: Path) -> Comparison:
    """Every relation of schema marts in the DuckDB warehouse against the Parquet folder of
    the same name under ``spark_marts``."""
    differences: list[MartDifference] = []
    type_differences: list[str] = []
    row_counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        for name in names:
            folder = spark_marts / name
            if not folder.is_dir():
                differences.append(MartDifference(name, "not built on Spark"))
                continue
            columns, types, duck_rows = _rows(con, f"marts.{name}")
            spark_columns, spark_types, spark_rows = _rows(
                con, f"read_parquet('{folder}/*.parquet')"
            )
            row_counts[name] = sum(duck_rows.values())
            if columns != spark_columns:
                differences.append(
                    MartDifference(name, f"columns differ: duckdb {columns}, spark {spark_columns}")
                )
                continue
            type_differences.extend(
                f"{name}.{column}: duckdb {mine}, spark {theirs}"
                for column, mine, theirs in zip(columns, types, spark_types, strict=True)
                if not _same_type(mine, theirs)
            )
            if duck_rows != spark_rows:
                duck_only = list((duck_rows - spark_rows).elements())
                spark_only = list((spark_rows - duck_rows).elements())
                differences.append(
                    MartDifference(
                        name,
                        f"{len(duck_only)} of {sum(duck_rows.values())} DuckDB rows not on"
                        f" Spark, {len(spark_only)} of {sum(spark_rows.values())} Spark rows"
                        " not in DuckDB",
                        sorted(duck_only, key=repr),
                        sorted(spark_only, key=repr),
                        columns,
                    )
                )
    return Comparison(names, row_counts, differences, type_differences)


def _same_type(duckdb_type: str, spark_type: str) -> bool:
    """Types that are the same once Spark's Parquet is read back by DuckDB: Spark writes
    timestamps as UTC instants (TIMESTAMP WITH TIME ZONE); lists of structs compare by
    their fields."""
    aliases = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}
    return aliases.get(spark_type, spark_type) == aliases.get(duckdb_type, duckdb_type)


def describe(differences: Iterable[MartDifference]) -> str:
    return "\n\n".join(difference.describe() for difference in differences)
