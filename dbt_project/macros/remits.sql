{#- Helpers of the remittance reconciliation (models/intermediate/remits, models/marts/ar).

    control_number_key(column): an X12 control number as a comparison key. Trading partners
    echo GS06/ST02 with or without the leading zeros our writer pads with (000000042 vs 42), so
    both sides are compared without them; all zeros stays '0'; empty is null.

    is_placeholder_patient_control_number(column): true when a payer put a placeholder instead
    of our CLP01 (empty, all zeros, NA, N/A, NONE, UNKNOWN, a run of X or 9). Such a claim
    payment can only be matched through the payer claim control number.

    remit_min_truncated_pcn_length(): the shortest CLP01 accepted as a truncated patient
    control number (prefix of exactly one of our claim ids, payer and dates compatible). Var
    remit_min_truncated_pcn_length, default 10 (our claim ids are 17 characters). -#}

{% macro control_number_key(column) -%}
    case
        when nullif(trim({{ column }}), '') is null then null
        else coalesce(nullif({{ revcycle.trim_leading('trim(' ~ column ~ ')', '0') }}, ''), '0')
    end
{%- endmacro %}

{% macro is_placeholder_patient_control_number(column) -%}
    coalesce(
        {{ revcycle.full_match("nullif(upper(trim(" ~ column ~ ")), '')", '0+|9+|X+|N/?A|NONE|UNKNOWN|UNK') }},
        true
    )
{%- endmacro %}

{% macro remit_min_truncated_pcn_length() -%}
    {{ var('remit_min_truncated_pcn_length', 10) }}
{%- endmacro %}
