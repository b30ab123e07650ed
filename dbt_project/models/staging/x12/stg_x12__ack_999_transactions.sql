-- One row per 999 acknowledgement of a transaction set (AK2), or of a functional group (AK1)
-- when the 999 has no AK2 (ack_id), typed and trimmed. The control numbers stay as received;
-- matching compares them without leading zeros (macro control_number_key).
{{ config(pre_hook="{{ ensure_x12_raw_table('x12_ack_999_transactions') }}") }}

with

source as (

    select * from {{ source('x12', 'x12_ack_999_transactions') }}

),

renamed as (

    select
        {{ clean_text('ack_id') }} as ack_id,
        {{ clean_text('file_name') }} as file_name,
        {{ clean_code('file_sha256') }} as file_sha256,
        {{ clean_code('acknowledged_group_control_number') }} as acknowledged_group_control_number,
        {{ clean_code('functional_id') }} as functional_id,
        {{ clean_code('acknowledged_transaction_set_id') }} as acknowledged_transaction_set_id,
        {{ clean_code('acknowledged_transaction_control_number') }} as acknowledged_transaction_control_number,
        {{ clean_code('transaction_status') }} as transaction_status,
        {{ clean_code('group_status') }} as group_status,
        cast(error_count as integer) as error_count,
        {{ clean_text('error_summary') }} as error_summary,
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
