-- Nothing an 835 says is silently dropped:
--   - every claim payment of a posted payment is in int_remit_claims_matched, and every
--     service line of one in int_remit_lines_matched;
--   - every unmatched claim payment, every unmatched line of a matched claim payment and every
--     takeback of an unknown claim has a work item.
-- Returns the records that fall through.
with

payments as (

    select * from {{ ref('int_remit_payments_deduplicated') }}
    where not is_duplicate_delivery

),

staged_claims as (

    select * from {{ ref('stg_x12__remit_claims') }}

),

staged_lines as (

    select * from {{ ref('stg_x12__remit_service_lines') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

service_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

provider_adjustments as (

    select * from {{ ref('int_remit_provider_adjustments_resolved') }}

),

work_queue as (

    select * from {{ ref('fct_remit_work_queue') }}

),

missing_claim_payments as (

    select
        'claim payment not reconciled' as problem,
        staged_claims.claim_payment_id as record_id
    from staged_claims
    inner join payments
        on staged_claims.payment_id = payments.payment_id
    left join claim_payments
        on staged_claims.claim_payment_id = claim_payments.claim_payment_id
    where claim_payments.claim_payment_id is null

),

missing_lines as (

    select
        'service line not reconciled' as problem,
        staged_lines.service_line_id as record_id
    from staged_lines
    inner join claim_payments
        on staged_lines.claim_payment_id = claim_payments.claim_payment_id
    left join service_lines
        on staged_lines.service_line_id = service_lines.service_line_id
    where service_lines.service_line_id is null

),

unqueued_claim_payments as (

    select
        'unmatched claim payment without work item' as problem,
        claim_payments.claim_payment_id as record_id
    from claim_payments
    left join work_queue
        on
            claim_payments.claim_payment_id = work_queue.claim_payment_id
            and work_queue.work_item_type = 'unmatched_claim_payment'
    where not claim_payments.is_matched and work_queue.work_item_id is null

),

unqueued_lines as (

    select
        'unmatched service line without work item' as problem,
        service_lines.service_line_id as record_id
    from service_lines
    left join work_queue
        on
            service_lines.service_line_id = work_queue.service_line_id
            and work_queue.work_item_type = 'unmatched_service_line'
    where
        not service_lines.is_matched
        and service_lines.claim_id is not null
        and work_queue.work_item_id is null

),

unqueued_takebacks as (

    select
        'takeback of unknown claim without work item' as problem,
        provider_adjustments.provider_adjustment_id as record_id
    from provider_adjustments
    left join work_queue
        on provider_adjustments.provider_adjustment_id = work_queue.provider_adjustment_id
    where
        provider_adjustments.adjustment_kind = 'takeback'
        and not provider_adjustments.is_reference_resolved
        and work_queue.work_item_id is null

),

final as (

    select * from missing_claim_payments
    union all
    select * from missing_lines
    union all
    select * from unqueued_claim_payments
    union all
    select * from unqueued_lines
    union all
    select * from unqueued_takebacks

)

select * from final
