-- One row per payer (dim_payers) with its free text as an 837 carries it (macro
-- x12_clean_text), cleaned once per payer rather than once per claim (see int_patients_x12_text).
with

payers as (

    select * from {{ ref('dim_payers') }}

),

final as (

    select
        payers.payer_id,
        {{ x12_clean_text('payers.payer_name') }} as payer_name,
        payers.payer_type,
        payers.claim_filing_indicator,
        payers.timely_filing_days,
        payers.fee_schedule_id,
        payers.allowed_percent_of_charge,
        {{ x12_clean_text('payers.address_line1') }} as address_line1,
        {{ x12_clean_text('payers.city') }} as city,
        {{ x12_clean_text('payers.state') }} as state,
        payers.zip,
        payers.is_self_pay

    from payers

)

select * from final
