-- One row per encounter and coverage an insurer could be asked about
-- (int_encounter_coverages_listed: primary and secondary coverages, self-pay excluded), with
-- its latest verification: of the inquiries for that encounter and coverage, the latest one
-- the payer answered (latest answer date, then latest sent, then inquiry id); an unanswered
-- inquiry never hides an earlier answer. verification_status is that answer's status
-- (active, inactive, rejected, unclear), else no_answer (asked, never answered), else
-- not_checked (never asked). The scrubber holds a claim whose status is inactive.
with

encounter_coverages as (

    select * from {{ ref('int_encounter_coverages_listed') }}

),

checks as (

    select * from {{ ref('fct_eligibility_checks') }}

),

ranked_checks as (

    select
        *,
        count(*) over (partition by encounter_id, coverage_id) as inquiry_count,
        max(sent_at) over (partition by encounter_id, coverage_id) as last_inquiry_sent_at,
        row_number() over (
            partition by encounter_id, coverage_id
            order by
                (eligibility_status <> 'no_answer') desc,
                checked_date desc nulls last,
                sent_at desc,
                inquiry_id desc
        ) as check_rank

    from checks

),

latest_checks as (

    select * from ranked_checks
    where check_rank = 1

),

final as (

    select
        encounter_coverages.encounter_id,
        encounter_coverages.coverage_id,
        encounter_coverages.coverage_order,
        encounter_coverages.patient_id,
        encounter_coverages.payer_id,
        encounter_coverages.service_date,
        latest_checks.inquiry_id as latest_inquiry_id,
        latest_checks.checked_date,
        latest_checks.deductible_remaining_amount,
        latest_checks.copay_amount,
        latest_checks.coinsurance_percent,
        latest_checks.is_out_of_network,
        latest_checks.last_inquiry_sent_at,
        cast(coalesce(latest_checks.inquiry_count, 0) as integer) as inquiry_count,
        coalesce(latest_checks.eligibility_status, 'not_checked') as verification_status,
        coalesce(latest_checks.eligibility_status = 'active', false) as is_verified_active

    from encounter_coverages
    left join latest_checks
        on
            encounter_coverages.encounter_id = latest_checks.encounter_id
            and encounter_coverages.coverage_id = latest_checks.coverage_id

)

select * from final
