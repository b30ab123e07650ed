"""The simulated clearinghouse: answers the 837 outbox with 999s, 277CAs and 835s.

:func:`answer_outbox` is what the flow and ``revcycle sim`` call. One run:

1. reads every ``*.x12`` file of the outbox it has not answered before (names recorded in
   ``<inbox>/.sim_state.json``; a file is never answered twice, and a file that is not X12 at
   all is recorded as unreadable and left alone);
2. acknowledges each interchange with a 999 (``inbox/999/``): ``rejected_interchange_rate``
   of them are rejected (each transaction IK5 R with a pretend bad element), and so is any
   transaction whose claims cannot be read;
3. answers each accepted 837 transaction with a 277CA (``inbox/277ca/``): claims for a
   payer without a fee schedule, replacements/voids of unknown originals and
   ``claim_reject_rate`` of the others are rejected; accepted claims get the payer claim
   control number their 835 will carry;
4. adjudicates the claims each 277CA accepted (:mod:`revcycle.sim.adjudicate`) right after it,
   and files their payments (:mod:`revcycle.sim.payers`), each claim's 835 loop already
   written: the run keeps that text and the ledger, not the claims it read;
5. once every file is read, delivers the payments per payer as 835 files (``inbox/835/``),
   some delivered twice;
6. saves its state.

Streaming changes no byte: the 277CAs judge replacements and voids by the ledger as it was
loaded, and a claim's second payer claim number (reversal, split) is drawn after every
file's first numbers, as when every file was acknowledged before any claim was adjudicated.

Files are written atomically (temp file + ``os.replace``) with owner-only permissions. The
state is saved last: if a run dies half way, the next run answers the same files again with
the same control numbers and, for the same seed, the same bytes, so nothing is duplicated.
The same seed, state and outbox give byte-identical output.

Logs carry counts, file names and claim ids, never patient names, birth dates or member ids.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from revcycle.gc_pause import gc_paused
from revcycle.sim import draws
from revcycle.sim.adjudicate import (
    OUTCOME_DENIED,
    OUTCOME_PAID,
    OUTCOME_ZERO_PAY,
    Adjudication,
    adjudicate,
)
from revcycle.sim.config import (
    UNKNOWN_ORIGINAL_REJECTION,
    UNKNOWN_PAYER_REJECTION,
    ClaimRejection,
    SimConfig,
)
from revcycle.sim.envelope import ReplyEnvelope, reply_envelope
from revcycle.sim.inbound import (
    SubmittedClaim,
    SubmittedInterchange,
    SubmittedTransaction,
    read_submission,
)
from revcycle.sim.payers import FIRST, Delivery, PaymentBook, PaymentItem, items_for
from revcycle.sim.remittance import (
    STATUS_REVERSAL,
    ZERO,
    Adjustment,
    ClaimPayment,
    RemitClaim,
)
from revcycle.sim.state import (
    LedgerRecord,
    SimState,
    load_state,
    locked,
    save_state,
    write_atomic,
)
from revcycle.sim.writer_277ca import ClaimStatus, TransactionStatus, write_277ca
from revcycle.sim.writer_835 import render_claim, write_835
from revcycle.sim.writer_999 import ElementError, GroupAck, TransactionAck, write_999
from revcycle.x12.reader import X12ReadError
from revcycle.x12.text import clean_id

log = logging.getLogger(__name__)

KIND_999 = "999"
KIND_277CA = "277ca"
KIND_835 = "835"
INBOX_MODE = 0o700

# Times of day on the replies (the simulation only knows the date it runs for).
_ACK_TIME = time(6, 0)
_CLAIM_ACK_TIME = time(6, 30)
_PAYMENT_TIME = time(7, 0)

FREQUENCY_REPLACEMENT = "7"
FREQUENCY_VOID = "8"


@dataclass(frozen=True)
class SimResult:
    """What one run of the simulation answered and wrote. Money is ``Decimal``.

    ``claims_paid``/``claims_zero_pay``/``claims_denied`` count the final adjudication of
    each claim (a split claim counts once); ``paid_amount`` is the sum of CLP04 over every
    835 written (reversals included, so it nets out), ``provider_adjustment_amount`` the sum
    of PLB amounts (positive reduces payment), ``payment_amount`` the sum of BPR02.
    Duplicate deliveries are listed in ``files_835_duplicates`` and counted nowhere else.
    """

    files_answered: tuple[str, ...] = ()
    files_unreadable: tuple[str, ...] = ()
    files_999: tuple[Path, ...] = ()
    files_277ca: tuple[Path, ...] = ()
    files_835: tuple[Path, ...] = ()
    files_835_duplicates: tuple[Path, ...] = ()
    interchanges_accepted: int = 0
    interchanges_rejected: int = 0
    transactions_accepted: int = 0
    transactions_rejected: int = 0
    claims_received: int = 0
    claims_in_rejected_transactions: int = 0
    claims_accepted: int = 0
    claims_rejected: int = 0
    claims_paid: int = 0
    claims_zero_pay: int = 0
    claims_denied: int = 0
    claims_pended: int = 0
    claims_secondary: int = 0  # adjudicated as a secondary or tertiary payer (SBR01 S/T)
    claims_split: int = 0
    claims_reversed: int = 0  # reversals written (in-run corrections, voids, replacements)
    voids: int = 0
    billed_amount: Decimal = ZERO  # total charge of the claims the 277CA accepted
    paid_amount: Decimal = ZERO
    patient_responsibility_amount: Decimal = ZERO
    provider_adjustment_amount: Decimal = ZERO
    payment_amount: Decimal = ZERO

    @property
    def files(self) -> dict[str, tuple[Path, ...]]:
        """Files written, per kind (``999``, ``277ca``, ``835``; duplicates with the 835s)."""
        return {
            KIND_999: self.files_999,
            KIND_277CA: self.files_277ca,
            KIND_835: self.files_835 + self.files_835_duplicates,
        }


@dataclass
class _Tally:
    files_answered: list[str] = field(default_factory=list)
    files_unreadable: list[str] = field(default_factory=list)
    files: dict[str, list[Path]] = field(
        default_factory=lambda: {KIND_999: [], KIND_277CA: [], KIND_835: [], "duplicate": []}
    )
    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def add(self, name: str, value: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def add_amount(self, name: str, value: Decimal) -> None:
        self.amounts[name] = self.amounts.get(name, ZERO) + value

    def result(self) -> SimResult:
        counts, amounts = self.counts, self.amounts
        return SimResult(
            files_answered=tuple(self.files_answered),
            files_unreadable=tuple(self.files_unreadable),
            files_999=tuple(self.files[KIND_999]),
            files_277ca=tuple(self.files[KIND_277CA]),
            files_835=tuple(self.files[KIND_835]),
            files_835_duplicates=tuple(self.files["duplicate"]),
            interchanges_accepted=counts.get("interchanges_accepted", 0),
            interchanges_rejected=counts.get("interchanges_rejected", 0),
            transactions_accepted=counts.get("transactions_accepted", 0),
            transactions_rejected=counts.get("transactions_rejected", 0),
            claims_received=counts.get("claims_received", 0),
            claims_in_rejected_transactions=counts.get("claims_in_rejected_transactions", 0),
            claims_accepted=counts.get("claims_accepted", 0),
            claims_rejected=counts.get("claims_rejected", 0),
            claims_paid=counts.get("claims_paid", 0),
            claims_zero_pay=counts.get("claims_zero_pay", 0),
            claims_denied=counts.get("claims_denied", 0),
            claims_pended=counts.get("claims_pended", 0),
            claims_secondary=counts.get("claims_secondary", 0),
            claims_split=counts.get("claims_split", 0),
            claims_reversed=counts.get("claims_reversed", 0),
            voids=counts.get("voids", 0),
            billed_amount=amounts.get("billed_amount", ZERO),
            paid_amount=amounts.get("paid_amount", ZERO),
            patient_responsibility_amount=amounts.get("patient_responsibility_amount", ZERO),
            provider_adjustment_amount=amounts.get("provider_adjustment_amount", ZERO),
            payment_amount=amounts.get("payment_amount", ZERO),
        )


_PROVISIONAL = "\x00provisional-"  # never in an 837's REF*F8, never written


def _is_provisional(number: str) -> bool:
    return number.startswith(_PROVISIONAL)


class _ClaimNumbers:
    """Payer claim control numbers: 15 digits from the seed and the claim, unique within the
    ledger and the run (a collision draws again with a salt).

    A claim's first number (``n`` 0: the 277CA's REF*1K) is drawn when asked for. A later one
    (the corrected payment of a reversal, the second CLP of a split) is a provisional
    placeholder until :meth:`draw_late`, once every file is read: the draws, and so whatever
    a collision salts, come in the order of a run that acknowledged every claim of every file
    before adjudicating any, while the run adjudicates interchange by interchange."""

    def __init__(self, seed: int, taken: Iterator[str]) -> None:
        self.seed = seed
        self.taken = set(taken)
        self.given: dict[tuple[str, int], str] = {}
        self.late: list[tuple[str, int]] = []

    def __call__(self, key: str, n: int) -> str:
        number = self.given.get((key, n))
        if number is None:
            if n == 0:
                number = self._draw(key, n)
            else:
                number = f"{_PROVISIONAL}{len(self.late)}"
                self.late.append((key, n))
            self.given[(key, n)] = number
        return number

    def _draw(self, key: str, n: int) -> str:
        salt = 0
        while True:
            number = draws.digits(15, self.seed, "payer-claim-number", key, n, salt)
            if number not in self.taken:
                break
            salt += 1
        self.taken.add(number)
        return number

    def draw_late(self) -> dict[str, str]:
        """Draw the numbers handed out as placeholders, in the order they were asked for;
        returns placeholder -> number."""
        drawn = {
            f"{_PROVISIONAL}{index}": self._draw(key, n) for index, (key, n) in enumerate(self.late)
        }
        self.late = []
        return drawn


_OUTCOME_COUNTS = {
    OUTCOME_PAID: "claims_paid",
    OUTCOME_ZERO_PAY: "claims_zero_pay",
    OUTCOME_DENIED: "claims_denied",
}


def _safe_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value).upper() or "UNKNOWN"


class _Run:
    """One call of :func:`answer_outbox`: the state, the tallies and the writing."""

    def __init__(
        self,
        inbox_dir: Path,
        fee_schedules: Mapping[str, Decimal],
        seed: int,
        config: SimConfig,
        today: date,
        state: SimState,
    ) -> None:
        self.inbox = inbox_dir
        self.fees = fee_schedules
        self.seed = seed
        self.config = config
        self.today = today
        self.state = state
        self.tally = _Tally()
        self.numbers = _ClaimNumbers(seed, iter(state.adjudications))
        self.book = PaymentBook()
        # Payer claim number -> whether it stood when the run began, for every number the
        # run has recorded or retired: the 277CA judges replacements and voids by the ledger
        # as loaded, as if every file were acknowledged before any claim was adjudicated.
        self.stood_at_start: dict[str, bool] = {}
        # (payer id, claim id) adjudicated in this run: a secondary claim usually repeats the
        # primary claim's id, so a claim id is a duplicate only for the same payer.
        self.seen_originals: set[tuple[str, str]] = set()
        # Replies go back to whoever sent the interchange: (file, ISA13) -> envelope.
        self.envelopes: dict[tuple[str, str], ReplyEnvelope] = {}
        # ... and the 835s of each payer come from that payer: (file, ISA13, payer id).
        self.payment_envelopes: dict[tuple[str, str, str], ReplyEnvelope] = {}

    # ---------------------------------------------------------------------------- writing

    def _write(self, kind: str, name: str, text: str) -> Path:
        folder = self.inbox / kind
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(INBOX_MODE)
        path = folder / name
        write_atomic(path, text.encode("ascii"))
        return path

    # -------------------------------------------------------------------------------- 999

    def _pretend_error(
        self, interchange: SubmittedInterchange, transaction: SubmittedTransaction
    ) -> TransactionAck:
        """A rejected transaction with one plausible element error in one of its segments."""
        key = (interchange.sender_id, interchange.control_number, transaction.control_number)
        choice = draws.unit(self.seed, "999-error", *key)
        if transaction.claims and (choice < 0.5 or not transaction.service_lines):
            index = draws.pick(range(len(transaction.claims)), self.seed, "999-claim", *key)
            claim = transaction.claims[index].claim
            error = ElementError(
                segment_id="CLM",
                segment_position=transaction.clm_positions[index],
                loop_id="2300",
                element_position=5,
                component_position=3,
                element_reference="1325",
                error_code="7",
                bad_value=claim.frequency_code,
                claim_id=claim.claim_id,
            )
        elif transaction.service_lines:
            index = draws.pick(range(len(transaction.service_lines)), self.seed, "999-line", *key)
            line = transaction.service_lines[index]
            error = ElementError(
                segment_id=line.segment_id,
                segment_position=line.position_in_transaction,
                loop_id="2400",
                element_position=1 if line.segment_id == "SV1" else 2,
                component_position=2,
                element_reference="234",
                error_code="7",
                bad_value=line.procedure_code,
                claim_id=line.claim_id,
            )
        else:
            return TransactionAck(
                transaction.set_id,
                transaction.control_number,
                transaction.guide,
                accepted=False,
                segment_id_only=(("ST", 1),),
            )
        return TransactionAck(
            transaction.set_id,
            transaction.control_number,
            transaction.guide,
            accepted=False,
            errors=(error,),
        )

    def acknowledge(self, interchange: SubmittedInterchange) -> list[SubmittedTransaction]:
        """Write the 999 for ``interchange``; returns its accepted transactions."""
        rejected = draws.chance(
            self.config.rejected_interchange_rate,
            self.seed,
            "999",
            interchange.sender_id,
            interchange.control_number,
        )
        accepted: list[SubmittedTransaction] = []
        groups: list[GroupAck] = []
        for group in interchange.groups:
            acks: list[TransactionAck] = []
            for transaction in group.transactions:
                claims = len(transaction.claims)
                self.tally.add("claims_received", claims)
                if transaction.problem is not None:
                    problem = transaction.problem
                    acks.append(
                        TransactionAck(
                            transaction.set_id,
                            transaction.control_number,
                            transaction.guide,
                            accepted=False,
                            segment_id_only=(
                                (problem.segment_id, problem.position_in_transaction),
                            ),
                        )
                    )
                elif rejected:
                    acks.append(self._pretend_error(interchange, transaction))
                else:
                    acks.append(
                        TransactionAck(
                            transaction.set_id,
                            transaction.control_number,
                            transaction.guide,
                            accepted=True,
                        )
                    )
                    accepted.append(transaction)
                    self.tally.add("transactions_accepted")
                    continue
                self.tally.add("transactions_rejected")
                self.tally.add("claims_in_rejected_transactions", claims)
            groups.append(
                GroupAck(group.functional_id, group.control_number, group.version, tuple(acks))
            )
        self.tally.add("interchanges_rejected" if rejected else "interchanges_accepted")
        control = self.state.take_control_number()
        envelope = reply_envelope(interchange, interchange.groups[0])
        text = write_999(envelope, control, datetime.combine(self.today, _ACK_TIME), groups)
        name = f"999_{control:09d}_{_safe_part(interchange.control_number)}.x12"
        self.tally.files[KIND_999].append(self._write(KIND_999, name, text))
        return accepted

    # ------------------------------------------------------------------------------ 277CA

    def _rejection(self, claim: SubmittedClaim) -> ClaimRejection | None:
        source = claim.claim
        if claim.payer.payer_id not in self.fees:
            return UNKNOWN_PAYER_REJECTION
        if source.frequency_code in (
            FREQUENCY_REPLACEMENT,
            FREQUENCY_VOID,
        ) and not self._stood_at_start(source.payer_claim_number or ""):
            return UNKNOWN_ORIGINAL_REJECTION
        if draws.chance(
            self.config.claim_reject_rate,
            self.seed,
            "277ca",
            claim.key,
            claim.interchange_control_number,
        ):
            options = self.config.claim_rejections
            return draws.pick_weighted(
                options, [r.weight for r in options], self.seed, "277ca-reason", claim.key
            )
        return None

    def acknowledge_claims(
        self, interchange: SubmittedInterchange, transactions: list[SubmittedTransaction]
    ) -> list[SubmittedClaim]:
        """Write the 277CA for the accepted transactions; returns the accepted claims."""
        answered: list[TransactionStatus] = []
        accepted: list[SubmittedClaim] = []
        for transaction in transactions:
            if not transaction.claims:
                continue
            statuses = []
            for claim in transaction.claims:
                rejection = self._rejection(claim)
                if rejection is None:
                    accepted.append(claim)
                    self.tally.add("claims_accepted")
                    self.tally.add_amount("billed_amount", claim.claim.total_charge)
                    number: str | None = self.numbers(claim.key, 0)
                else:
                    self.tally.add("claims_rejected")
                    number = None
                statuses.append(ClaimStatus(claim, rejection, number))
            answered.append(TransactionStatus(transaction, tuple(statuses)))
        if answered:
            control = self.state.take_control_number()
            group = next((g for g in interchange.groups if g.transactions), None)
            envelope = reply_envelope(interchange, group)
            self.envelopes[(interchange.file_name, interchange.control_number)] = envelope
            text = write_277ca(
                envelope,
                control,
                datetime.combine(self.today, _CLAIM_ACK_TIME),
                answered,
            )
            name = f"277CA_{control:09d}_{_safe_part(interchange.control_number)}.x12"
            self.tally.files[KIND_277CA].append(self._write(KIND_277CA, name, text))
        return accepted

    # ---------------------------------------------------------------------------- ledger

    def _stands(self, number: str) -> bool:
        record = self.state.adjudications.get(number)
        return record is not None and record.current

    def _stood_at_start(self, number: str) -> bool:
        stood = self.stood_at_start.get(number)
        return self._stands(number) if stood is None else stood

    def _record(self, number: str, record: LedgerRecord) -> None:
        self.stood_at_start.setdefault(number, self._stands(number))
        self.state.record(number, record)

    def _retire(self, number: str) -> None:
        self.stood_at_start.setdefault(number, self._stands(number))
        self.state.retire(number)

    # ------------------------------------------------------------------------------- 835

    def _ledger_reversal(self, claim: SubmittedClaim, number: str) -> RemitClaim:
        """The reversal of a remembered adjudication, at claim level (the payer keeps the
        totals and the reason codes, negated)."""
        record = self.state.adjudications[number]
        return RemitClaim(
            claim_id=record.claim_id,
            status=STATUS_REVERSAL,
            charge=-record.charge,
            paid=-record.paid,
            patient_responsibility=-record.patient_responsibility,
            filing_indicator=record.filing_indicator,
            payer_claim_number=number,
            facility_code=record.facility_code,
            frequency_code=record.frequency_code,
            patient=claim.patient,
            subscriber=claim.subscriber,
            member_id=claim.claim.subscriber_member_id,
            patient_is_subscriber=claim.patient_is_subscriber,
            statement_from=record.statement_from,
            statement_to=record.statement_to,
            received=None,
            adjustments=tuple(Adjustment(a.group, a.reason, -a.amount) for a in record.adjustments),
        )

    def _standing(self, claim_id: str, payer_id: str) -> list[str]:
        """Payer claim numbers of ``payer_id``'s standing adjudications of ``claim_id`` (the
        same claim id may also stand with the patient's other payers)."""
        return [
            number
            for number in self.state.standing(claim_id)
            if self.state.adjudications[number].payer_id == payer_id
        ]

    def _reverse_original(self, claim: SubmittedClaim) -> tuple[RemitClaim, ...]:
        """Reversals of every standing adjudication, by the same payer, of the claim a
        replacement or void refers to (REF*F8), retired from the ledger."""
        record = self.state.adjudications[claim.claim.payer_claim_number or ""]
        reversals = []
        for number in self._standing(record.claim_id, record.payer_id):
            reversals.append(self._ledger_reversal(claim, number))
            self._retire(number)
        self.tally.add("claims_reversed", len(reversals))
        return tuple(reversals)

    def _payment_envelope(self, claim: SubmittedClaim) -> ReplyEnvelope:
        """The 835 comes through the clearinghouse (ISA) from the payer (GS02)."""
        key = (claim.file_name, claim.interchange_control_number, claim.payer.payer_id)
        found = self.payment_envelopes.get(key)
        if found is None:
            envelope = self.envelopes[key[:2]]
            payer = clean_id(claim.payer.payer_id, 15)
            found = replace(envelope, application_sender=payer or envelope.application_sender)
            self.payment_envelopes[key] = found
        return found

    def adjudicate(self, claims: list[SubmittedClaim]) -> None:
        """Adjudicate ``claims`` (accepted by a 277CA) and file their payment items."""
        for claim in claims:
            envelope = self._payment_envelope(claim)
            frequency = claim.claim.frequency_code
            reversals: tuple[RemitClaim, ...] = ()
            if frequency in (FREQUENCY_REPLACEMENT, FREQUENCY_VOID):
                reversals = self._reverse_original(claim)
            if frequency == FREQUENCY_VOID:
                self.tally.add("voids")
                if reversals:  # a second void of the same claim finds nothing left to reverse
                    self._file(
                        PaymentItem(
                            envelope, claim.payer, claim.billing, FIRST, claim.claim_id, reversals
                        )
                    )
                continue
            seen = (claim.payer.payer_id, claim.claim_id)
            duplicate = frequency not in (FREQUENCY_REPLACEMENT,) and (
                seen in self.seen_originals
                or bool(self._standing(claim.claim_id, claim.payer.payer_id))
            )
            self.seen_originals.add(seen)
            result = adjudicate(
                claim,
                self.fees[claim.payer.payer_id],
                seed=self.seed,
                config=self.config,
                numbers=self.numbers,
                duplicate=duplicate,
            )
            self._count(result)
            new_items = items_for(result, envelope)
            if reversals:  # the reversal travels with the new adjudication
                first = new_items[0]
                new_items[0] = replace(first, claims=(*reversals, *first.claims))
            for item in new_items:
                self._file(item)
            if not duplicate:
                self._remember(result)

    def _file(self, item: PaymentItem) -> None:
        """File ``item`` in the book, its claims written now (all but those whose payer
        claim number is still provisional: written with their 835)."""
        # PLB references are always a claim's first payer claim number (drawn at once).
        if any(_is_provisional(p.reference) for p in item.provider_adjustments):
            raise AssertionError(f"claim {item.claim_id}: a PLB refers to a provisional CLP07")
        self.book.add(item, tuple(_written(c) for c in item.claims))

    def _count(self, result: Adjudication) -> None:
        outcome = _OUTCOME_COUNTS[result.outcome]
        if result.outcome == OUTCOME_PAID and result.paid == 0:
            outcome = "claims_zero_pay"
        self.tally.add(outcome)
        self.tally.add("claims_secondary", int(result.submitted.is_secondary))
        self.tally.add("claims_pended", int(result.pended))
        self.tally.add("claims_split", int(result.is_split))
        self.tally.add("claims_reversed", int(result.superseded is not None))

    def _remember(self, result: Adjudication) -> None:
        claim = result.submitted
        payer_id, npi = claim.payer.payer_id, claim.billing.npi
        if result.superseded is not None:
            wrong = result.superseded
            self._record(wrong.payer_claim_number, LedgerRecord.from_remit(wrong, payer_id, npi))
            self._retire(wrong.payer_claim_number)
        for remit in result.final:
            self._record(remit.payer_claim_number, LedgerRecord.from_remit(remit, payer_id, npi))

    def deliver(self) -> None:
        """Draw the late payer claim numbers, then write the book's 835s."""
        final = self.numbers.draw_late()
        self.state.renumber(final)

        def finish(claim: ClaimPayment) -> ClaimPayment:
            if isinstance(claim, RemitClaim):  # a provisional CLP07 (see _file)
                return replace(claim, payer_claim_number=final[claim.payer_claim_number])
            return claim

        now = datetime.combine(self.today, _PAYMENT_TIME)
        deliveries = self.book.deliveries(
            seed=self.seed, config=self.config, today=self.today, state=self.state, finish=finish
        )
        for delivery in deliveries:
            self._deliver(delivery, now)

    def _deliver(self, delivery: Delivery, now: datetime) -> None:
        if not delivery.payments:
            return
        control = self.state.take_control_number()
        text = write_835(delivery.envelope, control, now, delivery.payments)
        stem = f"{_safe_part(delivery.payer.payer_id)}_835_{control:09d}"
        path = self._write(KIND_835, f"{stem}.x12", text)
        self.tally.files[KIND_835].append(path)
        for payment in delivery.payments:
            self.tally.add_amount("payment_amount", payment.amount)
            self.tally.add_amount(
                "provider_adjustment_amount",
                sum((p.amount for p in payment.provider_adjustments), ZERO),
            )
            for remit in payment.claims:
                self.tally.add_amount("paid_amount", remit.paid)
                self.tally.add_amount("patient_responsibility_amount", remit.patient_responsibility)
        if draws.chance(
            self.config.duplicate_delivery_rate, self.seed, "duplicate-delivery", control
        ):
            copy = self._write(KIND_835, f"{stem}_redelivered.x12", text)
            self.tally.files["duplicate"].append(copy)


