-- Duplicate edits:
-- - DUPLICATE_LINE (line level): the line repeats an earlier line of the same claim (same date
--   of service, procedure, modifiers 1-4, units and charge amount; "earlier" by line_number).
--   The first occurrence is not flagged; each later copy is, naming the first.
-- - DUPLICATE_CLAIM (claim level): another claim has the same patient, payer, first date of
--   service and set of procedure codes (distinct codes, sorted). The claim with the lowest
--   claim_id of such a group is not flagged; every other one is, naming it. Claims without
--   lines are left to LINES_MISSING.
with

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

line_repeats as (

    select
        claim_line_id,
        claim_id,
        line_number,
        service_date,
        procedure_code,
        units,
        charge_amount,
        row_number() over repeat_group as occurrence,
        first_value(line_number) over repeat_group as first_line_number

    from lines
    window repeat_group as (
        partition by
            claim_id,
            service_date,
            procedure_code,
            modifier_1,
            modifier_2,
            modifier_3,
            modifier_4,
            units,
            charge_amount
        order by line_number
    )

),

line_edits as (

    select
        claim_line_id,
        claim_id,
        line_number,
        'DUPLICATE_LINE' as edit_id,
        'line' as edit_subject,
        {{ revcycle.format_text(
            'line {} repeats line {} ({} on {}, {} units, {})',
            'line_number',
            'first_line_number',
            'procedure_code',
            'service_date',
            'units',
            'cast(charge_amount as ' ~ dbt.type_string() ~ ')'
        ) }} as detail
    from line_repeats
    where occurrence > 1

),

procedure_sets as (

    select
        claim_id,
        {{ revcycle.ordered_string_agg(
            'procedure_code', ',', order_by='procedure_code', distinct=true
        ) }} as procedure_set

    from lines
    group by claim_id

),

claim_repeats as (

    select
        claims.claim_id,
        procedure_sets.procedure_set,
        row_number() over repeat_group as occurrence,
        first_value(claims.claim_id) over repeat_group as first_claim_id

    from claims
    inner join procedure_sets
        on claims.claim_id = procedure_sets.claim_id
    window repeat_group as (
        partition by
            claims.patient_id,
            claims.payer_id,
            claims.service_date,
            procedure_sets.procedure_set
        order by claims.claim_id
    )

),

claim_edits as (

    select
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        claim_id,
        cast(null as integer) as line_number,
        'DUPLICATE_CLAIM' as edit_id,
        'claim' as edit_subject,
        {{ revcycle.format_text(
            'same patient, payer, date of service and procedures ({}) as claim {}',
            'procedure_set',
            'first_claim_id'
        ) }} as detail
    from claim_repeats
    where occurrence > 1

),

-- Both parts list the same columns in the same order (union all matches by position).
edits as (

    select * from line_edits
    union all
    select * from claim_edits

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
