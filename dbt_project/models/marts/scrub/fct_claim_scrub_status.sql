-- One row per claim of fct_claims: may it be billed?
-- - self_pay: the patient is the responsible party; no 837 goes out whatever the edits say
--   (the claim goes to patient statements);
-- - held: at least one edit of severity hold (an edit the catalogue does not know counts as a
--   hold: fail safe; a test fails the build on it anyway);
-- - ready: no hold edit (warn edits may exist).
with

claims as (

    select * from {{ ref('fct_claims') }}

),

edits as (

    select * from {{ ref('int_claim_edits') }}

),

edit_counts as (

    select
        claim_id,
        count(*) filter (where severity is distinct from 'warn') as hold_edit_count,
        count(*) filter (where severity = 'warn') as warn_edit_count,
        {{ revcycle.ordered_string_agg(
            'edit_id', ',', order_by='edit_id', distinct=true, where="severity is distinct from 'warn'"
        ) }} as hold_edit_ids,
        {{ revcycle.ordered_string_agg(
            'edit_id', ',', order_by='edit_id', distinct=true, where="severity = 'warn'"
        ) }} as warn_edit_ids

    from edits
    group by claim_id

),

final as (

    select
        claims.claim_id,
        claims.encounter_id,
        claims.payer_id,
        claims.is_self_pay,
        claims.total_charge_amount,
        claims.line_count,
        case
            when claims.is_self_pay then 'self_pay'
            when coalesce(edit_counts.hold_edit_count, 0) > 0 then 'held'
            else 'ready'
        end as scrub_status,
        cast(coalesce(edit_counts.hold_edit_count, 0) as integer) as hold_edit_count,
        cast(coalesce(edit_counts.warn_edit_count, 0) as integer) as warn_edit_count,
        edit_counts.hold_edit_ids,
        edit_counts.warn_edit_ids,
        {{ scrub_as_of_date() }} as scrub_as_of_date

    from claims
    left join edit_counts
        on claims.claim_id = edit_counts.claim_id

)

select * from final
