-- One row per secondary (COB) claim that may go out on an 837 now: fct_secondary_claims
-- status ready. The same columns as claims_ready_to_bill (macro bill_ready_claims_select),
-- billed to the secondary payer under secondary_claim_id with the secondary coverage's
-- subscriber (SBR01 S), plus the other_payer_* columns the writer puts in 2320/2330: the
-- primary payer, its subscriber, what it paid, the patient's share it left
-- (AMT*EAF) and its claim-level adjustments (a list of group/reason/amount/quantity).
-- Line-level adjudication is in secondary_claim_lines_ready_to_bill. A view, so a claim drops
-- out the moment its submission is recorded. No contract: DuckDB list-of-struct columns.
-- On the local Spark target (`spark`, an embedded Derby metastore) it is a table: Derby keeps
-- a view's SQL in at most 32,700 characters and Spark's spelling of x12_clean_text makes this
-- one longer. A real metastore (or Databricks) has no such limit.
{{ config(materialized=('table' if target.name == 'spark' else 'view'), contract={'enforced': false}) }}

with

secondary_claims as (

    select * from {{ ref('fct_secondary_claims') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

coverages as (

    select * from {{ ref('int_coverages_x12_text') }}

),

payers as (

    select * from {{ ref('int_payers_x12_text') }}

),

patients as (

    select * from {{ ref('int_patients_x12_text') }}

),

providers as (

    select * from {{ ref('int_providers_x12_text') }}

),

diagnoses as (

    select * from {{ ref('fct_claim_diagnoses') }}

),

ledger as (

    select * from {{ ref('fct_ar_ledger') }}

),

ready_claims as (

    -- fct_claims' columns with payer, coverage and subscriber those of the secondary payer.
    select
        {{ revcycle.star_replace(ref('fct_claims'), 'claims', [
            ('claim_id', 'secondary_claims.secondary_claim_id'),
            ('payer_id', 'secondary_claims.secondary_payer_id'),
            ('coverage_id', 'secondary_coverage.coverage_id'),
            ('subscriber_id', 'secondary_coverage.subscriber_id'),
            ('relationship_to_subscriber', 'secondary_coverage.relationship_to_subscriber'),
            ('member_id', 'secondary_coverage.member_id'),
            ('group_number', 'secondary_coverage.group_number'),
            ('claim_filing_indicator', 'secondary_payer.claim_filing_indicator'),
        ]) }},
        claims.claim_id as account_claim_id,
        claims.coverage_id as primary_coverage_id
    from secondary_claims
    inner join claims
        on secondary_claims.claim_id = claims.claim_id
    inner join coverages as secondary_coverage
        on claims.secondary_coverage_id = secondary_coverage.coverage_id
    inner join payers as secondary_payer
        on secondary_claims.secondary_payer_id = secondary_payer.payer_id
    where secondary_claims.secondary_status = 'ready'

),

diagnosis_codes as (

    select
        ready_claims.claim_id,
        {% for sequence in range(1, 13) %}
            max(diagnoses.icd10_code) filter (where diagnoses.diagnosis_sequence = {{ sequence }})
                as diagnosis_code_{{ sequence }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from ready_claims
    inner join diagnoses
        on ready_claims.account_claim_id = diagnoses.claim_id
    group by ready_claims.claim_id

),

primary_claim_adjustments as (

    -- The primary's claim-level CAS, net of reversals, by group and reason.
    select
        ledger.claim_id,
        ledger.group_code,
        ledger.reason_code,
        cast(-sum(ledger.amount) as decimal(18, 2)) as amount
    from ledger
    inner join secondary_claims
        on ledger.claim_id = secondary_claims.claim_id
    where
        ledger.payer_id = secondary_claims.primary_payer_id
        and ledger.payment_id is not null
        and ledger.group_code is not null
        and ledger.claim_line_id is null
    group by ledger.claim_id, ledger.group_code, ledger.reason_code
    having sum(ledger.amount) != 0

),

claim_adjustments as (

    select
        ready_claims.claim_id,
        {{ revcycle.struct_list(
            [
                ('group_code', 'primary_claim_adjustments.group_code'),
                ('reason_code', 'primary_claim_adjustments.reason_code'),
                ('amount', 'primary_claim_adjustments.amount'),
                ('quantity', 'cast(null as decimal(15, 2))'),
            ],
            order_by=['primary_claim_adjustments.group_code', 'primary_claim_adjustments.reason_code'],
        ) }} as other_payer_claim_adjustments
    from ready_claims
    inner join primary_claim_adjustments
        on ready_claims.account_claim_id = primary_claim_adjustments.claim_id
    group by ready_claims.claim_id

),

bill_columns as (

    {{ bill_ready_claims_select('S') }}

),

final as (

    select  -- noqa: ST06
        bill_columns.*,
        secondary_claims.primary_payer_id as other_payer_id,
        primary_payer.payer_name as other_payer_name,
        primary_payer.claim_filing_indicator as other_payer_claim_filing_indicator,
        primary_coverage.member_id as other_payer_member_id,
        primary_coverage.group_number as other_payer_group_number,
        coalesce(primary_coverage.relationship_to_subscriber, '18') as other_payer_relationship_code,
        primary_subscriber.last_name as other_subscriber_last_name,
        primary_subscriber.first_name as other_subscriber_first_name,
        primary_subscriber.middle_initial as other_subscriber_middle_initial,
        secondary_claims.primary_paid_amount as other_payer_paid_amount,
        secondary_claims.primary_patient_share_amount as other_payer_remaining_patient_liability,
        secondary_claims.primary_payer_claim_control_number as other_payer_claim_control_number,
        secondary_claims.primary_adjudication_date as other_payer_adjudication_date,
        claim_adjustments.other_payer_claim_adjustments,
        ready_claims.account_claim_id

    from bill_columns
    inner join ready_claims
        on bill_columns.claim_id = ready_claims.claim_id
    inner join secondary_claims
        on ready_claims.account_claim_id = secondary_claims.claim_id
    left join payers as primary_payer
        on secondary_claims.primary_payer_id = primary_payer.payer_id
    left join coverages as primary_coverage
        on ready_claims.primary_coverage_id = primary_coverage.coverage_id
    left join patients as primary_subscriber
        on primary_coverage.subscriber_id = primary_subscriber.patient_id
    left join claim_adjustments
        on bill_columns.claim_id = claim_adjustments.claim_id

)

select * from final
