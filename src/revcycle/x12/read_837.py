"""Claims out of 837P (005010X222A1) and 837I (005010X223A2) transactions.

Built on :mod:`revcycle.x12.reader`; it walks a transaction's segments through the HL
hierarchy and keeps what reconciliation and round-trip tests need, not the whole guide:

- 2000B subscriber: SBR01/02/09, 2010BA ``NM1*IL`` member id, 2010BB ``NM1*PR`` payer id/name;
- 2000C patient: whether it is present and PAT01 (relationship);
- 2300 claim: CLM01 id, CLM02 total, CLM05 facility code and frequency, ``REF*F8`` payer claim
  number, ``DTP*434`` statement dates, every ``HI`` code (diagnoses listed separately);
- 2400 lines: LX01, SV1 (837P) or SV2 (837I) procedure code and modifiers, revenue code,
  charge, unit basis and units, SV107 diagnosis pointers, ``DTP*472`` service dates and
  ``REF*6R`` line control number.

- coordination of benefits (a claim sent to a secondary or tertiary payer): per 2320 loop an
  :class:`OtherPayer837` (2320 ``SBR``, claim-level ``CAS``, ``AMT*D`` paid, ``AMT*EAF``
  remaining patient liability; 2330A ``NM1*IL`` member id; 2330B ``NM1*PR`` payer id and
  name, ``REF*F8`` the other payer's claim control number, ``DTP*573``) in
  ``Claim837.other_payers``, and per 2430 loop a :class:`LineAdjudication837` (``SVD``, line
  ``CAS``, ``DTP*573``, ``AMT*EAF``) in ``ServiceLine837.line_adjudications``.

Segments of other loops that reuse the same ids (2320/2330 other payer ``SBR``/``NM1*PR``/
``REF``, 2420 ``NM1``, 2430 ``DTP``) are told apart by position: anything after a CLM belongs
to the claim, and only 2000B segments before the first CLM describe the subscriber and payer;
inside a claim, a 2320 ``SBR`` opens an other-payer loop that lasts until the next ``SBR`` or
the first ``LX``, and an ``SVD`` opens a line adjudication that lasts until the next ``SVD``
or line. A claim without COB loops pays for an empty field on the claim and on each line and
one set lookup for each segment the claim-level branches do not take (NM1, PRV ...): the
COB branches sit behind that lookup.

Amounts and dates that cannot be parsed (CLM02, SV102, SVD02, CAS amounts, AMT02, DTP dates)
raise :class:`~revcycle.x12.reader.X12ReadError` with the file name and segment position: a
claim with an unreadable total is not a claim we can reconcile.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from revcycle.gc_pause import gc_paused
from revcycle.x12.reader import (
    Segment,
    Transaction,
    X12ReadError,
    iter_transactions,
)

__all__ = [
    "CasAdjustment",
    "Claim837",
    "HealthCode",
    "LineAdjudication837",
    "OtherPayer837",
    "ServiceLine837",
    "claims_from_transaction",
    "read_837_claims",
    "read_837_file",
]

PROFESSIONAL = "professional"
INSTITUTIONAL = "institutional"

# HI qualifiers that carry a diagnosis (ICD-10: AB*, AP*; ICD-9: B*, PR). The principal
# (ABK / BK) comes first in the file and so first in ``Claim837.diagnoses``.
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "ABN", "APR", "BK", "BF", "BJ", "BN", "PR"})


@dataclass(frozen=True)
class HealthCode:
    """One HI composite: qualifier (ABK, ABF, BE, BG, BH ...) and code, with its amount/date."""

    qualifier: str
    code: str
    date_format: str = ""  # HIxx-3 (D8 / RD8) for occurrence codes
    date_value: str = ""  # HIxx-4
    amount: Decimal | None = None  # HIxx-5, value codes


class CasAdjustment(NamedTuple):
    """One CAS triplet of another payer's adjudication (2320 claim level, 2430 line level):
    group (CO, PR, OA, PI), CARC, amount and optional quantity. A positive amount is what the
    other payer did not pay."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class OtherPayer837:
    """One 2320/2330 loop: another payer of the claim and, when it has adjudicated it, what
    it decided at claim level. On a secondary claim (SBR01 ``S``) the primary payer is the
    other payer whose ``responsibility`` is ``P``."""

    payer_id: str  # 2330B NM109
    payer_name: str  # 2330B NM103
    responsibility: str  # 2320 SBR01: P, S, T ... (this payer's rank, not the claim's)
    relationship_code: str  # 2320 SBR02: patient to this payer's subscriber (18 self ...)
    group_number: str  # 2320 SBR03
    claim_filing_indicator: str  # 2320 SBR09
    paid: Decimal | None  # AMT*D: what this payer paid on the claim (None: not adjudicated)
    remaining_patient_liability: Decimal | None  # AMT*EAF
    adjustments: tuple[CasAdjustment, ...]  # 2320 CAS (claim level), in file order
    claim_control_number: str | None  # 2330B REF*F8: this payer's claim number
    adjudication_date: date | None  # 2330B DTP*573 (claim-level adjudication only)
    subscriber_member_id: str = field(repr=False)  # 2330A NM109: PHI, kept out of reprs
    position: int = 0  # segment position of the 2320 SBR

    @property
    def patient_responsibility(self) -> Decimal:
        """Sum of the claim-level PR adjustments (line-level ones are on the lines)."""
        return sum((a.amount for a in self.adjustments if a.group == "PR"), Decimal("0"))


