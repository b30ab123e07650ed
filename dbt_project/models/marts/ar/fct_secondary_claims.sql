-- One row per claim with a secondary payer to bill (claim_id; fct_claims.secondary_claim_id
-- set) once the primary payer has answered: where its secondary (COB) claim stands and the
-- primary's adjudication the 837 sends along (2320/2430), from the primary payer's posted
-- 835 entries in fct_ar_ledger (reversals and corrections net out).
--   secondary_status:
--     submitted        the secondary claim has been sent (ops.submissions);
--     nothing_to_bill  the primary left no patient share, or denied the claim outright
--                      (paid nothing with a denial CARC: worked with the primary first);
--     ready            the primary's share is known and its figures balance: the next run
--                      bills it (secondary_claims_ready_to_bill);
--     held             the primary's answer cannot be passed on as it stands (hold_reason):
--                      primary_balance_open (the primary still owes, e.g. a pended or split
--                      answer), primary_paid_at_claim_level (a claim-level payment or PLB
--                      takeback has no line to put in 2430), primary_lines_do_not_balance
--                      (a line's charge != what the primary paid + adjusted on it).
-- Claims whose primary has not answered yet have no row.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

claim_lines as (

    select * from {{ ref('fct_claim_lines') }}

),

balances as (

    select * from {{ ref('fct_claim_balances') }}

),

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

primary_remit_entries as (

    select ledger.*
    from ledger
    inner join claims
        on ledger.claim_id = claims.claim_id
    where
        claims.secondary_claim_id is not null
        and ledger.payment_id is not null
        and ledger.payer_id = claims.payer_id

),

primary_answers as (

    select
        claim_id,
        max(event_date) as adjudication_date,
        max(payer_claim_control_number) as payer_claim_control_number,
        -sum(amount) filter (where balance_component = 'payment') as paid_amount,
        -sum(amount) filter (where balance_component = 'patient_responsibility') as patient_share_amount,
        coalesce(
            sum(amount) filter (where balance_component = 'payment' and claim_line_id is null), 0
        ) != 0 as has_claim_level_payment,
        bool_or(is_denial and amount != 0) as has_denial
    from primary_remit_entries
    group by claim_id

),

line_figures as (

    select
        claim_lines.claim_id,
        claim_lines.claim_line_id,
        claim_lines.charge_amount,
        coalesce(-sum(entries.amount) filter (where entries.balance_component = 'payment'), 0) as paid_amount,
        coalesce(-sum(entries.amount) filter (where entries.group_code is not null), 0) as adjusted_amount
    from claim_lines
    inner join primary_answers
        on claim_lines.claim_id = primary_answers.claim_id
    left join primary_remit_entries as entries
        on claim_lines.claim_line_id = entries.claim_line_id
    group by claim_lines.claim_id, claim_lines.claim_line_id, claim_lines.charge_amount

),

unbalanced_lines as (

    select
        claim_id,
        count(*) as unbalanced_line_count
    from line_figures
    where charge_amount != paid_amount + adjusted_amount
    group by claim_id

),

secondary_submissions as (

    select
        claim_id,
        min(submitted_at) as submitted_at
    from submissions
    where claim_line_id is null
    group by claim_id

),

judged as (

    select
        claims.claim_id,
        claims.secondary_claim_id,
        claims.payer_id as primary_payer_id,
        claims.secondary_payer_id,
        claims.secondary_coverage_id,
        claims.total_charge_amount,
        primary_answers.paid_amount,
        primary_answers.patient_share_amount,
        primary_answers.payer_claim_control_number,
        primary_answers.adjudication_date,
        secondary_submissions.submitted_at,
        secondary_submissions.claim_id is not null as is_submitted,
        (
            (primary_answers.has_denial and coalesce(primary_answers.paid_amount, 0) = 0)
            or coalesce(primary_answers.patient_share_amount, 0) <= 0
        ) as is_nothing_to_bill,
        case
            when balances.open_balance_amount != 0 then 'primary_balance_open'
            when primary_answers.has_claim_level_payment then 'primary_paid_at_claim_level'
            when unbalanced_lines.claim_id is not null then 'primary_lines_do_not_balance'
        end as problem

    from claims
    inner join primary_answers
        on claims.claim_id = primary_answers.claim_id
    inner join balances
        on claims.claim_id = balances.claim_id
    left join unbalanced_lines
        on claims.claim_id = unbalanced_lines.claim_id
    left join secondary_submissions
        on claims.secondary_claim_id = secondary_submissions.claim_id

),

final as (

    select
        claim_id,
        secondary_claim_id,
        primary_payer_id,
        secondary_payer_id,
        secondary_coverage_id,
        total_charge_amount,
        cast(coalesce(paid_amount, 0) as decimal(18, 2)) as primary_paid_amount,
        cast(coalesce(patient_share_amount, 0) as decimal(18, 2)) as primary_patient_share_amount,
        payer_claim_control_number as primary_payer_claim_control_number,
        adjudication_date as primary_adjudication_date,
        cast(submitted_at as date) as submitted_date,
        cast(
            case
                when is_submitted then 'submitted'
                when is_nothing_to_bill then 'nothing_to_bill'
                when problem is not null then 'held'
                else 'ready'
            end as {{ dbt.type_string() }}
        ) as secondary_status,
        cast(
            case when not is_submitted and not is_nothing_to_bill then problem end as {{ dbt.type_string() }}
        ) as hold_reason

    from judged

)

select * from final
