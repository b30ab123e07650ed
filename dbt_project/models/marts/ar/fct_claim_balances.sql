-- One row per claim of fct_claims (claim_id): what was charged and what became of it, from
-- fct_ar_ledger, with the claim's current status from fct_claim_status_history.
-- The amounts are positive figures (the ledger's signs reversed where the ledger is negative):
--   charge_amount = paid_amount + contractual_adjustment_amount + other_adjustment_amount
--                   + patient_responsibility_amount + open_balance_amount
-- where open_balance_amount (what the insurance still owes) is the sum of every ledger entry
-- of the claim that is part of its balance, computed independently of the other columns, so
-- the identity (a test) fails if any entry falls outside the five components. Interest is
-- reported beside it (cash, not part of the balance).
-- A claim without entries (held, or ready and not sent yet) has 0 everywhere; its
-- total_charge_amount is still the claim's value. Claims without status events take their
-- status from the scrubber: self_pay, held or not_submitted.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

scrub_status as (

    select * from {{ ref('fct_claim_scrub_status') }}

),

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

status_history as (

    select * from {{ ref('fct_claim_status_history') }}

),

ledger_totals as (

    select
        claim_id,
        sum(amount) filter (where balance_component = 'charge') as charge_amount,
        -sum(amount) filter (where balance_component = 'payment') as paid_amount,
        -sum(amount) filter (where balance_component = 'contractual_adjustment') as contractual_adjustment_amount,
        -sum(amount) filter (where balance_component = 'other_adjustment') as other_adjustment_amount,
        -sum(amount) filter (where balance_component = 'patient_responsibility') as patient_responsibility_amount,
        sum(amount) filter (where balance_component != 'none') as open_balance_amount,
        -sum(amount) filter (where event_type = 'interest') as interest_amount,
        min(event_date) filter (where event_type = 'charge') as billed_date,
        max(event_date) filter (where payment_id is not null) as last_remit_date
    from ledger
    where claim_id is not null
    group by claim_id

),

current_status as (

    select
        claim_id,
        status,
        status_date
    from status_history
    where is_current

),

final as (

    select
        claims.claim_id,
        claims.payer_id,
        claims.is_self_pay,
        scrub_status.scrub_status,
        claims.total_charge_amount,
        cast(coalesce(ledger_totals.charge_amount, 0) as decimal(18, 2)) as charge_amount,
        cast(coalesce(ledger_totals.paid_amount, 0) as decimal(18, 2)) as paid_amount,
        cast(coalesce(ledger_totals.contractual_adjustment_amount, 0) as decimal(18, 2))
            as contractual_adjustment_amount,
        cast(coalesce(ledger_totals.other_adjustment_amount, 0) as decimal(18, 2)) as other_adjustment_amount,
        cast(coalesce(ledger_totals.patient_responsibility_amount, 0) as decimal(18, 2))
            as patient_responsibility_amount,
        cast(coalesce(ledger_totals.open_balance_amount, 0) as decimal(18, 2)) as open_balance_amount,
        cast(coalesce(ledger_totals.interest_amount, 0) as decimal(18, 2)) as interest_amount,
        cast(
            coalesce(
                current_status.status,
                case
                    when claims.is_self_pay then 'self_pay'
                    when scrub_status.scrub_status = 'held' then 'held'
                    else 'not_submitted'
                end
            ) as {{ dbt.type_string() }}
        ) as claim_status,
        current_status.status_date as claim_status_date,
        ledger_totals.billed_date,
        ledger_totals.last_remit_date,
        case
            when ledger_totals.claim_id is null then 'not_billed'
            when coalesce(ledger_totals.open_balance_amount, 0) > 0 then 'open'
            when coalesce(ledger_totals.open_balance_amount, 0) < 0 then 'credit'
            else 'settled'
        end as balance_status

    from claims
    left join scrub_status
        on claims.claim_id = scrub_status.claim_id
    left join ledger_totals
        on claims.claim_id = ledger_totals.claim_id
    left join current_status
        on claims.claim_id = current_status.claim_id

)

select * from final
