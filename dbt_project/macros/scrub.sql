{#- Helpers of the claim scrubber (models/intermediate/scrub, models/marts/scrub).

    scrub_as_of_date(): the day the scrub judges dates against (future dates of service, timely
    filing), as a SQL date expression. From the var scrub_as_of_date (YYYY-MM-DD, passed by the
    flow: --vars '{scrub_as_of_date: 2026-11-01}'); without it, current_date (the day dbt runs).
    A value that is not a date fails the build with DuckDB's conversion error.

    age_in_years(birth, on): completed years of age on a day (the birthday counts from its
    date; someone born on 29 February turns a year older on 1 March in common years).

    age_for_detail(age): an age as text for an edit's detail message; 90 and over is shown as
    '90+' (HIPAA Safe Harbor treats exact ages over 89 as identifying). -#}

{% macro scrub_as_of_date() -%}
    {%- set value = var('scrub_as_of_date', none) -%}
    {%- if value is none or (value | string | trim) in ('', 'current_date', 'today') -%}
        current_date
    {%- else -%}
        cast('{{ value | string | trim | replace("'", "") }}' as date)
    {%- endif -%}
{%- endmacro %}

{% macro age_in_years(birth_column, on_column) -%}
    (
        year({{ on_column }}) - year({{ birth_column }})
        - case
            when
                month({{ on_column }}) < month({{ birth_column }})
                or (
                    month({{ on_column }}) = month({{ birth_column }})
                    and day({{ on_column }}) < day({{ birth_column }})
                )
                then 1
            else 0
        end
    )
{%- endmacro %}

{% macro age_for_detail(age_column) -%}
    case when {{ age_column }} >= 90 then '90+' else cast({{ age_column }} as {{ dbt.type_string() }}) end
{%- endmacro %}
