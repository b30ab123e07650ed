"""A claim ready to bill, as the 837 writers take it, and its construction from the two
ready-to-bill DataFrames (``marts.claims_ready_to_bill`` / ``marts.claim_lines_ready_to_bill``,
see ``docs/claims-ready-to-bill.md``).

The classes are frozen so a claim cannot change between the gate, the writer and the
submission record. They check what the guide and our reconciliation depend on when they are
built (frequency code rules, 1-12 diagnoses without dots, diagnosis pointers that point at a
diagnosis), so the writers can stay simple and fast. Guide *limits* that need a decision
(more than 50 lines on one claim) are the writer's to refuse, not the model's: a claim with 60
lines is a real thing that must be split upstream.

Money is ``Decimal`` end to end. DuckDB's ``.df()`` turns DECIMAL into float64, so the frames
must be read with ``revcycle.claims.emit.fetch_ready_to_bill`` (Arrow, Decimal kept);
``claims_from_frames`` refuses float money columns rather than guess at cents.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pandas as pd

FREQUENCY_ORIGINAL = "1"
FREQUENCY_REPLACEMENT = "7"
FREQUENCY_VOID = "8"
FREQUENCY_CODES = frozenset({FREQUENCY_ORIGINAL, FREQUENCY_REPLACEMENT, FREQUENCY_VOID})
RELATIONSHIP_SELF = "18"
MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_CLAIM_ID_LENGTH = 20  # CLM01


class ClaimType(StrEnum):
    """The two claim forms we bill, named as in ``claims_ready_to_bill.claim_type``."""

    PROFESSIONAL = "professional"
    INSTITUTIONAL = "institutional"

    @property
    def transaction(self) -> str:
        """The short name used in file names: 837P or 837I."""
        return "837P" if self is ClaimType.PROFESSIONAL else "837I"


class ClaimDataError(ValueError):
    """A claim that cannot be billed as given; carries the claim id."""

    def __init__(self, claim_id: str, message: str) -> None:
        super().__init__(f"claim {claim_id}: {message}")
        self.claim_id = claim_id


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str  # 5 or 9 digits (9 for the billing provider)
    line2: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A subscriber or a patient (2010BA / 2010CA)."""

    last_name: str
    first_name: str | None
    middle_initial: str | None
    birth_date: date | None
    sex: str | None  # M, F or U
    address: Address | None
    person_id: str | None = None  # our EMR id: never written, part of the identity


