"""270 eligibility, coverage or benefit inquiries, 005010X279A1.

One interchange per call, one GS (``HS``), as many ST as the inquiries need (at most
:data:`MAX_INQUIRIES_PER_TRANSACTION` each)::

    ST*270*<ST02>*005010X279A1
    BHT*0022*13*<ISA13><ST02>*<date>*<time>                  13: request
    2000A HL*n**20*1            information source: the payer
          NM1*PR*2*<payer name>*****PI*<payer id>
    2000B HL*n*<A>*21*1         information receiver: our billing provider
          NM1*1P*2*<name>*****XX*<NPI>
    2000C HL*n*<B>*22*<0|1>     subscriber
          TRN*1*<trace>*<originator>                          only when no 2000D follows
          NM1*IL*1*<last>*<first>*<middle>***MI*<member id>
          DMG*D8*<birth date>*<sex>                           when the birth date is known
          DTP*291*D8*<date of service>                        \\ only when the subscriber
          EQ*30                                               / is the patient
    2000D HL*n*<C>*23*0         dependent: the patient, when not the subscriber
          TRN*1*<trace>*<originator>
          NM1*03*1*<last>*<first>*<middle>
          DMG*D8*<birth date>*<sex>
          DTP*291*D8*<date of service>
          EQ*30
    SE

``TRN02`` is our inquiry id (the trace the payer echoes in its 271 as ``TRN*2``); ``TRN03``
is ``1`` + the billing provider's 9-digit TIN when it has one, else ``9`` + nine characters
of the submitter id (the guide: ``1`` EIN, ``9`` user-assigned). ``EQ*30`` asks for the
health benefit plan coverage in general (the payer answers with its copays, deductibles and
coinsurance). Each inquiry gets its own 2000C even when two share a subscriber: every 2000C
or 2000D carries exactly one trace. Inquiries are grouped under one 2000A per payer and one
2000B per billing provider within a transaction set, in input order.

Names are cleaned like the 837 writers do (:func:`revcycle.x12.text.clean_text`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TextIO

from revcycle.claims.model import Payer, Person
from revcycle.x12.envelope import (
    FIRST_NAME_MAX,
    ID_MAX,
    NAME_MAX,
    SEGMENT_END,
    ControlNumberError,
    ControlNumbers,
    SubmitterConfig,
    X12WriteError,
    gs_segment,
    isa_segment,
    segment,
    st_control,
)
from revcycle.x12.text import clean_id, clean_text, digits, forget_cleaned_text, format_date

VERSION = "005010X279A1"
FUNCTIONAL_ID = "HS"
MAX_INQUIRIES_PER_TRANSACTION = 99  # our batch size, well within what payers accept
SERVICE_TYPE_HEALTH_BENEFIT_PLAN = "30"
TRACE_MAX = 50


class InquiryDataError(X12WriteError):
    """An inquiry that cannot be written as given; carries the inquiry (trace) id."""

    def __init__(self, inquiry_id: str, message: str) -> None:
        super().__init__(f"inquiry {inquiry_id}: {message}")
        self.inquiry_id = inquiry_id


@dataclass(frozen=True)
class InformationReceiver:
    """Who asks (2000B/2100B): our billing provider, an organisation with an NPI."""

    name: str
    npi: str
    tin: str | None = None  # 9 digits: TRN03 becomes 1 + TIN


@dataclass(frozen=True)
class EligibilityInquiry:
    """One question to a payer: is this member covered on ``plan_date``, and how?

    ``patient`` is None when the patient is the subscriber; otherwise the patient goes in a
    2000D dependent loop under the subscriber.
    """

    trace_number: str  # TRN02, our inquiry id
    payer: Payer
    provider: InformationReceiver
    subscriber: Person
    member_id: str
    plan_date: date  # DTP*291, the date of service asked about
    patient: Person | None = None
    service_type_code: str = SERVICE_TYPE_HEALTH_BENEFIT_PLAN


@dataclass(frozen=True)
class Write270Summary:
    """What one 270 file holds."""

    inquiry_count: int
    interchange_control_number: str
    group_control_number: str
    transaction_control_numbers: tuple[str, ...]
    segment_count: int  # all segments, envelope included
    trace_numbers: tuple[str, ...] = field(repr=False)


def transaction_sets_needed(inquiry_count: int) -> int:
    """How many ST/SE a file of ``inquiry_count`` inquiries gets (at least one)."""
    return max(1, math.ceil(inquiry_count / MAX_INQUIRIES_PER_TRANSACTION))


def trace_originator(provider: InformationReceiver, submitter: SubmitterConfig) -> str:
    """TRN03: ``1`` + the provider's TIN (EIN), else ``9`` + nine characters we assign."""
    tin = digits(provider.tin)
    if len(tin) == 9:
        return "1" + tin
    return "9" + clean_id(submitter.submitter_id)[:9].ljust(9, "0")


