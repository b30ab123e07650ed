-- claims_ready_to_bill holds exactly the claims whose scrub status is ready and that were not
-- sent as an original (ops.submissions, claim_frequency_code 1): none missing, none extra.
-- Returns the claims on the wrong side.
with

submitted_originals as (

    select claim_id
    from {{ ref('stg_ops__submissions') }}
    where claim_frequency_code = '1' and claim_id is not null

),

expected as (

    select scrub_status.claim_id
    from {{ ref('fct_claim_scrub_status') }} as scrub_status
    left join submitted_originals
        on scrub_status.claim_id = submitted_originals.claim_id
    where
        scrub_status.scrub_status = 'ready'
        and submitted_originals.claim_id is null

),

offered as (

    select claim_id
    from {{ ref('claims_ready_to_bill') }}

),

final as (

    select
        coalesce(expected.claim_id, offered.claim_id) as claim_id,
        expected.claim_id is not null as should_be_offered,
        offered.claim_id is not null as is_offered
    from expected
    full outer join offered
        on expected.claim_id = offered.claim_id
    where expected.claim_id is null or offered.claim_id is null

)

select * from final
