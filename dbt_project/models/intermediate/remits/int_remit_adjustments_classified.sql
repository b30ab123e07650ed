-- One row per CAS adjustment (adjustment_id) of a posted claim payment, placed on our claim
-- and line (null when they did not match) and classified with the CARC code set:
-- is_denial and denial_category come from seeds/remits/carc_codes.csv (a reason the seed does
-- not list is not counted as a denial; a warn test names it). Amounts keep the 835 sign
-- (positive reduces the payment; a reversal carries them negated).
-- is_prior_payer_impact: reason 23 (the impact of prior payer adjudication) on a secondary
-- payer's claim payment. It restates what the primary already paid and adjusted, which the
-- ledger posted from the primary's 835, so it is recorded but moves no balance.
with

adjustments as (

    select * from {{ ref('stg_x12__remit_adjustments') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

service_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

carc_codes as (

    select * from {{ ref('carc_codes') }}

),

final as (

    select
        adjustments.adjustment_id,
        adjustments.claim_payment_id,
        adjustments.service_line_id,
        claim_payments.payment_id,
        claim_payments.payment_sequence,
        claim_payments.claim_id,
        claim_payments.billed_claim_id,
        claim_payments.payer_sequence,
        service_lines.claim_line_id,
        claim_payments.payer_id,
        claim_payments.event_date,
        claim_payments.claim_status_code,
        claim_payments.is_reversal,
        adjustments.group_code,
        adjustments.reason_code,
        carc_codes.description as reason_description,
        carc_codes.denial_category,
        adjustments.amount,
        adjustments.quantity,
        service_lines.remark_codes,
        adjustments.segment_position,
        case when adjustments.service_line_id is null then 'claim' else 'line' end as adjustment_level,
        coalesce(carc_codes.is_denial, false) as is_denial,
        coalesce(claim_payments.payer_sequence = 'secondary' and adjustments.reason_code = '23', false)
            as is_prior_payer_impact

    from adjustments
    inner join claim_payments
        on adjustments.claim_payment_id = claim_payments.claim_payment_id
    left join service_lines
        on adjustments.service_line_id = service_lines.service_line_id
    left join carc_codes
        on adjustments.reason_code = carc_codes.reason_code

)

select * from final
