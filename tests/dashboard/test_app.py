"""The dashboard under Streamlit's AppTest on a real warehouse (conftest ``dashboard_area``):
every page renders without an exception and shows the figures computed here from the marts
(tests/dashboard/support.py), with money as $1,234.56; the filters change them as they should;
no patient name, MRN or member id is ever on screen; a missing, empty, busy or outdated
warehouse gets a message instead of a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from revcycle.dashboard import WAREHOUSE_ENV, app_path
from revcycle.dashboard.views import PAGES
from revcycle.paths import WorkArea
from tests.dashboard.support import Expected, dollars, expected_figures

TIMEOUT = 60


@pytest.fixture(scope="module")
def expected(dashboard_area: WorkArea) -> Expected:
    return expected_figures(dashboard_area.warehouse)


@pytest.fixture
def app(dashboard_area: WorkArea, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """A fresh dashboard session on the real warehouse (not run yet)."""
    monkeypatch.setenv(WAREHOUSE_ENV, str(dashboard_area.warehouse))
    return AppTest.from_file(str(app_path()), default_timeout=TIMEOUT)


def _open(app: AppTest, slug: str) -> AppTest:
    app.query_params["page"] = slug
    app.run()
    _assert_no_error(app)
    return app


def _assert_no_error(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def _metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def _text(app: AppTest) -> str:
    """Everything a user can read on the page, tables included."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning"):
        parts += [str(e.value) for e in getattr(app, kind)]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [df.value.to_string() for df in app.dataframe]
    parts += [" ".join(map(str, s.options)) for s in app.selectbox]
    return "\n".join(parts)


def _frame(app: AppTest, *columns: str) -> pd.DataFrame:
    """The first table holding all these columns."""
    for element in app.dataframe:
        frame = element.value
        if set(columns) <= set(frame.columns):
            return frame
    raise AssertionError(f"no table with columns {columns}")


def test_every_page_renders_without_an_exception_or_patient_data(
    app: AppTest, expected: Expected
) -> None:
    app.run()
    _assert_no_error(app)
    money_columns = 0
    for page in PAGES:
        app.radio(key="page").set_value(page.slug).run()
        _assert_no_error(app)
        assert app.header[0].value.startswith(page.title.split()[0]), page.slug
        assert app.main.caption[-1].value.startswith("Read-only view of"), page.slug
        shown = _text(app)
        leaked = [value for value in expected.phi if value in shown]
        assert not leaked, f"{page.slug} shows patient data"
        assert app.query_params["page"] == page.slug
        money_columns += _assert_money_shown_as_money(app, page.slug)
    assert money_columns >= 20


def _assert_money_shown_as_money(app: AppTest, slug: str) -> int:
    """Every table column holding Decimal values is formatted as dollars (or as a share);
    returns how many such columns the page has."""
    checked = 0
    for element in app.dataframe:
        frame = element.value
        config = json.loads(element.proto.columns)
        for column in frame.columns:
            values = [v for v in frame[column] if v is not None and not pd.isna(v)]
            if values and all(isinstance(v, Decimal) for v in values):
                shown = config.get(str(column), {}).get("type_config", {}).get("format")
                assert shown in ("dollar", "percent"), (slug, column, shown)
                checked += 1
    return checked