@dataclass(frozen=True)
class LineAdjudication837:
    """One 2430 loop: how another payer adjudicated a service line."""

    payer_id: str  # SVD01: matches that payer's OtherPayer837.payer_id
    paid: Decimal  # SVD02
    procedure_code: str  # SVD03-2 ("" when the 837I line has a revenue code only)
    revenue_code: str | None  # SVD04 (837I)
    units: Decimal | None  # SVD05
    adjustments: tuple[CasAdjustment, ...]  # 2430 CAS, in file order
    adjudication_date: date | None  # DTP*573
    remaining_patient_liability: Decimal | None = None  # 2430 AMT*EAF
    position: int = 0  # segment position of the SVD

    @property
    def patient_responsibility(self) -> Decimal:
        """Sum of the line's PR adjustments: what the patient owes after this payer."""
        return sum((a.amount for a in self.adjustments if a.group == "PR"), Decimal("0"))


@dataclass(frozen=True)
class ServiceLine837:
    number: int | None  # LX01
    procedure_qualifier: str  # HC, ER, IV, WK ... ("" for a revenue-code-only 837I line)
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal  # SV102 / SV203
    unit_basis: str  # UN, MJ, DA, F2
    units: Decimal | None  # SV104 / SV205
    revenue_code: str | None = None  # SV201, 837I only
    diagnosis_pointers: tuple[int, ...] = ()  # SV107, 837P only
    line_control_number: str | None = None  # REF*6R
    service_date: date | None = None  # DTP*472 (start of an RD8 range)
    service_date_end: date | None = None
    position: int = 0  # segment position of the LX (or of the SV1/SV2 when LX is missing)
    line_adjudications: tuple[LineAdjudication837, ...] = ()  # 2430 loops (COB), file order


@dataclass(frozen=True)
class Claim837:
    claim_id: str  # CLM01, the patient control number; comes back as 835 CLP01
    total_charge: Decimal  # CLM02
    facility_code: str  # CLM05-1: place of service (837P) or facility type (837I)
    frequency_code: str  # CLM05-3: 1 original, 7 replacement, 8 void
    payer_id: str  # 2010BB NM109
    payer_name: str  # 2010BB NM103
    subscriber_member_id: str = field(repr=False)  # 2010BA NM109: PHI, kept out of reprs
    has_patient_loop: bool  # 2000C present: the patient is not the subscriber
    relationship_code: str  # PAT01 when 2000C is present, else SBR02 (18 = self)
    payer_responsibility: str  # SBR01: P, S, T ...
    claim_filing_indicator: str  # SBR09: CI, MB, MC ...
    diagnoses: tuple[str, ...]  # HI diagnosis codes, principal first, no decimal point
    health_codes: tuple[HealthCode, ...]  # every HI composite (diagnoses, occurrence, value...)
    lines: tuple[ServiceLine837, ...]
    kind: str  # "professional" (X222), "institutional" (X223) or the guide id if neither
    payer_claim_number: str | None = None  # REF*F8, needed for frequency 7 and 8
    statement_from: date | None = None  # DTP*434 (837I)
    statement_to: date | None = None
    transaction_control_number: str = ""  # ST02
    position: int = 0  # segment position of the CLM in the file
    other_payers: tuple[OtherPayer837, ...] = ()  # 2320/2330 loops (COB), file order

    @property
    def bill_type(self) -> str:
        """Facility type plus frequency (837I type of bill without the leading zero: 131)."""
        return f"{self.facility_code}{self.frequency_code}"

    @property
    def line_total(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))

    @property
    def has_cob_data(self) -> bool:
        """Whether the claim says anything about another payer (2320 or 2430 loops)."""
        return bool(self.other_payers) or any(line.line_adjudications for line in self.lines)