@dataclass(frozen=True, slots=True)
class Payer:
    payer_id: str  # NM1*PR NM109, also the outbox file name prefix
    name: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The insured and the coverage facts that go on SBR (2000B) and 2010BA."""

    member_id: str
    person: Person
    claim_filing_indicator: str  # SBR09: CI, MB, MC, BL, HM...
    group_number: str | None = None
    plan_name: str | None = None
    payer_responsibility_code: str = "P"  # SBR01


@dataclass(frozen=True, slots=True)
class BillingProvider:
    npi: str
    name: str  # an organisation (NM102 = 2)
    tin: str  # 9-digit EIN, REF*EI
    address: Address
    taxonomy: str | None = None  # PRV*BI when known


@dataclass(frozen=True, slots=True)
class RenderingProvider:
    """The clinician: 2310B rendering on an 837P, 2310A attending on an 837I."""

    npi: str
    last_name: str
    first_name: str | None = None
    taxonomy: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceFacility:
    name: str
    address: Address
    npi: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimLine:
    claim_line_id: str  # REF*6R: the key 835 service lines come back with
    line_number: int
    service_date: date
    procedure_code: str | None  # CPT/HCPCS; may be absent on an institutional line
    charge_amount: Decimal
    units: int
    modifiers: tuple[str, ...] = ()
    revenue_code: str | None = None  # institutional lines (SV201), keeps its leading zero
    pointers: tuple[int, ...] = ()  # 1-based diagnosis pointers (837P SV107)

    def __post_init__(self) -> None:
        # Codes are written into the file as they are (the writer's hot path does not clean
        # them), so they must be plain letters and digits here.
        lid = self.claim_line_id
        if not lid or not lid.isascii() or not lid.replace("-", "").isalnum() or len(lid) > 50:
            raise ValueError(f"line id {lid!r} must be 1-50 letters, digits or '-'")
        for code in (self.procedure_code, self.revenue_code, *self.modifiers):
            if code is not None and not (code.isascii() and code.isalnum()):
                raise ValueError(f"line {lid}: code {code!r} must be letters and digits")
        if len(self.modifiers) > MAX_MODIFIERS:
            raise ValueError(f"line {self.claim_line_id}: more than {MAX_MODIFIERS} modifiers")
        if len(self.pointers) > MAX_POINTERS:
            raise ValueError(f"line {self.claim_line_id}: more than {MAX_POINTERS} pointers")
        if not isinstance(self.charge_amount, Decimal):
            raise TypeError(f"line {self.claim_line_id}: charge_amount must be a Decimal")
        if self.charge_amount < 0:
            raise ValueError(f"line {self.claim_line_id}: negative charge {self.charge_amount}")
        if self.units < 1:
            raise ValueError(f"line {self.claim_line_id}: units must be at least 1")


@dataclass(frozen=True, slots=True)
class CasAdjustment:
    """One adjustment of a prior payer, as its 835 reported it (one CAS triplet)."""

    group_code: str  # CO, PR, OA, PI
    reason_code: str  # CARC
    amount: Decimal
    quantity: Decimal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"adjustment {self.group_code}-{self.reason_code}: amount not Decimal")
        for code in (self.group_code, self.reason_code):
            if not code or not (code.isascii() and code.isalnum()):
                raise ValueError(f"adjustment code {code!r} must be letters and digits")


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """What the prior payer did with one of our lines (837 2430): paid and adjusted."""

    claim_line_id: str  # the line of this claim it belongs to
    paid_amount: Decimal  # SVD02
    adjudication_date: date  # DTP*573
    adjustments: tuple[CasAdjustment, ...] = ()

    @property
    def adjusted_amount(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), Decimal("0"))


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """The prior payer of a secondary (or tertiary) claim and its adjudication (837 2320,
    2330A, 2330B and the lines' 2430). Built from the prior payer's posted 835, so the
    secondary sees exactly what the primary paid and adjusted."""

    payer: Payer
    subscriber: Subscriber  # the prior coverage: member id, subscriber name, SBR09
    relationship_to_subscriber: str  # 2320 SBR02: the patient's relationship, 18 = self
    paid_amount: Decimal  # 2320 AMT*D
    remaining_patient_liability: Decimal  # 2320 AMT*EAF: what the secondary is asked about
    claim_adjustments: tuple[CasAdjustment, ...] = ()  # 2320 CAS
    line_adjudications: tuple[LineAdjudication, ...] = ()  # 2430, by claim_line_id
    payer_claim_control_number: str | None = None  # 2330B REF*F8

    @property
    def adjusted_amount(self) -> Decimal:
        """Every adjustment of the prior payer, claim and line level."""
        claim_level = sum((a.amount for a in self.claim_adjustments), Decimal("0"))
        return claim_level + sum(
            (line.adjusted_amount for line in self.line_adjudications), Decimal("0")
        )


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str  # CLM01, returned as 835 CLP01
    claim_type: ClaimType
    payer: Payer
    subscriber: Subscriber
    patient: Person
    relationship_to_subscriber: str  # X12 code; 18 = the patient is the subscriber
    billing_provider: BillingProvider
    rendering_provider: RenderingProvider | None
    facility: ServiceFacility | None
    service_date: date
    service_date_to: date
    diagnoses: tuple[str, ...]  # ICD-10-CM without dots; the first is the principal
    lines: tuple[ClaimLine, ...]
    place_of_service: str | None = None  # 837P CLM05-1
    type_of_bill: str | None = None  # 837I, 4 digits such as 0131
    frequency_code: str = FREQUENCY_ORIGINAL
    payer_claim_control_number: str | None = None  # REF*F8, required for 7 and 8
    other_payer: OtherPayer | None = None  # the prior payer on a secondary claim (COB)

    def __post_init__(self) -> None:
        cid = self.claim_id

        def fail(message: str) -> None:
            raise ClaimDataError(cid, message)

        if not cid or len(cid) > MAX_CLAIM_ID_LENGTH or not (cid.isascii() and cid.isalnum()):
            fail(f"claim id must be 1-{MAX_CLAIM_ID_LENGTH} letters or digits")
        if self.frequency_code not in FREQUENCY_CODES:
            fail(f"frequency code {self.frequency_code!r} is not 1, 7 or 8")
        if self.frequency_code == FREQUENCY_ORIGINAL:
            if self.payer_claim_control_number:
                fail("an original claim (frequency 1) has no payer claim control number")
        elif not self.payer_claim_control_number:
            fail(f"frequency {self.frequency_code} needs the payer claim control number")
        if not 1 <= len(self.diagnoses) <= MAX_DIAGNOSES:
            fail(f"needs 1-{MAX_DIAGNOSES} diagnoses, has {len(self.diagnoses)}")
        for code in self.diagnoses:
            if not code or not code.isalnum():
                fail(f"diagnosis {code!r} must be letters and digits (ICD-10 without the dot)")
        if not self.lines:
            fail("has no lines")
        if self.service_date > self.service_date_to:
            fail("service_date is after service_date_to")
        if self.claim_type is ClaimType.PROFESSIONAL:
            pos = self.place_of_service
            if not pos or len(pos) != 2 or not pos.isdigit():
                fail(f"place of service {pos!r} must be 2 digits")
            for line in self.lines:
                if not line.procedure_code:
                    fail(f"line {line.claim_line_id} has no procedure code")
                if not line.pointers:
                    fail(f"line {line.claim_line_id} has no diagnosis pointer")
                if any(not 1 <= p <= len(self.diagnoses) for p in line.pointers):
                    fail(f"line {line.claim_line_id} points at a diagnosis the claim lacks")
        else:
            tob = self.type_of_bill
            if not tob or len(tob) != 4 or not tob.isdigit():
                fail(f"type of bill {tob!r} must be 4 digits such as 0131")
            for line in self.lines:
                if not line.revenue_code:
                    fail(f"line {line.claim_line_id} has no revenue code")

        if self.other_payer is not None:
            self._check_coordination_of_benefits(fail)
        elif self.subscriber.payer_responsibility_code != "P":
            fail(
                f"payer responsibility {self.subscriber.payer_responsibility_code!r} needs the "
                "prior payer's adjudication (other_payer)"
            )

    def _check_coordination_of_benefits(self, fail: Callable[[str], None]) -> None:
        """The 837 COB balancing rules (TR3 1.4.4): every line's charge = the prior payer's
        line payment + its line adjustments; the claim charge = the prior payer's paid amount
        + every claim and line adjustment; and the paid amount = the line payments - the
        claim-level adjustments. A secondary payer rejects a claim that does not balance."""
        other = self.other_payer
        assert other is not None
        if self.subscriber.payer_responsibility_code not in ("S", "T"):
            fail("a claim with a prior payer must be billed as secondary (S) or tertiary (T)")
        lines = {line.claim_line_id: line for line in self.lines}
        seen: set[str] = set()
        for adjudication in other.line_adjudications:
            line = lines.get(adjudication.claim_line_id)
            if line is None or adjudication.claim_line_id in seen:
                fail(f"prior payer line {adjudication.claim_line_id} is not a line of the claim")
                return
            seen.add(adjudication.claim_line_id)
            if adjudication.paid_amount + adjudication.adjusted_amount != line.charge_amount:
                fail(
                    f"line {line.claim_line_id}: prior payer paid {adjudication.paid_amount} + "
                    f"adjusted {adjudication.adjusted_amount} != charge {line.charge_amount}"
                )
        if other.paid_amount + other.adjusted_amount != self.total_charge_amount:
            fail(
                f"prior payer paid {other.paid_amount} + adjusted {other.adjusted_amount} "
                f"!= claim charge {self.total_charge_amount}"
            )
        if other.line_adjudications:
            line_paid = sum((a.paid_amount for a in other.line_adjudications), Decimal("0"))
            claim_adjusted = sum((a.amount for a in other.claim_adjustments), Decimal("0"))
            if line_paid - claim_adjusted != other.paid_amount:
                fail(
                    f"prior payer paid {other.paid_amount} != line payments {line_paid} - "
                    f"claim adjustments {claim_adjusted}"
                )

    @property
    def total_charge_amount(self) -> Decimal:
        """CLM02: the sum of the line charges (never taken from anywhere else)."""
        return sum((line.charge_amount for line in self.lines), Decimal("0"))

    @property
    def is_patient_subscriber(self) -> bool:
        return self.relationship_to_subscriber == RELATIONSHIP_SELF


# --------------------------------------------------------------------------------------------
# From the ready-to-bill DataFrames


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None


def _required_text(row: dict[str, Any], column: str, claim_id: str) -> str:
    text = _text(row[column])
    if text is None:
        raise ClaimDataError(claim_id, f"{column} is empty")
    return text


def _date(value: Any) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, datetime):  # pandas Timestamp is a datetime
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _int(value: Any) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not a whole number: {value}")
        return int(value)
    return int(value)


def _money(value: Any, column: str, claim_id: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # A float here means the frame was read with DuckDB's .df(), which converts DECIMAL
        # to float64. Guessing the cents back would hide that; refuse.
        raise TypeError(
            f"claim {claim_id}: {column} is a float; read the views with "
            "revcycle.claims.emit.fetch_ready_to_bill so money stays Decimal"
        )
    if _missing(value):
        raise ClaimDataError(claim_id, f"{column} is empty")
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"claim {claim_id}: {column} has unexpected type {type(value).__name__}")


def _address(row: dict[str, Any], prefix: str) -> Address | None:
    line1 = _text(row.get(f"{prefix}_address_line1"))
    if line1 is None:
        return None
    return Address(
        line1=line1,
        line2=_text(row.get(f"{prefix}_address_line2")),
        city=_text(row.get(f"{prefix}_city")) or "",
        state=_text(row.get(f"{prefix}_state")) or "",
        zip=_text(row.get(f"{prefix}_zip")) or "",
    )


def _person(row: dict[str, Any], prefix: str, person_id: str | None) -> Person:
    return Person(
        last_name=_text(row[f"{prefix}_last_name"]) or "",
        first_name=_text(row[f"{prefix}_first_name"]),
        middle_initial=_text(row[f"{prefix}_middle_initial"]),
        birth_date=_date(row[f"{prefix}_birth_date"]),
        sex=_text(row[f"{prefix}_sex"]),
        address=_address(row, prefix),
        person_id=person_id,
    )


def _records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    # Column lists then zip: several times faster than iterrows, and .tolist() hands back
    # Python objects (Decimal, date, None) rather than numpy scalars.
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    for row in zip(*values, strict=True):
        yield dict(zip(columns, row, strict=True))


def _line(row: dict[str, Any], claim_id: str) -> ClaimLine:
    modifiers = tuple(
        m for m in (_text(row.get(f"modifier_{i}")) for i in range(1, MAX_MODIFIERS + 1)) if m
    )
    pointers = tuple(
        p
        for p in (_int(row.get(f"diagnosis_pointer_{i}")) for i in range(1, MAX_POINTERS + 1))
        if p is not None
    )
    service_date = _date(row["service_date"])
    line_number = _int(row["line_number"])
    units = _int(row["units"])
    if service_date is None or line_number is None or units is None:
        raise ClaimDataError(claim_id, f"line {row['claim_line_id']}: missing date/number/units")
    return ClaimLine(
        claim_line_id=_required_text(row, "claim_line_id", claim_id),
        line_number=line_number,
        service_date=service_date,
        procedure_code=_text(row["procedure_code"]),
        charge_amount=_money(row["charge_amount"], "charge_amount", claim_id),
        units=units,
        modifiers=modifiers,
        revenue_code=_text(row.get("revenue_code")),
        pointers=pointers,
    )


def _adjustments(value: Any, where: str, claim_id: str) -> tuple[CasAdjustment, ...]:
    """A list-of-struct column (group_code, reason_code, amount, quantity) as adjustments."""
    # Arrow hands a list column to pandas as numpy arrays (or None / NaN when empty).
    if value is None or isinstance(value, float | str):
        return ()
    out = []
    for item in value:
        quantity = item.get("quantity")
        out.append(
            CasAdjustment(
                group_code=str(item["group_code"]),
                reason_code=str(item["reason_code"]),
                amount=_money(item["amount"], f"{where}.amount", claim_id),
                quantity=None if _missing(quantity) else Decimal(str(quantity)),
            )
        )
    return tuple(out)


def _line_adjudication(row: dict[str, Any], claim_id: str) -> LineAdjudication | None:
    """The prior payer's 2430 for a line of a secondary claim (None on other claims)."""
    if _missing(row.get("other_payer_paid_amount")):
        return None
    adjudicated = _date(row.get("other_payer_adjudication_date"))
    if adjudicated is None:
        raise ClaimDataError(claim_id, f"line {row['claim_line_id']}: no prior payer date")
    return LineAdjudication(
        claim_line_id=_required_text(row, "claim_line_id", claim_id),
        paid_amount=_money(row["other_payer_paid_amount"], "other_payer_paid_amount", claim_id),
        adjudication_date=adjudicated,
        adjustments=_adjustments(row.get("other_payer_adjustments"), "line", claim_id),
    )


def _other_payer(
    row: dict[str, Any], claim_id: str, lines: tuple[LineAdjudication, ...]
) -> OtherPayer | None:
    """2320/2330 of a secondary claim from the ``other_payer_*`` columns (None when empty)."""
    payer_id = _text(row.get("other_payer_id"))
    if payer_id is None:
        return None
    return OtherPayer(
        payer=Payer(payer_id=payer_id, name=_required_text(row, "other_payer_name", claim_id)),
        subscriber=Subscriber(
            member_id=_required_text(row, "other_payer_member_id", claim_id),
            person=Person(
                last_name=_required_text(row, "other_subscriber_last_name", claim_id),
                first_name=_text(row.get("other_subscriber_first_name")),
                middle_initial=_text(row.get("other_subscriber_middle_initial")),
                birth_date=None,
                sex=None,
                address=None,
            ),
            claim_filing_indicator=_required_text(
                row, "other_payer_claim_filing_indicator", claim_id
            ),
            group_number=_text(row.get("other_payer_group_number")),
        ),
        relationship_to_subscriber=_required_text(row, "other_payer_relationship_code", claim_id),
        paid_amount=_money(row["other_payer_paid_amount"], "other_payer_paid_amount", claim_id),
        remaining_patient_liability=_money(
            row["other_payer_remaining_patient_liability"],
            "other_payer_remaining_patient_liability",
            claim_id,
        ),
        claim_adjustments=_adjustments(row.get("other_payer_claim_adjustments"), "claim", claim_id),
        line_adjudications=lines,
        payer_claim_control_number=_text(row.get("other_payer_claim_control_number")),
    )


def claims_from_frames(claims_df: pd.DataFrame, lines_df: pd.DataFrame) -> Iterator[Claim]:
    """The claims of ``claims_ready_to_bill`` with their lines, in the order of ``claims_df``.

    Checks the identities the contract promises and the writer relies on: the claim has
    ``line_count`` lines, they add up to ``total_charge_amount``, and ``diagnosis_count``
    diagnoses are present. A broken identity raises ``ClaimDataError``: the gate should have
    caught it, and a claim file must not go out with a total nobody can explain.

    Optional columns: ``claim_frequency_code`` (default 1) and
    ``payer_claim_control_number`` (replacements and voids).
    """
    lines_by_claim: dict[str, list[ClaimLine]] = defaultdict(list)
    adjudications_by_claim: dict[str, list[tuple[int, LineAdjudication]]] = defaultdict(list)
    has_cob = "other_payer_paid_amount" in lines_df.columns
    for row in _records(lines_df):
        claim_id = str(row["claim_id"])
        line = _line(row, claim_id)
        lines_by_claim[claim_id].append(line)
        if has_cob:
            adjudication = _line_adjudication(row, claim_id)
            if adjudication is not None:
                adjudications_by_claim[claim_id].append((line.line_number, adjudication))

    for row in _records(claims_df):
        claim_id = _required_text(row, "claim_id", "?")
        lines = sorted(lines_by_claim.get(claim_id, ()), key=lambda line: line.line_number)
        expected_lines = _int(row.get("line_count"))
        if expected_lines is not None and expected_lines != len(lines):
            raise ClaimDataError(claim_id, f"line_count {expected_lines} but {len(lines)} lines")
        total = sum((line.charge_amount for line in lines), Decimal("0"))
        stated_total = _money(row["total_charge_amount"], "total_charge_amount", claim_id)
        if stated_total != total:
            raise ClaimDataError(
                claim_id, f"total_charge_amount {stated_total} but the lines add up to {total}"
            )
        diagnoses = tuple(
            code.replace(".", "").upper()
            for code in (_text(row.get(f"diagnosis_code_{i}")) for i in range(1, 13))
            if code
        )
        expected_dx = _int(row.get("diagnosis_count"))
        if expected_dx is not None and expected_dx != len(diagnoses):
            raise ClaimDataError(
                claim_id, f"diagnosis_count {expected_dx} but {len(diagnoses)} codes"
            )
        subscriber_person = _person(row, "subscriber", _text(row.get("subscriber_id")))
        relationship = _required_text(row, "relationship_to_subscriber", claim_id)
        patient = (
            subscriber_person
            if relationship == RELATIONSHIP_SELF
            else _person(row, "patient", _text(row.get("patient_id")))
        )
        rendering_npi = _text(row.get("rendering_provider_npi"))
        facility_name = _text(row.get("facility_name"))
        facility_address = _address(row, "facility")
        service_date = _date(row["service_date"])
        service_date_to = _date(row["service_date_to"]) or service_date
        if service_date is None or service_date_to is None:
            raise ClaimDataError(claim_id, "service_date is empty")
        billing_address = _address(row, "billing_provider")
        if billing_address is None:
            raise ClaimDataError(claim_id, "billing provider has no address")
        yield Claim(
            claim_id=claim_id,
            claim_type=ClaimType(_required_text(row, "claim_type", claim_id)),
            payer=Payer(
                payer_id=_required_text(row, "payer_id", claim_id),
                name=_required_text(row, "payer_name", claim_id),
                address=_address(row, "payer"),
            ),
            subscriber=Subscriber(
                member_id=_required_text(row, "member_id", claim_id),
                person=subscriber_person,
                claim_filing_indicator=_required_text(row, "claim_filing_indicator", claim_id),
                group_number=_text(row.get("group_number")),
                plan_name=_text(row.get("plan_name")),
                payer_responsibility_code=_text(row.get("payer_responsibility_code")) or "P",
            ),
            patient=patient,
            relationship_to_subscriber=relationship,
            billing_provider=BillingProvider(
                npi=_required_text(row, "billing_provider_npi", claim_id),
                name=_required_text(row, "billing_provider_name", claim_id),
                tin=_required_text(row, "billing_provider_tin", claim_id),
                address=billing_address,
                taxonomy=_text(row.get("billing_provider_taxonomy")),
            ),
            rendering_provider=(
                RenderingProvider(
                    npi=rendering_npi,
                    last_name=_text(row.get("rendering_provider_last_name")) or "",
                    first_name=_text(row.get("rendering_provider_first_name")),
                    taxonomy=_text(row.get("rendering_provider_taxonomy")),
                )
                if rendering_npi
                else None
            ),
            facility=(
                ServiceFacility(
                    name=facility_name,
                    address=facility_address,
                    npi=_text(row.get("facility_npi")),
                )
                if facility_name and facility_address
                else None
            ),
            service_date=service_date,
            service_date_to=service_date_to,
            diagnoses=diagnoses,
            lines=tuple(lines),
            place_of_service=_text(row.get("place_of_service")),
            type_of_bill=_text(row.get("type_of_bill")),
            frequency_code=_text(row.get("claim_frequency_code")) or FREQUENCY_ORIGINAL,
            payer_claim_control_number=_text(row.get("payer_claim_control_number")),
            other_payer=_other_payer(
                row,
                claim_id,
                tuple(a for _, a in sorted(adjudications_by_claim.get(claim_id, ()))),
            ),
        )
