"""Emitting claim files: ready claims in, one 837 file per payer and claim type out, every
control number and every submitted claim and line recorded in the warehouse.

What the flow calls::

    claims_df, lines_df = fetch_ready_to_bill(con)        # Decimal money, never float
    ... the gate validates exactly these frames ...
    result = emit_claim_files(con, claims_df, lines_df, outbox_dir, submitter, now)

Files are named ``<payer_id>_<837P|837I>_<ISA13>.x12``, owner-only (0600) in an owner-only
outbox (0700). A transport must pick up only ``*.x12``: while a file is being written it is
``.<name>.tmp``.

Tables (``ensure_emission_tables``):

- ``ops.control_numbers`` - one row per kind (``interchange``, ``group``, ``transaction``) with
  the last number used. Numbers only ever go up.
- ``ops.submissions`` - one row per submitted claim (``claim_line_id`` null) and one per
  submitted line (``claim_line_id`` set), both with the file, the three control numbers, the
  claim frequency code, the payer and ``submitted_at`` (UTC). One table rather than two
  because the dbt side (``stg_ops__submissions``) reads exactly these columns and a claim
  row and its line rows share everything but the line id. ``submission_id`` is
  ``<ISA13>-<claim_id>`` for a claim row and ``<ISA13>-<claim_line_id>`` for a line row.

Crash ordering, per file. The aim: a control number is never reused in a file anyone can see,
a claim never goes out twice, and a recorded claim is never silently not sent.

1. BEGIN; reserve ISA13, GS06 and the ST02 numbers (UPDATE ... RETURNING);
2. write the file to ``.<name>.tmp`` in the outbox, flush, fsync;
3. insert the submission rows; COMMIT;
4. ``os.replace`` the temp file to ``<name>``, fsync the directory.

- Crash before 3 commits: the database rolls the reservation and the rows back; the temp file
  is an orphan nobody picks up (hidden, ``.tmp``). The next run deletes it
  (:func:`recover_outbox`) and may use the same numbers again - they never appeared in a
  published file, so nothing is reused that anyone saw. The claims are offered again.
- Crash after 3, before 4: the claims are recorded, the file is complete and fsynced under
  its temp name. The next run finds submission rows for that file name and finishes the
  rename (roll forward). So "recorded" always ends as "sent".
- Publishing only after the commit is what prevents duplicates: a published file always has
  its claims recorded, so the ready-to-bill views can never offer them again.

Duplicate rule: a claim id already submitted is refused unless the new claim is a
replacement (7) or void (8) with the payer's claim control number; a replacement or void of a
claim never submitted, or of a claim already voided, is refused as well. Refusals raise
:class:`DuplicateSubmissionError` listing every offending claim *before anything is written*:
the views already exclude submitted claims, so a duplicate here means stale frames or a
concurrent run, which an operator must look at, and the gate validated exactly this batch -
silently writing a different batch would break that promise.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revcycle.claims.model import (
    FREQUENCY_ORIGINAL,
    FREQUENCY_VOID,
    Claim,
    ClaimType,
    claims_from_frames,
)
from revcycle.gc_pause import gc_paused
from revcycle.x12.envelope import (
    DEFAULT_CLAIMS_PER_TRANSACTION,
    MAX_CONTROL_NUMBER,
    ControlNumberError,
    ControlNumbers,
    SubmitterConfig,
    WriteSummary,
    transaction_sets_needed,
)
from revcycle.x12.writer_837i import write_837i
from revcycle.x12.writer_837p import write_837p

log = logging.getLogger(__name__)

CLAIMS_VIEW = "marts.claims_ready_to_bill"
LINES_VIEW = "marts.claim_lines_ready_to_bill"
SECONDARY_CLAIMS_VIEW = "marts.secondary_claims_ready_to_bill"
SECONDARY_LINES_VIEW = "marts.secondary_claim_lines_ready_to_bill"
CONTROL_KINDS = ("interchange", "group", "transaction")
FILE_MODE = 0o600
OUTBOX_MODE = 0o700
_TEMP_PREFIX = "."
_TEMP_SUFFIX = ".tmp"

# The columns stg_ops__submissions reads; keep them (and their order) as they are.
SUBMISSION_COLUMNS = (
    "submission_id",
    "file_name",
    "interchange_control_number",
    "group_control_number",
    "transaction_control_number",
    "claim_id",
    "claim_line_id",
    "claim_frequency_code",
    "payer_id",
    "submitted_at",
)

_DDL = """
create schema if not exists ops;
create table if not exists ops.control_numbers (
    kind varchar primary key,
    last_number bigint not null,
    updated_at timestamp
);
insert into ops.control_numbers (kind, last_number)
select kind, 0
from (values ('interchange'), ('group'), ('transaction')) as wanted (kind)
where kind not in (select kind from ops.control_numbers);
create table if not exists ops.submissions (
    submission_id varchar,
    file_name varchar,
    interchange_control_number varchar,
    group_control_number varchar,
    transaction_control_number varchar,
    claim_id varchar,
    claim_line_id varchar,
    claim_frequency_code varchar,
    payer_id varchar,
    submitted_at timestamp
);
"""


class EmissionError(RuntimeError):
    """Claims could not be emitted."""


class DuplicateSubmissionError(EmissionError):
    """Claims that may not be submitted (again); nothing was written."""

    def __init__(self, reasons: dict[str, str]) -> None:
        listed = "; ".join(f"{claim_id}: {why}" for claim_id, why in sorted(reasons.items()))
        super().__init__(f"{len(reasons)} claim(s) refused, nothing written: {listed}")
        self.reasons = reasons


@dataclass(frozen=True)
class EmittedFile:
    path: Path
    payer_id: str
    claim_type: ClaimType
    claim_count: int
    line_count: int
    total_charge_amount: Decimal
    interchange_control_number: str
    group_control_number: str
    transaction_control_numbers: tuple[str, ...]


@dataclass(frozen=True)
class EmissionResult:
    files: tuple[EmittedFile, ...]
    recovered_files: tuple[Path, ...] = ()  # temp files of an earlier crash, now published
    discarded_temp_files: tuple[Path, ...] = ()  # temp files of an earlier crash, deleted

    @property
    def claim_count(self) -> int:
        return sum(f.claim_count for f in self.files)

    @property
    def line_count(self) -> int:
        return sum(f.line_count for f in self.files)

    @property
    def total_charge_amount(self) -> Decimal:
        return sum((f.total_charge_amount for f in self.files), Decimal("0.00"))


# --------------------------------------------------------------------------------------------
# Warehouse


def ensure_emission_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ops.control_numbers`` (seeded at 0) and ``ops.submissions`` when missing."""
    con.execute(_DDL)


