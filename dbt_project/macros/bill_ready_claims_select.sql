{#- The select list and joins of the ready-to-bill claim views (claims_ready_to_bill for
    primary claims, secondary_claims_ready_to_bill for COB claims), over a CTE named
    ready_claims with fct_claims' columns (payer, coverage and subscriber already those of the
    payer billed) and a CTE diagnosis_codes. One definition, so both views give the 837 writer
    exactly the same columns. The CTEs payers, coverages, patients and providers are the
    int_*_x12_text models, whose free text is already cleaned for X12 (x12_clean_text), so the
    select list takes it as is. -#}
{% macro bill_ready_claims_select(payer_responsibility_code) -%}
    select
        ready_claims.claim_id,
        ready_claims.claim_type,
        cast('1' as {{ dbt.type_string() }}) as claim_frequency_code,
        ready_claims.payer_id,
        payers.payer_name as payer_name,
        payers.address_line1 as payer_address_line1,
        payers.city as payer_city,
        payers.state as payer_state,
        payers.zip as payer_zip,
        ready_claims.claim_filing_indicator,
        cast('{{ payer_responsibility_code }}' as {{ dbt.type_string() }}) as payer_responsibility_code,
        ready_claims.subscriber_id,
        ready_claims.member_id,
        ready_claims.group_number,
        coverages.plan_name as plan_name,
        ready_claims.relationship_to_subscriber,
        coalesce(ready_claims.relationship_to_subscriber = '18', false) as is_patient_subscriber,
        subscriber.last_name as subscriber_last_name,
        subscriber.first_name as subscriber_first_name,
        subscriber.middle_initial as subscriber_middle_initial,
        subscriber.address_line1 as subscriber_address_line1,
        subscriber.address_line2 as subscriber_address_line2,
        subscriber.city as subscriber_city,
        subscriber.state as subscriber_state,
        subscriber.zip as subscriber_zip,
        subscriber.birth_date as subscriber_birth_date,
        subscriber.sex as subscriber_sex,
        ready_claims.patient_id,
        patient.last_name as patient_last_name,
        patient.first_name as patient_first_name,
        patient.middle_initial as patient_middle_initial,
        patient.address_line1 as patient_address_line1,
        patient.address_line2 as patient_address_line2,
        patient.city as patient_city,
        patient.state as patient_state,
        patient.zip as patient_zip,
        patient.birth_date as patient_birth_date,
        patient.sex as patient_sex,
        billing.npi as billing_provider_npi,
        billing.organization_or_last_name as billing_provider_name,
        billing.taxonomy_code as billing_provider_taxonomy,
        billing.tin as billing_provider_tin,
        billing.address_line1 as billing_provider_address_line1,
        billing.city as billing_provider_city,
        billing.state as billing_provider_state,
        billing.zip as billing_provider_zip,
        rendering.npi as rendering_provider_npi,
        rendering.last_or_organization_name as rendering_provider_last_name,
        rendering.first_name as rendering_provider_first_name,
        rendering.taxonomy_code as rendering_provider_taxonomy,
        facility.npi as facility_npi,
        facility.organization_or_last_name as facility_name,
        facility.address_line1 as facility_address_line1,
        facility.city as facility_city,
        facility.state as facility_state,
        facility.zip as facility_zip,
        ready_claims.service_date,
        ready_claims.service_date_to,
        ready_claims.place_of_service,
        ready_claims.type_of_bill,
        ready_claims.total_charge_amount,
        ready_claims.line_count,
        ready_claims.diagnosis_count,
        {% for sequence in range(1, 13) %}
            diagnosis_codes.diagnosis_code_{{ sequence }}{% if not loop.last %},{% endif %}
        {% endfor %}

    from ready_claims
    left join payers
        on ready_claims.payer_id = payers.payer_id
    left join coverages
        on ready_claims.coverage_id = coverages.coverage_id
    left join patients as subscriber
        on ready_claims.subscriber_id = subscriber.patient_id
    left join patients as patient
        on ready_claims.patient_id = patient.patient_id
    left join providers as billing
        on ready_claims.billing_provider_id = billing.provider_id
    left join providers as rendering
        on ready_claims.rendering_provider_id = rendering.provider_id
    left join providers as facility
        on ready_claims.facility_provider_id = facility.provider_id
    left join diagnosis_codes
        on ready_claims.claim_id = diagnosis_codes.claim_id

{%- endmacro %}
