"""Write 837P/837I with the project's writers, read them back with the tolerant reader.

Every claim id, claim total and line charge must come back exactly (Decimal, to the cent), and
the files the writers produce must pass pyx12.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.claims.model import (
    Address,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimType,
    Payer,
    Person,
    RenderingProvider,
    Subscriber,
)
from revcycle.x12.envelope import ControlNumbers, SubmitterConfig, WriteSummary
from revcycle.x12.read_837 import INSTITUTIONAL, PROFESSIONAL, Claim837, read_837_claims
from revcycle.x12.reader import read_interchanges
from revcycle.x12.validate import format_report, validate_bytes
from revcycle.x12.writer_837i import write_837i
from revcycle.x12.writer_837p import write_837p

NOW = datetime(2026, 11, 2, 14, 30)
Writer = Callable[..., WriteSummary]


def luhn_npi(first9: str) -> str:
    total = 0
    for index, char in enumerate(reversed("80840" + first9)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return first9 + str((10 - total % 10) % 10)


SUBMITTER = SubmitterConfig(
    submitter_name="ROUND TRIP BILLING",
    submitter_id="RTSUB01",
    contact_name="BILLING OFFICE",
    contact_phone="5555550100",
    receiver_name="ROUND TRIP CLEARINGHOUSE",
    receiver_id="RTRCV01",
)
BILLING = BillingProvider(
    npi=luhn_npi("123456789"),
    name="Riverside Family Practice",
    tin="123456789",
    address=Address("100 Main St", "Springfield", "IL", "627011234"),
    taxonomy="207Q00000X",
)
RENDERING = RenderingProvider(npi=luhn_npi("987654321"), last_name="Okafor", first_name="Ada")
PAYERS = (Payer("87726", "Acme Health Plan"), Payer("MCR01", "Medicare Part B"))
HOME = Address("12 Elm St", "Springfield", "IL", "62704")


def person(n: int) -> Person:
    return Person(
        last_name=f"Person{n}",
        first_name="Pat",
        middle_initial=None,
        birth_date=date(1950, 1, 1) + timedelta(days=97 * n),
        sex="F" if n % 2 else "M",
        address=HOME,
        person_id=f"P{n:05d}",
    )


def make_claim(
    rng: random.Random,
    n: int,
    claim_type: ClaimType,
    charges: Sequence[Decimal] | None = None,
) -> Claim:
    """Claim ``n``: varied payers, subscribers, dependants, frequencies, modifiers, units."""
    claim_id = f"RT{claim_type.transaction[-1]}{n:08d}"
    subscriber_no = n % 7
    subscriber = Subscriber(
        member_id=f"M{subscriber_no:09d}",
        person=person(subscriber_no),
        claim_filing_indicator="CI" if subscriber_no % 2 else "MB",
    )
    dependant = n % 3 == 0
    patient = person(100 + n % 5) if dependant else subscriber.person
    frequency = ("1", "1", "7", "8")[n % 4]
    start = date(2026, 9, 1) + timedelta(days=n % 40)
    if charges is None:
        charges = [Decimal(rng.randint(1, 9_999_999)) / 100 for _ in range(rng.randint(1, 6))]
    lines = tuple(
        ClaimLine(
            claim_line_id=f"{claim_id}L{i:03d}",
            line_number=i,
            service_date=start
            + timedelta(days=i - 1 if claim_type is ClaimType.INSTITUTIONAL else 0),
            procedure_code=rng.choice(["99213", "36415", "71046", "J1100", "G0008"]),
            charge_amount=charge,
            units=rng.randint(1, 12),
            modifiers=tuple(rng.sample(["25", "59", "LT", "RT", "GT"], rng.randint(0, 2))),
            revenue_code=(
                rng.choice(["0450", "0320", "0300", "0250"])
                if claim_type is ClaimType.INSTITUTIONAL
                else None
            ),
            pointers=(1,) if claim_type is ClaimType.PROFESSIONAL else (),
        )
        for i, charge in enumerate(charges, start=1)
    )
    return Claim(
        claim_id=claim_id,
        claim_type=claim_type,
        payer=PAYERS[n % 2],
        subscriber=subscriber,
        patient=patient,
        relationship_to_subscriber="19" if dependant else "18",
        billing_provider=BILLING,
        rendering_provider=RENDERING,
        facility=None,
        service_date=start,
        service_date_to=lines[-1].service_date,
        diagnoses=("I10", "E119", "R079")[: 1 + n % 3],
        lines=lines,
        place_of_service="11" if claim_type is ClaimType.PROFESSIONAL else None,
        type_of_bill="0131" if claim_type is ClaimType.INSTITUTIONAL else None,
        frequency_code=frequency,
        payer_claim_control_number=None if frequency == "1" else f"PCN{n:06d}",
    )


def write(writer: Writer, claims: list[Claim], per_transaction: int) -> str:
    out = io.StringIO(newline="")
    sets = max(1, -(-len(claims) // per_transaction))
    writer(
        out,
        claims,
        submitter=SUBMITTER,
        control=ControlNumbers(interchange=41, group=42, transactions=range(100, 100 + sets)),
        now=NOW,
        claims_per_transaction=per_transaction,
    )
    return out.getvalue()


def assert_same(sent: Claim, got: Claim837) -> None:
    assert got.claim_id == sent.claim_id
    assert got.total_charge == sent.total_charge_amount
    assert got.line_total == got.total_charge
    assert got.frequency_code == sent.frequency_code
    assert got.payer_id == sent.payer.payer_id
    assert got.subscriber_member_id == sent.subscriber.member_id
    assert got.has_patient_loop == (not sent.is_patient_subscriber)
    assert got.relationship_code == sent.relationship_to_subscriber
    assert got.payer_claim_number == sent.payer_claim_control_number
    assert got.diagnoses == sent.diagnoses
    assert len(got.lines) == len(sent.lines)
    for sent_line, got_line in zip(sent.lines, got.lines, strict=True):
        assert got_line.line_control_number == sent_line.claim_line_id
        assert got_line.number == sent_line.line_number
        assert got_line.charge == sent_line.charge_amount
        assert got_line.procedure_code == sent_line.procedure_code
        assert got_line.modifiers == sent_line.modifiers
        assert got_line.units == sent_line.units
        assert got_line.service_date == sent_line.service_date
        assert got_line.revenue_code == sent_line.revenue_code
    if sent.claim_type is ClaimType.PROFESSIONAL:
        assert got.kind == PROFESSIONAL
        assert got.facility_code == sent.place_of_service
        assert all(line.diagnosis_pointers == (1,) for line in got.lines)
    else:
        assert got.kind == INSTITUTIONAL
        assert sent.type_of_bill is not None
        assert got.bill_type == sent.type_of_bill[1:3] + sent.frequency_code
        assert got.statement_from == sent.service_date
        assert got.statement_to == sent.service_date_to


CASES: list[tuple[str, Writer, ClaimType]] = [
    ("837P", write_837p, ClaimType.PROFESSIONAL),
    ("837I", write_837i, ClaimType.INSTITUTIONAL),
]


@pytest.mark.parametrize(("name", "writer", "claim_type"), CASES, ids=[c[0] for c in CASES])
def test_every_claim_and_amount_comes_back(
    name: str, writer: Writer, claim_type: ClaimType
) -> None:
    rng = random.Random(837)
    claims = [make_claim(rng, n, claim_type) for n in range(1, 251)]
    text = write(writer, claims, per_transaction=60)  # several ST per file

    interchanges = read_interchanges(text, f"round-trip.{name}")
    assert [w for i in interchanges for w in i.all_warnings()] == []
    assert len(interchanges[0].transactions) == 5

    got = read_837_claims(text.encode(), f"round-trip.{name}")
    assert sorted(c.claim_id for c in got) == sorted(c.claim_id for c in claims)
    by_id = {c.claim_id: c for c in got}
    for sent in claims:
        assert_same(sent, by_id[sent.claim_id])
    assert sum(c.total_charge for c in got) == sum(c.total_charge_amount for c in claims)


@pytest.mark.parametrize(("name", "writer", "claim_type"), CASES, ids=[c[0] for c in CASES])
def test_written_files_pass_pyx12(name: str, writer: Writer, claim_type: ClaimType) -> None:
    rng = random.Random(5010)
    claims = [make_claim(rng, n, claim_type) for n in range(1, 13)]
    report = validate_bytes(write(writer, claims, per_transaction=5), f"out.{name}")
    assert report.is_valid, "\n".join(format_report(report))


_amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2, allow_nan=False
)


@settings(max_examples=40, deadline=None, database=None)
@given(
    case=st.sampled_from(CASES),
    charges=st.lists(st.lists(_amounts, min_size=1, max_size=5), min_size=1, max_size=4),
)
def test_any_amounts_round_trip(case: tuple[str, Writer, ClaimType], charges: Any) -> None:
    name, writer, claim_type = case
    rng = random.Random(1)
    claims = [make_claim(rng, n, claim_type, c) for n, c in enumerate(charges, start=1)]
    got = read_837_claims(write(writer, claims, per_transaction=2).encode(), name)
    assert [(c.claim_id, c.total_charge) for c in sorted(got, key=lambda c: c.claim_id)] == [
        (c.claim_id, c.total_charge_amount) for c in claims
    ]
    for sent, back in zip(claims, sorted(got, key=lambda c: c.claim_id), strict=True):
        assert [line.charge for line in back.lines] == [line.charge_amount for line in sent.lines]