def _name(person: Person, inquiry_id: str) -> tuple[str, str, str]:
    last = clean_text(person.last_name, NAME_MAX)
    if not last:
        raise InquiryDataError(inquiry_id, "a person has no last name")
    return last, clean_text(person.first_name, FIRST_NAME_MAX), clean_text(person.middle_initial, 1)


def _dmg(person: Person) -> list[str]:
    if person.birth_date is None:
        return []
    sex = person.sex if person.sex in ("M", "F") else ""
    return [segment("DMG", "D8", format_date(person.birth_date), sex)]


def _inquiry_segments(
    inquiry: EligibilityInquiry, hl: int, parent: int, originator: str
) -> tuple[list[str], int]:
    """2000C (and 2000D) of one inquiry; returns the segments and the last HL number used."""
    trace = inquiry.trace_number
    if not trace or clean_id(trace, TRACE_MAX) != trace:
        raise InquiryDataError(trace, "the trace number must be 1-50 letters or digits")
    member_id = clean_id(inquiry.member_id, ID_MAX)
    if not member_id:
        raise InquiryDataError(trace, "the subscriber has no member id")
    service_type = clean_id(inquiry.service_type_code, 2)
    if not service_type:
        raise InquiryDataError(trace, "no service type code (EQ01)")
    trn = f"TRN*1*{trace}*{originator}{SEGMENT_END}"
    question = [
        f"DTP*291*D8*{format_date(inquiry.plan_date)}{SEGMENT_END}",
        f"EQ*{service_type}{SEGMENT_END}",
    ]
    dependent = inquiry.patient is not None
    last, first, middle = _name(inquiry.subscriber, trace)
    segs = [f"HL*{hl}*{parent}*22*{1 if dependent else 0}{SEGMENT_END}"]
    if not dependent:
        segs.append(trn)
    segs.append(segment("NM1", "IL", "1", last, first, middle, "", "", "MI", member_id))
    segs += _dmg(inquiry.subscriber)
    if inquiry.patient is None:
        return segs + question, hl
    last, first, middle = _name(inquiry.patient, trace)
    segs += [
        f"HL*{hl + 1}*{hl}*23*0{SEGMENT_END}",
        trn,
        segment("NM1", "03", "1", last, first, middle),
        *_dmg(inquiry.patient),
        *question,
    ]
    return segs, hl + 1


