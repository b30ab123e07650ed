-- fct_claim_balances has every claim of fct_claims once, and its components add up to the
-- ledger entries on claims: nothing on a claim is left out of the balances, nothing counted
-- twice. Returns one row per broken identity.
with

ledger as (

    select
        coalesce(sum(amount) filter (where balance_component = 'charge'), 0) as charge_amount,
        -coalesce(sum(amount) filter (where balance_component = 'payment'), 0) as paid_amount,
        -coalesce(sum(amount) filter (where balance_component in ('contractual_adjustment', 'other_adjustment')), 0)
            as adjustment_amount,
        -coalesce(sum(amount) filter (where balance_component = 'patient_responsibility'), 0)
            as patient_responsibility_amount,
        coalesce(sum(amount) filter (where balance_component != 'none'), 0) as open_balance_amount
    from {{ ref('fct_ar_ledger') }}
    where claim_id is not null

),

balances as (

    select
        count(*) as claim_count,
        count(distinct claim_id) as distinct_claim_count,
        coalesce(sum(charge_amount), 0) as charge_amount,
        coalesce(sum(paid_amount), 0) as paid_amount,
        coalesce(sum(contractual_adjustment_amount + other_adjustment_amount), 0) as adjustment_amount,
        coalesce(sum(patient_responsibility_amount), 0) as patient_responsibility_amount,
        coalesce(sum(open_balance_amount), 0) as open_balance_amount
    from {{ ref('fct_claim_balances') }}

),

claims as (

    select count(*) as claim_count
    from {{ ref('fct_claims') }}

),

final as (

    select
        claims.claim_count as claims_in_fct_claims,
        balances.claim_count as balance_rows,
        balances.distinct_claim_count,
        ledger.charge_amount as ledger_charge_amount,
        balances.charge_amount as balances_charge_amount,
        ledger.paid_amount as ledger_paid_amount,
        balances.paid_amount as balances_paid_amount,
        ledger.adjustment_amount as ledger_adjustment_amount,
        balances.adjustment_amount as balances_adjustment_amount,
        ledger.patient_responsibility_amount as ledger_patient_responsibility_amount,
        balances.patient_responsibility_amount as balances_patient_responsibility_amount,
        ledger.open_balance_amount as ledger_open_balance_amount,
        balances.open_balance_amount as balances_open_balance_amount
    from claims
    cross join balances
    cross join ledger

)

select *
from final
where
    claims_in_fct_claims != balance_rows
    or balance_rows != distinct_claim_count
    or ledger_charge_amount != balances_charge_amount
    or ledger_paid_amount != balances_paid_amount
    or ledger_adjustment_amount != balances_adjustment_amount
    or ledger_patient_responsibility_amount != balances_patient_responsibility_amount
    or ledger_open_balance_amount != balances_open_balance_amount
