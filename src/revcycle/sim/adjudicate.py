"""How a simulated payer adjudicates one claim: pure functions, no I/O.

Every decision is a draw keyed by the seed and the claim (:mod:`revcycle.sim.draws`), so a
claim gets the same answer whatever else is in the batch and in whatever order files are
read. The rules, for a claim the 277CA accepted:

1. Outcome (one draw): denied (``claim_denial_rate``), zero-pay deductible
   (``zero_pay_deductible_rate``; Medicaid never) or paid. A claim id the payer has already
   adjudicated, sent again as an original, is denied as a duplicate (CO-18).
2. Denied: CLP02 4, nothing paid. The reason comes from ``denial_reasons``: claim-level ones
   (CO-18, CO-29, CO-109) carry one claim CAS of the whole charge and no service lines;
   line-level ones (CO-16 + RARC, CO-50, CO-197, PR-96) deny every line with a line CAS.
   PR-96 makes the charge patient responsibility (CLP05).
3. Paid, per line: allowed = billed x fee percent / 100, rounded to the cent with
   ROUND_HALF_UP, at most the charge; CO-45 writes off the difference. A line after the first
   may be bundled (CO-97 of its whole charge, paid 0, RARC M15); a line may be cut by half its
   allowed amount (CO-59). Patient responsibility comes out of the allowed amount, in this
   order: deductible PR-1 (Medicare and commercial, spread over the lines in order), copay
   PR-3 (HMO always, commercial professional claims often; first lines first), then
   coinsurance PR-2 on what is left of each line (Medicare 20 %, commercial 10/20/30 %; HMO
   and Medicaid none). Paid = allowed - patient responsibility. CLP02 1/2/3 from SBR01.
4. Zero-pay deductible: CO-45 as above, the whole allowed amount PR-1, CLP02 1, CLP04 0.
5. Events on paid claims: reversal (paid first from a fee schedule
   ``reversal_fee_error_percent`` lower, reversed and paid correctly later), split (two CLPs
   with different CLP07, lines split in two halves), takeback (part of the payment recovered
   later through PLB WO). Any claim may be pended (answered in the follow-up 835); a pended
   paid claim may earn interest (PLB L6).

Secondary and tertiary claims (SBR01 ``S``/``T``, coordination of benefits) follow other
rules (:func:`adjudicate_secondary`): per line the payer considers only the *base* the prior
payer left the patient to pay (:mod:`revcycle.sim.secondary`) and reports the rest of the
charge as OA-23 (impact of prior payer adjudication). Then:

6. No COB data at all (no 2320 payment information, no 2430 loop): denied, CO-16 with RARC
   MA04 on every line (the whole charge; nothing to compare with).
7. Denied (``claim_denial_rate``, same reasons as primary claims): the denial CAS covers the
   base, OA-23 the rest (claim-level reasons: one claim CAS of each; line-level: per line).
8. Otherwise paid, CLP02 2 (3 for tertiary): Medicaid pays the whole base; Medicare,
   commercial and HMO pay it all or, for ``secondary_coinsurance_rate`` of claims, leave a
   PR-2 coinsurance of one of ``secondary_coinsurance_percents`` of each line's base.
   No fee schedule, no deductible or copay of its own, no zero-pay, reversal, split or
   takeback events; the claim may be pended (and then earn interest) like any other.

Payer claim control numbers (CLP07, the 277CA's REF*1K) come from a
:class:`ClaimNumbers` allocator: deterministic, unique within the simulation's ledger.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from revcycle.sim import draws
from revcycle.sim.config import DenialReason, SimConfig
from revcycle.sim.inbound import SubmittedClaim
from revcycle.sim.remittance import (
    STATUS_DENIED,
    STATUS_PRIMARY,
    ZERO,
    Adjustment,
    RemitClaim,
    RemitLine,
)
from revcycle.sim.secondary import secondary_bases
from revcycle.x12.read_837 import ServiceLine837

CENT = Decimal("0.01")
HUNDRED = Decimal("100")

# CLP02 for a processed claim, from SBR01 (payer responsibility sequence).
_PROCESSED_STATUS = {"P": "1", "S": "2", "T": "3"}

# CLP06 from SBR09: most 837 claim filing codes exist in the 835 list; commercial (CI) and
# Blue Cross (BL) do not, and payers report them as PPO (12). Anything else: ZZ.
_CLP06 = {
    **{code: code for code in ("12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM")},
    **{code: code for code in ("LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ")},
    "CI": "12",
    "BL": "12",
}

OUTCOME_PAID = "paid"
OUTCOME_ZERO_PAY = "zero_pay"
OUTCOME_DENIED = "denied"

DUPLICATE_DENIAL = DenialReason("CO", "18", 1, claim_level=True)
NO_PRIOR_PAYMENT_DENIAL = DenialReason("CO", "16", 1, remarks=("MA04",))
"""A secondary claim without COB data: RARC MA04, "secondary payment cannot be considered
without the identity of or payment information from the primary payer"."""
PRIOR_PAYER_GROUP = "OA"
PRIOR_PAYER_REASON = "23"  # impact of prior payer(s) adjudication


