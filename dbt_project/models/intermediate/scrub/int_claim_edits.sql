-- One row per edit instance: every edit any family of the scrubber raised, with the severity
-- the edit catalogue (seed claim_edit_catalogue) gives it. The families are the models
-- int_claim_edits_<family>; each returns claim_id, claim_line_id (null for a claim-level
-- edit), line_number, edit_id, edit_subject (what the edit is about: diagnosis_2,
-- modifier_1, billing_provider...) and detail.
-- edit_instance_id = (claim_line_id or claim_id) / edit_id / edit_subject: readable, stable
-- across rebuilds, and unique because a family raises an edit at most once per subject.
{%- set families = [
    'int_claim_edits_claims',
    'int_claim_edits_providers',
    'int_claim_edits_coverage',
    'int_claim_edits_dates',
    'int_claim_edits_diagnoses',
    'int_claim_edits_pointers',
    'int_claim_edits_line_codes',
    'int_claim_edits_line_amounts',
    'int_claim_edits_duplicates',
    'int_claim_edits_eligibility',
] %}

with

raised as (

    {% for family in families %}
        select
            claim_id,
            claim_line_id,
            line_number,
            edit_id,
            edit_subject,
            detail
        from {{ ref(family) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

catalogue as (

    select * from {{ ref('claim_edit_catalogue') }}

),

graded as (

    select
        raised.claim_id,
        raised.claim_line_id,
        raised.line_number,
        raised.edit_id,
        catalogue.severity,
        raised.edit_subject,
        raised.detail,
        coalesce(raised.claim_line_id, raised.claim_id)
        || '/' || raised.edit_id
        || coalesce('/' || raised.edit_subject, '') as edit_instance_id

    from raised
    left join catalogue
        on raised.edit_id = catalogue.edit_id

),

final as (

    select
        edit_instance_id,
        claim_id,
        claim_line_id,
        line_number,
        edit_id,
        severity,
        edit_subject,
        detail

    from graded

)

select * from final
