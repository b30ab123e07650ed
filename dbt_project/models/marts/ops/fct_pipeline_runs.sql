-- One row per pipeline run (the run manifest, revcycle.runs): which flow, when it started and
-- finished, how it ended, what went in (extract files and rows, inbox files) and what came
-- out (claims built and sent, 837 files, the gate's verdict). A view, so the run in progress
-- and the one that just ended are visible at once (the dashboard's run history).
{{ config(materialized='view') }}

with

pipeline_runs as (

    select * from {{ source('ops', 'pipeline_runs') }}

),

final as (

    select
        run_id,
        flow_name,
        flow_run_id,
        as_of_date,
        status,
        started_at,
        finished_at,
        extract_files_loaded,
        extract_files_skipped,
        extract_files_quarantined,
        extract_rows_loaded,
        inbox_files_loaded,
        claims_built,
        claims_sent,
        amount_sent,
        files_837_written,
        gate_result,
        message,
        cast(
            {{ revcycle.milliseconds_between('started_at', 'finished_at') }} / 1000.0 as decimal(12, 3)
        ) as duration_seconds

    from pipeline_runs

)

select * from final
