-- Denials broken down five ways, one row per (breakdown, breakdown_key, denial_month):
--   carc                CAS group and CARC ('CO-50'), with the reason and denial category;
--   payer               the 835's payer;
--   billing_provider    the claim's billing provider;
--   rendering_provider  the claim's rendering provider;
--   procedure_code      the denied line's procedure code ('(claim level)' for claim-level CAS).
-- Denials are the fct_denials adjustments whose CARC is a denial (is_denial), in the month of
-- the 835 payment date. denial_count / denied_claim_count / denied_amount count the denials as
-- received (reversals excluded); reversed_amount is what CLP02 22 reversals took back;
-- net_denied_amount = denied_amount - reversed_amount. Each breakdown adds up to the same
-- totals per month (distinct claims excepted: a claim can be denied for two reasons).
-- Denials on claim payments that matched no claim have no provider: '(unknown)'.
-- Definitions: _kpi__docs.md (kpi_denial_breakdowns).
with

denials as (

    select * from {{ ref('fct_denials') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

claim_lines as (

    select * from {{ ref('fct_claim_lines') }}

),

payers as (

    select * from {{ ref('dim_payers') }}

),

providers as (

    select * from {{ ref('dim_providers') }}

),

procedure_codes as (

    select * from {{ ref('procedure_codes') }}

),

denial_adjustments as (

    select
        denials.adjustment_id,
        denials.claim_id,
        denials.payer_id,
        denials.group_code,
        denials.reason_code,
        denials.reason_description,
        denials.denial_category,
        denials.amount,
        denials.is_reversal,
        claims.billing_provider_id,
        claims.rendering_provider_id,
        cast(date_trunc('month', denials.event_date) as date) as denial_month,
        case
            when denials.adjustment_level = 'line' then coalesce(denials.procedure_code, claim_lines.procedure_code)
        end as procedure_code
    from denials
    left join claims
        on denials.claim_id = claims.claim_id
    left join claim_lines
        on denials.claim_line_id = claim_lines.claim_line_id
    where denials.is_denial

),

keyed as (

    select
        'carc' as breakdown,
        coalesce(denial_adjustments.group_code, '?') || '-' || coalesce(denial_adjustments.reason_code, '?')
            as breakdown_key,
        denial_adjustments.reason_description as breakdown_label,
        denial_adjustments.group_code,
        denial_adjustments.reason_code,
        denial_adjustments.denial_category,
        denial_adjustments.claim_id,
        denial_adjustments.amount,
        denial_adjustments.is_reversal,
        denial_adjustments.denial_month
    from denial_adjustments

    union all

    select
        'payer' as breakdown,
        coalesce(denial_adjustments.payer_id, '(unknown)') as breakdown_key,
        payers.payer_name as breakdown_label,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as denial_category,
        denial_adjustments.claim_id,
        denial_adjustments.amount,
        denial_adjustments.is_reversal,
        denial_adjustments.denial_month
    from denial_adjustments
    left join payers
        on denial_adjustments.payer_id = payers.payer_id

    union all

    select
        'billing_provider' as breakdown,
        coalesce(denial_adjustments.billing_provider_id, '(unknown)') as breakdown_key,
        coalesce(providers.organization_name, providers.last_name || ', ' || providers.first_name) as breakdown_label,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as denial_category,
        denial_adjustments.claim_id,
        denial_adjustments.amount,
        denial_adjustments.is_reversal,
        denial_adjustments.denial_month
    from denial_adjustments
    left join providers
        on denial_adjustments.billing_provider_id = providers.provider_id

    union all

    select
        'rendering_provider' as breakdown,
        coalesce(denial_adjustments.rendering_provider_id, '(unknown)') as breakdown_key,
        coalesce(providers.organization_name, providers.last_name || ', ' || providers.first_name) as breakdown_label,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as denial_category,
        denial_adjustments.claim_id,
        denial_adjustments.amount,
        denial_adjustments.is_reversal,
        denial_adjustments.denial_month
    from denial_adjustments
    left join providers
        on denial_adjustments.rendering_provider_id = providers.provider_id

    union all

    select
        'procedure_code' as breakdown,
        coalesce(denial_adjustments.procedure_code, '(claim level)') as breakdown_key,
        procedure_codes.short_label as breakdown_label,
        cast(null as {{ dbt.type_string() }}) as group_code,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as denial_category,
        denial_adjustments.claim_id,
        denial_adjustments.amount,
        denial_adjustments.is_reversal,
        denial_adjustments.denial_month
    from denial_adjustments
    left join procedure_codes
        on denial_adjustments.procedure_code = procedure_codes.procedure_code

),

summarised as (

    select
        breakdown,
        breakdown_key,
        denial_month,
        min(breakdown_label) as breakdown_label,
        min(group_code) as group_code,
        min(reason_code) as reason_code,
        min(denial_category) as denial_category,
        count(*) filter (where not is_reversal) as denial_count,
        count(distinct claim_id) filter (where not is_reversal) as denied_claim_count,
        coalesce(sum(amount) filter (where not is_reversal), 0) as denied_amount,
        coalesce(-sum(amount) filter (where is_reversal), 0) as reversed_amount,
        coalesce(sum(amount), 0) as net_denied_amount
    from keyed
    group by breakdown, breakdown_key, denial_month

),

final as (

    select
        cast(
            breakdown || ':' || breakdown_key || ':' || cast(denial_month as {{ dbt.type_string() }})
            as {{ dbt.type_string() }}
        ) as denial_breakdown_id,
        cast(breakdown as {{ dbt.type_string() }}) as breakdown,
        cast(breakdown_key as {{ dbt.type_string() }}) as breakdown_key,
        cast(breakdown_label as {{ dbt.type_string() }}) as breakdown_label,
        cast(denial_month as date) as denial_month,
        cast(group_code as {{ dbt.type_string() }}) as group_code,
        cast(reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(denial_category as {{ dbt.type_string() }}) as denial_category,
        cast(denial_count as integer) as denial_count,
        cast(denied_claim_count as integer) as denied_claim_count,
        cast(denied_amount as decimal(18, 2)) as denied_amount,
        cast(reversed_amount as decimal(18, 2)) as reversed_amount,
        cast(net_denied_amount as decimal(18, 2)) as net_denied_amount

    from summarised

)

select * from final
