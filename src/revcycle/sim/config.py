"""How the simulated clearinghouse and payers behave: every rate and code mix in one place.

Everything here describes the *simulated outside world* (``revcycle.sim``), not our billing
rules. Rates are probabilities (``float``, 0 to 1) applied with deterministic draws
(:mod:`revcycle.sim.draws`); money and percentages are ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal


@dataclass(frozen=True)
class DenialReason:
    """One denial the payers use: CAS group and CARC, an optional RARC (LQ*HE) and whether
    the payer denies the whole claim without looking at its lines (``claim_level``: a claim
    CAS and no 2110 loops) or line by line (a line CAS on every SVC)."""

    group: str
    reason: str
    weight: int
    remarks: tuple[str, ...] = ()  # one is chosen per denied claim
    claim_level: bool = False


DEFAULT_DENIAL_REASONS: tuple[DenialReason, ...] = (
    # 16 claim lacks information: always with a RARC saying what is missing.
    DenialReason("CO", "16", 24, remarks=("M76", "N290", "MA130")),
    DenialReason("CO", "18", 10, claim_level=True),  # exact duplicate claim
    DenialReason("CO", "29", 8, claim_level=True),  # timely filing limit expired
    DenialReason("CO", "50", 15),  # not medically necessary
    DenialReason("CO", "197", 14, remarks=("N54",)),  # precertification absent
    DenialReason("PR", "96", 12, remarks=("N130",)),  # non-covered: the patient owes it
    DenialReason("CO", "109", 7, claim_level=True),  # not covered by this payer
)
"""Denial mix (weights are relative). CO-97 bundling is not here: it is a line-level
adjustment on paid claims (``line_bundling_rate``)."""


@dataclass(frozen=True)
class ClaimRejection:
    """A 277CA claim rejection: STC01 category, status code, entity and a short message."""

    category: str
    status: str
    entity: str
    weight: int
    message: str


DEFAULT_CLAIM_REJECTIONS: tuple[ClaimRejection, ...] = (
    ClaimRejection("A3", "164", "IL", 40, "SUBSCRIBER ID NOT FOUND"),
    ClaimRejection("A3", "21", "", 25, "MISSING OR INVALID INFORMATION"),
    ClaimRejection("A3", "562", "85", 20, "BILLING PROVIDER NPI NOT ON FILE"),
    ClaimRejection("A3", "187", "", 15, "DATES OF SERVICE OUTSIDE COVERAGE"),
)
"""277CA rejection mix for the random front-end rejections (weights are relative)."""

UNKNOWN_PAYER_REJECTION = ClaimRejection("A3", "116", "", 1, "PAYER NOT SERVED BY THIS ROUTE")
"""Claims for a payer id the simulation has no fee schedule for."""

UNKNOWN_ORIGINAL_REJECTION = ClaimRejection(
    "A7", "21", "", 1, "ORIGINAL PAYER CLAIM CONTROL NUMBER NOT FOUND"
)
"""Replacements (7) and voids (8) whose REF*F8 names no current adjudication."""


@dataclass(frozen=True)
class SimConfig:
    """Rates and amounts of the simulated clearinghouse and payers.

    Acknowledgments (clearinghouse):

    - ``rejected_interchange_rate`` 0.02: share of 837 interchanges the 999 rejects (every
      transaction IK5 ``R`` with an IK3/IK4 naming a pretend bad element); their claims get
      no 277CA and no 835.
    - ``claim_reject_rate`` 0.03: share of claims of accepted transactions the 277CA rejects
      (STC ``A3``, mix ``claim_rejections``); rejected claims get no 835.

    Adjudication (payers; every claim accepted by the 277CA gets exactly one final answer):

    - ``claim_denial_rate`` 0.08: whole claim denied, CLP02 4, paid 0, reason from
      ``denial_reasons``.
    - ``zero_pay_deductible_rate`` 0.04: processed but nothing paid, the whole allowed amount
      goes to the deductible (CLP02 1, CLP04 0, PR-1). Not for Medicaid (``MC``).
    - ``line_bundling_rate`` 0.04: each line after the first of a paid claim is bundled
      (CO-97, paid 0, RARC M15).
    - ``partial_line_rate`` 0.03: each paid line is reduced by half of its allowed amount
      (CO-59, multiple-procedure rule).
    - ``deductible_rate`` 0.15: a paid Medicare or commercial claim meets some deductible
      (PR-1, one of ``deductible_amounts``, at most the allowed amount).
    - ``copay_rate`` 0.5: a paid commercial professional claim has a copay on its first line
      (PR-3, one of ``copay_amounts``); HMO (``HM``) claims always have one.
    - coinsurance (PR-2): Medicare ``medicare_coinsurance_percent`` (20), commercial one of
      ``coinsurance_percents``; none for HMO and Medicaid.

    Secondary and tertiary claims (SBR01 ``S``/``T``; see :mod:`revcycle.sim.adjudicate`):
    the payer considers what the prior payer left the patient to pay (the base) and reports
    the rest as OA-23. They are denied at ``claim_denial_rate`` like any claim (the denial
    covering the base) and otherwise paid without a fee schedule: Medicaid pays the whole
    base; Medicare, commercial and HMO secondaries leave a PR-2 coinsurance of one of
    ``secondary_coinsurance_percents`` (10 or 20) of the base on ``secondary_coinsurance_rate``
    (0.5) of their claims and pay the rest. A secondary claim without any COB data is denied
    CO-16 with RARC MA04.

    Payment events:

    - ``reversal_rate`` 0.02: a paid claim is first paid from an outdated fee schedule
      (``reversal_fee_error_percent`` lower), then reversed (CLP02 22, same CLP07, negated
      amounts) and paid again correctly (new CLP07) in the payer's follow-up 835.
    - ``split_claim_rate`` 0.02: a paid claim with two or more lines is answered by two CLPs
      (different CLP07), its lines split between them.
    - ``pended_claim_rate`` 0.10: the claim is adjudicated in the payer's follow-up 835
      rather than the first one.
    - ``interest_rate`` 0.25: a pended claim that is paid earns prompt-pay interest (PLB
      ``L6``, negative amount, 0.5-2 % of the payment, reference CLP07).
    - ``takeback_rate`` 0.01: part (10-50 %) of a claim's payment is recovered in the
      follow-up 835 (PLB ``WO``, positive amount, reference CLP07 of that claim).
    - ``duplicate_delivery_rate`` 0.05: an 835 file is delivered twice (byte-identical copy
      under another name).
    - ``check_payment_rate`` 0.25: share of payers that pay by check (``CHK``), the others
      by EFT (``ACH``); a transaction paying nothing is a notification (``H``/``NON``).
    - ``claims_per_payment`` 40: at most this many claims per 835 transaction (one check or
      EFT); a payer's claims are split by payee (billing NPI), then in chunks of this size
      (and of at most five PLB pairs, so that one PLB segment carries them all).

    A payment that would be negative (takebacks larger than what it pays) pays 0 and
    forwards the balance (PLB ``FB``), recovered from the payee's next payments.

    Eligibility (271 answers to our 270 inquiries; :mod:`revcycle.sim.eligibility`). The
    answer about a coverage depends on the seed, the payer and the member id only, so asking
    again gives the same answer:

    - ``eligibility_inactive_rate`` 0.03: the payer reports the coverage inactive (``EB*6``);
      so does every member id listed in ``eligibility_inactive_member_ids`` (for tests and
      demos that need one particular coverage to be inactive).
    - otherwise active (``EB*1``) with the deductible remaining this year (``EB*C``, time
      period 29, one of ``eligibility_deductible_remaining_amounts``), an office visit copay
      (``EB*B``, one of ``copay_amounts``) and coinsurance (``EB*A``, one of
      ``coinsurance_percents``).
    - ``eligibility_out_of_network_rate`` 0.05: share of (payer, billing provider NPI) pairs
      outside the payer's network: the copay, coinsurance and deductible come with ``EB12``
      ``N`` and the coinsurance is ``eligibility_out_of_network_coinsurance_percent`` (40);
      in network they come with ``EB12`` ``Y``.
    """

    rejected_interchange_rate: float = 0.02
    claim_reject_rate: float = 0.03
    claim_denial_rate: float = 0.08
    zero_pay_deductible_rate: float = 0.04
    line_bundling_rate: float = 0.04
    partial_line_rate: float = 0.03
    deductible_rate: float = 0.15
    copay_rate: float = 0.5
    reversal_rate: float = 0.02
    split_claim_rate: float = 0.02
    pended_claim_rate: float = 0.10
    interest_rate: float = 0.25
    takeback_rate: float = 0.01
    duplicate_delivery_rate: float = 0.05
    check_payment_rate: float = 0.25
    claims_per_payment: int = 40
    reversal_fee_error_percent: Decimal = Decimal("10")
    medicare_coinsurance_percent: Decimal = Decimal("20")
    coinsurance_percents: tuple[Decimal, ...] = (Decimal("10"), Decimal("20"), Decimal("30"))
    deductible_amounts: tuple[Decimal, ...] = (
        Decimal("50.00"),
        Decimal("100.00"),
        Decimal("250.00"),
        Decimal("500.00"),
    )
    copay_amounts: tuple[Decimal, ...] = (
        Decimal("20.00"),
        Decimal("25.00"),
        Decimal("30.00"),
        Decimal("40.00"),
    )
    secondary_coinsurance_rate: float = 0.5
    secondary_coinsurance_percents: tuple[Decimal, ...] = (Decimal("10"), Decimal("20"))
    denial_reasons: tuple[DenialReason, ...] = DEFAULT_DENIAL_REASONS
    claim_rejections: tuple[ClaimRejection, ...] = DEFAULT_CLAIM_REJECTIONS
    eligibility_inactive_rate: float = 0.03
    eligibility_out_of_network_rate: float = 0.05
    eligibility_inactive_member_ids: tuple[str, ...] = ()
    eligibility_deductible_remaining_amounts: tuple[Decimal, ...] = (
        Decimal("0.00"),
        Decimal("150.00"),
        Decimal("500.00"),
        Decimal("1250.00"),
    )
    eligibility_out_of_network_coinsurance_percent: Decimal = Decimal("40")

    def __post_init__(self) -> None:
        for item in fields(self):
            if item.name.endswith("_rate"):
                value = getattr(self, item.name)
                if not isinstance(value, int | float) or not 0 <= value <= 1:
                    raise ValueError(f"{item.name} must be a probability from 0 to 1")
        if self.claims_per_payment < 1:
            raise ValueError("claims_per_payment must be at least 1")
        if not self.denial_reasons or sum(r.weight for r in self.denial_reasons) <= 0:
            raise ValueError("denial_reasons needs at least one reason with a weight")
        if not self.claim_rejections or sum(r.weight for r in self.claim_rejections) <= 0:
            raise ValueError("claim_rejections needs at least one rejection with a weight")
        if not self.coinsurance_percents or not self.deductible_amounts or not self.copay_amounts:
            raise ValueError(
                "coinsurance_percents, deductible_amounts and copay_amounts need values"
            )
        if not self.secondary_coinsurance_percents or not all(
            Decimal(0) <= p <= Decimal(100) for p in self.secondary_coinsurance_percents
        ):
            raise ValueError("secondary_coinsurance_percents need values from 0 to 100")
        if not self.eligibility_deductible_remaining_amounts or any(
            a < 0 for a in self.eligibility_deductible_remaining_amounts
        ):
            raise ValueError("eligibility_deductible_remaining_amounts need amounts of 0 or more")
        if not Decimal(0) <= self.eligibility_out_of_network_coinsurance_percent <= Decimal(100):
            raise ValueError("eligibility_out_of_network_coinsurance_percent must be 0 to 100")
        if not Decimal(0) <= self.reversal_fee_error_percent < Decimal(100):
            raise ValueError("reversal_fee_error_percent must be from 0 to below 100")