# Integers and booleans keep their nulls as pandas NA instead of turning into float64. Text
# becomes pandas 3's "str" dtype with Arrow storage: read straight from DuckDB's Arrow result,
# it takes half the time and under half the memory of one Python string per value (a million
# claims: 9 s and 2.8 GB instead of 17 s and 5.1 GB), and GX's regex checks run on it in
# Arrow. (Python storage was chosen when the gate merged frames: pandas could not merge two
# empty Arrow string columns. The gate no longer merges.)
_ARROW_TO_PANDAS: dict[pa.DataType, Any] = {
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow", na_value=float("nan")),
    pa.large_string(): pd.StringDtype("pyarrow", na_value=float("nan")),
}


def fetch_ready_to_bill(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ready-to-bill claims and lines as DataFrames with money as ``Decimal`` (object
    columns) and dates as ``datetime.date``: the primary claims' views followed by the
    secondary (COB) claims' views, whose extra ``other_payer_*`` columns are empty on
    primary rows. Read through Arrow because DuckDB's ``.df()`` converts
    DECIMAL to float64."""

    def read(sql: str) -> pd.DataFrame:
        table = con.sql(sql).to_arrow_table()
        frame: pd.DataFrame = table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)
        return frame

    claims = read(f"select * from {CLAIMS_VIEW} order by claim_id")
    lines = read(f"select * from {LINES_VIEW} order by claim_id, line_number")
    if not _has_relation(con, SECONDARY_CLAIMS_VIEW):
        return claims, lines
    # Secondary (COB) claims: the same columns plus the primary payer's adjudication.
    secondary_claims = read(f"select * from {SECONDARY_CLAIMS_VIEW} order by claim_id")
    if secondary_claims.empty:
        return claims, lines
    secondary_lines = read(f"select * from {SECONDARY_LINES_VIEW} order by claim_id, line_number")
    if claims.empty:
        return secondary_claims, secondary_lines
    return (
        pd.concat([claims, secondary_claims], ignore_index=True),
        pd.concat([lines, secondary_lines], ignore_index=True),
    )


def _has_relation(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    schema, name = qualified_name.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(found[0][0])


def _reserve(con: duckdb.DuckDBPyConnection, kind: str, count: int, now: datetime) -> range:
    returned = con.execute(
        "update ops.control_numbers set last_number = last_number + ?, updated_at = ? "
        "where kind = ? returning last_number",
        [count, now, kind],
    ).fetchall()  # fetchall, not fetchone: DuckDB 2 keeps a half-read result open
    if not returned:
        raise EmissionError(f"ops.control_numbers has no row for {kind!r}")
    last = int(returned[0][0])
    if last > MAX_CONTROL_NUMBER:
        raise ControlNumberError(f"{kind} control numbers are exhausted (last used {last})")
    return range(last - count + 1, last + 1)


def _refusals(con: duckdb.DuckDBPyConnection, claims: Sequence[Claim]) -> dict[str, str]:
    """Claim id -> why it may not be submitted (see the module docstring)."""
    reasons: dict[str, str] = {}
    seen: set[str] = set()
    for claim in claims:
        if claim.claim_id in seen:
            reasons[claim.claim_id] = "appears twice in this batch"
        seen.add(claim.claim_id)
    if not claims:
        return reasons
    ids = pa.table({"claim_id": pa.array(list(seen), pa.string())})  # the query orders
    con.register("_emit_claim_ids", ids)
    try:
        rows = con.execute(
            "select s.claim_id, s.claim_frequency_code, s.file_name "
            "from ops.submissions as s join _emit_claim_ids using (claim_id) "
            "where s.claim_line_id is null "
            "order by s.claim_id, s.submitted_at, s.interchange_control_number"
        ).fetchall()
    finally:
        con.unregister("_emit_claim_ids")
    history: dict[str, list[tuple[str, str]]] = {}
    for claim_id, frequency, file_name in rows:
        history.setdefault(str(claim_id), []).append((str(frequency), str(file_name)))
    for claim in claims:
        past = history.get(claim.claim_id)
        if claim.frequency_code == FREQUENCY_ORIGINAL:
            if past:
                reasons.setdefault(
                    claim.claim_id,
                    f"already submitted (in {past[0][1]}); send a replacement (7) or void (8)",
                )
        elif not past:
            reasons.setdefault(
                claim.claim_id,
                f"frequency {claim.frequency_code} but the claim was never submitted",
            )
        elif past[-1][0] == FREQUENCY_VOID:
            reasons.setdefault(claim.claim_id, f"already voided (in {past[-1][1]})")
    return reasons


def _submission_rows(
    claims: Sequence[Claim],
    *,
    file_name: str,
    control: ControlNumbers,
    claims_per_transaction: int,
    submitted_at: datetime,
) -> pa.Table:
    """One row per claim followed by one per line of it, in the order of ``claims``. Built as
    Arrow columns: a night is hundreds of thousands of rows."""
    interchange = f"{control.interchange:09d}"
    claim_count = len(claims)
    line_ids = [line.claim_line_id for claim in claims for line in claim.lines]
    rows_per_claim = np.fromiter((len(claim.lines) + 1 for claim in claims), np.int64, claim_count)
    claim_of_row = np.repeat(np.arange(claim_count), rows_per_claim)
    claim_rows = np.cumsum(rows_per_claim) - rows_per_claim
    # Where each row's id comes from in [claim ids..., line ids...].
    source = np.empty(len(claim_of_row), np.int64)
    on_line_row = np.ones(len(claim_of_row), np.bool_)
    on_line_row[claim_rows] = False
    source[claim_rows] = np.arange(claim_count)
    source[on_line_row] = np.arange(claim_count, claim_count + len(line_ids))
    claim_ids = [claim.claim_id for claim in claims]
    ids = pa.array(claim_ids + line_ids, pa.string()).take(source)

    def per_claim(values: list[str]) -> pa.Array:
        return pa.array(values, pa.string()).take(claim_of_row)

    def constant(value: str) -> pa.Array:
        return pa.repeat(pa.scalar(value, pa.string()), len(source))

    # The writer fills each ST with the next claims_per_transaction claims in this order.
    transactions = [f"{number:04d}" for number in control.transactions]
    columns = {
        "submission_id": pc.binary_join_element_wise(interchange, ids, "-"),
        "file_name": constant(file_name),
        "interchange_control_number": constant(interchange),
        "group_control_number": constant(str(control.group)),
        "transaction_control_number": per_claim(
            [transactions[index // claims_per_transaction] for index in range(claim_count)]
        ),
        "claim_id": per_claim(claim_ids),
        "claim_line_id": pa.array([None] * claim_count + line_ids, pa.string()).take(source),
        "claim_frequency_code": per_claim([claim.frequency_code for claim in claims]),
        "payer_id": per_claim([claim.payer.payer_id for claim in claims]),
        "submitted_at": pa.repeat(pa.scalar(submitted_at, pa.timestamp("us")), len(source)),
    }
    return pa.table([columns[name] for name in SUBMISSION_COLUMNS], names=list(SUBMISSION_COLUMNS))


# --------------------------------------------------------------------------------------------
# Outbox


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prepare_outbox(outbox_dir: Path) -> None:
    outbox_dir.mkdir(parents=True, exist_ok=True)
    outbox_dir.chmod(OUTBOX_MODE)  # mkdir's mode is filtered by the umask; be explicit


def _temp_path(final: Path) -> Path:
    return final.with_name(f"{_TEMP_PREFIX}{final.name}{_TEMP_SUFFIX}")


def recover_outbox(
    con: duckdb.DuckDBPyConnection, outbox_dir: Path
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Finish what a crashed run left in the outbox: publish temp files whose submissions were
    committed, delete the others. Returns (published, deleted)."""
    published: list[Path] = []
    deleted: list[Path] = []
    if not outbox_dir.is_dir():
        return (), ()
    for temp in sorted(outbox_dir.glob(f"{_TEMP_PREFIX}*.x12{_TEMP_SUFFIX}")):
        final = outbox_dir / temp.name[len(_TEMP_PREFIX) : -len(_TEMP_SUFFIX)]
        recorded = con.execute(
            "select count(*) from ops.submissions where file_name = ?", [final.name]
        ).fetchall()
        if recorded[0][0] > 0:
            temp.replace(final)  # os.replace: atomic within one folder
            published.append(final)
            log.warning("published %s, left unpublished by an interrupted run", final.name)
        else:
            temp.unlink()
            deleted.append(temp)
            log.warning("deleted %s, an unrecorded file of an interrupted run", temp.name)
    if published or deleted:
        _fsync_dir(outbox_dir)
    return tuple(published), tuple(deleted)


def _safe_file_part(payer_id: str) -> str:
    part = re.sub(r"[^A-Za-z0-9]", "", payer_id).upper()
    if not part:
        raise EmissionError(f"payer id {payer_id!r} has nothing usable in a file name")
    return part


def _write(
    claim_type: ClaimType,
    out: TextIO,
    claims: Sequence[Claim],
    submitter: SubmitterConfig,
    control: ControlNumbers,
    now: datetime,
    claims_per_transaction: int,
) -> WriteSummary:
    writer = write_837p if claim_type is ClaimType.PROFESSIONAL else write_837i
    return writer(
        out,
        claims,
        submitter=submitter,
        control=control,
        now=now,
        claims_per_transaction=claims_per_transaction,
    )


def _hierarchy_order(claim: Claim) -> tuple[str, ...]:
    """Sort key that puts claims sharing a 2000A/2000B/2000C next to each other, so they land
    in the same transaction set and share loops."""
    return (
        claim.billing_provider.npi,
        claim.subscriber.member_id,
        "0" if claim.is_patient_subscriber else "1",
        claim.patient.person_id or claim.patient.last_name,
        claim.claim_id,
    )


def _emit_file(
    con: duckdb.DuckDBPyConnection,
    claims: Sequence[Claim],
    *,
    payer_id: str,
    claim_type: ClaimType,
    outbox_dir: Path,
    submitter: SubmitterConfig,
    now: datetime,
    submitted_at: datetime,
    claims_per_transaction: int,
) -> EmittedFile:
    transaction_count = transaction_sets_needed(len(claims), claims_per_transaction)
    temp: Path | None = None
    con.begin()
    try:
        # Checked again inside the transaction that records the rows: nothing can slip in
        # between the check and the insert.
        reasons = _refusals(con, claims)
        if reasons:
            raise DuplicateSubmissionError(reasons)
        (interchange,) = _reserve(con, "interchange", 1, submitted_at)
        (group,) = _reserve(con, "group", 1, submitted_at)
        transactions = _reserve(con, "transaction", transaction_count, submitted_at)
        control = ControlNumbers(interchange=interchange, group=group, transactions=transactions)
        final = (
            outbox_dir
            / f"{_safe_file_part(payer_id)}_{claim_type.transaction}_{interchange:09d}.x12"
        )
        temp = _temp_path(final)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii", newline="", buffering=1 << 20) as out:
            summary = _write(
                claim_type, out, claims, submitter, control, now, claims_per_transaction
            )
            out.flush()
            os.fsync(out.fileno())
        rows = _submission_rows(
            claims,
            file_name=final.name,
            control=control,
            claims_per_transaction=claims_per_transaction,
            submitted_at=submitted_at,
        )
        con.register("_emit_submissions", rows)
        try:
            con.execute(
                f"insert into ops.submissions ({', '.join(SUBMISSION_COLUMNS)}) "
                f"select {', '.join(SUBMISSION_COLUMNS)} from _emit_submissions"
            )
        finally:
            con.unregister("_emit_submissions")
        con.commit()
    except BaseException:
        try:
            con.rollback()
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)
        raise
    # Committed: from here on the file must come out under its final name. If we die before
    # the rename, recover_outbox does it on the next run.
    temp.replace(final)  # os.replace: atomic within one folder
    _fsync_dir(outbox_dir)
    log.info(
        "wrote %s: %d claims, %d lines, %s billed",
        final.name,
        summary.claim_count,
        summary.line_count,
        summary.total_charge_amount,
    )
    return EmittedFile(
        path=final,
        payer_id=payer_id,
        claim_type=claim_type,
        claim_count=summary.claim_count,
        line_count=summary.line_count,
        total_charge_amount=summary.total_charge_amount,
        interchange_control_number=summary.interchange_control_number,
        group_control_number=summary.group_control_number,
        transaction_control_numbers=summary.transaction_control_numbers,
    )


