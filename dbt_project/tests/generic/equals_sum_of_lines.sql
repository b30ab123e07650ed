{#- Money identity between a header and its lines: for every header row, the tested column
    equals the sum of `line_column` over the rows of `lines` sharing `key` (0 when it has no
    lines), and no line points at a header that does not exist.
    E.g. fct_claims.total_charge_amount = sum(fct_claim_lines.charge_amount) per claim_id. -#}
{% test equals_sum_of_lines(model, column_name, lines, key, line_column) %}

with

line_totals as (

    select
        {{ key }},
        sum({{ line_column }}) as lines_total
    from {{ lines }}
    group by {{ key }}

),

headers as (

    select
        {{ key }},
        {{ column_name }} as header_total
    from {{ model }}

),

compared as (

    select
        coalesce(headers.{{ key }}, line_totals.{{ key }}) as {{ key }},
        headers.header_total,
        line_totals.lines_total
    from headers
    full outer join line_totals
        on headers.{{ key }} = line_totals.{{ key }}

)

select *
from compared
where header_total is null
    or header_total != coalesce(lines_total, 0)

{% endtest %}
