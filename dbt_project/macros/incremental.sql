{#- Incremental staging of append-only raw tables (the 835 remittance tables grow with every
    delivery). Raw rows are never updated or deleted and _loaded_at only grows, so an
    incremental run needs only the rows loaded since the newest row already staged (ties
    included), less the keys already staged. Staging keeps each key's first load
    (qualify ... order by loaded_at), so the result equals a full refresh: a key staged earlier
    was the first load of that key, and a later copy of it is dropped either way. -#}

{% macro raw_loaded_since_last_build() -%}
    {%- if is_incremental() %}
    where cast(_loaded_at as timestamp) >= (
        select coalesce(max(loaded_at), timestamp '1900-01-01') from {{ this }}
    )
    {%- endif %}
{%- endmacro %}

{#- Keys are compared null-safe: a balance check's service_line_id is null above line level. -#}
{% macro not_already_staged(key_columns, relation_alias) -%}
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as staged
        where
            {%- for key_column in key_columns %}
            staged.{{ key_column }} is not distinct from {{ relation_alias }}.{{ key_column }}
            {%- if not loop.last %} and{% endif %}
            {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}

{#- fct_ar_ledger's post-hook: an entry the inputs no longer post (a claim's charge lines
    re-extracted with fewer lines, say) leaves the ledger, as a full refresh would drop it. -#}
{% macro delete_ledger_entries_no_longer_posted() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where ledger_entry_id not in (
            select ledger_entry_id from {{ ref('int_ar_ledger_entries') }}
        )
    {%- endif -%}
{%- endmacro %}

{#- In an incremental build: EXCEPT the rows the model already holds (whole rows compared,
    nulls equal), leaving what is new or changed. Nothing in a full build. -#}
{% macro except_rows_already_built(columns) -%}
    {%- if is_incremental() %}
    except
    select {{ columns | join(', ') }} from {{ this }}
    {%- endif %}
{%- endmacro %}
