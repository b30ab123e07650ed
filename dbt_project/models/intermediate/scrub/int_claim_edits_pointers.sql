-- Diagnosis pointer edits (837P SV107), one row per edit raised on a claim line:
-- - DIAGNOSIS_POINTER_MISSING: the line has no first pointer;
-- - DIAGNOSIS_POINTER_OUT_OF_RANGE: a pointer that is set is not 1-12;
-- - DIAGNOSIS_POINTER_UNRESOLVED: a pointer in 1-12 names a diagnosis sequence the claim does
--   not have.
-- edit_subject names the pointer (pointer_1 ... pointer_4).
with

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

diagnoses as (

    select * from {{ ref('fct_claim_diagnoses') }}

),

diagnosis_counts as (

    select
        claim_id,
        count(*) as diagnosis_count

    from diagnoses
    group by claim_id

),

pointers as (

    {% for position in range(1, 5) %}
        select
            claim_line_id,
            claim_id,
            line_number,
            procedure_code,
            {{ position }} as pointer_position,
            diagnosis_pointer_{{ position }} as pointer_value
        from lines
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

resolved as (

    select
        pointers.*,
        coalesce(diagnosis_counts.diagnosis_count, 0) as diagnosis_count,
        diagnoses.claim_id is not null as is_resolved

    from pointers
    left join diagnoses
        on
            pointers.claim_id = diagnoses.claim_id
            and pointers.pointer_value = diagnoses.diagnosis_sequence
    left join diagnosis_counts
        on pointers.claim_id = diagnosis_counts.claim_id

),

edits as (

    select
        claim_line_id,
        claim_id,
        line_number,
        'DIAGNOSIS_POINTER_MISSING' as edit_id,
        'pointer_1' as edit_subject,
        {{ revcycle.format_text(
            'line {} ({}) has no first diagnosis pointer',
            'line_number',
            "coalesce(procedure_code, '?')"
        ) }} as detail
    from resolved
    where pointer_position = 1 and pointer_value is null

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'DIAGNOSIS_POINTER_OUT_OF_RANGE' as edit_id,
        'pointer_' || pointer_position as edit_subject,
        {{ revcycle.format_text(
            'line {} ({}) diagnosis pointer {} is {}; pointers must be 1 to 12',
            'line_number',
            "coalesce(procedure_code, '?')",
            'pointer_position',
            'pointer_value'
        ) }} as detail
    from resolved
    where pointer_value is not null and pointer_value not between 1 and 12

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'DIAGNOSIS_POINTER_UNRESOLVED' as edit_id,
        'pointer_' || pointer_position as edit_subject,
        {{ revcycle.format_text(
            'line {} ({}) diagnosis pointer {} points at diagnosis {}, which the claim lacks (it has {} diagnoses)',
            'line_number',
            "coalesce(procedure_code, '?')",
            'pointer_position',
            'pointer_value',
            'diagnosis_count'
        ) }} as detail
    from resolved
    where pointer_value between 1 and 12 and not is_resolved

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
