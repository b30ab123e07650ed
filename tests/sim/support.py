"""Helpers for the simulation tests: 837 files written with the project's writers, and an
independent reading of what the simulation answered.

PROVENANCE: every person, provider, payer and identifier here is invented (generated from a
fixed seed); NPIs carry a valid Luhn check digit.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from revcycle.claims.model import (
    Address,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimType,
    Payer,
    Person,
    Subscriber,
)
from revcycle.x12.envelope import ControlNumbers, SubmitterConfig
from revcycle.x12.reader import Segment, read_interchanges
from revcycle.x12.writer_837i import write_837i
from revcycle.x12.writer_837p import write_837p
from tests.claims.support import RENDERING, luhn_npi

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 18, 9, 15)
ZERO = Decimal("0")

SUBMITTER = SubmitterConfig(
    submitter_name="SIM TEST BILLING",
    submitter_id="SIMTESTSUB",
    contact_name="BILLING OFFICE",
    contact_phone="5555550100",
    receiver_name="SIMULATED CLEARINGHOUSE",
    receiver_id="SIMCLEARING",
)

PAYERS = {
    "MB": Payer("04412", "Medicare Part B", Address("PO Box 6702", "Fargo", "ND", "581086702")),
    "MC": Payer("SKCA0", "State Medicaid", Address("PO Box 15300", "Sacramento", "CA", "95851")),
    "CI": Payer(
        "87726", "Unity National Health", Address("PO Box 740800", "Atlanta", "GA", "30374")
    ),
    "HM": Payer("61101", "Harborview HMO", Address("PO Box 1000", "Seattle", "WA", "98101")),
    "BL": Payer("SB580", "Pacific Crest Blue", Address("PO Box 272540", "Chico", "CA", "95927")),
}
FEE_SCHEDULES = {
    "04412": Decimal("38.50"),
    "SKCA0": Decimal("31.00"),
    "87726": Decimal("62.50"),
    "61101": Decimal("55.25"),
    "SB580": Decimal("66.66"),
}

PROVIDERS = (
    BillingProvider(
        luhn_npi("123456789"),
        "Riverside Family Practice",
        "123456789",
        Address("100 Main St", "Springfield", "IL", "627011234"),
        "207Q00000X",
    ),
    BillingProvider(
        luhn_npi("223456780"),
        "Lakeside Urgent Care",
        "223456780",
        Address("5 Lake Rd", "Springfield", "IL", "627021111"),
        "261QU0200X",
    ),
    BillingProvider(
        luhn_npi("323456781"),
        "Springfield General Hospital",
        "323456781",
        Address("800 Hospital Dr", "Springfield", "IL", "627029999"),
        "282N00000X",
    ),
)

_PROFESSIONAL_CODES = (
    ("99213", "125.00"),
    ("99214", "185.00"),
    ("99203", "160.00"),
    ("36415", "12.50"),
    ("85025", "33.33"),
    ("93000", "77.77"),
    ("71046", "210.75"),
    ("J1100", "18.01"),
)
_INSTITUTIONAL_CODES = (
    ("0450", "99284", "850.00"),
    ("0320", "71046", "210.75"),
    ("0300", "36415", "25.00"),
    ("0305", "85025", "55.55"),
    ("0636", "J1100", "41.07"),
)
_LAST = ("Smith", "Garcia", "Nguyen", "O'Brien", "Kowalski", "Okafor", "Lindqvist", "Moreau")
_FIRST = ("Ada", "Bo", "Chen", "Dana", "Eli", "Farah", "Gus", "Hana")


def _person(rng: random.Random, person_id: str) -> Person:
    return Person(
        last_name=rng.choice(_LAST),
        first_name=rng.choice(_FIRST),
        middle_initial=rng.choice((None, "Q", "J")),
        birth_date=date(1940 + rng.randrange(70), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        sex=rng.choice(("M", "F")),
        address=Address(f"{rng.randrange(1, 999)} Elm St", "Springfield", "IL", "62704"),
        person_id=person_id,
    )


def generate_claims(count: int, seed: int = 5, prefix: str = "S") -> list[Claim]:
    """``count`` varied claims: five payers (Medicare, Medicaid, commercial, HMO, Blue),
    three billing providers, 1-6 lines, professional and institutional, some dependents."""
    rng = random.Random(seed)
    claims: list[Claim] = []
    for n in range(count):
        claim_id = f"{prefix}{n:07d}"
        filing = rng.choice(tuple(PAYERS))
        subscriber_person = _person(rng, f"P{n}")
        subscriber = Subscriber(
            member_id=f"M{rng.randrange(10**9):09d}",
            person=subscriber_person,
            claim_filing_indicator=filing,
            group_number=None if filing in ("MB", "MC") else "GRP01",
            plan_name="PLAN",
        )
        dependent = filing in ("CI", "BL") and rng.random() < 0.3
        patient = _person(rng, f"D{n}") if dependent else subscriber_person
        institutional = rng.random() < 0.25
        start = date(2026, 9, 1) + timedelta(days=rng.randrange(60))
        line_count = rng.choice((1, 1, 2, 2, 3, 4, 6))
        lines: list[ClaimLine] = []
        for number in range(1, line_count + 1):
            day = start + timedelta(days=rng.randrange(2) if institutional else 0)
            if institutional:
                revenue, code, charge = rng.choice(_INSTITUTIONAL_CODES)
            else:
                revenue = None
                code, charge = rng.choice(_PROFESSIONAL_CODES)
            units = rng.choice((1, 1, 1, 2, 3))
            lines.append(
                ClaimLine(
                    claim_line_id=f"{claim_id}-{number:03d}",
                    line_number=number,
                    service_date=day,
                    procedure_code=code,
                    charge_amount=Decimal(charge) * units,
                    units=units,
                    modifiers=rng.choice(((), (), ("25",), ("59", "LT"))),
                    revenue_code=revenue,
                    pointers=() if institutional else (1,),
                )
            )
        provider = PROVIDERS[2] if institutional else rng.choice(PROVIDERS[:2])
        claims.append(
            Claim(
                claim_id=claim_id,
                claim_type=ClaimType.INSTITUTIONAL if institutional else ClaimType.PROFESSIONAL,
                payer=PAYERS[filing],
                subscriber=subscriber,
                patient=patient,
                relationship_to_subscriber="19" if dependent else "18",
                billing_provider=provider,
                rendering_provider=RENDERING,
                facility=None,
                service_date=min(line.service_date for line in lines),
                service_date_to=max(line.service_date for line in lines),
                diagnoses=("I10", "E119"),
                lines=tuple(lines),
                place_of_service=None if institutional else "11",
                type_of_bill="0131" if institutional else None,
            )
        )
    return claims


@dataclass
class Outbox:
    """An outbox folder that hands out our control numbers like the emitter does."""

    folder: Path
    next_number: int = 1
    files: list[Path] = field(default_factory=list)

    def write(
        self, claims: Sequence[Claim], *, claims_per_transaction: int = 100, name: str = ""
    ) -> Path:
        claim_type = claims[0].claim_type
        writer = write_837p if claim_type is ClaimType.PROFESSIONAL else write_837i
        st_count = -(-len(claims) // claims_per_transaction)
        control = ControlNumbers(
            interchange=self.next_number,
            group=self.next_number,
            transactions=range(self.next_number, self.next_number + st_count),
        )
        self.next_number += st_count
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / (
            name
            or f"{claims[0].payer.payer_id}_{claim_type.transaction}_{control.interchange:09d}.x12"
        )
        with path.open("w", encoding="ascii", newline="") as out:
            writer(
                out,
                claims,
                submitter=SUBMITTER,
                control=control,
                now=NOW,
                claims_per_transaction=claims_per_transaction,
            )
        self.files.append(path)
        return path

    def write_by_payer(
        self, claims: Iterable[Claim], *, claims_per_transaction: int = 100
    ) -> list[Path]:
        """One file per payer and claim type, as the emitter writes them."""
        groups: dict[tuple[str, ClaimType], list[Claim]] = defaultdict(list)
        for claim in claims:
            groups[(claim.payer.payer_id, claim.claim_type)].append(claim)
        return [
            self.write(group, claims_per_transaction=claims_per_transaction)
            for _key, group in sorted(groups.items())
        ]


def replacement(claim: Claim, payer_claim_number: str, frequency: str = "7") -> Claim:
    """A replacement (7) or void (8) of ``claim`` naming the payer's claim number."""
    return replace(claim, frequency_code=frequency, payer_claim_control_number=payer_claim_number)


