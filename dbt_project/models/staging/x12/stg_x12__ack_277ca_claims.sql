-- One row per 277CA claim status (ack_id), typed and trimmed. Like CLP01,
-- patient_control_number_normalised (upper-cased, trimmed) is the key matched to our claim_id.
{{ config(pre_hook="{{ ensure_x12_raw_table('x12_ack_277ca_claims') }}") }}

with

source as (

    select * from {{ source('x12', 'x12_ack_277ca_claims') }}

),

renamed as (

    select
        {{ clean_text('ack_id') }} as ack_id,
        {{ clean_text('file_name') }} as file_name,
        {{ clean_code('file_sha256') }} as file_sha256,
        {{ clean_text('patient_control_number') }} as patient_control_number,
        {{ clean_code('patient_control_number') }} as patient_control_number_normalised,
        {{ clean_code('payer_claim_control_number') }} as payer_claim_control_number,
        {{ clean_code('status_category') }} as status_category,
        {{ clean_code('status_code') }} as status_code,
        cast(status_effective_date as date) as status_effective_date,
        cast(is_accepted as boolean) as is_accepted,
        cast(total_charge_amount as decimal(18, 2)) as total_charge_amount,
        cast(service_date as date) as service_date,
        {{ clean_code('status_codes') }} as status_codes,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    qualify row_number() over (partition by ack_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
