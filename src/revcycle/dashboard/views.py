"""The dashboard's pages: each ``render_*`` draws one page from the queries of ``queries.py``.

Money is shown as money everywhere: ``st.metric`` values through ``formatting.money``, table
columns holding ``Decimal`` amounts with Streamlit's ``dollar`` format ($1,234.56), charts with
hover labels formatted from the exact amounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from revcycle.dashboard import charts, queries
from revcycle.dashboard.formatting import count, kpi_fraction, kpi_value, money, percent, window
from revcycle.dashboard.queries import (
    AgeBasis,
    BalanceKind,
    Connection,
    DenialDimension,
    FilterOptions,
    Filters,
)

# Column labels where turning snake_case into words is not enough.
_LABELS = {
    "claim_id": "Claim id",
    "payer_id": "Payer",
    "payer_name": "Payer name",
    "total_amount": "Total",
    "age_days": "Days",
    "age_bucket": "Bucket",
    "breakdown_key": "Key",
    "breakdown_label": "Description",
    "cumulative_share": "Cumulative share",
    "status_seq": "#",
    "is_current": "Current",
    "is_denial": "Denial",
    "is_cash": "Cash",
    "hold_edit_ids": "Hold edits",
    "warn_edit_ids": "Warn edits",
    "validated_at": "Validated at (UTC)",
    "submitted_at": "Submitted at (UTC)",
    "loaded_at": "Loaded at (UTC)",
}


def _label(column: str) -> str:
    if column in _LABELS:
        return _LABELS[column]
    words = column.removesuffix("_amount").replace("_", " ")
    return words[:1].upper() + words[1:]


def table(
    rows: pd.DataFrame,
    *,
    money_columns: Iterable[str] = (),
    share_columns: Iterable[str] = (),
) -> None:
    """A table with readable headers, money columns (``amount``, ``*_amount`` and
    ``money_columns``) as $1,234.56 and share columns as percentages; values stay exact
    ``Decimal`` and sort as numbers."""
    money_set = {c for c in map(str, rows.columns) if c == "amount" or c.endswith("_amount")}
    money_set |= set(money_columns)
    share_set = set(share_columns)
    config: dict[str, Any] = {}
    for column in rows.columns:
        name = str(column)
        if name in money_set:
            config[name] = st.column_config.NumberColumn(_label(name), format="dollar")
        elif name in share_set:
            config[name] = st.column_config.NumberColumn(_label(name), format="percent")
        else:
            config[name] = st.column_config.Column(_label(name))
    st.dataframe(rows, hide_index=True, column_config=config)


def _filters_note(filters: Filters, applies: str) -> None:
    st.caption(("Filters applied: " if filters.active else "No filter set. Filters: ") + applies)


# --- overview ---------------------------------------------------------------------------------


def render_overview(con: Connection, filters: Filters) -> None:
    st.header("Overview")
    snapshot = queries.ar_on_as_of(con)
    if snapshot is not None:
        st.subheader(f"Accounts receivable at the end of {snapshot.balance_date}")
        cols = st.columns(3)  # three to a row: money up to $999,999,999.99 stays readable
        cols[0].metric("Insurance A/R", money(snapshot.insurance), border=True)
        cols[1].metric("Patient A/R", money(snapshot.patient), border=True)
        cols[2].metric("Total A/R", money(snapshot.total), border=True)
        st.caption(
            f"{count(snapshot.open_claims)} open claims (an insurance or patient balance not 0); "
            "marts.fct_ar_daily."
        )

    _eligibility_section(con)

    st.subheader("Revenue-cycle KPIs")
    months = queries.kpi_months(con)
    month: date | None = st.selectbox(
        "KPI window (claims by date of service)",
        options=[None, *months],
        format_func=lambda m: "To date" if m is None else f"{m:%B %Y}",
        key="kpi_month",
    )
    rows = queries.kpis(con, month)
    if not rows:
        st.info("marts.fct_kpis has no KPI for this window.")
    for start in range(0, len(rows), 4):
        tiles = st.columns(4)
        for col, kpi in zip(tiles, rows[start : start + 4], strict=False):
            with col.container(border=True):
                st.metric(
                    kpi.kpi_name,
                    kpi_value(kpi),
                    help=f"{kpi.kpi_id}: numerator / denominator, see marts.fct_kpis",
                )
                st.caption(kpi_fraction(kpi))
                st.caption(window(kpi))
    st.caption(
        "KPIs are computed per window by dbt (marts.fct_kpis, definitions in "
        "dbt_project/models/marts/kpi/_kpi__docs.md): the sidebar filters do not apply to them."
    )

    st.subheader("A/R over time")
    daily = queries.ar_daily(con)
    if daily.empty:
        st.info("No ledger entries yet: nothing has been billed.")
    else:
        st.plotly_chart(charts.ar_trend(daily), key="ar_trend")
    by_payer = queries.ar_daily_by_payer(con, filters)
    if not by_payer.empty:
        st.plotly_chart(charts.ar_trend_by_payer(by_payer), key="ar_trend_by_payer")
    _filters_note(
        filters, "payer (A/R by payer only); dates of service and providers do not apply."
    )


def _eligibility_section(con: Connection) -> None:
    """Eligibility verification rate of the encounters around the as-of date (270/271)."""
    rate = queries.eligibility_verification(con, queries.as_of_date(con))
    if rate is None:
        return
    st.subheader("Eligibility verification")
    cols = st.columns(4)
    cols[0].metric(
        "Verified active",
        percent(rate.rate),
        help="Share of the encounters whose latest 271 answer says the coverage is active",
        border=True,
    )
    cols[1].metric("Inactive", count(rate.inactive), border=True)
    cols[2].metric("Asked, no answer yet", count(rate.no_answer), border=True)
    cols[3].metric("Never asked", count(rate.not_checked), border=True)
    other = f", {count(rate.other_answer)} answered without a status" if rate.other_answer else ""
    st.caption(
        f"{count(rate.active)} of {count(rate.encounters)} insured encounters dated "
        f"{rate.window_start} to {rate.window_end} (primary coverage){other}; "
        "marts.fct_encounter_eligibility. Inactive ones are held by the scrubber "
        "(ELIGIBILITY_INACTIVE); the sidebar filters do not apply."
    )


# --- A/R aging --------------------------------------------------------------------------------

_BASES: dict[str, AgeBasis] = {"Date of service": "service", "First submission": "billed"}
_BALANCES: dict[str, BalanceKind] = {
    "Insurance": "insurance",
    "Patient": "patient",
    "Total": "total",
}


def render_aging(con: Connection, filters: Filters) -> None:
    st.header("A/R aging by payer")
    left, right = st.columns(2)
    basis_label = left.radio("Age from", list(_BASES), horizontal=True, key="aging_basis")
    balance_label = right.radio("Balance", list(_BALANCES), horizontal=True, key="aging_balance")
    basis = _BASES[basis_label or "Date of service"]
    balance = _BALANCES[balance_label or "Insurance"]
    basis_words = "service" if basis == "service" else "first submission"

    buckets = queries.ar_aging_by_bucket(con, filters, basis)
    insurance = sum(buckets["insurance_balance_amount"], Decimal("0.00"))
    patient = sum(buckets["patient_balance_amount"], Decimal("0.00"))
    total = sum(buckets["total_balance_amount"], Decimal("0.00"))
    old = buckets[buckets["age_bucket"].isin(["91-120", "120+"])]
    over_90 = sum(old["total_balance_amount"], Decimal("0.00"))
    cols = st.columns(3)
    cols[0].metric("Insurance A/R", money(insurance), border=True)
    cols[1].metric("Patient A/R", money(patient), border=True)
    cols[2].metric("Total A/R", money(total), border=True)
    cols = st.columns(3)
    cols[0].metric("Claims with a balance", count(int(buckets["claims"].sum())), border=True)
    cols[1].metric(
        f"Over 90 days from {basis_words}",
        percent(over_90 / total) if total else "—",
        help=f"{money(over_90)} of {money(total)} total A/R",
        border=True,
    )
    st.plotly_chart(charts.aging_buckets(buckets, basis_words), key="aging_chart")

    st.subheader(f"{balance_label} balance by payer and days since {basis_words}")
    by_payer = queries.ar_aging_by_payer(con, filters, basis, balance)
    if by_payer.empty:
        st.info("No claim has a balance for these filters.")
    else:
        table(by_payer, money_columns=queries.AGING_BUCKETS)
    st.caption(
        "Payer: the claim's responsible (primary) payer (marts.fct_ar_aging). Insurance balance "
        "= what payers still owe (negative: a credit); patient balance = patient responsibility "
        "(no patient payments are posted yet)."
    )

    st.subheader("Claims with a balance, oldest first")
    bucket = st.selectbox(
        "Bucket",
        options=[None, *queries.AGING_BUCKETS],
        format_func=lambda b: "All buckets" if b is None else f"{b} days",
        key="aging_bucket",
    )
    claims = queries.ar_aging_claims(con, filters, basis, bucket)
    table(claims)
    if len(claims) == 500:
        st.caption("The 500 oldest are shown.")
    _filters_note(filters, "date of service, payer (the claim's), provider (billing or rendering).")


# --- denials ----------------------------------------------------------------------------------

_DIMENSIONS: tuple[tuple[DenialDimension, str, str], ...] = (
    ("carc", "By reason (CARC)", "Denied dollars by CAS group and reason code (CARC)"),
    ("payer", "By payer", "Denied dollars by payer"),
    ("billing_provider", "By billing provider", "Denied dollars by billing provider"),
    ("rendering_provider", "By rendering provider", "Denied dollars by rendering provider"),
    ("procedure_code", "By procedure", "Denied dollars by procedure code"),
)


def render_denials(con: Connection, filters: Filters) -> None:
    st.header("Denials")
    totals = queries.denial_totals(con, filters)
    cols = st.columns(3)
    cols[0].metric("Denied", money(totals.denied), border=True)
    cols[1].metric("Reversed", money(totals.reversed), border=True)
    cols[2].metric("Net denied", money(totals.net_denied), border=True)
    cols = st.columns(3)
    cols[0].metric("Denials", count(totals.denials), border=True)
    cols[1].metric("Claims denied", count(totals.denied_claims), border=True)
    if totals.denials == 0:
        st.info("No denial for these filters.")
        return
    tabs = st.tabs([label for _, label, _ in _DIMENSIONS])
    for tab, (dimension, _, title) in zip(tabs, _DIMENSIONS, strict=True):
        with tab:
            rows = queries.denial_pareto(con, filters, dimension)
            st.plotly_chart(charts.pareto(rows, title), key=f"pareto_{dimension}")
            shown = rows if dimension == "carc" else rows.drop(columns=["denial_category"])
            table(shown, share_columns=["cumulative_share"])
    st.caption(
        "Denials: adjustments whose CARC is a denial (marts.fct_denials.is_denial, any CAS "
        "group), counted as marts.fct_denial_breakdowns counts them: denials and denied dollars "
        "as received, reversed = what CLP02 22 reversals took back. Payer: the 835's payer."
    )
    _filters_note(
        filters,
        "date of service and provider (the claim's; denials on 835 claims that matched none of "
        "ours drop out when either is set), payer (the 835's).",
    )


# --- held claims ------------------------------------------------------------------------------

_SECONDARY_HOLD_REASONS = {
    "primary_balance_open": "the primary payer still owes part of the claim",
    "primary_paid_at_claim_level": "the primary paid at claim level: no line figures for 2430",
    "primary_lines_do_not_balance": "the primary's line figures do not balance",
}


def render_held(con: Connection, filters: Filters) -> None:
    st.header("Held claims work queue")
    held = queries.held_claims(con, filters)
    held_amount = sum(held["total_charge_amount"], Decimal("0.00"))
    cols = st.columns(2)
    cols[0].metric("Held claims", count(len(held)), border=True)
    cols[1].metric("Held charges", money(held_amount), border=True)
    if held.empty:
        st.success("No claim is held by the scrubber for these filters.")
    else:
        st.subheader("Edits holding claims")
        table(queries.held_edit_summary(con, filters))
        st.subheader("Held claims, largest first")
        table(held)
        st.subheader("What to fix, claim by claim")
        table(queries.held_claim_edits(con, filters))
        st.caption(
            "Hold edits keep a claim out of the 837 files until fixed in the EMR; warn edits "
            "are reported only (marts.fct_claim_edits, fct_claim_scrub_status)."
        )

    st.subheader("Secondary (COB) claims")
    statuses = queries.secondary_status_counts(con, filters)
    if statuses.empty:
        st.info("No secondary claim: no primary payer has answered a claim with a secondary payer.")
    else:
        table(statuses)
    secondary = queries.held_secondary_claims(con, filters)
    if secondary.empty:
        st.info("No secondary claim is held.")
    else:
        secondary = secondary.assign(
            what_to_do=[_SECONDARY_HOLD_REASONS.get(str(r), "") for r in secondary["hold_reason"]]
        )
        table(secondary)
    st.caption("Ready secondary claims go out on the next run (marts.fct_secondary_claims).")
    _filters_note(
        filters,
        "date of service, payer (the claim's; for secondary claims, primary or secondary), "
        "provider (billing or rendering).",
    )


# --- unmatched remittances --------------------------------------------------------------------


def render_remits(con: Connection, filters: Filters) -> None:
    st.header("Unmatched remittances work queue")
    summary = queries.work_queue_summary(con, filters)
    items = int(summary["items"].sum()) if not summary.empty else 0
    at_stake = sum(summary["amount"], Decimal("0.00")) if not summary.empty else Decimal("0.00")
    cols = st.columns(2)
    cols[0].metric("Items to work", count(items), border=True)
    cols[1].metric("Money at stake", money(at_stake), border=True)
    if summary.empty:
        st.success("Nothing to work: every remittance and acknowledgement matched.")
    else:
        table(summary)
        item_type = st.selectbox(
            "Item type",
            options=[None, *summary["work_item_type"]],
            format_func=lambda t: "All types" if t is None else str(t),
            key="queue_type",
        )
        table(queries.work_queue(con, filters, item_type))
    st.caption(
        "Everything from 835, 999 and 277CA files that could not be matched or posted, each with "
        "what to do (marts.fct_remit_work_queue). Money at stake: CLP04, SVC03, PLB amount, "
        "balance difference or 277CA charge (none for 999 items)."
    )
    _filters_note(filters, "payer only (the item's, else its claim's).")


# --- claim lookup -----------------------------------------------------------------------------


def render_claim(con: Connection, filters: Filters) -> None:
    st.header("Claim lookup")
    if "claim_id" not in st.session_state:
        st.session_state["claim_id"] = st.query_params.get("claim", "")
    wanted = st.text_input(
        "Claim id",
        key="claim_id",
        max_chars=40,
        placeholder="e.g. C34A9FBCC9A9E1045",
        help="The 17-character claim id (CLM01); a secondary claim id finds its account.",
    ).strip()
    if not wanted:
        st.query_params.pop("claim", None)
        st.info("Enter a claim id to see its status history and ledger.")
        return
    claim = queries.find_claim(con, wanted)
    st.query_params["claim"] = claim.claim_id if claim else wanted  # a link to this claim
    if claim is None:
        shown = wanted.replace("`", "")
        st.warning(f"No claim with id `{shown}` in the warehouse.")
        return

    st.subheader(f"Claim {claim.claim_id}")
    cols = st.columns(3)
    cols[0].metric("Status", claim.claim_status, border=True)
    cols[1].metric("Charged", money(claim.charge), border=True)
    cols[2].metric("Paid", money(claim.paid), border=True)
    cols = st.columns(3)
    cols[0].metric(
        "Adjusted", money(claim.contractual_adjustment + claim.other_adjustment), border=True
    )
    cols[1].metric("Patient responsibility", money(claim.patient_responsibility), border=True)
    cols[2].metric("Open with insurance", money(claim.open_balance), border=True)
    facts = {
        "Claim type": claim.claim_type,
        "Payer": f"{claim.payer_name or ''} ({claim.payer_id})" if claim.payer_id else "—",
        "Secondary payer": claim.secondary_payer_id or "—",
        "Secondary claim id": claim.secondary_claim_id or "—",
        "Secondary claim status": (
            f"{claim.secondary_status}"
            + (f" ({claim.secondary_hold_reason})" if claim.secondary_hold_reason else "")
            if claim.secondary_status
            else "—"
        ),
        "Patient id": claim.patient_id,
        "Dates of service": f"{claim.service_date} to {claim.service_date_to}",
        "Billing provider": claim.billing_provider_id,
        "Rendering provider": claim.rendering_provider_id,
        "Claim value": money(claim.total_charge),
        "Scrub status": claim.scrub_status or "—",
        "First billed": str(claim.billed_date or "—"),
        "Balance status": claim.balance_status or "—",
        "Status date": str(claim.claim_status_date or "—"),
    }
    table(pd.DataFrame({"fact": list(facts), "value": list(facts.values())}))

    st.subheader("Status history")
    history = queries.claim_status_history(con, claim.claim_id)
    if history.empty:
        st.info(f"No status event yet: the claim is {claim.claim_status}.")
    else:
        table(history)

    st.subheader("Ledger")
    ledger = queries.claim_ledger(con, claim.claim_id)
    if ledger.empty:
        st.info("No ledger entry: the claim has not been billed.")
    else:
        table(ledger)
        st.caption(
            "Sign: the effect on what the insurance owes (charges +; payments, adjustments and "
            "transfers to the patient -). Charge = paid + adjusted + patient responsibility + "
            "open."
        )
    edits = queries.claim_edits(con, claim.claim_id)
    if not edits.empty:
        st.subheader("Scrubber edits")
        table(edits)
    st.caption("The sidebar filters do not apply to a lookup by claim id.")


# --- pipeline runs ----------------------------------------------------------------------------


def render_runs(con: Connection, filters: Filters) -> None:
    st.header("Pipeline runs")
    runs = queries.gate_runs(con)
    files = queries.submission_files(con, filters)
    cols = st.columns(4)
    cols[0].metric("Claims-gate runs", count(len(runs)), border=True)
    if runs.empty:
        cols[1].metric("Last gate verdict", "—", border=True)
    else:
        last = runs.iloc[0]
        cols[1].metric(
            "Last gate verdict", "passed" if bool(last["success"]) else "FAILED", border=True
        )
    cols[2].metric("837 files", count(len(files)), border=True)
    cols[3].metric(
        "Claims sent", count(int(files["claims"].sum()) if not files.empty else 0), border=True
    )

    st.subheader("Run history")
    history = queries.pipeline_runs(con)
    if history.empty:
        st.info("No pipeline run has been recorded yet (marts.fct_pipeline_runs).")
    else:
        table(history)
        st.caption(
            "One row per run (nightly cycle, inbox poll, billing): status, what went in and "
            "what came out. A run killed before its end shows as interrupted."
        )

    st.subheader("Claims gate")
    if runs.empty:
        st.info("The claims gate has not run yet.")
    else:
        table(runs)
        failures = queries.gate_failures(con)
        if failures.empty:
            st.success("No expectation has ever failed.")
        else:
            st.subheader("Failed expectations")
            table(failures)

    st.subheader("837 files written")
    if files.empty:
        st.info("No 837 file has been written.")
    else:
        table(files)
    manifest = queries.load_manifest(con)
    st.subheader("Files loaded")
    if manifest.empty:
        st.info("No file has been loaded.")
    else:
        table(manifest)
        st.caption("The latest 500 (ops.load_manifest); reasons name files and positions only.")
    _filters_note(filters, "payer (837 files only).")


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    render: Callable[[Connection, Filters], None]


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", render_overview),
    Page("aging", "A/R aging", render_aging),
    Page("denials", "Denials", render_denials),
    Page("held", "Held claims", render_held),
    Page("remits", "Unmatched remittances", render_remits),
    Page("claim", "Claim lookup", render_claim),
    Page("runs", "Pipeline runs", render_runs),
)
PAGES_BY_SLUG = {page.slug: page for page in PAGES}


def choose_page() -> Page:
    """The sidebar's page radio; the page is also in the URL (``?page=denials``)."""
    if "page" not in st.session_state:
        requested = st.query_params.get("page", "")
        st.session_state["page"] = requested if requested in PAGES_BY_SLUG else PAGES[0].slug
    slug = st.sidebar.radio(
        "Page",
        options=[page.slug for page in PAGES],
        format_func=lambda s: PAGES_BY_SLUG[s].title,
        key="page",
    )
    page = PAGES_BY_SLUG.get(slug or "", PAGES[0])
    st.query_params["page"] = page.slug
    return page


