"""Helpers shared by the 837 writer and emission tests: hand-built claims and a pyx12 check.

PROVENANCE: every person, provider, payer and identifier below is invented for these tests.
NPIs are built with a valid Luhn check digit so they look like real ones to any scrubber.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pyx12.params
import pyx12.x12n_document

from revcycle.claims.model import (
    Address,
    BillingProvider,
    CasAdjustment,
    Claim,
    ClaimLine,
    ClaimType,
    LineAdjudication,
    OtherPayer,
    Payer,
    Person,
    RenderingProvider,
    ServiceFacility,
    Subscriber,
)
from revcycle.x12.envelope import SubmitterConfig

NOW = datetime(2026, 11, 2, 14, 30)


def luhn_npi(first9: str) -> str:
    """A 10-digit NPI with the check digit over '80840' + the first nine digits."""
    total = 0
    for index, char in enumerate(reversed("80840" + first9)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return first9 + str((10 - total % 10) % 10)


BILLING_NPI = luhn_npi("123456789")
RENDERING_NPI = luhn_npi("987654321")
FACILITY_NPI = luhn_npi("555000111")

SUBMITTER = SubmitterConfig(
    submitter_name="Test Billing*Service",
    submitter_id="TESTSUB01",
    contact_name="Jane~Clerk",
    contact_phone="(555) 555-0100",
    contact_email="billing@example.com",
    receiver_name="Test Clearinghouse",
    receiver_id="TESTRCV01",
)

BILLING = BillingProvider(
    npi=BILLING_NPI,
    name="Riverside Family Practice",
    tin="12-3456789",
    address=Address("100 Main St", "Springfield", "IL", "62701-1234"),
    taxonomy="207Q00000X",
)
RENDERING = RenderingProvider(
    npi=RENDERING_NPI, last_name="Okafor", first_name="Ada", taxonomy="207Q00000X"
)
FACILITY = ServiceFacility(
    name="Springfield General Hospital",
    address=Address("800 Hospital Dr", "Springfield", "IL", "627029999"),
    npi=FACILITY_NPI,
)
PAYER = Payer(
    payer_id="87726",
    name="Acme Health Plan",
    address=Address("PO Box 1000", "Hartford", "CT", "06101"),
)
SUBSCRIBER_PERSON = Person(
    last_name="Smith",
    first_name="John",
    middle_initial="Q",
    birth_date=date(1970, 5, 17),
    sex="M",
    address=Address("12 Elm St", "Springfield", "IL", "62704"),
    person_id="P0001",
)
SUBSCRIBER = Subscriber(
    member_id="W123456789",
    person=SUBSCRIBER_PERSON,
    claim_filing_indicator="CI",
    group_number="GRP001",
    plan_name="Acme PPO",
)
DEPENDENT = Person(
    last_name="Smith",
    first_name="Emma",
    middle_initial=None,
    birth_date=date(2012, 8, 1),
    sex="F",
    address=Address("12 Elm St", "Springfield", "IL", "62704"),
    person_id="P0002",
)


def line(
    claim_id: str,
    number: int,
    *,
    code: str = "99213",
    charge: str = "125.00",
    units: int = 1,
    modifiers: tuple[str, ...] = (),
    pointers: tuple[int, ...] = (1,),
    revenue_code: str | None = None,
    service_date: date = date(2026, 10, 5),
) -> ClaimLine:
    return ClaimLine(
        claim_line_id=f"{claim_id}L{number:03d}",
        line_number=number,
        service_date=service_date,
        procedure_code=code,
        charge_amount=Decimal(charge),
        units=units,
        modifiers=modifiers,
        revenue_code=revenue_code,
        pointers=pointers,
    )


def professional_claim(claim_id: str = "C0000000000000001", **changes: Any) -> Claim:
    """A self-insured patient's office visit with two lines; ``changes`` replace fields."""
    claim = Claim(
        claim_id=claim_id,
        claim_type=ClaimType.PROFESSIONAL,
        payer=PAYER,
        subscriber=SUBSCRIBER,
        patient=SUBSCRIBER_PERSON,
        relationship_to_subscriber="18",
        billing_provider=BILLING,
        rendering_provider=RENDERING,
        facility=None,
        service_date=date(2026, 10, 5),
        service_date_to=date(2026, 10, 5),
        diagnoses=("I10", "E119"),
        lines=(
            line(claim_id, 1, pointers=(1, 2)),
            line(claim_id, 2, code="36415", charge="12.50", pointers=(2,)),
        ),
        place_of_service="11",
    )
    return replace(claim, **changes) if changes else claim


