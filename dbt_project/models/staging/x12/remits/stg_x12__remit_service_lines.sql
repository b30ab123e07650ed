-- One row per 835 service line payment (service_line_id, one SVC), typed and trimmed. Codes
-- are upper-cased text (leading zeros kept: revenue code 0450); line_control_number is the
-- REF*6R the payer echoed, upper-cased like our claim_line_id.
with

source as (

    select * from {{ source('x12', 'x12_remit_service_lines') }}
    {{ raw_loaded_since_last_build() }}

),

renamed as (

    select
        {{ clean_text('service_line_id') }} as service_line_id,
        {{ clean_text('claim_payment_id') }} as claim_payment_id,
        {{ clean_code('procedure_qualifier') }} as procedure_qualifier,
        {{ clean_code('procedure_code') }} as procedure_code,
        {{ clean_code('modifier_1') }} as modifier_1,
        {{ clean_code('modifier_2') }} as modifier_2,
        {{ clean_code('modifier_3') }} as modifier_3,
        {{ clean_code('modifier_4') }} as modifier_4,
        cast(charge_amount as decimal(18, 2)) as charge_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        {{ clean_code('revenue_code') }} as revenue_code,
        cast(units_paid as decimal(18, 4)) as units_paid,
        {{ clean_code('original_procedure_code') }} as original_procedure_code,
        cast(original_units as decimal(18, 4)) as original_units,
        cast(service_date_from as date) as service_date_from,
        cast(service_date_to as date) as service_date_to,
        {{ clean_code('line_control_number') }} as line_control_number,
        cast(allowed_amount as decimal(18, 2)) as allowed_amount,
        {{ clean_code('remark_codes') }} as remark_codes,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    {{ not_already_staged(['service_line_id'], 'renamed') }}
    qualify row_number() over (partition by service_line_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
