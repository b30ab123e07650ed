-- One row per provider (dim_providers) with its free text as an 837 carries it (macro
-- x12_clean_text), cleaned once per provider rather than once per claim (see
-- int_patients_x12_text). The two name columns are the ones the 837 loops print: an
-- organisation's name else a person's last name (billing provider, facility), and the
-- reverse (rendering provider); each is cleaned after the coalesce, as the loops need.
with

providers as (

    select * from {{ ref('dim_providers') }}

),

final as (

    select
        providers.provider_id,
        providers.role,
        providers.entity_type,
        providers.npi,
        providers.is_npi_luhn_valid,
        {{ x12_clean_text('providers.organization_name') }} as organization_name,
        {{ x12_clean_text('providers.last_name') }} as last_name,
        {{ x12_clean_text('providers.first_name') }} as first_name,
        providers.taxonomy_code,
        providers.tin,
        {{ x12_clean_text('providers.address_line1') }} as address_line1,
        {{ x12_clean_text('providers.city') }} as city,
        {{ x12_clean_text('providers.state') }} as state,
        providers.zip,
        {{ x12_clean_text('coalesce(providers.organization_name, providers.last_name)') }}
            as organization_or_last_name,
        {{ x12_clean_text('coalesce(providers.last_name, providers.organization_name)') }}
            as last_or_organization_name

    from providers

)

select * from final
