with

source as (

    select * from {{ source('emr', 'charges') }}

),

renamed as (

    select
        {{ clean_text('charge_id') }} as charge_id,
        {{ clean_text('encounter_id') }} as encounter_id,
        cast(line_number as integer) as line_number,
        cast(service_date as date) as service_date,
        {{ clean_code('procedure_code') }} as procedure_code,
        {{ clean_code('modifier_1') }} as modifier_1,
        {{ clean_code('modifier_2') }} as modifier_2,
        {{ clean_code('modifier_3') }} as modifier_3,
        {{ clean_code('modifier_4') }} as modifier_4,
        cast(units as integer) as units,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        {{ clean_code('revenue_code') }} as revenue_code,
        cast(diagnosis_pointer_1 as integer) as diagnosis_pointer_1,
        cast(diagnosis_pointer_2 as integer) as diagnosis_pointer_2,
        cast(diagnosis_pointer_3 as integer) as diagnosis_pointer_3,
        cast(diagnosis_pointer_4 as integer) as diagnosis_pointer_4,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

-- By charge_id only: lines identical in content under different ids are kept (a duplicate
-- charge is a defect the scrubber reports, not something staging hides).
latest as (

    select * from renamed
    {{ keep_latest_delivery(['charge_id']) }}

),

final as (

    select * from latest

)

select * from final
