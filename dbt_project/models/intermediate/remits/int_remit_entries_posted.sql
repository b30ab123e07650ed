-- Ledger entries (ledger_entry_id) posted from 835 remittances (duplicate deliveries never
-- reach this model), in the columns of fct_ar_ledger.
--
-- Sign convention: amount is the effect on what the insurance still owes on the claim
-- (charges +). Payments, adjustments and transfers to the patient are negative; a reversal
-- (CLP02 22) carries the 835's negated amounts, so its entries are positive and cancel the
-- original's; a takeback (PLB WO/72, positive in the 835) is positive; interest (PLB L6,
-- negative in the 835) is negative. Cash entries (is_cash) are exactly the money of the 835:
-- for every payment, sum(cash entries) = -(sum CLP04 - sum PLB), i.e. -BPR02 when the 835
-- balances.
--
-- Posting rules, per claim payment (CLP):
--   payment     CLP04 as paid, per service line (SVC03, on the matched claim line, or on the
--               claim when the line did not match) and, at claim level, whatever CLP04 has
--               that the lines do not (all of it when the claim has no lines). Unmatched claim
--               payments post their cash with claim_id null (unapplied cash).
--   adjustments every CAS amount of a matched claim payment, at claim or line level:
--               CO -> contractual_adjustment, PR -> patient_responsibility (transfer to the
--               patient), OA, PI and anything else -> other_adjustment. CLP05 is not posted
--               (the PR adjustments carry the patient's share with their reasons).
--               Predeterminations (CLP02 25) post no adjustments. On a secondary payer's
--               claim payment, reason 23 (impact of the prior payer) is prior_payer_adjustment
--               with balance_component none: the primary's own entries already moved it.
--   reversal    entries of a CLP02 22 claim payment have event_type reversal and keep the
--               balance_component of what they reverse.
-- Per provider adjustment (PLB):
--   takeback    WO, 72: on the referenced claim; balance_component payment (it takes the
--               payment back) when the claim has no reversal, else none (the reversal already
--               did; the PLB only recovers the cash). Unknown claim: claim_id null.
--   interest    L6 with a claim reference: on that claim. L6 without one: when claim payments
--               of the same 835 report AMT*I, each of those claims gets its AMT*I as interest
--               and the rest of the L6 total stays unapplied; otherwise each L6 stays unapplied.
--               AMT*I alone moves no money (X12: the L6 carries the interest cash).
--   other       FB, CS, J1, ...: provider_adjustment, never on a claim's balance.
-- Interest and provider adjustments have balance_component none: they are cash, but not part
-- of what the insurance owes on the claim. Zero amounts are not posted.
with

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

service_lines as (

    select * from {{ ref('int_remit_lines_matched') }}

),

adjustments as (

    select * from {{ ref('int_remit_adjustments_classified') }}

),

provider_adjustments as (

    select * from {{ ref('int_remit_provider_adjustments_resolved') }}

),

line_payments as (

    select
        'PAY:' || service_lines.service_line_id as ledger_entry_id,
        claim_payments.claim_id,
        service_lines.claim_line_id,
        claim_payments.payer_id,
        case when claim_payments.is_reversal then 'reversal' else 'payment' end as event_type,
        'payment' as balance_component,
        -service_lines.paid_amount as amount,
        true as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        claim_payments.event_date,
        '835_service_line' as source_type,
        service_lines.service_line_id as source_id,
        claim_payments.payment_id,
        claim_payments.claim_payment_id,
        claim_payments.payer_claim_control_number
    from service_lines
    inner join claim_payments
        on service_lines.claim_payment_id = claim_payments.claim_payment_id
    where service_lines.paid_amount != 0

),

claim_level_payments as (

    select
        'PAY:' || claim_payment_id as ledger_entry_id,
        claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        payer_id,
        case when is_reversal then 'reversal' else 'payment' end as event_type,
        'payment' as balance_component,
        -(paid_amount - service_line_paid_amount) as amount,
        true as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        event_date,
        '835_claim_payment' as source_type,
        claim_payment_id as source_id,
        payment_id,
        claim_payment_id,
        payer_claim_control_number
    from claim_payments
    where paid_amount - service_line_paid_amount != 0

),

adjustment_entries as (

    select
        'ADJ:' || adjustments.adjustment_id as ledger_entry_id,
        adjustments.claim_id,
        adjustments.claim_line_id,
        adjustments.payer_id,
        case
            when adjustments.is_prior_payer_impact then 'prior_payer_adjustment'
            when adjustments.is_reversal then 'reversal'
            when adjustments.group_code = 'CO' then 'contractual_adjustment'
            when adjustments.group_code = 'PR' then 'patient_responsibility'
            else 'other_adjustment'
        end as event_type,
        case
            when adjustments.is_prior_payer_impact then 'none'
            when adjustments.group_code = 'CO' then 'contractual_adjustment'
            when adjustments.group_code = 'PR' then 'patient_responsibility'
            else 'other_adjustment'
        end as balance_component,
        -adjustments.amount as amount,
        false as is_cash,
        adjustments.is_denial,
        adjustments.group_code,
        adjustments.reason_code,
        adjustments.event_date,
        '835_adjustment' as source_type,
        adjustments.adjustment_id as source_id,
        adjustments.payment_id,
        adjustments.claim_payment_id,
        claim_payments.payer_claim_control_number
    from adjustments
    inner join claim_payments
        on adjustments.claim_payment_id = claim_payments.claim_payment_id
    where
        adjustments.claim_id is not null
        and adjustments.claim_status_code is distinct from '25'
        and adjustments.amount != 0

),

referenced_interest_claims as (

    select distinct
        payment_id,
        claim_id
    from provider_adjustments
    where adjustment_kind = 'interest' and is_reference_resolved

),

unreferenced_interest as (

    select
        payment_id,
        min(provider_adjustment_id) as first_provider_adjustment_id,
        sum(amount) as interest_total
    from provider_adjustments
    where adjustment_kind = 'interest' and not is_reference_resolved
    group by payment_id

),

claim_interest as (

    -- AMT*I of matched claim payments of an 835 with an unreferenced L6 (and no L6 of their own).
    select claim_payments.*
    from claim_payments
    inner join unreferenced_interest
        on claim_payments.payment_id = unreferenced_interest.payment_id
    left join referenced_interest_claims
        on
            claim_payments.payment_id = referenced_interest_claims.payment_id
            and claim_payments.claim_id = referenced_interest_claims.claim_id
    where
        claim_payments.claim_id is not null
        and coalesce(claim_payments.interest_amount, 0) != 0
        and referenced_interest_claims.claim_id is null

),

allocating_payments as (

    select
        payment_id,
        sum(interest_amount) as allocated_interest_amount
    from claim_interest
    group by payment_id

),

allocated_interest_entries as (

    select
        'INT:' || claim_payment_id as ledger_entry_id,
        claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        payer_id,
        'interest' as event_type,
        'none' as balance_component,
        -interest_amount as amount,
        true as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        'L6' as reason_code,
        event_date,
        '835_claim_payment' as source_type,
        claim_payment_id as source_id,
        payment_id,
        claim_payment_id,
        payer_claim_control_number
    from claim_interest

),

unallocated_interest_entries as (

    select
        'INT:' || unreferenced_interest.payment_id as ledger_entry_id,
        cast(null as {{ dbt.type_string() }}) as claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        provider_adjustments.payer_id,
        'interest' as event_type,
        'none' as balance_component,
        unreferenced_interest.interest_total + allocating_payments.allocated_interest_amount as amount,
        true as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        'L6' as reason_code,
        provider_adjustments.event_date,
        '835_provider_adjustment' as source_type,
        unreferenced_interest.first_provider_adjustment_id as source_id,
        unreferenced_interest.payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from unreferenced_interest
    inner join allocating_payments
        on unreferenced_interest.payment_id = allocating_payments.payment_id
    inner join provider_adjustments
        on unreferenced_interest.first_provider_adjustment_id = provider_adjustments.provider_adjustment_id
    where unreferenced_interest.interest_total + allocating_payments.allocated_interest_amount != 0

),

provider_adjustment_entries as (

    select
        'PLB:' || provider_adjustments.provider_adjustment_id as ledger_entry_id,
        provider_adjustments.claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        provider_adjustments.payer_id,
        case provider_adjustments.adjustment_kind
            when 'interest' then 'interest'
            when 'takeback' then 'takeback'
            else 'provider_adjustment'
        end as event_type,
        case when provider_adjustments.affects_claim_balance then 'payment' else 'none' end as balance_component,
        provider_adjustments.amount,
        true as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        provider_adjustments.reason_code,
        provider_adjustments.event_date,
        '835_provider_adjustment' as source_type,
        provider_adjustments.provider_adjustment_id as source_id,
        provider_adjustments.payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from provider_adjustments
    left join allocating_payments
        on provider_adjustments.payment_id = allocating_payments.payment_id
    where
        provider_adjustments.amount != 0
        and not (
            provider_adjustments.adjustment_kind = 'interest'
            and not provider_adjustments.is_reference_resolved
            and allocating_payments.payment_id is not null
        )

),

final as (

    select * from line_payments
    union all
    select * from claim_level_payments
    union all
    select * from adjustment_entries
    union all
    select * from allocated_interest_entries
    union all
    select * from unallocated_interest_entries
    union all
    select * from provider_adjustment_entries

)

select * from final
