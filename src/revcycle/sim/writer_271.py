"""271 eligibility, coverage or benefit responses (005010X279A1) from the simulated payers.

One interchange answers one 270 interchange; one 271 transaction per 270 transaction, with
the same hierarchy::

    ST*271*<ST02>*005010X279A1
    BHT*0022*11*<BHT03 of the 270>*<date>*<time>            11: response
    2000A HL 20  NM1*PR (the payer)
    2000B HL 21  NM1*1P (the provider who asked)
    2000C HL 22  [TRN*2*<trace>*<originator>]  NM1*IL (echoed)  [DMG]  [DTP*291]  [EB ...]
    [2000D HL 23  TRN*2  NM1*03  [DMG]  DTP*291  EB ...]     when the patient is a dependent
    SE

``TRN*2`` returns the inquiry's trace (``TRN*1`` of the 270) so the provider can match the
answer. Benefits (``EB``): ``1`` active coverage, ``6`` inactive, ``C`` deductible (``EB06``
``29``: remaining), ``B`` copay (``EB06`` ``27``: per visit), ``A`` coinsurance (``EB08`` as a
fraction, 0.2 = 20 %); ``EB12`` ``Y``/``N`` says in or out of the plan's network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from revcycle.sim.envelope import (
    ReplyEnvelope,
    interchange_header,
    interchange_trailer,
    st_control,
)
from revcycle.x12.envelope import SEGMENT_END, segment
from revcycle.x12.text import format_amount

VERSION = "005010X279A1"
FUNCTIONAL_ID = "HB"


@dataclass(frozen=True)
class Benefit:
    """One EB segment."""

    code: str  # EB01: 1 active, 6 inactive, A coinsurance, B copay, C deductible
    service_type: str = "30"  # EB03: 30 health benefit plan coverage, 98 office visit
    coverage_level: str = "IND"  # EB02
    time_period: str = ""  # EB06: 27 visit, 29 remaining
    amount: Decimal | None = None  # EB07
    percent: Decimal | None = None  # EB08, a fraction (0.2 is 20 %)
    in_network: str = ""  # EB12: Y, N


@dataclass(frozen=True)
class Person271:
    """The NM1 name elements and DMG of a person, echoed from the inquiry."""

    last_name: str
    first_name: str = ""
    middle_name: str = ""
    member_id: str = ""  # NM109 (MI), subscriber only
    birth_date: str = ""  # DMG02, CCYYMMDD
    sex: str = ""  # DMG03


@dataclass(frozen=True)
class Answer:
    """The answer to one inquiry (one 2000C, or 2000C + 2000D for a dependent)."""

    trace_number: str
    trace_originator: str
    subscriber: Person271
    dependent: Person271 | None
    plan_date: str  # DTP*291, CCYYMMDD (the date asked about)
    benefits: tuple[Benefit, ...]


@dataclass(frozen=True)
class ProviderAnswers:
    """The answers of one payer to one provider (2000A + 2000B)."""

    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Response271:
    """One 271 transaction set: answers to one 270 transaction set."""

    reference: str  # BHT03 of the 270
    groups: tuple[ProviderAnswers, ...]


def _percent(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _eb(benefit: Benefit) -> str:
    return segment(
        "EB",
        benefit.code,
        benefit.coverage_level,
        benefit.service_type,
        "",
        "",
        benefit.time_period,
        format_amount(benefit.amount) if benefit.amount is not None else "",
        _percent(benefit.percent) if benefit.percent is not None else "",
        "",
        "",
        "",
        benefit.in_network,
    )


def _person(entity: str, person: Person271) -> list[str]:
    segs = [
        segment(
            "NM1",
            entity,
            "1",
            person.last_name,
            person.first_name,
            person.middle_name,
            "",
            "",
            "MI" if person.member_id else "",
            person.member_id,
        )
    ]
    if person.birth_date:
        segs.append(segment("DMG", "D8", person.birth_date, person.sex))
    return segs


def _transaction(response: Response271, st: str, now: datetime) -> list[str]:
    segs = [
        f"ST*271*{st}*{VERSION}{SEGMENT_END}",
        segment("BHT", "0022", "11", response.reference, f"{now:%Y%m%d}", f"{now:%H%M}"),
    ]
    hl = 0
    for group in response.groups:
        hl += 1
        payer_hl = hl
        segs.append(f"HL*{hl}**20*1{SEGMENT_END}")
        segs.append(
            segment("NM1", "PR", "2", group.payer_name, "", "", "", "", "PI", group.payer_id)
        )
        hl += 1
        provider_hl = hl
        segs.append(f"HL*{hl}*{payer_hl}*21*1{SEGMENT_END}")
        segs.append(
            segment("NM1", "1P", "2", group.provider_name, "", "", "", "", "XX", group.provider_npi)
        )
        for answer in group.answers:
            hl += 1
            subscriber_hl = hl
            trn = segment("TRN", "2", answer.trace_number, answer.trace_originator)
            details = [
                f"DTP*291*D8*{answer.plan_date}{SEGMENT_END}",
                *(_eb(b) for b in answer.benefits),
            ]
            dependent = answer.dependent is not None
            segs.append(f"HL*{hl}*{provider_hl}*22*{1 if dependent else 0}{SEGMENT_END}")
            if answer.dependent is None:
                segs += [trn, *_person("IL", answer.subscriber), *details]
                continue
            segs += _person("IL", answer.subscriber)
            hl += 1
            segs.append(f"HL*{hl}*{subscriber_hl}*23*0{SEGMENT_END}")
            segs += [trn, *_person("03", answer.dependent), *details]
    segs.append(f"SE*{len(segs) + 1}*{st}{SEGMENT_END}")
    return segs


def write_271(
    envelope: ReplyEnvelope,
    control: int,
    now: datetime,
    responses: Sequence[Response271],
) -> str:
    """One 271 interchange (ISA13 = GS06 = ``control``), one ST per response."""
    parts = [interchange_header(envelope, control, FUNCTIONAL_ID, VERSION, now)]
    for number, response in enumerate(responses, 1):
        parts.extend(_transaction(response, st_control(number), now))
    parts.append(interchange_trailer(len(responses), control))
    return "".join(parts)