def institutional_claim(claim_id: str = "C1000000000000001", **changes: Any) -> Claim:
    """A hospital outpatient visit (bill type 0131) with two revenue-coded lines."""
    claim = Claim(
        claim_id=claim_id,
        claim_type=ClaimType.INSTITUTIONAL,
        payer=PAYER,
        subscriber=SUBSCRIBER,
        patient=SUBSCRIBER_PERSON,
        relationship_to_subscriber="18",
        billing_provider=BILLING,
        rendering_provider=RENDERING,
        facility=None,
        service_date=date(2026, 10, 5),
        service_date_to=date(2026, 10, 6),
        diagnoses=("R079", "I10"),
        lines=(
            line(claim_id, 1, code="99284", charge="850.00", revenue_code="0450", pointers=()),
            line(
                claim_id,
                2,
                code="71046",
                charge="210.75",
                revenue_code="0320",
                pointers=(),
                service_date=date(2026, 10, 6),
            ),
        ),
        place_of_service="22",
        type_of_bill="0131",
    )
    return replace(claim, **changes) if changes else claim


SECONDARY_PAYER = Payer(
    payer_id="62308",
    name="Second Mutual",
    address=Address("PO Box 2000", "Bloomington", "IL", "61701"),
)
SECONDARY_SUBSCRIBER = Subscriber(
    member_id="S99887766",
    person=SUBSCRIBER_PERSON,
    claim_filing_indicator="CI",
    group_number="GRP900",
    payer_responsibility_code="S",
)


def secondary_of(claim: Claim, claim_id: str) -> Claim:
    """``claim`` billed to SECONDARY_PAYER after PAYER paid 80 % of each line and left 20 %:
    half as deductible (PR-1) and half as coinsurance (PR-2), the rest CO-45 (from an
    allowed amount of 90 %), all at line level."""
    lines = tuple(replace(x, claim_line_id=f"{claim_id}L{x.line_number:03d}") for x in claim.lines)
    adjudications = []
    for claim_line in lines:
        allowed = (claim_line.charge_amount * Decimal("0.9")).quantize(Decimal("0.01"))
        paid = (allowed * Decimal("0.8")).quantize(Decimal("0.01"))
        deductible = ((allowed - paid) / 2).quantize(Decimal("0.01"))
        adjudications.append(
            LineAdjudication(
                claim_line_id=claim_line.claim_line_id,
                paid_amount=paid,
                adjudication_date=date(2026, 10, 20),
                adjustments=(
                    CasAdjustment("CO", "45", claim_line.charge_amount - allowed),
                    CasAdjustment("PR", "1", deductible),
                    CasAdjustment("PR", "2", allowed - paid - deductible),
                ),
            )
        )
    paid_total = sum((a.paid_amount for a in adjudications), Decimal("0"))
    liability = sum(
        (x.amount for a in adjudications for x in a.adjustments if x.group_code == "PR"),
        Decimal("0"),
    )
    return replace(
        claim,
        claim_id=claim_id,
        payer=SECONDARY_PAYER,
        subscriber=SECONDARY_SUBSCRIBER,
        lines=lines,
        other_payer=OtherPayer(
            payer=PAYER,
            subscriber=SUBSCRIBER,
            relationship_to_subscriber="18",
            paid_amount=paid_total,
            remaining_patient_liability=liability,
            line_adjudications=tuple(adjudications),
            payer_claim_control_number="PCN0001",
        ),
    )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


@contextmanager
def _pyx12_log() -> Iterator[_Collect]:
    logger = logging.getLogger("pyx12")
    handler = _Collect()
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def _json_errors(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        for error in node.get("errors", []) or []:
            found.append(f"json: {error}")
        for value in node.values():
            _json_errors(value, found)
    elif isinstance(node, list):
        for value in node:
            _json_errors(value, found)


def pyx12_errors(text: str) -> list[str]:
    """Everything pyx12 4.0.0 finds wrong with an X12 text: logged warnings/errors, the
    error tree of its JSON output, a rejected 999 (IK5/AK9 other than A), a False result, or
    an exception (it raises IndexError on over-long composites)."""
    fd_997, fd_json = io.StringIO(), io.StringIO()
    with _pyx12_log() as log:
        try:
            ok = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=io.StringIO(text),
                fd_997=fd_997,
                fd_html=None,
                fd_xmldoc=None,
                fd_json=fd_json,
            )
        except Exception as exc:  # pyx12 raises on some malformed input
            return [f"pyx12 raised {type(exc).__name__}: {exc}"]
    errors = list(log.messages)
    if fd_json.getvalue().strip():
        _json_errors(json.loads(fd_json.getvalue()), errors)
    for segment in fd_997.getvalue().split("~"):
        fields = segment.strip().split("*")
        if fields[0] in ("IK5", "AK9") and fields[1] != "A":
            errors.append(f"999: {segment.strip()}")
    if not ok and not errors:
        errors.append("pyx12 returned False without a message")
    return errors


