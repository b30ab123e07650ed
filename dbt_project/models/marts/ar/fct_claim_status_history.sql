-- One row per status event of a claim (status_event_id), numbered per claim in order
-- (status_seq; is_current marks the last one).
--   submitted / resubmitted / voided   ops.submissions claim-level rows (CLM05-3 1 / 7 / 8)
--   accepted / rejected                999 (IK5, or AK9 without AK2) for the 837 transaction
--                                      the claim went in; 277CA claim status
--   paid / partially_paid / denied /   835 claim payments matched to the claim:
--   patient_responsibility / zero_paid /  22 reversed; 25 predetermination; 23 not_our_claim;
--   reversed / not_our_claim /            4 denied; otherwise, when nothing was paid: denied
--   predetermination                      if a denial CARC (CO, OA, PI; seeds/remits/
--                                         carc_codes.csv) took money, else
--                                         patient_responsibility if the patient owes a share
--                                         (zero pay that is not a denial: all deductible), else
--                                         zero_paid; when something was paid: partially_paid if
--                                         a denial CARC took part of it (a denied or bundled
--                                         line), else paid
--   taken_back                         a PLB takeback that changed the claim's balance
-- A secondary (COB) claim's events belong to its account (the primary claim's claim_id) with
-- billed_claim_id and payer_sequence secondary, so the current status is the latest event of
-- either payer.
-- Order: event date, then source (submission, 999, 277CA, 835, PLB), then position. A payment
-- that was reversed goes just before its reversal even when the reversal arrived first (its 835
-- delivered, or loaded, before the original's): otherwise the reversed payment would be the
-- claim's current status.
-- A repeated 999/277CA (same control numbers and status) adds no event; 999/277CA results
-- that are unclear add none (the work queue reports them).
with

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

acks_999 as (

    select * from {{ ref('int_ack_999_claims_matched') }}

),

acks_277ca as (

    select * from {{ ref('int_ack_277ca_claims_matched') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

provider_adjustments as (

    select * from {{ ref('int_remit_provider_adjustments_resolved') }}

),

claim_payment_codes as (

    select * from {{ ref('claim_payment_status_codes') }}

),

primary_claims as (

    select * from {{ ref('fct_claims') }}

),

billed_claims as (

    select * from {{ billed_claims('primary_claims') }} as billed

),

submission_events as (

    select
        'SUB:' || submission_id as status_event_id,
        claim_id,
        case claim_frequency_code
            when '7' then 'resubmitted'
            when '8' then 'voided'
            else 'submitted'
        end as status,
        cast(submitted_at as date) as status_date,
        '837_submission' as source_type,
        submission_id as source_id,
        payer_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        'CLM05-3 ' || coalesce(claim_frequency_code, '?') || ' in ' || coalesce(file_name, '?')
        || ' (ISA13 ' || coalesce(interchange_control_number, '?') || ')' as status_detail,
        1 as source_rank,
        0 as source_sequence,
        0 as source_position,
        cast(submitted_at as date) as sort_date,
        1 as source_offset
    from submissions
    where claim_id is not null and claim_line_id is null

),

ack_999_events as (

    select
        '999:' || ack_id || ':' || claim_id as status_event_id,
        claim_id,
        ack_result as status,
        event_date as status_date,
        '999' as source_type,
        ack_id as source_id,
        payer_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        '999 ' || coalesce(effective_status, '?') || ' for GS06 ' || coalesce(acknowledged_group_control_number, '?')
        || coalesce(' ST02 ' || acknowledged_transaction_control_number, '')
        || coalesce(': ' || error_summary, '') as status_detail,
        2 as source_rank,
        0 as source_sequence,
        coalesce(segment_position, 0) as source_position,
        event_date as sort_date,
        1 as source_offset
    from acks_999
    where is_matched and not is_repeat_acknowledgement and ack_result in ('accepted', 'rejected')

),

ack_277ca_events as (

    select
        '277CA:' || ack_id as status_event_id,
        claim_id,
        ack_result as status,
        event_date as status_date,
        '277CA' as source_type,
        ack_id as source_id,
        cast(null as {{ dbt.type_string() }}) as payer_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        '277CA ' || coalesce(status_category, '?') || ':' || coalesce(status_code, '?')
        || coalesce(' ' || status_category_description, '')
        || coalesce(' / ' || status_code_description, '') as status_detail,
        3 as source_rank,
        0 as source_sequence,
        coalesce(segment_position, 0) as source_position,
        event_date as sort_date,
        1 as source_offset
    from acks_277ca
    where is_matched and not is_repeat_acknowledgement and ack_result in ('accepted', 'rejected')

),

claim_payment_adjustments as (

    select
        claim_payment_id,
        bool_or(is_denial and group_code in ('CO', 'OA', 'PI') and amount > 0) as has_denial_adjustment,
        bool_or(group_code = 'PR' and amount > 0) as has_patient_responsibility
    from adjustments
    group by claim_payment_id

),

reversal_anchors as (

    -- A reversed claim payment that sorts after its reversal (the reversal arrived first) takes
    -- the ordering of the earliest such reversal, and source_offset 0 puts it just before it.
    select
        claim_payment_id,
        event_date,
        payment_sequence,
        segment_position
    from (
        select
            originals.claim_payment_id,
            reversals.event_date,
            reversals.payment_sequence,
            reversals.segment_position,
            row_number() over (
                partition by originals.claim_payment_id
                order by reversals.event_date, reversals.payment_sequence, reversals.segment_position
            ) as reversal_order
        from claim_payments as reversals
        inner join claim_payments as originals
            on reversals.reversed_claim_payment_id = originals.claim_payment_id
        where
            reversals.event_date < originals.event_date
            or (
                reversals.event_date = originals.event_date
                and reversals.payment_sequence < originals.payment_sequence
            )
            or (
                reversals.event_date = originals.event_date
                and reversals.payment_sequence = originals.payment_sequence
                and reversals.segment_position < originals.segment_position
            )
    ) as ranked
    where reversal_order = 1

),

remit_events as (

    select
        '835:' || claim_payments.claim_payment_id as status_event_id,
        coalesce(claim_payments.billed_claim_id, claim_payments.claim_id) as claim_id,
        case
            when claim_payments.claim_status_code = '22' then 'reversed'
            when claim_payments.claim_status_code = '25' then 'predetermination'
            when claim_payments.claim_status_code = '23' then 'not_our_claim'
            when claim_payments.claim_status_code = '4' then 'denied'
            when claim_payments.paid_amount = 0 and coalesce(claim_payment_adjustments.has_denial_adjustment, false)
                then 'denied'
            when
                claim_payments.paid_amount = 0 and coalesce(claim_payment_adjustments.has_patient_responsibility, false)
                then 'patient_responsibility'
            when claim_payments.paid_amount = 0 then 'zero_paid'
            when coalesce(claim_payment_adjustments.has_denial_adjustment, false) then 'partially_paid'
            else 'paid'
        end as status,
        claim_payments.event_date as status_date,
        '835_claim_payment' as source_type,
        claim_payments.claim_payment_id as source_id,
        claim_payments.payer_id,
        claim_payments.claim_payment_id,
        'CLP02 ' || coalesce(claim_payments.claim_status_code, '?')
        || coalesce(' ' || claim_payment_codes.description, '')
        || ', paid ' || coalesce(cast(claim_payments.paid_amount as {{ dbt.type_string() }}), '?')
        || coalesce(', payer claim ' || claim_payments.payer_claim_control_number, '') as status_detail,
        4 as source_rank,
        coalesce(reversal_anchors.payment_sequence, claim_payments.payment_sequence) as source_sequence,
        coalesce(reversal_anchors.segment_position, claim_payments.segment_position) as source_position,
        coalesce(reversal_anchors.event_date, claim_payments.event_date) as sort_date,
        case when reversal_anchors.claim_payment_id is null then 1 else 0 end as source_offset
    from claim_payments
    left join claim_payment_adjustments
        on claim_payments.claim_payment_id = claim_payment_adjustments.claim_payment_id
    left join reversal_anchors
        on claim_payments.claim_payment_id = reversal_anchors.claim_payment_id
    left join claim_payment_codes
        on claim_payments.claim_status_code = claim_payment_codes.claim_status_code
    where claim_payments.claim_id is not null

),

takeback_events as (

    select
        'PLB:' || provider_adjustment_id as status_event_id,
        claim_id,
        'taken_back' as status,
        event_date as status_date,
        '835_provider_adjustment' as source_type,
        provider_adjustment_id as source_id,
        payer_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        'PLB ' || reason_code || ' ' || cast(amount as {{ dbt.type_string() }})
        || coalesce(' referring to ' || reference_id, '') as status_detail,
        5 as source_rank,
        payment_sequence as source_sequence,
        segment_position as source_position,
        event_date as sort_date,
        1 as source_offset
    from provider_adjustments
    where affects_claim_balance

),

events as (

    select * from submission_events
    union all
    select * from ack_999_events
    union all
    select * from ack_277ca_events
    union all
    select * from remit_events
    union all
    select * from takeback_events

),

accounted as (

    -- Events name the claim id billed (a primary claim or its secondary claim); the history
    -- belongs to the account (the primary claim), with the billed id and payer sequence kept.
    select
        {{ revcycle.star_except('events', ['claim_id']) }},
        events.claim_id as billed_claim_id,
        coalesce(billed_claims.claim_id, events.claim_id) as claim_id,
        coalesce(billed_claims.payer_sequence, 'primary') as payer_sequence
    from events
    left join billed_claims
        on events.claim_id = billed_claims.billed_claim_id

),

sequenced as (

    select
        *,
        row_number() over (
            partition by claim_id
            order by sort_date, source_rank, source_sequence, source_position, source_offset, status_event_id
        ) as status_seq,
        count(*) over (partition by claim_id) as status_count
    from accounted

),

final as (

    select
        cast(status_event_id as {{ dbt.type_string() }}) as status_event_id,
        cast(claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(billed_claim_id as {{ dbt.type_string() }}) as billed_claim_id,
        cast(payer_sequence as {{ dbt.type_string() }}) as payer_sequence,
        cast(status_seq as integer) as status_seq,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(status_date as date) as status_date,
        cast(source_type as {{ dbt.type_string() }}) as source_type,
        cast(source_id as {{ dbt.type_string() }}) as source_id,
        cast(payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(claim_payment_id as {{ dbt.type_string() }}) as claim_payment_id,
        cast(status_detail as {{ dbt.type_string() }}) as status_detail,
        status_seq = status_count as is_current

    from sequenced

)

select * from final
