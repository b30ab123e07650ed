-- One row per charge_id: every staged charge, including ones that could not be placed on a
-- claim (claim_id null: the encounter is missing), so charge totals here equal the EMR's.
with

charges as (

    select * from {{ ref('int_charges_priced') }}

),

claim_lines as (

    select * from {{ ref('int_claim_lines_numbered') }}

),

claims as (

    select * from {{ ref('int_claims_grouped') }}

),

final as (

    select
        charges.charge_id,
        claim_lines.claim_id,
        claim_lines.claim_line_id,
        charges.encounter_id,
        charges.patient_id,
        claims.payer_id,
        claims.billing_provider_id,
        claims.rendering_provider_id,
        charges.service_date,
        charges.line_number,
        charges.procedure_code,
        charges.procedure_label,
        charges.modifier_1,
        charges.modifier_2,
        charges.modifier_3,
        charges.modifier_4,
        charges.units,
        charges.charge_amount,
        charges.chargemaster_unit_price,
        charges.expected_charge_amount,
        charges.revenue_code,
        charges.chargemaster_revenue_code,
        charges.diagnosis_pointer_1,
        charges.diagnosis_pointer_2,
        charges.diagnosis_pointer_3,
        charges.diagnosis_pointer_4,
        charges.claim_type,
        charges.place_of_service,
        charges.has_encounter,
        charges.has_chargemaster_price,
        charges.is_priced_from_chargemaster,
        coalesce(claims.is_self_pay, false) as is_self_pay

    from charges
    left join claim_lines
        on charges.charge_id = claim_lines.charge_id
    left join claims
        on claim_lines.claim_id = claims.claim_id

)

select * from final
