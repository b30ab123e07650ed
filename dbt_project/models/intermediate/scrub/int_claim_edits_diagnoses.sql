-- Diagnosis edits, one row per edit raised on a claim (claim level; edit_subject names the
-- diagnosis, e.g. diagnosis_2, when the edit is about one code).
-- ICD-10-CM shape: a letter other than U, a digit, a digit or letter, then optionally 1-4
-- digits or letters. The code as sent (no dot, fct_claim_diagnoses.icd10_code) must have that
-- shape, and so must the code as the EMR wrote it (icd10_code_dotted: the dot, when there is
-- one, right after the third character), so E11..9, I10., 250.00 and 1234 are all malformed.
-- A well-formed code must also be in the shipped code set (code_sets.icd10cm_codes).
-- The shape excludes U (WHO reserves it), but ICD-10-CM uses U07.0, U07.1 (COVID-19) and
-- U09.9, and U07.1 ships in our code set: a code of the shipped code set is well formed by
-- definition, so it is never reported as malformed.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

diagnoses as (

    select * from {{ ref('fct_claim_diagnoses') }}

),

icd10_codes as (

    select * from {{ ref('icd10cm_codes') }}

),

patients as (

    select * from {{ ref('dim_patients') }}

),

checked as (

    select
        diagnoses.claim_id,
        diagnoses.diagnosis_sequence,
        diagnoses.icd10_code,
        icd10_codes.sex_restriction,
        patients.sex as patient_sex,
        coalesce(diagnoses.icd10_code_dotted, diagnoses.icd10_code) as icd10_code_as_coded,
        icd10_codes.icd10_code is not null as is_in_code_set,
        icd10_codes.icd10_code is not null or coalesce(
            {{ revcycle.full_match('diagnoses.icd10_code', '[A-TV-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?') }}
            and {{ revcycle.full_match(
                'coalesce(diagnoses.icd10_code_dotted, diagnoses.icd10_code)',
                '[A-TV-Z][0-9][0-9A-Z](\\.?[0-9A-Z]{1,4})?'
            ) }},
            false
        ) as is_well_formed

    from diagnoses
    inner join claims
        on diagnoses.claim_id = claims.claim_id
    left join icd10_codes
        on diagnoses.icd10_code = icd10_codes.icd10_code
    left join patients
        on claims.patient_id = patients.patient_id

),

sequences as (

    select
        claim_id,
        count(*) as diagnosis_count,
        min(diagnosis_sequence) as first_sequence,
        max(diagnosis_sequence) as last_sequence,
        {{ revcycle.ordered_string_agg(
            'cast(diagnosis_sequence as ' ~ dbt.type_string() ~ ')', ', ', order_by='diagnosis_sequence'
        ) }} as sequence_list

    from diagnoses
    group by claim_id

),

claim_edits as (

    select
        claims.claim_id,
        'DIAGNOSIS_MISSING' as edit_id,
        'diagnoses' as edit_subject,
        'the claim has no diagnosis' as detail
    from claims
    where claims.diagnosis_count = 0

    union all

    select
        claims.claim_id,
        'DIAGNOSIS_TOO_MANY' as edit_id,
        'diagnoses' as edit_subject,
        {{ revcycle.format_text(
            'the claim has {} diagnoses; a claim carries at most 12',
            'claims.diagnosis_count'
        ) }} as detail
    from claims
    where claims.diagnosis_count > 12

    union all

    select
        sequences.claim_id,
        'DIAGNOSIS_SEQUENCE_GAP' as edit_id,
        'diagnoses' as edit_subject,
        {{ revcycle.format_text(
            'diagnosis sequences are {}; expected 1 to {} without gaps',
            'sequences.sequence_list',
            'sequences.diagnosis_count'
        ) }} as detail
    from sequences
    where sequences.first_sequence != 1 or sequences.last_sequence != sequences.diagnosis_count

),

code_edits as (

    select
        claim_id,
        'ICD10_MALFORMED' as edit_id,
        'diagnosis_' || diagnosis_sequence as edit_subject,
        {{ revcycle.format_text(
            "diagnosis {} '{}' is not a well-formed ICD-10-CM code",
            'diagnosis_sequence',
            'icd10_code_as_coded'
        ) }} as detail
    from checked
    where not is_well_formed

    union all

    select
        claim_id,
        'ICD10_UNKNOWN' as edit_id,
        'diagnosis_' || diagnosis_sequence as edit_subject,
        {{ revcycle.format_text(
            "diagnosis {} '{}' is not in the ICD-10-CM code set",
            'diagnosis_sequence',
            'icd10_code_as_coded'
        ) }} as detail
    from checked
    where is_well_formed and not is_in_code_set

    union all

    select
        claim_id,
        'ICD10_SEX_CONFLICT' as edit_id,
        'diagnosis_' || diagnosis_sequence as edit_subject,
        {{ revcycle.format_text(
            "diagnosis {} '{}' is for {} patients only; the patient's sex is {}",
            'diagnosis_sequence',
            'icd10_code_as_coded',
            "case sex_restriction when 'F' then 'female' else 'male' end",
            'patient_sex'
        ) }} as detail
    from checked
    where
        sex_restriction in ('F', 'M')
        and patient_sex in ('F', 'M')
        and sex_restriction != patient_sex

),

edits as (

    select * from claim_edits
    union all
    select * from code_edits

),

final as (

    select
        claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        cast(null as integer) as line_number,
        edit_id,
        edit_subject,
        detail

    from edits

)

select * from final
