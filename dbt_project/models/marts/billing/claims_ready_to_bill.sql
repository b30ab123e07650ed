-- One row per claim that may go out on an 837 now (docs/claims-ready-to-bill.md): scrub status
-- ready (fct_claim_scrub_status; self-pay and held claims never appear) and not already sent
-- as an original (claim_frequency_code 1 in ops.submissions). A view, so a claim disappears
-- the moment the writer records its submission. Free text (names, addresses, cities, plan
-- and payer names) comes upper-cased and cleared of X12 delimiters and control characters
-- (the int_*_x12_text models), so the writer puts it in the file as is. Diagnoses are pivoted
-- into HI order (int_claim_diagnosis_codes); the scrubber guarantees 1-12 diagnoses with
-- sequences 1..n.
with

scrub_status as (

    select * from {{ ref('fct_claim_scrub_status') }}

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

claims as (

    select * from {{ ref('fct_claims') }}

),

payers as (

    select * from {{ ref('int_payers_x12_text') }}

),

coverages as (

    select * from {{ ref('int_coverages_x12_text') }}

),

patients as (

    select * from {{ ref('int_patients_x12_text') }}

),

providers as (

    select * from {{ ref('int_providers_x12_text') }}

),

submitted_originals as (

    select distinct claim_id
    from submissions
    where claim_frequency_code = '1'

),

ready_claims as (

    select claims.*
    from claims
    inner join scrub_status
        on claims.claim_id = scrub_status.claim_id
    left join submitted_originals
        on claims.claim_id = submitted_originals.claim_id
    where
        scrub_status.scrub_status = 'ready'
        and submitted_originals.claim_id is null

),

diagnosis_codes as (

    select * from {{ ref('int_claim_diagnosis_codes') }}

),

final as (

    {{ bill_ready_claims_select('P') }}

)

select * from final
