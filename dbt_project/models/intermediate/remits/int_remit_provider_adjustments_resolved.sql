-- One row per PLB reason/amount pair (provider_adjustment_id) of a posted payment, with the
-- claim its reference (PLB03-2) points at, when it points at exactly one.
--
-- Payers write the reference as our patient control number, their claim number (ICN), or a
-- composite such as "<CLP01> <date> <ICN>". The reference and each of its alphanumeric tokens
-- are compared with submitted claim ids (patient_control_number) and, failing that, with the
-- CLP07 of matched claim payments of the same payer (payer_claim_control_number).
--
-- adjustment_kind: interest (L6), takeback (WO overpayment recovery, 72 authorized return),
-- forwarding_balance (FB), other. A takeback changes the claim's balance
-- (affects_claim_balance) only when the claim has no reversal (CLP02 22) in our remits: with a
-- reversal, the reversal already took the payment off the claim and the PLB only moves the cash
-- (835 TR3 overpayment recovery with delayed recoupment); without one, the PLB is the only
-- record that the payment was taken back.
with

provider_adjustments as (

    select * from {{ ref('stg_x12__remit_provider_adjustments') }}

),

payments as (

    select * from {{ ref('int_remit_payments_deduplicated') }}
    where not is_duplicate_delivery

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

reason_codes as (

    select * from {{ ref('provider_adjustment_reason_codes') }}

),

submitted_claims as (

    select distinct claim_id
    from submissions
    where claim_id is not null

),

posted as (

    select
        provider_adjustments.*,
        payments.payer_id,
        payments.event_date,
        payments.payment_sequence
    from provider_adjustments
    inner join payments
        on provider_adjustments.payment_id = payments.payment_id

),

reference_tokens as (

    select
        provider_adjustment_id,
        payer_id,
        reference_id_normalised as token
    from posted
    where reference_id_normalised is not null

    union

    select
        provider_adjustment_id,
        payer_id,
        {{ revcycle.split_to_rows('reference_id_normalised', '[^A-Z0-9]+', is_regex=true) }} as token
    from posted
    where reference_id_normalised is not null

),

claim_id_references as (

    select distinct
        reference_tokens.provider_adjustment_id,
        submitted_claims.claim_id,
        'patient_control_number' as reference_match_method,
        1 as method_rank
    from reference_tokens
    inner join submitted_claims
        on reference_tokens.token = submitted_claims.claim_id

),

control_number_references as (

    select distinct
        reference_tokens.provider_adjustment_id,
        claim_payments.claim_id,
        'payer_claim_control_number' as reference_match_method,
        2 as method_rank
    from reference_tokens
    inner join claim_payments
        on
            reference_tokens.token = claim_payments.payer_claim_control_number
            and coalesce(reference_tokens.payer_id, '') = coalesce(claim_payments.payer_id, '')
    where claim_payments.claim_id is not null

),

claim_references as (

    select
        *,
        rank() over (partition by provider_adjustment_id order by method_rank) as method_preference
    from (
        select * from claim_id_references
        union all
        select * from control_number_references
    ) as all_references

),

resolved as (

    select
        provider_adjustment_id,
        min(claim_id) as claim_id,
        min(reference_match_method) as reference_match_method,
        count(distinct claim_id) as claim_count
    from claim_references
    where method_preference = 1
    group by provider_adjustment_id

),

claims_with_reversal as (

    select distinct claim_id
    from claim_payments
    where is_reversal and claim_id is not null

),

final as (

    select
        posted.provider_adjustment_id,
        posted.payment_id,
        posted.payment_sequence,
        posted.payer_id,
        posted.event_date,
        posted.provider_id,
        posted.fiscal_period_date,
        posted.reason_code,
        reason_codes.description as reason_description,
        posted.reference_id,
        posted.amount,
        posted.segment_position,
        case
            when posted.reason_code = 'L6' then 'interest'
            when posted.reason_code in ('WO', '72') then 'takeback'
            when posted.reason_code = 'FB' then 'forwarding_balance'
            else 'other'
        end as adjustment_kind,
        case when resolved.claim_count = 1 then resolved.claim_id end as claim_id,
        case when resolved.claim_count = 1 then resolved.reference_match_method end as reference_match_method,
        coalesce(resolved.claim_count = 1, false) as is_reference_resolved,
        case
            when resolved.claim_count = 1 then null
            when posted.reference_id is null then 'no_reference'
            when resolved.claim_count > 1 then 'ambiguous_reference'
            else 'unknown_claim_reference'
        end as reference_unresolved_reason,
        coalesce(resolved.claim_count = 1 and claims_with_reversal.claim_id is not null, false) as claim_has_reversal,
        coalesce(
            posted.reason_code in ('WO', '72')
            and resolved.claim_count = 1
            and claims_with_reversal.claim_id is null,
            false
        ) as affects_claim_balance

    from posted
    left join resolved
        on posted.provider_adjustment_id = resolved.provider_adjustment_id
    left join claims_with_reversal
        on resolved.claim_id = claims_with_reversal.claim_id
    left join reason_codes
        on posted.reason_code = reason_codes.reason_code

)

select * from final
