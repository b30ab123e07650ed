{#- Text normalisation used by every staging model, written once.
    clean_text: trim, and an empty string means "no value" (extract convention).
    clean_code: the same, upper-cased; codes stay text so leading zeros survive. -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro clean_code(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}
