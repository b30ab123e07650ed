-- The accounts-receivable ledger: one row per financial event (ledger_entry_id) on the
-- insurance side of a claim, from the 837 submissions and the 835 remittances. The posting
-- rules and the sign convention are in intermediate/remits/int_ar_ledger_entries.
--
-- Incremental: the ledger only grows, and a nightly run should not rewrite years of posted
-- entries. An incremental build writes the entries that are new or whose posting changed
-- (delete+insert on ledger_entry_id) and deletes those no longer posted (post-hook), so the
-- table always equals a full refresh (tests/dbt/test_incremental_models.py proves it). Entries
-- already posted and unchanged are never rewritten.
-- On Spark / Databricks (parquet tables: no delete, no delete+insert) the ledger is a plain
-- table rebuilt by every run, which is what the incremental build equals anyway.
{{
    config(
        materialized=('table' if target.type in ('spark', 'databricks') else 'incremental'),
        unique_key='ledger_entry_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_ledger_entries_no_longer_posted() }}",
    )
}}

{#- The columns of the contract (_ar__models.yml), in its order: the select and the
    incremental EXCEPT read the same list. (Empty while dbt parses: only compiling uses it.) -#}
{%- set ledger_columns = model.columns.keys() | list %}

with

posted_entries as (

    select {{ ledger_columns | join(', ') }}
    from {{ ref('int_ar_ledger_entries') }}

),

-- In an incremental build, EXCEPT (whole rows, nulls equal) keeps what is new or changed.
entries_to_write as (

    select * from posted_entries
    {{ except_rows_already_built(ledger_columns) }}

),

final as (

    select * from entries_to_write

)

select * from final
