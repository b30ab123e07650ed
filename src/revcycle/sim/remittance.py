"""What a simulated payer's 835 says: claim payments (CLP), service lines (SVC), adjustments
(CAS), provider-level adjustments (PLB) and payments (one BPR/TRN each).

Amounts are built so that every identity the 835 guide and ``docs/x12.md`` name holds by
construction (line: SVC02 - CAS = SVC03; claim: CLP03 - CAS = CLP04, CLP05 = PR total;
payment: BPR02 = sum CLP04 - sum PLB); :meth:`RemitClaim.check` and :meth:`Payment.check`
assert it anyway before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from revcycle.sim.inbound import PayerParty, PersonName, Provider

ZERO = Decimal("0.00")

STATUS_PRIMARY = "1"
STATUS_DENIED = "4"
STATUS_REVERSAL = "22"


class UnbalancedRemittanceError(AssertionError):
    """A remittance the simulation built does not balance: a bug in the simulation."""


class Adjustment(NamedTuple):
    """One CAS reason and amount (a named tuple: millions are made in a night's run)."""

    group: str  # CO, OA, PI, PR
    reason: str  # CARC
    amount: Decimal  # positive reduces payment


@dataclass(frozen=True)
class RemitLine:
    procedure_qualifier: str  # HC, or NU for a revenue code alone
    procedure_code: str
    modifiers: tuple[str, ...]
    revenue_code: str | None  # SVC04 (837I lines that have a HCPCS too)
    charge: Decimal
    paid: Decimal
    allowed: Decimal  # AMT*B6
    units: Decimal | None
    service_date: date | None
    service_date_end: date | None
    line_control_number: str | None  # REF*6R, echoed from the 837
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE

    def check(self, claim_id: str) -> None:
        if self.charge - sum((a.amount for a in self.adjustments), ZERO) != self.paid:
            raise UnbalancedRemittanceError(f"claim {claim_id}: a service line does not balance")


@dataclass(frozen=True)
class RemitClaim:
    """One CLP (2100 loop) and its service lines."""

    claim_id: str  # CLP01
    status: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05
    filing_indicator: str  # CLP06
    payer_claim_number: str  # CLP07
    facility_code: str  # CLP08
    frequency_code: str  # CLP09
    patient: PersonName = field(repr=False)
    subscriber: PersonName = field(repr=False)
    member_id: str = field(repr=False)
    patient_is_subscriber: bool
    statement_from: date | None
    statement_to: date | None
    received: date | None
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    lines: tuple[RemitLine, ...] = ()

    def all_adjustments(self) -> list[Adjustment]:
        found = list(self.adjustments)
        for line in self.lines:
            found.extend(line.adjustments)
        return found

    def check(self) -> None:
        # One pass over the claim's and its lines' adjustments (every 835 claim is checked):
        # each line first, in order, then the claim's totals.
        adjusted = owed = ZERO
        for adjustment in self.adjustments:
            adjusted += adjustment.amount
            if adjustment.group == "PR":
                owed += adjustment.amount
        line_charges = ZERO
        for line in self.lines:
            line_adjusted = ZERO
            for adjustment in line.adjustments:
                line_adjusted += adjustment.amount
                if adjustment.group == "PR":
                    owed += adjustment.amount
            if line.charge - line_adjusted != line.paid:
                raise UnbalancedRemittanceError(
                    f"claim {self.claim_id}: a service line does not balance"
                )
            adjusted += line_adjusted
            line_charges += line.charge
        if self.charge - adjusted != self.paid:
            raise UnbalancedRemittanceError(f"claim {self.claim_id}: CLP03 - CAS != CLP04")
        if owed != self.patient_responsibility:
            raise UnbalancedRemittanceError(f"claim {self.claim_id}: CLP05 != PR adjustments")
        if self.lines and line_charges != self.charge:
            raise UnbalancedRemittanceError(f"claim {self.claim_id}: CLP03 != sum of SVC02")

    def reversed(self) -> RemitClaim:
        """The reversal of this payment: CLP02 22, same CLP07, every amount negated, the
        reason codes kept."""
        return replace(
            self,
            status=STATUS_REVERSAL,
            charge=-self.charge,
            paid=-self.paid,
            patient_responsibility=-self.patient_responsibility,
            adjustments=_negated(self.adjustments),
            lines=tuple(
                replace(
                    line,
                    charge=-line.charge,
                    paid=-line.paid,
                    allowed=-line.allowed,
                    adjustments=_negated(line.adjustments),
                )
                for line in self.lines
            ),
        )


def _negated(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group, a.reason, -a.amount) for a in adjustments)


@dataclass(frozen=True, slots=True)
class RenderedClaim:
    """A checked :class:`RemitClaim` already written as its 2100 loop (CLP to the last
    2110 segment), with the totals a payment needs. A run holds one per claim until its
    835s are written: a few hundred characters instead of the claim's objects (names,
    lines, adjustments) and the 837 claim they came from."""

    claim_id: str  # CLP01, as the RemitClaim had it
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05
    text: str  # the segments, each ending in "~\n"
    segment_count: int
    late_number: bool = False  # CLP07 is a placeholder resolved when the 835 is written

    def check(self) -> None:
        """Checked when rendered (:func:`revcycle.sim.writer_835.render_claim`)."""


ClaimPayment = RemitClaim | RenderedClaim
"""What a payment carries per CLP: the claim, or the claim already written."""


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB reason/amount pair. A positive amount reduces the payment (a takeback, ``WO``);
    a negative one increases it (interest, ``L6``)."""

    reason: str  # PLB03-1: WO, L6, FB ...
    reference: str  # PLB03-2: the claim's CLP07 for WO and L6
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """One 835 transaction: one check or EFT to one payee."""

    payer: PayerParty
    payer_tin: str  # 9 digits; TRN03 is "1" + TIN
    payee: Provider
    method: str  # ACH, CHK or NON (nothing paid)
    trace_number: str  # TRN02
    payment_date: date  # BPR16
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()

    @property
    def amount(self) -> Decimal:
        """BPR02: what the claims pay less the provider-level adjustments."""
        paid = sum((c.paid for c in self.claims), ZERO)
        return paid - sum((p.amount for p in self.provider_adjustments), ZERO)

    def check(self) -> None:
        for claim in self.claims:
            claim.check()
        if self.amount < 0:
            raise UnbalancedRemittanceError(f"payment {self.trace_number} would be negative")
