"""Eligibility inquiries (270) for upcoming and recent encounters, tracked in the warehouse.

What ``revcycle eligibility`` calls::

    ensure_eligibility_tables(con)
    candidates = fetch_candidates(con, as_of=as_of, days=7, include_recent_unbilled=False)
    result = send_inquiries(con, candidates, outbox_dir, submitter, now, as_of=as_of)

Which encounters (view ``marts.eligibility_inquiry_candidates``: every encounter coverage,
primary and secondary, of a payer that is not self-pay): **upcoming** ones, dated from the
as-of date to ``days`` days after it, and, with ``include_recent_unbilled``, **recent
unbilled** ones, dated in the ``days`` days before the as-of date and not yet sent on an 837.
One inquiry per encounter and coverage per as-of date: running the command twice on the same
day asks nothing twice.

Files: one 270 per payer per run in ``outbox/270/``, ``<payer_id>_270_<ISA13>.x12``,
owner-only (0600) in an owner-only folder (0700), written like the 837s
(:mod:`revcycle.claims.emit`): control numbers reserved in ``ops.control_numbers`` (shared
with the 837s: one sender, one numbering), the file written to ``.<name>.tmp`` and fsynced,
the inquiries recorded, the transaction committed, then the file renamed into place. A crash
before the commit leaves an unrecorded temp file that :func:`recover_outbox` deletes on the
next run; a crash after it leaves a recorded one that it publishes.

``ops.eligibility_inquiries`` - one row per inquiry: ``inquiry_id`` (the TRN02 trace the
payer echoes in its 271: ``<ISA13>-<n>``, n numbering the inquiries of the file), the
file and control numbers, encounter, patient, coverage (and its order: 1 primary, 2
secondary), payer, member id, billing provider NPI, the date of service asked about
(``service_date``, DTP*291), the run's as-of date (``inquiry_date``) and ``sent_at`` (UTC).
dbt reads it (``stg_ops__eligibility_inquiries``) to match the 271 answers.

Logs carry counts and file names, never names, birth dates or member ids.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from revcycle.claims.emit import (
    FILE_MODE,
    _fsync_dir,
    _prepare_outbox,
    _reserve,
    _safe_file_part,
    _temp_path,
    ensure_emission_tables,
)
from revcycle.claims.model import Payer, Person
from revcycle.x12.envelope import ControlNumbers, SubmitterConfig
from revcycle.x12.writer_270 import (
    MAX_INQUIRIES_PER_TRANSACTION,
    EligibilityInquiry,
    InformationReceiver,
    transaction_sets_needed,
    write_270,
)

log = logging.getLogger(__name__)

CANDIDATES_VIEW = "marts.eligibility_inquiry_candidates"
DEFAULT_DAYS = 7

INQUIRY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("inquiry_id", "varchar"),
    ("file_name", "varchar"),
    ("interchange_control_number", "varchar"),
    ("group_control_number", "varchar"),
    ("transaction_control_number", "varchar"),
    ("encounter_id", "varchar"),
    ("patient_id", "varchar"),
    ("coverage_id", "varchar"),
    ("coverage_order", "integer"),
    ("payer_id", "varchar"),
    ("member_id", "varchar"),
    ("billing_provider_npi", "varchar"),
    ("service_date", "date"),
    ("inquiry_date", "date"),
    ("sent_at", "timestamp"),
)
"""``ops.eligibility_inquiries`` (the dbt macro ``ensure_ops_eligibility_inquiries`` declares
the same columns)."""


class EligibilityError(RuntimeError):
    """Eligibility inquiries could not be sent."""


@dataclass(frozen=True)
class Candidate:
    """One encounter coverage to verify, as ``marts.eligibility_inquiry_candidates`` has it."""

    encounter_id: str
    service_date: date
    patient_id: str
    coverage_id: str
    coverage_order: int
    payer_id: str
    payer_name: str | None
    member_id: str | None
    is_patient_subscriber: bool
    subscriber: Person | None  # None when the subscriber is not in the patient list
    patient: Person | None
    billing_provider_npi: str | None
    billing_provider_name: str | None
    billing_provider_tin: str | None
    is_billed: bool


@dataclass(frozen=True)
class InquiryFile:
    path: Path
    payer_id: str
    inquiry_count: int
    interchange_control_number: str
    inquiry_ids: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class EligibilityResult:
    files: tuple[InquiryFile, ...]
    skipped: dict[str, int]  # reason -> encounter coverages not asked about
    already_asked: int  # asked about at this as-of date before
    recovered_files: tuple[Path, ...] = ()
    discarded_temp_files: tuple[Path, ...] = ()

    @property
    def inquiry_count(self) -> int:
        return sum(f.inquiry_count for f in self.files)


# --------------------------------------------------------------------------------------------
# Warehouse


def ensure_eligibility_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ops.eligibility_inquiries`` (and the control numbers it needs) when missing."""
    ensure_emission_tables(con)
    body = ", ".join(f"{name} {kind}" for name, kind in INQUIRY_COLUMNS)
    con.execute(f"create table if not exists ops.eligibility_inquiries ({body})")


