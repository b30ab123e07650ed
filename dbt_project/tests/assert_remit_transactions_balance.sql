-- Transaction balancing of every staged 835 (X12 rule 3): BPR02 (negated for a debit, BPR03 D)
-- = sum(CLP04) - sum(PLB amounts). Payers' files break this (off by a cent, a missing PLB);
-- the imbalance is recorded and reconciled as received, never fixed, so this warns: the work
-- queue carries the parser's failed checks for the analyst. Returns the transactions that do
-- not balance, with the parser's own verdict beside ours.
{{ config(severity='warn') }}

with

payments as (

    select * from {{ ref('stg_x12__remit_payments') }}

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

parser_checks as (

    select
        payment_id,
        is_balanced as parser_is_balanced
    from {{ ref('stg_x12__remit_balance_checks') }}
    where check_level = 'transaction'

),

compared as (

    select
        payments.payment_id,
        payments.file_name,
        payments.trace_number,
        parser_checks.parser_is_balanced,
        case when payments.credit_debit_flag = 'D' then -payments.payment_amount else payments.payment_amount end
            as signed_payment_amount,
        coalesce(claims.claims_paid_amount, 0) - coalesce(provider_adjustments.provider_adjustment_amount, 0)
            as expected_payment_amount
    from payments
    left join claims
        on payments.payment_id = claims.payment_id
    left join provider_adjustments
        on payments.payment_id = provider_adjustments.payment_id
    left join parser_checks
        on payments.payment_id = parser_checks.payment_id

)

select *
from compared
where signed_payment_amount is distinct from expected_payment_amount
