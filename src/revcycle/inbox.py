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

**Parse, then load.** The work is split in two so that files can be parsed in parallel while
one writer owns the warehouse:

- :func:`list_inbox` ``(inbox_dir) -> [(kind, path)]``: the files waiting, in load order
  (acknowledgements, then remittances, then 271s; file name order within a kind);
- :func:`parse_inbox_file` ``(kind, path) -> ParsedInboxFile``: pure and picklable (no
  warehouse, no file moved; a module-level function whose result pickles cheaply), so it can
  run in a process pool, as a Prefect task mapped over the files, or on a Dask worker. The
  result holds the file's sha256 and its rows as one ``pyarrow.Table`` per raw table, or
  the quarantine reason (naming the file and the segment position), or the reason it was not
  read at all (a link, an unusable name);
- :func:`load_parsed_inbox` ``(parsed, warehouse, archive_dir, quarantine_dir)``: the one
  loader. It sorts the parsed files into load order (whatever order they were gathered in),
  then for each: skips it if the same bytes were loaded before, quarantines it with its
  reason, or inserts its tables and manifest row in one transaction and archives it after
  the commit. A file that changed on disk since it was parsed is parsed again first. One
  bad file never stops the others.

:func:`load_inbox` does all three, parsing in a pool of two processes when there is enough
to parse (:data:`POOL_MIN_BYTES`; a small batch is parsed in-process, with no pool start-up)
and loading each file as soon as its parse arrives, so only a few parsed files are held at a
time. The pool starts its workers from a fork server, which imports the program's main
module: a script that calls :func:`load_inbox` must keep its own work under
``if __name__ == "__main__":`` (the CLI, the flows and the benchmarks do). If a worker dies,
the rest is parsed in-process.

A caller that maps the parse itself (the flow) should take the warehouse lock
(:func:`revcycle.runs.warehouse_lock`) before listing the inbox and hold it until the loader
returns, as for :func:`load_inbox`: two runs must not load the same files. For example::

    with warehouse_lock(area, "reconcile-inbox"):
        files = list_inbox(area.inbox)
        parsed = parse_inbox_task.map([kind for kind, _ in files], [path for _, path in files])
        outcomes = load_parsed_inbox(
            [p.result() for p in parsed], area.warehouse, area.archive, area.quarantine
        )
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from revcycle.remits.parse_acks import parse_277ca_rows, parse_999
from revcycle.remits.tables import to_arrow
from revcycle.x12.reader import X12ReadError

log = logging.getLogger(__name__)

RAW_PREFIX = "raw.x12_"

POOL_WORKERS = 2
"""Processes that parse files in :func:`load_inbox` (never more than the machine's cores)."""

POOL_MIN_BYTES = 16 << 20
"""Below this many bytes to parse (about a CPU second of work), :func:`load_inbox` parses in
its own process: starting the pool (about a CPU second, in parallel) would not pay."""


