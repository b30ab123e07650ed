-- One row per claim_id: one claim per encounter and its responsible payer (each encounter has
-- exactly one responsible payer, so encounter_id is unique here too). Every encounter becomes a
-- claim, including self-pay ones (is_self_pay) and ones with no charge lines (line_count = 0):
-- the scrubber holds those, and every billed dollar stays visible somewhere.
with

encounters as (

    select * from {{ ref('int_encounters_responsible_payer') }}

),

charges as (

    select * from {{ ref('int_charges_priced') }}

),

diagnoses as (

    select * from {{ ref('stg_emr__diagnoses') }}

),

line_totals as (

    select
        encounter_id,
        count(*) as line_count,
        sum(charge_amount) as total_charge_amount,
        min(service_date) as first_line_service_date,
        max(service_date) as last_line_service_date

    from charges
    group by encounter_id

),

diagnosis_counts as (

    select
        encounter_id,
        count(*) as diagnosis_count

    from diagnoses
    group by encounter_id

),

grouped as (

    select
        {{ claim_id('encounters.encounter_id', 'encounters.payer_id') }} as claim_id,
        encounters.encounter_id,
        encounters.patient_id,
        encounters.payer_id,
        encounters.payer_type,
        encounters.coverage_id,
        encounters.secondary_coverage_id,
        encounters.secondary_payer_id,
        -- The claim id the secondary payer is billed under (COB), fixed from the start so the
        -- remittance side can recognise it; null when there is nothing to bill a second payer.
        case
            when
                coalesce(
                    encounters.secondary_payer_id != encounters.payer_id, encounters.secondary_payer_id is not null
                )
                and not encounters.is_self_pay
                then {{ claim_id('encounters.encounter_id', 'encounters.secondary_payer_id') }}
        end as secondary_claim_id,
        encounters.subscriber_id,
        encounters.relationship_to_subscriber,
        encounters.member_id,
        encounters.group_number,
        encounters.claim_filing_indicator,
        encounters.claim_type,
        encounters.type_of_bill,
        encounters.place_of_service,
        encounters.billing_provider_id,
        encounters.rendering_provider_id,
        encounters.facility_provider_id,
        coalesce(line_totals.first_line_service_date, encounters.service_date) as service_date,
        coalesce(line_totals.last_line_service_date, encounters.service_date) as service_date_to,
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(diagnosis_counts.diagnosis_count, 0) as integer) as diagnosis_count,
        cast(coalesce(line_totals.total_charge_amount, 0) as decimal(18, 2)) as total_charge_amount,
        encounters.is_self_pay,
        encounters.has_primary_coverage

    from encounters
    left join line_totals
        on encounters.encounter_id = line_totals.encounter_id
    left join diagnosis_counts
        on encounters.encounter_id = diagnosis_counts.encounter_id

),

final as (

    select * from grouped

)

select * from final
