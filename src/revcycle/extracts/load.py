"""Load native EMR extract files into the warehouse's ``raw`` schema, accounting for every file.

Each file is one delivery of one table (``patients.csv``, ``charges_20261101.csv``...). A file is
loaded at most once: its sha256 is kept in ``ops.load_manifest`` and a file whose content was
already loaded is skipped, whatever its name. A file that breaks the format (unknown table,
wrong encoding, missing or unexpected column, ragged row, unparsable value, missing required
value, repeated key) is moved to the quarantine folder with a reason file, recorded in the
manifest with that reason, and the other files still load.

A file loads in one transaction together with its manifest row, so a crash never leaves half a
file in ``raw``; and rows read must equal rows loaded or nothing is committed.

Error messages name the file, the data row and the column, never the value: values can be
patient identifiers, and errors end up in logs.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import duckdb

from revcycle.extracts.schema import TABLES, ColumnType, Table

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
OPS_SCHEMA = "ops"
_LINEAGE_COLUMNS = (
    ("_source_file", "VARCHAR"),
    ("_source_row", "BIGINT"),
    ("_file_sha256", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
)
_CHUNK_BYTES = 1 << 20

# What a well-formed value of each type looks like. The regular expressions keep the format
# strict (ISO dates, plain decimals): DuckDB's casts alone would accept more than we document.
_TYPE_PATTERNS: dict[ColumnType, tuple[str, str]] = {
    ColumnType.DATE: (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date (YYYY-MM-DD)"),
    ColumnType.INTEGER: (r"-?[0-9]{1,9}", "a whole number"),
    ColumnType.MONEY: (
        r"-?[0-9]{1,16}(\.[0-9]{1,2})?",
        "an amount like 125.00 (no currency sign or thousands separator)",
    ),
}


class LoadStatus(StrEnum):
    LOADED = "loaded"
    SKIPPED = "skipped"
    QUARANTINED = "quarantined"


class ExtractFileError(Exception):
    """A file that breaks the extract format, with where it breaks it."""

    def __init__(self, file_name: str, position: str, problem: str) -> None:
        self.file_name = file_name
        self.position = position
        self.problem = problem
        where = f", {position}" if position else ""
        super().__init__(f"{file_name}{where}: {problem}")


@dataclass(frozen=True)
class FileOutcome:
    file_name: str
    table_name: str | None
    sha256: str
    status: LoadStatus
    rows_read: int
    rows_loaded: int
    reason: str | None = None
    quarantined_to: Path | None = None


def table_for_file(path: Path) -> Table | None:
    """The table a file delivers, from its name: ``<table>.csv`` or ``<table>_<anything>.csv``."""
    if path.suffix.lower() != ".csv":
        return None
    stem = path.stem.lower()
    for table in TABLES:
        if stem == table.name or stem.startswith((f"{table.name}_", f"{table.name}-")):
            return table
    return None


def ensure_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables (extract tables and the X12 tables the inbox loads) and the ops
    tables (load manifest, submissions, control numbers, gate results) if they are missing."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(f"create schema if not exists {OPS_SCHEMA}")
    for table in TABLES:
        columns = [f'"{c.name}" {c.type.value}' for c in table.columns]
        columns += [f"{name} {type_}" for name, type_ in _LINEAGE_COLUMNS]
        con.execute(f"create table if not exists {RAW_SCHEMA}.{table.name} ({', '.join(columns)})")
    # Every ops table dbt reads as a source must exist before the first build.
    from revcycle.claims.emit import ensure_emission_tables
    from revcycle.eligibility import ensure_eligibility_tables
    from revcycle.gates.claims_gate import ensure_gate_tables
    from revcycle.remits.tables import TABLE_COLUMNS
    from revcycle.runs import ensure_run_tables

    ensure_emission_tables(con)
    ensure_gate_tables(con)
    ensure_run_tables(con)
    ensure_eligibility_tables(con)
    for x12_table, x12_columns in TABLE_COLUMNS.items():
        body = ", ".join(f'"{name}" {type_}' for name, type_ in x12_columns)
        con.execute(
            f"create table if not exists {RAW_SCHEMA}.x12_{x12_table} ({body}, "
            "_source_file varchar, _file_sha256 varchar, _loaded_at timestamp)"
        )
    con.execute(
        f"""
        create table if not exists {OPS_SCHEMA}.load_manifest (
            load_id varchar primary key,
            file_name varchar not null,
            table_name varchar,
            sha256 varchar not null,
            status varchar not null,
            rows_read bigint not null,
            rows_loaded bigint not null,
            reason varchar,
            quarantined_to varchar,
            loaded_at timestamp not null
        )
        """
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _check_encoding(path: Path) -> None:
    """Fail on the first byte that is not UTF-8, naming its line, without holding the file."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    line = 1
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_at = exc.start
                line += chunk.count(b"\n", 0, bad_at)
                raise ExtractFileError(
                    path.name,
                    f"line {line}, byte {offset + bad_at + 1}",
                    "not UTF-8 text (re-export the file as UTF-8)",
                ) from None
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ExtractFileError(
                path.name, f"byte {offset}", "file ends inside a UTF-8 character"
            ) from None


