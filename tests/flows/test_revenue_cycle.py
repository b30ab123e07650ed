"""The whole flow as the demo runs it (Prefect, ingest, dbt build with the scrubber, claims gate,
837 files, simulated partners, reconciliation), then the next night's run on the same extract:
it bills only the secondary (COB) claims the primaries' 835s made due; then the whole inbox
delivered again changes no mart. (A night with no new input changing nothing and sending
nothing is tests/flows/test_nightly.py.)"""

from __future__ import annotations

import csv
import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import duckdb
import pytest

from revcycle.cli import DEMO_ENCOUNTERS
from revcycle.x12.read_837 import read_837_claims
from revcycle.x12.validate import format_report, validate_files
from tests.conftest import AS_OF
from tests.cycle_support import assert_every_dollar_is_accounted_for
from tests.kpi_support import assert_kpis_match_ledger
from tests.phi_support import files_open_to_others, find_phi, phi_terms, prefect_log_text

MART_TABLES = (
    "dim_patients",
    "dim_payers",
    "dim_providers",
    "fct_charges",
    "fct_claims",
    "fct_claim_lines",
    "fct_claim_diagnoses",
    "fct_claim_edits",
    "fct_claim_scrub_status",
    "fct_ar_ledger",
    "fct_claim_balances",
    "fct_claim_status_history",
    "fct_remit_work_queue",
    "fct_secondary_claims",
    "fct_ar_aging",
    "fct_kpis",
    "fct_ar_daily",
)


def _fingerprints(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every row's content, per mart."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        out = {}
        for table in MART_TABLES:
            row = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0) from marts.{table} as t"
            ).fetchone()
            assert row is not None
            out[table] = (int(row[0]), int(row[1]))
        return out


def _billed_in_extract(extract_dir: Path) -> Decimal:
    with (extract_dir / "charges.csv").open(encoding="utf-8", newline="") as fh:
        return sum((Decimal(r["charge_amount"]) for r in csv.DictReader(fh)), Decimal("0.00"))


def _task_run_states(flow_run_id: UUID) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while True:  # the API pages at 200 task runs
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200,
                offset=len(states),
            )
            states.update({run.name: run.state_name or "" for run in page})
            if len(page) < 200:
                return states


