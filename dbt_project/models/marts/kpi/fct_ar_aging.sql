-- Accounts receivable aging: one row per claim with a non-zero balance (claim_id), as of the
-- run's as-of date (macro kpi_as_of_date: var as_of_date, else scrub_as_of_date).
-- The balances are fct_claim_balances' (every ledger entry posted): the insurance balance is
-- open_balance_amount (what payers still owe; negative is a credit), the patient balance is
-- patient_responsibility_amount (no patient payments are posted yet, so what was transferred
-- to the patient is what the patient owes). The as-of date is the day ages are measured to:
-- from the date of service (fct_claims.service_date, the first day) and from the first
-- submission (fct_claim_balances.billed_date; a self-pay claim's charge day), in buckets
-- 0-30, 31-60, 61-90, 91-120 and 120+ (121 days and more), see macros/kpi.sql.
-- Definitions: _kpi__docs.md (kpi_ar_aging).
with

balances as (

    select * from {{ ref('fct_claim_balances') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

open_claims as (

    select
        balances.claim_id,
        claims.patient_id,
        claims.payer_id,
        claims.payer_type,
        claims.secondary_payer_id,
        claims.billing_provider_id,
        claims.rendering_provider_id,
        claims.is_self_pay,
        balances.claim_status,
        claims.service_date,
        balances.billed_date,
        balances.charge_amount,
        balances.open_balance_amount as insurance_balance_amount,
        balances.patient_responsibility_amount as patient_balance_amount,
        {{ kpi_as_of_date() }} as as_of_date
    from balances
    inner join claims
        on balances.claim_id = claims.claim_id
    where balances.open_balance_amount != 0 or balances.patient_responsibility_amount != 0

),

aged as (

    select
        *,
        {{ revcycle.days_between('service_date', 'as_of_date') }} as days_since_service,
        {{ revcycle.days_between('billed_date', 'as_of_date') }} as days_since_billed
    from open_claims

),

final as (

    select
        cast(as_of_date as date) as as_of_date,
        cast(claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(patient_id as {{ dbt.type_string() }}) as patient_id,
        cast(payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(payer_type as {{ dbt.type_string() }}) as payer_type,
        cast(secondary_payer_id as {{ dbt.type_string() }}) as secondary_payer_id,
        cast(billing_provider_id as {{ dbt.type_string() }}) as billing_provider_id,
        cast(rendering_provider_id as {{ dbt.type_string() }}) as rendering_provider_id,
        cast(is_self_pay as boolean) as is_self_pay,
        cast(claim_status as {{ dbt.type_string() }}) as claim_status,
        cast(service_date as date) as service_date,
        cast(billed_date as date) as billed_date,
        cast(days_since_service as integer) as days_since_service,
        cast({{ aging_bucket('days_since_service') }} as {{ dbt.type_string() }}) as service_age_bucket,
        cast({{ aging_bucket_order('days_since_service') }} as integer) as service_age_bucket_order,
        cast(days_since_billed as integer) as days_since_billed,
        cast({{ aging_bucket('days_since_billed') }} as {{ dbt.type_string() }}) as billed_age_bucket,
        cast({{ aging_bucket_order('days_since_billed') }} as integer) as billed_age_bucket_order,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(insurance_balance_amount as decimal(18, 2)) as insurance_balance_amount,
        cast(patient_balance_amount as decimal(18, 2)) as patient_balance_amount,
        cast(insurance_balance_amount + patient_balance_amount as decimal(18, 2)) as total_balance_amount

    from aged

)

select * from final