def _parse_835(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return parse_835(data, name).as_dict()


def _parse_999(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return {"ack_999_transactions": parse_999(data, name)}


def _parse_277ca(data: bytes, name: str) -> dict[str, Sequence[tuple[Any, ...]]]:
    return {"ack_277ca_claims": parse_277ca_rows(data, name)}


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


_Signature = tuple[int, int, int]  # (inode, size, mtime in ns) of the file as it was parsed


@dataclass(frozen=True)
class ParsedInboxFile:
    """What :func:`parse_inbox_file` made of one inbox file; the loader decides its fate.

    Exactly one of three shapes: ``refused`` set (the file was not read: a link, an unusable
    name); ``problem`` set (unreadable: the quarantine reason, naming the file and the
    segment position); or ``tables`` (``raw table name -> pyarrow.Table``, tables without rows
    left out) with ``rows`` their total. ``sha256`` is None only when refused.
    """

    kind: str
    path: Path
    sha256: str | None
    tables: dict[str, Any] = field(default_factory=dict)
    rows: int = 0
    problem: str | None = None
    refused: str | None = None
    signature: _Signature | None = None


def _signature(path: Path) -> _Signature:
    stat = path.lstat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def parse_inbox_file(kind: str, path: Path) -> ParsedInboxFile:
    """Read and parse one inbox file of ``kind`` (``999``, ``277ca``, ``835``, ``271``).

    Pure: touches neither the warehouse nor the file's place, so it can run anywhere (a pool,
    a Prefect task, a Dask worker) and its result pickles cheaply (Arrow tables). An
    unreadable file is a result (``problem``), not an exception.
    """
    refused = refusal(path)
    if refused is not None:
        return ParsedInboxFile(kind, path, None, refused=refused)
    signature = _signature(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        rows = PARSERS[kind](data, path.name)
    except X12ReadError as exc:
        return ParsedInboxFile(kind, path, digest, problem=str(exc), signature=signature)
    del data  # the rows are all that is needed now; a big file's bytes need not wait
    tables: dict[str, Any] = {}
    total = 0
    for table in list(rows):
        table_rows = rows.pop(table)  # each table's rows are freed once converted
        total += len(table_rows)
        if table_rows:
            tables[table] = to_arrow(table, table_rows)
    return ParsedInboxFile(kind, path, digest, tables, total, signature=signature)


def list_inbox(inbox_dir: Path) -> list[tuple[str, Path]]:
    """``(kind, path)`` of every file waiting in ``inbox/<kind>/``, in load order."""
    found: list[tuple[str, Path]] = []
    for kind in PARSERS:
        folder = inbox_dir / kind
        if not folder.is_dir():
            continue
        listed = (p for p in folder.iterdir() if p.is_file() or p.is_symlink())
        for path in sorted(listed):
            if path.name.startswith("."):
                continue  # temp files of a writer still at work, and state files
            found.append((kind, path))
    return found


def _load_order(parsed: ParsedInboxFile) -> tuple[int, Path]:
    return (list(PARSERS).index(parsed.kind), parsed.path)


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    arrow: Any,
    file_name: str,
    sha256: str,
    loaded_at: datetime,
) -> int:
    con.register("_inbox_rows", arrow)
    try:
        con.execute(
            f"insert into {RAW_PREFIX}{table} select *, ?, ?, ? from _inbox_rows",
            [file_name, sha256, loaded_at],
        )
    finally:
        con.unregister("_inbox_rows")
    return int(arrow.num_rows)


def _archive(path: Path, archive_dir: Path) -> Path:
    archive_dir.mkdir(parents=True, exist_ok=True)
    target = archive_dir / Path(path.name).name
    n = 1
    while target.exists():
        n += 1
        target = archive_dir / f"{path.stem}.{n}{path.suffix}"
    shutil.move(str(path), target)
    return target


def _still_as_parsed(parsed: ParsedInboxFile) -> bool:
    """The file on disk is the one that was parsed (not replaced or rewritten since)."""
    try:
        return parsed.signature == _signature(parsed.path)
    except FileNotFoundError:
        return False


def load_parsed_file(
    con: duckdb.DuckDBPyConnection,
    parsed: ParsedInboxFile,
    archive_dir: Path,
    quarantine_dir: Path,
) -> FileOutcome:
    """Load, skip or quarantine one parsed file; the outcome is in the manifest."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    kind, path = parsed.kind, parsed.path
    label = f"x12_{kind}"
    if parsed.refused is None and not _still_as_parsed(parsed):
        parsed = parse_inbox_file(kind, path)
    if parsed.refused is not None:
        return quarantine_unread(con, path, quarantine_dir, label, parsed.refused, loaded_at)
    digest = parsed.sha256 or ""
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
    if parsed.problem is not None:
        reason = parsed.problem
        target = quarantine_file(path, quarantine_dir, reason, loaded_at)
        outcome = FileOutcome(
            path.name, label, digest, LoadStatus.QUARANTINED, 0, 0, reason, target
        )
        record_outcome(con, outcome, loaded_at)
        log.warning("quarantined %s", reason)
        return outcome
    con.execute("begin transaction")
    try:
        loaded = sum(
            _insert(con, table, arrow, path.name, digest, loaded_at)
            for table, arrow in parsed.tables.items()
        )
        outcome = FileOutcome(path.name, label, digest, LoadStatus.LOADED, parsed.rows, loaded)
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


def load_inbox_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: Path,
    archive_dir: Path,
    quarantine_dir: Path,
) -> FileOutcome:
    """Parse and load one file (:func:`parse_inbox_file`, then :func:`load_parsed_file`)."""
    return load_parsed_file(con, parse_inbox_file(kind, path), archive_dir, quarantine_dir)


CHECKPOINT_THRESHOLD = "64MiB"
"""DuckDB's automatic checkpoint threshold (WAL size) while the inbox loads. At the default
(16 MiB) a checkpoint follows every few files, and each one compresses again the row groups
the previous one had written: half the loader's time at workload M. Every commit is still
durable in the WAL; only the compaction into the database file comes less often."""


@contextmanager
def _fewer_checkpoints(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Raise the checkpoint threshold for the load, then put back what it was (the setting
    is the database's, shared by every connection of this process to it)."""
    row = con.execute("select current_setting('checkpoint_threshold')").fetchone()
    con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    try:
        yield
    finally:
        if row is not None:
            con.execute("set checkpoint_threshold = ?", [row[0]])


def _load_all(
    parsed_files: Iterable[ParsedInboxFile],
    warehouse: Path,
    archive_dir: Path,
    quarantine_dir: Path,
    on_file: Callable[[InboxOutcome], None] | None,
) -> list[InboxOutcome]:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    outcomes: list[InboxOutcome] = []
    with duckdb.connect(str(warehouse)) as con, _fewer_checkpoints(con):
        ensure_warehouse(con)  # creates raw.x12_* as well
        for parsed in parsed_files:
            kind = parsed.kind
            outcome = InboxOutcome(
                kind,
                load_parsed_file(con, parsed, archive_dir / kind, quarantine_dir / "inbox" / kind),
            )
            outcomes.append(outcome)
            if on_file is not None:
                on_file(outcome)
    return outcomes


def load_parsed_inbox(
    parsed: Iterable[ParsedInboxFile],
    warehouse: Path,
    archive_dir: Path,
    quarantine_dir: Path,
    on_file: Callable[[InboxOutcome], None] | None = None,
) -> list[InboxOutcome]:
    """Load files parsed elsewhere (e.g. Prefect tasks), in load order whatever the order
    given; archive under ``archive_dir/<kind>/``, quarantine under
    ``quarantine_dir/inbox/<kind>/``. Returns what :func:`load_inbox` returns."""
    ordered = sorted(parsed, key=_load_order)
    return _load_all(ordered, warehouse, archive_dir, quarantine_dir, on_file)


def _parsed_in_order(files: list[tuple[str, Path]]) -> Generator[ParsedInboxFile, None, None]:
    """Parse ``files``, yielding results in the order given: in a pool when it pays."""
    workers = min(POOL_WORKERS, os.cpu_count() or 1)
    if not _pool_pays(files, workers):
        for kind, path in files:
            yield parse_inbox_file(kind, path)
        return
    # forkserver: workers start from a clean single-threaded process (this one may hold
    # DuckDB and Prefect threads, which fork would copy mid-state), with the parsers imported
    # once in the server rather than once per worker; pandas too, which pyarrow imports on
    # its first conversion of a Python list (most of a second).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "pandas"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    waiting = iter(files)
    pending: deque[tuple[str, Path, Future[ParsedInboxFile] | None]] = deque()
    try:
        while True:
            # A bounded look-ahead: a few parsed files are held at a time, not the batch.
            while len(pending) <= workers and (following := next(waiting, None)) is not None:
                kind, path = following
                pending.append((kind, path, _submit(pool, kind, path)))
            if not pending:
                return
            kind, path, future = pending.popleft()
            try:
                if future is None:
                    raise BrokenProcessPool("the pool was already broken")
                yield future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory): this process parses what is left.
                log.warning("the inbox parsing pool stopped; parsing in-process from %s", path.name)
                yield parse_inbox_file(kind, path)
                for kind, path, _future in pending:
                    yield parse_inbox_file(kind, path)
                for kind, path in waiting:
                    yield parse_inbox_file(kind, path)
                return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, kind: str, path: Path) -> Future[ParsedInboxFile] | None:
    try:
        return pool.submit(parse_inbox_file, kind, path)
    except BrokenProcessPool:
        return None


def _pool_pays(files: list[tuple[str, Path]], workers: int) -> bool:
    """Whether parsing ``files`` in a pool saves time: two cores or more, enough bytes, and a
    process allowed to start others (a daemonic one, e.g. a pool worker, is not)."""
    if workers < 2 or len(files) < 2 or multiprocessing.current_process().daemon:
        return False
    return _bytes_to_parse(files) >= POOL_MIN_BYTES


def _bytes_to_parse(files: list[tuple[str, Path]]) -> int:
    total = 0
    for _kind, path in files:
        try:
            total += path.lstat().st_size
        except OSError:
            continue  # gone or unreadable: the parse reports it
    return total


def load_inbox(
    inbox_dir: Path,
    warehouse: Path,
    archive_dir: Path,
    quarantine_dir: Path,
    on_file: Callable[[InboxOutcome], None] | None = None,
) -> list[InboxOutcome]:
    """Load every file waiting in ``inbox/<kind>/``; one bad file never stops the others."""
    parsed = _parsed_in_order(list_inbox(inbox_dir))
    try:
        return _load_all(parsed, warehouse, archive_dir, quarantine_dir, on_file)
    finally:
        parsed.close()  # a load that failed stops the pool now, not when collected