def _written(claim: ClaimPayment) -> ClaimPayment:
    if isinstance(claim, RemitClaim) and not _is_provisional(claim.payer_claim_number):
        return render_claim(claim)
    return claim


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _outbox_files(outbox_dir: Path) -> list[Path]:
    folder = outbox_dir / "837" if (outbox_dir / "837").is_dir() else outbox_dir
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.glob("*.x12") if path.is_file() and not path.name.startswith(".")
    )


def _answer(
    outbox_dir: Path,
    inbox_dir: Path,
    fees: Mapping[str, Decimal],
    *,
    seed: int,
    config: SimConfig,
    today: date,
) -> SimResult:
    """The body of :func:`answer_outbox`, under its lock."""
    state = load_state(inbox_dir)
    run = _Run(inbox_dir, fees, seed, config, today, state)
    for path in _outbox_files(outbox_dir):
        if path.name in state.answered:
            continue
        data = path.read_bytes()
        record: dict[str, object] = {"sha256": _sha256(data), "answered_on": today.isoformat()}
        try:
            interchanges = read_submission(data, path.name, today=today)
        except X12ReadError as exc:
            log.warning("simulated clearinghouse cannot read %s: %s", path.name, exc.message)
            record["unreadable"] = True
            state.answered[path.name] = record
            run.tally.files_unreadable.append(path.name)
            continue
        for interchange in interchanges:
            transactions = run.acknowledge(interchange)
            run.adjudicate(run.acknowledge_claims(interchange, transactions))
        del interchanges  # the claims read: only their written 835 loops are kept
        state.answered[path.name] = record
        run.tally.files_answered.append(path.name)
    run.deliver()
    save_state(inbox_dir, state)
    return run.tally.result()


