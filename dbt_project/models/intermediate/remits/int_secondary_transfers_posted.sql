-- Ledger entries (ledger_entry_id) that move the primary payer's patient share to the
-- secondary payer when the secondary (COB) claim is first submitted, in the columns of
-- fct_ar_ledger. One entry per line (or claim-level share) of the primary's patient
-- responsibility as posted from its 835s: amount = + that share (what the insurance side owes
-- again), balance_component patient_responsibility (it undoes the primary's transfer to the
-- patient), payer the secondary payer, dated the day the secondary claim was first sent.
-- The secondary payer's own 835 then posts payments, adjustments and any patient share left,
-- on the same account claim_id (int_remit_entries_posted).
with

claims as (

    select * from {{ ref('fct_claims') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

remit_entries as (

    select * from {{ ref('int_remit_entries_posted') }}

),

first_secondary_submissions as (

    select
        claims.claim_id,
        claims.secondary_claim_id,
        claims.secondary_payer_id,
        min(submissions.submission_id) as submission_id,
        min(submissions.submitted_at) as submitted_at
    from claims
    inner join submissions
        on claims.secondary_claim_id = submissions.claim_id
    where submissions.claim_line_id is null
    group by claims.claim_id, claims.secondary_claim_id, claims.secondary_payer_id

),

primary_patient_shares as (

    select
        remit_entries.claim_id,
        remit_entries.claim_line_id,
        -sum(remit_entries.amount) as patient_share_amount
    from remit_entries
    inner join claims
        on remit_entries.claim_id = claims.claim_id
    where
        remit_entries.balance_component = 'patient_responsibility'
        and remit_entries.payer_id = claims.payer_id
    group by remit_entries.claim_id, remit_entries.claim_line_id

),

final as (

    -- Columns in fct_ar_ledger's order: the ledger unions its sources by position.
    select  -- noqa: ST06
        'XFER:' || first_secondary_submissions.secondary_claim_id || ':'
        || coalesce(primary_patient_shares.claim_line_id, 'claim') as ledger_entry_id,
        first_secondary_submissions.claim_id,
        primary_patient_shares.claim_line_id,
        first_secondary_submissions.secondary_payer_id as payer_id,
        'transfer_to_secondary' as event_type,
        'patient_responsibility' as balance_component,
        primary_patient_shares.patient_share_amount as amount,
        false as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(first_secondary_submissions.submitted_at as date) as event_date,
        '837_submission' as source_type,
        first_secondary_submissions.submission_id as source_id,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from first_secondary_submissions
    inner join primary_patient_shares
        on first_secondary_submissions.claim_id = primary_patient_shares.claim_id
    where primary_patient_shares.patient_share_amount != 0

)

select * from final