# --------------------------------------------------------------------------------------------
# Reading the answers back with the project's reader (independently of the simulation)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def transactions(path: Path) -> list[list[Segment]]:
    found = []
    for interchange in read_interchanges(path.read_bytes(), path.name):
        for transaction in interchange.transactions:
            found.append(transaction.segments)
    return found


@dataclass
class Clp:
    """One CLP as read back, with its file and delivery order."""

    file: str
    control: int  # ISA13 of its file: later deliveries have higher numbers
    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    claim_cas: list[tuple[str, str, Decimal]] = field(default_factory=list)
    line_cas: list[tuple[str, str, Decimal]] = field(default_factory=list)
    line_ids: list[str] = field(default_factory=list)
    lines: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list)  # charge, paid, CAS


@dataclass
class Plb:
    reason: str
    reference: str
    amount: Decimal


@dataclass
class Remittance:
    file: str
    control: int
    trace: str
    amount: Decimal  # BPR02
    method: str
    claims: list[Clp] = field(default_factory=list)
    plbs: list[Plb] = field(default_factory=list)


def _cas(seg: Segment) -> list[tuple[str, str, Decimal]]:
    group = seg.get(1)
    found = []
    for n in range(2, len(seg.elements), 3):
        reason = seg.get(n)
        if reason:
            found.append((group, reason, Decimal(seg.get(n + 1))))
    return found


