-- One row per CAS adjustment of a posted 835 claim payment (adjustment_id): what the payer
-- denied or adjusted, on which claim and line, by group and CARC, with our descriptions from
-- seeds/remits (CARC, group, CLP02 and the line's RARCs). Every adjustment is here, denials
-- and reductions alike, so denial rates can be computed against all adjustments: filter
-- is_denial for the denials (a CARC classified as a denial in carc_codes, any group),
-- is_claim_denied for claims denied whole (CLP02 4).
-- amount keeps the 835 sign (positive reduced the payment); reversals (is_reversal) carry the
-- negated amounts of what they reverse, so sums net out. Adjustments of claim payments that
-- matched no claim are here with claim_id null.
with

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

service_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

group_codes as (

    select * from {{ ref('claim_adjustment_group_codes') }}

),

status_codes as (

    select * from {{ ref('claim_payment_status_codes') }}

),

rarc_codes as (

    select * from {{ ref('rarc_codes') }}

),

line_remarks as (

    select
        service_line_id,
        trim(remark_code_as_listed) as remark_code
    from (
        select
            service_line_id,
            {{ revcycle.split_to_rows('remark_codes', ',') }} as remark_code_as_listed
        from service_lines
        where remark_codes is not null
    ) as listed

),

remark_descriptions as (

    select
        line_remarks.service_line_id,
        {{ revcycle.ordered_string_agg(
            "line_remarks.remark_code || ' ' || coalesce(rarc_codes.description, '(not in the code set)')",
            '; ',
            order_by='line_remarks.remark_code'
        ) }} as remark_descriptions
    from line_remarks
    left join rarc_codes
        on line_remarks.remark_code = rarc_codes.remark_code
    group by line_remarks.service_line_id

),

final as (

    select
        cast(adjustments.adjustment_id as {{ dbt.type_string() }}) as adjustment_id,
        cast(adjustments.claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(adjustments.claim_line_id as {{ dbt.type_string() }}) as claim_line_id,
        cast(adjustments.payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(adjustments.event_date as date) as event_date,
        cast(adjustments.adjustment_level as {{ dbt.type_string() }}) as adjustment_level,
        cast(adjustments.group_code as {{ dbt.type_string() }}) as group_code,
        cast(group_codes.description as {{ dbt.type_string() }}) as group_description,
        cast(adjustments.reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(adjustments.reason_description as {{ dbt.type_string() }}) as reason_description,
        cast(adjustments.is_denial as boolean) as is_denial,
        cast(adjustments.denial_category as {{ dbt.type_string() }}) as denial_category,
        cast(adjustments.amount as decimal(18, 2)) as amount,
        cast(adjustments.quantity as decimal(18, 4)) as quantity,
        cast(adjustments.claim_status_code as {{ dbt.type_string() }}) as claim_status_code,
        cast(status_codes.description as {{ dbt.type_string() }}) as claim_status_description,
        cast(adjustments.is_reversal as boolean) as is_reversal,
        cast(coalesce(service_lines.original_procedure_code, service_lines.procedure_code) as {{ dbt.type_string() }})
            as procedure_code,
        cast(adjustments.remark_codes as {{ dbt.type_string() }}) as remark_codes,
        cast(remark_descriptions.remark_descriptions as {{ dbt.type_string() }}) as remark_descriptions,
        cast(claim_payments.payer_claim_control_number as {{ dbt.type_string() }}) as payer_claim_control_number,
        cast(adjustments.claim_payment_id as {{ dbt.type_string() }}) as claim_payment_id,
        cast(adjustments.service_line_id as {{ dbt.type_string() }}) as service_line_id,
        cast(adjustments.payment_id as {{ dbt.type_string() }}) as payment_id,
        coalesce(adjustments.claim_status_code = '4', false) as is_claim_denied

    from adjustments
    inner join claim_payments
        on adjustments.claim_payment_id = claim_payments.claim_payment_id
    left join service_lines
        on adjustments.service_line_id = service_lines.service_line_id
    left join group_codes
        on adjustments.group_code = group_codes.group_code
    left join status_codes
        on adjustments.claim_status_code = status_codes.claim_status_code
    left join remark_descriptions
        on adjustments.service_line_id = remark_descriptions.service_line_id

)

select * from final
