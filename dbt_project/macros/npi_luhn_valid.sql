{#- True when the value is a well-formed NPI: exactly 10 digits whose 10th digit is the Luhn
    check digit of the card-issuer prefix 80840 followed by the first 9 digits (CMS NPI check
    digit rule). False (never null) for anything else, including null.

    The prefix 80840 contributes a constant 24 to the Luhn sum. Of the 9 base digits, those in
    odd positions (1, 3, 5, 7, 9) are doubled (digits of the product summed, i.e. minus 9 when
    the product exceeds 9); the check digit is (10 - sum mod 10) mod 10.
    Example: 1234567893 is valid, 1234567890 is not. -#}

{% macro npi_luhn_valid(npi_column) -%}
    coalesce(
        {{ revcycle.full_match(npi_column, '[0-9]{10}') }}
        and (
            10 - (
                24
                {%- for position in range(1, 10) %}
                {%- set digit = "try_cast(substr(" ~ npi_column ~ ", " ~ position ~ ", 1) as integer)" %}
                {%- if position % 2 == 1 %}
                + ({{ digit }} * 2 - case when {{ digit }} >= 5 then 9 else 0 end)
                {%- else %}
                + {{ digit }}
                {%- endif %}
                {%- endfor %}
            ) % 10
        ) % 10 = try_cast(substr({{ npi_column }}, 10, 1) as integer),
        false
    )
{%- endmacro %}