def _person(row: dict[str, Any], prefix: str) -> Person | None:
    last = row.get(f"{prefix}_last_name")
    if not last:
        return None
    return Person(
        last_name=str(last),
        first_name=row.get(f"{prefix}_first_name"),
        middle_initial=row.get(f"{prefix}_middle_initial"),
        birth_date=row.get(f"{prefix}_birth_date"),
        sex=row.get(f"{prefix}_sex"),
        address=None,
        person_id=row.get(f"{prefix}_id"),
    )


def fetch_candidates(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    days: int = DEFAULT_DAYS,
    include_recent_unbilled: bool = False,
) -> list[Candidate]:
    """Encounter coverages to verify at ``as_of``: dated ``as_of`` .. ``as_of + days``, and
    with ``include_recent_unbilled`` also ``as_of - days`` .. the day before, not billed."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    rows = con.execute(
        f"""
        select * from {CANDIDATES_VIEW}
        where service_date between ? and ?
            or (? and not is_billed and service_date between ? and ?)
        order by payer_id, service_date, encounter_id, coverage_order
        """,
        [
            as_of,
            as_of + timedelta(days=days),
            include_recent_unbilled,
            as_of - timedelta(days=days),
            as_of - timedelta(days=1),
        ],
    )
    names = [d[0] for d in rows.description]
    candidates: list[Candidate] = []
    for values in rows.fetchall():
        row = dict(zip(names, values, strict=True))
        candidates.append(
            Candidate(
                encounter_id=str(row["encounter_id"]),
                service_date=row["service_date"],
                patient_id=str(row["patient_id"]),
                coverage_id=str(row["coverage_id"]),
                coverage_order=int(row["coverage_order"]),
                payer_id=str(row["payer_id"]),
                payer_name=row["payer_name"],
                member_id=row["member_id"],
                is_patient_subscriber=bool(row["is_patient_subscriber"]),
                subscriber=_person(row, "subscriber"),
                patient=_person(row, "patient"),
                billing_provider_npi=row["billing_provider_npi"],
                billing_provider_name=row["billing_provider_name"],
                billing_provider_tin=row["billing_provider_tin"],
                is_billed=bool(row["is_billed"]),
            )
        )
    return candidates


def _why_not(candidate: Candidate) -> str | None:
    """Why a 270 cannot be written for ``candidate`` (None: it can)."""
    if not candidate.payer_name:
        return "payer unknown"
    if not candidate.member_id:
        return "no member id"
    if candidate.subscriber is None:
        return "subscriber unknown"
    if not candidate.is_patient_subscriber and candidate.patient is None:
        return "patient unknown"
    if not candidate.billing_provider_npi or not candidate.billing_provider_name:
        return "billing provider unknown"
    return None


def _inquiry(candidate: Candidate, trace: str) -> EligibilityInquiry:
    assert candidate.subscriber is not None  # checked by _why_not
    return EligibilityInquiry(
        trace_number=trace,
        payer=Payer(candidate.payer_id, candidate.payer_name or ""),
        provider=InformationReceiver(
            name=candidate.billing_provider_name or "",
            npi=candidate.billing_provider_npi or "",
            tin=candidate.billing_provider_tin,
        ),
        subscriber=candidate.subscriber,
        member_id=candidate.member_id or "",
        plan_date=candidate.service_date,
        patient=None if candidate.is_patient_subscriber else candidate.patient,
    )


def _asked_before(con: duckdb.DuckDBPyConnection, as_of: date) -> set[tuple[str, str]]:
    rows = con.execute(
        "select distinct encounter_id, coverage_id from ops.eligibility_inquiries "
        "where inquiry_date = ?",
        [as_of],
    ).fetchall()
    return {(str(e), str(c)) for e, c in rows}


# --------------------------------------------------------------------------------------------
# Outbox


def recover_outbox(
    con: duckdb.DuckDBPyConnection, outbox_dir: Path
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Finish what a crashed run left in the 270 outbox: publish temp files whose inquiries
    were committed, delete the others. Returns (published, deleted)."""
    published: list[Path] = []
    deleted: list[Path] = []
    if not outbox_dir.is_dir():
        return (), ()
    for temp in sorted(outbox_dir.glob(".*.x12.tmp")):
        final = outbox_dir / temp.name[1 : -len(".tmp")]
        recorded = con.execute(
            "select count(*) from ops.eligibility_inquiries where file_name = ?", [final.name]
        ).fetchall()
        if recorded[0][0] > 0:
            temp.replace(final)
            published.append(final)
            log.warning("published %s, left unpublished by an interrupted run", final.name)
        else:
            temp.unlink()
            deleted.append(temp)
            log.warning("deleted %s, an unrecorded file of an interrupted run", temp.name)
    if published or deleted:
        _fsync_dir(outbox_dir)
    return tuple(published), tuple(deleted)


