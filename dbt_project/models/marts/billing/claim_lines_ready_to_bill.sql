-- One row per line of the claims in claims_ready_to_bill (docs/claims-ready-to-bill.md), in
-- LX order, exactly the claims of that view (joined to it, so the two never disagree).
with

ready_claims as (

    select * from {{ ref('claims_ready_to_bill') }}

),

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

final as (

    select
        lines.claim_id,
        lines.claim_line_id,
        lines.line_number,
        lines.service_date,
        lines.procedure_code,
        lines.modifier_1,
        lines.modifier_2,
        lines.modifier_3,
        lines.modifier_4,
        lines.units,
        lines.charge_amount,
        lines.revenue_code,
        lines.diagnosis_pointer_1,
        lines.diagnosis_pointer_2,
        lines.diagnosis_pointer_3,
        lines.diagnosis_pointer_4

    from lines
    inner join ready_claims
        on lines.claim_id = ready_claims.claim_id

)

select * from final
