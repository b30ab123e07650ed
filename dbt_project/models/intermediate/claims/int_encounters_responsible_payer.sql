-- One row per encounter_id: the payer the encounter is billed to first.
-- - primary_coverage_id set: the payer of that coverage (null when the coverage id points
--   nowhere: a defect the scrubber reports; the claim still exists so no charge disappears);
-- - primary_coverage_id empty: self-pay, billed to the self-pay pseudo-payer (var
--   self_pay_payer_id, SELFPAY) when the payer list has it, else to no payer (null).
-- is_self_pay is true for both "no primary coverage" and a primary coverage whose payer is of
-- type self_pay: the patient is the responsible party and no 837 goes out for it.
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

self_pay_payer as (

    select payer_id from payers
    where payer_id = '{{ var("self_pay_payer_id") }}'

),

with_coverage as (

    select
        encounters.encounter_id,
        encounters.patient_id,
        encounters.service_date,
        encounters.visit_type,
        encounters.claim_type,
        encounters.place_of_service,
        encounters.type_of_bill,
        encounters.billing_provider_id,
        encounters.rendering_provider_id,
        encounters.facility_provider_id,
        encounters.primary_coverage_id as coverage_id,
        encounters.secondary_coverage_id,
        primary_coverage.subscriber_id,
        primary_coverage.relationship_to_subscriber,
        primary_coverage.member_id,
        primary_coverage.group_number,
        secondary_coverage.payer_id as secondary_payer_id,
        primary_coverage.coverage_id is not null as has_primary_coverage,
        case
            when encounters.primary_coverage_id is null then self_pay_payer.payer_id
            else primary_coverage.payer_id
        end as payer_id

    from encounters
    left join coverages as primary_coverage
        on encounters.primary_coverage_id = primary_coverage.coverage_id
    left join coverages as secondary_coverage
        on encounters.secondary_coverage_id = secondary_coverage.coverage_id
    left join self_pay_payer
        on encounters.primary_coverage_id is null

),

with_payer as (

    select
        with_coverage.*,
        payers.payer_type,
        payers.claim_filing_indicator,
        (
            with_coverage.coverage_id is null
            or coalesce(payers.payer_type = 'self_pay', false)
        ) as is_self_pay

    from with_coverage
    left join payers
        on with_coverage.payer_id = payers.payer_id

),

final as (

    select * from with_payer

)

select * from final