def segments(text: str) -> list[list[str]]:
    """Our writers' one clean form: ``~`` plus a newline ends every segment."""
    assert text.endswith("~\n")
    return [seg.split("*") for seg in text[:-2].split("~\n")]


def structure_problems(text: str) -> list[str]:
    """Envelope counts, control numbers, HL tree and claim totals, checked independently of
    the writer (pyx12 checks SE01 but not the money or the HL parent pointers)."""
    problems: list[str] = []
    first_line = text.split("\n", 1)[0]
    if len(first_line) != 106:
        problems.append(f"ISA is {len(first_line)} characters")
    segs = segments(text)
    isa, iea = segs[0], segs[-1]
    if iea[0] != "IEA" or iea[2] != isa[13]:
        problems.append("IEA02 != ISA13")
    gs_count = sum(1 for s in segs if s[0] == "GS")
    if int(iea[1]) != gs_count:
        problems.append(f"IEA01 {iea[1]} but {gs_count} GS")
    st_count = 0
    group = None
    start = 0
    hl_seen: dict[str, str] = {}
    hl_children: dict[str, int] = {}
    hl_flag: dict[str, str] = {}
    claim_total = None
    line_sum = Decimal("0")
    lx_expected = 1

    def close_claim() -> None:
        if claim_total is not None and claim_total != line_sum:
            problems.append(f"CLM02 {claim_total} != sum of lines {line_sum}")

    for index, seg in enumerate(segs):
        tag = seg[0]
        if tag == "GS":
            group, st_count = seg, 0
        elif tag == "GE":
            if group is None or seg[2] != group[6]:
                problems.append("GE02 != GS06")
            if int(seg[1]) != st_count:
                problems.append(f"GE01 {seg[1]} but {st_count} ST")
        elif tag == "ST":
            st_count += 1
            start = index
            hl_seen, hl_children, hl_flag = {}, {}, {}
            claim_total = None
        elif tag == "SE":
            close_claim()
            claim_total = None
            if int(seg[1]) != index - start + 1:
                problems.append(f"SE01 {seg[1]} but {index - start + 1} segments")
            if seg[2] != segs[start][2]:
                problems.append("SE02 != ST02")
            for hl, flag in hl_flag.items():
                if (flag == "1") != (hl_children.get(hl, 0) > 0):
                    problems.append(f"HL {hl}: HL04 {flag} but {hl_children.get(hl, 0)} children")
        elif tag == "HL":
            close_claim()
            claim_total = None
            if seg[1] != str(len(hl_seen) + 1):
                problems.append(f"HL01 {seg[1]} out of sequence")
            if seg[2]:
                if seg[2] not in hl_seen:
                    problems.append(f"HL {seg[1]} points at unknown parent {seg[2]}")
                hl_children[seg[2]] = hl_children.get(seg[2], 0) + 1
                expected = {"22": "20", "23": "22"}[seg[3]]
                if hl_seen.get(seg[2]) != expected:
                    problems.append(f"HL {seg[1]} level {seg[3]} under level {hl_seen.get(seg[2])}")
            hl_seen[seg[1]] = seg[3]
            hl_flag[seg[1]] = seg[4]
        elif tag == "CLM":
            close_claim()
            claim_total, line_sum, lx_expected = Decimal(seg[2]), Decimal("0"), 1
        elif tag == "LX":
            if seg[1] != str(lx_expected):
                problems.append(f"LX {seg[1]} where {lx_expected} was expected")
            lx_expected += 1
        elif tag == "SV1":
            line_sum += Decimal(seg[2])
        elif tag == "SV2":
            line_sum += Decimal(seg[3])
    return problems


def assert_valid(text: str) -> None:
    """Zero pyx12 errors and a sound structure."""
    assert structure_problems(text) == []
    assert pyx12_errors(text) == []