def _inquiry_rows(
    pairs: Sequence[tuple[Candidate, EligibilityInquiry]],
    *,
    file_name: str,
    control: ControlNumbers,
    inquiries_per_transaction: int,
    inquiry_date: date,
    sent_at: datetime,
) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name, _ in INQUIRY_COLUMNS}
    for index, (candidate, inquiry) in enumerate(pairs):
        values = {
            "inquiry_id": inquiry.trace_number,
            "file_name": file_name,
            "interchange_control_number": f"{control.interchange:09d}",
            "group_control_number": str(control.group),
            "transaction_control_number": (
                f"{control.transactions[index // inquiries_per_transaction]:04d}"
            ),
            "encounter_id": candidate.encounter_id,
            "patient_id": candidate.patient_id,
            "coverage_id": candidate.coverage_id,
            "coverage_order": candidate.coverage_order,
            "payer_id": candidate.payer_id,
            "member_id": candidate.member_id,
            "billing_provider_npi": candidate.billing_provider_npi,
            "service_date": candidate.service_date,
            "inquiry_date": inquiry_date,
            "sent_at": sent_at,
        }
        for name, value in values.items():
            columns[name].append(value)
    types = {
        "varchar": pa.string(),
        "integer": pa.int32(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
    }
    schema = pa.schema([(name, types[kind]) for name, kind in INQUIRY_COLUMNS])
    return pa.table(columns, schema=schema)


def _send_file(
    con: duckdb.DuckDBPyConnection,
    payer_id: str,
    candidates: Sequence[Candidate],
    *,
    outbox_dir: Path,
    submitter: SubmitterConfig,
    now: datetime,
    inquiry_date: date,
) -> InquiryFile:
    temp: Path | None = None
    con.begin()
    try:
        (interchange,) = _reserve(con, "interchange", 1, now)
        (group,) = _reserve(con, "group", 1, now)
        transactions = _reserve(con, "transaction", transaction_sets_needed(len(candidates)), now)
        control = ControlNumbers(interchange=interchange, group=group, transactions=transactions)
        pairs = [
            (candidate, _inquiry(candidate, f"{interchange:09d}-{n:05d}"))
            for n, candidate in enumerate(candidates, 1)
        ]
        final = outbox_dir / f"{_safe_file_part(payer_id)}_270_{interchange:09d}.x12"
        temp = _temp_path(final)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii", newline="") as out:
            summary = write_270(
                out,
                [inquiry for _, inquiry in pairs],
                submitter=submitter,
                control=control,
                now=now,
            )
            out.flush()
            os.fsync(out.fileno())
        rows = _inquiry_rows(
            pairs,
            file_name=final.name,
            control=control,
            inquiries_per_transaction=MAX_INQUIRIES_PER_TRANSACTION,
            inquiry_date=inquiry_date,
            sent_at=now,
        )
        con.register("_eligibility_rows", rows)
        try:
            names = ", ".join(name for name, _ in INQUIRY_COLUMNS)
            con.execute(
                f"insert into ops.eligibility_inquiries ({names}) "
                f"select {names} from _eligibility_rows"
            )
        finally:
            con.unregister("_eligibility_rows")
        con.commit()
    except BaseException:
        try:
            con.rollback()
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)
        raise
    temp.replace(final)  # committed: publish (recover_outbox finishes this after a crash)
    _fsync_dir(outbox_dir)
    log.info("wrote %s: %d eligibility inquiries", final.name, summary.inquiry_count)
    return InquiryFile(
        path=final,
        payer_id=payer_id,
        inquiry_count=summary.inquiry_count,
        interchange_control_number=summary.interchange_control_number,
        inquiry_ids=summary.trace_numbers,
    )