def emit_claims(
    con: duckdb.DuckDBPyConnection,
    claims: Sequence[Claim],
    outbox_dir: Path,
    submitter: SubmitterConfig,
    now: datetime,
    *,
    claims_per_transaction: int = DEFAULT_CLAIMS_PER_TRANSACTION,
) -> EmissionResult:
    """Write ``claims`` as one file per payer and claim type, recording everything.

    This is also the API for replacements and voids (frequency 7/8 claims built by the
    caller with the payer's claim control number), which never come from the views.
    ``now`` is the run time: envelope dates and ``submitted_at`` (stored as naive UTC).
    Must be called outside an open transaction on ``con``.
    """
    ensure_emission_tables(con)
    _prepare_outbox(outbox_dir)
    published, deleted = recover_outbox(con, outbox_dir)
    submitted_at = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    reasons = _refusals(con, claims)
    if reasons:
        raise DuplicateSubmissionError(reasons)

    batches: dict[tuple[str, ClaimType], list[Claim]] = {}
    for claim in claims:
        batches.setdefault((claim.payer.payer_id, claim.claim_type), []).append(claim)
    files = []
    for (payer_id, claim_type), batch in sorted(batches.items()):
        batch.sort(key=_hierarchy_order)
        files.append(
            _emit_file(
                con,
                batch,
                payer_id=payer_id,
                claim_type=claim_type,
                outbox_dir=outbox_dir,
                submitter=submitter,
                now=now,
                submitted_at=submitted_at,
                claims_per_transaction=claims_per_transaction,
            )
        )
    return EmissionResult(
        files=tuple(files), recovered_files=published, discarded_temp_files=deleted
    )


def emit_claim_files(
    con: duckdb.DuckDBPyConnection,
    claims_df: pd.DataFrame,
    lines_df: pd.DataFrame,
    outbox_dir: Path,
    submitter: SubmitterConfig,
    now: datetime,
    *,
    claims_per_transaction: int = DEFAULT_CLAIMS_PER_TRANSACTION,
) -> EmissionResult:
    """Emit the ready-to-bill frames (read with :func:`fetch_ready_to_bill` and gated)."""
    # The claims are a few million small objects without reference cycles: collections
    # while they are built and written would only walk them again and again.
    with gc_paused():
        claims = list(claims_from_frames(claims_df, lines_df))
        result = emit_claims(
            con,
            claims,
            outbox_dir,
            submitter,
            now,
            claims_per_transaction=claims_per_transaction,
        )
        # Freed by reference counting while collections are still paused: the first
        # collection after the pause would otherwise walk every claim once more.
        del claims
    return result
