with

source as (

    select * from {{ source('emr', 'payers') }}

),

renamed as (

    select
        {{ clean_code('payer_id') }} as payer_id,
        {{ clean_text('payer_name') }} as payer_name,
        lower({{ clean_text('payer_type') }}) as payer_type,
        {{ clean_code('claim_filing_indicator') }} as claim_filing_indicator,
        cast(timely_filing_days as integer) as timely_filing_days,
        {{ clean_text('fee_schedule_id') }} as fee_schedule_id,
        cast(allowed_percent_of_charge as decimal(18, 2)) as allowed_percent_of_charge,
        {{ clean_text('address_line1') }} as address_line1,
        {{ clean_text('city') }} as city,
        {{ clean_code('state') }} as state,
        {{ clean_text('zip') }} as zip,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    select * from renamed
    {{ keep_latest_delivery(['payer_id']) }}

),

final as (

    select * from latest

)

select * from final
