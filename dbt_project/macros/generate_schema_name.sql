{#- Use the layer's schema name as is (staging, intermediate, marts, code_sets) instead of
    dbt's default "<target schema>_<custom schema>", so analysts query marts.fct_claims. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
