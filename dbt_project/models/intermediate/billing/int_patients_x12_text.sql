-- One row per patient (dim_patients) with its free text as an 837 carries it (macro
-- x12_clean_text). Cleaned once per patient here, not once per claim and role in the
-- ready-to-bill views: at a million claims the per-claim cleaning was most of what those
-- views cost, and they are read by the dbt tests, the claims gate and the writer (bench/README.md).
with

patients as (

    select * from {{ ref('dim_patients') }}

),

final as (

    select
        patients.patient_id,
        patients.mrn,
        {{ x12_clean_text('patients.last_name') }} as last_name,
        {{ x12_clean_text('patients.first_name') }} as first_name,
        {{ x12_clean_text('patients.middle_initial') }} as middle_initial,
        patients.sex,
        patients.birth_date,
        {{ x12_clean_text('patients.address_line1') }} as address_line1,
        {{ x12_clean_text('patients.address_line2') }} as address_line2,
        {{ x12_clean_text('patients.city') }} as city,
        {{ x12_clean_text('patients.state') }} as state,
        patients.zip,
        patients.phone

    from patients

)

select * from final
