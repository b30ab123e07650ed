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
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any, TypeVar

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
        modifiers = self.modifiers
        for code in (self.procedure_code, self.revenue_code, *modifiers):
            if code is not None and not (code.isascii() and code.isalnum()):
                raise ValueError(f"line {lid}: code {code!r} must be letters and digits")
        if len(modifiers) > MAX_MODIFIERS:
            raise ValueError(f"line {lid}: more than {MAX_MODIFIERS} modifiers")
        if len(self.pointers) > MAX_POINTERS:
            raise ValueError(f"line {lid}: more than {MAX_POINTERS} pointers")
        charge = self.charge_amount
        if not isinstance(charge, Decimal):
            raise TypeError(f"line {lid}: charge_amount must be a Decimal")
        if charge < 0:
            raise ValueError(f"line {lid}: negative charge {charge}")
        if self.units < 1:
            raise ValueError(f"line {lid}: units must be at least 1")


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
        # Runs for every claim of a night (about 900,000 at workload L): attributes are read
        # once into locals.
        cid = self.claim_id

        def fail(message: str) -> None:
            raise ClaimDataError(cid, message)

        if not cid or len(cid) > MAX_CLAIM_ID_LENGTH or not (cid.isascii() and cid.isalnum()):
            fail(f"claim id must be 1-{MAX_CLAIM_ID_LENGTH} letters or digits")
        frequency = self.frequency_code
        if frequency not in FREQUENCY_CODES:
            fail(f"frequency code {frequency!r} is not 1, 7 or 8")
        if frequency == FREQUENCY_ORIGINAL:
            if self.payer_claim_control_number:
                fail("an original claim (frequency 1) has no payer claim control number")
        elif not self.payer_claim_control_number:
            fail(f"frequency {frequency} needs the payer claim control number")
        diagnosis_count = len(self.diagnoses)
        if not 1 <= diagnosis_count <= MAX_DIAGNOSES:
            fail(f"needs 1-{MAX_DIAGNOSES} diagnoses, has {diagnosis_count}")
        for code in self.diagnoses:
            if not code or not code.isalnum():
                fail(f"diagnosis {code!r} must be letters and digits (ICD-10 without the dot)")
        lines = self.lines
        if not lines:
            fail("has no lines")
        if self.service_date > self.service_date_to:
            fail("service_date is after service_date_to")
        if self.claim_type is ClaimType.PROFESSIONAL:
            pos = self.place_of_service
            if not pos or len(pos) != 2 or not pos.isdigit():
                fail(f"place of service {pos!r} must be 2 digits")
            for line in lines:
                if not line.procedure_code:
                    fail(f"line {line.claim_line_id} has no procedure code")
                pointers = line.pointers
                if not pointers:
                    fail(f"line {line.claim_line_id} has no diagnosis pointer")
                # Every pointer within 1..diagnosis_count (pointers is not empty here).
                if min(pointers) < 1 or max(pointers) > diagnosis_count:
                    fail(f"line {line.claim_line_id} points at a diagnosis the claim lacks")
        else:
            tob = self.type_of_bill
            if not tob or len(tob) != 4 or not tob.isdigit():
                fail(f"type of bill {tob!r} must be 4 digits such as 0131")
            for line in lines:
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
#
# Speed: a night at workload L is about 900,000 claims and 2.3 million lines. The frames are
# read column by column into Python lists, once, and what repeats across rows (payers, billing
# and rendering providers, facilities, addresses, people, coverages, diagnosis lists, modifiers,
# pointers) is built once per distinct set of raw values and shared by the claims that have it:
# the classes are frozen, so sharing is safe, and most rows cost a few dict look-ups. Nothing
# is checked less. A shared part is built, and checked, when the first row that has it needs
# it, and each row runs its checks in the same order as a row-by-row reading would, so the
# first bad row raises the same error with the same message.

_Key = TypeVar("_Key", bound=Hashable)
_Built = TypeVar("_Built")


class _Interned(dict[_Key, _Built]):
    """Values built from their key on first use: a hit is a plain dict look-up (in C). For
    builders whose errors do not name the claim (those are built where the claim is known)."""

    def __init__(self, build: Callable[[_Key], _Built]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, key: _Key) -> _Built:
        value = self[key] = self._build(key)
        return value


