with

source as (

    select * from {{ source('emr', 'coverages') }}

),

renamed as (

    select
        {{ clean_text('coverage_id') }} as coverage_id,
        {{ clean_text('patient_id') }} as patient_id,
        {{ clean_code('payer_id') }} as payer_id,
        {{ clean_text('plan_name') }} as plan_name,
        {{ clean_text('member_id') }} as member_id,
        {{ clean_text('group_number') }} as group_number,
        {{ clean_text('subscriber_id') }} as subscriber_id,
        {{ clean_code('relationship_to_subscriber') }} as relationship_to_subscriber,
        cast(effective_date as date) as effective_date,
        cast(end_date as date) as end_date,
        cast(coverage_order as integer) as coverage_order,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    select * from renamed
    {{ keep_latest_delivery(['coverage_id']) }}

),

final as (

    select * from latest

)

select * from final