def _assert_dbt_nodes_were_tasks(flow_run_id: UUID) -> None:
    models = ("fct_claims", "fct_claim_lines", "stg_emr__charges", "fct_claim_scrub_status")
    deadline = time.monotonic() + 60
    while True:  # task-run states reach the API through events, a little after the run
        tasks = _task_run_states(flow_run_id)
        matching = {m: [n for n in tasks if m in n] for m in models}
        done = all(
            names and all(tasks[n] == "Completed" for n in names) for names in matching.values()
        )
        if done or time.monotonic() > deadline:
            break
        time.sleep(2)
    for model, names in matching.items():
        assert names, f"no task run for {model}: {sorted(tasks)}"
        assert all(tasks[n] == "Completed" for n in names), {n: tasks[n] for n in names}
    # Data and unit tests run inside the build without a task run each (their bookkeeping
    # cost more than the build itself); models and seeds are the task runs.
    assert not [n for n in tasks if n.startswith(("test ", "unit_test "))]
    assert any(n.startswith("seed ") for n in tasks)


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.timeout(1800)  # three demo-size Prefect flow runs on two cores
def test_demo_flow_bills_every_ready_claim_once_in_valid_837s(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from flows.revenue_cycle import reconcile_inbox, revenue_cycle

    data_dir = tmp_path / "data"

    state = revenue_cycle(
        data_dir=str(data_dir),
        generate_encounters=DEMO_ENCOUNTERS,
        seed=42,
        as_of=AS_OF,
        simulate_partners=True,
        return_state=True,
    )

    assert state.is_completed(), state.message
    first = state.result()
    assert (first.files_loaded, first.files_quarantined) == (7, 0)
    # Every billed dollar of the extract is in the claims mart, no more, no less.
    assert first.marts.billed_amount == _billed_in_extract(data_dir / "extracts")
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        encounters = con.execute("select count(*) from raw.encounters").fetchone()
    assert encounters is not None and first.marts.claims == encounters[0] == DEMO_ENCOUNTERS
    _assert_dbt_nodes_were_tasks(state.state_details.flow_run_id)

    # Claims built = claims emitted + claims held (+ self-pay), by count and by dollars.
    billing = first.billing
    assert billing is not None
    status = billing.status
    assert status["ready"].claims == 0, "a ready claim was left unsent"
    assert status["held"].claims > 0 and status["self_pay"].claims > 0
    assert billing.claims_emitted == status["submitted"].claims > 0
    assert billing.amount_emitted == status["submitted"].amount
    assert (
        billing.claims_emitted + status["held"].claims + status["self_pay"].claims
        == first.marts.claims
    )
    assert (
        billing.amount_emitted + status["held"].amount + status["self_pay"].amount
        == first.marts.billed_amount
    )

    # Every file validates with pyx12 and reads back to exactly the claims that were sent.
    files = sorted((data_dir / "outbox" / "837").iterdir())
    assert [p.suffix for p in files] == [".x12"] * len(files)  # no temp file left behind
    assert {p.name for p in files} == {f.path.name for f in billing.files}
    assert any("_837P_" in p.name for p in files) and any("_837I_" in p.name for p in files)
    reports = validate_files(files)
    problems = [line for r in reports if not r.is_valid for line in format_report(r)]
    assert not problems, "\n".join(problems[:20])
    read_back = {c.claim_id: c for p in files for c in read_837_claims(p.read_bytes(), p.name)}
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        sent = dict(
            con.execute(
                """
                select claims.claim_id, claims.total_charge_amount
                from marts.fct_claims as claims
                inner join marts.fct_claim_scrub_status as scrub using (claim_id)
                where scrub.scrub_status = 'ready'
                """
            ).fetchall()
        )
        sent_lines = dict(
            con.execute(
                """
                select lines.claim_line_id, lines.charge_amount
                from marts.fct_claim_lines as lines
                inner join marts.fct_claim_scrub_status as scrub using (claim_id)
                where scrub.scrub_status = 'ready'
                """
            ).fetchall()
        )
        submissions = con.execute(
            """
            select
                count(*) filter (where is_claim_level),
                count(*) filter (where not is_claim_level),
                count(distinct file_name),
                count(*) filter (where claim_status <> 'submitted')
            from marts.fct_claim_submissions
            """
        ).fetchone()
    assert submissions == (billing.claims_emitted, len(sent_lines), len(files), 0)
    assert {cid: c.total_charge for cid, c in read_back.items()} == sent
    assert {
        line.line_control_number: line.charge for c in read_back.values() for line in c.lines
    } == sent_lines
    assert_every_dollar_is_accounted_for(first.warehouse)
    assert first.inbox_files_loaded > 0
    assert not any(
        p.is_file() and not p.name.startswith(".") for p in (data_dir / "inbox").rglob("*")
    )
    before = _fingerprints(first.warehouse)
    assert all(count > 0 for count, _ in before.values())

    # Run 2: the primaries' 835s are in; claims whose primary left a patient share and whose
    # patient has a secondary coverage go to the secondary payer, with the COB loops.
    second = revenue_cycle(
        data_dir=str(data_dir),
        generate_encounters=DEMO_ENCOUNTERS,
        seed=42,
        as_of=AS_OF,
        simulate_partners=True,
    )

    assert (second.files_loaded, second.files_skipped, second.files_quarantined) == (0, 7, 0)
    assert second.marts == first.marts
    assert second.billing is not None
    secondary_files = [f.path for f in second.billing.files]
    assert secondary_files, "no secondary claim was billed"
    _assert_secondary_claims_were_billed(first.warehouse, secondary_files)
    assert_every_dollar_is_accounted_for(first.warehouse)
    assert second.inbox_files_loaded > 0  # the secondary payers answered
    after_second = _fingerprints(second.warehouse)

    # The same inbox delivered again (every file already loaded, back in its inbox folder):
    # the reconciliation flow loads nothing and no mart changes.
    archive = data_dir / "archive"
    redelivered = 0
    for kind_dir in sorted(p for p in archive.iterdir() if p.is_dir()):
        for archived in sorted(kind_dir.iterdir()):
            if archived.is_file() and archived.suffix == ".x12":
                target = data_dir / "inbox" / kind_dir.name / archived.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archived.read_bytes())
                redelivered += 1
    assert redelivered > 0

    assert reconcile_inbox(data_dir=str(data_dir), as_of=AS_OF) == 0  # files loaded
    assert _fingerprints(second.warehouse) == after_second
    assert not any(
        p.is_file() and not p.name.startswith(".") for p in (data_dir / "inbox").rglob("*")
    )

    assert_every_dollar_is_accounted_for(second.warehouse)
    with duckdb.connect(str(second.warehouse), read_only=True) as con:
        manifest = con.execute(
            "select flow_name, status, claims_sent from marts.fct_pipeline_runs order by started_at"
        ).fetchall()
    # The run manifest: two nightly cycles and the stand-alone inbox reconciliation.
    assert [(name, status) for name, status, _ in manifest] == [
        ("revenue-cycle", "completed"),
        ("revenue-cycle", "completed"),
        ("reconcile-inbox", "completed"),
    ]
    assert [sent for _, _, sent in manifest[:2]] == [
        billing.claims_emitted,
        second.billing.claims_emitted,
    ]
    # The KPI marts agree with a direct recomputation from the ledger, with both payers in.
    assert_kpis_match_ledger(second.warehouse)

    # PHI: nothing the three runs printed or logged names a patient, a date of birth or a
    # member id, and every file they wrote under the PHI folders is owner-only.
    _assert_no_phi_logged(data_dir, capfd.readouterr())
    checked, open_to_others = files_open_to_others(data_dir)
    assert checked > 10 and open_to_others == []


