-- Code edits on claim lines, one row per edit raised on a line:
-- - PROCEDURE_CODE_MALFORMED: not 5 characters shaped like CPT (5 digits; Category II/III:
--   4 digits + F or T) or HCPCS Level II (a letter + 4 digits);
-- - PROCEDURE_CODE_UNKNOWN: well formed but not in code_sets.procedure_codes;
-- - PROCEDURE_SEX_CONFLICT / PROCEDURE_AGE_CONFLICT: the code's sex_restriction or age band
--   (min_age_years..max_age_years, completed years on the line's date of service) does not
--   fit the patient. A patient whose sex is U (unknown) is not a sex conflict;
-- - MODIFIER_INVALID: a modifier not in code_sets.procedure_modifiers (edit_subject modifier_N);
-- - REVENUE_CODE_INVALID: an institutional line without a revenue code from
--   code_sets.revenue_codes.
{#- The age range of a PROCEDURE_AGE_CONFLICT detail, e.g. "18 to 64". -#}
{%- set age_range -%}
    case
        when min_age_years is not null and max_age_years is not null
            then {{ revcycle.format_text('{} to {}', 'min_age_years', 'max_age_years') }}
        when min_age_years is not null then {{ revcycle.format_text('{} and over', 'min_age_years') }}
        else {{ revcycle.format_text('up to {}', 'max_age_years') }}
    end
{%- endset %}

with

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

patients as (

    select * from {{ ref('dim_patients') }}

),

procedure_codes as (

    select * from {{ ref('procedure_codes') }}

),

modifiers as (

    select * from {{ ref('procedure_modifiers') }}

),

revenue_codes as (

    select * from {{ ref('revenue_codes') }}

),

checked as (

    select
        lines.claim_line_id,
        lines.claim_id,
        lines.line_number,
        lines.service_date,
        lines.procedure_code,
        lines.revenue_code,
        claims.claim_type,
        patients.sex as patient_sex,
        procedure_codes.sex_restriction,
        procedure_codes.min_age_years,
        procedure_codes.max_age_years,
        {{ age_in_years('patients.birth_date', 'lines.service_date') }} as patient_age_years,
        procedure_codes.procedure_code is not null as is_known_procedure,
        revenue_codes.revenue_code is not null as is_known_revenue_code,
        coalesce(
            {{ revcycle.full_match('lines.procedure_code', '[0-9]{5}|[0-9]{4}[FT]|[A-Z][0-9]{4}') }}, false
        ) as is_well_formed

    from lines
    inner join claims
        on lines.claim_id = claims.claim_id
    left join patients
        on claims.patient_id = patients.patient_id
    left join procedure_codes
        on lines.procedure_code = procedure_codes.procedure_code
    left join revenue_codes
        on lines.revenue_code = revenue_codes.revenue_code

),

line_modifiers as (

    {% for position in range(1, 5) %}
        select
            claim_line_id,
            claim_id,
            line_number,
            procedure_code,
            {{ position }} as modifier_position,
            modifier_{{ position }} as modifier
        from lines
        where modifier_{{ position }} is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

procedure_edits as (

    select
        claim_line_id,
        claim_id,
        line_number,
        'PROCEDURE_CODE_MALFORMED' as edit_id,
        'procedure_code' as edit_subject,
        {{ revcycle.format_text(
            "line {} procedure code '{}' is not a 5-character CPT/HCPCS code",
            'line_number',
            "coalesce(procedure_code, '')"
        ) }} as detail
    from checked
    where not is_well_formed

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'PROCEDURE_CODE_UNKNOWN' as edit_id,
        'procedure_code' as edit_subject,
        {{ revcycle.format_text(
            'line {} procedure code {} is not in the procedure code set',
            'line_number',
            'procedure_code'
        ) }} as detail
    from checked
    where is_well_formed and not is_known_procedure

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'PROCEDURE_SEX_CONFLICT' as edit_id,
        'procedure_code' as edit_subject,
        {{ revcycle.format_text(
            "line {} procedure {} is for {} patients only; the patient's sex is {}",
            'line_number',
            'procedure_code',
            "case sex_restriction when 'F' then 'female' else 'male' end",
            'patient_sex'
        ) }} as detail
    from checked
    where
        sex_restriction in ('F', 'M')
        and patient_sex in ('F', 'M')
        and sex_restriction != patient_sex

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'PROCEDURE_AGE_CONFLICT' as edit_id,
        'procedure_code' as edit_subject,
        {{ revcycle.format_text(
            'line {} procedure {} is for ages {}; the patient was {} on {}',
            'line_number',
            'procedure_code',
            age_range,
            age_for_detail('patient_age_years'),
            'service_date'
        ) }} as detail
    from checked
    where
        patient_age_years < min_age_years
        or patient_age_years > max_age_years

),

modifier_edits as (

    select
        line_modifiers.claim_line_id,
        line_modifiers.claim_id,
        line_modifiers.line_number,
        'MODIFIER_INVALID' as edit_id,
        'modifier_' || line_modifiers.modifier_position as edit_subject,
        {{ revcycle.format_text(
            "line {} ({}) modifier {} '{}' is not a known modifier",
            'line_modifiers.line_number',
            "coalesce(line_modifiers.procedure_code, '?')",
            'line_modifiers.modifier_position',
            'line_modifiers.modifier'
        ) }} as detail
    from line_modifiers
    left join modifiers
        on line_modifiers.modifier = modifiers.modifier
    where modifiers.modifier is null

),

revenue_edits as (

    select
        claim_line_id,
        claim_id,
        line_number,
        'REVENUE_CODE_INVALID' as edit_id,
        'revenue_code' as edit_subject,
        case
            when revenue_code is null
                then {{ revcycle.format_text(
                    'institutional line {} ({}) has no revenue code',
                    'line_number',
                    "coalesce(procedure_code, '?')"
                ) }}
            else {{ revcycle.format_text(
                "institutional line {} ({}) revenue code '{}' is not in the revenue code set",
                'line_number',
                "coalesce(procedure_code, '?')",
                'revenue_code'
            ) }}
        end as detail
    from checked
    where claim_type = 'institutional' and not is_known_revenue_code

),

edits as (

    select * from procedure_edits
    union all
    select * from modifier_edits
    union all
    select * from revenue_edits

),

final as (

    select
        claim_id,
        claim_line_id,
        line_number,
        edit_id,
        edit_subject,
        detail

    from edits

)

select * from final
