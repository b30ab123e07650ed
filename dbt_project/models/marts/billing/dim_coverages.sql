-- One row per coverage_id: a patient's insurance with a payer, as registered in the EMR,
-- with the dates the scrubber checks the date of service against and the plan and member
-- details the 837 subscriber loop (2000B/2010BA) needs.
with

coverages as (

    select * from {{ ref('stg_emr__coverages') }}

),

final as (

    select
        coverage_id,
        patient_id,
        payer_id,
        plan_name,
        member_id,
        group_number,
        subscriber_id,
        relationship_to_subscriber,
        effective_date,
        end_date,
        coverage_order

    from coverages

)

select * from final
