-- One row per 835 claim payment (claim_payment_id, one CLP), typed and trimmed.
-- patient_control_number keeps CLP01 as the payer returned it (trimmed);
-- patient_control_number_normalised is the matching key: upper-cased and trimmed, because
-- payers upper-case (and sometimes truncate) what we sent in CLM01. Null when empty.
with

source as (

    select * from {{ source('x12', 'x12_remit_claims') }}
    {{ raw_loaded_since_last_build() }}

),

renamed as (

    select
        {{ clean_text('claim_payment_id') }} as claim_payment_id,
        {{ clean_text('payment_id') }} as payment_id,
        {{ clean_text('patient_control_number') }} as patient_control_number,
        {{ clean_code('patient_control_number') }} as patient_control_number_normalised,
        {{ clean_code('claim_status_code') }} as claim_status_code,
        cast(total_charge_amount as decimal(18, 2)) as total_charge_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(patient_responsibility_amount as decimal(18, 2)) as patient_responsibility_amount,
        {{ clean_code('claim_filing_indicator') }} as claim_filing_indicator,
        {{ clean_code('payer_claim_control_number') }} as payer_claim_control_number,
        {{ clean_code('facility_type_code') }} as facility_type_code,
        {{ clean_code('claim_frequency_code') }} as claim_frequency_code,
        cast(service_date_from as date) as service_date_from,
        cast(service_date_to as date) as service_date_to,
        cast(received_date as date) as received_date,
        cast(interest_amount as decimal(18, 2)) as interest_amount,
        cast(coverage_amount as decimal(18, 2)) as coverage_amount,
        {{ clean_code('corrected_patient_control_number') }} as corrected_patient_control_number,
        cast(position as integer) as segment_position,
        {{ clean_text('_source_file') }} as source_file,
        cast(_loaded_at as timestamp) as loaded_at

    from source

),

first_load as (

    select *
    from renamed
    {{ not_already_staged(['claim_payment_id'], 'renamed') }}
    qualify row_number() over (partition by claim_payment_id order by loaded_at, source_file) = 1

),

final as (

    select * from first_load

)

select * from final
