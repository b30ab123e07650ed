with

source as (

    select * from {{ source('emr', 'providers') }}

),

renamed as (

    select
        {{ clean_text('provider_id') }} as provider_id,
        lower({{ clean_text('role') }}) as role,
        {{ clean_text('entity_type') }} as entity_type,
        {{ clean_text('npi') }} as npi,
        {{ clean_text('organization_name') }} as organization_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_code('taxonomy_code') }} as taxonomy_code,
        {{ clean_text('tin') }} as tin,
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
    {{ keep_latest_delivery(['provider_id']) }}

),

final as (

    select * from latest

)

select * from final
