"""837P professional claims, 005010X222A1.

The envelope and the 2000A/2000B/2000C hierarchy come from :mod:`revcycle.x12.envelope`; this
module renders one claim's 2300 and 2400 loops::

    CLM*<claim id>*<total>***<POS>:B:<frequency>*Y*A*Y*Y
    REF*F8*<payer claim control number>          replacement (7) and void (8) only
    HI*ABK:<principal>*ABF:<other>...             up to 12 diagnoses, one segment
    2310B NM1*82 + PRV*PE                         rendering NPI differs from the billing NPI
    2310C NM1*77 + N3 + N4                        a service facility other than the billing
                                                  provider (e.g. POS 22/23, hospital)
    2400  LX*n  SV1*HC:<code>:<mods>*<charge>*UN*<units>***<pointers>  DTP*472*D8  REF*6R

CLM06-09 are the usual Y (provider signature on file), A (assigned), Y (benefits assigned),
Y (release of information). CLM02 is computed here from the lines, never taken from a column.
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

VERSION = "005010X222A1"


def _new_renderer() -> ClaimRenderer:
    """A claim renderer with its own caches (one per file)."""
    cache = RenderCache()
    amounts = cache.amounts
    service_dates = cache.service_dates
    pointer_texts: dict[tuple[int, ...], str] = {}

    def render(claim: Claim, segs: list[str]) -> Decimal:
        cid = claim.claim_id
        total = claim_total(claim, "837P")
        segs.append(
            f"CLM*{cid}*{amounts.get(total) or cache.amount(total)}***{claim.place_of_service}:B:"
            f"{claim.frequency_code}*Y*A*Y*Y{SEGMENT_END}"
        )
        reference = payer_claim_reference(claim)
        if reference:
            segs.append(reference)
        dx = claim.diagnoses
        segs.append("HI*ABK:" + dx[0] + "".join(["*ABF:" + code for code in dx[1:]]) + SEGMENT_END)
        rendering = claim.rendering_provider
        if rendering is not None and rendering.npi != claim.billing_provider.npi:
            segs.extend(cache.clinician("82", "PE", rendering, cid))
        facility = facility_to_send(claim)
        if facility is not None:
            segs.extend(cache.facility(facility, cid))
        has_prior_payer = claim.other_payer is not None
        if has_prior_payer:
            segs.extend(other_payer_segments(claim))
        for number, line in enumerate(claim.lines, 1):
            charge = amounts.get(line.charge_amount) or cache.amount(line.charge_amount)
            modifiers = line.modifiers
            procedure = (
                f"HC:{line.procedure_code}:{':'.join(modifiers)}"
                if modifiers
                else f"HC:{line.procedure_code}"
            )
            pointers = pointer_texts.get(line.pointers)
            if pointers is None:
                pointers = pointer_texts[line.pointers] = ":".join(map(str, line.pointers))
            segs += (
                LX_SEGMENTS[number],
                f"SV1*{procedure}*{charge}*UN*{line.units}***{pointers}{SEGMENT_END}",
                service_dates.get(line.service_date)
                or cache.service_date_segment(line.service_date),
                f"REF*6R*{line.claim_line_id}{SEGMENT_END}",
            )
            if has_prior_payer:
                segs += line_adjudication_segments(
                    claim, line.claim_line_id, procedure, "", line.units
                )
        return total

    return render


GUIDE = Guide(version=VERSION, claim_type=ClaimType.PROFESSIONAL, new_renderer=_new_renderer)


def write_837p(
    out: TextIO,
    claims: Iterable[Claim],
    *,
    submitter: SubmitterConfig,
    control: ControlNumbers,
    now: datetime,
    claims_per_transaction: int = DEFAULT_CLAIMS_PER_TRANSACTION,
) -> WriteSummary:
    """Write professional claims as one 837P interchange to ``out`` (a text handle opened
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