class _Columns:
    """A frame's columns as Python lists (``.tolist()`` hands back Decimal, date and None,
    not numpy scalars). A row-by-row reading would fail on a required column the frame lacks
    (KeyError) and read None from an optional one; so do these."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self.size = len(frame)

    def __contains__(self, name: str) -> bool:
        return name in self._frame.columns

    def required(self, name: str) -> list[Any]:
        if not self.size and name not in self._frame.columns:
            return []
        values: list[Any] = self._frame[name].tolist()
        return values

    def optional(self, name: str) -> list[Any]:
        if name not in self._frame.columns:
            return [None] * self.size
        values: list[Any] = self._frame[name].tolist()
        return values

    def _is_text(self, name: str) -> bool:
        """A string column: its values are str or a missing marker, nothing else."""
        return isinstance(self._frame[name].dtype, pd.StringDtype)

    def texts(self, name: str, *, required: bool = False) -> list[str | None]:
        """The column through :func:`_text`."""
        values = self.required(name) if required else self.optional(name)
        if name not in self._frame.columns:
            return values
        if self._is_text(name):
            return [(v.strip() or None) if v.__class__ is str else None for v in values]
        return [_text(value) for value in values]

    def text_keys(self, name: str, *, required: bool = False) -> list[Any]:
        """A text column as cache keys: equal keys must give the same :func:`_text`. A
        string column's raw values do; any other column is cleaned first, since 1 and 1.0
        are equal keys with different text."""
        values = self.required(name) if required else self.optional(name)
        if name not in self._frame.columns or self._is_text(name):
            return values
        return [_text(value) for value in values]

    def address_keys(self, prefix: str) -> Iterator[tuple[Any, ...]]:
        return zip(
            *(
                self.text_keys(f"{prefix}_{part}")
                for part in ("address_line1", "address_line2", "city", "state", "zip")
            ),
            strict=True,
        )

    def person_keys(self, prefix: str) -> Iterator[tuple[Any, ...]]:
        """What :func:`_SharedParts.person` takes; ``<prefix>_id`` is the person id."""
        return zip(
            self.text_keys(f"{prefix}_id"),
            self.text_keys(f"{prefix}_last_name", required=True),
            self.text_keys(f"{prefix}_first_name", required=True),
            self.text_keys(f"{prefix}_middle_initial", required=True),
            self.required(f"{prefix}_birth_date"),  # equal dates are the same date
            self.text_keys(f"{prefix}_sex", required=True),
            self.address_keys(prefix),
            strict=True,
        )


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str | None:
    if value.__class__ is str:  # the common case, first
        return value.strip() or None
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None


def _required(text: str | None, column: str, claim_id: str) -> str:
    if text is None:
        raise ClaimDataError(claim_id, f"{column} is empty")
    return text


def _required_text(row: dict[str, Any], column: str, claim_id: str) -> str:
    return _required(_text(row[column]), column, claim_id)


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


def _address(key: tuple[Any, ...]) -> Address | None:
    """(line1, line2, city, state, zip); None without a first line."""
    line1, line2, city, state, zip_code = key
    text = _text(line1)
    if text is None:
        return None
    return Address(
        line1=text,
        line2=_text(line2),
        city=_text(city) or "",
        state=_text(state) or "",
        zip=_text(zip_code) or "",
    )


def _diagnoses(key: tuple[Any, ...]) -> tuple[str, ...]:
    """diagnosis_code_1 ... _12 as codes without dots, empty ones left out."""
    return tuple(code.replace(".", "").upper() for code in map(_text, key) if code)


def _modifiers(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(modifier for modifier in map(_text, key) if modifier)


def _pointers(key: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(pointer for pointer in map(_int, key) if pointer is not None)


def _rendering_provider(key: tuple[Any, ...]) -> RenderingProvider | None:
    """(npi, last name, first name, taxonomy); None without an NPI."""
    npi, last_name, first_name, taxonomy = key
    npi_text = _text(npi)
    if not npi_text:
        return None
    return RenderingProvider(
        npi=npi_text,
        last_name=_text(last_name) or "",
        first_name=_text(first_name),
        taxonomy=_text(taxonomy),
    )


class _SharedParts:
    """The parts of a claim that repeat across rows, each built once per distinct key."""

    def __init__(self) -> None:
        self.addresses = _Interned(_address)
        self.people = _Interned(self._person)
        self.diagnoses = _Interned(_diagnoses)
        self.rendering_providers = _Interned(_rendering_provider)
        self.facilities = _Interned(self._facility)
        self.claim_types: dict[Any, ClaimType] = {}
        self.payers: dict[tuple[Any, ...], Payer] = {}
        self.subscribers: dict[tuple[Any, ...], Subscriber] = {}
        self.billing_providers: dict[tuple[Any, ...], BillingProvider] = {}

    def _person(self, key: tuple[Any, ...]) -> Person:
        person_id, last_name, first_name, middle_initial, birth_date, sex, address = key
        return Person(
            last_name=_text(last_name) or "",
            first_name=_text(first_name),
            middle_initial=_text(middle_initial),
            birth_date=_date(birth_date),
            sex=_text(sex),
            address=self.addresses[address],
            person_id=_text(person_id),
        )

    def _facility(self, key: tuple[Any, ...]) -> ServiceFacility | None:
        """(name, npi, address key); None without a name or an address."""
        name, npi, address_key = key
        name_text = _text(name)
        address = self.addresses[address_key]
        if not (name_text and address):
            return None
        return ServiceFacility(name=name_text, address=address, npi=_text(npi))

    # The parts below may refuse the claim, so they are built where its id is known.

    def claim_type(self, key: Any, claim_id: str) -> ClaimType:
        built = self.claim_types[key] = ClaimType(_required(_text(key), "claim_type", claim_id))
        return built

    def payer(self, key: tuple[Any, ...], claim_id: str) -> Payer:
        """(payer_id, payer_name, address key)."""
        payer_id, name, address = key
        built = self.payers[key] = Payer(
            payer_id=_required(_text(payer_id), "payer_id", claim_id),
            name=_required(_text(name), "payer_name", claim_id),
            address=self.addresses[address],
        )
        return built

    def subscriber(self, key: tuple[Any, ...], person: Person, claim_id: str) -> Subscriber:
        """(coverage, person key): the coverage is member id, filing indicator, group
        number, plan name and payer responsibility; the person is built from the key."""
        (member_id, filing_indicator, group_number, plan_name, responsibility), _ = key
        built = self.subscribers[key] = Subscriber(
            member_id=_required(_text(member_id), "member_id", claim_id),
            person=person,
            claim_filing_indicator=_required(
                _text(filing_indicator), "claim_filing_indicator", claim_id
            ),
            group_number=_text(group_number),
            plan_name=_text(plan_name),
            payer_responsibility_code=_text(responsibility) or "P",
        )
        return built

    def billing_provider(
        self, key: tuple[Any, ...], address: Address, claim_id: str
    ) -> BillingProvider:
        """(npi, name, tin, taxonomy, address key); the address is built from the key."""
        npi, name, tin, taxonomy, _ = key
        built = self.billing_providers[key] = BillingProvider(
            npi=_required(_text(npi), "billing_provider_npi", claim_id),
            name=_required(_text(name), "billing_provider_name", claim_id),
            tin=_required(_text(tin), "billing_provider_tin", claim_id),
            address=address,
            taxonomy=_text(taxonomy),
        )
        return built


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


class _PriorPayerRows:
    """The ``other_*`` columns of a frame with secondary (COB) rows, as one dict per row that
    needs them (few do; the row-dict readers above take them)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._columns = {
            str(name): frame[name].tolist()
            for name in frame.columns
            if str(name).startswith("other_") or name == "claim_line_id"
        }

    def row(self, index: int) -> dict[str, Any]:
        return {name: values[index] for name, values in self._columns.items()}