class PlanKind(Enum):
    MEDICAID = "medicaid"
    MEDICARE = "medicare"
    HMO = "hmo"
    COMMERCIAL = "commercial"


def plan_kind(filing_indicator: str) -> PlanKind:
    """What kind of cost sharing a claim filing indicator (SBR09) means."""
    if filing_indicator == "MC":
        return PlanKind.MEDICAID
    if filing_indicator in ("MA", "MB", "16"):
        return PlanKind.MEDICARE
    if filing_indicator == "HM":
        return PlanKind.HMO
    return PlanKind.COMMERCIAL


def clp06(filing_indicator: str) -> str:
    return _CLP06.get(filing_indicator, "ZZ")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allowed_amount(charge: Decimal, fee_percent: Decimal) -> Decimal:
    """The fee schedule: billed x percent / 100, to the cent (half up), never above billed."""
    return min(charge, cents(charge * fee_percent / HUNDRED))


ClaimNumbers = Callable[[str, int], str]
"""``numbers(claim_key, n)``: the payer claim control number of the n-th CLP for a claim."""


@dataclass(frozen=True)
class Adjudication:
    """A payer's whole answer for one claim.

    ``final`` holds the CLPs that stand (two for a split claim); ``superseded`` a payment
    made first and reversed later; ``pended`` puts the answer in the follow-up 835.
    ``interest`` (PLB L6) and ``takeback`` (PLB WO) are provider-level amounts referring to
    ``final[0]``'s CLP07.
    """

    submitted: SubmittedClaim
    outcome: str
    final: tuple[RemitClaim, ...]
    superseded: RemitClaim | None = None
    pended: bool = False
    interest: Decimal = ZERO
    takeback: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        return sum((c.paid for c in self.final), ZERO)

    @property
    def is_split(self) -> bool:
        return len(self.final) > 1


@dataclass
class _CostSharing:
    deductible: Decimal
    copay: Decimal
    coinsurance_percent: Decimal


def _cost_sharing(
    claim: SubmittedClaim, kind: PlanKind, seed: int, config: SimConfig
) -> _CostSharing:
    key = claim.key
    deductible = ZERO
    if kind in (PlanKind.MEDICARE, PlanKind.COMMERCIAL) and draws.chance(
        config.deductible_rate, seed, key, "deductible"
    ):
        deductible = draws.pick(config.deductible_amounts, seed, key, "deductible-amount")
    copay = ZERO
    professional = claim.claim.kind == "professional"
    if kind is PlanKind.HMO or (
        kind is PlanKind.COMMERCIAL
        and professional
        and draws.chance(config.copay_rate, seed, key, "copay")
    ):
        copay = draws.pick(config.copay_amounts, seed, key, "copay-amount")
    if kind is PlanKind.MEDICARE:
        coinsurance = config.medicare_coinsurance_percent
    elif kind is PlanKind.COMMERCIAL:
        coinsurance = draws.pick(config.coinsurance_percents, seed, key, "coinsurance")
    else:
        coinsurance = ZERO
    return _CostSharing(deductible, copay, coinsurance)


