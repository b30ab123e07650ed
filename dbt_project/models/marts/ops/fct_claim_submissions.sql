-- One row per claim or claim line sent in an 837 file: which file, which interchange, group
-- and transaction control numbers, when. A view over ops.submissions (via staging), so a
-- submission is visible the moment the writer records it (the writer runs after dbt).
{{ config(materialized='view') }}

with

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

final as (

    select
        submission_id,
        claim_id,
        claim_line_id,
        payer_id,
        file_name,
        interchange_control_number,
        group_control_number,
        transaction_control_number,
        claim_frequency_code,
        submitted_at,
        'submitted' as claim_status,
        claim_line_id is null as is_claim_level

    from submissions

)

select * from final
