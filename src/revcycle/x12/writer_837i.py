"""837I institutional claims, 005010X223A2.

The envelope and the 2000A/2000B/2000C hierarchy come from :mod:`revcycle.x12.envelope`; this
module renders one claim's 2300 and 2400 loops::

    CLM*<claim id>*<total>***<facility type>:A:<frequency>**A*Y*Y   (CLM06 is not used on 837I)
    DTP*434*RD8*<from>-<to>                       statement dates, always a range
    CL1*<admission type>*<point of origin>*<patient status>
    REF*F8*<payer claim control number>          replacement (7) and void (8) only
    HI*ABK:<principal>                            principal diagnosis, its own segment
    HI*ABF:<other>*ABF:<other>...                 other diagnoses (up to 11 here)
    2310A NM1*71 + PRV*AT                         attending = our rendering clinician
    2310E NM1*77 + N3 + N4                        service facility other than the billing one
    2400  LX*n  SV2*<revenue>*HC:<code>:<mods>*<charge>*UN*<units>  DTP*472*D8  REF*6R

CLM05: facility type is digits 2-3 of the 4-digit type of bill (0131 -> 13); the frequency is
the claim's own code (a replacement of a 0131 claim goes out as 13:A:7).

CL1 defaults, since the EMR extract carries none of these (the guide: CL101 only for inpatient
admissions, CL102 for inpatient and outpatient, CL103 always):

- outpatient (everything not below): ``CL1**1*01`` - no admission type, point of origin 1
  (non-health-care point of origin, i.e. came from home), patient status 01 (discharged home);
- inpatient (facility type 1-6 with bill classification 1 or 2, or 8 swing bed):
  ``CL1*9*9*01`` - admission type and point of origin 9 "information not available" rather
  than an invented elective/emergency, status 01. Real inpatient billing needs these from
  the EMR; until then 9 is the honest value.

Not written: HI*APR (patient's reason for visit, which some payers want on unscheduled
outpatient visits), condition/occurrence/value codes - the extract has none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TextIO

from revcycle.claims.model import Claim, ClaimType
from revcycle.x12.envelope import (
    DEFAULT_CLAIMS_PER_TRANSACTION,
    LX_SEGMENTS,
    SEGMENT_END,
    ClaimRenderer,
    ControlNumbers,
    Guide,
    RenderCache,
    SubmitterConfig,
    WriteSummary,
    claim_total,
    facility_to_send,
    line_adjudication_segments,
    other_payer_segments,
    payer_claim_reference,
    write_837,
)

VERSION = "005010X223A2"

_CL1_OUTPATIENT = f"CL1**1*01{SEGMENT_END}"
_CL1_INPATIENT = f"CL1*9*9*01{SEGMENT_END}"


def is_inpatient(type_of_bill: str) -> bool:
    """Inpatient bill types: facility type 1-6 (hospital, SNF, home health, religious
    non-medical, intermediate care) with classification 1/2 (inpatient) or 8 (swing bed)."""
    return type_of_bill[1] in "123456" and type_of_bill[2] in "128"


def cl1_segment(type_of_bill: str) -> str:
    """The CL1 segment we send for a type of bill (defaults: see the module docstring)."""
    return _CL1_INPATIENT if is_inpatient(type_of_bill) else _CL1_OUTPATIENT


def _new_renderer() -> ClaimRenderer:
    """A claim renderer with its own caches (one per file)."""
    cache = RenderCache()
    amounts = cache.amounts
    service_dates = cache.service_dates

    def render(claim: Claim, segs: list[str]) -> Decimal:
        cid = claim.claim_id
        total = claim_total(claim, "837I")
        tob = claim.type_of_bill or ""  # the model guarantees 4 digits on institutional claims
        segs.append(
            f"CLM*{cid}*{amounts.get(total) or cache.amount(total)}***{tob[1:3]}:A:"
            f"{claim.frequency_code}**A*Y*Y{SEGMENT_END}"
        )
        segs.append(
            f"DTP*434*RD8*{cache.day(claim.service_date)}-"
            f"{cache.day(claim.service_date_to)}{SEGMENT_END}"
        )
        segs.append(cl1_segment(tob))
        reference = payer_claim_reference(claim)
        if reference:
            segs.append(reference)
        dx = claim.diagnoses
        segs.append(f"HI*ABK:{dx[0]}{SEGMENT_END}")
        if len(dx) > 1:
            segs.append("HI*" + "*".join(["ABF:" + code for code in dx[1:]]) + SEGMENT_END)
        if claim.rendering_provider is not None:
            segs.extend(cache.clinician("71", "AT", claim.rendering_provider, cid))
        facility = facility_to_send(claim)
        if facility is not None:
            segs.extend(cache.facility(facility, cid))
        has_prior_payer = claim.other_payer is not None
        if has_prior_payer:
            segs.extend(other_payer_segments(claim))
        for number, line in enumerate(claim.lines, 1):
            charge = amounts.get(line.charge_amount) or cache.amount(line.charge_amount)
            if line.procedure_code:
                procedure = ":".join(("HC", line.procedure_code, *line.modifiers))
            else:
                procedure = ""  # room and board lines carry a revenue code only
            segs += (
                LX_SEGMENTS[number],
                f"SV2*{line.revenue_code}*{procedure}*{charge}*UN*{line.units}{SEGMENT_END}",
                service_dates.get(line.service_date)
                or cache.service_date_segment(line.service_date),
                f"REF*6R*{line.claim_line_id}{SEGMENT_END}",
            )
            if has_prior_payer:
                segs += line_adjudication_segments(
                    claim, line.claim_line_id, procedure, line.revenue_code or "", line.units
                )
        return total

    return render


GUIDE = Guide(version=VERSION, claim_type=ClaimType.INSTITUTIONAL, new_renderer=_new_renderer)


def write_837i(
    out: TextIO,
    claims: Iterable[Claim],
    *,
    submitter: SubmitterConfig,
    control: ControlNumbers,
    now: datetime,
    claims_per_transaction: int = DEFAULT_CLAIMS_PER_TRANSACTION,
) -> WriteSummary:
    """Write institutional claims as one 837I interchange to ``out`` (a text handle opened
    with ``newline=""`` so the ``\\n`` after each ``~`` is written as is)."""
    return write_837(
        out,
        claims,
        guide=GUIDE,
        submitter=submitter,
        control=control,
        now=now,
        claims_per_transaction=claims_per_transaction,
    )
