with

source as (

    select * from {{ source('emr', 'patients') }}

),

renamed as (

    select
        {{ clean_text('patient_id') }} as patient_id,
        {{ clean_text('mrn') }} as mrn,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_code('middle_initial') }} as middle_initial,
        {{ clean_code('sex') }} as sex,
        cast(birth_date as date) as birth_date,
        {{ clean_text('address_line1') }} as address_line1,
        {{ clean_text('address_line2') }} as address_line2,
        {{ clean_text('city') }} as city,
        {{ clean_code('state') }} as state,
        {{ clean_text('zip') }} as zip,
        {{ clean_text('phone') }} as phone,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    select * from renamed
    {{ keep_latest_delivery(['patient_id']) }}

),

final as (

    select * from latest

)

select * from final
