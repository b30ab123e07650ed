-- One row per claim and diagnosis sequence: the claim's diagnoses in HI-segment order
-- (sequence 1 is the principal diagnosis), ICD-10 codes without the dot.
with

claims as (

    select * from {{ ref('int_claims_grouped') }}

),

diagnoses as (

    select * from {{ ref('stg_emr__diagnoses') }}

),

final as (

    select
        claims.claim_id,
        diagnoses.diagnosis_sequence,
        diagnoses.encounter_id,
        diagnoses.icd10_code,
        diagnoses.icd10_code_dotted,
        diagnoses.diagnosis_sequence = 1 as is_principal

    from diagnoses
    inner join claims
        on diagnoses.encounter_id = claims.encounter_id

)

select * from final
