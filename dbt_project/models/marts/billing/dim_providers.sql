with

providers as (

    select * from {{ ref('stg_emr__providers') }}

),

final as (

    select
        provider_id,
        role,
        entity_type,
        npi,
        {{ npi_luhn_valid('npi') }} as is_npi_luhn_valid,
        organization_name,
        last_name,
        first_name,
        taxonomy_code,
        tin,
        address_line1,
        city,
        state,
        zip

    from providers

)

select * from final
