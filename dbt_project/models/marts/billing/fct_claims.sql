-- One row per claim (claim_id = 837 CLM01 patient control number). Self-pay encounters are
-- claims too (is_self_pay, responsible party the patient): the 837 writer skips them, the
-- patient statement picks them up, and every charged dollar is on exactly one claim.
with

claims as (

    select * from {{ ref('int_claims_grouped') }}

),

final as (

    select
        claim_id,
        encounter_id,
        patient_id,
        payer_id,
        payer_type,
        coverage_id,
        secondary_coverage_id,
        secondary_payer_id,
        secondary_claim_id,
        subscriber_id,
        relationship_to_subscriber,
        member_id,
        group_number,
        claim_filing_indicator,
        claim_type,
        type_of_bill,
        place_of_service,
        billing_provider_id,
        rendering_provider_id,
        facility_provider_id,
        service_date,
        service_date_to,
        line_count,
        diagnosis_count,
        total_charge_amount,
        is_self_pay,
        has_primary_coverage

    from claims

)

select * from final
