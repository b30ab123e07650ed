-- Each denial breakdown (carc, payer, billing_provider, rendering_provider, procedure_code)
-- adds up, month by month, to the denials of fct_denials (is_denial): the same number of
-- denials received, dollars denied and net dollars. Returns one row per breakdown and month
-- that differs.
with

denials as (

    select
        cast(date_trunc('month', event_date) as date) as denial_month,
        count(*) filter (where not is_reversal) as denial_count,
        coalesce(sum(amount) filter (where not is_reversal), 0) as denied_amount,
        coalesce(sum(amount), 0) as net_denied_amount
    from {{ ref('fct_denials') }}
    where is_denial
    group by all

),

breakdowns as (

    select
        breakdown,
        denial_month,
        sum(denial_count) as denial_count,
        sum(denied_amount) as denied_amount,
        sum(net_denied_amount) as net_denied_amount
    from {{ ref('fct_denial_breakdowns') }}
    group by all

),

kinds as (

    select 'carc' as breakdown
    union all select 'payer'
    union all select 'billing_provider'
    union all select 'rendering_provider'
    union all select 'procedure_code'

),

expected as (

    select
        kinds.breakdown,
        denials.denial_month,
        denials.denial_count,
        denials.denied_amount,
        denials.net_denied_amount
    from denials
    cross join kinds

)

select
    expected.denial_count as expected_denial_count,
    breakdowns.denial_count,
    expected.denied_amount as expected_denied_amount,
    breakdowns.denied_amount,
    expected.net_denied_amount as expected_net_denied_amount,
    breakdowns.net_denied_amount,
    coalesce(expected.breakdown, breakdowns.breakdown) as breakdown,
    coalesce(expected.denial_month, breakdowns.denial_month) as denial_month
from expected
full outer join breakdowns
    on expected.breakdown = breakdowns.breakdown and expected.denial_month = breakdowns.denial_month
where
    expected.denial_count is distinct from breakdowns.denial_count
    or expected.denied_amount is distinct from breakdowns.denied_amount
    or expected.net_denied_amount is distinct from breakdowns.net_denied_amount
