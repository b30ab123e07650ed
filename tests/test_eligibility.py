"""Eligibility end to end, with the real parts and no Prefect: a generated extract is loaded
and built; ``revcycle.eligibility`` writes 270s for the encounters of the two weeks after
2026-10-01 (registration asking before the visits); the simulated payers answer with 271s,
one chosen coverage inactive; the inbox loads them; dbt builds; the marts and the scrubber
say what the payers said.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from revcycle.config import submitter_from_env
from revcycle.eligibility import (
    EligibilityResult,
    ensure_eligibility_tables,
    fetch_candidates,
    send_inquiries,
)
from revcycle.extracts.load import LoadStatus
from revcycle.inbox import load_inbox
from revcycle.paths import WorkArea
from revcycle.sim.config import SimConfig
from revcycle.sim.eligibility import EligibilitySimResult, answer_eligibility
from revcycle.x12.validate import format_report, validate_file
from tests.conftest import AS_OF
from tests.cycle_support import copy_area, dbt_build

ASKED_ON = date(2026, 10, 1)
DAYS = 14
SEED = 11
DETAIL = re.compile(
    r"payer (\S+) reported coverage (\S+) inactive on (\d{4}-\d\d-\d\d) "
    r"\(271 trace (\d{9}-\d{5}), answered (\d{4}-\d\d-\d\d)\)"
)


@dataclass(frozen=True)
class Cycle:
    area: WorkArea
    sent: EligibilityResult
    answered: EligibilitySimResult
    inactive_member_id: str
    inactive_claim_id: str


def _rows(area: WorkArea, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def cycle(small_built_area: WorkArea, tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    area = copy_area(small_built_area, tmp_path_factory.mktemp("eligibility") / "data")

    with duckdb.connect(str(area.warehouse)) as con:
        ensure_eligibility_tables(con)
        candidates = fetch_candidates(con, as_of=ASKED_ON, days=DAYS)
        # The coverage to be reported inactive: a primary coverage, patient = subscriber, of an
        # encounter in the window whose claim the scrubber finds clean, its member id unique.
        chosen = con.execute(
            """
            select candidates.member_id, claims.claim_id
            from marts.eligibility_inquiry_candidates as candidates
            inner join marts.fct_claims as claims
                on candidates.encounter_id = claims.encounter_id
                and candidates.coverage_id = claims.coverage_id
            inner join marts.fct_claim_scrub_status as scrub
                on claims.claim_id = scrub.claim_id
            where candidates.service_date between ? and ?
                and candidates.coverage_order = 1
                and candidates.is_patient_subscriber
                and scrub.scrub_status = 'ready'
                and candidates.member_id in (
                    select member_id from marts.eligibility_inquiry_candidates
                    group by member_id having count(distinct coverage_id) = 1
                )
            order by claims.claim_id
            limit 1
            """,
            [ASKED_ON, ASKED_ON + timedelta(days=DAYS)],
        ).fetchall()
        assert chosen, "no clean claim in the window"
        member_id, claim_id = (str(v) for v in chosen[0])
        sent = send_inquiries(
            con,
            candidates,
            area.outbox / "270",
            submitter_from_env(),
            datetime(2026, 10, 1, 8, 0),
            as_of=ASKED_ON,
        )
    config = SimConfig(eligibility_inactive_rate=0.0, eligibility_inactive_member_ids=(member_id,))
    answered = answer_eligibility(area.outbox, area.inbox, seed=SEED, today=ASKED_ON, config=config)
    loaded = load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)
    assert loaded and {(i.kind, i.outcome.status) for i in loaded} == {("271", LoadStatus.LOADED)}
    rebuilt = dbt_build(area, AS_OF)
    assert rebuilt.returncode == 0, rebuilt.stdout[-6000:]
    return Cycle(area, sent, answered, member_id, claim_id)


def test_270s_are_written_per_payer_recorded_and_valid(cycle: Cycle) -> None:
    sent = cycle.sent
    assert sent.inquiry_count > 0 and not sent.skipped
    payers = [f.payer_id for f in sent.files]
    assert payers == sorted(set(payers))  # one file per payer
    outbox = cycle.area.outbox / "270"
    assert outbox.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in outbox.iterdir()) == sorted(f.path.name for f in sent.files)
    for file in sent.files:
        assert re.fullmatch(rf"{file.payer_id}_270_\d{{9}}\.x12", file.path.name)
        assert file.path.stat().st_mode & 0o777 == 0o600
        report = validate_file(file.path)
        assert report.is_valid, format_report(report)
    recorded = _rows(
        cycle.area,
        "select inquiry_id, file_name, service_date, inquiry_date from ops.eligibility_inquiries",
    )
    assert len(recorded) == sent.inquiry_count == len({r[0] for r in recorded})
    assert {r[3] for r in recorded} == {ASKED_ON}
    assert all(ASKED_ON <= r[2] <= ASKED_ON + timedelta(days=DAYS) for r in recorded)  # type: ignore[operator]
    # Interchange numbers come from the same counter as the 837s'.
    (last,) = _rows(
        cycle.area, "select last_number from ops.control_numbers where kind = 'interchange'"
    )
    assert last[0] == len(sent.files)


def test_the_271s_are_valid_and_answer_every_inquiry(cycle: Cycle) -> None:
    answered = cycle.answered
    assert answered.inquiries == cycle.sent.inquiry_count
    assert answered.inactive >= 1
    for name in (p.name for p in answered.files_271):
        archived = cycle.area.archive / "271" / name
        report = validate_file(archived)
        assert report.is_valid, format_report(report)


def test_the_eligibility_mart_has_one_answer_per_inquiry(cycle: Cycle) -> None:
    rows = _rows(
        cycle.area,
        """
        select count(*), count(distinct inquiry_id), count(response_id),
               count(*) filter (where answer_count = 1),
               count(*) filter (where eligibility_status = 'active' and is_active),
               count(*) filter (where eligibility_status = 'inactive'),
               count(*) filter (where eligibility_status = 'active' and copay_amount > 0
                                and coinsurance_percent > 0
                                and deductible_remaining_amount >= 0
                                and is_out_of_network is not null)
        from marts.fct_eligibility_checks
        """,
    )
    total, distinct, answered, once, active, inactive, with_figures = rows[0]
    assert total == distinct == answered == once == cycle.sent.inquiry_count
    assert (active, inactive) == (cycle.answered.active, cycle.answered.inactive)
    assert with_figures == active
    statuses = dict(
        _rows(
            cycle.area,
            "select verification_status, count(*) from marts.fct_encounter_eligibility "
            "group by all",
        )
    )
    assert statuses["not_checked"] > 0  # encounters outside the window were never asked about
    assert statuses.get("active", 0) + statuses.get("inactive", 0) == cycle.sent.inquiry_count


def test_the_claim_of_the_inactive_coverage_is_held_with_a_clear_message(cycle: Cycle) -> None:
    edits = _rows(
        cycle.area,
        "select claim_id, severity, detail from marts.fct_claim_edits "
        "where edit_id = 'ELIGIBILITY_INACTIVE'",
    )
    assert [e[0] for e in edits] == [cycle.inactive_claim_id]
    _claim_id, severity, detail = edits[0]
    assert severity == "hold"
    found = DETAIL.fullmatch(str(detail))
    assert found, detail
    payer_id, coverage_id, service_date, trace, answered_on = found.groups()
    assert answered_on == ASKED_ON.isoformat()
    (inquiry,) = _rows(
        cycle.area,
        "select payer_id, coverage_id, service_date, member_id from ops.eligibility_inquiries "
        "where inquiry_id = ?",
        [trace],
    )
    assert (inquiry[0], inquiry[1], str(inquiry[2]), inquiry[3]) == (
        payer_id,
        coverage_id,
        service_date,
        cycle.inactive_member_id,
    )
    assert cycle.inactive_member_id not in str(detail)  # never a member id in a message
    (status,) = _rows(
        cycle.area,
        "select scrub_status, hold_edit_ids from marts.fct_claim_scrub_status where claim_id = ?",
        [cycle.inactive_claim_id],
    )
    assert status == ("held", "ELIGIBILITY_INACTIVE")
    ready = _rows(
        cycle.area,
        "select count(*) from marts.claims_ready_to_bill where claim_id = ?",
        [cycle.inactive_claim_id],
    )
    assert ready == [(0,)]


def test_claims_with_an_active_answer_or_no_answer_are_not_held_for_it(cycle: Cycle) -> None:
    rows = _rows(
        cycle.area,
        """
        select eligibility.verification_status, scrub.scrub_status, count(*)
        from marts.fct_claims as claims
        inner join marts.fct_encounter_eligibility as eligibility
            on claims.encounter_id = eligibility.encounter_id
            and claims.coverage_id = eligibility.coverage_id
        inner join marts.fct_claim_scrub_status as scrub on claims.claim_id = scrub.claim_id
        where coalesce(scrub.hold_edit_ids, '') not like '%ELIGIBILITY_INACTIVE%'
        group by all
        """,
    )
    counts = {(verification, scrub): n for verification, scrub, n in rows}
    assert counts.get(("active", "ready"), 0) > 0  # verified active and billable
    assert counts.get(("not_checked", "ready"), 0) > 0  # unverified is not inactive
    assert not any(v == "inactive" for v, _ in counts)


def test_asking_again_the_same_day_asks_nothing_and_the_inbox_skips_repeats(
    cycle: Cycle, tmp_path: Path
) -> None:
    area = WorkArea(tmp_path / "copy")
    shutil.copytree(cycle.area.root, area.root, ignore=shutil.ignore_patterns("dbt"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "revcycle",
            "eligibility",
            "--as-of",
            ASKED_ON.isoformat(),
            "--days",
            str(DAYS),
            "--data-dir",
            str(area.root),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "0 eligibility inquiries" in result.stdout
    assert f"{cycle.sent.inquiry_count} already asked" in result.stdout
    assert sorted((area.outbox / "270").iterdir()) == sorted(
        area.outbox / "270" / f.path.name for f in cycle.sent.files
    )
    # A 271 delivered twice is skipped; an unreadable one is quarantined with a reason.
    archived = sorted((area.archive / "271").iterdir())
    inbox = area.inbox / "271"
    shutil.copy(archived[0], inbox / "again.x12")
    (inbox / "broken.x12").write_bytes(b"not an eligibility response")
    loaded = load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)
    outcomes = {i.outcome.file_name: i.outcome for i in loaded}
    assert outcomes["again.x12"].status is LoadStatus.SKIPPED
    assert outcomes["broken.x12"].status is LoadStatus.QUARANTINED
    assert set(outcomes) == {"again.x12", "broken.x12"}
    assert (area.archive / "271" / "again.x12").exists()
    quarantined = outcomes["broken.x12"].quarantined_to
    assert quarantined is not None and quarantined.parent == area.quarantine / "inbox" / "271"
    reason = quarantined.with_name(quarantined.name + ".reason.txt").read_text()
    assert "broken.x12" in reason


def test_the_dashboard_shows_the_verification_rate(cycle: Cycle) -> None:
    from revcycle.dashboard import queries

    with duckdb.connect(str(cycle.area.warehouse), read_only=True) as con:
        rate = queries.eligibility_verification(con, ASKED_ON)
    assert rate is not None
    primary = _rows(
        cycle.area,
        "select verification_status, count(*) from marts.fct_encounter_eligibility "
        "where coverage_order = 1 and service_date between ? and ? group by all",
        [ASKED_ON - timedelta(days=14), ASKED_ON + timedelta(days=14)],
    )
    counts = dict(primary)
    assert rate.encounters == sum(counts.values())
    assert (rate.active, rate.inactive, rate.not_checked) == (
        counts.get("active", 0),
        counts.get("inactive", 0),
        counts.get("not_checked", 0),
    )
    assert rate.rate is not None and 0 < rate.rate < 1