def test_overview_shows_ar_and_kpis(app: AppTest, expected: Expected) -> None:
    _open(app, "overview")
    metrics = _metrics(app)
    assert metrics["Insurance A/R"] == dollars(expected.insurance_ar)
    assert metrics["Patient A/R"] == dollars(expected.patient_ar)
    assert metrics["Total A/R"] == dollars(expected.insurance_ar + expected.patient_ar)
    assert metrics["Clean claim rate"] == expected.clean_claim_rate
    captions = [c.value for c in app.caption]
    assert captions[0].startswith(f"{expected.open_claims:,} open claims")
    # The tile shows numerator, denominator and window, not only the ratio.
    assert any(
        c.startswith(f"{expected.clean_ready} insured claims")
        and f"/ {expected.clean_insured} insured" in c
        for c in captions
    ), captions
    assert any(c.startswith("served ") and c.endswith(" to 2026-11-01") for c in captions)
    assert len(app.metric) == 3 + 11  # A/R tiles + every KPI of marts.fct_kpis

    months = app.selectbox(key="kpi_month").options
    assert months[0] == "To date" and "October 2026" in months
    app.selectbox(key="kpi_month").set_value(date(2026, 10, 1)).run()
    _assert_no_error(app)
    assert any(c.value.startswith("served in October 2026") for c in app.caption)


def test_aging_shows_insurance_and_patient_ar_by_payer(app: AppTest, expected: Expected) -> None:
    _open(app, "aging")
    metrics = _metrics(app)
    assert metrics["Insurance A/R"] == dollars(expected.insurance_ar)
    assert metrics["Patient A/R"] == dollars(expected.patient_ar)
    by_payer = _frame(app, "payer_id", "0-30", "120+", "total_amount")
    assert sum(by_payer["total_amount"], Decimal(0)) == expected.insurance_ar
    assert all(isinstance(v, Decimal) for v in by_payer["total_amount"])  # exact money
    buckets = ["0-30", "31-60", "61-90", "91-120", "120+"]
    for _, row in by_payer.iterrows():
        assert sum((row[b] for b in buckets), Decimal(0)) == row["total_amount"]

    app.radio(key="aging_basis").set_value("First submission").run()
    app.radio(key="aging_balance").set_value("Patient").run()
    _assert_no_error(app)
    assert "Over 90 days from first submission" in _metrics(app)
    by_payer = _frame(app, "payer_id", "0-30", "total_amount")
    assert sum(by_payer["total_amount"], Decimal(0)) == expected.patient_ar

    # The payer filter: only that payer's claims.
    app.selectbox(key="filter_payer").set_value(expected.payer_id).run()
    _assert_no_error(app)
    assert _metrics(app)["Insurance A/R"] == dollars(expected.payer_insurance_ar)
    assert set(_frame(app, "claim_id", "age_days")["payer_id"]) == {expected.payer_id}


def test_denials_pareto_matches_the_denial_breakdowns(app: AppTest, expected: Expected) -> None:
    _open(app, "denials")
    metrics = _metrics(app)
    assert metrics["Denials"] == f"{expected.denials:,}"
    assert metrics["Denied"] == dollars(expected.denied_amount)
    assert [t.label for t in app.tabs] == [
        "By reason (CARC)",
        "By payer",
        "By billing provider",
        "By rendering provider",
        "By procedure",
    ]
    carc = app.tabs[0].dataframe[0].value
    assert carc.iloc[0]["breakdown_key"] == expected.top_carc
    assert carc.iloc[0]["denied_amount"] == expected.top_carc_amount
    assert carc.iloc[-1]["cumulative_share"] == Decimal("1.0000")
    # Every breakdown adds up to the same denied dollars.
    for tab in app.tabs:
        frame = tab.dataframe[0].value
        assert sum(frame["denied_amount"], Decimal(0)) == expected.denied_amount, tab.label


