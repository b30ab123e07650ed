-- Every claim of fct_claims has exactly one scrub status and no status is for an unknown
-- claim, so claims and dollars by status (ready + held + self_pay) add up to fct_claims.
-- Returns one row per broken identity.
with

claims as (

    select
        count(*) as claim_count,
        coalesce(sum(total_charge_amount), 0) as amount
    from {{ ref('fct_claims') }}

),

statuses as (

    select
        count(*) as claim_count,
        count(distinct scrub_status.claim_id) as distinct_claim_count,
        coalesce(sum(scrub_status.total_charge_amount), 0) as amount,
        count(*) filter (where fct_claims.claim_id is null) as unknown_claim_count
    from {{ ref('fct_claim_scrub_status') }} as scrub_status
    left join {{ ref('fct_claims') }} as fct_claims
        on scrub_status.claim_id = fct_claims.claim_id

),

by_status as (

    select
        sum(claim_count) as claim_count,
        sum(amount) as amount
    from (
        select
            count(*) as claim_count,
            coalesce(sum(total_charge_amount), 0) as amount
        from {{ ref('fct_claim_scrub_status') }}
        where scrub_status in ('ready', 'held', 'self_pay')
        group by scrub_status
    ) as per_status

),

final as (

    select
        claims.claim_count as claims_in_fct_claims,
        statuses.claim_count as status_rows,
        statuses.distinct_claim_count as distinct_status_claims,
        statuses.unknown_claim_count as status_rows_without_claim,
        by_status.claim_count as claims_by_status,
        claims.amount as fct_claims_amount,
        by_status.amount as amount_by_status
    from claims
    cross join statuses
    cross join by_status

)

select *
from final
where
    claims_in_fct_claims != status_rows
    or status_rows != distinct_status_claims
    or status_rows_without_claim != 0
    or claims_in_fct_claims != coalesce(claims_by_status, 0)
    or fct_claims_amount != coalesce(amount_by_status, 0)
