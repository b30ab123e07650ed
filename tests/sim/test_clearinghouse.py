"""The simulated clearinghouse end to end: 837 files written with the project's writers,
answered by ``answer_outbox``, the answers read back with the project's reader and checked
here (balancing is computed by the test, not taken from the simulation)."""

from __future__ import annotations

import logging
import shutil
import stat
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.claims.model import Claim
from revcycle.sim import SimConfig, SimResult, answer_outbox
from revcycle.x12.read_837 import read_837_file
from revcycle.x12.reader import read_interchanges
from revcycle.x12.validate import format_report, validate_file
from tests.sim.support import (
    FEE_SCHEDULES,
    TODAY,
    Clp,
    Outbox,
    Remittance,
    generate_claims,
    imbalances,
    inbox_files,
    read_277ca,
    read_835,
    replacement,
    sha256,
    transactions,
)

ZERO = Decimal("0")


@dataclass
class Answered:
    """One simulation run over a generated outbox, read back."""

    outbox: Path
    inbox: Path
    claims: list[Claim]
    result: SimResult

    @property
    def payments(self) -> list[Remittance]:
        """Every payment of every 835 delivered once (duplicate deliveries left out)."""
        found = []
        for path in self.result.files_835:
            found += read_835(path)
        return found

    def clps(self) -> list[Clp]:
        return [clp for payment in self.payments for clp in payment.claims]


def answer(
    tmp_path: Path,
    claims: list[Claim],
    config: SimConfig | None = None,
    *,
    seed: int = 11,
    per_transaction: int = 100,
) -> Answered:
    outbox = Outbox(tmp_path / "outbox" / "837")
    outbox.write_by_payer(claims, claims_per_transaction=per_transaction)
    inbox = tmp_path / "inbox"
    result = answer_outbox(
        tmp_path / "outbox", inbox, FEE_SCHEDULES, seed=seed, today=TODAY, config=config
    )
    return Answered(tmp_path / "outbox" / "837", inbox, claims, result)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Answered:
    """1,200 claims in 10 files (several transactions each), default rates."""
    return answer(tmp_path_factory.mktemp("big"), generate_claims(1200), per_transaction=60)


def final_clps(clps: list[Clp]) -> dict[str, list[Clp]]:
    """Claim id -> the CLPs that stand: not reversals and not reversed later."""
    reversed_numbers = {c.payer_claim_number for c in clps if c.status == "22"}
    standing: dict[str, list[Clp]] = defaultdict(list)
    for clp in clps:
        if clp.status != "22" and clp.payer_claim_number not in reversed_numbers:
            standing[clp.claim_id].append(clp)
    return standing


# --------------------------------------------------------------------------------------------
# The default run


def test_every_file_validates_with_pyx12(big: Answered) -> None:
    files = [*big.result.files_999, *big.result.files_277ca, *big.result.files_835]
    assert len(big.result.files_999) == 10
    assert big.result.files_277ca and big.result.files_835
    problems = [
        line
        for path in files
        for report in [validate_file(path)]
        if not report.is_valid
        for line in format_report(report)
    ]
    assert problems == []


def test_every_835_balances_at_line_claim_and_transaction_level(big: Answered) -> None:
    payments = big.payments
    assert len(payments) > len(big.result.files_835)  # several ST per file
    problems = [p for payment in payments for p in imbalances(payment)]
    assert problems == []
    assert sum((p.amount for p in payments), ZERO) == big.result.payment_amount
    assert sum((c.paid for p in payments for c in p.claims), ZERO) == big.result.paid_amount


