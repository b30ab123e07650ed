-- One row per edit instance the claim scrubber raised (edit_instance_id): which claim (and
-- line), which edit, how severe, and a message an analyst can act on. Holds nothing that
-- identifies the patient (no names, birth dates or member ids in detail).
with

edits as (

    select * from {{ ref('int_claim_edits') }}

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

    from edits

)

select * from final
