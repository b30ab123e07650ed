-- One row per claim of fct_claims (claim_id): the facts the revenue-cycle KPIs are counted
-- from, so every figure of fct_kpis can be traced to its claims. Everything comes from the
-- ledger (fct_ar_ledger) by balance_component, payer_id, payment_id and is_denial, never by
-- event type, so new kinds of entries (transfers to a secondary payer, prior-payer
-- adjustments) fall in place:
--   remittance entries of the claim's payer: payment_id set, payer_id = fct_claims.payer_id
--     (the primary), balance_component not 'none' or 'charge' (payments, adjustments,
--     transfers to the patient; reversals and takebacks included);
--   first adjudication: the earliest event_date of those entries;
--   initial denial: the net of the is_denial entries among them on that day is a reduction;
--   first-pass resolved: no initial denial and that day's entries account for the whole
--     posted charge (payments + adjustments + patient responsibility = charge).
-- Definitions: _kpi__docs.md (kpi_definitions).
with

claims as (

    select * from {{ ref('fct_claims') }}

),

scrub_status as (

    select * from {{ ref('fct_claim_scrub_status') }}

),

balances as (

    select * from {{ ref('fct_claim_balances') }}

),

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

claim_entries as (

    select
        ledger.claim_id,
        ledger.event_date,
        ledger.balance_component,
        ledger.amount,
        ledger.is_denial,
        coalesce(
            ledger.payment_id is not null
            and ledger.payer_id = claims.payer_id
            and ledger.balance_component not in ('none', 'charge'),
            false
        ) as is_claim_payer_remittance
    from ledger
    inner join claims
        on ledger.claim_id = claims.claim_id

),

ledger_totals as (

    select
        claim_id,
        sum(amount) filter (where balance_component = 'charge') as charge_amount,
        -sum(amount) filter (where balance_component = 'payment') as payment_amount,
        -sum(amount) filter (where balance_component = 'contractual_adjustment' and not is_denial)
            as contractual_adjustment_amount,
        -sum(amount) filter (where is_denial) as denial_adjustment_amount,
        min(event_date) filter (where balance_component = 'payment' and amount < 0) as first_payment_date,
        min(event_date) filter (where is_claim_payer_remittance) as first_adjudication_date
    from claim_entries
    group by claim_id

),

first_adjudication as (

    select
        claim_entries.claim_id,
        -sum(claim_entries.amount) as first_adjudication_amount,
        -sum(claim_entries.amount) filter (where claim_entries.is_denial) as initial_denial_amount
    from claim_entries
    inner join ledger_totals
        on
            claim_entries.claim_id = ledger_totals.claim_id
            and claim_entries.event_date = ledger_totals.first_adjudication_date
    where claim_entries.is_claim_payer_remittance
    group by claim_entries.claim_id

),

facts as (

    select
        claims.claim_id,
        claims.patient_id,
        claims.payer_id,
        claims.billing_provider_id,
        claims.rendering_provider_id,
        claims.is_self_pay,
        claims.service_date,
        scrub_status.scrub_status,
        balances.billed_date,
        ledger_totals.first_adjudication_date,
        ledger_totals.first_payment_date,
        case when not claims.is_self_pay then scrub_status.scrub_status = 'ready' end as is_clean_claim,
        case
            when not claims.is_self_pay then {{ revcycle.days_between('claims.service_date', 'balances.billed_date') }}
        end as days_to_submission,
        coalesce(ledger_totals.charge_amount, 0) as charge_amount,
        coalesce(ledger_totals.payment_amount, 0) as payment_amount,
        coalesce(ledger_totals.contractual_adjustment_amount, 0) as contractual_adjustment_amount,
        coalesce(ledger_totals.denial_adjustment_amount, 0) as denial_adjustment_amount,
        ledger_totals.first_adjudication_date is not null and not claims.is_self_pay as is_adjudicated,
        coalesce(first_adjudication.first_adjudication_amount, 0) as first_adjudication_amount,
        coalesce(first_adjudication.initial_denial_amount, 0) as initial_denial_amount,
        case
            when not claims.is_self_pay
                then {{ revcycle.days_between('claims.service_date', 'ledger_totals.first_payment_date') }}
        end as days_to_payment
    from claims
    left join scrub_status
        on claims.claim_id = scrub_status.claim_id
    left join balances
        on claims.claim_id = balances.claim_id
    left join ledger_totals
        on claims.claim_id = ledger_totals.claim_id
    left join first_adjudication
        on claims.claim_id = first_adjudication.claim_id

),

final as (

    select
        cast(claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(patient_id as {{ dbt.type_string() }}) as patient_id,
        cast(payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(billing_provider_id as {{ dbt.type_string() }}) as billing_provider_id,
        cast(rendering_provider_id as {{ dbt.type_string() }}) as rendering_provider_id,
        cast(is_self_pay as boolean) as is_self_pay,
        cast(service_date as date) as service_date,
        cast(scrub_status as {{ dbt.type_string() }}) as scrub_status,
        cast(is_clean_claim as boolean) as is_clean_claim,
        cast(billed_date as date) as billed_date,
        cast(days_to_submission as integer) as days_to_submission,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(payment_amount as decimal(18, 2)) as payment_amount,
        cast(contractual_adjustment_amount as decimal(18, 2)) as contractual_adjustment_amount,
        cast(denial_adjustment_amount as decimal(18, 2)) as denial_adjustment_amount,
        cast(first_adjudication_date as date) as first_adjudication_date,
        cast(is_adjudicated as boolean) as is_adjudicated,
        cast(first_adjudication_amount as decimal(18, 2)) as first_adjudication_amount,
        cast(initial_denial_amount as decimal(18, 2)) as initial_denial_amount,
        cast(is_adjudicated and initial_denial_amount > 0 as boolean) as is_initial_denial,
        cast(
            is_adjudicated
            and initial_denial_amount <= 0
            and charge_amount != 0
            and first_adjudication_amount = charge_amount
            as boolean
        ) as is_first_pass_resolved,
        cast(first_payment_date as date) as first_payment_date,
        cast(days_to_payment as integer) as days_to_payment

    from facts

)

select * from final
