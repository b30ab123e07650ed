-- One row per claim line (claim_line_id = 837 REF*6R line control number), in the shape the
-- 837 writer reads: line_number is the LX counter within the claim, and each diagnosis
-- pointer sits beside the ICD-10 code it points at (null when the pointer is empty or points
-- at no diagnosis of the encounter).
with

lines as (

    select * from {{ ref('int_claim_lines_numbered') }}

),

diagnoses as (

    select * from {{ ref('stg_emr__diagnoses') }}

),

final as (

    select
        lines.claim_line_id,
        lines.claim_id,
        lines.claim_line_number as line_number,
        lines.charge_id,
        lines.encounter_id,
        lines.line_number as charge_line_number,
        lines.service_date,
        lines.procedure_code,
        lines.modifier_1,
        lines.modifier_2,
        lines.modifier_3,
        lines.modifier_4,
        lines.units,
        lines.charge_amount,
        lines.revenue_code,
        lines.diagnosis_pointer_1,
        lines.diagnosis_pointer_2,
        lines.diagnosis_pointer_3,
        lines.diagnosis_pointer_4,
        diagnosis_1.icd10_code as diagnosis_code_1,
        diagnosis_2.icd10_code as diagnosis_code_2,
        diagnosis_3.icd10_code as diagnosis_code_3,
        diagnosis_4.icd10_code as diagnosis_code_4

    from lines
    left join diagnoses as diagnosis_1
        on
            lines.encounter_id = diagnosis_1.encounter_id
            and lines.diagnosis_pointer_1 = diagnosis_1.diagnosis_sequence
    left join diagnoses as diagnosis_2
        on
            lines.encounter_id = diagnosis_2.encounter_id
            and lines.diagnosis_pointer_2 = diagnosis_2.diagnosis_sequence
    left join diagnoses as diagnosis_3
        on
            lines.encounter_id = diagnosis_3.encounter_id
            and lines.diagnosis_pointer_3 = diagnosis_3.diagnosis_sequence
    left join diagnoses as diagnosis_4
        on
            lines.encounter_id = diagnosis_4.encounter_id
            and lines.diagnosis_pointer_4 = diagnosis_4.diagnosis_sequence

)

select * from final
