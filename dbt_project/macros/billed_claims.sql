{#- The claim ids we bill under, and their lines, as a subquery (a macro rather than a model so
    the matching models keep reading fct_claims / fct_claim_lines directly, which their unit
    tests give as inputs).

    billed_claims(claims): one row per billed_claim_id: every claim of fct_claims billed to
    its primary payer, and its secondary_claim_id billed to the secondary payer (COB).
    claim_id is the account the money belongs to (the primary claim of fct_claims and
    fct_claim_balances), so a secondary payer's 999, 277CA and 835 post to the same claim as
    the primary's, payer_sequence telling them apart.

    billed_claim_lines(claims, claim_lines): one row per billed_claim_line_id (the 837 REF*6R):
    every line as billed to the primary payer, and the same line on the secondary claim (line
    id built from secondary_claim_id and the line number, macro claim_line_id), with the
    account's claim_line_id and every column of fct_claim_lines. -#}

{% macro billed_claims(claims) -%}
    (
        select
            claim_id as billed_claim_id,
            claim_id,
            payer_id,
            'primary' as payer_sequence,
            secondary_payer_id,
            service_date,
            service_date_to
        from {{ claims }}

        union all

        select
            secondary_claim_id as billed_claim_id,
            claim_id,
            secondary_payer_id as payer_id,
            'secondary' as payer_sequence,
            cast(null as {{ dbt.type_string() }}) as secondary_payer_id,
            service_date,
            service_date_to
        from {{ claims }}
        where secondary_claim_id is not null
    )
{%- endmacro %}

{% macro billed_claim_lines(claims, claim_lines) -%}
    (
        select
            primary_lines.claim_line_id as billed_claim_line_id,
            primary_lines.claim_id as billed_claim_id,
            'primary' as payer_sequence,
            primary_lines.*
        from {{ claim_lines }} as primary_lines

        union all

        select
            {{ claim_line_id('secondary_claims.secondary_claim_id', 'secondary_lines.line_number') }}
                as billed_claim_line_id,
            secondary_claims.secondary_claim_id as billed_claim_id,
            'secondary' as payer_sequence,
            secondary_lines.*
        from {{ claim_lines }} as secondary_lines
        inner join {{ claims }} as secondary_claims
            on secondary_lines.claim_id = secondary_claims.claim_id
        where secondary_claims.secondary_claim_id is not null
    )
{%- endmacro %}