# --------------------------------------------------------------------------------------------
# Value parsing


def _amount(seg: Segment, n: int, file_name: str, *, required: bool = True) -> Decimal | None:
    elements = seg.elements
    value = elements[n].strip() if n < len(elements) else ""
    if not value:
        if required:
            raise X12ReadError(file_name, seg.position, f"{seg.id}{n:02d} (amount) is missing")
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise X12ReadError(file_name, seg.position, f"{seg.id}{n:02d} is not a decimal amount")
    return amount


def _date(value: str, seg: Segment, file_name: str) -> date:
    day = _ccyymmdd(value)
    if day is None:
        raise X12ReadError(file_name, seg.position, f"{seg.id} date is not a CCYYMMDD date")
    return day


# Service and statement dates repeat across a file's claims: parse each text once.
@functools.lru_cache(maxsize=4096)
def _ccyymmdd(value: str) -> date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _date_range(seg: Segment, file_name: str) -> tuple[date | None, date | None]:
    """DTP: D8 ``CCYYMMDD`` or RD8 ``CCYYMMDD-CCYYMMDD``."""
    elements = seg.elements
    if len(elements) < 4:  # no DTP03
        return None, None
    fmt, value = elements[2].strip(), elements[3].strip()
    if not value:
        return None, None
    if fmt == "RD8" or "-" in value:
        start, _, end = value.partition("-")
        return _date(start, seg, file_name), _date(end or start, seg, file_name)
    day = _date(value, seg, file_name)
    return day, day


