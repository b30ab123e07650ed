-- Coverage and payer edits, one row per edit raised on an insured claim (claim level).
-- Self-pay claims are not checked here: nobody is billed, the patient gets a statement.
-- Coverage is active on a day when effective_date <= day and (end_date is null or
-- end_date >= day); it must be active on every date of service of the claim, and since
-- coverage is one unbroken period, checking the first and last dates is enough.
with

claims as (

    select * from {{ ref('fct_claims') }}
    where not is_self_pay

),

coverages as (

    select * from {{ ref('dim_coverages') }}

),

payers as (

    select * from {{ ref('dim_payers') }}

),

claim_coverage as (

    select
        claims.claim_id,
        claims.coverage_id,
        claims.payer_id,
        claims.service_date,
        claims.service_date_to,
        coverages.payer_id as coverage_payer_id,
        coverages.member_id,
        coverages.effective_date,
        coverages.end_date,
        coverages.coverage_id is not null as has_coverage,
        payers.payer_id is not null as has_payer

    from claims
    left join coverages
        on claims.coverage_id = coverages.coverage_id
    left join payers
        on claims.payer_id = payers.payer_id

),

edits as (

    select
        claim_id,
        'COVERAGE_UNKNOWN' as edit_id,
        'coverage' as edit_subject,
        case
            when coverage_id is null then 'the claim has no primary coverage id'
            else {{ revcycle.format_text('primary coverage {} is not in the coverage list', 'coverage_id') }}
        end as detail
    from claim_coverage
    where not has_coverage

    union all

    select
        claim_id,
        'PAYER_UNKNOWN' as edit_id,
        'payer' as edit_subject,
        case
            when coverage_payer_id is null then {{ revcycle.format_text('coverage {} names no payer', 'coverage_id') }}
            else {{ revcycle.format_text(
                'payer {} of coverage {} is not in the payer list',
                'coverage_payer_id',
                'coverage_id'
            ) }}
        end as detail
    from claim_coverage
    where has_coverage and not has_payer

    union all

    select
        claim_id,
        'COVERAGE_NOT_ACTIVE' as edit_id,
        'coverage' as edit_subject,
        {{ revcycle.format_text(
            'coverage {} is active {} to {}; dates of service are {} to {}',
            'coverage_id',
            "coalesce(cast(effective_date as " ~ dbt.type_string() ~ "), '(no effective date)')",
            "coalesce(cast(end_date as " ~ dbt.type_string() ~ "), '(no end date)')",
            'service_date',
            'service_date_to'
        ) }} as detail
    from claim_coverage
    where
        has_coverage
        and (
            effective_date is null
            or effective_date > service_date
            or end_date < service_date_to
        )

    union all

    select
        claim_id,
        'MEMBER_ID_MISSING' as edit_id,
        'coverage' as edit_subject,
        {{ revcycle.format_text('coverage {} has no member id', 'coverage_id') }} as detail
    from claim_coverage
    where has_coverage and member_id is null

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
