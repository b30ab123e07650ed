-- One row per balancing check the 835 parser ran (payment_id, claim_payment_id,
-- service_line_id, check_level), typed. The parser records imbalances and never corrects them;
-- reconciliation turns the failed ones into work items.
with

source as (

    select * from {{ source('x12', 'x12_remit_balance_checks') }}
    {{ raw_loaded_since_last_build() }}

),

renamed as (

    select
        {{ clean_text('payment_id') }} as payment_id,
        {{ clean_text('claim_payment_id') }} as claim_payment_id,
        {{ clean_text('service_line_id') }} as service_line_id,
        lower(trim(level)) as check_level,
        cast(expected_amount as decimal(18, 2)) as expected_amount,
        cast(actual_amount as decimal(18, 2)) as actual_amount,
        cast(difference_amount as decimal(18, 2)) as difference_amount,
        cast(is_balanced as boolean) as is_balanced,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    {{ not_already_staged(['payment_id', 'claim_payment_id', 'service_line_id', 'check_level'], 'renamed') }}
    qualify row_number() over (
        partition by payment_id, claim_payment_id, service_line_id, check_level
        order by loaded_at, source_file
    ) = 1

),

final as (

    select * from first_load

)

select * from final
