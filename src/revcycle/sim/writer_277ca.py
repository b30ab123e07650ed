"""277CA claim acknowledgments (005010X214) from the simulated payers.

One interchange answers one 837 interchange; one 277 transaction per accepted 837
transaction set::

    ST*277*0001*005010X214
    BHT*0085*08*<reference>*<date>*<time>*TH
    2000A HL*1**20*1  NM1*PR (payer)  TRN*1*<trace>  DTP*050 received  DTP*009 processed
      2000B HL*2*1*21*1  NM1*41 (our submitter)
            TRN*2*<837 BHT03>  STC*A1:19*<date>*WQ*<charges>  QTY*90/AA  AMT*YU/YY
        2000C HL*3*2*19*1  NM1*85 (billing provider)
              TRN*1*0  STC*A1:19**WQ*<charges>  QTY*QA/QC  AMT*YU/YY
          2000D HL*4*3*PT  NM1*QC (patient, member id)
                TRN*2*<CLM01>
                STC*A1:20*<date>*WQ*<charge>                  accepted
                 | STC*A3:<code>[:<entity>]*<date>*U*<charge>*******<message>  rejected
                REF*1K*<payer claim number>                   accepted claims only
                REF*BLT*<bill type>                           institutional claims
                DTP*472*D8|RD8*<service dates>
    SE

A 2000A/2000B pair per payer found in the transaction, a 2000C per billing provider under
it, a 2000D per claim. Counts and amounts in 2200B/2200C cover the claims below them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from revcycle.sim.config import ClaimRejection
from revcycle.sim.envelope import (
    ReplyEnvelope,
    interchange_header,
    interchange_trailer,
    st_control,
)
from revcycle.sim.fast_text import amount, day, identifier
from revcycle.sim.inbound import SubmittedClaim, SubmittedTransaction
from revcycle.x12.envelope import SEGMENT_END, segment
from revcycle.x12.text import clean_id, clean_text, format_amount, format_date

VERSION = "005010X214"
ZERO = Decimal("0")


@dataclass(frozen=True)
class ClaimStatus:
    """The 277CA verdict on one claim."""

    claim: SubmittedClaim
    rejection: ClaimRejection | None  # None: accepted
    payer_claim_number: str | None  # REF*1K, accepted claims

    @property
    def accepted(self) -> bool:
        return self.rejection is None


@dataclass(frozen=True)
class TransactionStatus:
    transaction: SubmittedTransaction
    statuses: tuple[ClaimStatus, ...]


def _name(value: str, size: int = 60) -> str:
    return clean_text(value, size)


def _totals(statuses: Sequence[ClaimStatus], codes: tuple[str, str]) -> list[str]:
    accepted = [s for s in statuses if s.accepted]
    rejected = [s for s in statuses if not s.accepted]
    segs = []
    if accepted:
        segs.append(f"QTY*{codes[0]}*{len(accepted)}{SEGMENT_END}")
    if rejected:
        segs.append(f"QTY*{codes[1]}*{len(rejected)}{SEGMENT_END}")
    if accepted:
        total = sum((s.claim.claim.total_charge for s in accepted), ZERO)
        segs.append(f"AMT*YU*{format_amount(total)}{SEGMENT_END}")
    if rejected:
        total = sum((s.claim.claim.total_charge for s in rejected), ZERO)
        segs.append(f"AMT*YY*{format_amount(total)}{SEGMENT_END}")
    return segs


def _service_dates(claim: SubmittedClaim) -> str:
    source = claim.claim
    dates = [d for line in source.lines for d in (line.service_date, line.service_date_end) if d]
    start = source.statement_from or (min(dates) if dates else claim.received)
    end = source.statement_to or (max(dates) if dates else start)
    if start == end:
        return f"DTP*472*D8*{day(start)}{SEGMENT_END}"
    return f"DTP*472*RD8*{day(start)}-{day(end)}{SEGMENT_END}"


def _claim_segments(status: ClaimStatus, hl: int, parent: int, today: str) -> list[str]:
    """The 2000D loop of one claim; ``today`` is the processing date as CCYYMMDD."""
    submitted = status.claim
    claim = submitted.claim
    patient = submitted.patient
    segs = [
        f"HL*{hl}*{parent}*PT{SEGMENT_END}",
        segment(
            "NM1",
            "QC",
            "1",
            _name(patient.last) or "UNKNOWN",
            _name(patient.first, 35),
            _name(patient.middle, 25),
            "",
            "",
            "MI",
            identifier(claim.subscriber_member_id, 80) or "UNKNOWN",
        ),
        f"TRN*2*{identifier(claim.claim_id, 50)}{SEGMENT_END}",
    ]
    charge = amount(claim.total_charge)
    rejection = status.rejection
    if rejection is None:
        segs.append(f"STC*A1:20*{today}*WQ*{charge}{SEGMENT_END}")
    else:
        code = f"{rejection.category}:{rejection.status}"
        if rejection.entity:
            code += f":{rejection.entity}"
        segs.append(
            segment(
                "STC",
                code,
                today,
                "U",
                charge,
                *([""] * 7),
                _name(rejection.message, 264),
            )
        )
    if status.payer_claim_number and rejection is None:
        segs.append(f"REF*1K*{status.payer_claim_number}{SEGMENT_END}")
    if claim.kind == "institutional" and claim.facility_code:
        segs.append(f"REF*BLT*{identifier(claim.bill_type, 50)}{SEGMENT_END}")
    segs.append(_service_dates(submitted))
    return segs


def _transaction_segments(
    status: TransactionStatus, number: int, today: date, now: datetime, control: int
) -> list[str]:
    transaction = status.transaction
    st = st_control(number)
    segs = [
        f"ST*277*{st}*{VERSION}{SEGMENT_END}",
        f"BHT*0085*08*{control:09d}{st}*{now:%Y%m%d}*{now:%H%M}*TH{SEGMENT_END}",
    ]
    # Payer -> billing provider -> claims, in the order they appear in the 837.
    tree: dict[tuple[str, str], dict[tuple[str, str], list[ClaimStatus]]] = {}
    for claim_status in status.statuses:
        payer = claim_status.claim.payer
        billing = claim_status.claim.billing
        providers = tree.setdefault((payer.payer_id, payer.name), {})
        providers.setdefault((billing.npi, billing.name), []).append(claim_status)
    received = min((s.claim.received for s in status.statuses), default=today)
    today_text = format_date(today)
    hl = 0
    for (payer_id, payer_name), providers in tree.items():
        everyone = [s for claims in providers.values() for s in claims]
        hl += 1
        source = hl
        segs += [
            f"HL*{hl}**20*1{SEGMENT_END}",
            f"NM1*PR*2*{_name(payer_name) or 'PAYER'}*****PI*{clean_id(payer_id, 80) or 'UNKNOWN'}"
            f"{SEGMENT_END}",
            f"TRN*1*{control:09d}{st}{SEGMENT_END}",
            f"DTP*050*D8*{format_date(received)}{SEGMENT_END}",
            f"DTP*009*D8*{format_date(today)}{SEGMENT_END}",
        ]
        hl += 1
        receiver = hl
        total = sum((s.claim.claim.total_charge for s in everyone), ZERO)
        segs += [
            f"HL*{hl}*{source}*21*1{SEGMENT_END}",
            f"NM1*41*2*{_name(transaction.submitter_name) or 'SUBMITTER'}*****46*"
            f"{clean_id(transaction.submitter_id, 80) or 'SUBMITTER'}{SEGMENT_END}",
            f"TRN*2*{clean_id(transaction.batch_reference, 50) or transaction.control_number}"
            f"{SEGMENT_END}",
            f"STC*A1:19*{format_date(today)}*WQ*{format_amount(total)}{SEGMENT_END}",
            *_totals(everyone, ("90", "AA")),
        ]
        for (npi, name), claims in providers.items():
            hl += 1
            provider = hl
            total = sum((s.claim.claim.total_charge for s in claims), ZERO)
            segs += [
                f"HL*{hl}*{receiver}*19*1{SEGMENT_END}",
                f"NM1*85*2*{_name(name) or 'PROVIDER'}*****XX*{clean_id(npi, 80) or 'UNKNOWN'}"
                f"{SEGMENT_END}",
                f"TRN*1*0{SEGMENT_END}",
                f"STC*A1:19**WQ*{format_amount(total)}{SEGMENT_END}",
                *_totals(claims, ("QA", "QC")),
            ]
            for claim_status in claims:
                hl += 1
                segs += _claim_segments(claim_status, hl, provider, today_text)
    segs.append(f"SE*{len(segs) + 1}*{st}{SEGMENT_END}")
    return segs


def write_277ca(
    envelope: ReplyEnvelope,
    control: int,
    now: datetime,
    transactions: Sequence[TransactionStatus],
) -> str:
    """The text of one 277CA interchange: one transaction per entry of ``transactions``
    (each must hold at least one claim status)."""
    today = now.date()
    parts = [interchange_header(envelope, control, "HN", VERSION, now)]
    for number, status in enumerate(transactions, 1):
        parts.append("".join(_transaction_segments(status, number, today, now, control)))
    parts.append(interchange_trailer(len(transactions), control))
    return "".join(parts)
