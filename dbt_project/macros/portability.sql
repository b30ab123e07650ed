{#- SQL that differs between DuckDB (the project's warehouse) and Apache Spark / Databricks
    (dbt-spark), each behind adapter.dispatch so the models stay the same on both. The duckdb__
    implementations are exactly the SQL the models used before they were made portable;
    spark__ gives the same result on Spark SQL (4.x, ANSI mode off as dbt-spark sets it).
    Where dbt ships a cross-database macro that fits, the models call it directly
    (dbt.type_string()); these cover what dbt has no macro for, or where dbt-spark's does not
    fit (dbt.datediff on Spark raises on a null date; ours are often null).

    Regular expressions: RE2 on DuckDB, Java regex on Spark; the patterns used here mean the
    same in both. Spark SQL string literals treat a backslash as an escape, so spark__ doubles
    backslashes before quoting a pattern. -#}

{#- A pattern as a Spark SQL string literal: backslashes doubled, quotes doubled. -#}
{% macro spark_pattern_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "''") }}'
{%- endmacro %}


{#- full_match(value, pattern): true when the whole value matches the regular expression,
    null for a null value. -#}
{% macro full_match(value, pattern) -%}
    {{ return(adapter.dispatch('full_match', 'revcycle')(value, pattern)) }}
{%- endmacro %}

{% macro default__full_match(value, pattern) -%}
    regexp_full_match({{ value }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__full_match(value, pattern) -%}
    ({{ value }} rlike {{ revcycle.spark_pattern_literal('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}


{#- regexp_replace_all(value, pattern, replacement): every match replaced. The replacement
    refers to groups as \1, \2 (written so in the model). -#}
{% macro regexp_replace_all(value, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'revcycle')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace(
        {{ value }},
        {{ revcycle.spark_pattern_literal(pattern) }},
        '{{ replacement | replace("$", "\\\\$") | replace("\\1", "$1") | replace("\\2", "$2") | replace("\\3", "$3") }}'
    )
{%- endmacro %}


{#- regexp_replace_first(value, pattern, replacement): the first match replaced (groups \1, \2).
    Only used with patterns anchored at the start (^), where first and all are the same. -#}
{% macro regexp_replace_first(value, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_first', 'revcycle')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_first(value, pattern, replacement) -%}
    regexp_replace({{ value }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro spark__regexp_replace_first(value, pattern, replacement) -%}
    {%- if not pattern.startswith('^') -%}
        {{ exceptions.raise_compiler_error("regexp_replace_first: Spark replaces every match; anchor the pattern with ^") }}
    {%- endif -%}
    {{ revcycle.spark__regexp_replace_all(value, pattern, replacement) }}
{%- endmacro %}


{#- strip_accents(value): accents removed (É -> E). DuckDB removes every combining mark; Spark
    SQL has no Unicode normalisation, so spark__ maps the accented Latin letters of Latin-1 and
    Latin Extended-A (the letters of European names and addresses) to their base letters;
    letters outside those blocks stay as they are. -#}
{% macro strip_accents(value) -%}
    {{ return(adapter.dispatch('strip_accents', 'revcycle')(value)) }}
{%- endmacro %}

{% macro default__strip_accents(value) -%}
    strip_accents({{ value }})
{%- endmacro %}

{% macro spark__strip_accents(value) -%}
    {%- set accented = 'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž' -%}
    {%- set base = 'AAAAAAaaaaaaAaAaAaCcCcCcCcCcDdDdEEEEeeeeEeEeEeEeEeGgGgGgGgHhHhIIIIiiiiIiIiIiIiIJjKkLlLlLlLlLlNnNnNnNnOOOOOOooooooOoOoOoRrRrRrSsSsSsSsTtTtTtUUUUuuuuUuUuUuUuUuUuWwYyyYyYZzZzZz' -%}
    translate({{ value }}, '{{ accented }}', '{{ base }}')
{%- endmacro %}


{#- trim_leading(value, characters): the characters removed from the start of the value. -#}
{% macro trim_leading(value, characters) -%}
    {{ return(adapter.dispatch('trim_leading', 'revcycle')(value, characters)) }}
{%- endmacro %}

{% macro default__trim_leading(value, characters) -%}
    ltrim({{ value }}, '{{ characters }}')
{%- endmacro %}

{#- Spark's two-argument ltrim takes the characters first; the ANSI form says what it does. -#}
{% macro spark__trim_leading(value, characters) -%}
    trim(leading '{{ characters }}' from {{ value }})
{%- endmacro %}


{#- format_text(template, *values): the template with each {} replaced by the next value as
    text, e.g. format_text('line {} has {} units', 'line_number', 'units'). The template is
    plain text (no SQL quoting); values are SQL expressions. -#}
{% macro format_text(template) -%}
    {{ return(adapter.dispatch('format_text', 'revcycle')(template, varargs)) }}
{%- endmacro %}

{% macro default__format_text(template, values) -%}
    format('{{ template | replace("'", "''") }}', {{ values | join(', ') }})
{%- endmacro %}

{#- DuckDB's format writes a null value as NULL; format_string writes null, so nulls are
    spelled out. Dates, integers and decimals print the same in both. -#}
{% macro spark__format_text(template, values) -%}
    format_string(
        '{{ template | replace("%", "%%") | replace("{}", "%s") | replace("'", "''") }}',
        {%- for value in values %}
        coalesce(cast({{ value }} as string), 'NULL'){{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- days_between(start, end): whole days from start to end (negative when end is earlier); null
    when either is null. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'revcycle')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    cast(datediff({{ end_date }}, {{ start_date }}) as bigint)
{%- endmacro %}


{#- milliseconds_between(start, end): milliseconds from one timestamp to another. -#}
{% macro milliseconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('milliseconds_between', 'revcycle')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__milliseconds_between(start_at, end_at) -%}
    date_diff('millisecond', {{ start_at }}, {{ end_at }})
{%- endmacro %}

{% macro spark__milliseconds_between(start_at, end_at) -%}
    (unix_millis({{ end_at }}) - unix_millis({{ start_at }}))
{%- endmacro %}


{#- date_series(start, end, step): a set-returning select-list expression, one row per date from
    start to end (both dates, end included) in steps of `step` ('1 day', '1 month'). -#}
{% macro date_series(start_date, end_date, step) -%}
    {{ return(adapter.dispatch('date_series', 'revcycle')(start_date, end_date, step)) }}
{%- endmacro %}

{% macro default__date_series(start_date, end_date, step) -%}
    cast(
        unnest(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval {{ step }}))
        as date
    )
{%- endmacro %}

{% macro spark__date_series(start_date, end_date, step) -%}
    explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval {{ step }}))
{%- endmacro %}


{#- split_to_rows(value, delimiter, is_regex=false): a set-returning select-list expression, one
    row per piece of the value split on the delimiter (a literal, or a regular expression);
    no row for a null value. -#}
{% macro split_to_rows(value, delimiter, is_regex=false) -%}
    {{ return(adapter.dispatch('split_to_rows', 'revcycle')(value, delimiter, is_regex)) }}
{%- endmacro %}

{% macro default__split_to_rows(value, delimiter, is_regex=false) -%}
    {%- if is_regex -%}
        unnest(string_split_regex({{ value }}, '{{ delimiter }}'))
    {%- else -%}
        unnest(string_split({{ value }}, '{{ delimiter }}'))
    {%- endif -%}
{%- endmacro %}

{% macro spark__split_to_rows(value, delimiter, is_regex=false) -%}
    {%- set pattern = delimiter if is_regex else modules.re.escape(delimiter) -%}
    explode(split({{ value }}, {{ revcycle.spark_pattern_literal(pattern) }}))
{%- endmacro %}


{#- ordered_string_agg(value, delimiter, order_by, distinct=false, where=none): the non-null
    values joined by the delimiter, in the order of `order_by` (an expression), optionally
    distinct and filtered by the condition `where`; null when there is no value. -#}
{% macro ordered_string_agg(value, delimiter, order_by, distinct=false, where=none) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'revcycle')(value, delimiter, order_by, distinct, where)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(value, delimiter, order_by, distinct=false, where=none) -%}
    string_agg({{ 'distinct ' if distinct }}{{ value }}, '{{ delimiter }}' order by {{ order_by }})
    {%- if where is not none %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{#- collect_list/collect_set skip nulls; sorting (order key, value) pairs gives string_agg's
    order, ties broken by the value. -#}
{% macro spark__ordered_string_agg(value, delimiter, order_by, distinct=false, where=none) -%}
    {%- set pairs -%}
        {{ 'collect_set' if distinct else 'collect_list' }}(
            case when ({{ value }}) is not null then named_struct('k', {{ order_by }}, 'v', cast({{ value }} as string)) end
        ){%- if where is not none %} filter (where {{ where }}){% endif %}
    {%- endset -%}
    case
        when size({{ pairs }}) > 0
            then array_join(transform(array_sort({{ pairs }}), pair -> pair.v), '{{ delimiter }}')
    end
{%- endmacro %}


{#- struct_list(fields, order_by): aggregate into a list of structs, fields a list of
    (name, expression) pairs, in the order of the expressions `order_by` (a list). -#}
{% macro struct_list(fields, order_by) -%}
    {{ return(adapter.dispatch('struct_list', 'revcycle')(fields, order_by)) }}
{%- endmacro %}

{% macro default__struct_list(fields, order_by) -%}
    list(
        {
            {%- for name, expression in fields %}
            '{{ name }}': {{ expression }}{{ "," if not loop.last }}
            {%- endfor %}
        }
        order by {{ order_by | join(', ') }}
    )
{%- endmacro %}

{% macro spark__struct_list(fields, order_by) -%}
    transform(
        array_sort(
            collect_list(
                named_struct(
                    {%- for expression in order_by %}
                    'k{{ loop.index }}', {{ expression }},
                    {%- endfor %}
                    'v', named_struct(
                        {%- for name, expression in fields %}
                        '{{ name }}', {{ expression }}{{ "," if not loop.last }}
                        {%- endfor %}
                    )
                )
            )
        ),
        item -> item.v
    )
{%- endmacro %}


{#- star_except(relation_alias, columns): every column of the relation but the listed ones. -#}
{% macro star_except(relation_alias, columns) -%}
    {{ return(adapter.dispatch('star_except', 'revcycle')(relation_alias, columns)) }}
{%- endmacro %}

{% macro default__star_except(relation_alias, columns) -%}
    {{ relation_alias }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(relation_alias, columns) -%}
    {{ relation_alias }}.* except ({{ columns | join(', ') }})
{%- endmacro %}


{#- Exact integer arithmetic for kpi_ratio: a 128-bit-wide integer type, integer division
    (truncating toward zero) and the sign of a number as an integer. -#}
{% macro type_wide_integer() -%}
    {{ return(adapter.dispatch('type_wide_integer', 'revcycle')()) }}
{%- endmacro %}

{% macro default__type_wide_integer() -%}
    hugeint
{%- endmacro %}

{% macro spark__type_wide_integer() -%}
    decimal(38, 0)
{%- endmacro %}

{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'revcycle')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (cast(({{ dividend }}) div ({{ divisor }}) as decimal(38, 0)))
{%- endmacro %}

{% macro integer_sign(value) -%}
    {{ return(adapter.dispatch('integer_sign', 'revcycle')(value)) }}
{%- endmacro %}

{% macro default__integer_sign(value) -%}
    sign({{ value }})
{%- endmacro %}

{#- Spark's sign() is a double; multiplied into a wide integer it would lose digits. -#}
{% macro spark__integer_sign(value) -%}
    cast(sign({{ value }}) as int)
{%- endmacro %}


{#- create_table_if_missing(schema, table, columns): create an empty table (columns a list of
    (name, type) pairs, types as DuckDB spells them) unless it exists; never alters or empties
    an existing one. Used as a pre-hook (ops.submissions, the raw x12 tables). -#}
{% macro create_table_if_missing(schema, table, columns) -%}
    {{ return(adapter.dispatch('create_table_if_missing', 'revcycle')(schema, table, columns)) }}
{%- endmacro %}

{% macro default__create_table_if_missing(schema, table, columns) -%}
    create schema if not exists {{ schema }};
    create table if not exists {{ schema }}.{{ table }} (
    {%- for column_name, column_type in columns %}
        {{ column_name }} {{ column_type }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{#- One statement per hook on Spark: the schema is created right away (at run time only), the
    table by the hook. varchar (no length) is spelled string. -#}
{% macro spark__create_table_if_missing(schema, table, columns) -%}
    {%- if execute %}{% do run_query('create schema if not exists ' ~ schema) %}{% endif -%}
    create table if not exists {{ schema }}.{{ table }} (
    {%- for column_name, column_type in columns %}
        {{ column_name }} {{ 'string' if column_type == 'varchar' else column_type }}{{ "," if not loop.last }}
    {%- endfor %}
    ) using parquet
{%- endmacro %}


{#- star_replace(relation, relation_alias, replacements): every column of the relation in its
    order, those named in replacements (a list of (column, expression) pairs) replaced by the
    expression. DuckDB has `* replace`; Spark lists the columns, read from the built relation
    (so on Spark the relation must be a ref built before the model, not a CTE). -#}
{% macro star_replace(relation, relation_alias, replacements) -%}
    {{ return(adapter.dispatch('star_replace', 'revcycle')(relation, relation_alias, replacements)) }}
{%- endmacro %}

{% macro default__star_replace(relation, relation_alias, replacements) -%}
    {{ relation_alias }}.* replace (
        {%- for column_name, expression in replacements %}
        {{ expression }} as {{ column_name }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro spark__star_replace(relation, relation_alias, replacements) -%}
    {%- if not execute -%}
        {{ relation_alias }}.*
    {%- else -%}
        {%- set replaced = {} -%}
        {%- for column_name, expression in replacements %}{% do replaced.update({column_name: expression}) %}{% endfor -%}
        {%- for column in adapter.get_columns_in_relation(relation) %}
        {{ replaced.get(column.name, relation_alias ~ '.' ~ column.name) }} as {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
