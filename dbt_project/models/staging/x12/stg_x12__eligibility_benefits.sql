-- One row per EB segment of an answered eligibility inquiry (benefit_id), typed and trimmed.
{{ config(pre_hook="{{ ensure_x12_raw_table('x12_eligibility_benefits') }}") }}

with

source as (

    select * from {{ source('x12', 'x12_eligibility_benefits') }}

),

renamed as (

    select
        {{ clean_text('benefit_id') }} as benefit_id,
        {{ clean_text('response_id') }} as response_id,
        {{ clean_code('benefit_code') }} as benefit_code,
        {{ clean_code('coverage_level_code') }} as coverage_level_code,
        {{ clean_code('service_type_codes') }} as service_type_codes,
        {{ clean_code('insurance_type_code') }} as insurance_type_code,
        {{ clean_text('plan_coverage_description') }} as plan_coverage_description,
        {{ clean_code('time_period_qualifier') }} as time_period_qualifier,
        cast(benefit_amount as decimal(18, 2)) as benefit_amount,
        cast(benefit_percent as decimal(18, 4)) as benefit_percent,
        {{ clean_code('quantity_qualifier') }} as quantity_qualifier,
        cast(benefit_quantity as decimal(18, 4)) as benefit_quantity,
        {{ clean_code('authorization_required') }} as authorization_required,
        {{ clean_code('in_plan_network') }} as in_plan_network,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    qualify row_number() over (partition by benefit_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
