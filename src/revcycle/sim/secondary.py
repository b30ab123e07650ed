"""What a simulated secondary payer considers on a coordination-of-benefits claim.

A claim sent to a secondary (2000B SBR01 ``S``) or tertiary (``T``) payer carries the
adjudication of the payer before it: 2320/2330 loops (claim-level CAS, ``AMT*D`` paid,
``AMT*EAF`` remaining patient liability) and 2430 loops (``SVD`` line paid, line CAS), read by
:mod:`revcycle.x12.read_837`. A secondary payer looks only at what the prior payer left the
patient to pay; everything else on the line is the impact of prior payer adjudication (CARC
23). Per line:

- the *prior payer* is the other payer one rank before the claim's (``P`` for a secondary
  claim, ``S`` for a tertiary one); when no 2320 has that rank, the last one listed;
- its line adjudications are the 2430 loops whose SVD01 is that payer's 2330B NM109; when none
  match (an id spelled differently), the line's last 2430 loop;
- the *base* = the PR amounts of those line adjudications + a share of the prior payer's
  claim-level PR CAS, split over the lines in proportion to their charges (to the cent, the
  shares add up to the total exactly), kept from 0 to the line charge.

A claim carries no usable COB data when there is no 2320 loop with payment information (no
``AMT*D`` and no CAS) and no 2430 loop at all: :func:`secondary_bases` returns ``None`` and
the payer denies it (CO-16, RARC MA04).

Pure functions, no I/O, no draws: the payment rules are in :mod:`revcycle.sim.adjudicate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from revcycle.x12.read_837 import Claim837, LineAdjudication837, OtherPayer837

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# The rank of the payer whose adjudication a claim of each rank follows.
_PRIOR_RANK = {"S": "P", "T": "S"}


def prior_payer(claim: Claim837) -> OtherPayer837 | None:
    """The other payer (2320/2330) whose adjudication this claim's payer follows."""
    if not claim.other_payers:
        return None
    rank = _PRIOR_RANK.get(claim.payer_responsibility, "P")
    for other in claim.other_payers:
        if other.responsibility == rank:
            return other
    return claim.other_payers[-1]


def _has_payment_information(other: OtherPayer837 | None) -> bool:
    return other is not None and (other.paid is not None or bool(other.adjustments))


def _prior_line_adjudications(
    adjudications: Sequence[LineAdjudication837], payer_id: str | None
) -> Sequence[LineAdjudication837]:
    matching = [a for a in adjudications if a.payer_id == payer_id]
    return matching or adjudications[-1:]


def proportional_shares(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``total`` split in proportion to ``weights``, to the cent (half up, cumulative, so the
    shares add up to ``total`` rounded to the cent). All zero when the weights are."""
    whole = sum(weights, ZERO)
    if total == 0 or whole <= 0:
        return [ZERO for _ in weights]
    shares: list[Decimal] = []
    running = given = ZERO
    for weight in weights:
        running += weight
        upto = (total * running / whole).quantize(CENT, rounding=ROUND_HALF_UP)
        shares.append(upto - given)
        given = upto
    return shares


def secondary_bases(claim: Claim837) -> list[Decimal] | None:
    """Per service line, what the prior payer left the patient to pay (the amount the
    secondary payer considers); ``None`` when the claim carries no COB data to go on.

    A claim without service lines gets one base for the whole claim (the prior payer's
    claim-level PR, kept from 0 to the total charge).
    """
    prior = prior_payer(claim)
    has_line_data = any(line.line_adjudications for line in claim.lines)
    if not has_line_data and not _has_payment_information(prior):
        return None
    claim_level = prior.patient_responsibility if prior is not None else ZERO
    if not claim.lines:
        return [min(max(claim_level, ZERO), claim.total_charge)]
    payer_id = prior.payer_id if prior is not None else None
    shares = proportional_shares(claim_level, [line.charge for line in claim.lines])
    bases: list[Decimal] = []
    for line, share in zip(claim.lines, shares, strict=True):
        owed = sum(
            (
                a.patient_responsibility
                for a in _prior_line_adjudications(line.line_adjudications, payer_id)
            ),
            ZERO,
        )
        bases.append(min(max(owed + share, ZERO), line.charge))
    return bases
