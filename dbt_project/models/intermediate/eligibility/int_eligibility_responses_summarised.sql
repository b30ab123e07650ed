-- One row per 271 answer (response_id) with what registration needs from its EB segments:
-- the coverage status, the deductible remaining (EB*C, time period 29), the copay (EB*B), the
-- coinsurance (EB*A, EB08 as a percent: 0.2 -> 20.00) and the network. Each figure is taken
-- from the first EB of its kind (by position) that is in network or says nothing about the
-- network (EB12 Y or empty), else from the first out-of-network one (EB12 N).
-- is_out_of_network: the payer answered with network-specific benefits and all of them are
-- out of network (EB12 N, none Y); null when no benefit says (e.g. an inactive answer).
with

responses as (

    select * from {{ ref('stg_x12__eligibility_responses') }}

),

benefits as (

    select
        *,
        coalesce(in_plan_network, 'Y') <> 'N' as is_in_network_or_unspecified
    from {{ ref('stg_x12__eligibility_benefits') }}

),

figures as (

    select
        response_id,
        coalesce(
            min_by(benefit_amount, segment_position) filter (
                where benefit_code = 'C' and time_period_qualifier = '29'
                and benefit_amount is not null and is_in_network_or_unspecified
            ),
            min_by(benefit_amount, segment_position) filter (
                where benefit_code = 'C' and time_period_qualifier = '29'
                and benefit_amount is not null
            )
        ) as deductible_remaining_amount,
        coalesce(
            min_by(benefit_amount, segment_position) filter (
                where benefit_code = 'B' and benefit_amount is not null
                and is_in_network_or_unspecified
            ),
            min_by(benefit_amount, segment_position) filter (
                where benefit_code = 'B' and benefit_amount is not null
            )
        ) as copay_amount,
        coalesce(
            min_by(benefit_percent, segment_position) filter (
                where benefit_code = 'A' and benefit_percent is not null
                and is_in_network_or_unspecified
            ),
            min_by(benefit_percent, segment_position) filter (
                where benefit_code = 'A' and benefit_percent is not null
            )
        ) as coinsurance_fraction,
        coalesce(bool_or(in_plan_network = 'Y'), false) as has_in_network_benefits,
        coalesce(bool_or(in_plan_network = 'N'), false) as has_out_of_network_benefits

    from benefits
    group by response_id

),

final as (

    select
        responses.response_id,
        responses.trace_number_normalised as inquiry_id,
        responses.payer_id,
        responses.response_date,
        responses.eligibility_date,
        responses.subscriber_level,
        responses.reject_reason_code,
        responses.file_name,
        responses.segment_position,
        responses.loaded_at,
        cast(figures.deductible_remaining_amount as decimal(18, 2)) as deductible_remaining_amount,
        cast(figures.copay_amount as decimal(18, 2)) as copay_amount,
        cast(figures.coinsurance_fraction * 100 as decimal(9, 2)) as coinsurance_percent,
        case
            when responses.coverage_status in ('active', 'inactive') then responses.coverage_status
            when responses.reject_reason_code is not null then 'rejected'
            else 'unclear'
        end as eligibility_status,
        case
            when figures.has_in_network_benefits then false
            when figures.has_out_of_network_benefits then true
        end as is_out_of_network

    from responses
    left join figures
        on responses.response_id = figures.response_id

)

select * from final
