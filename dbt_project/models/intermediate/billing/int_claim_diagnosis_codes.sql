-- One row per claim with diagnoses: its ICD-10 codes in HI order (diagnosis_code_1 ..
-- diagnosis_code_12, by diagnosis_sequence). Pivoted once per build here rather than in the
-- claims_ready_to_bill view each time the view is read.
with

diagnoses as (

    select * from {{ ref('fct_claim_diagnoses') }}

),

final as (

    select
        claim_id,
        {% for sequence in range(1, 13) %}
            max(icd10_code) filter (where diagnosis_sequence = {{ sequence }}) as diagnosis_code_{{ sequence }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from diagnoses
    group by claim_id

)

select * from final
