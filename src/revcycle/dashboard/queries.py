"""Every query the dashboard runs, one function each, returning data and never drawing.

Rules kept here:

- Only read-only connections (:func:`connect`); one per page render, closed after it, so a
  dashboard left open never holds the warehouse while a pipeline run wants to write it.
- Every value that comes from the user (dates, payer, provider, claim id, choices) is a bound
  parameter (``$name``); no text is ever formatted into SQL.
- Results come through Arrow (``to_arrow_table().to_pandas()``): DECIMAL(18,2) money arrives
  as ``decimal.Decimal`` and stays exact; dates as ``datetime.date``.
- No patient names, birth dates, addresses or member ids are selected: ids only.

The filters (date of service, payer, provider) apply to what has a claim: ``Filters`` says
how in each function's docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

Connection = duckdb.DuckDBPyConnection

# The marts the dashboard needs; a warehouse without them has not been built yet.
REQUIRED_MARTS = (
    "fct_claims",
    "fct_claim_balances",
    "fct_claim_scrub_status",
    "fct_kpis",
    "fct_ar_aging",
    "fct_ar_daily",
)

# The order KPI tiles are shown in: claims first, then money, then time and aging.
KPI_ORDER = (
    "clean_claim_rate",
    "first_pass_resolution_rate",
    "initial_denial_rate_count",
    "initial_denial_rate_amount",
    "gross_collection_rate",
    "net_collection_rate",
    "days_to_submission",
    "days_to_payment",
    "net_days_in_ar",
    "aged_ar_over_90_days_share",
    "aged_ar_over_120_days_share",
)

AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")

AgeBasis = Literal["service", "billed"]
BalanceKind = Literal["insurance", "patient", "total"]
DenialDimension = Literal[
    "carc", "payer", "billing_provider", "rendering_provider", "procedure_code"
]


@dataclass(frozen=True)
class Filters:
    """The sidebar's filters; ``None`` means "all"."""

    service_from: date | None = None
    service_to: date | None = None
    payer_id: str | None = None
    provider_id: str | None = None

    @property
    def active(self) -> bool:
        return any(
            v is not None
            for v in (self.service_from, self.service_to, self.payer_id, self.provider_id)
        )


# A claim (alias ``claims``, a fct_claims row) passes the date-of-service and provider filters.
_CLAIM_FILTER = """
    (cast($service_from as date) is null or claims.service_date >= cast($service_from as date))
    and (cast($service_to as date) is null or claims.service_date <= cast($service_to as date))
    and (
        cast($provider_id as varchar) is null
        or claims.billing_provider_id = cast($provider_id as varchar)
        or claims.rendering_provider_id = cast($provider_id as varchar)
    )
"""


def _filter_params(filters: Filters) -> dict[str, Any]:
    return {
        "service_from": filters.service_from,
        "service_to": filters.service_to,
        "payer_id": filters.payer_id,
        "provider_id": filters.provider_id,
    }


def connect(warehouse: Path) -> Connection:
    """A read-only connection (raises duckdb.IOException when the file is missing or a
    pipeline run holds it)."""
    return duckdb.connect(str(warehouse), read_only=True)


