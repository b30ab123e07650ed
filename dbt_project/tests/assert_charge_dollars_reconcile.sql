-- Nothing is lost or double counted on the way from the EMR's charges to the claims:
--   sum(stg_emr__charges)       = sum(fct_charges)
--   sum(fct_charges on a claim) = sum(fct_claim_lines) = sum(fct_claims.total_charge_amount)
--   charges on no claim         = charges whose encounter is missing (none in a clean extract)
-- Row counts are compared the same way. Returns one row per broken identity.
with

staged as (

    select
        count(*) as row_count,
        coalesce(sum(charge_amount), 0) as amount
    from {{ ref('stg_emr__charges') }}

),

charges as (

    select
        count(*) as row_count,
        coalesce(sum(charge_amount), 0) as amount,
        count(claim_id) as row_count_on_claims,
        coalesce(sum(charge_amount) filter (where claim_id is not null), 0) as amount_on_claims,
        coalesce(sum(charge_amount) filter (where not has_encounter), 0) as amount_without_encounter
    from {{ ref('fct_charges') }}

),

claim_lines as (

    select
        count(*) as row_count,
        coalesce(sum(charge_amount), 0) as amount
    from {{ ref('fct_claim_lines') }}

),

claims as (

    select
        coalesce(sum(line_count), 0) as row_count,
        coalesce(sum(total_charge_amount), 0) as amount
    from {{ ref('fct_claims') }}

),

identities as (

    select
        'stg_emr__charges = fct_charges' as identity_name,
        staged.amount as left_amount,
        charges.amount as right_amount,
        staged.row_count as left_rows,
        charges.row_count as right_rows
    from staged cross join charges

    union all

    select
        'fct_charges on a claim = fct_claim_lines' as identity_name,
        charges.amount_on_claims as left_amount,
        claim_lines.amount as right_amount,
        charges.row_count_on_claims as left_rows,
        claim_lines.row_count as right_rows
    from charges cross join claim_lines

    union all

    select
        'fct_claim_lines = fct_claims' as identity_name,
        claim_lines.amount as left_amount,
        claims.amount as right_amount,
        claim_lines.row_count as left_rows,
        claims.row_count as right_rows
    from claim_lines cross join claims

    union all

    select
        'fct_charges on no claim = charges without encounter' as identity_name,
        charges.amount - charges.amount_on_claims as left_amount,
        charges.amount_without_encounter as right_amount,
        0 as left_rows,
        0 as right_rows
    from charges

)

select *
from identities
where
    left_amount != right_amount
    or left_rows != right_rows
