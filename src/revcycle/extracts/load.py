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

A file is never read through a symbolic link (it could point anywhere), and a file whose name
cannot go into the manifest, a reason file or a log line as it is (bytes that are not UTF-8,
control characters such as a line break) is not read either: both are quarantined as they are
with the reason. DuckDB reads the file by a path in which glob characters are escaped, so a
file named ``charges_*.csv`` is read alone, not together with every other charges file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import os
import re
import shutil
from collections import Counter
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
_MAX_HEADER_BYTES = 1 << 16  # a header row is under 1 kB; a longer first line is no header
_MAX_NAME_BYTES = 200  # longest name kept in a quarantined file's name (the file system's
# limit is 255 bytes, and the quarantine adds a time stamp, a counter and ".reason.txt")
_PATTERN_CHARACTERS = re.compile(r"[*?\[]")  # what DuckDB expands in a path (glob)

# The CSV problems DuckDB reports that are passed on, by their whole line. Anything else in its
# message may be the row itself ("Original Line", which can run over several lines).
_CSV_PROBLEMS = re.compile(
    r"Expected Number of Columns: \d+ Found: \d+"
    r"|Value with unterminated quote found\."
    r"|Maximum line size of \d+ bytes exceeded\. Actual Size: ?\d+ bytes\."
    r"|Invalid unicode \(byte sequence mismatch\) detected\."
    r"|The CSV Parser state machine reached an invalid state\."
)

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
    """The header row's names, from the first 64 kB only: a first line longer than that (say
    20 MB of data without a line break) is no header, and splitting it would cost memory."""
    with path.open("rb") as fh:
        head = fh.read(_MAX_HEADER_BYTES)
    if not head.removeprefix(b"\xef\xbb\xbf"):
        raise ExtractFileError(path.name, "", f"empty file: no header row ({len(head)} bytes)")
    if len(head) == _MAX_HEADER_BYTES and b"\n" not in head and b"\r" not in head:
        raise ExtractFileError(
            path.name,
            "line 1",
            f"no line break in the first {_MAX_HEADER_BYTES} bytes: the file has no header row",
        )
    # The encoding was checked; only the cut at 64 kB may split a character.
    text = head.decode("utf-8-sig", errors="ignore")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise ExtractFileError(path.name, "line 1", f"unreadable header ({exc})") from None
    return [name.strip() for name in header]


def _names(names: list[str]) -> str:
    """Column names for a message: at most ten, each at most 40 characters."""
    shown = [(name[:40] + "...") if len(name) > 40 else (name or "(empty)") for name in names]
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    return ", ".join(shown[:10]) + more


def _check_header(path: Path, table: Table, header: list[str]) -> None:
    """Missing columns first: only a header holding every expected name is taken for a
    header, so that the names of a repeated or unexpected column quoted in the message are
    column names, not the values of a first data row (a file without a header)."""
    expected = table.column_names
    counts = Counter(header)  # not header.count() per name: quadratic on a long first line
    missing = [name for name in expected if name not in counts]
    if missing:
        raise ExtractFileError(path.name, "line 1", f"missing column(s): {', '.join(missing)}")
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise ExtractFileError(path.name, "line 1", f"repeated column(s): {_names(repeated)}")
    unexpected = [name for name in counts if name not in expected]
    if unexpected:
        raise ExtractFileError(
            path.name,
            "line 1",
            f"unexpected column(s): {_names(unexpected)} "
            f"(the {table.name} table has exactly: {', '.join(expected)})",
        )


