-- Provider edits, one row per edit raised on a claim (claim level: claim_line_id is null).
-- The billing provider (2010AA) needs a valid NPI, a 9-digit ZIP+4 and a 9-digit tax id; the
-- rendering provider (2310B) a valid NPI; a facility, when the claim names one, a valid NPI.
-- "Valid NPI" is dim_providers.is_npi_luhn_valid (macro npi_luhn_valid).
with

claims as (

    select * from {{ ref('fct_claims') }}

),

providers as (

    select * from {{ ref('dim_providers') }}

),

claim_providers as (

    select
        claims.claim_id,
        claims.billing_provider_id,
        claims.rendering_provider_id,
        claims.facility_provider_id,
        billing.npi as billing_npi,
        billing.is_npi_luhn_valid as is_billing_npi_valid,
        billing.zip as billing_zip,
        billing.tin as billing_tin,
        rendering.npi as rendering_npi,
        rendering.is_npi_luhn_valid as is_rendering_npi_valid,
        facility.npi as facility_npi,
        facility.is_npi_luhn_valid as is_facility_npi_valid,
        billing.provider_id is not null as has_billing_provider,
        rendering.provider_id is not null as has_rendering_provider,
        facility.provider_id is not null as has_facility_provider

    from claims
    left join providers as billing
        on claims.billing_provider_id = billing.provider_id
    left join providers as rendering
        on claims.rendering_provider_id = rendering.provider_id
    left join providers as facility
        on claims.facility_provider_id = facility.provider_id

),

billing_edits as (

    select
        claim_id,
        'BILLING_PROVIDER_UNKNOWN' as edit_id,
        'billing_provider' as edit_subject,
        {{ revcycle.format_text(
            'billing provider {} is not in the provider list',
            "coalesce(billing_provider_id, '(none)')"
        ) }} as detail
    from claim_providers
    where not has_billing_provider

    union all

    select
        claim_id,
        'NPI_BILLING_MISSING' as edit_id,
        'billing_provider' as edit_subject,
        {{ revcycle.format_text('billing provider {} has no NPI', 'billing_provider_id') }} as detail
    from claim_providers
    where has_billing_provider and billing_npi is null

    union all

    select
        claim_id,
        'NPI_BILLING_INVALID' as edit_id,
        'billing_provider' as edit_subject,
        {{ revcycle.format_text(
            'billing provider {} NPI {} is not 10 digits with a valid check digit',
            'billing_provider_id',
            'billing_npi'
        ) }} as detail
    from claim_providers
    where has_billing_provider and billing_npi is not null and not is_billing_npi_valid

    union all

    select
        claim_id,
        'BILLING_ZIP_INVALID' as edit_id,
        'billing_provider' as edit_subject,
        {{ revcycle.format_text(
            "billing provider {} ZIP '{}' is not 9 digits (ZIP+4)",
            'billing_provider_id',
            "coalesce(billing_zip, '')"
        ) }} as detail
    from claim_providers
    where has_billing_provider and not coalesce({{ revcycle.full_match('billing_zip', '[0-9]{9}') }}, false)

    union all

    select
        claim_id,
        'BILLING_TIN_INVALID' as edit_id,
        'billing_provider' as edit_subject,
        case
            when billing_tin is null
                then {{ revcycle.format_text('billing provider {} has no tax id (EIN)', 'billing_provider_id') }}
            else {{ revcycle.format_text(
                "billing provider {} tax id '{}' is not 9 digits",
                'billing_provider_id',
                'billing_tin'
            ) }}
        end as detail
    from claim_providers
    where has_billing_provider and not coalesce({{ revcycle.full_match('billing_tin', '[0-9]{9}') }}, false)

),

rendering_edits as (

    select
        claim_id,
        'RENDERING_PROVIDER_UNKNOWN' as edit_id,
        'rendering_provider' as edit_subject,
        {{ revcycle.format_text(
            'rendering provider {} is not in the provider list',
            "coalesce(rendering_provider_id, '(none)')"
        ) }} as detail
    from claim_providers
    where not has_rendering_provider

    union all

    select
        claim_id,
        'NPI_RENDERING_MISSING' as edit_id,
        'rendering_provider' as edit_subject,
        {{ revcycle.format_text('rendering provider {} has no NPI', 'rendering_provider_id') }} as detail
    from claim_providers
    where has_rendering_provider and rendering_npi is null

    union all

    select
        claim_id,
        'NPI_RENDERING_INVALID' as edit_id,
        'rendering_provider' as edit_subject,
        {{ revcycle.format_text(
            'rendering provider {} NPI {} is not 10 digits with a valid check digit',
            'rendering_provider_id',
            'rendering_npi'
        ) }} as detail
    from claim_providers
    where has_rendering_provider and rendering_npi is not null and not is_rendering_npi_valid

),

facility_edits as (

    select
        claim_id,
        'NPI_FACILITY_INVALID' as edit_id,
        'facility_provider' as edit_subject,
        case
            when not has_facility_provider
                then {{ revcycle.format_text('facility {} is not in the provider list', 'facility_provider_id') }}
            when facility_npi is null
                then {{ revcycle.format_text('facility {} has no NPI', 'facility_provider_id') }}
            else {{ revcycle.format_text(
                'facility {} NPI {} is not 10 digits with a valid check digit',
                'facility_provider_id',
                'facility_npi'
            ) }}
        end as detail
    from claim_providers
    where
        facility_provider_id is not null
        and not coalesce(is_facility_npi_valid, false)

),

edits as (

    select * from billing_edits
    union all
    select * from rendering_edits
    union all
    select * from facility_edits

),

final as (

    select
        claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        cast(null as integer) as line_number,
        edit_id,
        edit_subject,
        detail

    from edits

)

select * from final
