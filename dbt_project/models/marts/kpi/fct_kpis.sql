-- Revenue-cycle KPIs: one row per KPI and window (kpi_window_id = kpi_id:window_type:start),
-- each with its numerator, denominator and value (numerator / denominator, 4 decimals,
-- rounded half-up; for net days in A/R numerator x window days / denominator).
-- Windows:
--   month            each calendar month of the date of service, from the month of the first
--                    claim's date of service to the as-of month (the last one ends on the as-of
--                    date): the claims whose service_date falls in it, with everything posted
--                    on them so far (cohort by date of service);
--   to_date          first date of service to the as-of date, the same way;
--   trailing_90_days the 90 days ending on the as-of date (net days in A/R: revenue of the
--                    claims served in them);
--   as_of            the as-of date alone (aged A/R, from fct_ar_aging).
-- Claim facts: fct_claim_kpi_facts. Exact definitions: _kpi__docs.md (kpi_definitions).
with

facts as (

    select * from {{ ref('fct_claim_kpi_facts') }}

),

aging as (

    select * from {{ ref('fct_ar_aging') }}

),

as_of as (

    select {{ kpi_as_of_date() }} as as_of_date

),

service_bounds as (

    select
        as_of.as_of_date,
        min(facts.service_date) as first_service_date
    from as_of
    left join facts
        on as_of.as_of_date >= facts.service_date
    group by as_of.as_of_date

),

month_starts as (

    select
        as_of_date,
        {{ revcycle.date_series(
            dbt.date_trunc('month', 'first_service_date'), dbt.date_trunc('month', 'as_of_date'), '1 month'
        ) }} as window_start_date
    from service_bounds
    where first_service_date is not null

),

service_windows as (

    select
        'month' as window_type,
        window_start_date,
        least(cast(window_start_date + interval 1 month - interval 1 day as date), as_of_date) as window_end_date,
        as_of_date
    from month_starts

    union all

    select
        'to_date' as window_type,
        first_service_date as window_start_date,
        as_of_date as window_end_date,
        as_of_date
    from service_bounds
    where first_service_date is not null

),

cohorts as (

    select
        service_windows.window_type,
        service_windows.window_start_date,
        service_windows.window_end_date,
        service_windows.as_of_date,
        count(*) filter (where not facts.is_self_pay) as scrubbed_claims,
        count(*) filter (where facts.is_clean_claim) as clean_claims,
        count(*) filter (where facts.is_adjudicated) as adjudicated_claims,
        count(*) filter (where facts.is_first_pass_resolved) as first_pass_resolved_claims,
        count(*) filter (where facts.is_initial_denial) as initially_denied_claims,
        coalesce(sum(facts.initial_denial_amount) filter (where facts.is_adjudicated), 0) as initial_denial_amount,
        coalesce(sum(facts.charge_amount) filter (where facts.is_adjudicated), 0) as adjudicated_charge_amount,
        coalesce(sum(facts.charge_amount) filter (where not facts.is_self_pay), 0) as insured_charge_amount,
        coalesce(sum(facts.payment_amount) filter (where not facts.is_self_pay), 0) as payment_amount,
        coalesce(sum(facts.contractual_adjustment_amount) filter (where not facts.is_self_pay), 0)
            as contractual_adjustment_amount,
        coalesce(sum(facts.days_to_submission), 0) as days_to_submission_total,
        count(facts.days_to_submission) as submitted_claims,
        coalesce(sum(facts.days_to_payment), 0) as days_to_payment_total,
        count(facts.days_to_payment) as paid_claims
    from service_windows
    left join facts
        on facts.service_date between service_windows.window_start_date and service_windows.window_end_date
    group by all

),

net_revenue as (

    select
        as_of.as_of_date,
        cast(as_of.as_of_date - interval 89 day as date) as window_start_date,
        coalesce(sum(facts.charge_amount - facts.contractual_adjustment_amount), 0) as net_revenue_amount
    from as_of
    left join facts
        on facts.service_date between cast(as_of.as_of_date - interval 89 day as date) and as_of.as_of_date
    group by as_of.as_of_date

),

ar as (

    select
        as_of.as_of_date,
        coalesce(sum(aging.total_balance_amount), 0) as net_ar_amount,
        coalesce(sum(aging.total_balance_amount) filter (where aging.days_since_service > 90), 0) as ar_over_90_amount,
        coalesce(sum(aging.total_balance_amount) filter (where aging.days_since_service > 120), 0) as ar_over_120_amount
    from as_of
    left join aging
        on true
    group by as_of.as_of_date

),

