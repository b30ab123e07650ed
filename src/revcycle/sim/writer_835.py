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
six to a segment, in the order the adjudication produced them. A payment's claims may come
already written (:func:`render_claim`, the same text): the simulation writes each claim's
loop as soon as it is adjudicated and keeps that text, not the claim, until its 835 goes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from revcycle.sim import draws
from revcycle.sim.envelope import (
    ReplyEnvelope,
    interchange_header,
    interchange_trailer,
    st_control,
)
from revcycle.sim.fast_text import amount, day, identifier
from revcycle.sim.remittance import Adjustment, Payment, RemitClaim, RemitLine, RenderedClaim
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


_ONE = Decimal(1)


def _units(value: Decimal | None) -> str:
    """SVC05: most lines are one unit, whatever the Decimal's exponent (``1``, ``1.0``)."""
    if value is None:
        return ""
    return "1" if value == _ONE else _quantity(value)


def cas_segments(adjustments: Iterable[Adjustment]) -> list[str]:
    """CAS segments: one group code each, at most six reason/amount triplets."""
    segs: list[str] = []
    _add_cas(tuple(adjustments), segs)
    return segs


def _add_cas(adjustments: Sequence[Adjustment], segs: list[str]) -> None:
    """Append the CAS segments of ``adjustments`` to ``segs`` (the quantity of every
    triplet is empty, so triplets are joined by ``**`` and the last one ends at its amount)."""
    if not adjustments:
        return
    if len(adjustments) == 1:  # the usual claim-level and denied-line case
        only = adjustments[0]
        segs.append(f"CAS*{only.group}*{only.reason}*{amount(only.amount)}{SEGMENT_END}")
        return
    by_group: dict[str, list[str]] = {}
    for adjustment in adjustments:
        pair = f"{adjustment.reason}*{amount(adjustment.amount)}"
        pairs = by_group.get(adjustment.group)
        if pairs is None:
            by_group[adjustment.group] = [pair]
        else:
            pairs.append(pair)
    for group, pairs in by_group.items():
        for start in range(0, len(pairs), MAX_CAS_TRIPLETS):
            triplets = "**".join(pairs[start : start + MAX_CAS_TRIPLETS])
            segs.append(f"CAS*{group}*{triplets}{SEGMENT_END}")


def _add_line(line: RemitLine, segs: list[str]) -> None:
    """Append the 2110 loop of ``line`` to ``segs``."""
    composite = ":".join((line.procedure_qualifier, line.procedure_code, *line.modifiers))
    # SVC04 (revenue code) and SVC05 (units) are the only elements that may be empty, and
    # trailing empty elements are dropped.
    units = _units(line.units)
    revenue = line.revenue_code or ""
    tail = f"*{revenue}*{units}" if units else (f"*{revenue}" if revenue else "")
    segs.append(f"SVC*{composite}*{amount(line.charge)}*{amount(line.paid)}{tail}{SEGMENT_END}")
    start, end = line.service_date, line.service_date_end
    if start is not None and end is not None and end != start:
        segs.append(f"DTM*150*{day(start)}{SEGMENT_END}")
        segs.append(f"DTM*151*{day(end)}{SEGMENT_END}")
    elif start is not None:
        segs.append(f"DTM*472*{day(start)}{SEGMENT_END}")
    _add_cas(line.adjustments, segs)
    if line.line_control_number:
        segs.append(f"REF*6R*{identifier(line.line_control_number, 50)}{SEGMENT_END}")
    segs.append(f"AMT*B6*{amount(line.allowed)}{SEGMENT_END}")
    for code in line.remarks:
        segs.append(f"LQ*HE*{code}{SEGMENT_END}")


def _add_claim(claim: RemitClaim, segs: list[str]) -> None:
    """Append the 2100 loop of ``claim`` (and its 2110 loops) to ``segs``."""
    segs.append(
        segment(
            "CLP",
            identifier(claim.claim_id, 38),
            claim.status,
            amount(claim.charge),
            amount(claim.paid),
            amount(claim.patient_responsibility),
            claim.filing_indicator,
            claim.payer_claim_number,
            identifier(claim.facility_code, 2),
            identifier(claim.frequency_code, 1),
        )
    )
    _add_cas(claim.adjustments, segs)
    patient, subscriber = claim.patient, claim.subscriber
    member_id = identifier(claim.member_id, 80)
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
        segs.append(f"DTM*232*{day(claim.statement_from)}{SEGMENT_END}")
    if claim.statement_to is not None:
        segs.append(f"DTM*233*{day(claim.statement_to)}{SEGMENT_END}")
    if claim.received is not None:
        segs.append(f"DTM*050*{day(claim.received)}{SEGMENT_END}")
    for line in claim.lines:
        _add_line(line, segs)


def render_claim(claim: RemitClaim) -> RenderedClaim:
    """``claim`` checked (:meth:`RemitClaim.check`) and written as its 2100 loop, to be put
    into a payment later (see :class:`~revcycle.sim.remittance.RenderedClaim`)."""
    claim.check()
    segs: list[str] = []
    _add_claim(claim, segs)
    return RenderedClaim(
        claim.claim_id, claim.paid, claim.patient_responsibility, "".join(segs), len(segs)
    )


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
    rendered = 0  # segments of rendered claims beyond the one list entry each takes
    if payment.claims:
        segs.append(f"LX*1{SEGMENT_END}")
        for claim in payment.claims:
            if isinstance(claim, RenderedClaim):
                segs.append(claim.text)
                rendered += claim.segment_count - 1
            else:
                _add_claim(claim, segs)
    segs += _plb_segments(payment)
    segs.append(f"SE*{len(segs) + rendered + 1}*{st}{SEGMENT_END}")
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