def _read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise ExtractFileError(path.name, "", "empty file: no header row") from None
        except csv.Error as exc:
            raise ExtractFileError(path.name, "line 1", f"unreadable header ({exc})") from None
    return [name.strip() for name in header]


def _check_header(path: Path, table: Table, header: list[str]) -> None:
    expected = table.column_names
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ExtractFileError(path.name, "line 1", f"repeated column(s): {', '.join(repeated)}")
    missing = [name for name in expected if name not in header]
    if missing:
        raise ExtractFileError(path.name, "line 1", f"missing column(s): {', '.join(missing)}")
    unexpected = [name for name in header if name not in expected]
    if unexpected:
        raise ExtractFileError(
            path.name,
            "line 1",
            f"unexpected column(s): {', '.join(unexpected)} "
            f"(the {table.name} table has exactly: {', '.join(expected)})",
        )


def _stage_as_text(con: duckdb.DuckDBPyConnection, path: Path, header: list[str]) -> int:
    """Read the file into a temp table of text columns, in file order; return its row count."""
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in header) + "}"
    try:
        con.execute("drop table if exists _extract_rows")
        # Insertion order is preserved (DuckDB's default), so the table's rowids follow the
        # file; _row numbers them from 1 (temp-table rowids do not start at 0).
        con.execute(
            f"""
            create temp table _extract_rows as
            select * from read_csv(?, header = true, auto_detect = false,
                                   delim = ',', quote = '"', escape = '"',
                                   columns = {columns}, strict_mode = true,
                                   null_padding = false, encoding = 'utf-8')
            """,
            [str(path)],
        )
    except duckdb.Error as exc:
        raise ExtractFileError(
            path.name, _duckdb_position(str(exc)), _csv_problem(str(exc))
        ) from None
    con.execute("alter table _extract_rows add column _row bigint")
    con.execute(
        "update _extract_rows set _row = rowid - (select min(rowid) from _extract_rows) + 1"
    )
    row = con.execute("select count(*) from _extract_rows").fetchone()
    return int(row[0]) if row else 0


def _csv_problem(message: str) -> str:
    """DuckDB's CSV error, reduced to what went wrong: its "Original Line" echoes the row's
    values, which may be patient identifiers, so that part is never passed on."""
    lines = [line.strip() for line in message.splitlines()]
    for line in lines[1:]:
        if not line or line.startswith(("Original Line", "Possible fixes", "*", "file =")):
            continue
        return f"not a well-formed CSV row: {line}"
    return "not a well-formed CSV file"


def _duckdb_position(message: str) -> str:
    marker = "CSV Error on Line: "
    if marker in message:
        number = message.split(marker, 1)[1].split()[0].strip(".,:")
        if number.isdigit():
            return f"line {number}"
    return ""


def _first_bad_row(con: duckdb.DuckDBPyConnection, predicate: str) -> int | None:
    row = con.execute(f"select min(_row) from _extract_rows where {predicate}").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _check_values(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> None:
    for column in table.columns:
        quoted = f'"{column.name}"'
        if column.required:
            bad = _first_bad_row(con, f"nullif(trim({quoted}), '') is null")
            if bad is not None:
                raise ExtractFileError(
                    path.name, f"data row {bad}, column {column.name}", "required value missing"
                )
        pattern = _TYPE_PATTERNS.get(column.type)
        if pattern is None:
            continue
        regex, described = pattern
        bad = _first_bad_row(
            con,
            f"nullif(trim({quoted}), '') is not null and ("
            f"not regexp_full_match(trim({quoted}), '{regex}') "
            f"or try_cast(trim({quoted}) as {column.type.value}) is null)",
        )
        if bad is not None:
            raise ExtractFileError(
                path.name, f"data row {bad}, column {column.name}", f"not {described}"
            )
    key = ", ".join(f'"{name}"' for name in table.key)
    repeated = con.execute(
        f"""
        select min(_row), max(_row) from _extract_rows
        group by {key} having count(*) > 1 order by 1 limit 1
        """
    ).fetchone()
    if repeated:
        raise ExtractFileError(
            path.name,
            f"data rows {repeated[0]} and {repeated[1]}",
            f"key ({', '.join(table.key)}) appears more than once",
        )


def _insert_raw(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, sha256: str, loaded_at: datetime
) -> int:
    selects = []
    for column in table.columns:
        value = f"""nullif(trim("{column.name}"), '')"""
        if column.type is not ColumnType.TEXT:
            value = f"cast({value} as {column.type.value})"
        selects.append(f'{value} as "{column.name}"')
    selects += ["? as _source_file", "_row as _source_row", "? as _file_sha256", "? as _loaded_at"]
    before = con.execute(f"select count(*) from {RAW_SCHEMA}.{table.name}").fetchone()
    con.execute(
        f"insert into {RAW_SCHEMA}.{table.name} select {', '.join(selects)} "
        "from _extract_rows order by _row",
        [path.name, sha256, loaded_at],
    )
    after = con.execute(f"select count(*) from {RAW_SCHEMA}.{table.name}").fetchone()
    return int(after[0]) - int(before[0]) if before and after else 0


def record_outcome(
    con: duckdb.DuckDBPyConnection, outcome: FileOutcome, loaded_at: datetime
) -> None:
    load_id = f"{outcome.sha256[:16]}-{loaded_at:%Y%m%dT%H%M%S%f}"
    con.execute(
        f"insert into {OPS_SCHEMA}.load_manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            outcome.file_name,
            outcome.table_name,
            outcome.sha256,
            outcome.status.value,
            outcome.rows_read,
            outcome.rows_loaded,
            outcome.reason,
            str(outcome.quarantined_to) if outcome.quarantined_to else None,
            loaded_at,
        ],
    )


