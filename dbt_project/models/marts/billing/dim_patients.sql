with

patients as (

    select * from {{ ref('stg_emr__patients') }}

),

final as (

    select
        patient_id,
        mrn,
        last_name,
        first_name,
        middle_initial,
        sex,
        birth_date,
        address_line1,
        address_line2,
        city,
        state,
        zip,
        phone

    from patients

)

select * from final
