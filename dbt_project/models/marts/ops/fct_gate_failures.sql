-- One row per failed expectation of a claims-gate run, with the rows it caught. A view over
-- ops.gate_failures for the same reason as fct_gate_runs.
{{ config(materialized='view') }}

with

gate_failures as (

    select * from {{ source('ops', 'gate_failures') }}

),

gate_runs as (

    select * from {{ source('ops', 'gate_runs') }}

),

final as (

    select
        gate_failures.gate_run_id,
        gate_runs.validated_at,
        gate_failures.dataset,
        gate_failures.expectation_type,
        gate_failures.column_name,
        gate_failures.unexpected_count,
        gate_failures.element_count,
        gate_failures.expectation_kwargs,
        gate_failures.error

    from gate_failures
    inner join gate_runs
        on gate_failures.gate_run_id = gate_runs.gate_run_id

)

select * from final