def _procedure(line: ServiceLine837) -> tuple[str, str, str | None]:
    """SVC01-1, SVC01-2 and SVC04 for an 837 line."""
    if line.procedure_code:
        return line.procedure_qualifier or "HC", line.procedure_code, line.revenue_code
    return "NU", line.revenue_code or "", None


def _line(
    line: ServiceLine837,
    *,
    paid: Decimal,
    allowed: Decimal,
    adjustments: Sequence[Adjustment],
    remarks: tuple[str, ...] = (),
) -> RemitLine:
    qualifier, code, revenue = _procedure(line)
    return RemitLine(
        procedure_qualifier=qualifier,
        procedure_code=code,
        modifiers=line.modifiers,
        revenue_code=revenue,
        charge=line.charge,
        paid=paid,
        allowed=allowed,
        units=line.units,
        service_date=line.service_date,
        service_date_end=line.service_date_end,
        line_control_number=line.line_control_number,
        adjustments=tuple(a for a in adjustments if a.amount != 0),
        remarks=remarks,
    )


def _paid_lines(
    claim: SubmittedClaim,
    fee_percent: Decimal,
    seed: int,
    config: SimConfig,
    *,
    zero_pay: bool,
) -> list[RemitLine]:
    key = claim.key
    kind = plan_kind(claim.claim.claim_filing_indicator)
    sharing = _cost_sharing(claim, kind, seed, config)
    deductible_left = sharing.deductible
    copay_left = sharing.copay
    lines: list[RemitLine] = []
    for index, line in enumerate(claim.claim.lines):
        charge = line.charge
        if (
            not zero_pay
            and index > 0
            and draws.chance(config.line_bundling_rate, seed, key, "bundle", index)
        ):
            lines.append(
                _line(
                    line,
                    paid=ZERO,
                    allowed=ZERO,
                    adjustments=[Adjustment("CO", "97", charge)],
                    remarks=("M15",),
                )
            )
            continue
        allowed = allowed_amount(charge, fee_percent)
        adjustments = [Adjustment("CO", "45", charge - allowed)]
        if (
            not zero_pay
            and allowed > 0
            and draws.chance(config.partial_line_rate, seed, key, "partial", index)
        ):
            cut = cents(allowed / 2)
            adjustments.append(Adjustment("CO", "59", cut))
            allowed -= cut
        if zero_pay:
            adjustments.append(Adjustment("PR", "1", allowed))
            lines.append(_line(line, paid=ZERO, allowed=allowed, adjustments=adjustments))
            continue
        deductible = min(deductible_left, allowed)
        deductible_left -= deductible
        copay = min(copay_left, allowed - deductible)
        copay_left -= copay
        coinsurance = cents((allowed - deductible - copay) * sharing.coinsurance_percent / HUNDRED)
        adjustments += (
            Adjustment("PR", "1", deductible),
            Adjustment("PR", "2", coinsurance),
            Adjustment("PR", "3", copay),
        )
        paid = allowed - deductible - copay - coinsurance
        lines.append(_line(line, paid=paid, allowed=allowed, adjustments=adjustments))
    return lines


def _denied_lines(claim: SubmittedClaim, reason: DenialReason, remark: str) -> list[RemitLine]:
    remarks = (remark,) if remark else ()
    return [
        _line(
            line,
            paid=ZERO,
            allowed=ZERO,
            adjustments=[Adjustment(reason.group, reason.reason, line.charge)],
            remarks=remarks,
        )
        for line in claim.claim.lines
    ]