_ZERO = Decimal("0")
_LINE_NUMBER = attrgetter("line_number")
_ClaimLines = dict[str, list[ClaimLine]]
_Adjudications = dict[str, list[tuple[int, LineAdjudication]]]


def _read_lines(lines_df: pd.DataFrame) -> tuple[_ClaimLines, _Adjudications]:
    """Every line, by claim id in frame order, and the prior payer's line adjudications of
    secondary claims (with their line numbers, to sort by)."""
    columns = _Columns(lines_df)
    lines_by_claim: _ClaimLines = defaultdict(list)
    adjudications_by_claim: _Adjudications = defaultdict(list)
    modifiers = _Interned(_modifiers)
    pointer_names = [f"diagnosis_pointer_{i}" for i in range(1, MAX_POINTERS + 1)]
    # Equal pointers convert to the same int only in integer columns (float columns from
    # .df() may hold 1.5, which must raise): other columns are converted line by line.
    pointers = (
        _Interned(_pointers)
        if all(
            name not in columns or pd.api.types.is_integer_dtype(lines_df[name].dtype)
            for name in pointer_names
        )
        else None
    )
    paid = columns.optional("other_payer_paid_amount")
    prior_payer = _PriorPayerRows(lines_df) if "other_payer_paid_amount" in columns else None
    raw_line_ids = columns.required("claim_line_id")
    rows = zip(
        columns.required("claim_id"),
        zip(
            *(columns.text_keys(f"modifier_{i}") for i in range(1, MAX_MODIFIERS + 1)), strict=True
        ),
        zip(*map(columns.optional, pointer_names), strict=True),
        columns.required("service_date"),
        columns.required("line_number"),
        columns.required("units"),
        raw_line_ids,
        columns.texts("claim_line_id", required=True),
        columns.texts("procedure_code", required=True),
        columns.required("charge_amount"),
        columns.texts("revenue_code"),
        strict=True,
    )
    for index, (
        raw_claim_id,
        modifier_key,
        pointer_key,
        raw_date,
        raw_number,
        raw_units,
        raw_line_id,
        line_id,
        procedure_code,
        charge,
        revenue_code,
    ) in enumerate(rows):
        claim_id = raw_claim_id if raw_claim_id.__class__ is str else str(raw_claim_id)
        line_modifiers = modifiers[modifier_key]
        line_pointers = _pointers(pointer_key) if pointers is None else pointers[pointer_key]
        service_date = raw_date if raw_date.__class__ is date else _date(raw_date)
        line_number = raw_number if raw_number.__class__ is int else _int(raw_number)
        units = raw_units if raw_units.__class__ is int else _int(raw_units)
        if service_date is None or line_number is None or units is None:
            raise ClaimDataError(claim_id, f"line {raw_line_id}: missing date/number/units")
        line = ClaimLine(
            claim_line_id=_required(line_id, "claim_line_id", claim_id),
            line_number=line_number,
            service_date=service_date,
            procedure_code=procedure_code,
            charge_amount=(
                charge if charge.__class__ is Decimal else _money(charge, "charge_amount", claim_id)
            ),
            units=units,
            modifiers=line_modifiers,
            revenue_code=revenue_code,
            pointers=line_pointers,
        )
        lines_by_claim[claim_id].append(line)
        if prior_payer is not None and not _missing(paid[index]):
            adjudication = _line_adjudication(prior_payer.row(index), claim_id)
            if adjudication is not None:
                adjudications_by_claim[claim_id].append((line.line_number, adjudication))
    return lines_by_claim, adjudications_by_claim


