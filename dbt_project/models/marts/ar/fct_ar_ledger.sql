-- The accounts-receivable ledger: one row per financial event (ledger_entry_id) on the
-- insurance side of a claim, from the 837 submissions and the 835 remittances.
--
-- Sign convention: amount is the effect on what the insurance still owes on the claim.
-- Charges are positive; payments, contractual and other adjustments and transfers to the
-- patient are negative; reversals carry the opposite sign of what they reverse; takebacks are
-- positive; interest is negative (cash in, outside the claim's balance). So for a claim,
-- open balance = sum(amount) over its entries whose balance_component is not 'none'.
-- Posting rules: int_claim_charges_posted (charges, voids, self-pay) and
-- int_remit_entries_posted (835). Rebuilt from raw every run (a table; incremental-friendly:
-- entries are immutable and their ids deterministic).
with

charge_entries as (

    select * from {{ ref('int_claim_charges_posted') }}

),

remit_entries as (

    select * from {{ ref('int_remit_entries_posted') }}

),

entries as (

    select * from charge_entries
    union all
    select * from remit_entries

),

final as (

    select
        cast(ledger_entry_id as varchar) as ledger_entry_id,
        cast(claim_id as varchar) as claim_id,
        cast(claim_line_id as varchar) as claim_line_id,
        cast(payer_id as varchar) as payer_id,
        cast(event_type as varchar) as event_type,
        cast(balance_component as varchar) as balance_component,
        cast(amount as decimal(18, 2)) as amount,
        cast(is_cash as boolean) as is_cash,
        cast(is_denial as boolean) as is_denial,
        cast(group_code as varchar) as group_code,
        cast(reason_code as varchar) as reason_code,
        cast(event_date as date) as event_date,
        cast(source_type as varchar) as source_type,
        cast(source_id as varchar) as source_id,
        cast(payment_id as varchar) as payment_id,
        cast(claim_payment_id as varchar) as claim_payment_id,
        cast(payer_claim_control_number as varchar) as payer_claim_control_number

    from entries

)

select * from final
