{#- Helpers of the AR-aging and KPI marts (models/marts/kpi; every definition is written out in
    models/marts/kpi/_kpi__docs.md).

    kpi_as_of_date(): the day balances are aged to and KPI windows end on, as a SQL date
    expression. The var as_of_date (YYYY-MM-DD) when it is set; otherwise the scrubber's as-of
    date (macro scrub_as_of_date: the var scrub_as_of_date, which the flow sets to the run date,
    revcycle.marts.dbt_vars), so one run has one as-of date; without either, current_date.

    aging_bucket(days) / aging_bucket_order(days): the aging bucket of an age in days and its
    sort order: '0-30' (1, includes 0 and negative ages: a date after the as-of date),
    '31-60' (2), '61-90' (3), '91-120' (4), '120+' (5: 121 days and more). Null for a null age.

    kpi_ratio(numerator, denominator, scale=4): numerator / denominator rounded half away from
    zero (half-up for positive figures) to `scale` decimals, as decimal(18, scale), computed
    exactly in integers (DuckDB divides decimals in floating point). Null when the denominator
    is 0 or null or the numerator is null. Both arguments may carry at most 2 decimals.

    underpayment_tolerance_amount(): the var underpayment_tolerance_amount (dollars, default
    1.00) as decimal(18,2): a line is underpaid when expected allowed - actual allowed is
    strictly more than this. -#}

{% macro kpi_as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim) in ('', 'current_date', 'today') -%}
        {{ scrub_as_of_date() }}
    {%- else -%}
        cast('{{ value | string | trim | replace("'", "") }}' as date)
    {%- endif -%}
{%- endmacro %}

{% macro aging_bucket(days_column) -%}
    case
        when {{ days_column }} is null then null
        when {{ days_column }} <= 30 then '0-30'
        when {{ days_column }} <= 60 then '31-60'
        when {{ days_column }} <= 90 then '61-90'
        when {{ days_column }} <= 120 then '91-120'
        else '120+'
    end
{%- endmacro %}

{% macro aging_bucket_order(days_column) -%}
    case
        when {{ days_column }} is null then null
        when {{ days_column }} <= 30 then 1
        when {{ days_column }} <= 60 then 2
        when {{ days_column }} <= 90 then 3
        when {{ days_column }} <= 120 then 4
        else 5
    end
{%- endmacro %}

{% macro kpi_ratio(numerator, denominator, scale=4) -%}
    {%- set n = "cast((" ~ numerator ~ ") * 100 as " ~ revcycle.type_wide_integer() ~ ")" -%}
    {%- set d = "cast((" ~ denominator ~ ") * 100 as " ~ revcycle.type_wide_integer() ~ ")" -%}
    case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 or ({{ numerator }}) is null then null
        else cast(
            cast(
                {{ revcycle.integer_sign(n) }} * {{ revcycle.integer_sign(d) }}
                * {{ revcycle.integer_divide('abs(' ~ n ~ ') * ' ~ 2 * (10 ** scale) ~ ' + abs(' ~ d ~ ')', '2 * abs(' ~ d ~ ')') }}
                as decimal(38, 0)
            ) * cast({{ '0.' ~ ('0' * (scale - 1)) ~ '1' }} as decimal({{ scale + 1 }}, {{ scale }}))
            as decimal(18, {{ scale }})
        )
    end
{%- endmacro %}

{% macro underpayment_tolerance_amount() -%}
    cast('{{ var("underpayment_tolerance_amount", "1.00") | string | trim | replace("'", "") }}' as decimal(18, 2))
{%- endmacro %}