def choose_filters(options: FilterOptions) -> Filters:
    """The sidebar's filters: date of service range, payer, provider."""
    st.sidebar.header("Filters")
    service_from: date | None = None
    service_to: date | None = None
    first, last = options.first_service_date, options.last_service_date
    if first is not None and last is not None:
        picked = st.sidebar.date_input(
            "Date of service",
            value=(first, last),
            min_value=first,
            max_value=last,
            key="filter_dates",
        )
        chosen = [d for d in picked if isinstance(d, date)] if isinstance(picked, tuple) else []
        if chosen and chosen[0] > first:
            service_from = chosen[0]
        if len(chosen) == 2 and chosen[1] < last:
            service_to = chosen[1]
    payer_labels = {c.id: c.label for c in options.payers}
    payer_id = st.sidebar.selectbox(
        "Payer",
        options=[None, *payer_labels],
        format_func=lambda p: "All payers" if p is None else payer_labels[p],
        key="filter_payer",
    )
    provider_labels = {c.id: c.label for c in options.providers}
    provider_id = st.sidebar.selectbox(
        "Provider (billing or rendering)",
        options=[None, *provider_labels],
        format_func=lambda p: "All providers" if p is None else provider_labels[p],
        key="filter_provider",
    )
    return Filters(service_from, service_to, payer_id, provider_id)
