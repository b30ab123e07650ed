"""835 health care claim payment/advice (005010X221A1) from the simulated payers.

One interchange per payer delivery, one transaction set per payment (check or EFT)::

    ST*835*0001
    BPR*I*<amount>*C*ACH*CCP*01*<payer bank>*DA*<payer account>*<1+TIN>**01*<our bank>*DA
        *<our account>*<date>                                    EFT
      | BPR*I*<amount>*C*CHK************<date>                   check
      | BPR*H*0*C*NON************<date>                          nothing paid: notification
    TRN*1*<check or EFT trace number>*1<payer TIN>
    DTM*405*<production date>
    1000A N1*PR*<payer>  N3  N4  REF*2U*<payer id>  PER*BL*<contact>*TE*<phone>
    1000B N1*PE*<billing provider>*XX*<NPI>  N3  N4  REF*TJ*<TIN>
    LX*1
      2100 CLP*<CLM01>*<status>*<charge>*<paid>*<patient resp>*<filing>*<payer claim no>
               *<facility>*<frequency>
           CAS*<group>*<reason>*<amount>...         claim-level adjustments, one per group
           NM1*QC (patient, + member id when the patient is the subscriber) [NM1*IL]
           DTM*232/233 statement dates  DTM*050 received
        2110 SVC*HC:<code>:<mods>*<charge>*<paid>*<revenue code>*<units>
             DTM*472 (or DTM*150 + DTM*151)  CAS...  REF*6R*<our line id>  AMT*B6*<allowed>
             LQ*HE*<RARC>...
    PLB*<NPI>*<CCYY1231>*<reason>:<reference>*<amount>...   up to six pairs a segment
    SE

Amounts are written exactly (``format_amount``); CAS triplets are grouped by group code,
six to a segment, in the order the adjudication produced them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from revcycle.sim import draws
from revcycle.sim.envelope import (
    ReplyEnvelope,
    interchange_header,
    interchange_trailer,
    st_control,
)
from revcycle.sim.remittance import Adjustment, Payment, RemitClaim, RemitLine
from revcycle.x12.envelope import SEGMENT_END, segment
from revcycle.x12.text import clean_id, clean_text, digits, format_amount, format_date

VERSION = "005010X221A1"
MAX_CAS_TRIPLETS = 6
MAX_PLB_PAIRS = 6


def _quantity(value: object) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def cas_segments(adjustments: Iterable[Adjustment]) -> list[str]:
    """CAS segments: one group code each, at most six reason/amount triplets."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    segs = []
    for group, items in by_group.items():
        for start in range(0, len(items), MAX_CAS_TRIPLETS):
            chunk = items[start : start + MAX_CAS_TRIPLETS]
            triplets = "".join(f"*{a.reason}*{format_amount(a.amount)}*" for a in chunk)
            segs.append(f"CAS*{group}{triplets.rstrip('*')}{SEGMENT_END}")
    return segs


def _line_segments(line: RemitLine) -> list[str]:
    composite = ":".join((line.procedure_qualifier, line.procedure_code, *line.modifiers))
    segs = [
        segment(
            "SVC",
            composite,
            format_amount(line.charge),
            format_amount(line.paid),
            line.revenue_code or "",
            _quantity(line.units) if line.units is not None else "",
        )
    ]
    start, end = line.service_date, line.service_date_end
    if start is not None and end is not None and end != start:
        segs += [
            f"DTM*150*{format_date(start)}{SEGMENT_END}",
            f"DTM*151*{format_date(end)}{SEGMENT_END}",
        ]
    elif start is not None:
        segs.append(f"DTM*472*{format_date(start)}{SEGMENT_END}")
    segs += cas_segments(line.adjustments)
    if line.line_control_number:
        segs.append(f"REF*6R*{clean_id(line.line_control_number, 50)}{SEGMENT_END}")
    segs.append(f"AMT*B6*{format_amount(line.allowed)}{SEGMENT_END}")
    segs += [f"LQ*HE*{code}{SEGMENT_END}" for code in line.remarks]
    return segs


def _claim_segments(claim: RemitClaim) -> list[str]:
    segs = [
        segment(
            "CLP",
            clean_id(claim.claim_id, 38),
            claim.status,
            format_amount(claim.charge),
            format_amount(claim.paid),
            format_amount(claim.patient_responsibility),
            claim.filing_indicator,
            claim.payer_claim_number,
            clean_id(claim.facility_code, 2),
            clean_id(claim.frequency_code, 1),
        ),
        *cas_segments(claim.adjustments),
    ]
    patient, subscriber = claim.patient, claim.subscriber
    member_id = clean_id(claim.member_id, 80)
    names = (
        clean_text(patient.last, 60) or "UNKNOWN",
        clean_text(patient.first, 35),
        clean_text(patient.middle, 25),
    )
    if claim.patient_is_subscriber:
        segs.append(segment("NM1", "QC", "1", *names, "", "", "MI" if member_id else "", member_id))
    else:
        segs.append(segment("NM1", "QC", "1", *names))
        if member_id:
            segs.append(
                segment(
                    "NM1",
                    "IL",
                    "1",
                    clean_text(subscriber.last, 60) or "UNKNOWN",
                    clean_text(subscriber.first, 35),
                    clean_text(subscriber.middle, 25),
                    "",
                    "",
                    "MI",
                    member_id,
                )
            )
    if claim.statement_from is not None:
        segs.append(f"DTM*232*{format_date(claim.statement_from)}{SEGMENT_END}")
    if claim.statement_to is not None:
        segs.append(f"DTM*233*{format_date(claim.statement_to)}{SEGMENT_END}")
    if claim.received is not None:
        segs.append(f"DTM*050*{format_date(claim.received)}{SEGMENT_END}")
    for line in claim.lines:
        segs += _line_segments(line)
    return segs