def _address_columns(prefix: str, address: Address | None, *, line2: bool) -> dict[str, Any]:
    columns: dict[str, Any] = {
        f"{prefix}_address_line1": address.line1 if address else None,
        f"{prefix}_city": address.city if address else None,
        f"{prefix}_state": address.state if address else None,
        f"{prefix}_zip": address.zip if address else None,
    }
    if line2:
        columns[f"{prefix}_address_line2"] = address.line2 if address else None
    return columns


def _person_columns(prefix: str, person: Person) -> dict[str, Any]:
    return {
        f"{prefix}_last_name": person.last_name,
        f"{prefix}_first_name": person.first_name,
        f"{prefix}_middle_initial": person.middle_initial,
        **_address_columns(prefix, person.address, line2=True),
        f"{prefix}_birth_date": person.birth_date,
        f"{prefix}_sex": person.sex,
    }


def frames_from_claims(claims: list[Claim]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two ready-to-bill datasets, with exactly the contract's columns
    (docs/claims-ready-to-bill.md), holding ``claims``. Money is Decimal, dates are dates."""
    claim_rows = []
    line_rows = []
    for claim in claims:
        rendering = claim.rendering_provider
        facility = claim.facility
        row: dict[str, Any] = {
            "claim_id": claim.claim_id,
            "claim_type": claim.claim_type.value,
            "claim_frequency_code": claim.frequency_code,
            "payer_id": claim.payer.payer_id,
            "payer_name": claim.payer.name,
            **_address_columns("payer", claim.payer.address, line2=False),
            "claim_filing_indicator": claim.subscriber.claim_filing_indicator,
            "payer_responsibility_code": claim.subscriber.payer_responsibility_code,
            "subscriber_id": claim.subscriber.person.person_id,
            "member_id": claim.subscriber.member_id,
            "group_number": claim.subscriber.group_number,
            "plan_name": claim.subscriber.plan_name,
            "relationship_to_subscriber": claim.relationship_to_subscriber,
            "is_patient_subscriber": claim.is_patient_subscriber,
            **_person_columns("subscriber", claim.subscriber.person),
            "patient_id": claim.patient.person_id,
            **_person_columns("patient", claim.patient),
            "billing_provider_npi": claim.billing_provider.npi,
            "billing_provider_name": claim.billing_provider.name,
            "billing_provider_taxonomy": claim.billing_provider.taxonomy,
            "billing_provider_tin": claim.billing_provider.tin,
            **_address_columns("billing_provider", claim.billing_provider.address, line2=False),
            "rendering_provider_npi": rendering.npi if rendering else None,
            "rendering_provider_last_name": rendering.last_name if rendering else None,
            "rendering_provider_first_name": rendering.first_name if rendering else None,
            "rendering_provider_taxonomy": rendering.taxonomy if rendering else None,
            "facility_npi": facility.npi if facility else None,
            "facility_name": facility.name if facility else None,
            **_address_columns("facility", facility.address if facility else None, line2=False),
            "service_date": claim.service_date,
            "service_date_to": claim.service_date_to,
            "place_of_service": claim.place_of_service,
            "type_of_bill": claim.type_of_bill,
            "total_charge_amount": claim.total_charge_amount,
            "line_count": len(claim.lines),
            "diagnosis_count": len(claim.diagnoses),
        }
        for n in range(1, 13):
            row[f"diagnosis_code_{n}"] = (
                claim.diagnoses[n - 1] if n <= len(claim.diagnoses) else None
            )
        claim_rows.append(row)
        for item in claim.lines:
            line_row: dict[str, Any] = {
                "claim_id": claim.claim_id,
                "claim_line_id": item.claim_line_id,
                "line_number": item.line_number,
                "service_date": item.service_date,
                "procedure_code": item.procedure_code,
            }
            for n in range(1, 5):
                line_row[f"modifier_{n}"] = (
                    item.modifiers[n - 1] if n <= len(item.modifiers) else None
                )
            line_row["units"] = item.units
            line_row["charge_amount"] = item.charge_amount
            line_row["revenue_code"] = item.revenue_code
            for n in range(1, 5):
                line_row[f"diagnosis_pointer_{n}"] = (
                    item.pointers[n - 1] if n <= len(item.pointers) else None
                )
            line_rows.append(line_row)
    claims_df = pd.DataFrame(claim_rows)
    lines_df = pd.DataFrame(line_rows)
    for n in range(1, 5):
        lines_df[f"diagnosis_pointer_{n}"] = lines_df[f"diagnosis_pointer_{n}"].astype("Int32")
    return claims_df, lines_df
