"""The payment rules of the simulated payers, claim by claim (revcycle.sim.adjudicate)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.claims.model import Claim
from revcycle.sim import draws
from revcycle.sim.adjudicate import (
    OUTCOME_DENIED,
    OUTCOME_PAID,
    OUTCOME_ZERO_PAY,
    Adjudication,
    adjudicate,
    allowed_amount,
    cents,
)
from revcycle.sim.config import DenialReason, SimConfig
from revcycle.sim.inbound import SubmittedClaim, read_submission
from tests.claims.support import line, professional_claim
from tests.sim.support import FEE_SCHEDULES, PAYERS, Outbox, generate_claims

# No events, no cost sharing unless a test asks for it: every amount is predictable.
PLAIN = SimConfig(
    claim_denial_rate=0,
    zero_pay_deductible_rate=0,
    line_bundling_rate=0,
    partial_line_rate=0,
    deductible_rate=0,
    copay_rate=0,
    reversal_rate=0,
    split_claim_rate=0,
    pended_claim_rate=0,
    takeback_rate=0,
)


def submitted(tmp_path: Path, claims: list[Claim]) -> list[SubmittedClaim]:
    outbox = Outbox(tmp_path / "outbox")
    found: list[SubmittedClaim] = []
    for path in outbox.write_by_payer(claims):
        for interchange in read_submission(path.read_bytes(), path.name, today=date(2026, 11, 20)):
            found.extend(interchange.claims)
    return sorted(found, key=lambda c: c.claim_id)


def medicaid_claim(claim_id: str, **changes: object) -> Claim:
    subscriber = replace(professional_claim().subscriber, claim_filing_indicator="MC")
    return professional_claim(claim_id, payer=PAYERS["MC"], subscriber=subscriber, **changes)


def numbers(key: str, n: int) -> str:
    return f"N{n}{key}"


def run(claim: SubmittedClaim, config: SimConfig, percent: str = "62.50") -> Adjudication:
    result = adjudicate(claim, Decimal(percent), seed=1, config=config, numbers=numbers)
    for remit in (*result.final, *((result.superseded,) if result.superseded else ())):
        remit.check()
    return result


def test_allowed_amount_rounds_half_up_and_never_exceeds_the_charge() -> None:
    assert allowed_amount(Decimal("10.01"), Decimal("50")) == Decimal("5.01")  # 5.005 -> 5.01
    assert allowed_amount(Decimal("33.33"), Decimal("62.50")) == Decimal("20.83")  # 20.83125
    assert allowed_amount(Decimal("18.01"), Decimal("62.50")) == Decimal("11.26")  # 11.25625
    assert allowed_amount(Decimal("125.00"), Decimal("100")) == Decimal("125.00")
    assert cents(Decimal("0.125")) == Decimal("0.13")


def test_paid_claim_writes_off_the_fee_schedule_difference(tmp_path: Path) -> None:
    claim = medicaid_claim(
        "C1",
        lines=(
            line("C1", 1, charge="33.33"),
            line("C1", 2, code="36415", charge="10.01"),
        ),
    )
    (source,) = submitted(tmp_path, [claim])
    result = run(source, PLAIN, "50")
    assert result.outcome == OUTCOME_PAID
    (remit,) = result.final
    assert remit.status == "1"
    assert [line.allowed for line in remit.lines] == [Decimal("16.67"), Decimal("5.01")]
    assert [line.paid for line in remit.lines] == [Decimal("16.67"), Decimal("5.01")]
    assert [a.reason for line in remit.lines for a in line.adjustments] == ["45", "45"]
    assert remit.paid == Decimal("21.68")
    assert remit.patient_responsibility == 0  # Medicaid: no cost sharing
    assert [line.line_control_number for line in remit.lines] == ["C1L001", "C1L002"]


def test_medicare_coinsurance_is_twenty_percent_of_the_allowed_amount(tmp_path: Path) -> None:
    claim = professional_claim(
        "C2",
        payer=PAYERS["MB"],
        subscriber=replace(professional_claim().subscriber, claim_filing_indicator="MB"),
    )
    (source,) = submitted(tmp_path, [claim])
    (remit,) = run(source, PLAIN, "38.50").final
    first = remit.lines[0]
    assert first.allowed == Decimal("48.13")  # 125.00 x 38.5 % = 48.125 -> 48.13
    coinsurance = [a for a in first.adjustments if a.group == "PR"]
    assert coinsurance == [type(coinsurance[0])("PR", "2", Decimal("9.63"))]  # 9.626
    assert first.paid == Decimal("38.50")
    assert remit.patient_responsibility == sum(
        (a.amount for a in remit.all_adjustments() if a.group == "PR"), Decimal(0)
    )


def test_hmo_copay_comes_off_the_first_line(tmp_path: Path) -> None:
    claim = professional_claim(
        "C3",
        payer=PAYERS["HM"],
        subscriber=replace(professional_claim().subscriber, claim_filing_indicator="HM"),
    )
    (source,) = submitted(tmp_path, [claim])
    config = replace(PLAIN, copay_amounts=(Decimal("30.00"),))
    (remit,) = run(source, config, "55.25").final
    first, second = remit.lines
    assert [(a.group, a.reason, a.amount) for a in first.adjustments if a.group == "PR"] == [
        ("PR", "3", Decimal("30.00"))
    ]
    assert not [a for a in second.adjustments if a.group == "PR"]
    assert remit.patient_responsibility == Decimal("30.00")


def test_deductible_is_spread_over_the_lines_in_order(tmp_path: Path) -> None:
    claim = professional_claim(
        "C4",
        payer=PAYERS["CI"],
        lines=(line("C4", 1, charge="100.00"), line("C4", 2, code="36415", charge="100.00")),
    )
    (source,) = submitted(tmp_path, [claim])
    config = replace(
        PLAIN,
        deductible_rate=1.0,
        deductible_amounts=(Decimal("80.00"),),
        coinsurance_percents=(Decimal("10"),),
    )
    (remit,) = run(source, config, "50").final
    first, second = remit.lines
    assert [(a.reason, a.amount) for a in first.adjustments if a.group == "PR"] == [
        ("1", Decimal("50.00"))
    ]
    # 30.00 of deductible left, then 10 % coinsurance on the remaining 20.00.
    assert [(a.reason, a.amount) for a in second.adjustments if a.group == "PR"] == [
        ("1", Decimal("30.00")),
        ("2", Decimal("2.00")),
    ]
    assert remit.paid == Decimal("18.00")


def test_zero_pay_deductible_claim(tmp_path: Path) -> None:
    (source,) = submitted(tmp_path, [professional_claim("C5", payer=PAYERS["CI"])])
    result = run(source, replace(PLAIN, zero_pay_deductible_rate=1.0))
    assert result.outcome == OUTCOME_ZERO_PAY
    (remit,) = result.final
    assert (remit.status, remit.paid) == ("1", Decimal("0"))
    owed = {(a.group, a.reason) for a in remit.all_adjustments() if a.group == "PR"}
    assert owed == {("PR", "1")}
    assert remit.patient_responsibility == sum(line.allowed for line in remit.lines) > 0


@pytest.mark.parametrize(
    ("reason", "claim_level"),
    [
        (DenialReason("CO", "18", 1, claim_level=True), True),
        (DenialReason("CO", "16", 1, remarks=("M76",)), False),
        (DenialReason("PR", "96", 1, remarks=("N130",)), False),
    ],
)
def test_denials(tmp_path: Path, reason: DenialReason, claim_level: bool) -> None:
    (source,) = submitted(tmp_path, [professional_claim("C6", payer=PAYERS["CI"])])
    config = replace(PLAIN, claim_denial_rate=1.0, denial_reasons=(reason,))
    result = run(source, config)
    assert result.outcome == OUTCOME_DENIED
    (remit,) = result.final
    assert (remit.status, remit.paid, remit.charge) == ("4", Decimal(0), Decimal("137.50"))
    if claim_level:
        assert remit.lines == ()
        assert [(a.group, a.reason, a.amount) for a in remit.adjustments] == [
            ("CO", "18", Decimal("137.50"))
        ]
    else:
        assert remit.adjustments == ()
        assert all(
            [(a.group, a.reason) for a in line.adjustments] == [(reason.group, reason.reason)]
            for line in remit.lines
        )
        assert all(line.remarks == reason.remarks for line in remit.lines)
    expected_owed = remit.charge if reason.group == "PR" else Decimal(0)
    assert remit.patient_responsibility == expected_owed


def test_reversal_pays_first_from_a_lower_fee_then_correctly(tmp_path: Path) -> None:
    (source,) = submitted(tmp_path, [medicaid_claim("C7")])
    result = run(source, replace(PLAIN, reversal_rate=1.0), "50")
    assert result.superseded is not None
    (final,) = result.final
    assert result.superseded.payer_claim_number != final.payer_claim_number
    assert result.superseded.paid == Decimal("61.88")  # 45 % of 137.50, line by line
    assert final.paid == Decimal("68.75")
    reversal = result.superseded.reversed()
    reversal.check()
    assert (reversal.status, reversal.paid, reversal.charge) == (
        "22",
        Decimal("-61.88"),
        Decimal("-137.50"),
    )
    assert [a.reason for a in reversal.all_adjustments()] == [
        a.reason for a in result.superseded.all_adjustments()
    ]


def test_split_claim_divides_the_lines_between_two_claim_numbers(tmp_path: Path) -> None:
    (source,) = submitted(tmp_path, [professional_claim("C8", payer=PAYERS["CI"])])
    result = run(source, replace(PLAIN, split_claim_rate=1.0))
    first, second = result.final
    assert first.payer_claim_number != second.payer_claim_number
    assert [len(first.lines), len(second.lines)] == [1, 1]
    assert first.charge + second.charge == source.claim.total_charge


def test_every_generated_claim_balances_under_every_event(tmp_path: Path) -> None:
    claims = submitted(tmp_path, generate_claims(300, seed=9))
    busy = SimConfig(
        claim_denial_rate=0.2,
        zero_pay_deductible_rate=0.1,
        line_bundling_rate=0.3,
        partial_line_rate=0.3,
        deductible_rate=0.5,
        copay_rate=0.5,
        reversal_rate=0.2,
        split_claim_rate=0.3,
        pended_claim_rate=0.3,
        interest_rate=0.5,
        takeback_rate=0.2,
    )
    outcomes = set()
    for claim in claims:
        result = run(claim, busy, str(FEE_SCHEDULES[claim.payer.payer_id]))
        outcomes.add(result.outcome)
        assert sum(c.charge for c in result.final) == claim.claim.total_charge
        assert result.interest >= 0 and result.takeback >= 0
    assert outcomes == {OUTCOME_PAID, OUTCOME_ZERO_PAY, OUTCOME_DENIED}


def test_answers_depend_on_the_claim_not_on_its_neighbours(tmp_path: Path) -> None:
    claims = generate_claims(40, seed=3)
    alone = submitted(tmp_path / "a", claims[:1])[0]
    together = submitted(tmp_path / "b", claims[::-1])
    (same,) = [c for c in together if c.claim_id == alone.claim_id]
    config = SimConfig()
    percent = str(FEE_SCHEDULES[alone.payer.payer_id])
    assert run(alone, config, percent).final == run(same, config, percent).final


def test_draws_hit_their_rates() -> None:
    hits = sum(draws.chance(0.02, 7, "key", n) for n in range(20_000))
    assert 300 <= hits <= 500
    assert not any(draws.chance(0.0, 7, n) for n in range(1000))
    assert all(draws.chance(1.0, 7, n) for n in range(1000))
    picks = [draws.pick_weighted("ab", [3, 1], 1, n) for n in range(4000)]
    assert 2800 <= picks.count("a") <= 3200
    assert len({draws.digits(15, 1, n) for n in range(1000)}) == 1000
    assert all(len(draws.digits(15, 1, n)) == 15 for n in range(100))


def test_config_refuses_impossible_rates() -> None:
    with pytest.raises(ValueError, match="claim_denial_rate"):
        SimConfig(claim_denial_rate=1.5)
    with pytest.raises(ValueError, match="claims_per_payment"):
        SimConfig(claims_per_payment=0)
