{#- Spark only: register Parquet folders as the source tables (schemas raw and ops) before a
    build, e.g. the tables of a DuckDB warehouse exported with COPY ... (format parquet):

        dbt run-operation register_parquet_tables --target spark \
            --args '{tables: [{schema: raw, name: patients, location: /abs/raw/patients}, ...]}'

    Each table is (re)created as an external parquet table over its folder, its columns read
    from the files. Timestamps written by DuckDB (no time zone) are read as Spark timestamps,
    not timestamp_ntz, so they match what the models cast to (the session time zone is UTC). -#}
{% macro register_parquet_tables(tables) -%}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("register_parquet_tables is for the spark target") }}
    {%- endif -%}
    {% do run_query("set spark.sql.parquet.inferTimestampNTZ.enabled = false") %}
    {%- for table in tables %}
        {% do run_query("create schema if not exists " ~ table['schema']) %}
        {% do run_query("drop table if exists " ~ table['schema'] ~ "." ~ table['name']) %}
        {% do run_query(
            "create table " ~ table['schema'] ~ "." ~ table['name']
            ~ " using parquet location '" ~ table['location'] ~ "'"
        ) %}
    {%- endfor %}
    {{ log("registered " ~ (tables | length) ~ " parquet tables", info=true) }}
{%- endmacro %}


{#- Seeds on Spark: dbt-spark's session method fills a seed by formatting each value into the
    SQL as '<value>' without escaping, so a code set's text with an apostrophe ("patient's")
    is a syntax error and an empty cell becomes the text 'None'. This override (dbt picks the
    root project's spark__load_csv_rows over dbt-spark's) writes literals itself: null for an
    empty cell, strings with quotes and backslashes escaped, numbers as exact decimals. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- elif value is sameas true or value is sameas false -%}
                        {{ 'true' if value else 'false' }}
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