def claims_from_frames(claims_df: pd.DataFrame, lines_df: pd.DataFrame) -> Iterator[Claim]:
    """The claims of ``claims_ready_to_bill`` with their lines, in the order of ``claims_df``.

    Checks the identities the contract promises and the writer relies on: the claim has
    ``line_count`` lines, they add up to ``total_charge_amount``, and ``diagnosis_count``
    diagnoses are present. A broken identity raises ``ClaimDataError``: the gate should have
    caught it, and a claim file must not go out with a total nobody can explain.

    Optional columns: ``claim_frequency_code`` (default 1) and
    ``payer_claim_control_number`` (replacements and voids).
    """
    lines_by_claim, adjudications_by_claim = _read_lines(lines_df)
    columns = _Columns(claims_df)
    parts = _SharedParts()
    prior_payer = _PriorPayerRows(claims_df) if "other_payer_id" in columns else None
    prior_payer_ids = columns.texts("other_payer_id") if prior_payer is not None else []
    rows = zip(
        columns.texts("claim_id", required=True),
        columns.optional("line_count"),
        columns.required("total_charge_amount"),
        zip(
            *(columns.text_keys(f"diagnosis_code_{i}") for i in range(1, MAX_DIAGNOSES + 1)),
            strict=True,
        ),
        columns.optional("diagnosis_count"),
        columns.person_keys("subscriber"),
        columns.texts("relationship_to_subscriber", required=True),
        columns.person_keys("patient"),
        zip(
            *map(
                columns.text_keys,
                (
                    "rendering_provider_npi",
                    "rendering_provider_last_name",
                    "rendering_provider_first_name",
                    "rendering_provider_taxonomy",
                ),
            ),
            strict=True,
        ),
        zip(
            columns.text_keys("facility_name"),
            columns.text_keys("facility_npi"),
            columns.address_keys("facility"),
            strict=True,
        ),
        columns.required("service_date"),
        columns.required("service_date_to"),
        columns.address_keys("billing_provider"),
        columns.text_keys("claim_type", required=True),
        zip(
            columns.text_keys("payer_id", required=True),
            columns.text_keys("payer_name", required=True),
            columns.address_keys("payer"),
            strict=True,
        ),
        zip(
            columns.text_keys("member_id", required=True),
            columns.text_keys("claim_filing_indicator", required=True),
            columns.text_keys("group_number"),
            columns.text_keys("plan_name"),
            columns.text_keys("payer_responsibility_code"),
            strict=True,
        ),
        zip(
            columns.text_keys("billing_provider_npi", required=True),
            columns.text_keys("billing_provider_name", required=True),
            columns.text_keys("billing_provider_tin", required=True),
            columns.text_keys("billing_provider_taxonomy"),
            strict=True,
        ),
        columns.texts("place_of_service"),
        columns.texts("type_of_bill"),
        columns.texts("claim_frequency_code"),
        columns.texts("payer_claim_control_number"),
        strict=True,
    )
    for index, (
        claim_id_text,
        raw_line_count,
        raw_total,
        diagnosis_key,
        raw_diagnosis_count,
        subscriber_key,
        relationship_text,
        patient_key,
        rendering_key,
        facility_key,
        raw_service_date,
        raw_service_date_to,
        billing_address_key,
        claim_type_key,
        payer_key,
        coverage_key,
        billing_key,
        place_of_service,
        type_of_bill,
        frequency_code,
        payer_claim_control_number,
    ) in enumerate(rows):
        claim_id = _required(claim_id_text, "claim_id", "?")
        lines = lines_by_claim.get(claim_id) or []
        lines.sort(key=_LINE_NUMBER)  # in frame order until now; stable, like a sorted copy
        expected_lines = raw_line_count if raw_line_count.__class__ is int else _int(raw_line_count)
        if expected_lines is not None and expected_lines != len(lines):
            raise ClaimDataError(claim_id, f"line_count {expected_lines} but {len(lines)} lines")
        total = sum([line.charge_amount for line in lines], _ZERO)
        stated_total = (
            raw_total
            if raw_total.__class__ is Decimal
            else _money(raw_total, "total_charge_amount", claim_id)
        )
        if stated_total != total:
            raise ClaimDataError(
                claim_id, f"total_charge_amount {stated_total} but the lines add up to {total}"
            )
        diagnoses = parts.diagnoses[diagnosis_key]
        expected_dx = (
            raw_diagnosis_count
            if raw_diagnosis_count.__class__ is int
            else _int(raw_diagnosis_count)
        )
        if expected_dx is not None and expected_dx != len(diagnoses):
            raise ClaimDataError(
                claim_id, f"diagnosis_count {expected_dx} but {len(diagnoses)} codes"
            )
        subscriber_person = parts.people[subscriber_key]
        relationship = _required(relationship_text, "relationship_to_subscriber", claim_id)
        patient = (
            subscriber_person if relationship == RELATIONSHIP_SELF else parts.people[patient_key]
        )
        rendering_provider = parts.rendering_providers[rendering_key]
        facility = parts.facilities[facility_key]
        service_date = (
            raw_service_date if raw_service_date.__class__ is date else _date(raw_service_date)
        )
        service_date_to = (
            raw_service_date_to
            if raw_service_date_to.__class__ is date
            else _date(raw_service_date_to)
        ) or service_date
        if service_date is None or service_date_to is None:
            raise ClaimDataError(claim_id, "service_date is empty")
        billing_address = parts.addresses[billing_address_key]
        if billing_address is None:
            raise ClaimDataError(claim_id, "billing provider has no address")
        claim_type = parts.claim_types.get(claim_type_key) or parts.claim_type(
            claim_type_key, claim_id
        )
        payer = parts.payers.get(payer_key) or parts.payer(payer_key, claim_id)
        coverage = (coverage_key, subscriber_key)
        subscriber = parts.subscribers.get(coverage) or parts.subscriber(
            coverage, subscriber_person, claim_id
        )
        billing = (*billing_key, billing_address_key)
        billing_provider = parts.billing_providers.get(billing) or parts.billing_provider(
            billing, billing_address, claim_id
        )
        found = adjudications_by_claim.get(claim_id)
        adjudications = tuple(a for _, a in sorted(found)) if found else ()
        yield Claim(
            claim_id=claim_id,
            claim_type=claim_type,
            payer=payer,
            subscriber=subscriber,
            patient=patient,
            relationship_to_subscriber=relationship,
            billing_provider=billing_provider,
            rendering_provider=rendering_provider,
            facility=facility,
            service_date=service_date,
            service_date_to=service_date_to,
            diagnoses=diagnoses,
            lines=tuple(lines),
            place_of_service=place_of_service,
            type_of_bill=type_of_bill,
            frequency_code=frequency_code or FREQUENCY_ORIGINAL,
            payer_claim_control_number=payer_claim_control_number,
            other_payer=(
                _other_payer(prior_payer.row(index), claim_id, adjudications)
                if prior_payer is not None and prior_payer_ids[index] is not None
                else None
            ),
        )
