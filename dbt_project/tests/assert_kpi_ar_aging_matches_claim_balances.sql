-- fct_ar_aging lists every claim of fct_claim_balances whose insurance or patient balance is
-- not 0, once, with the same balances: its totals are the totals of fct_claim_balances.
-- Returns one row per claim that is missing, extra or different.
with

balances as (

    select
        claim_id,
        open_balance_amount,
        patient_responsibility_amount
    from {{ ref('fct_claim_balances') }}
    where open_balance_amount != 0 or patient_responsibility_amount != 0

),

aging as (

    select
        claim_id,
        insurance_balance_amount,
        patient_balance_amount
    from {{ ref('fct_ar_aging') }}

),

final as (

    select
        balances.open_balance_amount,
        aging.insurance_balance_amount,
        balances.patient_responsibility_amount,
        aging.patient_balance_amount,
        coalesce(balances.claim_id, aging.claim_id) as claim_id
    from balances
    full outer join aging
        on balances.claim_id = aging.claim_id

)

select *
from final
where
    open_balance_amount is distinct from insurance_balance_amount
    or patient_responsibility_amount is distinct from patient_balance_amount