def test_held_claims_list_the_edits_to_fix(app: AppTest, expected: Expected) -> None:
    _open(app, "held")
    metrics = _metrics(app)
    assert metrics["Held claims"] == f"{expected.held_claims:,}"
    assert metrics["Held charges"] == dollars(expected.held_amount)
    held = _frame(app, "claim_id", "hold_edit_ids")
    assert expected.held_claim_id in set(held["claim_id"])
    assert held["hold_edit_ids"].notna().all()
    edits = _frame(app, "claim_id", "edit_id", "detail")
    assert set(edits["claim_id"]) == set(held["claim_id"])
    assert "Secondary (COB) claims" in [s.value for s in app.subheader]

    # A date-of-service range keeps only the claims served in it.
    with duckdb.connect(str(_warehouse(app)), read_only=True) as con:
        row = con.execute(
            """
            select count(*) from marts.fct_claim_scrub_status
            join marts.fct_claims using (claim_id)
            where scrub_status = 'held' and service_date between '2026-07-01' and '2026-09-30'
            """
        ).fetchone()
    assert row is not None
    app.date_input(key="filter_dates").set_value((date(2026, 7, 1), date(2026, 9, 30))).run()
    _assert_no_error(app)
    assert _metrics(app)["Held claims"] == f"{row[0]:,}"


def _warehouse(app: AppTest) -> Path:
    caption = app.main.caption[-1].value
    return Path(caption.removeprefix("Read-only view of ").split(", as of")[0])


def test_unmatched_remittances(app: AppTest, expected: Expected) -> None:
    _open(app, "remits")
    metrics = _metrics(app)
    assert metrics["Items to work"] == f"{expected.work_items:,}"
    assert metrics["Money at stake"] == dollars(expected.work_amount)
    items = _frame(app, "work_item_id", "reason")
    assert len(items) == expected.work_items
    assert items["reason"].str.len().min() > 0


def test_claim_lookup_shows_status_history_and_ledger(app: AppTest, expected: Expected) -> None:
    _open(app, "claim")
    assert app.info[0].value.startswith("Enter a claim id")
    # Typed in lower case with spaces around it: still found.
    app.text_input(key="claim_id").set_value(f"  {expected.lookup_claim_id.lower()} ").run()
    _assert_no_error(app)
    metrics = _metrics(app)
    assert metrics["Status"] == expected.lookup_status
    assert metrics["Charged"] == dollars(expected.lookup_charge)
    assert metrics["Open with insurance"] == dollars(expected.lookup_open)
    history = _frame(app, "status_seq", "status")
    assert len(history) == expected.lookup_history_rows
    assert history.iloc[-1]["status"] == expected.lookup_status
    assert bool(history.iloc[-1]["is_current"])
    ledger = _frame(app, "event_type", "amount", "balance_component")
    assert len(ledger) == expected.lookup_ledger_rows
    on_balance = ledger[ledger["balance_component"] != "none"]
    assert sum(on_balance["amount"], Decimal(0)) == expected.lookup_open
    assert app.query_params["claim"] == expected.lookup_claim_id  # the link to the claim

    app.text_input(key="claim_id").set_value(expected.held_claim_id).run()
    _assert_no_error(app)
    assert _metrics(app)["Status"] == "held"
    assert any(s.value == "Scrubber edits" for s in app.subheader)

    app.text_input(key="claim_id").set_value("CNOSUCHCLAIM00000").run()
    _assert_no_error(app)
    assert "No claim with id `CNOSUCHCLAIM00000`" in app.warning[0].value


def test_claim_lookup_from_the_url(app: AppTest, expected: Expected) -> None:
    app.query_params["claim"] = expected.lookup_claim_id
    _open(app, "claim")
    assert _metrics(app)["Status"] == expected.lookup_status


def test_pipeline_runs(app: AppTest, expected: Expected) -> None:
    _open(app, "runs")
    metrics = _metrics(app)
    assert metrics["Claims-gate runs"] == f"{expected.gate_runs:,}"
    assert metrics["Last gate verdict"] == "passed"
    assert metrics["837 files"] == f"{expected.files_837:,}"
    assert metrics["Claims sent"] == f"{expected.claims_sent:,}"
    files = _frame(app, "file_name", "claims", "charge_amount")
    assert files["claims"].sum() == expected.claims_sent
    manifest = _frame(app, "file_name", "status", "rows_loaded")
    assert {"loaded"} <= set(manifest["status"])