def _write_transaction(
    out: TextIO,
    inquiries: Sequence[EligibilityInquiry],
    *,
    submitter: SubmitterConfig,
    interchange: int,
    st_number: int,
    now: datetime,
) -> int:
    st = st_control(st_number)
    segs = [
        f"ST*270*{st}*{VERSION}{SEGMENT_END}",
        f"BHT*0022*13*{interchange:09d}{st}*{now:%Y%m%d}*{now:%H%M}{SEGMENT_END}",
    ]
    # payer -> provider -> inquiries, in input order
    tree: dict[Payer, dict[InformationReceiver, list[EligibilityInquiry]]] = {}
    for inquiry in inquiries:
        tree.setdefault(inquiry.payer, {}).setdefault(inquiry.provider, []).append(inquiry)
    hl = 0
    for payer, providers in tree.items():
        first_trace = next(iter(providers.values()))[0].trace_number
        name = clean_text(payer.name, NAME_MAX)
        payer_id = clean_id(payer.payer_id, ID_MAX)
        if not name or not payer_id:
            raise InquiryDataError(first_trace, "the payer needs a name and an id")
        hl += 1
        payer_hl = hl
        segs.append(f"HL*{hl}**20*1{SEGMENT_END}")
        segs.append(f"NM1*PR*2*{name}*****PI*{payer_id}{SEGMENT_END}")
        for provider, provider_inquiries in providers.items():
            trace = provider_inquiries[0].trace_number
            provider_name = clean_text(provider.name, NAME_MAX)
            npi = digits(provider.npi)
            if not provider_name or len(npi) != 10:
                raise InquiryDataError(
                    trace, "the billing provider needs a name and a 10-digit NPI"
                )
            hl += 1
            provider_hl = hl
            segs.append(f"HL*{hl}*{payer_hl}*21*1{SEGMENT_END}")
            segs.append(f"NM1*1P*2*{provider_name}*****XX*{npi}{SEGMENT_END}")
            originator = trace_originator(provider, submitter)
            for inquiry in provider_inquiries:
                block, hl = _inquiry_segments(inquiry, hl + 1, provider_hl, originator)
                segs += block
    segs.append(f"SE*{len(segs) + 1}*{st}{SEGMENT_END}")
    out.write("".join(segs))
    return len(segs)


def write_270(
    out: TextIO,
    inquiries: Sequence[EligibilityInquiry],
    *,
    submitter: SubmitterConfig,
    control: ControlNumbers,
    now: datetime,
) -> Write270Summary:
    """Write ``inquiries`` as one 270 interchange to ``out`` (a text handle opened with
    ``newline=""``). ``control.transactions`` must hold at least
    ``transaction_sets_needed(len(inquiries))`` numbers. Raises :class:`X12WriteError`
    (:class:`InquiryDataError` naming the inquiry) before the offending transaction set is
    complete; the caller must discard a partial file."""
    if not inquiries:
        raise X12WriteError("no inquiries to write: a 270 needs at least one")
    seen: set[str] = set()
    for inquiry in inquiries:
        if inquiry.trace_number in seen:
            raise InquiryDataError(inquiry.trace_number, "the trace number appears twice")
        seen.add(inquiry.trace_number)
    needed = transaction_sets_needed(len(inquiries))
    if len(control.transactions) < needed:
        raise ControlNumberError(
            f"{len(control.transactions)} transaction control numbers reserved, {needed} needed"
        )
    try:
        out.write(isa_segment(submitter, control.interchange, now))
        out.write(gs_segment(submitter, control.group, VERSION, now, FUNCTIONAL_ID))
        used: list[str] = []
        segment_count = 2
        for index in range(needed):
            start = index * MAX_INQUIRIES_PER_TRANSACTION
            chunk = inquiries[start : start + MAX_INQUIRIES_PER_TRANSACTION]
            st_number = control.transactions[index]
            segment_count += _write_transaction(
                out,
                chunk,
                submitter=submitter,
                interchange=control.interchange,
                st_number=st_number,
                now=now,
            )
            used.append(st_control(st_number))
        out.write(f"GE*{len(used)}*{control.group}{SEGMENT_END}")
        out.write(f"IEA*1*{control.interchange:09d}{SEGMENT_END}")
    finally:
        forget_cleaned_text()
    return Write270Summary(
        inquiry_count=len(inquiries),
        interchange_control_number=f"{control.interchange:09d}",
        group_control_number=str(control.group),
        transaction_control_numbers=tuple(used),
        segment_count=segment_count + 2,
        trace_numbers=tuple(i.trace_number for i in inquiries),
    )
