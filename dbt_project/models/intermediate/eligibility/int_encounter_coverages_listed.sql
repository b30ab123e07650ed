-- One row per encounter and coverage an insurer could be asked about: the encounter's primary
-- (coverage_order 1) and secondary (2) coverage, when the coverage exists and its payer is not
-- the self-pay pseudo-payer. Encounters without insurance have no row.
with

encounters as (

    select * from {{ ref('stg_emr__encounters') }}

),

coverages as (

    select * from {{ ref('stg_emr__coverages') }}

),

payers as (

    select * from {{ ref('stg_emr__payers') }}

),

encounter_coverages as (

    select
        encounter_id,
        patient_id,
        service_date,
        billing_provider_id,
        primary_coverage_id as coverage_id,
        1 as coverage_order
    from encounters
    where primary_coverage_id is not null

    union all

    select
        encounter_id,
        patient_id,
        service_date,
        billing_provider_id,
        secondary_coverage_id as coverage_id,
        2 as coverage_order
    from encounters
    where
        secondary_coverage_id is not null
        and secondary_coverage_id is distinct from primary_coverage_id

),

final as (

    select
        encounter_coverages.encounter_id,
        encounter_coverages.patient_id,
        encounter_coverages.service_date,
        encounter_coverages.billing_provider_id,
        encounter_coverages.coverage_id,
        cast(encounter_coverages.coverage_order as integer) as coverage_order,
        coverages.payer_id,
        coverages.member_id,
        coverages.subscriber_id,
        coverages.relationship_to_subscriber

    from encounter_coverages
    inner join coverages
        on encounter_coverages.coverage_id = coverages.coverage_id
    inner join payers
        on coverages.payer_id = payers.payer_id
    where payers.payer_type is distinct from 'self_pay'

)

select * from final