@pytest.fixture
def warehouse_copy(dashboard_area: WorkArea, tmp_path: Path) -> Path:
    """A copy of the test warehouse a test may change."""
    copy = tmp_path / "revcycle.duckdb"
    shutil.copy(dashboard_area.warehouse, copy)
    return copy


def test_held_secondary_claims_and_a_failed_gate_run_are_shown(
    warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the small cycle does not produce: a held secondary claim, a failed gate run."""
    with duckdb.connect(str(warehouse_copy)) as con:
        row = con.execute(
            """
            update marts.fct_secondary_claims
            set secondary_status = 'held', hold_reason = 'primary_balance_open'
            where claim_id = (select min(claim_id) from marts.fct_secondary_claims)
            returning claim_id, primary_patient_share_amount
            """
        ).fetchone()
        assert row is not None
        held_claim, share = row
        con.execute(
            """
            insert into ops.gate_runs values
                ('run-failed', 'claims_ready_to_bill', null, timestamp '2099-01-01 06:00',
                 false, 3, 7, 67, 1, 'claims gate FAILED: 1 expectation')
            """
        )
        con.execute(
            """
            insert into ops.gate_failures values
                ('run-failed', 'claims_ready_to_bill', 'expect_column_values_to_not_be_null',
                 'billing_npi', 2, 3, '{}', null)
            """
        )
    app = _run_on(warehouse_copy, monkeypatch, "held")
    _assert_no_error(app)
    held = _frame(app, "secondary_claim_id", "hold_reason", "what_to_do")
    assert list(held["claim_id"]) == [held_claim]
    assert held.iloc[0]["primary_patient_share_amount"] == share
    assert held.iloc[0]["what_to_do"] == "the primary payer still owes part of the claim"

    app.radio(key="page").set_value("runs").run()
    _assert_no_error(app)
    assert _metrics(app)["Last gate verdict"] == "FAILED"
    failures = _frame(app, "expectation_type", "unexpected_count")
    assert list(failures["column_name"]) == ["billing_npi"]


# --- a warehouse that is not there, empty, busy or outdated ----------------------------------


def _run_on(warehouse: Path, monkeypatch: pytest.MonkeyPatch, slug: str = "overview") -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    app = AppTest.from_file(str(app_path()), default_timeout=TIMEOUT)
    app.query_params["page"] = slug
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_missing_warehouse_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "warehouse" / "revcycle.duckdb"
    app = _run_on(warehouse, monkeypatch)
    [warning] = [w.value for w in app.warning]
    assert warning.startswith(f"No warehouse at `{warehouse}` yet")
    assert "revcycle demo" in warning
    assert not warehouse.exists()  # opening read-only never creates one


def test_empty_warehouse_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "revcycle.duckdb"
    duckdb.connect(str(warehouse)).close()
    app = _run_on(warehouse, monkeypatch)
    [warning] = [w.value for w in app.warning]
    assert "has no marts to show yet" in warning
    assert "marts.fct_kpis" in warning and "revcycle build" in warning


def test_a_page_whose_mart_is_missing_says_so(
    warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("drop table marts.fct_denials")
    app = _run_on(warehouse_copy, monkeypatch, "denials")
    [warning] = [w.value for w in app.warning]
    assert warning.startswith("This page needs a mart this warehouse does not have")
    assert "fct_denials" in warning
    # The other pages still work.
    app.radio(key="page").set_value("aging").run()
    _assert_no_error(app)
    assert not app.warning


@pytest.fixture
def writer(warehouse_copy: Path) -> Iterator[Path]:
    """Another process holding the warehouse open for writing, as a pipeline run does."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "sys.stdin.read()",
            str(warehouse_copy),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    try:
        yield warehouse_copy
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_busy_warehouse_says_so(writer: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _run_on(writer, monkeypatch)
    [warning] = [w.value for w in app.warning]
    assert "cannot be opened read-only right now" in warning
    assert "pipeline run may be writing it" in warning
