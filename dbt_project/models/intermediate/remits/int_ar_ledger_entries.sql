-- The accounts-receivable ledger as today's inputs post it: one row per financial event
-- (ledger_entry_id) on the insurance side of a claim, from the 837 submissions and the 835
-- remittances. marts/ar/fct_ar_ledger keeps it incrementally (writes only what changed).
--
-- Sign convention: amount is the effect on what the insurance still owes on the claim.
-- Charges are positive; payments, contractual and other adjustments and transfers to the
-- patient are negative; reversals carry the opposite sign of what they reverse; takebacks are
-- positive; interest is negative (cash in, outside the claim's balance). So for a claim,
-- open balance = sum(amount) over its entries whose balance_component is not 'none'.
-- Posting rules: int_claim_charges_posted (charges, voids, self-pay),
-- int_remit_entries_posted (835) and int_secondary_transfers_posted (the primary's
-- patient share moved to the secondary payer when the COB claim is sent). Entry ids are
-- deterministic, so the same event always has the same id.
with

charge_entries as (

    select * from {{ ref('int_claim_charges_posted') }}

),

remit_entries as (

    select * from {{ ref('int_remit_entries_posted') }}

),

secondary_transfers as (

    select * from {{ ref('int_secondary_transfers_posted') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

entries as (

    select * from charge_entries
    union all
    select * from remit_entries
    union all
    select * from secondary_transfers

),

final as (

    select
        cast(entries.ledger_entry_id as {{ dbt.type_string() }}) as ledger_entry_id,
        cast(entries.claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(entries.claim_line_id as {{ dbt.type_string() }}) as claim_line_id,
        cast(entries.payer_id as {{ dbt.type_string() }}) as payer_id,
        -- The secondary (COB) payer's entries: a claim only has a secondary claim when its
        -- secondary payer differs from the primary, so the payer tells them apart.
        cast(
            case
                when entries.claim_id is null then null
                when entries.payer_id = claims.secondary_payer_id and claims.secondary_claim_id is not null
                    then 'secondary'
                else 'primary'
            end as {{ dbt.type_string() }}
        ) as payer_sequence,
        cast(entries.event_type as {{ dbt.type_string() }}) as event_type,
        cast(entries.balance_component as {{ dbt.type_string() }}) as balance_component,
        cast(entries.amount as decimal(18, 2)) as amount,
        cast(entries.is_cash as boolean) as is_cash,
        cast(entries.is_denial as boolean) as is_denial,
        cast(entries.group_code as {{ dbt.type_string() }}) as group_code,
        cast(entries.reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(entries.event_date as date) as event_date,
        cast(entries.source_type as {{ dbt.type_string() }}) as source_type,
        cast(entries.source_id as {{ dbt.type_string() }}) as source_id,
        cast(entries.payment_id as {{ dbt.type_string() }}) as payment_id,
        cast(entries.claim_payment_id as {{ dbt.type_string() }}) as claim_payment_id,
        cast(entries.payer_claim_control_number as {{ dbt.type_string() }}) as payer_claim_control_number

    from entries
    left join claims
        on entries.claim_id = claims.claim_id

)

select * from final
