-- One row per submission record of ops.submissions (one per claim, or per line, the 837
-- writer sent), typed and trimmed. The pre-hook creates the table when the warehouse does not
-- have it yet (see macros/ops_submissions.sql); it never changes an existing one.
{{ config(pre_hook="{{ ensure_ops_submissions() }}") }}

with

source as (

    select * from {{ source('ops', 'submissions') }}

),

renamed as (

    select
        {{ clean_text('submission_id') }} as submission_id,
        {{ clean_text('file_name') }} as file_name,
        {{ clean_code('interchange_control_number') }} as interchange_control_number,
        {{ clean_code('group_control_number') }} as group_control_number,
        {{ clean_code('transaction_control_number') }} as transaction_control_number,
        {{ clean_code('claim_id') }} as claim_id,
        {{ clean_code('claim_line_id') }} as claim_line_id,
        {{ clean_code('claim_frequency_code') }} as claim_frequency_code,
        {{ clean_code('payer_id') }} as payer_id,
        cast(submitted_at as timestamp) as submitted_at

    from source

),

final as (

    select * from renamed

)

select * from final
