{#- Free text (names, addresses, cities, plan names) made safe for an X12 element, so the 837
    writer can put it in a file without any cleaning of its own:
    - control characters (0x00-0x1F, 0x7F: tab, CR, LF...) become spaces;
    - the delimiters revcycle's writer uses or a receiver may use, * ~ : ^ |, are removed;
    - accents are stripped (É -> E) so the text stays in the X12 basic character set;
    - runs of spaces collapse to one, the ends are trimmed, the result is upper-cased;
    - an empty result is null (an element with no value is left out, not written empty).
    Example: 'Rue de l''Église*4|B<TAB>Apt  2' -> 'RUE DE L''EGLISE4B APT 2'. -#}

{% macro x12_clean_text(column) -%}
    nullif(
        upper(
            trim(
                {{ revcycle.regexp_replace_all(
                    revcycle.regexp_replace_all(
                        revcycle.strip_accents(revcycle.regexp_replace_all(column, '[\\x00-\\x1F\\x7F]', ' ')),
                        '[*~:^|]', ''
                    ),
                    ' {2,}', ' '
                ) }}
            )
        ),
        ''
    )
{%- endmacro %}
