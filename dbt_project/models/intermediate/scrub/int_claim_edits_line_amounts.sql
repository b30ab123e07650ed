-- Amount edits on claim lines, one row per edit raised on a line:
-- - CHARGE_NOT_POSITIVE (hold): the charge is 0.00 or negative;
-- - UNITS_NOT_POSITIVE (hold): units are missing, 0 or negative;
-- - CHARGE_PRICE_MISMATCH (warn): the charge is not units x the chargemaster unit price, or the
--   code has no chargemaster price. Prices change and contracts differ, so this only warns.
with

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

chargemaster as (

    select * from {{ ref('chargemaster') }}

),

priced as (

    select
        lines.claim_line_id,
        lines.claim_id,
        lines.line_number,
        lines.procedure_code,
        lines.units,
        lines.charge_amount,
        chargemaster.unit_price,
        cast(lines.units * chargemaster.unit_price as decimal(18, 2)) as expected_charge_amount

    from lines
    left join chargemaster
        on lines.procedure_code = chargemaster.procedure_code

),

edits as (

    select
        claim_line_id,
        claim_id,
        line_number,
        'CHARGE_NOT_POSITIVE' as edit_id,
        'charge_amount' as edit_subject,
        {{ revcycle.format_text(
            'line {} ({}) charge is {}; a billed line must be more than 0.00',
            'line_number',
            "coalesce(procedure_code, '?')",
            "coalesce(cast(charge_amount as " ~ dbt.type_string() ~ "), '(none)')"
        ) }} as detail
    from priced
    where coalesce(charge_amount <= 0, true)

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'UNITS_NOT_POSITIVE' as edit_id,
        'units' as edit_subject,
        {{ revcycle.format_text(
            'line {} ({}) units are {}; a billed line needs at least 1 unit',
            'line_number',
            "coalesce(procedure_code, '?')",
            "coalesce(cast(units as " ~ dbt.type_string() ~ "), '(none)')"
        ) }} as detail
    from priced
    where coalesce(units <= 0, true)

    union all

    select
        claim_line_id,
        claim_id,
        line_number,
        'CHARGE_PRICE_MISMATCH' as edit_id,
        'charge_amount' as edit_subject,
        case
            when unit_price is null
                then {{ revcycle.format_text(
                    'line {} procedure {} has no chargemaster price',
                    'line_number',
                    "coalesce(procedure_code, '?')"
                ) }}
            else {{ revcycle.format_text(
                'line {} ({}) charge {} is not {} units x chargemaster price {} = {}',
                'line_number',
                'procedure_code',
                'cast(charge_amount as ' ~ dbt.type_string() ~ ')',
                'units',
                'cast(unit_price as ' ~ dbt.type_string() ~ ')',
                'cast(expected_charge_amount as ' ~ dbt.type_string() ~ ')'
            ) }}
        end as detail
    from priced
    where
        unit_price is null
        or (
            units is not null
            and charge_amount is not null
            and charge_amount != expected_charge_amount
        )

),

final as (

    select
        claim_id,
        claim_line_id,
        line_number,
        edit_id,
        edit_subject,
        detail

    from edits

)

select * from final
