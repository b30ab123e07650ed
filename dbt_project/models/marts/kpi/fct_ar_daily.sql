-- Accounts receivable at the end of each day (balance_date), rebuilt from the ledger's event
-- dates: from the first ledger date on a claim to the as-of date (macro kpi_as_of_date), or to
-- the last ledger date when entries are dated later (a run whose clock is ahead of its as-of
-- date), so the last day always equals fct_claim_balances (a test).
--   insurance balance = sum of the amounts of the claims' entries with balance_component not
--                       'none', dated on or before the day (fct_claim_balances.open_balance_amount);
--   patient balance   = minus the sum of the 'patient_responsibility' entries (what was
--                       transferred to patients; no patient payments are posted yet);
--   open claims       = claims whose insurance or patient balance is not 0 at the end of the day;
--   the day's activity: charges, payments, adjustments, transfers to the patient.
-- Rebuilt in full each run from the ledger rather than kept as a dbt snapshot: the ledger's
-- entries are immutable and dated, so any past day can be recomputed, a rebuild of the same
-- data gives the same table, a late or corrected 835 lands on its own date instead of the day
-- the snapshot ran, and there is no snapshot table to lose or back-fill.
-- Unapplied cash (entries without a claim) is not receivable from anyone and stays out, as in
-- fct_claim_balances. Definitions: _kpi__docs.md (kpi_ar_daily).
with

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

claim_entries as (

    select
        claim_id,
        event_date,
        balance_component,
        amount
    from ledger
    where claim_id is not null and event_date is not null

),

bounds as (

    select
        min(event_date) as first_date,
        greatest(max(event_date), {{ kpi_as_of_date() }}) as last_date,
        {{ kpi_as_of_date() }} as as_of_date
    from claim_entries

),

days as (

    select
        {{ revcycle.date_series('first_date', 'last_date', '1 day') }} as balance_date,
        as_of_date
    from bounds
    where first_date is not null

),

day_activity as (

    select
        event_date,
        coalesce(sum(amount) filter (where balance_component != 'none'), 0) as insurance_change_amount,
        coalesce(-sum(amount) filter (where balance_component = 'patient_responsibility'), 0)
            as patient_responsibility_amount,
        coalesce(sum(amount) filter (where balance_component = 'charge'), 0) as charge_amount,
        coalesce(-sum(amount) filter (where balance_component = 'payment'), 0) as payment_amount,
        coalesce(
            -sum(amount) filter (where balance_component in ('contractual_adjustment', 'other_adjustment')), 0
        ) as adjustment_amount
    from claim_entries
    group by event_date

),

claim_day_changes as (

    select
        claim_id,
        event_date,
        coalesce(sum(amount) filter (where balance_component != 'none'), 0) as insurance_change_amount,
        coalesce(-sum(amount) filter (where balance_component = 'patient_responsibility'), 0) as patient_change_amount
    from claim_entries
    group by claim_id, event_date

),

claim_day_balances as (

    select
        claim_id,
        event_date,
        sum(insurance_change_amount) over claim_days != 0
        or sum(patient_change_amount) over claim_days != 0 as is_open
    from claim_day_changes
    window claim_days as (partition by claim_id order by event_date rows between unbounded preceding and current row)

),

claim_open_changes as (

    select
        event_date,
        cast(is_open as integer)
        - cast(coalesce(lag(is_open) over (partition by claim_id order by event_date), false) as integer)
            as open_claim_change
    from claim_day_balances

),

open_claim_changes as (

    select
        event_date,
        sum(open_claim_change) as open_claim_change
    from claim_open_changes
    group by event_date

),

daily as (

    select
        days.balance_date,
        days.as_of_date,
        coalesce(day_activity.insurance_change_amount, 0) as insurance_change_amount,
        coalesce(day_activity.patient_responsibility_amount, 0) as patient_responsibility_amount,
        coalesce(day_activity.charge_amount, 0) as charge_amount,
        coalesce(day_activity.payment_amount, 0) as payment_amount,
        coalesce(day_activity.adjustment_amount, 0) as adjustment_amount,
        coalesce(open_claim_changes.open_claim_change, 0) as open_claim_change
    from days
    left join day_activity
        on days.balance_date = day_activity.event_date
    left join open_claim_changes
        on days.balance_date = open_claim_changes.event_date

),

running as (

    select
        *,
        sum(insurance_change_amount) over running_days as insurance_balance_amount,
        sum(patient_responsibility_amount) over running_days as patient_balance_amount,
        sum(open_claim_change) over running_days as open_claim_count
    from daily
    window running_days as (order by balance_date rows between unbounded preceding and current row)

),

final as (

    select
        cast(balance_date as date) as balance_date,
        cast(as_of_date as date) as as_of_date,
        cast(balance_date > as_of_date as boolean) as is_after_as_of,
        cast(insurance_balance_amount as decimal(18, 2)) as insurance_balance_amount,
        cast(patient_balance_amount as decimal(18, 2)) as patient_balance_amount,
        cast(insurance_balance_amount + patient_balance_amount as decimal(18, 2)) as total_ar_amount,
        cast(open_claim_count as integer) as open_claim_count,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(payment_amount as decimal(18, 2)) as payment_amount,
        cast(adjustment_amount as decimal(18, 2)) as adjustment_amount,
        cast(patient_responsibility_amount as decimal(18, 2)) as patient_responsibility_amount

    from running

)

select * from final
