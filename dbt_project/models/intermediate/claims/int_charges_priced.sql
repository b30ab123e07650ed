-- One row per charge_id: each charge line beside its encounter and its chargemaster price.
-- Charges whose encounter is missing are kept (has_encounter = false): they cannot be billed,
-- and the scrubber reports them.
with

charges as (

    select * from {{ ref('stg_emr__charges') }}

),

encounters as (

    select * from {{ ref('stg_emr__encounters') }}

),

chargemaster as (

    select * from {{ ref('chargemaster') }}

),

procedure_codes as (

    select * from {{ ref('procedure_codes') }}

),

priced as (

    select
        charges.charge_id,
        charges.encounter_id,
        encounters.patient_id,
        encounters.claim_type,
        encounters.place_of_service,
        charges.line_number,
        charges.service_date,
        charges.procedure_code,
        procedure_codes.short_label as procedure_label,
        charges.modifier_1,
        charges.modifier_2,
        charges.modifier_3,
        charges.modifier_4,
        charges.units,
        charges.charge_amount,
        chargemaster.unit_price as chargemaster_unit_price,
        cast(charges.units * chargemaster.unit_price as decimal(18, 2)) as expected_charge_amount,
        charges.revenue_code,
        chargemaster.revenue_code as chargemaster_revenue_code,
        charges.diagnosis_pointer_1,
        charges.diagnosis_pointer_2,
        charges.diagnosis_pointer_3,
        charges.diagnosis_pointer_4,
        encounters.encounter_id is not null as has_encounter,
        chargemaster.unit_price is not null as has_chargemaster_price,
        coalesce(
            charges.charge_amount = cast(charges.units * chargemaster.unit_price as decimal(18, 2)),
            false
        ) as is_priced_from_chargemaster

    from charges
    left join encounters
        on charges.encounter_id = encounters.encounter_id
    left join chargemaster
        on charges.procedure_code = chargemaster.procedure_code
    left join procedure_codes
        on charges.procedure_code = procedure_codes.procedure_code

),

final as (

    select * from priced

)

select * from final
