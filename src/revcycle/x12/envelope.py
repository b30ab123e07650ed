"""Envelopes (ISA/GS/ST ... SE/GE/IEA) and the 837 hierarchy both 837 writers share.

One clean output form, whatever a receiver might accept: delimiters ``*`` (element), ``^``
(repetition), ``:`` (component), ``~`` (segment) followed by a newline, a fixed-width ISA of 106
characters including the terminator, ISA13 nine digits.

An 837 transaction set is the same tree for professional and institutional claims::

    ST / BHT / 1000A submitter / 1000B receiver
      2000A billing provider (HL 20) + 2010AA
        2000B subscriber (HL 22) + SBR + 2010BA subscriber + 2010BB payer
          [2000C patient (HL 23) + PAT + 2010CA]   only when the patient is not the subscriber
            2300 claim ... 2400 lines             guide-specific: the claim renderer
    SE

:func:`write_837` builds that tree and asks a guide-specific :data:`ClaimRenderer`
(``writer_837p`` / ``writer_837i``) for the 2300/2400 segments of each claim, so the hierarchy,
HL numbering, segment counting and envelope live in one place.

Grouping and limits. Claims are read in chunks of ``claims_per_transaction`` (one ST each);
inside a chunk they are grouped by billing provider (one 2000A each), then by subscriber,
payer and "patient is the subscriber" (one 2000B each: SBR02 differs between the two cases, so
they cannot share a loop), then by patient (one 2000C each). A 2000B carries at most 100
claims (the guide's 2300 repeat); the 101st claim of the same subscriber opens a new 2000B.
A claim with more than 50 lines is refused with :class:`ClaimLimitError`: splitting a claim
changes what the payer adjudicates and must happen upstream, where the lines are chosen.

Speed (see bench/): segments are f-strings appended to a list, one list element per segment
(so SE01 is a ``len``), flushed to the file handle after every 2000B loop; what repeats
(billing provider, payer, clinician and facility blocks, SBR, amounts, service dates, cleaned
names) is rendered once per file and reused; the cyclic garbage collector is paused while
writing. Memory is bounded by one chunk of claims and those caches, never the whole file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import TextIO

from revcycle.claims.model import (
    Address,
    BillingProvider,
    CasAdjustment,
    Claim,
    ClaimDataError,
    ClaimType,
    Payer,
    Person,
    RenderingProvider,
    ServiceFacility,
    Subscriber,
)
from revcycle.gc_pause import gc_paused
from revcycle.x12.text import (
    clean_id,
    clean_text,
    digits,
    forget_cleaned_text,
    format_amount,
    format_date,
)

SEGMENT_END = "~\n"
ISA_LENGTH = 106  # including the terminator, not the newline after it
MAX_CONTROL_NUMBER = 999_999_999  # ISA13, GS06 and ST02 are at most nine digits
MAX_CLAIMS_PER_SUBSCRIBER_LOOP = 100  # 2300 repeat in 2000B / 2000C
MAX_LINES_PER_CLAIM = 50  # 837P 2400 repeat; we hold 837I to the same limit
LX_SEGMENTS = tuple(f"LX*{n}~\n" for n in range(MAX_LINES_PER_CLAIM + 1))  # LX_SEGMENTS[n]
DEFAULT_CLAIMS_PER_TRANSACTION = 5000  # our choice, well below what receivers choke on
USAGE_TEST = "T"
USAGE_PRODUCTION = "P"

# Element maximum lengths (5010) for the free text we write.
NAME_MAX = 60
FIRST_NAME_MAX = 35
ADDRESS_MAX = 55
CITY_MAX = 30
ID_MAX = 80


class X12WriteError(ValueError):
    """Something prevents writing a valid file; names the claim when one is at fault."""


class ClaimLimitError(X12WriteError):
    """A claim exceeds an implementation-guide limit the writer will not work around."""


class ClaimTypeError(X12WriteError):
    """A claim of the wrong type was given to a writer (an institutional claim to 837P)."""


class ControlNumberError(X12WriteError):
    """Control numbers out of range or too few for the transaction sets to write."""


@dataclass(frozen=True)
class SubmitterConfig:
    """Who sends (1000A, ISA06, GS02) and who receives (1000B, ISA08, GS03).

    ``usage_indicator`` (ISA15) defaults to ``T``: until a real trading partner exists every
    file goes to the simulated clearinghouse, and a test file sent by mistake to a real one is
    rejected, whereas a production file would be adjudicated. Switching to ``P`` is a
    deliberate configuration change per partner.
    """

    submitter_name: str
    submitter_id: str  # 1000A NM109 (ETIN the clearinghouse assigned)
    contact_name: str
    contact_phone: str  # 10 digits
    receiver_name: str
    receiver_id: str  # 1000B NM109
    contact_email: str | None = None
    interchange_sender_id: str | None = None  # ISA06, default submitter_id
    interchange_receiver_id: str | None = None  # ISA08, default receiver_id
    interchange_sender_qualifier: str = "ZZ"
    interchange_receiver_qualifier: str = "ZZ"
    application_sender_code: str | None = None  # GS02, default ISA06
    application_receiver_code: str | None = None  # GS03, default ISA08
    usage_indicator: str = USAGE_TEST
    acknowledgment_requested: str = "0"  # ISA14: no TA1 (the 999 says everything we need)

    def __post_init__(self) -> None:
        if self.usage_indicator not in (USAGE_TEST, USAGE_PRODUCTION):
            raise ValueError("usage_indicator (ISA15) must be 'T' or 'P'")
        if self.acknowledgment_requested not in ("0", "1"):
            raise ValueError("acknowledgment_requested (ISA14) must be '0' or '1'")
        for name in ("interchange_sender_qualifier", "interchange_receiver_qualifier"):
            value = getattr(self, name)
            if len(value) != 2 or clean_id(value) != value:
                raise ValueError(f"{name} must be two characters such as ZZ")
        for name, limit in (("isa_sender_id", 15), ("isa_receiver_id", 15)):
            value = getattr(self, name)
            if not value or len(value) > limit or clean_id(value) != value:
                raise ValueError(f"{name} {value!r} must be 1-{limit} upper-case letters/digits")
        for name in ("gs_sender_code", "gs_receiver_code", "submitter_id", "receiver_id"):
            value = getattr(self, name)
            if not value or clean_id(value) != value:
                raise ValueError(f"{name} {value!r} must be upper-case letters/digits")
        if len(digits(self.contact_phone)) != 10:
            raise ValueError("contact_phone must have 10 digits")

    @property
    def isa_sender_id(self) -> str:
        return self.interchange_sender_id or self.submitter_id

    @property
    def isa_receiver_id(self) -> str:
        return self.interchange_receiver_id or self.receiver_id

    @property
    def gs_sender_code(self) -> str:
        return self.application_sender_code or self.isa_sender_id

    @property
    def gs_receiver_code(self) -> str:
        return self.application_receiver_code or self.isa_receiver_id


SIMULATED_CLEARINGHOUSE = SubmitterConfig(
    submitter_name="REVCYCLE DEMO BILLING",
    submitter_id="REVCYCLE",
    contact_name="BILLING OFFICE",
    contact_phone="5555550100",
    receiver_name="SIMULATED CLEARINGHOUSE",
    receiver_id="SIMCLEARING",
)
"""The submitter/receiver pair for the demo pipeline and its simulated clearinghouse."""


@dataclass(frozen=True)
class ControlNumbers:
    """Control numbers reserved for one interchange: one ISA13, one GS06, and one ST02 per
    transaction set (see :func:`transaction_sets_needed`)."""

    interchange: int
    group: int
    transactions: range

    def __post_init__(self) -> None:
        for value in (
            self.interchange,
            self.group,
            *self.transactions[:1],
            *self.transactions[-1:],
        ):
            if not 1 <= value <= MAX_CONTROL_NUMBER:
                raise ControlNumberError(f"control number {value} is not within 1-999999999")


def transaction_sets_needed(claim_count: int, claims_per_transaction: int) -> int:
    """How many ST/SE a file of ``claim_count`` claims gets (at least one)."""
    return max(1, math.ceil(claim_count / claims_per_transaction))


@dataclass(frozen=True)
class WriteSummary:
    """What a writer put in one file."""

    claim_count: int
    line_count: int
    total_charge_amount: Decimal
    interchange_control_number: str
    group_control_number: str
    transaction_control_numbers: tuple[str, ...]
    segment_count: int  # all segments, envelope included
    claim_ids: tuple[str, ...] = field(repr=False)


# --------------------------------------------------------------------------------------------
# Segments


def segment(*elements: str) -> str:
    """Join elements into one segment, dropping trailing empty elements (X12 forbids them)."""
    end = len(elements)
    while end > 1 and not elements[end - 1]:
        end -= 1
    return "*".join(elements[:end]) + SEGMENT_END


def isa_segment(submitter: SubmitterConfig, interchange: int, now: datetime) -> str:
    text = (
        f"ISA*00*{'':10}*00*{'':10}"
        f"*{submitter.interchange_sender_qualifier}*{submitter.isa_sender_id:<15}"
        f"*{submitter.interchange_receiver_qualifier}*{submitter.isa_receiver_id:<15}"
        f"*{now:%y%m%d}*{now:%H%M}*^*00501*{interchange:09d}"
        f"*{submitter.acknowledgment_requested}*{submitter.usage_indicator}*:~"
    )
    if len(text) != ISA_LENGTH:  # pragma: no cover - guarded by SubmitterConfig checks
        raise X12WriteError(f"ISA is {len(text)} characters, not {ISA_LENGTH}")
    return text + "\n"


def gs_segment(
    submitter: SubmitterConfig,
    group: int,
    version: str,
    now: datetime,
    functional_id: str = "HC",
) -> str:
    """GS; ``functional_id`` (GS01) is ``HC`` for claims, ``HS`` for eligibility inquiries."""
    return (
        f"GS*{functional_id}*{submitter.gs_sender_code}*{submitter.gs_receiver_code}"
        f"*{now:%Y%m%d}*{now:%H%M}*{group}*X*{version}{SEGMENT_END}"
    )


def st_control(number: int) -> str:
    """ST02/SE02: at least four digits (the guide's minimum length)."""
    return f"{number:04d}"


def _zip(value: str, claim_id: str, *, nine: bool = False) -> str:
    code = digits(value)
    if len(code) != 9 and (nine or len(code) != 5):
        wanted = "9" if nine else "5 or 9"
        # The value itself stays out of the message: it may be a patient's address.
        raise ClaimDataError(claim_id, f"a ZIP code must have {wanted} digits")
    return code


def address_segments(
    address: Address, claim_id: str, *, nine_digit_zip: bool = False
) -> tuple[str, str]:
    """N3 and N4 for an address."""
    line1 = clean_text(address.line1, ADDRESS_MAX)
    city = clean_text(address.city, CITY_MAX)
    state = clean_text(address.state, 2)
    if not line1 or not city or len(state) != 2:
        raise ClaimDataError(claim_id, "address needs a street, a city and a 2-letter state")
    line2 = clean_text(address.line2, ADDRESS_MAX)
    n3 = f"N3*{line1}*{line2}{SEGMENT_END}" if line2 else f"N3*{line1}{SEGMENT_END}"
    return n3, f"N4*{city}*{state}*{_zip(address.zip, claim_id, nine=nine_digit_zip)}{SEGMENT_END}"


def npi(value: str, claim_id: str) -> str:
    code = digits(value)
    if len(code) != 10:
        raise ClaimDataError(claim_id, f"NPI {value!r} must have 10 digits")
    return code


def person_name(person: Person, claim_id: str) -> tuple[str, str, str]:
    """Last, first and middle initial, cleaned; the last name is required."""
    last = clean_text(person.last_name, NAME_MAX)
    if not last:
        raise ClaimDataError(claim_id, "a person has no last name")
    return (
        last,
        clean_text(person.first_name, FIRST_NAME_MAX),
        clean_text(person.middle_initial, 1),
    )


def demographics(person: Person, claim_id: str) -> str:
    """DMG*D8*birth date*sex (U when unknown)."""
    if person.birth_date is None:
        raise ClaimDataError(claim_id, "birth date is required for the patient")
    sex = person.sex if person.sex in ("M", "F") else "U"
    return f"DMG*D8*{format_date(person.birth_date)}*{sex}{SEGMENT_END}"


class RenderCache:
    """Per-file memo for claim renderers: formatted amounts and dates (charges come from a
    chargemaster and dates repeat, so most lookups hit) and provider blocks that recur."""

    def __init__(self) -> None:
        self.amounts: dict[Decimal, str] = {}
        self.dates: dict[date, str] = {}
        self.service_dates: dict[date, str] = {}  # whole DTP*472 segments
        self._clinicians: dict[tuple[str, str, RenderingProvider], tuple[str, ...]] = {}
        self._facilities: dict[ServiceFacility, tuple[str, ...]] = {}

    def amount(self, value: Decimal) -> str:
        text = self.amounts.get(value)
        if text is None:
            text = self.amounts[value] = format_amount(value)
        return text

    def day(self, value: date) -> str:
        text = self.dates.get(value)
        if text is None:
            text = self.dates[value] = format_date(value)
        return text

    def service_date_segment(self, value: date) -> str:
        """DTP*472*D8*<date>: the 2400 service date, the same segment in both guides."""
        text = self.service_dates.get(value)
        if text is None:
            text = self.service_dates[value] = f"DTP*472*D8*{format_date(value)}{SEGMENT_END}"
        return text

    def clinician(
        self, entity: str, specialty: str, provider: RenderingProvider, claim_id: str
    ) -> tuple[str, ...]:
        """NM1*<entity>*1 person with NPI, then PRV*<specialty>*PXC*taxonomy when known
        (837P 2310B rendering: 82/PE; 837I 2310A attending: 71/AT)."""
        key = (entity, specialty, provider)
        block = self._clinicians.get(key)
        if block is None:
            last = clean_text(provider.last_name, NAME_MAX)
            if not last:
                raise ClaimDataError(claim_id, f"provider {provider.npi} has no last name")
            first = clean_text(provider.first_name, FIRST_NAME_MAX)
            taxonomy = clean_id(provider.taxonomy, 50)
            block = (
                f"NM1*{entity}*1*{last}*{first}****XX*{npi(provider.npi, claim_id)}{SEGMENT_END}",
                *((f"PRV*{specialty}*PXC*{taxonomy}{SEGMENT_END}",) if taxonomy else ()),
            )
            self._clinicians[key] = block
        return block

    def facility(self, facility: ServiceFacility, claim_id: str) -> tuple[str, ...]:
        """Service facility location NM1*77 + N3 + N4 (837P 2310C, 837I 2310E)."""
        block = self._facilities.get(facility)
        if block is None:
            name = clean_text(facility.name, NAME_MAX)
            if not name:
                raise ClaimDataError(claim_id, "service facility has no name")
            code = npi(facility.npi, claim_id) if facility.npi else ""
            block = (
                segment("NM1", "77", "2", name, "", "", "", "", "XX" if code else "", code),
                *address_segments(facility.address, claim_id),
            )
            self._facilities[facility] = block
        return block


def facility_to_send(claim: Claim) -> ServiceFacility | None:
    """The service facility, when the guide wants its loop: only when care was given
    somewhere other than the billing provider (another NPI or another address)."""
    facility = claim.facility
    if facility is None:
        return None
    billing = claim.billing_provider
    if facility.npi == billing.npi and facility.address == billing.address:
        return None
    return facility


def claim_total(claim: Claim, form: str) -> Decimal:
    """CLM02, the sum of the line charges, after the line limit check shared by both forms."""
    lines = claim.lines
    if len(lines) > MAX_LINES_PER_CLAIM:
        raise ClaimLimitError(
            f"claim {claim.claim_id} has {len(lines)} lines; an {form} claim holds at most "
            f"{MAX_LINES_PER_CLAIM}: split it before billing"
        )
    total = Decimal("0")
    for line in lines:
        total += line.charge_amount
    return total


def payer_claim_reference(claim: Claim) -> str | None:
    """REF*F8 (payer claim control number) for a replacement or void, else None."""
    if not claim.payer_claim_control_number:
        return None
    return f"REF*F8*{clean_id(claim.payer_claim_control_number, 50)}{SEGMENT_END}"


# --------------------------------------------------------------------------------------------
# Coordination of benefits: the prior payer on a secondary claim (2320, 2330A/B, 2430)

MAX_CAS_TRIPLETS = 6  # reason/amount/quantity triplets in one CAS segment


def cas_segments(adjustments: Iterable[CasAdjustment]) -> list[str]:
    """CAS segments: one per group code (in first-seen order), at most six triplets each
    (a seventh opens another CAS of the same group, as the guide allows)."""
    by_group: dict[str, list[CasAdjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group_code, []).append(adjustment)
    segs = []
    for group, items in by_group.items():
        for start in range(0, len(items), MAX_CAS_TRIPLETS):
            elements: list[str] = ["CAS", clean_id(group, 2)]
            for item in items[start : start + MAX_CAS_TRIPLETS]:
                quantity = "" if item.quantity is None else format_amount(item.quantity)
                elements += [clean_id(item.reason_code, 5), format_amount(item.amount), quantity]
            segs.append(segment(*elements))
    return segs


def other_payer_segments(claim: Claim) -> list[str]:
    """2320 (SBR, CAS, AMT*D, AMT*EAF, OI), 2330A (NM1*IL) and 2330B (NM1*PR, REF*F8) of a
    secondary claim; [] for a claim without a prior payer."""
    other = claim.other_payer
    if other is None:
        return []
    cid = claim.claim_id
    subscriber = other.subscriber
    group = clean_id(subscriber.group_number, 50)
    filing = clean_id(subscriber.claim_filing_indicator, 2)
    relationship = clean_id(other.relationship_to_subscriber, 2)
    if not filing or not relationship:
        raise ClaimDataError(cid, "prior payer needs a filing indicator and a relationship")
    segs = [
        f"SBR*{clean_id(subscriber.payer_responsibility_code, 1)}*{relationship}*{group}"
        f"******{filing}{SEGMENT_END}",
        *cas_segments(other.claim_adjustments),
        f"AMT*D*{format_amount(other.paid_amount)}{SEGMENT_END}",
        f"AMT*EAF*{format_amount(other.remaining_patient_liability)}{SEGMENT_END}",
        f"OI***Y***Y{SEGMENT_END}",
    ]
    last, first, middle = person_name(subscriber.person, cid)
    member_id = clean_id(subscriber.member_id, ID_MAX)
    payer_id = clean_id(other.payer.payer_id, ID_MAX)
    payer_name = clean_text(other.payer.name, NAME_MAX)
    if not member_id or not payer_id or not payer_name:
        raise ClaimDataError(cid, "prior payer needs a member id, a payer id and a name")
    segs.append(segment("NM1", "IL", "1", last, first, middle, "", "", "MI", member_id))
    segs.append(f"NM1*PR*2*{payer_name}*****PI*{payer_id}{SEGMENT_END}")
    if other.payer_claim_control_number:
        segs.append(f"REF*F8*{clean_id(other.payer_claim_control_number, 50)}{SEGMENT_END}")
    return segs


def line_adjudication_segments(
    claim: Claim, claim_line_id: str, procedure: str, revenue_code: str, units: int
) -> list[str]:
    """2430 (SVD, CAS, DTP*573) for one line of a secondary claim; [] when the prior payer
    reported nothing for the line. ``procedure`` is the SVD03 composite (``HC:code:mods``,
    may be empty on an institutional line), ``revenue_code`` SVD04 (institutional only)."""
    other = claim.other_payer
    if other is None:
        return []
    for adjudication in other.line_adjudications:
        if adjudication.claim_line_id == claim_line_id:
            return [
                segment(
                    "SVD",
                    clean_id(other.payer.payer_id, ID_MAX),
                    format_amount(adjudication.paid_amount),
                    procedure,
                    revenue_code,
                    str(units),
                ),
                *cas_segments(adjudication.adjustments),
                f"DTP*573*D8*{format_date(adjudication.adjudication_date)}{SEGMENT_END}",
            ]
    return []


# --------------------------------------------------------------------------------------------
# The shared 837 hierarchy

ClaimRenderer = Callable[[Claim, list[str]], Decimal]
"""Appends a claim's 2300/2400 segments to the list and returns the claim total (CLM02)."""


@dataclass(frozen=True)
class Guide:
    """What differs between the 837 implementation guides the hierarchy writer serves."""

    version: str  # GS08 / ST03
    claim_type: ClaimType
    new_renderer: Callable[[], ClaimRenderer]  # one renderer per file: it may cache blocks


def _chunks(claims: Iterable[Claim], size: int) -> Iterator[list[Claim]]:
    iterator = iter(claims)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _header_segments(submitter: SubmitterConfig) -> tuple[str, ...]:
    """1000A submitter (NM1*41 + PER*IC) and 1000B receiver (NM1*40)."""
    email = clean_id(submitter.contact_email, 256) if submitter.contact_email else ""
    return (
        segment(
            "NM1",
            "41",
            "2",
            clean_text(submitter.submitter_name, NAME_MAX),
            "",
            "",
            "",
            "",
            "46",
            submitter.submitter_id,
        ),
        segment(
            "PER",
            "IC",
            clean_text(submitter.contact_name, NAME_MAX),
            "TE",
            digits(submitter.contact_phone),
            "EM" if email else "",
            email,
        ),
        segment(
            "NM1",
            "40",
            "2",
            clean_text(submitter.receiver_name, NAME_MAX),
            "",
            "",
            "",
            "",
            "46",
            submitter.receiver_id,
        ),
    )


class _FileState:
    """Per-file caches and running totals of :func:`write_837`."""

    def __init__(self, guide: Guide, submitter: SubmitterConfig) -> None:
        self.header = _header_segments(submitter)
        self.render_claim = guide.new_renderer()
        self.claim_type = guide.claim_type
        self.billing: dict[BillingProvider, tuple[str, ...]] = {}
        self.payers: dict[Payer, tuple[str, ...]] = {}
        # SBR depends on a handful of coverage fields that repeat across subscribers.
        self.sbr: dict[tuple[str, str | None, str | None, str, bool], str] = {}
        self.claim_count = 0
        self.line_count = 0
        self.total = Decimal("0")
        self.claim_ids: list[str] = []

    def billing_block(self, provider: BillingProvider, claim_id: str) -> tuple[str, ...]:
        block = self.billing.get(provider)
        if block is None:
            name = clean_text(provider.name, NAME_MAX)
            tin = digits(provider.tin)
            if not name or len(tin) != 9:
                raise ClaimDataError(claim_id, "billing provider needs a name and a 9-digit TIN")
            taxonomy = clean_id(provider.taxonomy, 50)
            prv = (f"PRV*BI*PXC*{taxonomy}{SEGMENT_END}",) if taxonomy else ()
            block = (
                *prv,
                f"NM1*85*2*{name}*****XX*{npi(provider.npi, claim_id)}{SEGMENT_END}",
                # 2010AA needs the 9-digit ZIP (pyx12 enforces it for 837I only).
                *address_segments(provider.address, claim_id, nine_digit_zip=True),
                f"REF*EI*{tin}{SEGMENT_END}",
            )
            self.billing[provider] = block
        return block

    def subscriber_segments(
        self, subscriber: Subscriber, is_self: bool, claim_id: str, segs: list[str]
    ) -> None:
        """SBR and 2010BA. Address and DMG only when the subscriber is the patient: the guide
        requires them then and says not to send DMG otherwise."""
        key = (
            subscriber.payer_responsibility_code,
            subscriber.group_number,
            subscriber.plan_name,
            subscriber.claim_filing_indicator,
            is_self,
        )
        sbr = self.sbr.get(key)
        if sbr is None:
            sbr = self.sbr[key] = _sbr_segment(subscriber, is_self, claim_id)
        segs.append(sbr)
        last, first, middle = person_name(subscriber.person, claim_id)
        member_id = clean_id(subscriber.member_id, ID_MAX)
        if not member_id:
            raise ClaimDataError(claim_id, "subscriber has no member id")
        segs.append(f"NM1*IL*1*{last}*{first}*{middle}***MI*{member_id}{SEGMENT_END}")
        if is_self:
            if subscriber.person.address is None:
                raise ClaimDataError(claim_id, "the subscriber (patient) has no address")
            segs.extend(address_segments(subscriber.person.address, claim_id))
            segs.append(demographics(subscriber.person, claim_id))

    def payer_block(self, payer: Payer, claim_id: str) -> tuple[str, ...]:
        block = self.payers.get(payer)
        if block is None:
            name = clean_text(payer.name, NAME_MAX)
            payer_id = clean_id(payer.payer_id, ID_MAX)
            if not name or not payer_id:
                raise ClaimDataError(claim_id, "payer needs a name and an id")
            address = address_segments(payer.address, claim_id) if payer.address else ()
            block = (f"NM1*PR*2*{name}*****PI*{payer_id}{SEGMENT_END}", *address)
            self.payers[payer] = block
        return block


def _sbr_segment(subscriber: Subscriber, is_self: bool, claim_id: str) -> str:
    """SBR: payer responsibility, 18 when the subscriber is the patient, group number (or the
    plan name when there is none: SBR04 is sent only without SBR03), filing indicator."""
    group = clean_id(subscriber.group_number, 50)
    plan = "" if group else clean_text(subscriber.plan_name, NAME_MAX)
    filing = clean_id(subscriber.claim_filing_indicator, 2)
    responsibility = clean_id(subscriber.payer_responsibility_code, 1)
    if not filing or not responsibility:
        raise ClaimDataError(claim_id, "SBR needs a payer responsibility and a filing indicator")
    relationship = "18" if is_self else ""
    return f"SBR*{responsibility}*{relationship}*{group}*{plan}*****{filing}{SEGMENT_END}"


def _patient_segments(patient: Person, relationship: str, claim_id: str, segs: list[str]) -> None:
    """PAT and 2010CA for a dependent."""
    code = clean_id(relationship, 2)
    if not code:
        raise ClaimDataError(claim_id, "patient relationship to the subscriber is missing")
    segs.append(f"PAT*{code}{SEGMENT_END}")
    last, first, middle = person_name(patient, claim_id)
    segs.append(segment("NM1", "QC", "1", last, first, middle))
    if patient.address is None:
        raise ClaimDataError(claim_id, "the patient has no address")
    segs.extend(address_segments(patient.address, claim_id))
    segs.append(demographics(patient, claim_id))


_SubscriberKey = tuple[Subscriber, Payer, bool]
_PatientKey = tuple[Person, str]


def _write_transaction(
    out: TextIO,
    claims: list[Claim],
    state: _FileState,
    *,
    guide: Guide,
    submitter: SubmitterConfig,
    interchange: int,
    st_number: int,
    now: datetime,
) -> int:
    """One ST ... SE; returns the number of segments written."""
    st = st_control(st_number)
    segs: list[str] = [
        f"ST*837*{st}*{guide.version}{SEGMENT_END}",
        # BHT03 is our reference for the batch: the interchange and transaction numbers.
        f"BHT*0019*00*{interchange:09d}{st}*{now:%Y%m%d}*{now:%H%M}*CH{SEGMENT_END}",
        *state.header,
    ]

    # Group: billing provider -> (subscriber, payer, is self) -> claims, in input order.
    tree: dict[BillingProvider, dict[_SubscriberKey, list[Claim]]] = {}
    for claim in claims:
        if claim.claim_type is not guide.claim_type:
            raise ClaimTypeError(
                f"claim {claim.claim_id} is {claim.claim_type.value}, this writer writes "
                f"{guide.claim_type.value} claims ({guide.version})"
            )
        # get-then-insert rather than setdefault: setdefault builds a throwaway {} / [] for
        # every claim, and this loop runs once per claim.
        subscribers = tree.get(claim.billing_provider)
        if subscribers is None:
            subscribers = tree[claim.billing_provider] = {}
        key = (claim.subscriber, claim.payer, claim.relationship_to_subscriber == "18")
        group = subscribers.get(key)
        if group is None:
            subscribers[key] = [claim]
        else:
            group.append(claim)

    render = state.render_claim
    written = 0
    hl = 0
    for provider, subscribers in tree.items():
        first_claim = next(iter(subscribers.values()))[0].claim_id
        hl += 1
        provider_hl = hl
        segs.append(f"HL*{hl}**20*1{SEGMENT_END}")
        segs.extend(state.billing_block(provider, first_claim))
        for (subscriber, payer, is_self), subscriber_claims in subscribers.items():
            for start in range(0, len(subscriber_claims), MAX_CLAIMS_PER_SUBSCRIBER_LOOP):
                part = subscriber_claims[start : start + MAX_CLAIMS_PER_SUBSCRIBER_LOOP]
                claim_id = part[0].claim_id
                hl += 1
                subscriber_hl = hl
                segs.append(f"HL*{hl}*{provider_hl}*22*{0 if is_self else 1}{SEGMENT_END}")
                state.subscriber_segments(subscriber, is_self, claim_id, segs)
                segs.extend(state.payer_block(payer, claim_id))
                if is_self:
                    for claim in part:
                        state.total += render(claim, segs)
                else:
                    patients: dict[_PatientKey, list[Claim]] = {}
                    for claim in part:
                        key2 = (claim.patient, claim.relationship_to_subscriber)
                        patients.setdefault(key2, []).append(claim)
                    for (patient, relationship), patient_claims in patients.items():
                        hl += 1
                        segs.append(f"HL*{hl}*{subscriber_hl}*23*0{SEGMENT_END}")
                        _patient_segments(patient, relationship, patient_claims[0].claim_id, segs)
                        for claim in patient_claims:
                            state.total += render(claim, segs)
                for claim in part:
                    state.line_count += len(claim.lines)
                    state.claim_ids.append(claim.claim_id)
                state.claim_count += len(part)
                # Flush after each 2000B: bounded memory, few large writes.
                out.write("".join(segs))
                written += len(segs)
                segs.clear()
    written += 1
    out.write(f"SE*{written}*{st}{SEGMENT_END}")
    return written


def write_837(
    out: TextIO,
    claims: Iterable[Claim],
    *,
    guide: Guide,
    submitter: SubmitterConfig,
    control: ControlNumbers,
    now: datetime,
    claims_per_transaction: int = DEFAULT_CLAIMS_PER_TRANSACTION,
) -> WriteSummary:
    """Write one interchange (ISA, one GS, as many ST as the claims need) to ``out``.

    ``control.transactions`` must hold at least
    ``transaction_sets_needed(len(claims), claims_per_transaction)`` numbers. ``now`` gives
    the interchange, group and BHT dates and times as they are (pass the time you want to
    appear; we use UTC). Raises :class:`X12WriteError` (or ``ClaimDataError``) before the
    offending transaction set is complete; the caller must discard a partial file.
    """
    if claims_per_transaction < 1:
        raise ValueError("claims_per_transaction must be at least 1")
    with gc_paused():
        try:
            return _write_interchange(
                out,
                claims,
                guide=guide,
                submitter=submitter,
                control=control,
                now=now,
                claims_per_transaction=claims_per_transaction,
            )
        finally:
            forget_cleaned_text()


def _write_interchange(
    out: TextIO,
    claims: Iterable[Claim],
    *,
    guide: Guide,
    submitter: SubmitterConfig,
    control: ControlNumbers,
    now: datetime,
    claims_per_transaction: int,
) -> WriteSummary:
    state = _FileState(guide, submitter)
    out.write(isa_segment(submitter, control.interchange, now))
    out.write(gs_segment(submitter, control.group, guide.version, now))
    numbers = iter(control.transactions)
    used: list[str] = []
    segment_count = 2
    for chunk in _chunks(claims, claims_per_transaction):
        st_number = next(numbers, None)
        if st_number is None:
            raise ControlNumberError(
                f"{len(control.transactions)} transaction control numbers reserved, more needed"
            )
        segment_count += _write_transaction(
            out,
            chunk,
            state,
            guide=guide,
            submitter=submitter,
            interchange=control.interchange,
            st_number=st_number,
            now=now,
        )
        used.append(st_control(st_number))
    if not used:
        raise X12WriteError("no claims to write: an 837 needs at least one claim")
    out.write(f"GE*{len(used)}*{control.group}{SEGMENT_END}")
    out.write(f"IEA*1*{control.interchange:09d}{SEGMENT_END}")
    return WriteSummary(
        claim_count=state.claim_count,
        line_count=state.line_count,
        total_charge_amount=state.total,
        interchange_control_number=f"{control.interchange:09d}",
        group_control_number=str(control.group),
        transaction_control_numbers=tuple(used),
        segment_count=segment_count + 2,
        claim_ids=tuple(state.claim_ids),
    )
