-- The ledger holds exactly the money of the 835s, no more, no less:
--   - for every posted payment, its cash entries sum to -(sum CLP04 - sum PLB) (the payment
--     seen from the claims), and to -BPR02 when the 835 balances;
--   - a duplicate delivery has no entry at all (it posts nothing);
--   - no cash entry points at a payment that does not exist.
-- Returns one row per payment that breaks a rule.
with

payments as (

    select * from {{ ref('int_remit_payments_deduplicated') }}

),

claims as (

    select
        payment_id,
        sum(paid_amount) as claims_paid_amount
    from {{ ref('stg_x12__remit_claims') }}
    group by payment_id

),

provider_adjustments as (

    select
        payment_id,
        sum(amount) as provider_adjustment_amount
    from {{ ref('stg_x12__remit_provider_adjustments') }}
    group by payment_id

),

ledger_cash as (

    select
        payment_id,
        sum(amount) filter (where is_cash) as cash_amount,
        count(*) as entry_count
    from {{ ref('fct_ar_ledger') }}
    where payment_id is not null
    group by payment_id

),

compared as (

    select
        payments.is_duplicate_delivery,
        payments.signed_payment_amount,
        coalesce(payments.payment_id, ledger_cash.payment_id) as payment_id,
        coalesce(claims.claims_paid_amount, 0) - coalesce(provider_adjustments.provider_adjustment_amount, 0)
            as remitted_amount,
        -coalesce(ledger_cash.cash_amount, 0) as ledger_cash_amount,
        coalesce(ledger_cash.entry_count, 0) as ledger_entry_count
    from payments
    full outer join ledger_cash
        on payments.payment_id = ledger_cash.payment_id
    left join claims
        on payments.payment_id = claims.payment_id
    left join provider_adjustments
        on payments.payment_id = provider_adjustments.payment_id

)

select *
from compared
where
    is_duplicate_delivery is null
    or (is_duplicate_delivery and ledger_entry_count > 0)
    or (not is_duplicate_delivery and ledger_cash_amount != remitted_amount)
    or (
        not is_duplicate_delivery
        and signed_payment_amount = remitted_amount
        and ledger_cash_amount != signed_payment_amount
    )