@functools.lru_cache(maxsize=1024)
def _int_or_none(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _kind(guide: str) -> str:
    if "X222" in guide:
        return PROFESSIONAL
    if "X223" in guide:
        return INSTITUTIONAL
    return guide


# --------------------------------------------------------------------------------------------
# Builders (mutable while the transaction is walked, frozen when a claim closes)


@dataclass
class _Subscriber:
    member_id: str = ""
    payer_id: str = ""
    payer_name: str = ""
    responsibility: str = ""
    relationship: str = ""
    filing_indicator: str = ""


@dataclass
class _OtherPayerBuilder:
    sbr: Segment
    payer_id: str = ""
    payer_name: str = ""
    member_id: str = ""
    paid: Decimal | None = None
    remaining: Decimal | None = None
    adjustments: list[CasAdjustment] = field(default_factory=list)
    claim_control_number: str | None = None
    adjudication_date: date | None = None

    def build(self) -> OtherPayer837:
        sbr = self.sbr
        return OtherPayer837(
            payer_id=self.payer_id,
            payer_name=self.payer_name,
            responsibility=sbr.get(1).strip(),
            relationship_code=sbr.get(2).strip(),
            group_number=sbr.get(3).strip(),
            claim_filing_indicator=sbr.get(9).strip(),
            paid=self.paid,
            remaining_patient_liability=self.remaining,
            adjustments=tuple(self.adjustments),
            claim_control_number=self.claim_control_number,
            adjudication_date=self.adjudication_date,
            subscriber_member_id=self.member_id,
            position=sbr.position,
        )


@dataclass
class _LineAdjudicationBuilder:
    svd: Segment
    paid: Decimal
    units: Decimal | None
    adjustments: list[CasAdjustment] = field(default_factory=list)
    adjudication_date: date | None = None
    remaining: Decimal | None = None

    def build(self) -> LineAdjudication837:
        svd = self.svd
        return LineAdjudication837(
            payer_id=svd.get(1).strip(),
            paid=self.paid,
            procedure_code=svd.component(3, 2).strip(),
            revenue_code=svd.get(4).strip() or None,
            units=self.units,
            adjustments=tuple(self.adjustments),
            adjudication_date=self.adjudication_date,
            remaining_patient_liability=self.remaining,
            position=svd.position,
        )


@dataclass
class _LineBuilder:
    number: int | None
    position: int
    procedure_qualifier: str = ""
    procedure_code: str = ""
    modifiers: tuple[str, ...] = ()
    charge: Decimal | None = None
    unit_basis: str = ""
    units: Decimal | None = None
    revenue_code: str | None = None
    diagnosis_pointers: tuple[int, ...] = ()
    line_control_number: str | None = None
    service_date: date | None = None
    service_date_end: date | None = None
    adjudications: list[_LineAdjudicationBuilder] | None = None  # created on the first SVD

    def build(self, file_name: str) -> ServiceLine837:
        if self.charge is None:
            raise X12ReadError(
                file_name, self.position, "service line has no SV1/SV2 with a charge"
            )
        return ServiceLine837(
            number=self.number,
            procedure_qualifier=self.procedure_qualifier,
            procedure_code=self.procedure_code,
            modifiers=self.modifiers,
            charge=self.charge,
            unit_basis=self.unit_basis,
            units=self.units,
            revenue_code=self.revenue_code,
            diagnosis_pointers=self.diagnosis_pointers,
            line_control_number=self.line_control_number,
            service_date=self.service_date,
            service_date_end=self.service_date_end,
            position=self.position,
            line_adjudications=(
                tuple(a.build() for a in self.adjudications) if self.adjudications else ()
            ),
        )


@dataclass
class _ClaimBuilder:
    clm: Segment
    total: Decimal
    subscriber: _Subscriber
    has_patient_loop: bool
    patient_relationship: str
    health_codes: list[HealthCode] = field(default_factory=list)
    lines: list[_LineBuilder] = field(default_factory=list)
    payer_claim_number: str | None = None
    statement_from: date | None = None
    statement_to: date | None = None
    other_payers: list[_OtherPayerBuilder] | None = None  # created on the first 2320 SBR

    def build(self, transaction: Transaction, file_name: str) -> Claim837:
        sub = self.subscriber
        diagnoses = tuple(h.code for h in self.health_codes if h.qualifier in DIAGNOSIS_QUALIFIERS)
        return Claim837(
            claim_id=self.clm.get(1).strip(),
            total_charge=self.total,
            facility_code=self.clm.component(5, 1),
            frequency_code=self.clm.component(5, 3),
            payer_id=sub.payer_id,
            payer_name=sub.payer_name,
            subscriber_member_id=sub.member_id,
            has_patient_loop=self.has_patient_loop,
            relationship_code=(
                self.patient_relationship if self.has_patient_loop else sub.relationship
            ),
            payer_responsibility=sub.responsibility,
            claim_filing_indicator=sub.filing_indicator,
            diagnoses=diagnoses,
            health_codes=tuple(self.health_codes),
            lines=tuple(line.build(file_name) for line in self.lines),
            kind=_kind(transaction.implementation_guide),
            payer_claim_number=self.payer_claim_number,
            statement_from=self.statement_from,
            statement_to=self.statement_to,
            transaction_control_number=transaction.control_number,
            position=self.clm.position,
            other_payers=(tuple(o.build() for o in self.other_payers) if self.other_payers else ()),
        )


def _health_codes(seg: Segment, file_name: str) -> Iterator[HealthCode]:
    for n in range(1, len(seg.elements)):
        parts = seg.composite(n)
        if len(parts) < 2 or not parts[1]:
            continue
        amount = None
        if len(parts) > 4 and parts[4].strip():
            try:
                amount = Decimal(parts[4])
            except InvalidOperation:
                raise X12ReadError(
                    file_name, seg.position, f"HI{n:02d}-5 is not a decimal amount"
                ) from None
        yield HealthCode(
            qualifier=parts[0],
            code=parts[1],
            date_format=parts[2] if len(parts) > 2 else "",
            date_value=parts[3] if len(parts) > 3 else "",
            amount=amount,
        )


def _procedure(seg: Segment, n: int, line: _LineBuilder) -> None:
    parts = seg.composite(n)
    if parts:
        line.procedure_qualifier = parts[0]
        line.procedure_code = parts[1] if len(parts) > 1 else ""
        if len(parts) > 2:
            line.modifiers = tuple(m for m in parts[2:6] if m)


def _sv1(seg: Segment, line: _LineBuilder, file_name: str) -> None:
    _procedure(seg, 1, line)
    line.charge = _amount(seg, 2, file_name)
    elements = seg.elements
    line.unit_basis = elements[3].strip() if len(elements) > 3 else ""
    line.units = _amount(seg, 4, file_name, required=False)
    if len(elements) > 7 and elements[7]:
        pointers = [_int_or_none(p) for p in elements[7].split(seg.delimiters.component)]
        line.diagnosis_pointers = tuple(p for p in pointers if p is not None)


def _sv2(seg: Segment, line: _LineBuilder, file_name: str) -> None:
    elements = seg.elements
    line.revenue_code = (elements[1].strip() if len(elements) > 1 else "") or None
    _procedure(seg, 2, line)
    line.charge = _amount(seg, 3, file_name)
    line.unit_basis = elements[4].strip() if len(elements) > 4 else ""
    line.units = _amount(seg, 5, file_name, required=False)


def _cas(seg: Segment, file_name: str) -> Iterator[CasAdjustment]:
    """CAS01 group, then up to six reason / amount / quantity triplets (CAS02-CAS19)."""
    group = seg.get(1).strip()
    for n in range(2, len(seg.elements), 3):
        reason = seg.get(n).strip()
        if not reason:
            continue
        amount = _amount(seg, n + 1, file_name)
        assert amount is not None  # required=True
        yield CasAdjustment(group, reason, amount, _amount(seg, n + 2, file_name, required=False))


# Segment ids only COB loops (2320 and 2430) use; one set lookup keeps them off the path of
# claims without COB.
_COB_IDS = frozenset({"SBR", "CAS", "AMT", "SVD"})


def _cob_segment(
    seg: Segment,
    claim: _ClaimBuilder,
    other: _OtherPayerBuilder | None,
    line: _LineBuilder | None,
    file_name: str,
) -> _OtherPayerBuilder | None:
    """A 2320 or 2430 segment; returns the open 2320 loop."""
    sid = seg.id
    if sid == "SVD":
        if line is not None:
            paid = _amount(seg, 2, file_name)
            assert paid is not None  # required=True
            adjudication = _LineAdjudicationBuilder(
                svd=seg, paid=paid, units=_amount(seg, 5, file_name, required=False)
            )
            if line.adjudications is None:
                line.adjudications = []
            line.adjudications.append(adjudication)
    elif sid == "CAS":
        if line is not None:
            if line.adjudications:
                line.adjudications[-1].adjustments.extend(_cas(seg, file_name))
        elif other is not None:
            other.adjustments.extend(_cas(seg, file_name))
    elif sid == "AMT":
        qualifier = seg.get(1).strip()
        if line is not None:
            if qualifier == "EAF" and line.adjudications:
                line.adjudications[-1].remaining = _amount(seg, 2, file_name)
        elif other is not None:
            if qualifier == "D":
                other.paid = _amount(seg, 2, file_name)
            elif qualifier == "EAF":
                other.remaining = _amount(seg, 2, file_name)
    elif line is None:  # SBR: 2320, a new other payer
        other = _OtherPayerBuilder(sbr=seg)
        if claim.other_payers is None:
            claim.other_payers = []
        claim.other_payers.append(other)
    return other


def _other_payer_name(seg: Segment, other: _OtherPayerBuilder) -> None:
    """NM1 of a 2330 loop: 2330A subscriber (IL), 2330B payer (PR); 2330C-G are ignored."""
    entity = seg.get(1).strip()
    if entity == "PR":
        other.payer_id = seg.get(9).strip()
        other.payer_name = seg.get(3).strip()
    elif entity == "IL":
        other.member_id = seg.get(9).strip()


# --------------------------------------------------------------------------------------------
# Public API


def claims_from_transaction(transaction: Transaction, file_name: str = "<837>") -> list[Claim837]:
    """Every claim (2300 loop) of one 837 transaction, in file order."""
    claims: list[Claim837] = []
    subscriber = _Subscriber()
    has_patient = False
    patient_relationship = ""
    claim: _ClaimBuilder | None = None
    line: _LineBuilder | None = None
    other: _OtherPayerBuilder | None = None  # the open 2320 loop, until the first LX

    def close() -> None:
        nonlocal claim, line, other
        if claim is not None:
            claims.append(claim.build(transaction, file_name))
        claim = None
        line = None
        other = None

    for seg in transaction.segments:
        sid = seg.id
        if sid == "HL":
            close()
            level = seg.get(3).strip()
            if level == "22":
                subscriber = _Subscriber()
                has_patient = False
            elif level == "23":
                has_patient = True
                patient_relationship = ""
            else:  # 20 billing provider (or anything unexpected): start afresh
                subscriber = _Subscriber()
                has_patient = False
        elif sid == "CLM":
            close()
            total = _amount(seg, 2, file_name)
            assert total is not None  # required=True
            claim = _ClaimBuilder(
                clm=seg,
                total=total,
                subscriber=subscriber,
                has_patient_loop=has_patient,
                patient_relationship=patient_relationship,
            )
        elif sid == "SE":
            close()
        elif claim is None:
            # 2000B / 2000C, before the first claim of this subscriber or patient.
            if sid == "SBR":
                subscriber.responsibility = seg.get(1).strip()
                subscriber.relationship = seg.get(2).strip()
                subscriber.filing_indicator = seg.get(9).strip()
            elif sid == "PAT":
                patient_relationship = seg.get(1).strip()
            elif sid == "NM1" and not has_patient:
                entity = seg.get(1).strip()
                if entity == "IL":
                    subscriber.member_id = seg.get(9).strip()
                elif entity == "PR":
                    subscriber.payer_id = seg.get(9).strip()
                    subscriber.payer_name = seg.get(3).strip()
        elif sid == "LX":
            line = _LineBuilder(number=_int_or_none(seg.get(1)), position=seg.position)
            claim.lines.append(line)
        elif sid in ("SV1", "SV2"):
            if line is None or line.charge is not None:  # SV without its LX: keep the line
                line = _LineBuilder(number=None, position=seg.position)
                claim.lines.append(line)
            if sid == "SV1":
                _sv1(seg, line, file_name)
            else:
                _sv2(seg, line, file_name)
        elif sid == "HI" and line is None:
            claim.health_codes.extend(_health_codes(seg, file_name))
        elif sid == "REF":
            elements = seg.elements
            qualifier = elements[1].strip() if len(elements) > 1 else ""
            if line is not None and qualifier == "6R":
                line.line_control_number = elements[2].strip() if len(elements) > 2 else ""
            elif line is None and qualifier == "F8":
                if other is None:
                    claim.payer_claim_number = seg.get(2).strip()
                else:  # 2330B: the other payer's claim control number
                    other.claim_control_number = seg.get(2).strip()
        elif sid == "DTP":
            elements = seg.elements
            qualifier = elements[1].strip() if len(elements) > 1 else ""
            if line is not None:
                if qualifier == "472":
                    line.service_date, line.service_date_end = _date_range(seg, file_name)
                elif qualifier == "573" and line.adjudications:
                    line.adjudications[-1].adjudication_date = _date_range(seg, file_name)[0]
            elif qualifier == "434":
                claim.statement_from, claim.statement_to = _date_range(seg, file_name)
            elif qualifier == "573" and other is not None:
                other.adjudication_date = _date_range(seg, file_name)[0]
        elif sid in _COB_IDS:
            other = _cob_segment(seg, claim, other, line, file_name)
        elif sid == "NM1" and other is not None and line is None:
            _other_payer_name(seg, other)
    close()
    return claims


def read_837_claims(data: bytes | str, file_name: str) -> list[Claim837]:
    """Claims of every 837 transaction in a file (other transaction types are skipped).

    Transactions are streamed: memory holds the claims, not the file's segments.
    """
    claims: list[Claim837] = []
    for _interchange, _group, transaction in iter_transactions(data, file_name):
        if transaction.transaction_set_id == "837":
            with gc_paused():  # no reference cycles here (revcycle.gc_pause)
                claims.extend(claims_from_transaction(transaction, file_name))
    return claims


def read_837_file(path: str | Path) -> list[Claim837]:
    path = Path(path)
    return read_837_claims(path.read_bytes(), path.name)
