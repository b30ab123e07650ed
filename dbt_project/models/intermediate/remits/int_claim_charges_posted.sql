-- Ledger entries (ledger_entry_id) that put claims on the books, in the columns of
-- fct_ar_ledger. Sign convention: amounts are the effect on what the insurance still owes on
-- the claim; a charge is positive.
--   - charge: every line of a claim, on the day the claim was first submitted (ops.submissions,
--     claim-level row), source the 837 submission. The ledger covers claims billed to
--     insurance; a claim enters it when it is sent. Held and ready-but-unsent claims have no
--     entries yet.
--   - reversal of the charges: when the latest submission of a claim is a void (frequency 8),
--     on the day of the void.
--   - self-pay claims never submitted: a charge and, on the same day, its transfer to the
--     patient (patient_responsibility), so the insurance balance is 0 and the patient owes the
--     charge. Dated on the claim's last service date (no submission exists).
-- Charge amounts are today's fct_claim_lines: ops.submissions records no amounts. Zero
-- amounts are not posted.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

claim_lines as (

    select * from {{ ref('fct_claim_lines') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

claim_submissions as (

    select
        claim_id,
        submission_id,
        claim_frequency_code,
        payer_id,
        cast(submitted_at as date) as submitted_date,
        row_number() over (partition by claim_id order by submitted_at, submission_id) as submission_order,
        row_number() over (partition by claim_id order by submitted_at desc, submission_id desc) as latest_order
    from submissions
    where claim_id is not null and claim_line_id is null

),

first_submissions as (

    select * from claim_submissions
    where submission_order = 1

),

voids as (

    select * from claim_submissions
    where latest_order = 1 and claim_frequency_code = '8'

),

charges as (

    select
        'CHG:' || claim_lines.claim_line_id as ledger_entry_id,
        claim_lines.claim_id,
        claim_lines.claim_line_id,
        coalesce(first_submissions.payer_id, claims.payer_id) as payer_id,
        'charge' as event_type,
        'charge' as balance_component,
        claim_lines.charge_amount as amount,
        false as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        first_submissions.submitted_date as event_date,
        '837_submission' as source_type,
        first_submissions.submission_id as source_id,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from claim_lines
    inner join first_submissions
        on claim_lines.claim_id = first_submissions.claim_id
    inner join claims
        on claim_lines.claim_id = claims.claim_id
    where claim_lines.charge_amount != 0

),

voided_charges as (

    select
        'VOID:' || claim_lines.claim_line_id as ledger_entry_id,
        claim_lines.claim_id,
        claim_lines.claim_line_id,
        coalesce(voids.payer_id, claims.payer_id) as payer_id,
        'reversal' as event_type,
        'charge' as balance_component,
        -claim_lines.charge_amount as amount,
        false as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        voids.submitted_date as event_date,
        '837_submission' as source_type,
        voids.submission_id as source_id,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from claim_lines
    inner join voids
        on claim_lines.claim_id = voids.claim_id
    inner join claims
        on claim_lines.claim_id = claims.claim_id
    where claim_lines.charge_amount != 0

),

self_pay_lines as (

    select
        claim_lines.claim_id,
        claim_lines.claim_line_id,
        claims.payer_id,
        claims.service_date_to,
        claim_lines.charge_amount
    from claim_lines
    inner join claims
        on claim_lines.claim_id = claims.claim_id
    left join first_submissions
        on claim_lines.claim_id = first_submissions.claim_id
    where
        claims.is_self_pay
        and first_submissions.claim_id is null
        and claim_lines.charge_amount != 0

),

self_pay_charges as (

    select
        'SPC:' || claim_line_id as ledger_entry_id,
        claim_id,
        claim_line_id,
        payer_id,
        'charge' as event_type,
        'charge' as balance_component,
        charge_amount as amount,
        false as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        service_date_to as event_date,
        'self_pay_claim' as source_type,
        claim_id as source_id,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from self_pay_lines

),

self_pay_transfers as (

    select
        'SPT:' || claim_line_id as ledger_entry_id,
        claim_id,
        claim_line_id,
        payer_id,
        'patient_responsibility' as event_type,
        'patient_responsibility' as balance_component,
        -charge_amount as amount,
        false as is_cash,
        false as is_denial,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        service_date_to as event_date,
        'self_pay_claim' as source_type,
        claim_id as source_id,
        cast(null as {{ dbt.type_string() }}) as payment_id,
        cast(null as {{ dbt.type_string() }}) as claim_payment_id,
        cast(null as {{ dbt.type_string() }}) as payer_claim_control_number
    from self_pay_lines

),

final as (

    select * from charges
    union all
    select * from voided_charges
    union all
    select * from self_pay_charges
    union all
    select * from self_pay_transfers

)

select * from final
