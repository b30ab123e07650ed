{#- Raw is append-only: a key may arrive in several deliveries, a later one correcting an
    earlier one. Keep, per key, the row loaded last (tie: the highest data row number, then the
    file name so the choice never depends on scan order). Deduplicates by key only, never by
    content: two charges with identical content but different charge_id both stay. -#}

{% macro keep_latest_delivery(key_columns) -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by loaded_at desc, source_row desc, source_file desc
    ) = 1
{%- endmacro %}
