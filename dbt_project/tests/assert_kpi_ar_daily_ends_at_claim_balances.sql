-- The daily A/R rebuilt from ledger dates ends where fct_claim_balances stands: on its last day
-- the insurance and patient balances are the totals of fct_claim_balances and the open claims
-- are the claims listed in fct_ar_aging. And every day, the payers of fct_ar_daily_by_payer add
-- up to the insurance balance of fct_ar_daily. Returns one row per broken identity.
with

daily as (

    select * from {{ ref('fct_ar_daily') }}

),

by_payer as (

    select
        balance_date,
        sum(insurance_balance_amount) as insurance_balance_amount
    from {{ ref('fct_ar_daily_by_payer') }}
    group by balance_date

),

balances as (

    select
        coalesce(sum(open_balance_amount), 0) as insurance_balance_amount,
        coalesce(sum(patient_responsibility_amount), 0) as patient_balance_amount,
        count(*) filter (where open_balance_amount != 0 or patient_responsibility_amount != 0) as open_claim_count
    from {{ ref('fct_claim_balances') }}

),

last_day as (

    select *
    from daily
    qualify row_number() over (order by balance_date desc) = 1

),

end_check as (

    select
        'last_day' as check_name,
        last_day.balance_date,
        last_day.insurance_balance_amount as daily_amount,
        balances.insurance_balance_amount as expected_amount,
        last_day.patient_balance_amount as daily_patient_amount,
        balances.patient_balance_amount as expected_patient_amount,
        last_day.open_claim_count as daily_open_claims,
        balances.open_claim_count as expected_open_claims
    from balances
    left join last_day
        on true
    where
        balances.open_claim_count > 0
        and (
            last_day.balance_date is null
            or last_day.insurance_balance_amount != balances.insurance_balance_amount
            or last_day.patient_balance_amount != balances.patient_balance_amount
            or last_day.open_claim_count != balances.open_claim_count
        )

),

payer_check as (

    select
        'payers_add_up' as check_name,
        coalesce(daily.balance_date, by_payer.balance_date) as balance_date,
        by_payer.insurance_balance_amount as daily_amount,
        daily.insurance_balance_amount as expected_amount,
        cast(null as decimal(18, 2)) as daily_patient_amount,
        cast(null as decimal(18, 2)) as expected_patient_amount,
        cast(null as integer) as daily_open_claims,
        cast(null as integer) as expected_open_claims
    from daily
    full outer join by_payer
        on daily.balance_date = by_payer.balance_date
    where
        coalesce(by_payer.insurance_balance_amount, 0) != coalesce(daily.insurance_balance_amount, 0)
        or daily.balance_date is null

)

select * from end_check
union all
select * from payer_check
