-- One row per charge_id that belongs to a claim (charges whose encounter is missing have no
-- claim and are not here): the charge placed on its claim, numbered 1..n within the claim in
-- the EMR's line order (line_number, then charge_id so ties are stable), with its line
-- control number claim_line_id.
with

claims as (

    select * from {{ ref('int_claims_grouped') }}

),

charges as (

    select * from {{ ref('int_charges_priced') }}

),

numbered as (

    select
        claims.claim_id,
        charges.charge_id,
        charges.encounter_id,
        charges.patient_id,
        charges.claim_type,
        charges.place_of_service,
        charges.line_number,
        charges.service_date,
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
        charges.has_encounter,
        charges.has_chargemaster_price,
        charges.is_priced_from_chargemaster,
        cast(
            row_number() over (
                partition by claims.claim_id
                order by charges.line_number asc nulls last, charges.charge_id asc
            ) as integer
        ) as claim_line_number

    from charges
    inner join claims
        on charges.encounter_id = claims.encounter_id

),

final as (

    select
        {{ claim_line_id('numbered.claim_id', 'numbered.claim_line_number') }} as claim_line_id,
        numbered.claim_id,
        numbered.claim_line_number,
        numbered.charge_id,
        numbered.encounter_id,
        numbered.patient_id,
        numbered.claim_type,
        numbered.place_of_service,
        numbered.line_number,
        numbered.service_date,
        numbered.procedure_code,
        numbered.procedure_label,
        numbered.modifier_1,
        numbered.modifier_2,
        numbered.modifier_3,
        numbered.modifier_4,
        numbered.units,
        numbered.charge_amount,
        numbered.chargemaster_unit_price,
        numbered.expected_charge_amount,
        numbered.revenue_code,
        numbered.chargemaster_revenue_code,
        numbered.diagnosis_pointer_1,
        numbered.diagnosis_pointer_2,
        numbered.diagnosis_pointer_3,
        numbered.diagnosis_pointer_4,
        numbered.has_encounter,
        numbered.has_chargemaster_price,
        numbered.is_priced_from_chargemaster

    from numbered

)

select * from final