def test_the_999_answers_every_interchange_and_transaction(big: Answered) -> None:
    acknowledged: set[tuple[str, str]] = set()
    for path in big.result.files_999:
        for segments in transactions(path):
            group = next(s for s in segments if s.id == "AK1").get(2)
            acknowledged |= {(group, s.get(2)) for s in segments if s.id == "AK2"}
    sent: set[tuple[str, str]] = set()
    for path in sorted(big.outbox.glob("*.x12")):
        for interchange in read_interchanges(path.read_bytes(), path.name):
            for group in interchange.groups:
                sent |= {(group.control_number, t.control_number) for t in group.transactions}
    assert acknowledged == sent
    assert big.result.transactions_accepted + big.result.transactions_rejected == len(sent)


def test_each_accepted_claim_is_answered_once_and_rejected_claims_never(big: Answered) -> None:
    acks = [a for path in big.result.files_277ca for a in read_277ca(path)]
    accepted = {a.claim_id: a for a in acks if a.category == "A1"}
    rejected = {a.claim_id for a in acks if a.category != "A1"}
    assert len(accepted) == big.result.claims_accepted
    assert len(rejected) == big.result.claims_rejected > 0
    totals = {c.claim_id: c.total_charge_amount for c in big.claims}
    clps = big.clps()
    standing = final_clps(clps)
    assert set(standing) == set(accepted)
    for claim_id, answers in standing.items():
        assert len(answers) in (1, 2)  # two for a split claim
        assert len({c.payer_claim_number for c in answers}) == len(answers)
        assert sum(c.charge for c in answers) == totals[claim_id]
        # The 277CA's payer claim number is the one the 835 carries (or the reversed one).
        numbers = {c.payer_claim_number for c in clps if c.claim_id == claim_id}
        assert accepted[claim_id].payer_claim_number in numbers
    assert not {c.claim_id for c in clps} & rejected
    # Claims of transactions the 999 rejected get neither a 277CA nor an 835.
    answered_ids = {a.claim_id for a in acks}
    unanswered = set(totals) - answered_ids
    assert len(unanswered) == big.result.claims_in_rejected_transactions


def test_line_ids_come_back_on_every_service_line(big: Answered) -> None:
    sent = {line.claim_line_id: claim.claim_id for claim in big.claims for line in claim.lines}
    for claim_id, answers in final_clps(big.clps()).items():
        returned = [line_id for c in answers for line_id in c.line_ids]
        if any(c.lines for c in answers):
            assert sorted(returned) == sorted(k for k, v in sent.items() if v == claim_id)


def test_configured_rates_roughly_produce_their_shares(big: Answered) -> None:
    result = big.result
    in_accepted_sets = result.claims_accepted + result.claims_rejected
    assert 0.015 <= result.claims_rejected / in_accepted_sets <= 0.05  # 3 %
    adjudicated = result.claims_paid + result.claims_zero_pay + result.claims_denied
    assert adjudicated == result.claims_accepted
    assert 0.05 <= result.claims_denied / adjudicated <= 0.11  # 8 %
    # 4 % drawn as zero-pay, plus paid claims whose deductible or copay took everything.
    assert 0.02 <= result.claims_zero_pay / adjudicated <= 0.15
    assert 0.06 <= result.claims_pended / adjudicated <= 0.14  # 10 %
    statuses = [c.status for c in big.clps()]
    assert statuses.count("22") == result.claims_reversed > 0
    assert result.claims_split > 0
    plb_reasons = {p.reason for payment in big.payments for p in payment.plbs}
    assert {"WO", "L6"} <= plb_reasons


def test_payments_and_files_are_owner_only(big: Answered) -> None:
    written = [p for p in big.inbox.rglob("*") if p.is_file()]
    assert written
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)


