-- The eligibility inquiry writer's input (revcycle.eligibility): one row per encounter and
-- coverage an insurer could be asked about (int_encounter_coverages_listed), with what a 270
-- needs: payer, member id, subscriber and patient (names X12-clean, birth date, sex), the
-- billing provider (name, NPI, TIN) and whether the encounter was already billed (an original
-- 837 claim recorded in ops.submissions). The writer picks the dates. A view, always current.
with

encounter_coverages as (

    select * from {{ ref('int_encounter_coverages_listed') }}

),

payers as (

    select * from {{ ref('dim_payers') }}

),

patients as (

    select * from {{ ref('dim_patients') }}

),

providers as (

    select * from {{ ref('dim_providers') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

billed_encounters as (

    select distinct claims.encounter_id
    from claims
    inner join submissions
        on claims.claim_id = submissions.claim_id
    where submissions.claim_frequency_code = '1'

),

final as (

    select
        encounter_coverages.encounter_id,
        encounter_coverages.service_date,
        encounter_coverages.patient_id,
        encounter_coverages.coverage_id,
        encounter_coverages.coverage_order,
        encounter_coverages.payer_id,
        {{ x12_clean_text('payers.payer_name') }} as payer_name,
        encounter_coverages.member_id,
        encounter_coverages.subscriber_id,
        coalesce(encounter_coverages.relationship_to_subscriber = '18', false) as is_patient_subscriber,
        {{ x12_clean_text('subscriber.last_name') }} as subscriber_last_name,
        {{ x12_clean_text('subscriber.first_name') }} as subscriber_first_name,
        {{ x12_clean_text('subscriber.middle_initial') }} as subscriber_middle_initial,
        subscriber.birth_date as subscriber_birth_date,
        subscriber.sex as subscriber_sex,
        {{ x12_clean_text('patient.last_name') }} as patient_last_name,
        {{ x12_clean_text('patient.first_name') }} as patient_first_name,
        {{ x12_clean_text('patient.middle_initial') }} as patient_middle_initial,
        patient.birth_date as patient_birth_date,
        patient.sex as patient_sex,
        encounter_coverages.billing_provider_id,
        billing.npi as billing_provider_npi,
        {{ x12_clean_text('coalesce(billing.organization_name, billing.last_name)') }} as billing_provider_name,
        billing.tin as billing_provider_tin,
        billed_encounters.encounter_id is not null as is_billed

    from encounter_coverages
    left join payers
        on encounter_coverages.payer_id = payers.payer_id
    left join patients as subscriber
        on encounter_coverages.subscriber_id = subscriber.patient_id
    left join patients as patient
        on encounter_coverages.patient_id = patient.patient_id
    left join providers as billing
        on encounter_coverages.billing_provider_id = billing.provider_id
    left join billed_encounters
        on encounter_coverages.encounter_id = billed_encounters.encounter_id

)

select * from final
