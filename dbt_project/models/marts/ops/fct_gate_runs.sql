-- One row per claims-gate run: did the batch pass, how many claims and lines it held, and
-- what failed. A view, so a gate run is visible the moment it is recorded (the gate runs
-- after dbt has built the marts).
{{ config(materialized='view') }}

with

gate_runs as (

    select * from {{ source('ops', 'gate_runs') }}

),

final as (

    select
        gate_run_id,
        gate_name,
        flow_run_id,
        validated_at,
        success,
        claims_validated,
        lines_validated,
        expectations_evaluated,
        expectations_failed,
        summary

    from gate_runs

)

select * from final
