"""Load the inbox (999, 277CA, 835 and 271 files from the clearinghouse and payers) into
``raw``.

Every file ends in one of three places, recorded in ``ops.load_manifest``:
- **loaded**: parsed with the project's one X12 reader, its rows inserted into
  ``raw.x12_<table>`` in one transaction with its manifest row, then moved to
  ``archive/<kind>/``;
- **skipped**: the same bytes were loaded before (a payer delivering a file twice); moved to
  the archive, nothing posted;
- **quarantined**: unreadable; moved to ``quarantine/inbox/<kind>/`` with a reason naming the
  file and the segment position.

File names come from listing the inbox folder and only their final component is ever used,
so a name cannot point outside the archive or quarantine folders. A symbolic link is never
followed (it could point anywhere on the machine), and a name that is not UTF-8 or holds
control characters (a line break would forge log lines) is not read: both are quarantined as
they are, with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from revcycle.extracts.load import (
    FileOutcome,
    LoadStatus,
    already_loaded,
    ensure_warehouse,
    quarantine_file,
    quarantine_unread,
    record_outcome,
    refusal,
)
from revcycle.remits.parse_271 import parse_271
from revcycle.remits.parse_835 import parse_835
from revcycle.remits.parse_acks import parse_277ca, parse_999
from revcycle.remits.tables import arrow_schema
from revcycle.x12.reader import X12ReadError

log = logging.getLogger(__name__)

RAW_PREFIX = "raw.x12_"


def _parse_835(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return parse_835(data, name).as_dict()


def _parse_999(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return {"ack_999_transactions": parse_999(data, name)}


def _parse_277ca(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return {"ack_277ca_claims": parse_277ca(data, name)}


def _parse_271(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return dict(parse_271(data, name))


# Inbox sub-folder -> parser. Acknowledgements load before remittances so that a run sees a
# claim's acceptance before its payment; eligibility responses (271) are independent of both.
PARSERS: dict[str, Callable[[bytes, str], dict[str, Sequence[tuple[Any, ...]]]]] = {
    "999": _parse_999,
    "277ca": _parse_277ca,
    "835": _parse_835,
    "271": _parse_271,
}


@dataclass(frozen=True)
class InboxOutcome:
    kind: str
    outcome: FileOutcome


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[tuple[Any, ...]],
    file_name: str,
    sha256: str,
    loaded_at: datetime,
) -> int:
    if not rows:
        return 0
    import pyarrow as pa

    schema = arrow_schema(table)
    columns = list(zip(*rows, strict=True))
    arrow = pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )
    con.register("_inbox_rows", arrow)
    try:
        con.execute(
            f"insert into {RAW_PREFIX}{table} select *, ?, ?, ? from _inbox_rows",
            [file_name, sha256, loaded_at],
        )
    finally:
        con.unregister("_inbox_rows")
    return len(rows)


def _archive(path: Path, archive_dir: Path) -> Path:
    archive_dir.mkdir(parents=True, exist_ok=True)
    target = archive_dir / Path(path.name).name
    n = 1
    while target.exists():
        n += 1
        target = archive_dir / f"{path.stem}.{n}{path.suffix}"
    shutil.move(str(path), target)
    return target


def load_inbox_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: Path,
    archive_dir: Path,
    quarantine_dir: Path,
) -> FileOutcome:
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    label = f"x12_{kind}"
    refused = refusal(path)
    if refused is not None:
        return quarantine_unread(con, path, quarantine_dir, label, refused, loaded_at)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    previous = already_loaded(con, digest)
    if previous is not None:
        outcome = FileOutcome(
            path.name,
            label,
            digest,
            LoadStatus.SKIPPED,
            0,
            0,
            f"same content already loaded from {previous}",
        )
        record_outcome(con, outcome, loaded_at)
        _archive(path, archive_dir)
        return outcome
    try:
        tables = PARSERS[kind](data, path.name)
    except X12ReadError as exc:
        reason = str(exc)
        target = quarantine_file(path, quarantine_dir, reason, loaded_at)
        outcome = FileOutcome(
            path.name, label, digest, LoadStatus.QUARANTINED, 0, 0, reason, target
        )
        record_outcome(con, outcome, loaded_at)
        log.warning("quarantined %s", reason)
        return outcome
    rows = sum(len(r) for r in tables.values())
    con.execute("begin transaction")
    try:
        loaded = sum(
            _insert(con, table, table_rows, path.name, digest, loaded_at)
            for table, table_rows in tables.items()
        )
        outcome = FileOutcome(path.name, label, digest, LoadStatus.LOADED, rows, loaded)
        record_outcome(con, outcome, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    # Moved only after the commit: a crash in between leaves the file in the inbox, and the
    # next run skips it by checksum and archives it then.
    _archive(path, archive_dir)
    log.info("loaded %s %s: %d rows", kind, path.name, loaded)
    return outcome


def load_inbox(
    inbox_dir: Path,
    warehouse: Path,
    archive_dir: Path,
    quarantine_dir: Path,
    on_file: Callable[[InboxOutcome], None] | None = None,
) -> list[InboxOutcome]:
    """Load every file waiting in ``inbox/<kind>/``; one bad file never stops the others."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    outcomes: list[InboxOutcome] = []
    with duckdb.connect(str(warehouse)) as con:
        ensure_warehouse(con)  # creates raw.x12_* as well
        for kind in PARSERS:
            folder = inbox_dir / kind
            if not folder.is_dir():
                continue
            listed = (p for p in folder.iterdir() if p.is_file() or p.is_symlink())
            for path in sorted(listed):
                if path.name.startswith("."):
                    continue  # temp files of a writer still at work, and state files
                outcome = InboxOutcome(
                    kind,
                    load_inbox_file(
                        con, kind, path, archive_dir / kind, quarantine_dir / "inbox" / kind
                    ),
                )
                outcomes.append(outcome)
                if on_file is not None:
                    on_file(outcome)
    return outcomes
