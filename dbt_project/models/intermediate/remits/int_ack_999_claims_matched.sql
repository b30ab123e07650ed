-- One row per 999 acknowledgement row and claim it acknowledges (ack_id, claim_id): a 999
-- answers a whole 837 transaction set (AK2) or functional group (AK1 without AK2), so it
-- fans out to every claim we sent in it. Acknowledgements that match nothing we sent keep one
-- row with claim_id null (the work queue reports them).
--
-- Matching: AK1*02 = the GS06 and AK2*02 = the ST02 recorded in ops.submissions, compared
-- without leading zeros (macro control_number_key); our control numbers only go up, so a
-- group control number identifies one 837 group. Only claim acknowledgements (AK1*01 HC, or
-- missing) are matched.
-- ack_result: accepted (IK5, or AK9 when there is no IK5: A, E), rejected (M, R, W, X) or
-- unclear (P partially accepted at group level without transaction detail, or no status).
-- A later 999 repeating the same control numbers and status adds nothing
-- (is_repeat_acknowledgement). event_date: a 999 carries no date in our tables; it answers one
-- 837 file, usually within hours, so it is dated on the day that file was submitted (the
-- day it was loaded when it matches nothing we sent). Dating it on its load day would put a
-- late-loaded 999 after the claim's payment.
with

acks as (

    select * from {{ ref('stg_x12__ack_999_transactions') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

submitted_transactions as (

    select
        claim_id,
        {{ control_number_key('group_control_number') }} as group_key,
        {{ control_number_key('transaction_control_number') }} as transaction_key,
        min(payer_id) as payer_id,
        min(interchange_control_number) as interchange_control_number,
        cast(min(submitted_at) as date) as submitted_date
    from submissions
    where claim_id is not null
    group by
        claim_id,
        {{ control_number_key('group_control_number') }},
        {{ control_number_key('transaction_control_number') }}

),

keyed_acks as (

    select
        *,
        {{ control_number_key('acknowledged_group_control_number') }} as group_key,
        {{ control_number_key('acknowledged_transaction_control_number') }} as transaction_key,
        coalesce(transaction_status, group_status) as effective_status,
        coalesce(functional_id, 'HC') = 'HC' as is_claim_acknowledgement,
        cast(loaded_at as date) as loaded_date
    from acks

),

classified as (

    select
        *,
        case
            when effective_status in ('A', 'E') then 'accepted'
            when effective_status in ('M', 'R', 'W', 'X') then 'rejected'
            else 'unclear'
        end as ack_result,
        row_number() over (
            partition by group_key, transaction_key, transaction_status, group_status
            order by loaded_at, source_file, segment_position, ack_id
        ) > 1 as is_repeat_acknowledgement
    from keyed_acks

),

final as (

    select
        classified.ack_id,
        submitted_transactions.claim_id,
        classified.ack_result,
        classified.effective_status,
        classified.transaction_status,
        classified.group_status,
        classified.functional_id,
        classified.acknowledged_group_control_number,
        classified.acknowledged_transaction_control_number,
        classified.is_claim_acknowledgement,
        classified.is_repeat_acknowledgement,
        classified.error_count,
        classified.error_summary,
        submitted_transactions.payer_id,
        submitted_transactions.interchange_control_number,
        classified.file_name,
        classified.segment_position,
        submitted_transactions.claim_id is not null as is_matched,
        case
            when submitted_transactions.claim_id is not null then null
            when not classified.is_claim_acknowledgement then 'not_a_claim_acknowledgement'
            else 'unknown_control_numbers'
        end as unmatched_reason,
        coalesce(submitted_transactions.submitted_date, classified.loaded_date) as event_date

    from classified
    left join submitted_transactions
        on
            classified.is_claim_acknowledgement
            and classified.group_key = submitted_transactions.group_key
            and (
                classified.transaction_key is null
                or classified.transaction_key = submitted_transactions.transaction_key
            )

)

select * from final
