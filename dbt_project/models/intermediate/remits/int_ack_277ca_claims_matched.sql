-- One row per 277CA claim status (ack_id), matched to our claim: normalised patient control
-- number = claim_id of a submitted claim whose service dates contain the 277CA service date
-- (when it has one); else the payer claim number (REF*1K) = CLP07 of a matched 835 claim
-- payment. claim_id is null when nothing matched (unmatched_reason). claim_id is the claim id
-- billed (a primary claim or its secondary claim, macro billed_claims), as in
-- int_ack_999_claims_matched; fct_claim_status_history maps it to the account.
-- ack_result: accepted or rejected from is_accepted, else from the category code set
-- (is_rejection), else unclear. A later 277CA repeating the same claim, category, code and date
-- adds nothing (is_repeat_acknowledgement). event_date: STC02, else the day it was loaded.
with

acks as (

    select * from {{ ref('stg_x12__ack_277ca_claims') }}

),

primary_claims as (

    select * from {{ ref('fct_claims') }}

),

claims as (

    -- The claim ids we bill under: primary claims and their secondary (COB) claims.
    select
        billed_claim_id as claim_id,
        service_date,
        service_date_to
    from {{ billed_claims('primary_claims') }} as billed

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

claim_payments as (

    select * from {{ ref('int_remit_claims_matched') }}

),

categories as (

    select * from {{ ref('claim_status_category_codes') }}

),

status_codes as (

    select * from {{ ref('claim_status_codes') }}

),

submitted_claims as (

    select distinct claim_id
    from submissions
    where claim_id is not null

),

control_number_claims as (

    select
        payer_claim_control_number,
        min(coalesce(billed_claim_id, claim_id)) as claim_id
    from claim_payments
    where claim_id is not null and payer_claim_control_number is not null
    group by payer_claim_control_number
    having count(distinct coalesce(billed_claim_id, claim_id)) = 1

),

direct as (

    select
        acks.ack_id,
        claims.claim_id,
        submitted_claims.claim_id is not null as is_submitted,
        (
            acks.service_date is null
            or acks.service_date between claims.service_date and claims.service_date_to
        ) as is_dates_compatible
    from acks
    inner join claims
        on acks.patient_control_number_normalised = claims.claim_id
    left join submitted_claims
        on claims.claim_id = submitted_claims.claim_id

),

matched as (

    select
        acks.*,
        case
            when direct.is_submitted and direct.is_dates_compatible then direct.claim_id
            else control_number_claims.claim_id
        end as claim_id,
        case
            when direct.is_submitted and direct.is_dates_compatible then 'patient_control_number'
            when control_number_claims.claim_id is not null then 'payer_claim_control_number'
        end as match_method,
        case
            when direct.is_submitted and direct.is_dates_compatible then null
            when control_number_claims.claim_id is not null then null
            when direct.claim_id is not null and not direct.is_submitted then 'claim_not_submitted'
            when direct.claim_id is not null then 'service_date_outside_claim'
            else 'unknown_patient_control_number'
        end as unmatched_reason
    from acks
    left join direct
        on acks.ack_id = direct.ack_id
    left join control_number_claims
        on acks.payer_claim_control_number = control_number_claims.payer_claim_control_number

),

final as (

    select
        matched.ack_id,
        matched.claim_id,
        matched.match_method,
        matched.unmatched_reason,
        matched.patient_control_number,
        matched.payer_claim_control_number,
        matched.status_category,
        categories.description as status_category_description,
        matched.status_code,
        status_codes.description as status_code_description,
        matched.status_effective_date,
        matched.status_codes,
        matched.total_charge_amount,
        matched.file_name,
        matched.segment_position,
        matched.claim_id is not null as is_matched,
        case
            when coalesce(matched.is_accepted, not categories.is_rejection) then 'accepted'
            when not coalesce(matched.is_accepted, not categories.is_rejection) then 'rejected'
            else 'unclear'
        end as ack_result,
        coalesce(matched.status_effective_date, cast(matched.loaded_at as date)) as event_date,
        row_number() over (
            partition by
                matched.patient_control_number_normalised,
                matched.payer_claim_control_number,
                matched.status_category,
                matched.status_code,
                matched.status_effective_date
            order by matched.loaded_at, matched.source_file, matched.segment_position, matched.ack_id
        ) > 1 as is_repeat_acknowledgement

    from matched
    left join categories
        on matched.status_category = categories.status_category
    left join status_codes
        on matched.status_code = status_codes.status_code

)

select * from final