def quarantine_file(path: Path, quarantine_dir: Path, reason: str, stamp: datetime) -> Path:
    """Move a file out of the way with a reason file next to it; never overwrite."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / f"{stamp:%Y%m%dT%H%M%S}-{path.name}"
    n = 1
    while target.exists():
        n += 1
        target = quarantine_dir / f"{stamp:%Y%m%dT%H%M%S}-{n}-{path.name}"
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def already_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    row = con.execute(
        f"select file_name from {OPS_SCHEMA}.load_manifest "
        "where sha256 = ? and status = 'loaded' limit 1",
        [sha256],
    ).fetchone()
    return str(row[0]) if row else None


def load_file(con: duckdb.DuckDBPyConnection, path: Path, quarantine_dir: Path) -> FileOutcome:
    """Load one extract file, skip it, or quarantine it; the outcome is in the manifest."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    sha256 = sha256_of(path)
    table = table_for_file(path)
    table_name = table.name if table else None

    previous = already_loaded(con, sha256)
    if previous is not None:
        # Not recorded again: the manifest already says what became of this content.
        return FileOutcome(
            path.name,
            table_name,
            sha256,
            LoadStatus.SKIPPED,
            0,
            0,
            f"same content already loaded from {previous}",
        )

    rows_read = 0
    try:
        if table is None:
            known = ", ".join(t.file_name for t in TABLES)
            raise ExtractFileError(
                path.name, "", f"not an extract table file (expected one of {known})"
            )
        _check_encoding(path)
        header = _read_header(path)
        _check_header(path, table, header)
        con.execute("begin transaction")
        try:
            rows_read = _stage_as_text(con, path, header)
            _check_values(con, path, table)
            rows_loaded = _insert_raw(con, path, table, sha256, loaded_at)
            if rows_loaded != rows_read:
                raise RuntimeError(
                    f"{path.name}: read {rows_read} rows but loaded {rows_loaded}; nothing kept"
                )
            outcome = FileOutcome(
                path.name, table_name, sha256, LoadStatus.LOADED, rows_read, rows_loaded
            )
            record_outcome(con, outcome, loaded_at)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    except ExtractFileError as exc:
        target = quarantine_file(path, quarantine_dir, str(exc), loaded_at)
        outcome = FileOutcome(
            path.name, table_name, sha256, LoadStatus.QUARANTINED, rows_read, 0, str(exc), target
        )
        record_outcome(con, outcome, loaded_at)
        log.warning("quarantined %s", exc)
        return outcome
    finally:
        con.execute("drop table if exists _extract_rows")
    log.info("loaded %s into raw.%s: %d rows", path.name, table_name, outcome.rows_loaded)
    return outcome


def extract_files(extract_dir: Path) -> list[Path]:
    """Files waiting in an extract folder, in a stable order (by name)."""
    if not extract_dir.is_dir():
        return []
    return sorted(p for p in extract_dir.iterdir() if p.is_file() and not p.name.startswith("."))


def load_extract_dir(
    extract_dir: Path,
    warehouse: Path,
    quarantine_dir: Path,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Load every file of an extract folder; one bad file never stops the others."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    outcomes: list[FileOutcome] = []
    with duckdb.connect(str(warehouse)) as con:
        ensure_warehouse(con)
        for path in extract_files(extract_dir):
            outcome = load_file(con, path, quarantine_dir)
            outcomes.append(outcome)
            if on_file is not None:
                on_file(outcome)
    return outcomes


def summarize_outcomes(outcomes: Iterable[FileOutcome]) -> dict[str, int]:
    counts = {status.value: 0 for status in LoadStatus}
    rows = 0
    for outcome in outcomes:
        counts[outcome.status.value] += 1
        rows += outcome.rows_loaded
    counts["rows_loaded"] = rows
    return counts
