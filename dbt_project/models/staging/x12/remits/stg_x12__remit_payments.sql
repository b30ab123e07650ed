-- One row per 835 transaction set (payment_id): a check or EFT, typed and trimmed. Ids are
-- derived from the file's sha256, so a row id repeats only if the same file was loaded twice;
-- the first load is kept. Re-deliveries of the same payment in other files (new bytes, same
-- trace number) are kept here and resolved in int_remit_payments_deduplicated.
with

source as (

    select * from {{ source('x12', 'x12_remit_payments') }}
    {{ raw_loaded_since_last_build() }}

),

renamed as (

    select
        {{ clean_text('payment_id') }} as payment_id,
        {{ clean_text('file_name') }} as file_name,
        {{ clean_code('file_sha256') }} as file_sha256,
        {{ clean_code('interchange_control_number') }} as interchange_control_number,
        {{ clean_code('transaction_control_number') }} as transaction_control_number,
        {{ clean_code('handling_code') }} as handling_code,
        cast(payment_amount as decimal(18, 2)) as payment_amount,
        {{ clean_code('credit_debit_flag') }} as credit_debit_flag,
        {{ clean_code('payment_method') }} as payment_method,
        cast(payment_date as date) as payment_date,
        {{ clean_code('trace_number') }} as trace_number,
        {{ clean_code('originating_company_id') }} as originating_company_id,
        {{ clean_text('payer_name') }} as payer_name,
        {{ clean_code('payer_id') }} as payer_id,
        {{ clean_text('payee_name') }} as payee_name,
        {{ clean_code('payee_id_qualifier') }} as payee_id_qualifier,
        {{ clean_code('payee_id') }} as payee_id,
        cast(production_date as date) as production_date,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    {{ not_already_staged(['payment_id'], 'renamed') }}
    qualify row_number() over (partition by payment_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