def _bank_number(seed_text: str, what: str) -> str:
    """A made-up, stable bank routing or account number (simulation only)."""
    return draws.digits(9, 0, seed_text, what)


def _bpr(payment: Payment, tin: str) -> str:
    amount = payment.amount
    day = format_date(payment.payment_date)
    if amount == 0:
        return f"BPR*H*0*C*NON************{day}{SEGMENT_END}"
    text = format_amount(amount)
    if payment.method == "CHK":
        return f"BPR*I*{text}*C*CHK************{day}{SEGMENT_END}"
    payer, payee = payment.payer.payer_id, payment.payee.npi
    return (
        f"BPR*I*{text}*C*ACH*CCP*01*{_bank_number(payer, 'routing')}*DA"
        f"*{_bank_number(payer, 'account')}*1{tin}**01*{_bank_number(payee, 'routing')}*DA"
        f"*{_bank_number(payee, 'account')}*{day}{SEGMENT_END}"
    )


def _plb_segments(payment: Payment) -> list[str]:
    adjustments = payment.provider_adjustments
    if not adjustments:
        return []
    provider = clean_id(payment.payee.npi, 50) or "UNKNOWN"
    fiscal = f"{payment.payment_date.year}1231"
    segs = []
    for start in range(0, len(adjustments), MAX_PLB_PAIRS):
        chunk = adjustments[start : start + MAX_PLB_PAIRS]
        pairs = "".join(
            f"*{p.reason}:{clean_id(p.reference, 50)}*{format_amount(p.amount)}"
            if p.reference
            else f"*{p.reason}*{format_amount(p.amount)}"
            for p in chunk
        )
        segs.append(f"PLB*{provider}*{fiscal}{pairs}{SEGMENT_END}")
    return segs


def _payment_segments(payment: Payment, number: int, now: datetime) -> list[str]:
    payer, payee = payment.payer, payment.payee
    tin = digits(payment.payer_tin)[:9].rjust(9, "0")
    st = st_control(number)
    segs = [
        f"ST*835*{st}{SEGMENT_END}",
        _bpr(payment, tin),
        f"TRN*1*{payment.trace_number}*1{tin}{SEGMENT_END}",
        f"DTM*405*{now:%Y%m%d}{SEGMENT_END}",
        f"N1*PR*{clean_text(payer.name, 60) or 'SIMULATED PAYER'}{SEGMENT_END}",
    ]
    address = payer.address
    if address is not None and address.line1 and address.city:
        segs.append(segment("N3", clean_text(address.line1, 55), clean_text(address.line2, 55)))
        segs.append(
            segment(
                "N4",
                clean_text(address.city, 30),
                clean_text(address.state, 2),
                digits(address.zip),
            )
        )
    else:
        segs += [f"N3*PO BOX 1{SEGMENT_END}", f"N4*SIMULATED*CA*95814{SEGMENT_END}"]
    segs += [
        f"REF*2U*{clean_id(payer.payer_id, 50) or 'UNKNOWN'}{SEGMENT_END}",
        f"PER*BL*PROVIDER SERVICES*TE*800555{draws.digits(4, 0, payer.payer_id, 'phone')}"
        f"{SEGMENT_END}",
        f"N1*PE*{clean_text(payee.name, 60) or 'PROVIDER'}*XX*{clean_id(payee.npi, 80)}"
        f"{SEGMENT_END}",
    ]
    if payee.address is not None and payee.address.line1 and payee.address.city:
        segs.append(
            segment("N3", clean_text(payee.address.line1, 55), clean_text(payee.address.line2, 55))
        )
        segs.append(
            segment(
                "N4",
                clean_text(payee.address.city, 30),
                clean_text(payee.address.state, 2),
                digits(payee.address.zip),
            )
        )
    if len(digits(payee.tin)) == 9:
        segs.append(f"REF*TJ*{digits(payee.tin)}{SEGMENT_END}")
    if payment.claims:
        segs.append(f"LX*1{SEGMENT_END}")
        for claim in payment.claims:
            segs += _claim_segments(claim)
    segs += _plb_segments(payment)
    segs.append(f"SE*{len(segs) + 1}*{st}{SEGMENT_END}")
    return segs


def write_835(
    envelope: ReplyEnvelope,
    control: int,
    now: datetime,
    payments: Sequence[Payment],
) -> str:
    """The text of one 835 interchange: one transaction set per payment. Every payment is
    checked (:meth:`Payment.check`) first: an unbalanced remittance is a simulation bug."""
    parts = [interchange_header(envelope, control, "HP", VERSION, now)]
    for number, payment in enumerate(payments, 1):
        payment.check()
        parts.append("".join(_payment_segments(payment, number, now)))
    parts.append(interchange_trailer(len(payments), control))
    return "".join(parts)
