-- Eligibility edit, one row per insured claim whose coverage the payer's latest 271 answer for
-- the claim's encounter says is inactive (fct_encounter_eligibility, claim level):
-- ELIGIBILITY_INACTIVE. A claim never checked, or checked without an answer, is not held:
-- unverified is not inactive. The detail names the payer, the coverage, the date asked about
-- and the 271 trace (the inquiry id), never a member id.
with

claims as (

    select * from {{ ref('fct_claims') }}
    where not is_self_pay

),

eligibility as (

    select * from {{ ref('fct_encounter_eligibility') }}
    where verification_status = 'inactive'

),

final as (

    select
        claims.claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        cast(null as integer) as line_number,
        'ELIGIBILITY_INACTIVE' as edit_id,
        'coverage' as edit_subject,
        {{ revcycle.format_text(
            'payer {} reported coverage {} inactive on {} (271 trace {}, answered {})',
            'eligibility.payer_id',
            'eligibility.coverage_id',
            'eligibility.service_date',
            'eligibility.latest_inquiry_id',
            "coalesce(cast(eligibility.checked_date as " ~ dbt.type_string() ~ "), 'on an unknown date')"
        ) }} as detail

    from claims
    inner join eligibility
        on
            claims.encounter_id = eligibility.encounter_id
            and claims.coverage_id = eligibility.coverage_id

)

select * from final
