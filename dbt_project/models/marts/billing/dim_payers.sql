with

payers as (

    select * from {{ ref('stg_emr__payers') }}

),

final as (

    select
        payer_id,
        payer_name,
        payer_type,
        claim_filing_indicator,
        timely_filing_days,
        fee_schedule_id,
        allowed_percent_of_charge,
        address_line1,
        city,
        state,
        zip,
        payer_type = 'self_pay' as is_self_pay

    from payers

)

select * from final