def answer_outbox(
    outbox_dir: Path,
    inbox_dir: Path,
    fee_schedules: Mapping[str, Decimal],
    *,
    seed: int,
    today: date,
    config: SimConfig | None = None,
) -> SimResult:
    """Answer every 837 in ``outbox_dir`` not answered before, as a clearinghouse and its
    payers would (simulation; see the module docstring).

    ``outbox_dir`` is the folder of 837 files (or an outbox holding an ``837/`` folder);
    replies go to ``inbox_dir/999``, ``inbox_dir/277ca`` and ``inbox_dir/835``.
    ``fee_schedules`` maps payer id -> allowed percent of the billed charge (``62.50``);
    claims for a payer not in it are rejected by the 277CA. ``seed`` drives every decision;
    ``today`` dates every reply.
    """
    config = config or SimConfig()
    fees = {payer: Decimal(percent) for payer, percent in fee_schedules.items()}
    for payer, percent in fees.items():
        if not percent.is_finite() or not Decimal(0) <= percent <= Decimal(100):
            raise ValueError(f"fee schedule of payer {payer}: percent must be from 0 to 100")
    if not inbox_dir.is_dir():
        inbox_dir.mkdir(parents=True)
        inbox_dir.chmod(INBOX_MODE)
    # The run keeps a written 835 loop and a ledger record per claim until the 835s and the
    # state are written, and each file's claims while it answers them: millions of small
    # objects and no reference cycles, so the cyclic collector's generation-2 passes over
    # them would be a large part of the run's time (see revcycle.gc_pause). They are freed,
    # by reference counting, as the run goes and when _answer returns: inside the pause.
    with locked(inbox_dir), gc_paused():
        result = _answer(outbox_dir, inbox_dir, fees, seed=seed, config=config, today=today)
    log.info(
        "simulated clearinghouse answered %d file(s): %d claims accepted, %d rejected; "
        "%d paid, %d zero-pay, %d denied; %s paid in %d 835 file(s)",
        len(result.files_answered),
        result.claims_accepted,
        result.claims_rejected + result.claims_in_rejected_transactions,
        result.claims_paid,
        result.claims_zero_pay,
        result.claims_denied,
        result.payment_amount,
        len(result.files_835),
    )
    return result


__all__ = ["SimResult", "answer_outbox"]
