"""The claim scrubber (dbt models under ``models/*/scrub``) scored against the generator's
answer key.

One warehouse per module: a generated extract of 3,000 encounters (seed 42, extract date
``AS_OF``) is loaded with the real loader and built with ``dbt build`` with the scrub as-of
date set to the extract date. The scrubber is scored per encounter (= claim):

* catch rate: of the insured encounters carrying an injected defect, the share whose claim is
  ``held`` (target >= 99 %), and the share held *for the right reason* (an edit of the
  defect's family fired);
* false holds: of the clean insured encounters, the share whose claim is ``held`` (< 1 %).

Self-pay encounters may carry payer-free defects too (the generator only keeps payer defects
off them); their claims are ``self_pay`` whatever the edits say (never sent on an 837), but the
edits must still be reported. Figures are printed (``pytest -s``) and repeated in assertion
messages.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from revcycle.extracts.generate import generate_extract
from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.paths import seeds_dir
from tests.conftest import AS_OF
from tests.cycle_support import run_dbt

ENCOUNTERS = 3_000
SEED = 42
CATCH_TARGET = 0.99
FALSE_HOLD_LIMIT = 0.01

# The edits that answer each injected defect (any one of them firing counts as a correct catch).
EXPECTED_EDITS: dict[str, set[str]] = {
    "invalid_npi": {"NPI_BILLING_INVALID", "NPI_RENDERING_INVALID"},
    "missing_member_id": {"MEMBER_ID_MISSING"},
    "coverage_not_active": {"COVERAGE_NOT_ACTIVE"},
    "bad_diagnosis_pointer": {
        "DIAGNOSIS_POINTER_MISSING",
        "DIAGNOSIS_POINTER_OUT_OF_RANGE",
        "DIAGNOSIS_POINTER_UNRESOLVED",
    },
    "malformed_icd10": {"ICD10_MALFORMED"},
    "zero_or_negative_charge": {"CHARGE_NOT_POSITIVE"},
    "duplicate_charge_line": {"DUPLICATE_LINE"},
    "future_date_of_service": {"SERVICE_DATE_IN_FUTURE"},
    "filing_limit_passed": {"TIMELY_FILING_PASSED"},
}

# What an 837 needs created before dbt runs; the Python side owns this table.
OPS_SUBMISSIONS_DDL = """
create schema if not exists ops;
create table if not exists ops.submissions (
    submission_id varchar, file_name varchar, interchange_control_number varchar,
    group_control_number varchar, transaction_control_number varchar, claim_id varchar,
    claim_line_id varchar, claim_frequency_code varchar, payer_id varchar,
    submitted_at timestamp
)
"""


@pytest.fixture(scope="module")
def scrubbed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("scrub")
    generate_extract(
        out_dir=work / "extract",
        answer_key_dir=work / "answer_keys",
        encounters=ENCOUNTERS,
        seed=SEED,
        as_of=AS_OF,
    )
    warehouse = work / "warehouse.duckdb"
    outcomes = load_extract_dir(work / "extract", warehouse, work / "quarantine")
    assert {o.status for o in outcomes} == {LoadStatus.LOADED}
    with duckdb.connect(str(warehouse)) as con:
        con.execute(OPS_SUBMISSIONS_DDL)
    result = run_dbt(warehouse, work, AS_OF)
    assert result.returncode == 0, result.stdout[-4000:]
    with (work / "answer_keys" / "answer_key.csv").open(encoding="utf-8", newline="") as fh:
        answer_key = list(csv.DictReader(fh))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        claims = {
            row[0]: {
                "claim_id": row[1],
                "is_self_pay": row[2],
                "scrub_status": row[3],
                "hold_edit_ids": set(row[4].split(",")) if row[4] else set(),
                "hold_edit_count": row[5],
            }
            for row in con.execute(
                """
                select c.encounter_id, c.claim_id, c.is_self_pay, s.scrub_status,
                       s.hold_edit_ids, s.hold_edit_count
                from marts.fct_claims as c
                inner join marts.fct_claim_scrub_status as s on c.claim_id = s.claim_id
                """
            ).fetchall()
        }
    defects: dict[str, str] = {}
    for row in answer_key:
        defects[row["encounter_id"]] = row["defect"]  # one defect per defective encounter
    return {"warehouse": warehouse, "claims": claims, "defects": defects}


def _query(scrubbed: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(scrubbed["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def _catch_report(scrubbed: dict[str, Any], self_pay: bool) -> tuple[int, int, int, str]:
    """(defective encounters, caught, caught by the right edit, per-defect table)."""
    claims, defects = scrubbed["claims"], scrubbed["defects"]
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for encounter_id, defect in defects.items():
        claim = claims[encounter_id]
        if claim["is_self_pay"] != self_pay:
            continue
        total[defect] += 1
        held = claim["hold_edit_count"] > 0 if self_pay else claim["scrub_status"] == "held"
        caught[defect] += held
        right[defect] += bool(claim["hold_edit_ids"] & EXPECTED_EDITS[defect])
    lines = [f"{'defect':<26}{'encounters':>11}{'held':>6}{'right edit':>12}"]
    lines += [f"{d:<26}{total[d]:>11}{caught[d]:>6}{right[d]:>12}" for d in sorted(total)]
    table = "\n".join(lines)
    return sum(total.values()), sum(caught.values()), sum(right.values()), table


def test_defective_insured_claims_are_held(scrubbed: dict[str, Any]) -> None:
    total, caught, right, table = _catch_report(scrubbed, self_pay=False)
    rate, right_rate = caught / total, right / total
    report = (
        f"{ENCOUNTERS} encounters, insured defective: {total}, held {caught} ({rate:.2%}), "
        f"held by the defect's own edit {right} ({right_rate:.2%})\n{table}"
    )
    print("\n" + report)
    assert total > 50, report  # the extract really has defects to catch
    assert rate >= CATCH_TARGET, report
    assert right_rate >= CATCH_TARGET, report


def test_clean_insured_claims_are_rarely_held(scrubbed: dict[str, Any]) -> None:
    clean = [
        claim
        for encounter_id, claim in scrubbed["claims"].items()
        if encounter_id not in scrubbed["defects"] and not claim["is_self_pay"]
    ]
    held = [c for c in clean if c["scrub_status"] == "held"]
    reasons = Counter(edit for c in held for edit in c["hold_edit_ids"])
    rate = len(held) / len(clean)
    report = (
        f"clean insured claims: {len(clean)}, held {len(held)} ({rate:.2%}); "
        f"hold edits on them: {dict(reasons)}"
    )
    print("\n" + report)
    assert rate < FALSE_HOLD_LIMIT, report


def test_defects_on_self_pay_claims_are_reported_but_never_sent(scrubbed: dict[str, Any]) -> None:
    total, caught, _, table = _catch_report(scrubbed, self_pay=True)
    report = f"self-pay defective: {total}, with a hold edit {caught}\n{table}"
    print("\n" + report)
    assert caught >= CATCH_TARGET * total, report
    statuses = {c["scrub_status"] for c in scrubbed["claims"].values() if c["is_self_pay"]}
    assert statuses == {"self_pay"}


def test_every_edit_is_in_the_catalogue(scrubbed: dict[str, Any]) -> None:
    with (seeds_dir() / "scrub" / "claim_edit_catalogue.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        catalogue = {row["edit_id"]: row["severity"] for row in csv.DictReader(fh)}
    raised = dict(_query(scrubbed, "select distinct edit_id, severity from marts.fct_claim_edits"))
    assert set(raised) <= set(catalogue), set(raised) - set(catalogue)
    assert all(catalogue[edit] == severity for edit, severity in raised.items())


def test_statuses_account_for_every_claim_and_dollar(scrubbed: dict[str, Any]) -> None:
    by_status = {
        row[0]: (row[1], row[2])
        for row in _query(
            scrubbed,
            """
            select s.scrub_status, count(*), sum(c.total_charge_amount)
            from marts.fct_claim_scrub_status as s
            inner join marts.fct_claims as c on s.claim_id = c.claim_id
            group by s.scrub_status
            """,
        )
    }
    [(claim_count, dollars)] = _query(
        scrubbed, "select count(*), sum(total_charge_amount) from marts.fct_claims"
    )
    print(f"\nby status: {by_status}; fct_claims: {claim_count} claims, {dollars}")
    assert set(by_status) == {"ready", "held", "self_pay"}
    assert sum(n for n, _ in by_status.values()) == claim_count == ENCOUNTERS
    assert sum((d for _, d in by_status.values()), Decimal(0)) == dollars


def test_ready_to_bill_views_offer_exactly_the_ready_unsent_claims(
    scrubbed: dict[str, Any],
) -> None:
    [(ready, ready_dollars)] = _query(
        scrubbed,
        """
        select count(*), sum(c.total_charge_amount)
        from marts.fct_claim_scrub_status as s
        inner join marts.fct_claims as c on s.claim_id = c.claim_id
        where s.scrub_status = 'ready'
        """,
    )
    [(offered, offered_dollars, line_dollars, lines, line_count)] = _query(
        scrubbed,
        """
        select count(*), sum(total_charge_amount),
               (select sum(charge_amount) from marts.claim_lines_ready_to_bill),
               (select count(*) from marts.claim_lines_ready_to_bill),
               sum(line_count)
        from marts.claims_ready_to_bill
        """,
    )
    assert (offered, offered_dollars) == (ready, ready_dollars)
    assert line_dollars == offered_dollars and lines == line_count

    # Record one claim as sent (original) and one as a replacement only: the views are live,
    # the original drops out at once, the replacement-only claim stays.
    [sent, replaced] = [
        row[0]
        for row in _query(
            scrubbed, "select claim_id from marts.claims_ready_to_bill order by claim_id limit 2"
        )
    ]
    with duckdb.connect(str(scrubbed["warehouse"])) as con:
        con.execute(
            "insert into ops.submissions (submission_id, claim_id, claim_frequency_code) "
            "values ('T1', ?, '1'), ('T2', ?, '7')",
            [sent, replaced],
        )
        try:
            offered_ids = {
                r[0]
                for r in con.execute("select claim_id from marts.claims_ready_to_bill").fetchall()
            }
            line_claims = {
                r[0]
                for r in con.execute(
                    "select claim_id from marts.claim_lines_ready_to_bill"
                ).fetchall()
            }
        finally:
            con.execute("delete from ops.submissions where submission_id in ('T1', 'T2')")
    assert sent not in offered_ids and sent not in line_claims
    assert replaced in offered_ids
    assert len(offered_ids) == ready - 1


def test_ready_to_bill_text_is_x12_clean(scrubbed: dict[str, Any]) -> None:
    text_columns = [
        row[0]
        for row in _query(
            scrubbed,
            """
            select column_name from information_schema.columns
            where table_schema = 'marts' and table_name = 'claims_ready_to_bill'
              and data_type = 'VARCHAR'
            """,
        )
    ]
    bad = _query(
        scrubbed,
        "select claim_id from marts.claims_ready_to_bill where "
        + " or ".join(f"regexp_matches({c}, '[*~:^|\\x00-\\x1F\\x7F]')" for c in text_columns),
    )
    assert bad == []


def test_details_never_identify_the_patient(scrubbed: dict[str, Any]) -> None:
    rows = _query(
        scrubbed,
        """
        select e.detail, p.last_name, p.first_name, cast(p.birth_date as varchar), c.member_id
        from marts.fct_claim_edits as e
        inner join marts.fct_claims as c on e.claim_id = c.claim_id
        left join marts.dim_patients as p on c.patient_id = p.patient_id
        """,
    )
    assert rows
    # Case-sensitive whole words: names are stored capitalised (Price) while details are
    # written in lower case (chargemaster price), so a name that is also a word is no leak.
    leaks = [
        (detail, value)
        for detail, *identifiers in rows
        for value in identifiers
        if value and re.search(rf"\b{re.escape(value)}\b", detail)
    ]
    assert leaks == []
