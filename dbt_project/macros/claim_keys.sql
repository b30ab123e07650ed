{#- The keys that travel through X12, each defined once.

    claim_id: the patient control number (837 CLM01, returned as 835 CLP01). At most 20
    characters, only [A-Z0-9]: 'C' + 16 upper-case hex characters of md5(encounter | payer), so
    17 characters. Stable: the same encounter billed to the same payer always gets the same id;
    a missing payer hashes as the empty string.

    claim_line_id: the line control number (837 2400 REF*6R, returned in 835 2110 REF*6R). At
    most 30 characters, only [A-Z0-9-]: claim_id + '-' + the line number zero-padded to three
    digits (an 837 claim holds at most 50 lines), 21 characters. -#}

{% macro claim_id(encounter_column, payer_column) -%}
    'C' || upper(substr(md5({{ encounter_column }} || '|' || coalesce({{ payer_column }}, '')), 1, 16))
{%- endmacro %}

{% macro claim_line_id(claim_id_column, line_number_column) -%}
    {{ claim_id_column }} || '-' || lpad(cast({{ line_number_column }} as {{ dbt.type_string() }}), 3, '0')
{%- endmacro %}