def remit_claim(
    claim: SubmittedClaim,
    *,
    status: str,
    payer_claim_number: str,
    lines: Sequence[RemitLine] = (),
    adjustments: Sequence[Adjustment] = (),
    charge: Decimal | None = None,
) -> RemitClaim:
    """A CLP for ``claim`` whose totals are the sums of its lines and adjustments."""
    adjusted = owed = line_charges = ZERO
    for adjustment in adjustments:
        adjusted += adjustment.amount
        if adjustment.group == "PR":
            owed += adjustment.amount
    for line in lines:
        line_charges += line.charge
        for adjustment in line.adjustments:
            adjusted += adjustment.amount
            if adjustment.group == "PR":
                owed += adjustment.amount
    if charge is None:
        charge = line_charges if lines else claim.claim.total_charge
    source = claim.claim
    statement_from, statement_to = source.statement_from, source.statement_to
    if statement_from is None or statement_to is None:  # from the lines' service dates
        dates = [
            d for line in source.lines for d in (line.service_date, line.service_date_end) if d
        ]
        statement_from = statement_from or (min(dates) if dates else None)
        statement_to = statement_to or (max(dates) if dates else None)
    return RemitClaim(
        claim_id=source.claim_id,
        status=status,
        charge=charge,
        paid=charge - adjusted,
        patient_responsibility=owed,
        filing_indicator=clp06(source.claim_filing_indicator),
        payer_claim_number=payer_claim_number,
        facility_code=source.facility_code,
        frequency_code=source.frequency_code,
        patient=claim.patient,
        subscriber=claim.subscriber,
        member_id=source.subscriber_member_id,
        patient_is_subscriber=claim.patient_is_subscriber,
        statement_from=statement_from,
        statement_to=statement_to,
        received=claim.received,
        adjustments=tuple(a for a in adjustments if a.amount != 0),
        lines=tuple(lines),
    )


def _processed_status(claim: SubmittedClaim) -> str:
    return _PROCESSED_STATUS.get(claim.claim.payer_responsibility, STATUS_PRIMARY)


def deny(
    claim: SubmittedClaim, reason: DenialReason, payer_claim_number: str, remark: str = ""
) -> RemitClaim:
    """A denied claim (CLP02 4): claim-level or line-level, as the reason says."""
    if reason.claim_level or not claim.claim.lines:
        charge = claim.claim.total_charge
        return remit_claim(
            claim,
            status=STATUS_DENIED,
            payer_claim_number=payer_claim_number,
            adjustments=[Adjustment(reason.group, reason.reason, charge)],
            charge=charge,
        )
    return remit_claim(
        claim,
        status=STATUS_DENIED,
        payer_claim_number=payer_claim_number,
        lines=_denied_lines(claim, reason, remark),
    )


def _interest(paid: Decimal, pended: bool, seed: int, key: str, config: SimConfig) -> Decimal:
    """Prompt-pay interest (PLB L6) on a pended claim that pays something."""
    if paid > 0 and pended and draws.chance(config.interest_rate, seed, key, "interest"):
        percent = draws.percent_between(Decimal("0.5"), Decimal("2"), seed, key, "interest-rate")
        return max(CENT, cents(paid * percent / HUNDRED))
    return ZERO