def _assert_no_phi_logged(data_dir: Path, captured: pytest.CaptureResult[str]) -> None:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    terms = phi_terms(data_dir / "extracts", {AS_OF, date.today()})
    database = Path(str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).split("///", 1)[-1])
    prefect_logs = prefect_log_text(database)
    assert "revenue" in prefect_logs.lower(), "the runs' logs are not in the test server"
    dbt_logs = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in (data_dir / "dbt").rglob("*.log")
    )
    assert dbt_logs, "dbt wrote no log"
    # Each flow build logs one summary line to Prefect; dbt's per-node lines stay in dbt.log.
    summaries = re.findall(r"dbt build: (\d+) nodes in [\d.]+ s: ([^\n]*)", prefect_logs)
    assert summaries and all(int(nodes) > 0 and "pass" in counts for nodes, counts in summaries)
    assert not any("error" in counts for _, counts in summaries)
    assert "OK created sql table model" in dbt_logs
    assert "OK created sql table model" not in prefect_logs
    with duckdb.connect(str(data_dir / "warehouse" / "revcycle.duckdb"), read_only=True) as con:
        manifest = "\n".join(
            str(r) for r in con.execute("select * from ops.pipeline_runs").fetchall()
        )
    found = (
        find_phi(captured.out + captured.err, terms, "console output")
        + find_phi(prefect_logs, terms, "Prefect run logs")
        + find_phi(dbt_logs, terms, "dbt logs")
        + find_phi(manifest, terms, "run manifest")
    )
    assert found == []


def _assert_secondary_claims_were_billed(warehouse: Path, files: list[Path]) -> None:
    """Secondary claims: valid 837s, SBR01 S with the primary in 2320/2330B, the COB
    balancing (claim charge = primary paid + every adjustment), one per ready claim."""
    reports = validate_files(files)
    problems = [line for r in reports if not r.is_valid for line in format_report(r)]
    assert not problems, "\n".join(problems[:20])
    claims = [c for p in files for c in read_837_claims(p.read_bytes(), p.name)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = dict(
            con.execute(
                """
                select secondary_claim_id, total_charge_amount
                from marts.fct_secondary_claims where secondary_status = 'submitted'
                """
            ).fetchall()
        )
        secondary_paid = con.execute(
            """
            select count(distinct claim_id) from marts.fct_ar_ledger
            where payer_sequence = 'secondary' and event_type = 'payment'
            """
        ).fetchall()[0][0]
        transfers = con.execute(
            """
            select count(distinct claim_id) from marts.fct_ar_ledger
            where event_type = 'transfer_to_secondary'
            """
        ).fetchall()[0][0]
    assert {c.claim_id: c.total_charge for c in claims} == expected
    assert transfers == len(expected)
    assert secondary_paid > 0
    for path in files:
        text = path.read_text(encoding="ascii")
        segments = [s.strip().split("*") for s in text.split("~") if s.strip()]
        sbr = [s[1] for s in segments if s[0] == "SBR"]
        clm = [s for s in segments if s[0] == "CLM"]
        # 2000B (the secondary payer's subscriber) is SBR01 S; each claim's 2320 names the
        # primary with SBR01 P.
        assert sbr[0] == "S" and set(sbr) == {"S", "P"} and sbr.count("P") == len(clm)
        # Per claim: CLM02 = AMT*D + every CAS of the primary (2320 and 2430).
        total = paid = adjusted = Decimal(0)
        for seg in [*segments, ["CLM", "", "0"]]:
            if seg[0] == "CLM":
                assert total == paid + adjusted, (total, paid, adjusted)
                total, paid, adjusted = Decimal(seg[2]), Decimal(0), Decimal(0)
            elif seg[0] == "AMT" and seg[1] == "D":
                paid = Decimal(seg[2])
            elif seg[0] == "CAS":
                adjusted += sum(Decimal(seg[i]) for i in range(3, len(seg), 3) if seg[i])