kpi_rows as (

    select
        'clean_claim_rate' as kpi_id,
        'Clean claim rate' as kpi_name,
        'ratio' as unit,
        'insured claims ready (no hold edit)' as numerator_label,
        'insured claims scrubbed' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        clean_claims as numerator,
        scrubbed_claims as denominator
    from cohorts

    union all

    select
        'first_pass_resolution_rate' as kpi_id,
        'First-pass resolution rate' as kpi_name,
        'ratio' as unit,
        'claims settled by their first adjudication without denial' as numerator_label,
        'claims adjudicated' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        first_pass_resolved_claims as numerator,
        adjudicated_claims as denominator
    from cohorts

    union all

    select
        'initial_denial_rate_count' as kpi_id,
        'Initial denial rate (claims)' as kpi_name,
        'ratio' as unit,
        'claims with a denial on their first adjudication' as numerator_label,
        'claims adjudicated' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        initially_denied_claims as numerator,
        adjudicated_claims as denominator
    from cohorts

    union all

    select
        'initial_denial_rate_amount' as kpi_id,
        'Initial denial rate (dollars)' as kpi_name,
        'ratio' as unit,
        'dollars denied on first adjudication' as numerator_label,
        'charges of the claims adjudicated' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        initial_denial_amount as numerator,
        adjudicated_charge_amount as denominator
    from cohorts

    union all

    select
        'gross_collection_rate' as kpi_id,
        'Gross collection rate' as kpi_name,
        'ratio' as unit,
        'insurance payments' as numerator_label,
        'charges' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        payment_amount as numerator,
        insured_charge_amount as denominator
    from cohorts

    union all

    select
        'net_collection_rate' as kpi_id,
        'Net (adjusted) collection rate' as kpi_name,
        'ratio' as unit,
        'insurance payments' as numerator_label,
        'charges - contractual adjustments (denials excluded)' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        payment_amount as numerator,
        insured_charge_amount - contractual_adjustment_amount as denominator
    from cohorts

    union all

    select
        'days_to_submission' as kpi_id,
        'Days from service to submission' as kpi_name,
        'days' as unit,
        'days from date of service to first submission, summed' as numerator_label,
        'claims submitted' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        days_to_submission_total as numerator,
        submitted_claims as denominator
    from cohorts

    union all

    select
        'days_to_payment' as kpi_id,
        'Days from service to first payment' as kpi_name,
        'days' as unit,
        'days from date of service to first payment, summed' as numerator_label,
        'claims paid' as denominator_label,
        window_type,
        window_start_date,
        window_end_date,
        as_of_date,
        days_to_payment_total as numerator,
        paid_claims as denominator
    from cohorts

    union all

    select
        'net_days_in_ar' as kpi_id,
        'Net days in A/R' as kpi_name,
        'days' as unit,
        'net A/R (insurance + patient balances) on the as-of date' as numerator_label,
        'net revenue (charges - contractual adjustments) of the window' as denominator_label,
        'trailing_90_days' as window_type,
        net_revenue.window_start_date,
        net_revenue.as_of_date as window_end_date,
        net_revenue.as_of_date,
        ar.net_ar_amount as numerator,
        net_revenue.net_revenue_amount as denominator
    from net_revenue
    inner join ar
        on net_revenue.as_of_date = ar.as_of_date

    union all

    select
        'aged_ar_over_90_days_share' as kpi_id,
        'A/R over 90 days from service (share)' as kpi_name,
        'ratio' as unit,
        'A/R of claims served more than 90 days before the as-of date' as numerator_label,
        'A/R' as denominator_label,
        'as_of' as window_type,
        as_of_date as window_start_date,
        as_of_date as window_end_date,
        as_of_date,
        ar_over_90_amount as numerator,
        net_ar_amount as denominator
    from ar

    union all

    select
        'aged_ar_over_120_days_share' as kpi_id,
        'A/R over 120 days from service (share)' as kpi_name,
        'ratio' as unit,
        'A/R of claims served more than 120 days before the as-of date' as numerator_label,
        'A/R' as denominator_label,
        'as_of' as window_type,
        as_of_date as window_start_date,
        as_of_date as window_end_date,
        as_of_date,
        ar_over_120_amount as numerator,
        net_ar_amount as denominator
    from ar

),

typed as (

    select
        cast(
            kpi_id || ':' || window_type || ':' || cast(window_start_date as {{ dbt.type_string() }})
            as {{ dbt.type_string() }}
        ) as kpi_window_id,
        cast(kpi_id as {{ dbt.type_string() }}) as kpi_id,
        cast(kpi_name as {{ dbt.type_string() }}) as kpi_name,
        cast(unit as {{ dbt.type_string() }}) as unit,
        cast(window_type as {{ dbt.type_string() }}) as window_type,
        cast(window_start_date as date) as window_start_date,
        cast(window_end_date as date) as window_end_date,
        cast({{ revcycle.days_between('window_start_date', 'window_end_date') }} + 1 as integer) as window_days,
        cast(as_of_date as date) as as_of_date,
        cast(numerator as decimal(18, 2)) as numerator,
        cast(denominator as decimal(18, 2)) as denominator,
        cast(numerator_label as {{ dbt.type_string() }}) as numerator_label,
        cast(denominator_label as {{ dbt.type_string() }}) as denominator_label
    from kpi_rows

),

final as (

    select
        kpi_window_id,
        kpi_id,
        kpi_name,
        unit,
        window_type,
        window_start_date,
        window_end_date,
        window_days,
        as_of_date,
        numerator,
        denominator,
        -- "value", as the KPI definitions (and the dashboard) name it, although it is a keyword.
        case
            when kpi_id = 'net_days_in_ar' then {{ kpi_ratio('numerator * window_days', 'denominator') }}
            else {{ kpi_ratio('numerator', 'denominator') }}
        end as value,  -- noqa: RF04
        numerator_label,
        denominator_label

    from typed

)

select * from final