def adjudicate(
    claim: SubmittedClaim,
    fee_percent: Decimal,
    *,
    seed: int,
    config: SimConfig,
    numbers: ClaimNumbers,
    duplicate: bool = False,
) -> Adjudication:
    """The payer's answer for one accepted claim (see the module docstring for the rules).

    Secondary and tertiary claims go to :func:`adjudicate_secondary` (``fee_percent`` is
    not used for them)."""
    if claim.is_secondary:
        return adjudicate_secondary(
            claim, seed=seed, config=config, numbers=numbers, duplicate=duplicate
        )
    key = claim.key
    pended = draws.chance(config.pended_claim_rate, seed, key, "pend")
    first_number = numbers(key, 0)
    if duplicate:
        denied = deny(claim, DUPLICATE_DENIAL, first_number)
        return Adjudication(claim, OUTCOME_DENIED, (denied,), pended=pended)

    outcome_draw = draws.unit(seed, key, "outcome")
    kind = plan_kind(claim.claim.claim_filing_indicator)
    if outcome_draw < config.claim_denial_rate:
        reasons = config.denial_reasons
        reason = draws.pick_weighted(reasons, [r.weight for r in reasons], seed, key, "denial")
        remark = draws.pick(reason.remarks, seed, key, "remark") if reason.remarks else ""
        denied = deny(claim, reason, first_number, remark)
        return Adjudication(claim, OUTCOME_DENIED, (denied,), pended=pended)

    status = _processed_status(claim)
    zero_pay = (
        outcome_draw < config.claim_denial_rate + config.zero_pay_deductible_rate
        and kind is not PlanKind.MEDICAID
        and bool(claim.claim.lines)
    )
    if zero_pay:
        lines = _paid_lines(claim, fee_percent, seed, config, zero_pay=True)
        final = remit_claim(claim, status=status, payer_claim_number=first_number, lines=lines)
        return Adjudication(claim, OUTCOME_ZERO_PAY, (final,), pended=pended)

    if not claim.claim.lines:  # nothing to price line by line: the whole charge is written off
        final = remit_claim(
            claim,
            status=status,
            payer_claim_number=first_number,
            adjustments=[Adjustment("CO", "45", claim.claim.total_charge)],
            charge=claim.claim.total_charge,
        )
        return Adjudication(claim, OUTCOME_PAID, (final,), pended=pended)

    lines = _paid_lines(claim, fee_percent, seed, config, zero_pay=False)
    superseded: RemitClaim | None = None
    if draws.chance(config.reversal_rate, seed, key, "reversal"):
        wrong_percent = fee_percent * (HUNDRED - config.reversal_fee_error_percent) / HUNDRED
        wrong_lines = _paid_lines(claim, wrong_percent, seed, config, zero_pay=False)
        superseded = remit_claim(
            claim, status=status, payer_claim_number=first_number, lines=wrong_lines
        )
        final_claims: tuple[RemitClaim, ...] = (
            remit_claim(claim, status=status, payer_claim_number=numbers(key, 1), lines=lines),
        )
    elif len(lines) > 1 and draws.chance(config.split_claim_rate, seed, key, "split"):
        half = math.ceil(len(lines) / 2)
        final_claims = (
            remit_claim(claim, status=status, payer_claim_number=first_number, lines=lines[:half]),
            remit_claim(
                claim, status=status, payer_claim_number=numbers(key, 1), lines=lines[half:]
            ),
        )
    else:
        final_claims = (
            remit_claim(claim, status=status, payer_claim_number=first_number, lines=lines),
        )

    paid = sum((c.paid for c in final_claims), ZERO)
    interest = _interest(paid, pended, seed, key, config)
    takeback = ZERO
    if (
        paid > 0
        and not pended
        and superseded is None
        and draws.chance(config.takeback_rate, seed, key, "takeback")
    ):
        percent = draws.percent_between(Decimal("10"), Decimal("50"), seed, key, "takeback-share")
        takeback = max(CENT, cents(paid * percent / HUNDRED))
    return Adjudication(
        claim,
        OUTCOME_PAID,
        final_claims,
        superseded=superseded,
        pended=pended,
        interest=interest,
        takeback=takeback,
    )


# --------------------------------------------------------------------------------------------
# Secondary and tertiary payers (coordination of benefits)


def _prior_payer_adjustment(charge: Decimal, base: Decimal) -> Adjustment:
    return Adjustment(PRIOR_PAYER_GROUP, PRIOR_PAYER_REASON, charge - base)


