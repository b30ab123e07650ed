with

source as (

    select * from {{ source('emr', 'encounters') }}

),

renamed as (

    select
        {{ clean_text('encounter_id') }} as encounter_id,
        {{ clean_text('patient_id') }} as patient_id,
        cast(service_date as date) as service_date,
        lower({{ clean_text('visit_type') }}) as visit_type,
        lower({{ clean_text('claim_type') }}) as claim_type,
        {{ clean_code('place_of_service') }} as place_of_service,
        {{ clean_code('type_of_bill') }} as type_of_bill,
        {{ clean_text('billing_provider_id') }} as billing_provider_id,
        {{ clean_text('rendering_provider_id') }} as rendering_provider_id,
        {{ clean_text('facility_provider_id') }} as facility_provider_id,
        {{ clean_text('primary_coverage_id') }} as primary_coverage_id,
        {{ clean_text('secondary_coverage_id') }} as secondary_coverage_id,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    select * from renamed
    {{ keep_latest_delivery(['encounter_id']) }}

),

final as (

    select * from latest

)

select * from final
