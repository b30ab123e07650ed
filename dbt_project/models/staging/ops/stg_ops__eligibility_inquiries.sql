-- One row per eligibility inquiry of ops.eligibility_inquiries (one per encounter coverage a
-- 270 asked about), typed and trimmed. The pre-hook creates the table when the warehouse does
-- not have it yet (macros/ops_submissions.sql); it never changes an existing one.
{{ config(pre_hook="{{ ensure_ops_eligibility_inquiries() }}") }}

with

source as (

    select * from {{ source('ops', 'eligibility_inquiries') }}

),

renamed as (

    select
        {{ clean_code('inquiry_id') }} as inquiry_id,
        {{ clean_text('file_name') }} as file_name,
        {{ clean_code('interchange_control_number') }} as interchange_control_number,
        {{ clean_code('group_control_number') }} as group_control_number,
        {{ clean_code('transaction_control_number') }} as transaction_control_number,
        {{ clean_text('encounter_id') }} as encounter_id,
        {{ clean_text('patient_id') }} as patient_id,
        {{ clean_text('coverage_id') }} as coverage_id,
        cast(coverage_order as integer) as coverage_order,
        {{ clean_code('payer_id') }} as payer_id,
        {{ clean_text('member_id') }} as member_id,
        {{ clean_code('billing_provider_npi') }} as billing_provider_npi,
        cast(service_date as date) as service_date,
        cast(inquiry_date as date) as inquiry_date,
        cast(sent_at as timestamp) as sent_at

    from source

),

final as (

    select * from renamed

)

select * from final