def deny_secondary(
    claim: SubmittedClaim,
    reason: DenialReason,
    payer_claim_number: str,
    bases: Sequence[Decimal],
    remark: str = "",
) -> RemitClaim:
    """A denied secondary claim (CLP02 4): the denial covers what the prior payer left (the
    bases), OA-23 the rest of the charge."""
    source = claim.claim
    if reason.claim_level or not source.lines:
        charge = source.total_charge
        base = sum(bases, ZERO)
        return remit_claim(
            claim,
            status=STATUS_DENIED,
            payer_claim_number=payer_claim_number,
            adjustments=[
                Adjustment(reason.group, reason.reason, base),
                _prior_payer_adjustment(charge, base),
            ],
            charge=charge,
        )
    remarks = (remark,) if remark else ()
    lines = [
        _line(
            line,
            paid=ZERO,
            allowed=ZERO,
            adjustments=[
                _prior_payer_adjustment(line.charge, base),
                Adjustment(reason.group, reason.reason, base),
            ],
            remarks=remarks if base else (),
        )
        for line, base in zip(source.lines, bases, strict=True)
    ]
    return remit_claim(
        claim, status=STATUS_DENIED, payer_claim_number=payer_claim_number, lines=lines
    )


def _secondary_coinsurance(claim: SubmittedClaim, seed: int, config: SimConfig) -> Decimal:
    """The secondary payer's own cost sharing: a percent of the base (0 for Medicaid)."""
    key = claim.key
    if plan_kind(claim.claim.claim_filing_indicator) is PlanKind.MEDICAID:
        return ZERO
    if not draws.chance(config.secondary_coinsurance_rate, seed, key, "secondary-coinsurance"):
        return ZERO
    return draws.pick(config.secondary_coinsurance_percents, seed, key, "secondary-percent")


def adjudicate_secondary(
    claim: SubmittedClaim,
    *,
    seed: int,
    config: SimConfig,
    numbers: ClaimNumbers,
    duplicate: bool = False,
) -> Adjudication:
    """A secondary (or tertiary) payer's answer for one accepted claim (module docstring,
    rules 6-8): one CLP, never reversed, split or taken back."""
    key = claim.key
    pended = draws.chance(config.pended_claim_rate, seed, key, "pend")
    number = numbers(key, 0)
    source = claim.claim
    bases = secondary_bases(source)
    if bases is None:
        reason = DUPLICATE_DENIAL if duplicate else NO_PRIOR_PAYMENT_DENIAL
        denied = deny(claim, reason, number, "MA04" if not duplicate else "")
        return Adjudication(claim, OUTCOME_DENIED, (denied,), pended=pended)
    if duplicate:
        denied = deny_secondary(claim, DUPLICATE_DENIAL, number, bases)
        return Adjudication(claim, OUTCOME_DENIED, (denied,), pended=pended)
    if draws.unit(seed, key, "outcome") < config.claim_denial_rate:
        reasons = config.denial_reasons
        reason = draws.pick_weighted(reasons, [r.weight for r in reasons], seed, key, "denial")
        remark = draws.pick(reason.remarks, seed, key, "remark") if reason.remarks else ""
        denied = deny_secondary(claim, reason, number, bases, remark)
        return Adjudication(claim, OUTCOME_DENIED, (denied,), pended=pended)

    status = _processed_status(claim)
    percent = _secondary_coinsurance(claim, seed, config)
    if not source.lines:
        (base,) = bases
        coinsurance = cents(base * percent / HUNDRED)
        final = remit_claim(
            claim,
            status=status,
            payer_claim_number=number,
            adjustments=[
                _prior_payer_adjustment(source.total_charge, base),
                Adjustment("PR", "2", coinsurance),
            ],
            charge=source.total_charge,
        )
    else:
        lines = []
        for line, base in zip(source.lines, bases, strict=True):
            coinsurance = cents(base * percent / HUNDRED)
            lines.append(
                _line(
                    line,
                    paid=base - coinsurance,
                    allowed=base,
                    adjustments=[
                        _prior_payer_adjustment(line.charge, base),
                        Adjustment("PR", "2", coinsurance),
                    ],
                )
            )
        final = remit_claim(claim, status=status, payer_claim_number=number, lines=lines)
    interest = _interest(final.paid, pended, seed, key, config)
    return Adjudication(claim, OUTCOME_PAID, (final,), pended=pended, interest=interest)
