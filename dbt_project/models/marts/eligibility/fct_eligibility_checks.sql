-- One row per eligibility inquiry we sent (ops.eligibility_inquiries), with the payer's latest
-- 271 answer to it, matched on the trace (TRN*2 02 = inquiry_id). Latest: the most recent
-- response date, then the latest load, file and position. eligibility_status is the answer's
-- (active, inactive, rejected: an AAA without a status, unclear: neither) or no_answer.
with

inquiries as (

    select * from {{ ref('stg_ops__eligibility_inquiries') }}

),

answers as (

    select * from {{ ref('int_eligibility_responses_summarised') }}
    where inquiry_id is not null

),

ranked_answers as (

    select
        *,
        count(*) over (partition by inquiry_id) as answer_count,
        row_number() over (
            partition by inquiry_id
            order by response_date desc nulls last, loaded_at desc, file_name desc, segment_position desc
        ) as answer_rank

    from answers

),

latest_answers as (

    select * from ranked_answers
    where answer_rank = 1

),

final as (

    select
        inquiries.inquiry_id,
        inquiries.encounter_id,
        inquiries.patient_id,
        inquiries.coverage_id,
        inquiries.coverage_order,
        inquiries.payer_id,
        inquiries.service_date,
        inquiries.inquiry_date,
        inquiries.sent_at,
        inquiries.file_name as inquiry_file_name,
        latest_answers.response_id,
        latest_answers.response_date as checked_date,
        latest_answers.eligibility_date,
        latest_answers.deductible_remaining_amount,
        latest_answers.copay_amount,
        latest_answers.coinsurance_percent,
        latest_answers.is_out_of_network,
        latest_answers.reject_reason_code,
        latest_answers.file_name as response_file_name,
        cast(coalesce(latest_answers.answer_count, 0) as integer) as answer_count,
        coalesce(latest_answers.eligibility_status, 'no_answer') as eligibility_status,
        coalesce(latest_answers.eligibility_status = 'active', false) as is_active

    from inquiries
    left join latest_answers
        on inquiries.inquiry_id = latest_answers.inquiry_id

)

select * from final
