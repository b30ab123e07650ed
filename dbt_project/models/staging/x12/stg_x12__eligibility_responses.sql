-- One row per answered eligibility inquiry of a 271 (response_id), typed and trimmed.
-- trace_number_normalised (upper-cased, trimmed) is the key matched to our inquiry id
-- (ops.eligibility_inquiries.inquiry_id, the TRN02 of the 270).
{{ config(pre_hook="{{ ensure_x12_raw_table('x12_eligibility_responses') }}") }}

with

source as (

    select * from {{ source('x12', 'x12_eligibility_responses') }}

),

renamed as (

    select
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('file_name') }} as file_name,
        {{ clean_code('file_sha256') }} as file_sha256,
        {{ clean_code('interchange_control_number') }} as interchange_control_number,
        {{ clean_code('transaction_control_number') }} as transaction_control_number,
        cast(response_date as date) as response_date,
        {{ clean_text('trace_number') }} as trace_number,
        {{ clean_code('trace_number') }} as trace_number_normalised,
        {{ clean_code('trace_originator_id') }} as trace_originator_id,
        {{ clean_code('payer_id') }} as payer_id,
        {{ clean_text('payer_name') }} as payer_name,
        {{ clean_code('information_receiver_id') }} as information_receiver_id,
        lower({{ clean_text('subscriber_level') }}) as subscriber_level,
        cast(eligibility_date as date) as eligibility_date,
        lower({{ clean_text('coverage_status') }}) as coverage_status,
        {{ clean_code('reject_reason_code') }} as reject_reason_code,
        cast(benefit_count as integer) as benefit_count,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    qualify row_number() over (partition by response_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