def send_inquiries(
    con: duckdb.DuckDBPyConnection,
    candidates: Sequence[Candidate],
    outbox_dir: Path,
    submitter: SubmitterConfig,
    now: datetime,
    *,
    as_of: date,
) -> EligibilityResult:
    """Write one 270 per payer for ``candidates`` not asked about at ``as_of`` yet, recording
    every inquiry in ``ops.eligibility_inquiries``. ``now`` is the interchange time and
    ``sent_at`` (UTC, naive)."""
    ensure_eligibility_tables(con)
    _prepare_outbox(outbox_dir)
    recovered, discarded = recover_outbox(con, outbox_dir)
    asked = _asked_before(con, as_of)
    skipped: Counter[str] = Counter()
    already = 0
    by_payer: dict[str, list[Candidate]] = {}
    seen: set[tuple[str, str]] = set()
    for candidate in candidates:
        key = (candidate.encounter_id, candidate.coverage_id)
        if key in asked or key in seen:
            already += 1
            continue
        seen.add(key)
        reason = _why_not(candidate)
        if reason is not None:
            skipped[reason] += 1
            continue
        by_payer.setdefault(candidate.payer_id, []).append(candidate)
    files = [
        _send_file(
            con,
            payer_id,
            payer_candidates,
            outbox_dir=outbox_dir,
            submitter=submitter,
            now=now,
            inquiry_date=as_of,
        )
        for payer_id, payer_candidates in sorted(by_payer.items())
    ]
    if skipped:
        log.warning("eligibility: not asked about %s", dict(sorted(skipped.items())))
    return EligibilityResult(
        files=tuple(files),
        skipped=dict(sorted(skipped.items())),
        already_asked=already,
        recovered_files=recovered,
        discarded_temp_files=discarded,
    )


def now_utc() -> datetime:
    """The current UTC time without tzinfo (the warehouse stores naive UTC timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