def read_835(path: Path) -> list[Remittance]:
    """The payments of an 835 file, read with :mod:`revcycle.x12.reader` segments."""
    interchanges = read_interchanges(path.read_bytes(), path.name)
    control = int(interchanges[0].control_number)
    payments: list[Remittance] = []
    for interchange in interchanges:
        for transaction in interchange.transactions:
            payment: Remittance | None = None
            clp: Clp | None = None
            in_line = False
            for seg in transaction.segments:
                sid = seg.id
                if sid == "BPR":
                    payment = Remittance(path.name, control, "", Decimal(seg.get(2)), seg.get(4))
                    payments.append(payment)
                elif sid == "TRN" and payment is not None:
                    payment.trace = seg.get(2)
                elif sid == "CLP" and payment is not None:
                    clp = Clp(
                        path.name,
                        control,
                        seg.get(1),
                        seg.get(2),
                        Decimal(seg.get(3)),
                        Decimal(seg.get(4)),
                        Decimal(seg.get(5) or "0"),
                        seg.get(7),
                    )
                    payment.claims.append(clp)
                    in_line = False
                elif sid == "SVC" and clp is not None:
                    clp.lines.append((Decimal(seg.get(2)), Decimal(seg.get(3)), ZERO))
                    in_line = True
                elif sid == "CAS" and clp is not None:
                    found = _cas(seg)
                    if in_line:
                        clp.line_cas += found
                        charge, paid, total = clp.lines[-1]
                        clp.lines[-1] = (charge, paid, total + sum(a for _g, _r, a in found))
                    else:
                        clp.claim_cas += found
                elif sid == "REF" and seg.get(1) == "6R" and clp is not None and in_line:
                    clp.line_ids.append(seg.get(2))
                elif sid == "PLB" and payment is not None:
                    for n in range(3, len(seg.elements), 2):
                        if seg.get(n):
                            reason, _, reference = seg.get(n).partition(":")
                            payment.plbs.append(Plb(reason, reference, Decimal(seg.get(n + 1))))
    return payments


def imbalances(payment: Remittance) -> list[str]:
    """Every balancing rule of docs/x12.md an 835 payment breaks (computed here, not trusted
    from the simulation)."""
    problems = []
    for clp in payment.claims:
        for charge, paid, cas in clp.lines:
            if charge - cas != paid:
                problems.append(f"{clp.claim_id}: line {charge} - {cas} != {paid}")
        adjustments = sum(a for _g, _r, a in clp.claim_cas + clp.line_cas)
        if clp.charge - adjustments != clp.paid:
            problems.append(f"{clp.claim_id}: claim {clp.charge} - {adjustments} != {clp.paid}")
        owed = sum(a for g, _r, a in clp.claim_cas + clp.line_cas if g == "PR")
        if owed != clp.patient_responsibility:
            problems.append(f"{clp.claim_id}: CLP05 {clp.patient_responsibility} != PR {owed}")
        if clp.lines and sum(c for c, _p, _a in clp.lines) != clp.charge:
            problems.append(f"{clp.claim_id}: CLP03 != sum of SVC02")
    expected = sum((c.paid for c in payment.claims), ZERO) - sum(
        (p.amount for p in payment.plbs), ZERO
    )
    if expected != payment.amount:
        problems.append(f"transaction {payment.trace}: BPR02 {payment.amount} != {expected}")
    if payment.amount < 0:
        problems.append(f"transaction {payment.trace}: negative payment")
    return problems


@dataclass
class ClaimAck:
    claim_id: str
    category: str
    status: str
    payer_claim_number: str
    charge: Decimal


def read_277ca(path: Path) -> list[ClaimAck]:
    found: list[ClaimAck] = []
    for segments in transactions(path):
        current: ClaimAck | None = None
        level = ""
        for seg in segments:
            if seg.id == "HL":
                level = seg.get(3)
                current = None
            elif seg.id == "TRN" and level == "PT":
                current = ClaimAck(seg.get(2), "", "", "", ZERO)
                found.append(current)
            elif seg.id == "STC" and current is not None:
                current.category = seg.component(1, 1)
                current.status = seg.component(1, 2)
                current.charge = Decimal(seg.get(4))
            elif seg.id == "REF" and seg.get(1) == "1K" and current is not None:
                current.payer_claim_number = seg.get(2)
    return found


def inbox_files(inbox: Path) -> dict[str, bytes]:
    """Every file the simulation wrote (relative path -> bytes), state included."""
    return {
        str(path.relative_to(inbox)): path.read_bytes()
        for path in sorted(inbox.rglob("*"))
        if path.is_file() and path.name != ".sim_state.lock"
    }
