"""The simulated payers answer 270s with 271s: every inquiry once, its trace echoed, valid per
pyx12, the same bytes for the same seed, configurable inactive coverages.

PROVENANCE: every person, provider, payer and identifier here is invented.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from revcycle.claims.model import Payer, Person
from revcycle.remits.parse_271 import parse_271
from revcycle.sim.config import SimConfig
from revcycle.sim.eligibility import answer_eligibility
from revcycle.x12.envelope import SIMULATED_CLEARINGHOUSE, ControlNumbers
from revcycle.x12.validate import format_report, validate_file
from revcycle.x12.writer_270 import EligibilityInquiry, InformationReceiver, write_270

TODAY = date(2026, 10, 1)
PROVIDER = InformationReceiver("Riverside Family Practice", "1234567893", "123456789")


def _outbox(root: Path, members: int = 30) -> Path:
    folder = root / "outbox" / "270"
    folder.mkdir(parents=True)
    for file_number, (payer_id, name) in enumerate((("87726", "Demo Plan"), ("MCR01", "Care")), 1):
        inquiries = [
            EligibilityInquiry(
                trace_number=f"{file_number:09d}-{n:05d}",
                payer=Payer(payer_id, name),
                provider=PROVIDER,
                subscriber=Person(f"Member{n}", "Pat", None, date(1960, 1, 1 + n % 28), "F", None),
                member_id=f"M{payer_id}{n:04d}",
                plan_date=date(2026, 10, 5),
                patient=(
                    Person("Child", "Kid", None, date(2015, 1, 1), "M", None)
                    if n % 5 == 0
                    else None
                ),
            )
            for n in range(1, members + 1)
        ]
        with (folder / f"{payer_id}_270_{file_number:09d}.x12").open("w", newline="") as out:
            write_270(
                out,
                inquiries,
                submitter=SIMULATED_CLEARINGHOUSE,
                control=ControlNumbers(
                    file_number, file_number, range(file_number, file_number + 1)
                ),
                now=datetime(2026, 10, 1, 8, 0),
            )
    return root / "outbox"


def test_every_inquiry_is_answered_once_validly_and_deterministically(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path / "a")
    config = SimConfig(eligibility_inactive_member_ids=("M877260003",))
    first = answer_eligibility(outbox, tmp_path / "a" / "inbox", seed=5, today=TODAY, config=config)
    assert first.inquiries == 60 == first.active + first.inactive
    assert len(first.files_271) == 2 and not first.files_unreadable
    for path in first.files_271:
        report = validate_file(path)
        assert report.is_valid, format_report(report)
        assert path.stat().st_mode & 0o777 == 0o600
    responses = [
        row
        for path in first.files_271
        for row in parse_271(path.read_bytes(), path.name)["eligibility_responses"]
    ]
    traces = sorted(r.trace_number for r in responses)
    assert traces == sorted(
        [f"000000001-{n:05d}" for n in range(1, 31)] + [f"000000002-{n:05d}" for n in range(1, 31)]
    )
    by_trace = {r.trace_number: r for r in responses}
    assert by_trace["000000001-00003"].coverage_status == "inactive"  # configured
    assert by_trace["000000001-00005"].subscriber_level == "dependent"
    assert {r.coverage_status for r in responses} <= {"active", "inactive"}
    # Never twice: a second run answers nothing.
    again = answer_eligibility(outbox, tmp_path / "a" / "inbox", seed=5, today=TODAY, config=config)
    assert again.inquiries == 0 and not again.files_271
    # Same seed, same outbox: the same bytes.
    other = answer_eligibility(
        _outbox(tmp_path / "b"), tmp_path / "b" / "inbox", seed=5, today=TODAY, config=config
    )
    assert [p.read_bytes() for p in other.files_271] == [p.read_bytes() for p in first.files_271]


def test_rates_decide_inactive_and_out_of_network(tmp_path: Path) -> None:
    config = SimConfig(eligibility_inactive_rate=1.0)
    result = answer_eligibility(
        _outbox(tmp_path / "a", 5), tmp_path / "a" / "inbox", seed=1, today=TODAY, config=config
    )
    assert result.inactive == result.inquiries == 10
    config = SimConfig(eligibility_inactive_rate=0.0, eligibility_out_of_network_rate=1.0)
    result = answer_eligibility(
        _outbox(tmp_path / "b", 5), tmp_path / "b" / "inbox", seed=1, today=TODAY, config=config
    )
    assert result.active == result.out_of_network == 10
    tables = parse_271(result.files_271[0].read_bytes(), "x")
    coinsurance = [b for b in tables["eligibility_benefits"] if b.benefit_code == "A"]
    assert {(b.benefit_percent, b.in_plan_network) for b in coinsurance} == {
        (config.eligibility_out_of_network_coinsurance_percent / 100, "N")
    }
