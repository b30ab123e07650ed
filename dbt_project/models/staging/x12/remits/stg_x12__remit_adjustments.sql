-- One row per CAS reason/amount triplet (adjustment_id), claim or line level, typed and
-- trimmed. amount keeps the 835 sign: positive reduces the payment (a reversal carries the
-- original reason codes with negated amounts). CARCs stay text.
with

source as (

    select * from {{ source('x12', 'x12_remit_adjustments') }}
    {{ raw_loaded_since_last_build() }}

),

renamed as (

    select
        {{ clean_text('adjustment_id') }} as adjustment_id,
        {{ clean_text('claim_payment_id') }} as claim_payment_id,
        {{ clean_text('service_line_id') }} as service_line_id,
        lower(trim(level)) as adjustment_level,
        {{ clean_code('group_code') }} as group_code,
        {{ clean_code('reason_code') }} as reason_code,
        cast(amount as decimal(18, 2)) as amount,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    {{ not_already_staged(['adjustment_id'], 'renamed') }}
    qualify row_number() over (partition by adjustment_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