def test_a_second_run_answers_nothing(big: Answered, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(big.inbox, inbox)
    before = inbox_files(inbox)
    again = answer_outbox(big.outbox, inbox, FEE_SCHEDULES, seed=11, today=TODAY)
    assert again.files_answered == ()
    assert again.files_999 == again.files_277ca == again.files_835 == ()
    after = inbox_files(inbox)
    assert after.keys() == before.keys()
    assert {k: v for k, v in after.items() if k != ".sim_state.json"} == {
        k: v for k, v in before.items() if k != ".sim_state.json"
    }


def test_the_same_seed_gives_byte_identical_output(big: Answered, tmp_path: Path) -> None:
    same = answer_outbox(big.outbox, tmp_path / "same", FEE_SCHEDULES, seed=11, today=TODAY)
    assert inbox_files(tmp_path / "same") == inbox_files(big.inbox)
    assert same == replace(
        big.result,
        files_999=tuple(tmp_path / "same" / p.relative_to(big.inbox) for p in big.result.files_999),
        files_277ca=tuple(
            tmp_path / "same" / p.relative_to(big.inbox) for p in big.result.files_277ca
        ),
        files_835=tuple(tmp_path / "same" / p.relative_to(big.inbox) for p in big.result.files_835),
        files_835_duplicates=tuple(
            tmp_path / "same" / p.relative_to(big.inbox) for p in big.result.files_835_duplicates
        ),
    )
    other = answer_outbox(big.outbox, tmp_path / "other", FEE_SCHEDULES, seed=12, today=TODAY)
    assert other.payment_amount != big.result.payment_amount


def test_answers_do_not_depend_on_file_order(big: Answered, tmp_path: Path) -> None:
    """Answer the files one at a time in reverse order: every claim gets the same CLPs."""
    inbox = tmp_path / "inbox"
    staging = tmp_path / "staging"
    staging.mkdir()
    for path in sorted(big.outbox.glob("*.x12"), reverse=True):
        shutil.copy(path, staging / path.name)
        answer_outbox(staging, inbox, FEE_SCHEDULES, seed=11, today=TODAY)
    one_by_one = [
        clp
        for path in sorted((inbox / "835").glob("*.x12"))
        if "redelivered" not in path.name
        for payment in read_835(path)
        for clp in payment.claims
    ]

    def key(clp: Clp) -> tuple[str, str, str, Decimal, Decimal, Decimal]:
        return (
            clp.claim_id,
            clp.payer_claim_number,
            clp.status,
            clp.charge,
            clp.paid,
            clp.patient_responsibility,
        )

    assert sorted(map(key, one_by_one)) == sorted(map(key, big.clps()))


def test_duplicate_deliveries_are_byte_identical_copies(big: Answered) -> None:
    for copy in big.result.files_835_duplicates:
        original = copy.with_name(copy.name.replace("_redelivered", ""))
        assert original in big.result.files_835
        assert sha256(copy) == sha256(original)


def test_logs_carry_no_patient_identifiers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    claims = generate_claims(60, seed=21)
    with caplog.at_level(logging.DEBUG, logger="revcycle"):
        answer(tmp_path, claims)
    text = caplog.text
    assert "answered" in text
    for claim in claims:
        assert claim.subscriber.member_id not in text
        assert claim.patient.last_name.upper() not in text.upper()


# --------------------------------------------------------------------------------------------
# Events at rate 1.0, on small batches


def test_rejected_interchanges_get_a_999_and_nothing_else(tmp_path: Path) -> None:
    run = answer(tmp_path, generate_claims(30), SimConfig(rejected_interchange_rate=1.0))
    assert run.result.files_277ca == run.result.files_835 == ()
    assert run.result.interchanges_rejected == len(run.result.files_999) > 0
    for path in run.result.files_999:
        segments = [s for t in transactions(path) for s in t]
        assert {s.get(1) for s in segments if s.id == "IK5"} == {"R"}
        assert any(s.id == "IK3" for s in segments) and any(s.id == "IK4" for s in segments)
        assert next(s for s in segments if s.id == "AK9").get(1) == "R"
        assert validate_file(path).is_valid


def test_reversal_then_corrected_payment_in_a_later_835(tmp_path: Path) -> None:
    config = SimConfig(
        claim_denial_rate=0,
        zero_pay_deductible_rate=0,
        claim_reject_rate=0,
        rejected_interchange_rate=0,
        reversal_rate=1.0,
        pended_claim_rate=0,
    )
    run = answer(tmp_path, generate_claims(40, seed=4), config)
    clps = run.clps()
    originals = {c.payer_claim_number: c for c in clps if c.status != "22"}
    reversals = [c for c in clps if c.status == "22"]
    assert len(reversals) == 40
    for reversal in reversals:
        original = originals[reversal.payer_claim_number]
        assert original.claim_id == reversal.claim_id
        assert reversal.control > original.control  # a later delivery
        assert (reversal.charge, reversal.paid, reversal.patient_responsibility) == (
            -original.charge,
            -original.paid,
            -original.patient_responsibility,
        )
        assert [(g, r) for g, r, _a in reversal.claim_cas + reversal.line_cas] == [
            (g, r) for g, r, _a in original.claim_cas + original.line_cas
        ]
        corrected = [
            c
            for c in clps
            if c.claim_id == reversal.claim_id and c.status != "22" and c is not original
        ]
        assert len(corrected) == 1
        assert corrected[0].control == reversal.control
        assert corrected[0].payer_claim_number != reversal.payer_claim_number
        assert corrected[0].paid >= original.paid
    assert all(not imbalances(p) for p in run.payments)
    assert all(validate_file(p).is_valid for p in run.result.files_835)


def test_split_claims_answer_one_claim_with_two_claim_numbers(tmp_path: Path) -> None:
    config = SimConfig(claim_reject_rate=0, rejected_interchange_rate=0, split_claim_rate=1.0)
    claims = generate_claims(40, seed=8)
    run = answer(tmp_path, claims, config)
    standing = final_clps(run.clps())
    multi_line = {c.claim_id: c for c in claims if len(c.lines) > 1}
    split = [claim_id for claim_id, answers in standing.items() if len(answers) == 2]
    assert split and run.result.claims_split == len(split)
    for claim_id in split:
        first, second = standing[claim_id]
        claim = multi_line[claim_id]
        assert first.payer_claim_number != second.payer_claim_number
        assert first.charge + second.charge == claim.total_charge_amount
        assert sorted(first.line_ids + second.line_ids) == sorted(
            line.claim_line_id for line in claim.lines
        )


def test_takebacks_interest_and_forwarded_balances(tmp_path: Path) -> None:
    config = SimConfig(
        claim_reject_rate=0,
        rejected_interchange_rate=0,
        takeback_rate=1.0,
        pended_claim_rate=0.3,
        interest_rate=1.0,
        claims_per_payment=5,
    )
    run = answer(tmp_path, generate_claims(60, seed=6), config)
    payments = run.payments
    paid_numbers = {c.payer_claim_number: c for c in run.clps() if c.paid > 0}
    plbs = [p for payment in payments for p in payment.plbs]
    takebacks = [p for p in plbs if p.reason == "WO"]
    interest = [p for p in plbs if p.reason == "L6"]
    assert takebacks and interest
    assert all(p.amount > 0 and p.reference in paid_numbers for p in takebacks)
    assert all(p.amount < 0 and p.reference in paid_numbers for p in interest)
    for takeback in takebacks:  # recovered in a later delivery than the payment
        original = paid_numbers[takeback.reference]
        payment = next(p for p in payments if takeback in p.plbs)
        assert payment.control > original.control
        assert takeback.amount < original.paid
    forwarded = [p for p in plbs if p.reason == "FB"]
    assert forwarded  # payments with nothing but takebacks forward a negative balance
    assert all(not imbalances(p) for p in payments)
    assert all(validate_file(p).is_valid for p in run.result.files_835)
    # The next run recovers what was forwarded from the payee's next payments.
    more = Outbox(run.outbox, next_number=500)
    more.write_by_payer(generate_claims(80, seed=7, prefix="T"))
    second = answer_outbox(
        tmp_path / "outbox", run.inbox, FEE_SCHEDULES, seed=11, today=TODAY, config=config
    )
    later = [p for path in second.files_835 for payment in read_835(path) for p in payment.plbs]
    recovered = [p for p in later if p.reason == "FB" and p.amount > 0]
    assert recovered
    negative = [p for p in forwarded + later if p.reason == "FB" and p.amount < 0]
    assert {p.reference for p in recovered} <= {p.reference for p in negative}
    # Never more recovered than was forwarded.
    assert sum(p.amount for p in recovered) <= -sum(p.amount for p in negative)


def test_duplicate_delivery_rate_one_copies_every_835(tmp_path: Path) -> None:
    run = answer(tmp_path, generate_claims(20, seed=2), SimConfig(duplicate_delivery_rate=1.0))
    assert len(run.result.files_835_duplicates) == len(run.result.files_835) > 0


def test_voids_and_replacements_reverse_the_original(tmp_path: Path) -> None:
    config = SimConfig(
        claim_reject_rate=0,
        rejected_interchange_rate=0,
        claim_denial_rate=0,
        reversal_rate=0,
        split_claim_rate=0,
        pended_claim_rate=0,
    )
    claims = generate_claims(6, seed=13)
    run = answer(tmp_path, claims, config)
    first = {c.claim_id: c for c in run.clps()}
    voided, replaced = claims[0], claims[1]
    outbox = Outbox(run.outbox, next_number=900)
    outbox.write([replacement(voided, first[voided.claim_id].payer_claim_number, "8")])
    outbox.write([replacement(replaced, first[replaced.claim_id].payer_claim_number, "7")])
    outbox.write([replacement(claims[2], "999999999999999", "8")])  # unknown original
    second = answer_outbox(
        tmp_path / "outbox", run.inbox, FEE_SCHEDULES, seed=11, today=TODAY, config=config
    )
    assert second.voids == 1
    acks = {a.claim_id: a for path in second.files_277ca for a in read_277ca(path)}
    assert acks[claims[2].claim_id].category == "A7"
    later = [c for path in second.files_835 for p in read_835(path) for c in p.claims]
    for claim in (voided, replaced):
        original = first[claim.claim_id]
        (reversal,) = [c for c in later if c.claim_id == claim.claim_id and c.status == "22"]
        assert reversal.payer_claim_number == original.payer_claim_number
        assert (reversal.charge, reversal.paid) == (-original.charge, -original.paid)
        assert sum(a for _g, _r, a in reversal.claim_cas) == -sum(
            a for _g, _r, a in original.claim_cas + original.line_cas
        )
    new = [c for c in later if c.claim_id == replaced.claim_id and c.status != "22"]
    assert (
        len(new) == 1 and new[0].payer_claim_number != first[replaced.claim_id].payer_claim_number
    )
    assert not [c for c in later if c.claim_id == voided.claim_id and c.status != "22"]
    assert all(validate_file(p).is_valid for p in (*second.files_277ca, *second.files_835))


def test_claims_for_unknown_payers_are_rejected(tmp_path: Path) -> None:
    claims = generate_claims(20, seed=1)
    outbox = Outbox(tmp_path / "outbox")
    outbox.write_by_payer(claims)
    fees = {k: v for k, v in FEE_SCHEDULES.items() if k != "87726"}
    result = answer_outbox(tmp_path / "outbox", tmp_path / "inbox", fees, seed=1, today=TODAY)
    acks = [a for path in result.files_277ca for a in read_277ca(path)]
    unknown = {c.claim_id for c in claims if c.payer.payer_id == "87726"}
    assert unknown
    assert {(a.category, a.status) for a in acks if a.claim_id in unknown} == {("A3", "116")}


def test_an_unreadable_file_is_recorded_and_left_alone(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "junk.x12").write_text("this is not X12\n")
    Outbox(outbox).write(generate_claims(5, seed=3)[:1])
    result = answer_outbox(outbox, tmp_path / "inbox", FEE_SCHEDULES, seed=1, today=TODAY)
    assert result.files_unreadable == ("junk.x12",)
    assert len(result.files_answered) == 1
    again = answer_outbox(outbox, tmp_path / "inbox", FEE_SCHEDULES, seed=1, today=TODAY)
    assert again.files_unreadable == again.files_answered == ()


def test_it_answers_what_the_837_reader_reads(big: Answered) -> None:
    """Every claim the project's own 837 reader finds is accounted for once."""
    read = [c for path in sorted(big.outbox.glob("*.x12")) for c in read_837_file(path)]
    result = big.result
    assert len(read) == result.claims_received == len(big.claims)
    assert result.claims_received == (
        result.claims_accepted + result.claims_rejected + result.claims_in_rejected_transactions
    )


def test_the_project_835_parser_reads_every_payment_balanced(big: Answered) -> None:
    parse_835 = pytest.importorskip("revcycle.remits.parse_835")
    claims = 0
    for path in big.result.files_835:
        tables = parse_835.parse_835_file(path)
        assert [c for c in tables.balance_checks if not c.is_balanced] == []
        claims += len(tables.claims)
    assert claims == len(big.clps())


def test_the_state_file_holds_no_patient_identifiers(big: Answered) -> None:
    text = (big.inbox / ".sim_state.json").read_text()
    for claim in big.claims:
        assert claim.subscriber.member_id not in text
        assert f'"{claim.patient.last_name.upper()}"' not in text.upper()
    assert all(name in text for name in (p.name for p in big.outbox.glob("*.x12")))


def test_a_transaction_with_unreadable_claims_is_rejected_by_the_999(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    claims = generate_claims(12, seed=3)
    path = outbox.write([c for c in claims if c.claim_type == claims[0].claim_type])
    text = path.read_text()
    clm = text.index("CLM*")
    amount_start = text.index("*", clm + 4) + 1
    amount_end = text.index("*", amount_start)
    path.write_text(text[:amount_start] + "12X" + text[amount_end:])  # CLM02 not a number
    result = answer_outbox(outbox.folder, tmp_path / "inbox", FEE_SCHEDULES, seed=1, today=TODAY)
    assert result.transactions_rejected == 1 and result.files_277ca == ()
    (ack,) = result.files_999
    segments = [s for t in transactions(ack) for s in t]
    ik3 = next(s for s in segments if s.id == "IK3")
    assert ik3.get(1) == "CLM"
    assert next(s for s in segments if s.id == "IK5").get(1) == "R"
    assert validate_file(ack).is_valid, format_report(validate_file(ack))


def test_a_replacement_of_a_claim_first_sent_in_the_same_run_is_rejected(tmp_path: Path) -> None:
    # The 277CA judges a replacement by the ledger as the run found it, although the run
    # adjudicates each file's claims before it reads the next file.
    config = SimConfig(claim_reject_rate=0, rejected_interchange_rate=0, claim_denial_rate=0)
    claims = generate_claims(4, seed=17)
    Outbox(tmp_path / "probe" / "837").write(claims[:1])
    probe = answer_outbox(
        tmp_path / "probe", tmp_path / "probe-inbox", FEE_SCHEDULES, seed=11, today=TODAY
    )
    (number,) = [a.payer_claim_number for path in probe.files_277ca for a in read_277ca(path)]
    outbox = Outbox(tmp_path / "outbox" / "837")
    outbox.write(claims[:1])
    outbox.write([replacement(claims[0], number, "7")])
    result = answer_outbox(
        tmp_path / "outbox", tmp_path / "inbox", FEE_SCHEDULES, seed=11, today=TODAY, config=config
    )
    acks = [a for path in result.files_277ca for a in read_277ca(path)]
    assert [(a.claim_id, a.category, a.payer_claim_number) for a in acks] == [
        (claims[0].claim_id, "A1", number),
        (claims[0].claim_id, "A7", ""),
    ]
    assert (result.claims_accepted, result.claims_reversed) == (1, 0)
