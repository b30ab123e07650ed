"""The simulated clearinghouse's memory: ``<inbox>/.sim_state.json``.

It holds what the outside world would remember between runs, and nothing about patients:

- ``answered``: every 837 file name answered (never answered twice), with its sha256 and
  the files written in reply;
- ``next_control_number``: the clearinghouse's interchange numbering (ISA13 = GS06 of every
  file it sends), and ``next_trace_number`` for check and EFT trace numbers (TRN02);
- ``adjudications``: per payer claim control number (CLP07), the claim it paid or denied and
  its totals and claim-level adjustments (what a reversal must negate when a void or a
  replacement arrives), and whether it still stands; ``claims``: claim id -> the CLP07s
  that stand (for duplicate detection and voids);
- ``balances_forward``: per payer and payee, a negative balance carried to the next payment
  (PLB ``FB``, with the trace number of the payment it arose in), so that no payment is ever
  negative.

Written atomically (temp file, fsync, ``os.replace``), owner-only. A lock file
(``.sim_state.lock``, ``fcntl.flock``) keeps two simulations from answering the same inbox at
once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from revcycle.sim.remittance import Adjustment, RemitClaim

STATE_FILE = ".sim_state.json"
LOCK_FILE = ".sim_state.lock"
FILE_MODE = 0o600
STATE_VERSION = 1
_ZERO = Decimal("0.00")
_SEPARATORS = (",", ":")
# json.dumps's text of a string (ensure_ascii: quoted, escaped, ASCII only); the C version.
_json_text: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


class SimStateError(RuntimeError):
    """The state file is unreadable or from an unknown version."""


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """A payer's adjudication as the payer remembers it (no names, no member ids). Slotted:
    the ledger holds one per claim ever adjudicated."""

    claim_id: str
    payer_id: str
    payee_npi: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str
    facility_code: str
    frequency_code: str
    statement_from: date | None
    statement_to: date | None
    adjustments: tuple[Adjustment, ...]  # all CAS of the claim, summed per group and reason
    current: bool = True

    @classmethod
    def from_remit(cls, claim: RemitClaim, payer_id: str, payee_npi: str) -> LedgerRecord:
        totals: dict[tuple[str, str], Decimal] = {}
        for adjustment in claim.all_adjustments():
            key = (adjustment.group, adjustment.reason)
            totals[key] = totals.get(key, _ZERO) + adjustment.amount
        return cls(
            claim_id=claim.claim_id,
            payer_id=payer_id,
            payee_npi=payee_npi,
            status=claim.status,
            charge=claim.charge,
            paid=claim.paid,
            patient_responsibility=claim.patient_responsibility,
            filing_indicator=claim.filing_indicator,
            facility_code=claim.facility_code,
            frequency_code=claim.frequency_code,
            statement_from=claim.statement_from,
            statement_to=claim.statement_to,
            adjustments=tuple(Adjustment(g, r, a) for (g, r), a in totals.items() if a != 0),
        )

    def to_json_text(self) -> str:
        """The record as a compact JSON row (the ledger holds one per claim ever adjudicated):
        claim id, payer id, payee NPI, status, charge, paid, patient responsibility, filing
        indicator, facility code, frequency code, statement dates (ISO or empty), adjustments
        (``[group, reason, amount]``) and whether it stands; the text ``json.dumps`` gives."""
        text = _json_text
        adjustments = ",".join(
            f'[{text(a.group)},{text(a.reason)},"{a.amount!s}"]' for a in self.adjustments
        )
        return (
            f"[{text(self.claim_id)},{text(self.payer_id)},{text(self.payee_npi)},"
            f'{text(self.status)},"{self.charge!s}","{self.paid!s}","{self.patient_responsibility!s}",'
            f"{text(self.filing_indicator)},{text(self.facility_code)},"
            f'{text(self.frequency_code)},"{_iso(self.statement_from)}",'
            f'"{_iso(self.statement_to)}",[{adjustments}],{"true" if self.current else "false"}]'
        )

    @classmethod
    def from_json(cls, row: list[Any]) -> LedgerRecord:
        def day(value: str) -> date | None:
            return date.fromisoformat(value) if value else None

        (
            claim_id,
            payer_id,
            payee_npi,
            status,
            charge,
            paid,
            owed,
            filing,
            facility,
            frequency,
            start,
            end,
            adjustments,
            current,
        ) = row
        return cls(
            claim_id=claim_id,
            payer_id=payer_id,
            payee_npi=payee_npi,
            status=status,
            charge=Decimal(charge),
            paid=Decimal(paid),
            patient_responsibility=Decimal(owed),
            filing_indicator=filing,
            facility_code=facility,
            frequency_code=frequency,
            statement_from=day(start),
            statement_to=day(end),
            adjustments=tuple(Adjustment(g, r, Decimal(a)) for g, r, a in adjustments),
            current=bool(current),
        )


@dataclass
class SimState:
    next_control_number: int = 1
    next_trace_number: int = 1
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    adjudications: dict[str, LedgerRecord] = field(default_factory=dict)
    claims: dict[str, list[str]] = field(default_factory=dict)
    balances_forward: dict[str, tuple[Decimal, str]] = field(default_factory=dict)

    def take_control_number(self) -> int:
        number = self.next_control_number
        self.next_control_number += 1
        return number

    def take_trace_number(self) -> int:
        number = self.next_trace_number
        self.next_trace_number += 1
        return number

    def record(self, payer_claim_number: str, record: LedgerRecord) -> None:
        self.adjudications[payer_claim_number] = record
        standing = self.claims.setdefault(record.claim_id, [])
        if payer_claim_number not in standing:
            standing.append(payer_claim_number)

    def retire(self, payer_claim_number: str) -> None:
        """A reversed adjudication no longer stands."""
        record = self.adjudications.get(payer_claim_number)
        if record is None:
            return
        self.adjudications[payer_claim_number] = replace(record, current=False)
        standing = self.claims.get(record.claim_id, [])
        if payer_claim_number in standing:
            standing.remove(payer_claim_number)
        if not standing:
            self.claims.pop(record.claim_id, None)

    def renumber(self, numbers: Mapping[str, str]) -> None:
        """File the records kept under provisional payer claim numbers (``numbers``' keys)
        under their final ones, in place in the claims' standing lists."""
        for provisional, final in numbers.items():
            record = self.adjudications.pop(provisional, None)
            if record is None:
                continue
            self.adjudications[final] = record
            standing = self.claims.get(record.claim_id, [])
            if provisional in standing:
                standing[standing.index(provisional)] = final

    def standing(self, claim_id: str) -> list[str]:
        return list(self.claims.get(claim_id, ()))

    def json_chunks(self) -> Iterator[str]:
        """The state file's text in pieces, one per ledger record and claim: the text of
        ``json.dumps(<the state as a dict>, separators=(",", ":"), sort_keys=True)``,
        without ever holding the ledger as one JSON structure or one string."""
        text = _json_text
        yield '{"adjudications":{'
        for n, number in enumerate(sorted(self.adjudications)):
            record = self.adjudications[number].to_json_text()
            yield f"{',' if n else ''}{text(number)}:{record}"
        yield '},"answered":'
        yield json.dumps(self.answered, separators=_SEPARATORS, sort_keys=True)
        yield ',"balances_forward":'
        balances = {k: [str(amount), ref] for k, (amount, ref) in self.balances_forward.items()}
        yield json.dumps(balances, separators=_SEPARATORS, sort_keys=True)
        yield ',"claims":{'
        for n, claim_id in enumerate(sorted(self.claims)):
            numbers = ",".join(map(text, self.claims[claim_id]))
            yield f"{',' if n else ''}{text(claim_id)}:[{numbers}]"
        yield (
            f'}},"next_control_number":{self.next_control_number},'
            f'"next_trace_number":{self.next_trace_number},"version":{STATE_VERSION}}}'
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimState:
        if data.get("version") != STATE_VERSION:
            raise SimStateError(f"simulation state version {data.get('version')!r} is unknown")
        return cls(
            next_control_number=int(data["next_control_number"]),
            next_trace_number=int(data["next_trace_number"]),
            answered=dict(data["answered"]),
            adjudications={k: LedgerRecord.from_json(v) for k, v in data["adjudications"].items()},
            claims={k: list(v) for k, v in data["claims"].items()},
            balances_forward={
                k: (Decimal(amount), str(reference))
                for k, (amount, reference) in data["balances_forward"].items()
            },
        )


def load_state(inbox_dir: Path) -> SimState:
    path = inbox_dir / STATE_FILE
    if not path.exists():
        return SimState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SimState.from_json(data)
    except (OSError, ArithmeticError, ValueError, KeyError, TypeError) as exc:
        raise SimStateError(f"{path.name}: unreadable simulation state ({exc})") from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``;
    owner-only permissions."""
    _write_atomic(path, (data,))


def _write_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        temp.chmod(FILE_MODE)  # an existing temp file keeps its old mode otherwise
        temp.replace(path)  # os.replace: atomic within one folder
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _batches(pieces: Iterable[str], size: int = 4096) -> Iterator[bytes]:
    batch: list[str] = []
    for piece in pieces:
        batch.append(piece)
        if len(batch) == size:
            yield "".join(batch).encode("ascii")
            batch = []
    batch.append("\n")
    yield "".join(batch).encode("ascii")


def save_state(inbox_dir: Path, state: SimState) -> None:
    """Write the state file (compact JSON, keys sorted, ASCII), a batch of pieces at a time."""
    _write_atomic(inbox_dir / STATE_FILE, _batches(state.json_chunks()))


@contextlib.contextmanager
def locked(inbox_dir: Path) -> Iterator[None]:
    """Hold the simulation's lock on ``inbox_dir`` (blocks until it is free)."""
    fd = os.open(inbox_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
