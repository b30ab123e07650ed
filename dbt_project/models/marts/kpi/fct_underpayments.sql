-- Underpaid claim lines: one row per claim line (claim_line_id) the claim's payer processed
-- without a denial and allowed less than its contract by more than the tolerance.
--   expected allowed = charge x dim_payers.allowed_percent_of_charge / 100, rounded half-up
--                      to the cent (as the payers' fee schedules do), at most the charge;
--   actual allowed   = paid + patient responsibility on the line: the line's ledger entries
--                      from the claim's payer (payer_id = fct_claims.payer_id) with
--                      balance_component payment / patient_responsibility, net of reversals;
--   processed        = the line has remittance entries (payment_id set) of that payer that do
--                      not net to 0 (a payment reversed and not yet corrected is not judged);
--   not denied       = its is_denial entries net to 0;
--   underpaid        = expected allowed - actual allowed > tolerance (var
--                      underpayment_tolerance_amount, default 1.00; macros/kpi.sql).
-- Claim-level money (CLP04 not carried by lines, claim CAS, PLB) is not on any line, so a
-- claim paid only at claim level has no processed lines here. Secondary payers' processing is
-- not judged against a fee schedule (coordination of benefits decides what they owe).
-- Definitions: _kpi__docs.md (kpi_underpayments).
with

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

payers as (

    select * from {{ ref('dim_payers') }}

),

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

line_remittances as (

    select
        ledger.claim_line_id,
        coalesce(-sum(ledger.amount) filter (where ledger.balance_component = 'payment'), 0) as paid_amount,
        coalesce(-sum(ledger.amount) filter (where ledger.balance_component = 'patient_responsibility'), 0)
            as patient_responsibility_amount,
        coalesce(-sum(ledger.amount) filter (where ledger.balance_component = 'contractual_adjustment'), 0)
            as contractual_adjustment_amount,
        coalesce(-sum(ledger.amount) filter (where ledger.balance_component = 'other_adjustment'), 0)
            as other_adjustment_amount,
        coalesce(sum(ledger.amount) filter (where ledger.is_denial), 0) as denial_amount,
        sum(ledger.amount) as remittance_amount,
        max(ledger.event_date) as last_remit_date
    from ledger
    inner join claims
        on ledger.claim_id = claims.claim_id
    where
        ledger.claim_line_id is not null
        and ledger.payment_id is not null
        and ledger.payer_id = claims.payer_id
        and ledger.balance_component not in ('none', 'charge')
    group by ledger.claim_line_id

),

judged as (

    select
        lines.claim_line_id,
        lines.claim_id,
        lines.line_number,
        claims.patient_id,
        claims.payer_id,
        claims.billing_provider_id,
        claims.rendering_provider_id,
        lines.service_date,
        lines.procedure_code,
        lines.modifier_1,
        lines.units,
        lines.charge_amount,
        payers.allowed_percent_of_charge,
        least(
            round(lines.charge_amount * payers.allowed_percent_of_charge * cast(0.01 as decimal(3, 2)), 2),
            lines.charge_amount
        ) as expected_allowed_amount,
        line_remittances.paid_amount,
        line_remittances.patient_responsibility_amount,
        line_remittances.paid_amount + line_remittances.patient_responsibility_amount as actual_allowed_amount,
        line_remittances.contractual_adjustment_amount,
        line_remittances.other_adjustment_amount,
        line_remittances.last_remit_date,
        {{ underpayment_tolerance_amount() }} as tolerance_amount
    from lines
    inner join claims
        on lines.claim_id = claims.claim_id
    inner join payers
        on claims.payer_id = payers.payer_id
    inner join line_remittances
        on lines.claim_line_id = line_remittances.claim_line_id
    where
        line_remittances.remittance_amount != 0
        and line_remittances.denial_amount = 0

),

final as (

    select
        cast(claim_line_id as {{ dbt.type_string() }}) as claim_line_id,
        cast(claim_id as {{ dbt.type_string() }}) as claim_id,
        cast(line_number as integer) as line_number,
        cast(patient_id as {{ dbt.type_string() }}) as patient_id,
        cast(payer_id as {{ dbt.type_string() }}) as payer_id,
        cast(billing_provider_id as {{ dbt.type_string() }}) as billing_provider_id,
        cast(rendering_provider_id as {{ dbt.type_string() }}) as rendering_provider_id,
        cast(service_date as date) as service_date,
        cast(procedure_code as {{ dbt.type_string() }}) as procedure_code,
        cast(modifier_1 as {{ dbt.type_string() }}) as modifier_1,
        cast(units as integer) as units,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(allowed_percent_of_charge as decimal(18, 2)) as allowed_percent_of_charge,
        cast(expected_allowed_amount as decimal(18, 2)) as expected_allowed_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(patient_responsibility_amount as decimal(18, 2)) as patient_responsibility_amount,
        cast(actual_allowed_amount as decimal(18, 2)) as actual_allowed_amount,
        cast(expected_allowed_amount - actual_allowed_amount as decimal(18, 2)) as underpayment_amount,
        cast(contractual_adjustment_amount as decimal(18, 2)) as contractual_adjustment_amount,
        cast(other_adjustment_amount as decimal(18, 2)) as other_adjustment_amount,
        cast(tolerance_amount as decimal(18, 2)) as tolerance_amount,
        cast(last_remit_date as date) as last_remit_date

    from judged
    where expected_allowed_amount - actual_allowed_amount > tolerance_amount

)

select * from final
