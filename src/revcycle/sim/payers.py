"""How the simulated payers pay: adjudications into payments (checks and EFTs), payments into
835 deliveries.

Each payer sends up to two deliveries per run:

- the *first* 835: claims adjudicated straight away, the first (wrong) payment of claims that
  will be reversed, reversals for voids and replacements;
- the *follow-up* 835: pended claims (with interest, PLB L6), reversals followed by the
  corrected payment (CLP02 22 then the new CLP), takebacks of overpaid claims (PLB WO).

Inside a delivery, payments (one 835 transaction each) are per payee (billing NPI), in
chunks of at most ``claims_per_payment`` claims, claims sorted by claim id. A payment whose
claims pay less than its provider-level adjustments take would be negative: the payer pays
0 and forwards the balance (PLB ``FB`` with a negative amount), recovering it from the
payee's next payment (PLB ``FB``, positive). Payment method per payer: check or EFT
(``check_payment_rate``); a payment of 0 is a notification (``BPR*H``, ``NON``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, field
from datetime import date
from typing import NamedTuple

from revcycle.sim import draws
from revcycle.sim.adjudicate import Adjudication
from revcycle.sim.config import SimConfig
from revcycle.sim.envelope import ReplyEnvelope
from revcycle.sim.inbound import PayerParty, Provider
from revcycle.sim.remittance import ZERO, ClaimPayment, Payment, ProviderAdjustment
from revcycle.sim.state import SimState

FIRST = 0
FOLLOW_UP = 1


@dataclass(frozen=True)
class PaymentItem:
    """What one claim puts into one of its payer's deliveries."""

    envelope: ReplyEnvelope  # who the 835 goes to (the 837's sender)
    payer: PayerParty
    payee: Provider
    cycle: int  # FIRST or FOLLOW_UP
    claim_id: str
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One 835 file's worth: a payer's payments of one cycle."""

    envelope: ReplyEnvelope
    payer: PayerParty
    cycle: int
    payments: tuple[Payment, ...]


def items_for(adjudication: Adjudication, envelope: ReplyEnvelope) -> list[PaymentItem]:
    """Where the parts of one adjudication go (see the module docstring)."""
    claim = adjudication.submitted
    payer, payee, claim_id = claim.payer, claim.billing, claim.claim_id
    final = adjudication.final
    reference = final[0].payer_claim_number
    items: list[PaymentItem] = []
    if adjudication.superseded is not None:
        wrong = adjudication.superseded
        items.append(PaymentItem(envelope, payer, payee, FIRST, claim_id, (wrong,)))
        items.append(
            PaymentItem(envelope, payer, payee, FOLLOW_UP, claim_id, (wrong.reversed(), *final))
        )
    else:
        cycle = FOLLOW_UP if adjudication.pended else FIRST
        interest = (
            (ProviderAdjustment("L6", reference, -adjudication.interest),)
            if adjudication.interest
            else ()
        )
        items.append(PaymentItem(envelope, payer, payee, cycle, claim_id, final, interest))
    if adjudication.takeback:
        items.append(
            PaymentItem(
                envelope,
                payer,
                payee,
                FOLLOW_UP,
                claim_id,
                provider_adjustments=(ProviderAdjustment("WO", reference, adjudication.takeback),),
            )
        )
    return items


def _as_is(claim: ClaimPayment) -> ClaimPayment:
    return claim


def payer_tin(payer_id: str) -> str:
    """A made-up, stable 9-digit tax id for a payer (TRN03 is "1" + TIN)."""
    return draws.digits(9, 0, "payer-tin", payer_id)


_DeliveryKey = tuple[str, ReplyEnvelope]  # payer id, where the 835 goes


class _Entry(NamedTuple):
    """What a payment needs of a :class:`PaymentItem` (its payer, payee and envelope are
    kept once per group)."""

    claim_id: str
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]


@dataclass
class _Open:
    payee: Provider
    entries: list[_Entry] = field(default_factory=list)


MAX_PROVIDER_ADJUSTMENTS = 5
"""PLB pairs a payment takes from its claims: six fit in one PLB segment and pyx12 4.0.0
reads a second PLB as a second (forbidden) footer loop, so a payment keeps to one PLB; the
sixth pair is kept for a forwarded balance (FB)."""


def _chunks(entries: Sequence[_Entry], size: int) -> Iterable[Sequence[_Entry]]:
    """Chunks of at most ``size`` claims and :data:`MAX_PROVIDER_ADJUSTMENTS` PLB pairs."""
    chunk: list[_Entry] = []
    claims = pairs = 0
    for entry in entries:
        more_claims = claims + (1 if entry.claims else 0)
        more_pairs = pairs + len(entry.provider_adjustments)
        if chunk and (more_claims > size or more_pairs > MAX_PROVIDER_ADJUSTMENTS):
            yield chunk
            chunk, claims, pairs = [], 0, 0
        chunk.append(entry)
        claims += 1 if entry.claims else 0
        pairs += len(entry.provider_adjustments)
    if chunk:
        yield chunk


class PaymentBook:
    """Payment items filed, as they come, by delivery (payer and envelope), cycle and payee;
    :meth:`deliveries` turns them into payments once every claim of the run is in.

    A run files each claim's items as soon as it is adjudicated, so it holds these (claims
    usually already written, :class:`~revcycle.sim.remittance.RenderedClaim`) rather than
    the claims it read."""

    def __init__(self) -> None:
        self._by_payer: dict[_DeliveryKey, dict[int, dict[str, _Open]]] = {}
        self._parties: dict[str, PayerParty] = {}

    def add(self, item: PaymentItem, claims: tuple[ClaimPayment, ...] | None = None) -> None:
        """File ``item``, with ``claims`` in place of its own when given (the same claims,
        written: :func:`~revcycle.sim.writer_835.render_claim`)."""
        payer_id = item.payer.payer_id
        self._parties.setdefault(payer_id, item.payer)
        cycles = self._by_payer.setdefault((payer_id, item.envelope), {})
        payees = cycles.setdefault(item.cycle, {})
        group = payees.get(item.payee.npi)
        if group is None:
            group = payees[item.payee.npi] = _Open(item.payee)
        claims = item.claims if claims is None else claims
        group.entries.append(_Entry(item.claim_id, claims, item.provider_adjustments))

    def deliveries(
        self,
        *,
        seed: int,
        config: SimConfig,
        today: date,
        state: SimState,
        finish: Callable[[ClaimPayment], ClaimPayment] = _as_is,
    ) -> Iterator[Delivery]:
        """Deliveries (payer, then cycle), payments and balances, emptying the book as it
        goes. ``finish`` is applied to every claim as it goes into a payment.

        Trace numbers and forwarded balances come from and go to ``state``."""
        for key in sorted(self._by_payer, key=lambda k: (k[0], astuple(k[1]))):
            payer_id, envelope = key
            payer = self._parties[payer_id]
            by_check = draws.chance(config.check_payment_rate, seed, "payment-method", payer_id)
            cycles = self._by_payer.pop(key)
            for cycle in sorted(cycles):
                payments: list[Payment] = []
                payees = cycles[cycle]
                for npi in sorted(payees):
                    group = payees[npi]
                    ordered = sorted(group.entries, key=lambda e: (e.claim_id, not e.claims))
                    for chunk in _chunks(ordered, config.claims_per_payment):
                        payments.append(
                            _payment(
                                payer,
                                group.payee,
                                chunk,
                                by_check=by_check,
                                today=today,
                                state=state,
                                finish=finish,
                            )
                        )
                yield Delivery(envelope, payer, cycle, tuple(payments))


def _payment(
    payer: PayerParty,
    payee: Provider,
    chunk: Sequence[_Entry],
    *,
    by_check: bool,
    today: date,
    state: SimState,
    finish: Callable[[ClaimPayment], ClaimPayment],
) -> Payment:
    claims = tuple(finish(c) for entry in chunk for c in entry.claims)
    adjustments = [p for entry in chunk for p in entry.provider_adjustments]
    serial = state.take_trace_number()
    trace = f"{serial:010d}" if by_check else f"{serial:015d}"
    net = sum((c.paid for c in claims), ZERO) - sum((p.amount for p in adjustments), ZERO)
    key = f"{payer.payer_id}|{payee.npi}"
    owed, reference = state.balances_forward.get(key, (ZERO, ""))
    if net > 0 and owed > 0:
        recovered = min(net, owed)
        adjustments.append(ProviderAdjustment("FB", reference, recovered))
        owed -= recovered
        net -= recovered
    elif net < 0:
        adjustments.append(ProviderAdjustment("FB", trace, net))
        owed, reference = owed - net, reference or trace
        net = ZERO
    if owed > 0:
        state.balances_forward[key] = (owed, reference)
    else:
        state.balances_forward.pop(key, None)
    method = "NON" if net == 0 else ("CHK" if by_check else "ACH")
    return Payment(
        payer=payer,
        payer_tin=payer_tin(payer.payer_id),
        payee=payee,
        method=method,
        trace_number=trace,
        payment_date=today,
        claims=claims,
        provider_adjustments=tuple(adjustments),
    )
