-- The reconciliation work queue: one row per item an analyst must act on (work_item_id),
-- with a reason that says what is wrong and what to do. Nothing the remittances or
-- acknowledgements say is dropped silently: whatever could not be posted or matched is here.
--   unmatched_claim_payment    an 835 claim payment that matched no claim (reason_code: why)
--   unmatched_service_line     a service line of a matched claim payment that matched no line
--   unknown_takeback_claim     a PLB takeback (WO, 72) whose reference is not one known claim
--   reversal_without_original  a reversal (CLP02 22) of a payment we never received
--   ack_999_rejected / ack_999_unmatched / ack_999_unclear
--                              a 999 rejecting an 837 transaction or group; acknowledging
--                              control numbers we never sent; partially accepted at group level
--   ack_277ca_rejected / ack_277ca_unmatched
--                              a 277CA rejecting a claim; about a claim we never sent
--   remit_out_of_balance       a failed balancing check of the 835 parser (reason_code: level
--                              transaction, claim or line); posted as received, never fixed
--   trace_number_reused        one payer's trace number on payments with different amounts
--                              or dates (both posted)
-- Duplicate deliveries of a payment add nothing here: they post nothing at all.
with

payments as (

    select * from {{ ref('int_remit_payments_deduplicated') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

service_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

provider_adjustments as (

    select * from {{ ref('int_remit_provider_adjustments_resolved') }}

),

acks_999 as (

    select * from {{ ref('int_ack_999_claims_matched') }}

),

acks_277ca as (

    select * from {{ ref('int_ack_277ca_claims_matched') }}

),

balance_checks as (

    select * from {{ ref('stg_x12__remit_balance_checks') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

posted_payments as (

    select * from payments
    where not is_duplicate_delivery

),

unmatched_claim_payments as (

    select
        'CLP:' || claim_payments.claim_payment_id as work_item_id,
        'unmatched_claim_payment' as work_item_type,
        claim_payments.unmatched_reason as reason_code,
        case claim_payments.unmatched_reason
            when 'unknown_patient_control_number'
                then
                    'No claim of ours has patient control number '
                    || coalesce(claim_payments.patient_control_number, '(empty)')
                    || ' (CLP01): check for a mistyped or foreign claim number,'
                    || ' then post it by hand or return it to the payer.'
            when 'placeholder_patient_control_number'
                then
                    'CLP01 is a placeholder (' || coalesce(claim_payments.patient_control_number, 'empty')
                    || ') and payer claim number ' || coalesce(claim_payments.payer_claim_control_number, '(none)')
                    || ' links to no claim: find the claim on the payer''s remittance and post it by hand.'
            when 'ambiguous_patient_control_number'
                then
                    'CLP01 ' || claim_payments.patient_control_number
                    || ' looks truncated and fits several of our claims:'
                    || ' pick the claim by service dates and amounts and post it by hand.'
            when 'claim_not_submitted'
                then
                    'Claim ' || claim_payments.candidate_claim_id
                    || ' matches CLP01 but was never sent by revcycle (no ops.submissions row):'
                    || ' check how it was billed before posting.'
            when 'secondary_payer_remit'
                then
                    'Payer ' || coalesce(claim_payments.payer_id, '?') || ' is the secondary payer of claim '
                    || claim_payments.candidate_claim_id
                    || ': post the secondary payment by hand (secondary claims are not reconciled yet).'
            when 'payer_mismatch'
                then
                    'Claim ' || claim_payments.candidate_claim_id || ' was billed to payer '
                    || coalesce(candidate.payer_id, '?') || ' but payer ' || coalesce(claim_payments.payer_id, '?')
                    || ' paid it: confirm the payer before posting.'
            when 'service_dates_outside_claim'
                then
                    'Remit service dates '
                    || coalesce(cast(claim_payments.remit_service_date_from as {{ dbt.type_string() }}), '?')
                    || '..' || coalesce(cast(claim_payments.remit_service_date_to as {{ dbt.type_string() }}), '?')
                    || ' fall outside claim ' || claim_payments.candidate_claim_id || ' ('
                    || cast(candidate.service_date as {{ dbt.type_string() }}) || '..'
                    || cast(candidate.service_date_to as {{ dbt.type_string() }})
                    || '): confirm it is the same visit before posting.'
            else 'Claim payment not matched: ' || coalesce(claim_payments.unmatched_reason, '?')
        end as reason,
        claim_payments.candidate_claim_id as claim_id,
        claim_payments.patient_control_number,
        claim_payments.payer_id,
        claim_payments.paid_amount as amount,
        claim_payments.event_date,
        claim_payments.payment_id,
        claim_payments.claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        cast(null as {{ dbt.type_string() }}) as ack_id
    from claim_payments
    left join claims as candidate
        on claim_payments.candidate_claim_id = candidate.claim_id
    where not claim_payments.is_matched

),

unmatched_lines as (

    select
        'SVC:' || service_lines.service_line_id as work_item_id,
        'unmatched_service_line' as work_item_type,
        service_lines.line_unmatched_reason as reason_code,
        case service_lines.line_unmatched_reason
            when 'line_control_number_not_on_claim'
                then
                    'Service line ' || coalesce(service_lines.procedure_code, '?') || ' carries line control number '
                    || service_lines.line_control_number || ', which is not a line of claim ' || service_lines.claim_id
                    || ': its payment is posted on the claim, not on a line; assign it to the right line.'
            else
                'Service line ' || coalesce(service_lines.procedure_code, '?') || ' on '
                || coalesce(cast(service_lines.service_date_from as {{ dbt.type_string() }}), '(no date)')
                || ' matches no line of claim ' || service_lines.claim_id
                || ': the payer may have re-coded or split it; its payment is posted on the claim, assign it to a line.'
        end as reason,
        service_lines.claim_id,
        claim_payments.patient_control_number,
        claim_payments.payer_id,
        service_lines.paid_amount as amount,
        claim_payments.event_date,
        service_lines.payment_id,
        service_lines.claim_payment_id,
        service_lines.service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        cast(null as {{ dbt.type_string() }}) as ack_id
    from service_lines
    inner join claim_payments
        on service_lines.claim_payment_id = claim_payments.claim_payment_id
    where not service_lines.is_matched and service_lines.claim_id is not null

),

unknown_takebacks as (

    select
        'PLB:' || provider_adjustment_id as work_item_id,
        'unknown_takeback_claim' as work_item_type,
        reference_unresolved_reason as reason_code,
        'PLB ' || reason_code || ' takeback of ' || cast(amount as {{ dbt.type_string() }}) || ' refers to '
        || coalesce(reference_id, '(no reference)')
        || case
            when reference_unresolved_reason = 'ambiguous_reference' then ', which fits several of our claims'
            else ', which is not a claim we sent'
        end
        || ': find the claim the payer recouped and record the takeback on it.' as reason,
        cast(null as {{ dbt.type_string() }}) as claim_id,
        reference_id as patient_control_number,
        payer_id,
        amount,
        event_date,
        payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as service_line_id,
        provider_adjustment_id,
        cast(null as {{ dbt.type_string() }}) as ack_id
    from provider_adjustments
    where adjustment_kind = 'takeback' and not is_reference_resolved

),

orphan_reversals as (

    select
        'REV:' || claim_payment_id as work_item_id,
        'reversal_without_original' as work_item_type,
        'reversal_without_original' as reason_code,
        'Reversal (CLP02 22) of ' || cast(paid_amount as {{ dbt.type_string() }}) || ' on claim ' || claim_id
        || ' matches no earlier payment with payer claim number ' || coalesce(payer_claim_control_number, '(none)')
        || ': check whether the original payment was posted outside revcycle.' as reason,
        claim_id,
        patient_control_number,
        payer_id,
        paid_amount as amount,
        event_date,
        payment_id,
        claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        cast(null as {{ dbt.type_string() }}) as ack_id
    from claim_payments
    where is_reversal and is_matched and reversed_claim_payment_id is null

),

acks_999_by_row as (

    select
        ack_id,
        min(ack_result) as ack_result,
        min(unmatched_reason) as unmatched_reason,
        bool_or(is_matched) as is_matched,
        bool_and(is_claim_acknowledgement) as is_claim_acknowledgement,
        bool_or(is_repeat_acknowledgement) as is_repeat_acknowledgement,
        min(effective_status) as effective_status,
        min(acknowledged_group_control_number) as acknowledged_group_control_number,
        min(acknowledged_transaction_control_number) as acknowledged_transaction_control_number,
        min(error_summary) as error_summary,
        count(claim_id) as claim_count,
        min(claim_id) as first_claim_id,
        min(payer_id) as payer_id,
        min(event_date) as event_date
    from acks_999
    group by ack_id

),

ack_999_items as (

    select
        '999:' || ack_id as work_item_id,
        case
            when not is_matched then 'ack_999_unmatched'
            when ack_result = 'rejected' then 'ack_999_rejected'
            else 'ack_999_unclear'
        end as work_item_type,
        case
            when not is_matched then unmatched_reason
            else 'status_' || lower(coalesce(effective_status, 'missing'))
        end as reason_code,
        case
            when not is_matched
                then
                    '999 acknowledges GS06 ' || coalesce(acknowledged_group_control_number, '?')
                    || coalesce(' ST02 ' || acknowledged_transaction_control_number, '')
                    || ', which revcycle never sent:'
                    || ' check the trading partner set-up (or a 999 meant for another system).'
            when ack_result = 'rejected'
                then
                    '999 rejected GS06 ' || coalesce(acknowledged_group_control_number, '?')
                    || coalesce(' ST02 ' || acknowledged_transaction_control_number, '') || ' ('
                    || cast(claim_count as {{ dbt.type_string() }}) || ' claim(s))'
                    || coalesce(': ' || error_summary, '')
                    || '. Fix the file errors and resend these claims.'
            else
                '999 for GS06 ' || coalesce(acknowledged_group_control_number, '?') || ' has status '
                || coalesce(effective_status, '(none)')
                || ' without transaction detail: ask the clearinghouse which claims were accepted.'
        end as reason,
        case when claim_count = 1 then first_claim_id end as claim_id,
        cast(null as {{ dbt.type_string() }}) as patient_control_number,
        payer_id,
        cast(null as decimal(18, 2)) as amount,
        event_date,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        ack_id
    from acks_999_by_row
    where
        is_claim_acknowledgement
        and not is_repeat_acknowledgement
        and (not is_matched or ack_result != 'accepted')

),

ack_277ca_items as (

    select
        '277CA:' || ack_id as work_item_id,
        case when is_matched then 'ack_277ca_rejected' else 'ack_277ca_unmatched' end as work_item_type,
        case
            when is_matched then coalesce(status_category, '?') || ':' || coalesce(status_code, '?')
            else unmatched_reason
        end as reason_code,
        case
            when is_matched
                then
                    '277CA rejected claim ' || claim_id || ' (' || coalesce(status_category, '?') || ':'
                    || coalesce(status_code, '?') || coalesce(' ' || status_category_description, '')
                    || coalesce(' / ' || status_code_description, '') || ')'
                    || coalesce('; all statuses ' || status_codes, '') || ': correct the claim and resubmit it.'
            else
                '277CA status ' || coalesce(status_category, '?') || ':' || coalesce(status_code, '?')
                || ' for patient control number ' || coalesce(patient_control_number, '(empty)')
                || ' matches no claim revcycle sent (' || unmatched_reason || '): check the claim number.'
        end as reason,
        claim_id,
        patient_control_number,
        cast(null as {{ dbt.type_string() }}) as payer_id,
        total_charge_amount as amount,
        event_date,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        ack_id
    from acks_277ca
    where
        not is_repeat_acknowledgement
        and (not is_matched or ack_result = 'rejected')

),

out_of_balance as (

    select
        'BAL:' || balance_checks.check_level || ':'
        || coalesce(balance_checks.service_line_id, balance_checks.claim_payment_id, balance_checks.payment_id)
            as work_item_id,
        'remit_out_of_balance' as work_item_type,
        balance_checks.check_level as reason_code,
        case balance_checks.check_level
            when 'transaction'
                then
                    'Check/EFT '
                    || coalesce(posted_payments.trace_number, '?')
                    || ' does not balance: BPR02 and sum(CLP04) - sum(PLB) differ by '
            when 'claim'
                then 'Claim payment does not balance: CLP03 - adjustments and CLP04 differ by '
            else 'Service line does not balance: SVC02 - adjustments and SVC03 differ by '
        end
        || coalesce(cast(balance_checks.difference_amount as {{ dbt.type_string() }}), '?') || ' (expected '
        || coalesce(cast(balance_checks.expected_amount as {{ dbt.type_string() }}), '?') || ', file has '
        || coalesce(cast(balance_checks.actual_amount as {{ dbt.type_string() }}), '?')
        || '): posted as received; ask the payer for a corrected 835.' as reason,
        claim_payments.claim_id,
        claim_payments.patient_control_number,
        posted_payments.payer_id,
        balance_checks.difference_amount as amount,
        posted_payments.event_date,
        balance_checks.payment_id,
        balance_checks.claim_payment_id,
        balance_checks.service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        cast(null as {{ dbt.type_string() }}) as ack_id
    from balance_checks
    inner join posted_payments
        on balance_checks.payment_id = posted_payments.payment_id
    left join claim_payments
        on balance_checks.claim_payment_id = claim_payments.claim_payment_id
    where not coalesce(balance_checks.is_balanced, false)

),

reused_traces as (

    select
        'TRN:' || payment_id as work_item_id,
        'trace_number_reused' as work_item_type,
        'trace_number_reused' as reason_code,
        'Trace number ' || trace_number || ' of payer ' || payer_id
        || ' is on payments with different amounts or dates: confirm each payment was received.' as reason,
        cast(null as {{ dbt.type_string() }}) as claim_id,
        cast(null as {{ dbt.type_string() }}) as patient_control_number,
        payer_id,
        signed_payment_amount as amount,
        event_date,
        payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as service_line_id,
        cast(null as {{ dbt.type_string() }}) as provider_adjustment_id,
        cast(null as {{ dbt.type_string() }}) as ack_id
    from posted_payments
    where has_reused_trace_number

),

items as (

    select * from unmatched_claim_payments
    union all
    select * from unmatched_lines
    union all
    select * from unknown_takebacks
    union all
    select * from orphan_reversals
    union all
    select * from ack_999_items
    union all
    select * from ack_277ca_items
    union all
    select * from out_of_balance
    union all
    select * from reused_traces

),

final as (

    select
        cast(work_item_id as {{ dbt.type_string() }}) as work_item_id,
        cast(work_item_type as {{ dbt.type_string() }}) as work_item_type,
        cast(reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(patient_control_number as {{ dbt.type_string() }}) as patient_control_number,
        cast(payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(amount as decimal(18, 2)) as amount,
        cast(event_date as date) as event_date,
        cast(payment_id as {{ dbt.type_string() }}) as payment_id,
        cast(claim_payment_id as {{ dbt.type_string() }}) as claim_payment_id,
        cast(service_line_id as {{ dbt.type_string() }}) as service_line_id,
        cast(provider_adjustment_id as {{ dbt.type_string() }}) as provider_adjustment_id,
        cast(ack_id as {{ dbt.type_string() }}) as ack_id

    from items

)

select * from final
