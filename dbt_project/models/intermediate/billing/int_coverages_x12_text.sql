-- One row per coverage (dim_coverages) with its plan name as an 837 carries it (macro
-- x12_clean_text), cleaned once per coverage rather than once per claim (see int_patients_x12_text).
with

coverages as (

    select * from {{ ref('dim_coverages') }}

),

final as (

    select
        coverages.coverage_id,
        coverages.patient_id,
        coverages.payer_id,
        {{ x12_clean_text('coverages.plan_name') }} as plan_name,
        coverages.member_id,
        coverages.group_number,
        coverages.subscriber_id,
        coverages.relationship_to_subscriber,
        coverages.effective_date,
        coverages.end_date,
        coverages.coverage_order

    from coverages

)

select * from final