def _duckdb_path(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """``path`` as DuckDB's ``read_csv`` must be given it to read that one file.

    DuckDB expands glob patterns in a path: ``charges_*.csv`` would read every charges file of
    the folder, ``charges_[12].csv`` the files ``charges_1.csv`` and ``charges_2.csv``, and a
    folder named ``extract[1]`` would be read as ``extract1``. Each ``*``, ``?`` and ``[`` is put
    in a one-character class (``[*]``), and the pattern must match this file and no other.
    """
    literal = str(path.resolve())
    if not _PATTERN_CHARACTERS.search(literal):
        return literal
    pattern = _PATTERN_CHARACTERS.sub(lambda m: f"[{m.group()}]", literal)
    matched = [str(row[0]) for row in con.execute("select file from glob(?)", [pattern]).fetchall()]
    if matched != [literal]:
        raise ExtractFileError(
            path.name,
            "",
            "its path holds characters DuckDB reads as a pattern (*, ?, [) and cannot be read "
            "literally: rename the file or its folder",
        )
    return pattern


def _stage_as_text(con: duckdb.DuckDBPyConnection, path: Path, header: list[str]) -> int:
    """Read the file into a temp table of text columns, in file order; return its row count."""
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in header) + "}"
    source = _duckdb_path(con, path)
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
            [source],
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
    values, which may be patient identifiers, and runs over several lines of the message when
    the row holds a line break; so only a line that is one of the known problems, whole, is
    passed on (:data:`_CSV_PROBLEMS`), never any other part of the message."""
    for line in message.splitlines():
        line = line.strip().removeprefix("Invalid Input Error: ")
        if _CSV_PROBLEMS.fullmatch(line):
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


def name_problem(name: str) -> str | None:
    """Why a file name cannot go as it is into the manifest, a reason file or a log line, or
    None: bytes that are not UTF-8 (the manifest and reason file need text) or control
    characters (a line break in a name would forge log lines)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8: the file was not read"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "the file name holds control characters: the file was not read"
    return None


def printable_name(name: str) -> str:
    """``name`` fit for the manifest and log lines: other bytes and control characters shown
    as escapes (``\\xff``, ``\\n``)."""
    if name_problem(name) is None:
        return name
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(ch if 32 <= ord(ch) != 127 else f"\\x{ord(ch):02x}" for ch in text)


def refusal(path: Path) -> str | None:
    """Why a file in a folder we load is quarantined without being read, or None."""
    if path.is_symlink():
        return "a symbolic link, not a file: not followed (it could point outside the folder)"
    return name_problem(path.name)


def refused_digest(path: Path) -> str:
    """The manifest's sha256 for a refused file: of its bytes, never through a link."""
    if path.is_symlink():
        return hashlib.sha256(b"symlink:" + os.fsencode(path.readlink())).hexdigest()
    return sha256_of(path)


def _fit_name(name: str) -> str:
    """``name`` for the quarantine folder: unusable names replaced, long ones cut in the middle
    to :data:`_MAX_NAME_BYTES` (the reason file and manifest keep the full name)."""
    if name_problem(name) is not None:
        return "unusable-name"
    raw = name.encode("utf-8")
    if len(raw) <= _MAX_NAME_BYTES:
        return name
    half = (_MAX_NAME_BYTES - 3) // 2
    return raw[:half].decode("utf-8", "ignore") + "..." + raw[-half:].decode("utf-8", "ignore")


def quarantine_file(path: Path, quarantine_dir: Path, reason: str, stamp: datetime) -> Path:
    """Move a file out of the way with a reason file next to it; never overwrite. A symbolic
    link is moved itself, never what it points to."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    name = _fit_name(path.name)
    target = quarantine_dir / f"{stamp:%Y%m%dT%H%M%S}-{name}"
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = quarantine_dir / f"{stamp:%Y%m%dT%H%M%S}-{n}-{name}"
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


def quarantine_unread(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    quarantine_dir: Path,
    table_name: str | None,
    problem: str,
    stamp: datetime,
) -> FileOutcome:
    """Quarantine a file that is not read at all (see :func:`refusal`), with the reason."""
    sha256 = refused_digest(path)
    name = printable_name(path.name)
    reason = f"{name}: {problem}"
    target = quarantine_file(path, quarantine_dir, reason, stamp)
    outcome = FileOutcome(name, table_name, sha256, LoadStatus.QUARANTINED, 0, 0, reason, target)
    record_outcome(con, outcome, stamp)
    log.warning("quarantined %s", reason)
    return outcome


def load_file(con: duckdb.DuckDBPyConnection, path: Path, quarantine_dir: Path) -> FileOutcome:
    """Load one extract file, skip it, or quarantine it; the outcome is in the manifest."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    table = table_for_file(path)
    table_name = table.name if table else None
    refused = refusal(path)
    if refused is not None:
        return quarantine_unread(con, path, quarantine_dir, table_name, refused, loaded_at)
    sha256 = sha256_of(path)

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
    return sorted(
        p
        for p in extract_dir.iterdir()
        if (p.is_file() or p.is_symlink()) and not p.name.startswith(".")
    )


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
