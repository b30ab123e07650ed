-- Date edits, one row per edit raised on a claim (claim level), judged against the scrub
-- as-of date (var scrub_as_of_date, default the day dbt runs; macro scrub_as_of_date):
-- - SERVICE_DATE_IN_FUTURE: a date of service (the last one is enough) is after the as-of date;
-- - TIMELY_FILING_PASSED (insured claims): more than the payer's timely_filing_days have
--   passed since the first date of service. On the limit day itself (as-of - service date =
--   timely_filing_days) the claim is still in time.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

payers as (

    select * from {{ ref('dim_payers') }}

),

dated as (

    select
        claims.claim_id,
        claims.is_self_pay,
        claims.payer_id,
        claims.service_date,
        claims.service_date_to,
        payers.timely_filing_days,
        {{ scrub_as_of_date() }} as as_of_date

    from claims
    left join payers
        on claims.payer_id = payers.payer_id

),

edits as (

    select
        claim_id,
        'SERVICE_DATE_IN_FUTURE' as edit_id,
        'service_date' as edit_subject,
        {{ revcycle.format_text(
            'date of service {} is after the as-of date {}',
            'service_date_to',
            'as_of_date'
        ) }} as detail
    from dated
    where service_date_to > as_of_date

    union all

    select
        claim_id,
        'TIMELY_FILING_PASSED' as edit_id,
        'service_date' as edit_subject,
        {{ revcycle.format_text(
            'date of service {} is {} days before the as-of date {}; payer {} accepts claims for {} days (until {})',
            'service_date',
            revcycle.days_between('service_date', 'as_of_date'),
            'as_of_date',
            'payer_id',
            'timely_filing_days',
            'service_date + timely_filing_days'
        ) }} as detail
    from dated
    where
        not is_self_pay
        and timely_filing_days is not null
        and {{ revcycle.days_between('service_date', 'as_of_date') }} > timely_filing_days

),

final as (

    select
        claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        cast(null as integer) as line_number,
        edit_id,
        edit_subject,
        detail

    from edits

)

select * from final
