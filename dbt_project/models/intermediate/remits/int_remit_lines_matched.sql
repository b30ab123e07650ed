-- One row per 835 service line (service_line_id) of a posted claim payment, matched to our
-- claim line within the claim its claim payment matched. claim_line_id is null when no line
-- matched; line_unmatched_reason says why. Three passes, each only over what is still open
-- (a claim line is used at most once per claim payment; across claim payments it can be used
-- again, as a reversal and its correction answer the same line):
--   1. line_control_number: REF*6R = claim_line_id of the matched claim;
--   2. procedure_date_modifiers: the code we billed (SVC06 when the payer re-coded, else
--      SVC01; a revenue code for NU lines), the service date and the modifiers are equal;
--      identical lines pair in order (the first remit line with the first claim line);
--   3. procedure_date: the same code, modifiers ignored, paired in date order, and the claim
--      line's date within the remit line's dates (or the remit line has none).
-- Lines of claim payments that matched no claim are not matched (reason
-- claim_payment_not_matched); the work queue reports their claim payment instead.
with

service_lines as (

    select * from {{ ref('stg_x12__remit_service_lines') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

account_claim_lines as (

    select * from {{ ref('fct_claim_lines') }}

),

billed_claims as (

    -- The claim ids the claim payments answered (a primary claim, or its secondary claim).
    select distinct
        claim_id as account_claim_id,
        coalesce(billed_claim_id, claim_id) as billed_claim_id
    from claim_payments
    where claim_id is not null

),

claim_lines as (

    -- The account's lines as the billed claim named them: on a secondary claim the line id
    -- (REF*6R) is built from the secondary claim id and the line number (macro
    -- claim_line_id, as the 837 was written). In this model claim_id / claim_line_id are the
    -- billed ids; the final select maps them back to the account's.
    select
        {{ revcycle.star_except('account_claim_lines', ['claim_id', 'claim_line_id']) }},
        account_claim_lines.claim_line_id as account_claim_line_id,
        billed_claims.billed_claim_id as claim_id,
        case
            when billed_claims.billed_claim_id = billed_claims.account_claim_id
                then account_claim_lines.claim_line_id
            else {{ claim_line_id('billed_claims.billed_claim_id', 'account_claim_lines.line_number') }}
        end as claim_line_id
    from account_claim_lines
    inner join billed_claims
        on account_claim_lines.claim_id = billed_claims.account_claim_id

),

remit_lines as (

    select
        service_lines.*,
        claim_payments.payment_id,
        claim_payments.claim_id as account_claim_id,
        coalesce(claim_payments.billed_claim_id, claim_payments.claim_id) as claim_id,
        coalesce(service_lines.original_procedure_code, service_lines.procedure_code) as billed_code,
        case when service_lines.procedure_qualifier = 'NU' then 'revenue' else 'procedure' end as code_kind,
        coalesce(service_lines.modifier_1, '') || '|' || coalesce(service_lines.modifier_2, '') || '|'
        || coalesce(service_lines.modifier_3, '') || '|' || coalesce(service_lines.modifier_4, '') as modifier_key

    from service_lines
    inner join claim_payments
        on service_lines.claim_payment_id = claim_payments.claim_payment_id

),

claim_line_keys as (

    select
        claim_line_id,
        claim_id,
        line_number,
        service_date,
        'procedure' as code_kind,
        procedure_code as billed_code,
        coalesce(modifier_1, '') || '|' || coalesce(modifier_2, '') || '|'
        || coalesce(modifier_3, '') || '|' || coalesce(modifier_4, '') as modifier_key
    from claim_lines
    where procedure_code is not null

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        service_date,
        'revenue' as code_kind,
        revenue_code as billed_code,
        coalesce(modifier_1, '') || '|' || coalesce(modifier_2, '') || '|'
        || coalesce(modifier_3, '') || '|' || coalesce(modifier_4, '') as modifier_key
    from claim_lines
    where revenue_code is not null

),

by_line_control_number as (

    select
        remit_lines.service_line_id,
        remit_lines.claim_payment_id,
        claim_lines.claim_line_id
    from remit_lines
    inner join claim_lines
        on
            remit_lines.claim_id = claim_lines.claim_id
            and remit_lines.line_control_number = claim_lines.claim_line_id

),

open_remit_lines as (

    select remit_lines.*
    from remit_lines
    left join by_line_control_number
        on remit_lines.service_line_id = by_line_control_number.service_line_id
    where
        remit_lines.claim_id is not null
        and by_line_control_number.service_line_id is null

),

open_claim_payments as (

    select distinct
        claim_payment_id,
        claim_id
    from open_remit_lines

),

open_claim_line_keys as (

    select
        claim_line_keys.*,
        open_claim_payments.claim_payment_id
    from open_claim_payments
    inner join claim_line_keys
        on open_claim_payments.claim_id = claim_line_keys.claim_id
    left join by_line_control_number
        on
            open_claim_payments.claim_payment_id = by_line_control_number.claim_payment_id
            and claim_line_keys.claim_line_id = by_line_control_number.claim_line_id
    where by_line_control_number.claim_line_id is null

),

exact_remit_lines as (

    select
        service_line_id,
        claim_payment_id,
        code_kind,
        billed_code,
        service_date_from,
        modifier_key,
        row_number() over (
            partition by claim_payment_id, code_kind, billed_code, service_date_from, modifier_key
            order by segment_position, service_line_id
        ) as occurrence
    from open_remit_lines
    where service_date_from is not null

),

exact_claim_lines as (

    select
        claim_payment_id,
        claim_line_id,
        code_kind,
        billed_code,
        service_date,
        modifier_key,
        row_number() over (
            partition by claim_payment_id, code_kind, billed_code, service_date, modifier_key
            order by line_number, claim_line_id
        ) as occurrence
    from open_claim_line_keys

),

by_procedure_date_modifiers as (

    select
        exact_remit_lines.service_line_id,
        exact_remit_lines.claim_payment_id,
        exact_claim_lines.claim_line_id
    from exact_remit_lines
    inner join exact_claim_lines
        on
            exact_remit_lines.claim_payment_id = exact_claim_lines.claim_payment_id
            and exact_remit_lines.code_kind = exact_claim_lines.code_kind
            and exact_remit_lines.billed_code = exact_claim_lines.billed_code
            and exact_remit_lines.service_date_from = exact_claim_lines.service_date
            and exact_remit_lines.modifier_key = exact_claim_lines.modifier_key
            and exact_remit_lines.occurrence = exact_claim_lines.occurrence

),

loose_remit_lines as (

    select
        open_remit_lines.service_line_id,
        open_remit_lines.claim_payment_id,
        open_remit_lines.code_kind,
        open_remit_lines.billed_code,
        open_remit_lines.service_date_from,
        coalesce(open_remit_lines.service_date_to, open_remit_lines.service_date_from) as service_date_to,
        row_number() over (
            partition by open_remit_lines.claim_payment_id, open_remit_lines.code_kind, open_remit_lines.billed_code
            order by
                open_remit_lines.service_date_from nulls last,
                open_remit_lines.segment_position,
                open_remit_lines.service_line_id
        ) as occurrence
    from open_remit_lines
    left join by_procedure_date_modifiers
        on open_remit_lines.service_line_id = by_procedure_date_modifiers.service_line_id
    where by_procedure_date_modifiers.service_line_id is null

),

loose_claim_lines as (

    select
        open_claim_line_keys.claim_payment_id,
        open_claim_line_keys.claim_line_id,
        open_claim_line_keys.code_kind,
        open_claim_line_keys.billed_code,
        open_claim_line_keys.service_date,
        row_number() over (
            partition by
                open_claim_line_keys.claim_payment_id, open_claim_line_keys.code_kind, open_claim_line_keys.billed_code
            order by
                open_claim_line_keys.service_date, open_claim_line_keys.line_number, open_claim_line_keys.claim_line_id
        ) as occurrence
    from open_claim_line_keys
    left join by_procedure_date_modifiers
        on
            open_claim_line_keys.claim_payment_id = by_procedure_date_modifiers.claim_payment_id
            and open_claim_line_keys.claim_line_id = by_procedure_date_modifiers.claim_line_id
    where by_procedure_date_modifiers.claim_line_id is null

),

by_procedure_date as (

    select
        loose_remit_lines.service_line_id,
        loose_claim_lines.claim_line_id
    from loose_remit_lines
    inner join loose_claim_lines
        on
            loose_remit_lines.claim_payment_id = loose_claim_lines.claim_payment_id
            and loose_remit_lines.code_kind = loose_claim_lines.code_kind
            and loose_remit_lines.billed_code = loose_claim_lines.billed_code
            and loose_remit_lines.occurrence = loose_claim_lines.occurrence
    where
        loose_remit_lines.service_date_from is null
        or loose_claim_lines.service_date
        between loose_remit_lines.service_date_from and loose_remit_lines.service_date_to

),

final as (

    select
        remit_lines.service_line_id,
        remit_lines.claim_payment_id,
        remit_lines.payment_id,
        remit_lines.account_claim_id as claim_id,
        remit_lines.procedure_qualifier,
        remit_lines.procedure_code,
        remit_lines.original_procedure_code,
        remit_lines.modifier_1,
        remit_lines.modifier_2,
        remit_lines.modifier_3,
        remit_lines.modifier_4,
        remit_lines.revenue_code,
        remit_lines.charge_amount,
        remit_lines.paid_amount,
        remit_lines.allowed_amount,
        remit_lines.units_paid,
        remit_lines.service_date_from,
        remit_lines.service_date_to,
        remit_lines.line_control_number,
        remit_lines.remark_codes,
        remit_lines.segment_position,
        matched_lines.account_claim_line_id as claim_line_id,
        coalesce(
            by_line_control_number.claim_line_id,
            by_procedure_date_modifiers.claim_line_id,
            by_procedure_date.claim_line_id
        ) is not null as is_matched,
        case
            when by_line_control_number.claim_line_id is not null then 'line_control_number'
            when by_procedure_date_modifiers.claim_line_id is not null then 'procedure_date_modifiers'
            when by_procedure_date.claim_line_id is not null then 'procedure_date'
        end as line_match_method,
        case
            when
                coalesce(
                    by_line_control_number.claim_line_id,
                    by_procedure_date_modifiers.claim_line_id,
                    by_procedure_date.claim_line_id
                ) is not null
                then null
            when remit_lines.claim_id is null then 'claim_payment_not_matched'
            when remit_lines.line_control_number is not null then 'line_control_number_not_on_claim'
            else 'no_claim_line_with_procedure_and_date'
        end as line_unmatched_reason

    from remit_lines
    left join by_line_control_number
        on remit_lines.service_line_id = by_line_control_number.service_line_id
    left join by_procedure_date_modifiers
        on remit_lines.service_line_id = by_procedure_date_modifiers.service_line_id
    left join by_procedure_date
        on remit_lines.service_line_id = by_procedure_date.service_line_id
    left join claim_lines as matched_lines
        on
            remit_lines.claim_id = matched_lines.claim_id
            and coalesce(
                by_line_control_number.claim_line_id,
                by_procedure_date_modifiers.claim_line_id,
                by_procedure_date.claim_line_id
            ) = matched_lines.claim_line_id

)

select * from final
