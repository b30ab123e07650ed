-- One row per PLB reason/amount pair (provider_adjustment_id), typed and trimmed. amount keeps
-- the 835 sign: positive reduces the payment (a takeback), negative adds to it (interest L6).
-- reference_id_normalised is PLB03-2 upper-cased and trimmed, the key reconciliation resolves
-- to a claim.
with

source as (

    select * from {{ source('x12', 'x12_remit_provider_adjustments') }}
    {{ raw_loaded_since_last_build() }}

),

renamed as (

    select
        {{ clean_text('provider_adjustment_id') }} as provider_adjustment_id,
        {{ clean_text('payment_id') }} as payment_id,
        {{ clean_code('provider_id') }} as provider_id,
        cast(fiscal_period_date as date) as fiscal_period_date,
        {{ clean_code('reason_code') }} as reason_code,
        {{ clean_text('reference_id') }} as reference_id,
        {{ clean_code('reference_id') }} as reference_id_normalised,
        cast(amount as decimal(18, 2)) as amount,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    {{ not_already_staged(['provider_adjustment_id'], 'renamed') }}
    qualify row_number() over (partition by provider_adjustment_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