def frame(con: Connection, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run one parameterised query and return its rows through Arrow (Decimal money, date
    dates, integers with nulls as Python ints)."""
    table = con.sql(sql, params=dict(params) if params else None).to_arrow_table()
    result: pd.DataFrame = table.to_pandas(integer_object_nulls=True, date_as_object=True)
    return result


def _rows(con: Connection, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    return con.execute(sql, dict(params) if params else None).fetchall()


# --- the warehouse itself ---------------------------------------------------------------------


def missing_marts(con: Connection) -> list[str]:
    """Required marts the warehouse lacks (all of them in an empty warehouse)."""
    present = {
        str(name)
        for (name,) in _rows(
            con,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    return [name for name in REQUIRED_MARTS if name not in present]


def has_relation(con: Connection, schema: str, name: str) -> bool:
    rows = _rows(
        con,
        "select count(*) from information_schema.tables "
        "where table_schema = $schema and table_name = $name",
        {"schema": schema, "name": name},
    )
    return bool(rows[0][0])


def as_of_date(con: Connection) -> date | None:
    """The run's as-of date the KPI marts were built for."""
    rows = _rows(con, "select max(as_of_date) from marts.fct_kpis")
    value = rows[0][0] if rows else None
    return value if isinstance(value, date) else None


@dataclass(frozen=True)
class Choice:
    """An id and the label to show for it."""

    id: str
    label: str


@dataclass(frozen=True)
class FilterOptions:
    first_service_date: date | None
    last_service_date: date | None
    payers: list[Choice]
    providers: list[Choice]


def filter_options(con: Connection) -> FilterOptions:
    """What the sidebar offers: the range of dates of service, the payers and the billing and
    rendering providers (provider names are not patient data)."""
    [(first, last)] = _rows(
        con, "select min(service_date), max(service_date) from marts.fct_claims"
    )
    payers = [
        Choice(str(pid), f"{name or pid} ({pid})")
        for pid, name in _rows(
            con,
            """
            select payer_id, payer_name from marts.dim_payers
            union
            select distinct claims.payer_id, cast(null as varchar)
            from marts.fct_claims as claims
            where claims.payer_id is not null
                and claims.payer_id not in (select payer_id from marts.dim_payers)
            order by 1
            """,
        )
    ]
    providers = [
        Choice(str(pid), f"{label} ({pid})")
        for pid, label in _rows(
            con,
            """
            select
                provider_id,
                coalesce(organization_name, last_name || ', ' || first_name, provider_id)
            from marts.dim_providers
            where provider_id in (
                select billing_provider_id from marts.fct_claims
                union
                select rendering_provider_id from marts.fct_claims
            )
            order by 2, 1
            """,
        )
    ]
    return FilterOptions(first, last, payers, providers)


# --- overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """One row of marts.fct_kpis."""

    kpi_id: str
    kpi_name: str
    unit: str
    window_type: str
    window_start_date: date
    window_end_date: date
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None
    numerator_label: str
    denominator_label: str


def kpi_months(con: Connection) -> list[date]:
    """First days of the months fct_kpis has ``month`` windows for, latest first."""
    return [
        d
        for (d,) in _rows(
            con,
            "select distinct window_start_date from marts.fct_kpis "
            "where window_type = 'month' order by 1 desc",
        )
    ]


def kpis(con: Connection, month: date | None = None) -> list[Kpi]:
    """The KPIs of one window: the ``to_date`` window (``month`` None) or one ``month`` window,
    plus the as-of KPIs (net days in A/R, aged A/R) that have one window each."""
    rows = _rows(
        con,
        """
        select
            kpi_id, kpi_name, unit, window_type, window_start_date, window_end_date,
            numerator, denominator, value, numerator_label, denominator_label
        from marts.fct_kpis
        where
            window_type in ('trailing_90_days', 'as_of')
            or (cast($month as date) is null and window_type = 'to_date')
            or (window_type = 'month' and window_start_date = cast($month as date))
        """,
        {"month": month},
    )
    kpis = [
        Kpi(
            kpi_id=str(r[0]),
            kpi_name=str(r[1] or r[0]),
            unit=str(r[2] or "ratio"),
            window_type=str(r[3]),
            window_start_date=r[4],
            window_end_date=r[5],
            numerator=Decimal(r[6]),
            denominator=Decimal(r[7]),
            value=None if r[8] is None else Decimal(r[8]),
            numerator_label=str(r[9] or ""),
            denominator_label=str(r[10] or ""),
        )
        for r in rows
    ]
    rank = {kpi_id: n for n, kpi_id in enumerate(KPI_ORDER)}
    return sorted(kpis, key=lambda k: (rank.get(k.kpi_id, len(rank)), k.kpi_id))


@dataclass(frozen=True)
class ArSnapshot:
    """The receivable at the end of one day (fct_ar_daily)."""

    balance_date: date
    insurance: Decimal
    patient: Decimal
    total: Decimal
    open_claims: int


def ar_on_as_of(con: Connection) -> ArSnapshot | None:
    """The last day of fct_ar_daily not after the as-of date (else the last day)."""
    rows = _rows(
        con,
        """
        select balance_date, insurance_balance_amount, patient_balance_amount, total_ar_amount,
               open_claim_count
        from marts.fct_ar_daily
        order by is_after_as_of, balance_date desc
        limit 1
        """,
    )
    if not rows:
        return None
    d, insurance, patient, total, open_claims = rows[0]
    return ArSnapshot(d, Decimal(insurance), Decimal(patient), Decimal(total), int(open_claims))


# --- eligibility ------------------------------------------------------------------------------

ELIGIBILITY_WINDOW_DAYS = 14


@dataclass(frozen=True)
class EligibilityRate:
    """Eligibility verification of the encounters around the as-of date
    (marts.fct_encounter_eligibility, primary coverages): how many have an active 271 answer,
    an inactive one, another answer (rejected, unclear), no answer yet, or were never asked."""

    window_start: date
    window_end: date
    encounters: int
    active: int
    inactive: int
    other_answer: int
    no_answer: int
    not_checked: int

    @property
    def rate(self) -> Decimal | None:
        """Share of the encounters with an active answer (None when there are none)."""
        if not self.encounters:
            return None
        return Decimal(self.active) / Decimal(self.encounters)


def eligibility_verification(
    con: Connection, as_of: date | None, window_days: int = ELIGIBILITY_WINDOW_DAYS
) -> EligibilityRate | None:
    """Upcoming and recent encounters (primary coverage, dated ``window_days`` before to
    ``window_days`` after ``as_of``) by verification status; None without the mart or date,
    or while no inquiry was ever sent (eligibility checking is not in use)."""
    if as_of is None or not has_relation(con, "marts", "fct_encounter_eligibility"):
        return None
    used = _rows(
        con, "select count(*) from marts.fct_encounter_eligibility where inquiry_count > 0"
    )
    if not used[0][0]:
        return None
    start = date.fromordinal(as_of.toordinal() - window_days)
    end = date.fromordinal(as_of.toordinal() + window_days)
    rows = _rows(
        con,
        """
        select
            count(*),
            count(*) filter (where verification_status = 'active'),
            count(*) filter (where verification_status = 'inactive'),
            count(*) filter (where verification_status in ('rejected', 'unclear')),
            count(*) filter (where verification_status = 'no_answer'),
            count(*) filter (where verification_status = 'not_checked')
        from marts.fct_encounter_eligibility
        where coverage_order = 1
            and service_date between cast($start as date) and cast($end as date)
        """,
        {"start": start, "end": end},
    )
    total, active, inactive, other, no_answer, not_checked = rows[0]
    return EligibilityRate(
        window_start=start,
        window_end=end,
        encounters=int(total),
        active=int(active),
        inactive=int(inactive),
        other_answer=int(other),
        no_answer=int(no_answer),
        not_checked=int(not_checked),
    )


def ar_daily(con: Connection) -> pd.DataFrame:
    """Insurance, patient and total A/R at the end of each day, with open claims."""
    return frame(
        con,
        """
        select balance_date, insurance_balance_amount, patient_balance_amount, total_ar_amount,
               open_claim_count
        from marts.fct_ar_daily
        order by balance_date
        """,
    )


def ar_daily_by_payer(con: Connection, filters: Filters) -> pd.DataFrame:
    """Insurance A/R per payer at the end of each day (the payer filter applies: the payer of
    the ledger entries; dates of service and providers do not, these are daily totals)."""
    return frame(
        con,
        """
        select
            daily.balance_date,
            daily.payer_id,
            coalesce(payers.payer_name, daily.payer_id) as payer_name,
            daily.insurance_balance_amount
        from marts.fct_ar_daily_by_payer as daily
        left join marts.dim_payers as payers on daily.payer_id = payers.payer_id
        where cast($payer_id as varchar) is null or daily.payer_id = cast($payer_id as varchar)
        order by daily.balance_date, daily.payer_id
        """,
        {"payer_id": filters.payer_id},
    )


# --- A/R aging --------------------------------------------------------------------------------

# One row of fct_ar_aging with the bucket of the chosen age basis; all filters apply (the
# claim's date of service, responsible payer, billing or rendering provider).
_AGING_ROWS = f"""
    aging as (
        select
            aging.*,
            case when $basis = 'billed' then aging.billed_age_bucket
                 else aging.service_age_bucket end as age_bucket,
            case when $basis = 'billed' then aging.billed_age_bucket_order
                 else aging.service_age_bucket_order end as age_bucket_order,
            case when $basis = 'billed' then aging.days_since_billed
                 else aging.days_since_service end as age_days
        from marts.fct_ar_aging as aging
        inner join marts.fct_claims as claims on aging.claim_id = claims.claim_id
        where {_CLAIM_FILTER}
            and (cast($payer_id as varchar) is null
                 or aging.payer_id = cast($payer_id as varchar))
    )
"""


def ar_aging_by_bucket(con: Connection, filters: Filters, basis: AgeBasis) -> pd.DataFrame:
    """Per bucket (0-30 .. 120+, in order): claims, insurance, patient and total balances.
    Every bucket is listed, empty ones with zeros."""
    return frame(
        con,
        f"""
        with {_AGING_ROWS},
        buckets as (
            select * from (values
                (1, '0-30'), (2, '31-60'), (3, '61-90'), (4, '91-120'), (5, '120+')
            ) as b (age_bucket_order, age_bucket)
        )
        select
            buckets.age_bucket,
            count(aging.claim_id) as claims,
            coalesce(sum(aging.insurance_balance_amount), 0)::decimal(18, 2)
                as insurance_balance_amount,
            coalesce(sum(aging.patient_balance_amount), 0)::decimal(18, 2)
                as patient_balance_amount,
            coalesce(sum(aging.total_balance_amount), 0)::decimal(18, 2) as total_balance_amount
        from buckets
        left join aging on buckets.age_bucket = aging.age_bucket
        group by buckets.age_bucket, buckets.age_bucket_order
        order by buckets.age_bucket_order
        """,
        {**_filter_params(filters), "basis": basis},
    )


def ar_aging_by_payer(
    con: Connection, filters: Filters, basis: AgeBasis, balance: BalanceKind
) -> pd.DataFrame:
    """Per payer (the claim's responsible payer): claims and one balance (insurance, patient
    or total) in each bucket and in all, largest total first."""
    return frame(
        con,
        f"""
        with {_AGING_ROWS},
        chosen as (
            select
                aging.payer_id,
                aging.claim_id,
                aging.age_bucket,
                case $balance
                    when 'insurance' then aging.insurance_balance_amount
                    when 'patient' then aging.patient_balance_amount
                    else aging.total_balance_amount
                end as amount
            from aging
        )
        select
            chosen.payer_id,
            coalesce(payers.payer_name, chosen.payer_id) as payer_name,
            count(*) as claims,
            coalesce(sum(chosen.amount) filter (where chosen.age_bucket = '0-30'), 0)
                ::decimal(18, 2) as "0-30",
            coalesce(sum(chosen.amount) filter (where chosen.age_bucket = '31-60'), 0)
                ::decimal(18, 2) as "31-60",
            coalesce(sum(chosen.amount) filter (where chosen.age_bucket = '61-90'), 0)
                ::decimal(18, 2) as "61-90",
            coalesce(sum(chosen.amount) filter (where chosen.age_bucket = '91-120'), 0)
                ::decimal(18, 2) as "91-120",
            coalesce(sum(chosen.amount) filter (where chosen.age_bucket = '120+'), 0)
                ::decimal(18, 2) as "120+",
            sum(chosen.amount)::decimal(18, 2) as total_amount
        from chosen
        left join marts.dim_payers as payers on chosen.payer_id = payers.payer_id
        group by all
        order by total_amount desc, chosen.payer_id
        """,
        {**_filter_params(filters), "basis": basis, "balance": balance},
    )


def ar_aging_claims(
    con: Connection, filters: Filters, basis: AgeBasis, bucket: str | None, limit: int = 500
) -> pd.DataFrame:
    """The claims with a balance, oldest first (one bucket, or all when ``bucket`` is None)."""
    return frame(
        con,
        f"""
        with {_AGING_ROWS}
        select
            aging.claim_id,
            aging.payer_id,
            aging.claim_status,
            aging.service_date,
            aging.billed_date,
            aging.age_days,
            aging.age_bucket,
            aging.insurance_balance_amount,
            aging.patient_balance_amount,
            aging.total_balance_amount
        from aging
        where cast($bucket as varchar) is null or aging.age_bucket = cast($bucket as varchar)
        order by aging.age_days desc, aging.claim_id
        limit $limit
        """,
        {**_filter_params(filters), "basis": basis, "bucket": bucket, "limit": limit},
    )


# --- denials ----------------------------------------------------------------------------------

# Denials as marts.fct_denial_breakdowns counts them (is_denial adjustments of fct_denials;
# reversals take back), keyed five ways, with the filters applied: the claim's date of
# service and billing/rendering provider, the 835's payer. With no filter set, the totals are
# those of fct_denial_breakdowns summed over its months.
_DENIALS_KEYED = f"""
    denials as (
        select
            denials.adjustment_id,
            denials.claim_id,
            denials.payer_id,
            denials.group_code,
            denials.reason_code,
            denials.reason_description,
            denials.denial_category,
            denials.amount,
            denials.is_reversal,
            denials.event_date,
            claims.billing_provider_id,
            claims.rendering_provider_id,
            case when denials.adjustment_level = 'line'
                 then coalesce(denials.procedure_code, lines.procedure_code) end
                as procedure_code
        from marts.fct_denials as denials
        left join marts.fct_claims as claims on denials.claim_id = claims.claim_id
        left join marts.fct_claim_lines as lines on denials.claim_line_id = lines.claim_line_id
        where denials.is_denial
            and (cast($payer_id as varchar) is null
                 or denials.payer_id = cast($payer_id as varchar))
            and (not $claim_filtered or ({_CLAIM_FILTER}))
    ),

    keyed as (
        select
            'carc' as breakdown,
            coalesce(group_code, '?') || '-' || coalesce(reason_code, '?') as breakdown_key,
            reason_description as breakdown_label,
            denial_category,
            claim_id, amount, is_reversal
        from denials
        union all
        select
            'payer', coalesce(denials.payer_id, '(unknown)'), payers.payer_name, null,
            claim_id, amount, is_reversal
        from denials
        left join marts.dim_payers as payers on denials.payer_id = payers.payer_id
        union all
        select
            'billing_provider', coalesce(billing_provider_id, '(unknown)'),
            coalesce(providers.organization_name,
                     providers.last_name || ', ' || providers.first_name), null,
            claim_id, amount, is_reversal
        from denials
        left join marts.dim_providers as providers
            on denials.billing_provider_id = providers.provider_id
        union all
        select
            'rendering_provider', coalesce(rendering_provider_id, '(unknown)'),
            coalesce(providers.organization_name,
                     providers.last_name || ', ' || providers.first_name), null,
            claim_id, amount, is_reversal
        from denials
        left join marts.dim_providers as providers
            on denials.rendering_provider_id = providers.provider_id
        union all
        select
            'procedure_code', coalesce(denials.procedure_code, '(claim level)'),
            codes.short_label, null,
            claim_id, amount, is_reversal
        from denials
        left join code_sets.procedure_codes as codes
            on denials.procedure_code = codes.procedure_code
    )
"""


def _denial_params(filters: Filters) -> dict[str, Any]:
    # Denials on 835 claims that matched none of ours have no date of service or provider:
    # they are counted unless a date-of-service or provider filter is set.
    claim_filtered = any(
        v is not None for v in (filters.service_from, filters.service_to, filters.provider_id)
    )
    return {**_filter_params(filters), "claim_filtered": claim_filtered}


def denial_pareto(con: Connection, filters: Filters, dimension: DenialDimension) -> pd.DataFrame:
    """Denials by one dimension, costliest first, with the running share of denied dollars:
    denials received, distinct claims, denied, reversed and net denied dollars."""
    return frame(
        con,
        f"""
        with {_DENIALS_KEYED},
        summarised as (
            select
                breakdown_key,
                min(breakdown_label) as breakdown_label,
                min(denial_category) as denial_category,
                count(*) filter (where not is_reversal) as denial_count,
                count(distinct claim_id) filter (where not is_reversal) as denied_claim_count,
                coalesce(sum(amount) filter (where not is_reversal), 0)::decimal(18, 2)
                    as denied_amount,
                coalesce(-sum(amount) filter (where is_reversal), 0)::decimal(18, 2)
                    as reversed_amount,
                coalesce(sum(amount), 0)::decimal(18, 2) as net_denied_amount
            from keyed
            where breakdown = $dimension
            group by breakdown_key
        )
        select
            *,
            case when sum(denied_amount) over () > 0 then
                (sum(denied_amount) over (
                    order by denied_amount desc, breakdown_key
                    rows between unbounded preceding and current row
                ) / sum(denied_amount) over ())::decimal(18, 4)
            end as cumulative_share
        from summarised
        order by denied_amount desc, breakdown_key
        """,
        {**_denial_params(filters), "dimension": dimension},
    )


@dataclass(frozen=True)
class DenialTotals:
    denials: int
    denied_claims: int
    denied: Decimal
    reversed: Decimal
    net_denied: Decimal


def denial_totals(con: Connection, filters: Filters) -> DenialTotals:
    [(count, claims, denied, reversed_, net)] = _rows(
        con,
        f"""
        with {_DENIALS_KEYED}
        select
            count(*) filter (where not is_reversal),
            count(distinct claim_id) filter (where not is_reversal),
            coalesce(sum(amount) filter (where not is_reversal), 0)::decimal(18, 2),
            coalesce(-sum(amount) filter (where is_reversal), 0)::decimal(18, 2),
            coalesce(sum(amount), 0)::decimal(18, 2)
        from keyed
        where breakdown = 'carc'
        """,
        _denial_params(filters),
    )
    return DenialTotals(int(count), int(claims), Decimal(denied), Decimal(reversed_), Decimal(net))


# --- held claims ------------------------------------------------------------------------------


def held_claims(con: Connection, filters: Filters) -> pd.DataFrame:
    """Claims the scrubber holds, with their hold (and warn) edit ids; all filters apply
    (the claim's date of service, responsible payer and providers). Largest charge first."""
    return frame(
        con,
        f"""
        select
            scrub.claim_id,
            scrub.payer_id,
            claims.claim_type,
            claims.service_date,
            claims.billing_provider_id,
            claims.rendering_provider_id,
            scrub.total_charge_amount,
            scrub.hold_edit_count,
            scrub.hold_edit_ids,
            scrub.warn_edit_ids
        from marts.fct_claim_scrub_status as scrub
        inner join marts.fct_claims as claims on scrub.claim_id = claims.claim_id
        where scrub.scrub_status = 'held'
            and {_CLAIM_FILTER}
            and (cast($payer_id as varchar) is null
                 or scrub.payer_id = cast($payer_id as varchar))
        order by scrub.total_charge_amount desc, scrub.claim_id
        """,
        _filter_params(filters),
    )


def held_edit_summary(con: Connection, filters: Filters) -> pd.DataFrame:
    """The edits holding claims: per edit, its description, held claims and their charges."""
    return frame(
        con,
        f"""
        with held as (
            select scrub.claim_id, scrub.total_charge_amount
            from marts.fct_claim_scrub_status as scrub
            inner join marts.fct_claims as claims on scrub.claim_id = claims.claim_id
            where scrub.scrub_status = 'held'
                and {_CLAIM_FILTER}
                and (cast($payer_id as varchar) is null
                     or scrub.payer_id = cast($payer_id as varchar))
        ),
        per_claim as (
            select distinct edits.edit_id, edits.claim_id, held.total_charge_amount
            from marts.fct_claim_edits as edits
            inner join held on edits.claim_id = held.claim_id
            where edits.severity = 'hold'
        )
        select
            per_claim.edit_id,
            catalogue.description,
            count(*) as held_claims,
            sum(per_claim.total_charge_amount)::decimal(18, 2) as held_charge_amount
        from per_claim
        left join code_sets.claim_edit_catalogue as catalogue
            on per_claim.edit_id = catalogue.edit_id
        group by all
        order by held_claims desc, held_charge_amount desc, per_claim.edit_id
        """,
        _filter_params(filters),
    )


def held_claim_edits(con: Connection, filters: Filters) -> pd.DataFrame:
    """Every edit on the held claims, what to fix (the scrubber's detail names lines, codes,
    providers and coverages, never patient names, birth dates or member ids)."""
    return frame(
        con,
        f"""
        select
            edits.claim_id,
            edits.line_number,
            edits.edit_id,
            edits.severity,
            edits.edit_subject,
            edits.detail
        from marts.fct_claim_edits as edits
        inner join marts.fct_claim_scrub_status as scrub on edits.claim_id = scrub.claim_id
        inner join marts.fct_claims as claims on edits.claim_id = claims.claim_id
        where scrub.scrub_status = 'held'
            and {_CLAIM_FILTER}
            and (cast($payer_id as varchar) is null
                 or scrub.payer_id = cast($payer_id as varchar))
        order by edits.claim_id, edits.line_number nulls first, edits.severity, edits.edit_id
        """,
        _filter_params(filters),
    )


def secondary_status_counts(con: Connection, filters: Filters) -> pd.DataFrame:
    """Secondary (COB) claims by status: claims and the primary's patient share on them.
    The payer filter matches the primary or the secondary payer."""
    return frame(
        con,
        f"""
        select
            secondary.secondary_status,
            count(*) as claims,
            coalesce(sum(secondary.primary_patient_share_amount), 0)::decimal(18, 2)
                as primary_patient_share_amount
        from marts.fct_secondary_claims as secondary
        inner join marts.fct_claims as claims on secondary.claim_id = claims.claim_id
        where {_CLAIM_FILTER}
            and (cast($payer_id as varchar) is null
                 or cast($payer_id as varchar)
                    in (secondary.primary_payer_id, secondary.secondary_payer_id))
        group by all
        order by claims desc, secondary.secondary_status
        """,
        _filter_params(filters),
    )


def held_secondary_claims(con: Connection, filters: Filters) -> pd.DataFrame:
    """Secondary claims that cannot go out yet, with the reason."""
    return frame(
        con,
        f"""
        select
            secondary.claim_id,
            secondary.secondary_claim_id,
            secondary.primary_payer_id,
            secondary.secondary_payer_id,
            claims.service_date,
            secondary.total_charge_amount,
            secondary.primary_paid_amount,
            secondary.primary_patient_share_amount,
            secondary.primary_adjudication_date,
            secondary.hold_reason
        from marts.fct_secondary_claims as secondary
        inner join marts.fct_claims as claims on secondary.claim_id = claims.claim_id
        where secondary.secondary_status = 'held'
            and {_CLAIM_FILTER}
            and (cast($payer_id as varchar) is null
                 or cast($payer_id as varchar)
                    in (secondary.primary_payer_id, secondary.secondary_payer_id))
        order by secondary.primary_adjudication_date, secondary.claim_id
        """,
        _filter_params(filters),
    )


# --- unmatched remittances --------------------------------------------------------------------


def work_queue(con: Connection, filters: Filters, item_type: str | None = None) -> pd.DataFrame:
    """The remittance work queue (fct_remit_work_queue), oldest first. Only the payer filter
    applies (the item's payer, else its claim's): most items match no claim of ours, so they
    have no date of service or provider."""
    return frame(
        con,
        """
        select
            queue.work_item_type,
            queue.reason,
            queue.claim_id,
            coalesce(queue.payer_id, claims.payer_id) as payer_id,
            queue.amount,
            queue.event_date,
            queue.reason_code,
            queue.patient_control_number,
            queue.payment_id,
            queue.work_item_id
        from marts.fct_remit_work_queue as queue
        left join marts.fct_claims as claims on queue.claim_id = claims.claim_id
        where (cast($payer_id as varchar) is null
               or coalesce(queue.payer_id, claims.payer_id) = cast($payer_id as varchar))
            and (cast($item_type as varchar) is null
                 or queue.work_item_type = cast($item_type as varchar))
        order by queue.event_date, queue.work_item_type, queue.work_item_id
        """,
        {"payer_id": filters.payer_id, "item_type": item_type},
    )


def work_queue_summary(con: Connection, filters: Filters) -> pd.DataFrame:
    """Work-queue items per type: items and money at stake."""
    return frame(
        con,
        """
        select
            queue.work_item_type,
            count(*) as items,
            coalesce(sum(queue.amount), 0)::decimal(18, 2) as amount
        from marts.fct_remit_work_queue as queue
        left join marts.fct_claims as claims on queue.claim_id = claims.claim_id
        where cast($payer_id as varchar) is null
            or coalesce(queue.payer_id, claims.payer_id) = cast($payer_id as varchar)
        group by all
        order by items desc, queue.work_item_type
        """,
        {"payer_id": filters.payer_id},
    )


# --- claim lookup -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSummary:
    """One claim (account) as the marts see it: ids, payers, dates, money and status."""

    claim_id: str
    secondary_claim_id: str | None
    claim_type: str
    payer_id: str | None
    payer_name: str | None
    secondary_payer_id: str | None
    patient_id: str
    service_date: date
    service_date_to: date
    billing_provider_id: str
    rendering_provider_id: str
    total_charge: Decimal
    scrub_status: str | None
    claim_status: str
    claim_status_date: date | None
    balance_status: str | None
    billed_date: date | None
    charge: Decimal
    paid: Decimal
    contractual_adjustment: Decimal
    other_adjustment: Decimal
    patient_responsibility: Decimal
    open_balance: Decimal
    secondary_status: str | None
    secondary_hold_reason: str | None


def find_claim(con: Connection, claim_id: str) -> ClaimSummary | None:
    """The claim whose id (or secondary claim id) is ``claim_id``, ignoring case and spaces
    around it; None when there is none."""
    wanted = claim_id.strip().upper()
    if not wanted:
        return None
    rows = _rows(
        con,
        """
        select
            claims.claim_id,
            claims.secondary_claim_id,
            claims.claim_type,
            claims.payer_id,
            payers.payer_name,
            claims.secondary_payer_id,
            claims.patient_id,
            claims.service_date,
            claims.service_date_to,
            claims.billing_provider_id,
            claims.rendering_provider_id,
            claims.total_charge_amount,
            balances.scrub_status,
            balances.claim_status,
            balances.claim_status_date,
            balances.balance_status,
            balances.billed_date,
            balances.charge_amount,
            balances.paid_amount,
            balances.contractual_adjustment_amount,
            balances.other_adjustment_amount,
            balances.patient_responsibility_amount,
            balances.open_balance_amount,
            secondary.secondary_status,
            secondary.hold_reason
        from marts.fct_claims as claims
        inner join marts.fct_claim_balances as balances on claims.claim_id = balances.claim_id
        left join marts.dim_payers as payers on claims.payer_id = payers.payer_id
        left join marts.fct_secondary_claims as secondary on claims.claim_id = secondary.claim_id
        where upper(claims.claim_id) = $wanted or upper(claims.secondary_claim_id) = $wanted
        order by upper(claims.claim_id) = $wanted desc
        limit 1
        """,
        {"wanted": wanted},
    )
    if not rows:
        return None
    r = rows[0]
    return ClaimSummary(
        claim_id=str(r[0]),
        secondary_claim_id=r[1],
        claim_type=str(r[2]),
        payer_id=r[3],
        payer_name=r[4],
        secondary_payer_id=r[5],
        patient_id=str(r[6]),
        service_date=r[7],
        service_date_to=r[8],
        billing_provider_id=str(r[9]),
        rendering_provider_id=str(r[10]),
        total_charge=Decimal(r[11]),
        scrub_status=r[12],
        claim_status=str(r[13]),
        claim_status_date=r[14],
        balance_status=r[15],
        billed_date=r[16],
        charge=Decimal(r[17]),
        paid=Decimal(r[18]),
        contractual_adjustment=Decimal(r[19]),
        other_adjustment=Decimal(r[20]),
        patient_responsibility=Decimal(r[21]),
        open_balance=Decimal(r[22]),
        secondary_status=r[23],
        secondary_hold_reason=r[24],
    )


def claim_status_history(con: Connection, claim_id: str) -> pd.DataFrame:
    """Every status event of the claim (both payers' claims of the account), in order."""
    return frame(
        con,
        """
        select
            status_seq, status_date, status, payer_sequence, billed_claim_id, payer_id,
            source_type, status_detail, is_current
        from marts.fct_claim_status_history
        where claim_id = $claim_id
        order by status_seq
        """,
        {"claim_id": claim_id},
    )


def claim_ledger(con: Connection, claim_id: str) -> pd.DataFrame:
    """The claim's ledger entries in date order (sign: the effect on what insurance owes)."""
    return frame(
        con,
        """
        select
            event_date,
            event_type,
            balance_component,
            amount,
            payer_id,
            payer_sequence,
            claim_line_id,
            group_code,
            reason_code,
            is_denial,
            is_cash,
            payer_claim_control_number,
            ledger_entry_id
        from marts.fct_ar_ledger
        where claim_id = $claim_id
        order by event_date, source_type, ledger_entry_id
        """,
        {"claim_id": claim_id},
    )


def claim_edits(con: Connection, claim_id: str) -> pd.DataFrame:
    """The scrubber's edits on the claim."""
    return frame(
        con,
        """
        select line_number, edit_id, severity, edit_subject, detail
        from marts.fct_claim_edits
        where claim_id = $claim_id
        order by line_number nulls first, severity, edit_id
        """,
        {"claim_id": claim_id},
    )


# --- pipeline runs ----------------------------------------------------------------------------


def pipeline_runs(con: Connection, limit: int = 200) -> pd.DataFrame:
    """The run manifest (marts.fct_pipeline_runs), latest first; empty when the warehouse
    predates it."""
    if not has_relation(con, "marts", "fct_pipeline_runs"):
        return pd.DataFrame()
    return frame(
        con,
        """
        select
            started_at, flow_name, status, cast(duration_seconds as double) as duration_seconds,
            as_of_date,
            extract_files_loaded, extract_files_skipped, extract_files_quarantined,
            extract_rows_loaded, inbox_files_loaded, claims_built, claims_sent, amount_sent,
            files_837_written, gate_result, message, run_id
        from marts.fct_pipeline_runs
        order by started_at desc
        limit $limit
        """,
        {"limit": limit},
    )


def gate_runs(con: Connection) -> pd.DataFrame:
    """Claims-gate runs, latest first."""
    return frame(
        con,
        """
        select
            validated_at, success, claims_validated, lines_validated, expectations_evaluated,
            expectations_failed, summary, flow_run_id, gate_run_id
        from marts.fct_gate_runs
        order by validated_at desc
        """,
    )


def gate_failures(con: Connection) -> pd.DataFrame:
    """Failed expectations of the gate runs, latest first."""
    return frame(
        con,
        """
        select
            validated_at, dataset, expectation_type, column_name, unexpected_count,
            element_count, error, gate_run_id
        from marts.fct_gate_failures
        order by validated_at desc, dataset, expectation_type
        """,
    )


def submission_files(con: Connection, filters: Filters) -> pd.DataFrame:
    """837 files written: payer, claims (original, replacement, void), lines and charges
    of the claims sent, latest first. The payer filter applies."""
    return frame(
        con,
        """
        with claim_records as (
            select
                submissions.file_name,
                submissions.claim_id,
                submissions.claim_frequency_code,
                submissions.submitted_at,
                submissions.interchange_control_number,
                submissions.payer_id,
                coalesce(claims.total_charge_amount, accounts.total_charge_amount)
                    as total_charge_amount
            from marts.fct_claim_submissions as submissions
            left join marts.fct_claims as claims
                on submissions.claim_id = claims.claim_id
            left join marts.fct_claims as accounts  -- a secondary (COB) claim's account
                on submissions.claim_id = accounts.secondary_claim_id
            where submissions.is_claim_level
        ),
        line_records as (
            select file_name, count(*) as lines
            from marts.fct_claim_submissions
            where not is_claim_level
            group by file_name
        )
        select
            claim_records.file_name,
            min(claim_records.payer_id) as payer_id,
            min(claim_records.interchange_control_number) as interchange_control_number,
            min(claim_records.submitted_at) as submitted_at,
            count(*) as claims,
            count(*) filter (where claim_records.claim_frequency_code = '7') as replacements,
            count(*) filter (where claim_records.claim_frequency_code = '8') as voids,
            coalesce(min(line_records.lines), 0) as lines,
            coalesce(sum(claim_records.total_charge_amount)
                filter (where claim_records.claim_frequency_code <> '8'), 0)::decimal(18, 2)
                as charge_amount
        from claim_records
        left join line_records on claim_records.file_name = line_records.file_name
        where cast($payer_id as varchar) is null
            or claim_records.payer_id = cast($payer_id as varchar)
        group by claim_records.file_name
        order by submitted_at desc, claim_records.file_name
        """,
        {"payer_id": filters.payer_id},
    )


def load_manifest(con: Connection, limit: int = 500) -> pd.DataFrame:
    """Files loaded (extracts and inbox X12 files), latest first; empty when the warehouse has
    no manifest. Reasons name files and positions, never values."""
    if not has_relation(con, "ops", "load_manifest"):
        return pd.DataFrame()
    return frame(
        con,
        """
        select loaded_at, file_name, table_name, status, rows_read, rows_loaded, reason
        from ops.load_manifest
        order by loaded_at desc, file_name
        limit $limit
        """,
        {"limit": limit},
    )
