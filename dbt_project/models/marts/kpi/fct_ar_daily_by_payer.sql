-- Insurance receivable per payer at the end of each day: one row per (balance_date, payer_id),
-- from the payer's first ledger date on a claim to the last day of fct_ar_daily. The payer is
-- the ledger entry's payer_id (the payer a charge was submitted to, the payer of an 835, the
-- secondary payer a balance was transferred to), so a balance moved to another payer moves
-- with it. The insurance balances of all payers add up to fct_ar_daily.insurance_balance_amount
-- every day (a test). Patient balances are not split by payer (fct_ar_daily has them).
-- Definitions: _kpi__docs.md (kpi_ar_daily).
with

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

claim_entries as (

    select
        event_date,
        balance_component,
        amount,
        coalesce(payer_id, '(unknown)') as payer_id
    from ledger
    where claim_id is not null and event_date is not null

),

last_day as (

    select greatest(max(event_date), {{ kpi_as_of_date() }}) as last_date
    from claim_entries

),

payer_bounds as (

    select
        claim_entries.payer_id,
        min(claim_entries.event_date) as first_date,
        min(last_day.last_date) as last_date
    from claim_entries
    cross join last_day
    group by claim_entries.payer_id

),

payer_days as (

    select
        payer_id,
        {{ revcycle.date_series('first_date', 'last_date', '1 day') }} as balance_date
    from payer_bounds

),

day_activity as (

    select
        payer_id,
        event_date,
        coalesce(sum(amount) filter (where balance_component != 'none'), 0) as insurance_change_amount,
        coalesce(sum(amount) filter (where balance_component = 'charge'), 0) as charge_amount,
        coalesce(-sum(amount) filter (where balance_component = 'payment'), 0) as payment_amount,
        coalesce(
            -sum(amount) filter (where balance_component in ('contractual_adjustment', 'other_adjustment')), 0
        ) as adjustment_amount,
        coalesce(-sum(amount) filter (where balance_component = 'patient_responsibility'), 0)
            as patient_responsibility_amount
    from claim_entries
    group by payer_id, event_date

),

running as (

    select
        payer_days.balance_date,
        payer_days.payer_id,
        sum(coalesce(day_activity.insurance_change_amount, 0)) over payer_running as insurance_balance_amount,
        coalesce(day_activity.charge_amount, 0) as charge_amount,
        coalesce(day_activity.payment_amount, 0) as payment_amount,
        coalesce(day_activity.adjustment_amount, 0) as adjustment_amount,
        coalesce(day_activity.patient_responsibility_amount, 0) as patient_responsibility_amount
    from payer_days
    left join day_activity
        on
            payer_days.payer_id = day_activity.payer_id
            and payer_days.balance_date = day_activity.event_date
    window payer_running as (
        partition by payer_days.payer_id
        order by payer_days.balance_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        cast(balance_date as date) as balance_date,
        cast(payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(insurance_balance_amount as decimal(18, 2)) as insurance_balance_amount,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(payment_amount as decimal(18, 2)) as payment_amount,
        cast(adjustment_amount as decimal(18, 2)) as adjustment_amount,
        cast(patient_responsibility_amount as decimal(18, 2)) as patient_responsibility_amount

    from running

)

select * from final
