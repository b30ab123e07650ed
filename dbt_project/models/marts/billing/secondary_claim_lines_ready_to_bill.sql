-- One row per line of a secondary (COB) claim in secondary_claims_ready_to_bill: the columns
-- of claim_lines_ready_to_bill, the line id the secondary claim bills it under (REF*6R, macro
-- claim_line_id on the secondary claim id) and the primary payer's adjudication of the line
-- for 2430: what it paid, its adjustments (a list of group/reason/amount/quantity, net of
-- reversals) and the date. No contract: DuckDB list-of-struct columns.
{{ config(materialized='view', contract={'enforced': false}) }}

with

ready_claims as (

    select * from {{ ref('secondary_claims_ready_to_bill') }}

),

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

primary_line_entries as (

    select
        ledger.claim_line_id,
        ledger.balance_component,
        ledger.group_code,
        ledger.reason_code,
        ledger.amount
    from ledger
    inner join ready_claims
        on
            ledger.claim_id = ready_claims.account_claim_id
            and ledger.payer_id = ready_claims.other_payer_id
    where ledger.payment_id is not null and ledger.claim_line_id is not null

),

line_paid as (

    select
        claim_line_id,
        cast(-sum(amount) as decimal(18, 2)) as paid_amount
    from primary_line_entries
    where balance_component = 'payment'
    group by claim_line_id

),

line_adjustments as (

    select
        claim_line_id,
        {{ revcycle.struct_list(
            [
                ('group_code', 'group_code'),
                ('reason_code', 'reason_code'),
                ('amount', 'amount'),
                ('quantity', 'cast(null as decimal(15, 2))'),
            ],
            order_by=['group_code', 'reason_code'],
        ) }} as other_payer_adjustments
    from (
        select
            claim_line_id,
            group_code,
            reason_code,
            cast(-sum(amount) as decimal(18, 2)) as amount
        from primary_line_entries
        where group_code is not null
        group by claim_line_id, group_code, reason_code
        having sum(amount) != 0
    ) as net_adjustments
    group by claim_line_id

),

final as (

    select
        ready_claims.claim_id,
        {{ claim_line_id('ready_claims.claim_id', 'lines.line_number') }} as claim_line_id,
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
        lines.diagnosis_pointer_4,
        cast(coalesce(line_paid.paid_amount, 0) as decimal(18, 2)) as other_payer_paid_amount,
        ready_claims.other_payer_adjudication_date,
        line_adjustments.other_payer_adjustments,
        lines.claim_line_id as account_claim_line_id

    from lines
    inner join ready_claims
        on lines.claim_id = ready_claims.account_claim_id
    left join line_paid
        on lines.claim_line_id = line_paid.claim_line_id
    left join line_adjustments
        on lines.claim_line_id = line_adjustments.claim_line_id

)

select * from final
