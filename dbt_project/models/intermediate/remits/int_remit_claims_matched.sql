-- One row per 835 claim payment (claim_payment_id) of a posted payment (duplicate deliveries
-- excluded), matched to our claim, never dropped: claim_id is null when no claim matched and
-- unmatched_reason says why (the work queue picks these up).
--
-- CLP01 may name a primary claim or its secondary (COB) claim (macro billed_claims):
-- billed_claim_id is the claim id matched, claim_id the account (fct_claims) the money posts
-- to, payer_sequence primary or secondary.
--
-- Matching never relies on CLP01 alone. A candidate claim is found by
--   1. patient_control_number: normalised CLP01 = fct_claims.claim_id; else
--   2. truncated_patient_control_number: CLP01 of at least remit_min_truncated_pcn_length
--      characters that is the start of claim ids (payers truncate CLP01);
-- and accepted only when all hold:
--   - the claim was submitted (ops.submissions);
--   - the payer agrees: the remit's payer_id is unknown, or equals the claim's payer or a payer
--     the claim was sent to;
--   - the service dates agree: the remit's dates (claim DTM*232/233, else the span of its
--     lines' dates) are unknown or fall within the claim's service_date..service_date_to.
-- A truncated CLP01 that fits several claims is ambiguous. A claim payment with no acceptable
-- candidate (placeholder CLP01, ambiguous, ...) is then
--   3. payer_claim_control_number: linked through CLP07 to the claim of another claim payment
--      of the same payer matched by 1 or 2 (dates must still agree).
--
-- Reversals (CLP02 22) are linked to the payment they reverse: the latest earlier claim payment
-- of the same claim and payer with the same CLP07 (or, when either CLP07 is missing, with the
-- opposite paid amount). The first non-reversal claim payment of the claim after a reversal is
-- its correction. Order is payment_sequence, then position in the file.
with

remit_claims as (

    select * from {{ ref('stg_x12__remit_claims') }}

),

payments as (

    select * from {{ ref('int_remit_payments_deduplicated') }}
    where not is_duplicate_delivery

),

service_lines as (

    select * from {{ ref('stg_x12__remit_service_lines') }}

),

primary_claims as (

    select * from {{ ref('fct_claims') }}

),

claims as (

    -- Every claim id we bill under: the primary claims and their secondary (COB) claims. In
    -- this model claim_id is the billed id (CLP01 answers it); the final select turns it into
    -- the account claim_id and keeps the billed one as billed_claim_id.
    select
        billed_claim_id as claim_id,
        claim_id as account_claim_id,
        payer_id,
        payer_sequence,
        secondary_payer_id,
        service_date,
        service_date_to
    from {{ billed_claims('primary_claims') }} as billed

),

submissions as (

    select * from {{ ref('stg_ops__submissions') }}

),

submitted_claim_payers as (

    select distinct
        claim_id,
        payer_id
    from submissions
    where claim_id is not null

),

submitted_claims as (

    select distinct claim_id
    from submitted_claim_payers

),

line_summary as (

    select
        claim_payment_id,
        count(*) as service_line_count,
        sum(paid_amount) as service_line_paid_amount,
        min(service_date_from) as line_service_date_from,
        max(coalesce(service_date_to, service_date_from)) as line_service_date_to
    from service_lines
    group by claim_payment_id

),

claim_payments as (

    select
        remit_claims.claim_payment_id,
        remit_claims.payment_id,
        payments.payment_sequence,
        remit_claims.segment_position,
        payments.event_date,
        payments.payer_id,
        payments.trace_number,
        remit_claims.patient_control_number,
        remit_claims.patient_control_number_normalised,
        {{ is_placeholder_patient_control_number('remit_claims.patient_control_number_normalised') }}
            as is_placeholder_patient_control_number,
        remit_claims.claim_status_code,
        remit_claims.total_charge_amount,
        remit_claims.paid_amount,
        remit_claims.patient_responsibility_amount,
        remit_claims.payer_claim_control_number,
        remit_claims.claim_frequency_code,
        remit_claims.interest_amount,
        coalesce(remit_claims.service_date_from, line_summary.line_service_date_from) as remit_service_date_from,
        coalesce(
            remit_claims.service_date_to,
            line_summary.line_service_date_to,
            remit_claims.service_date_from
        ) as remit_service_date_to,
        cast(coalesce(line_summary.service_line_count, 0) as integer) as service_line_count,
        cast(coalesce(line_summary.service_line_paid_amount, 0) as decimal(18, 2)) as service_line_paid_amount

    from remit_claims
    inner join payments
        on remit_claims.payment_id = payments.payment_id
    left join line_summary
        on remit_claims.claim_payment_id = line_summary.claim_payment_id

),

exact_candidates as (

    select
        claim_payments.claim_payment_id,
        claims.claim_id,
        'patient_control_number' as match_method,
        1 as method_rank
    from claim_payments
    inner join claims
        on claim_payments.patient_control_number_normalised = claims.claim_id
    where not claim_payments.is_placeholder_patient_control_number

),

truncated_candidates as (

    -- The equality on the first characters lets the database hash-join; the second condition
    -- is the real test (CLP01 is the start of the claim id).
    select
        claim_payments.claim_payment_id,
        claims.claim_id,
        'truncated_patient_control_number' as match_method,
        2 as method_rank
    from claim_payments
    inner join claims
        on
            substr(claims.claim_id, 1, {{ remit_min_truncated_pcn_length() }})
            = substr(claim_payments.patient_control_number_normalised, 1, {{ remit_min_truncated_pcn_length() }})
            and substr(claims.claim_id, 1, length(claim_payments.patient_control_number_normalised))
            = claim_payments.patient_control_number_normalised
    left join exact_candidates
        on claim_payments.claim_payment_id = exact_candidates.claim_payment_id
    where
        exact_candidates.claim_payment_id is null
        and not claim_payments.is_placeholder_patient_control_number
        and length(claim_payments.patient_control_number_normalised) >= {{ remit_min_truncated_pcn_length() }}
        and length(claims.claim_id) > length(claim_payments.patient_control_number_normalised)

),

candidates as (

    select * from exact_candidates
    union all
    select * from truncated_candidates

),

checked_candidates as (

    select
        candidates.claim_payment_id,
        candidates.claim_id,
        candidates.match_method,
        candidates.method_rank,
        submitted_claims.claim_id is not null as is_submitted,
        (
            claim_payments.payer_id is null
            or claims.payer_id is null
            or claims.payer_id = claim_payments.payer_id
            or submitted_claim_payers.claim_id is not null
        ) as is_payer_compatible,
        coalesce(claims.secondary_payer_id = claim_payments.payer_id, false) as is_secondary_payer,
        (
            (
                claim_payments.remit_service_date_from is null
                or claim_payments.remit_service_date_from between claims.service_date and claims.service_date_to
            )
            and (
                claim_payments.remit_service_date_to is null
                or claim_payments.remit_service_date_to between claims.service_date and claims.service_date_to
            )
        ) as is_dates_compatible

    from candidates
    inner join claim_payments
        on candidates.claim_payment_id = claim_payments.claim_payment_id
    inner join claims
        on candidates.claim_id = claims.claim_id
    left join submitted_claims
        on candidates.claim_id = submitted_claims.claim_id
    left join submitted_claim_payers
        on
            candidates.claim_id = submitted_claim_payers.claim_id
            and claim_payments.payer_id = submitted_claim_payers.payer_id

),

valid_candidates as (

    select
        *,
        rank() over (partition by claim_payment_id order by method_rank) as method_preference
    from checked_candidates
    where is_submitted and is_payer_compatible and is_dates_compatible

),

direct_matches as (

    select
        claim_payment_id,
        min(match_method) as match_method,
        min(claim_id) as claim_id,
        count(*) as candidate_count
    from valid_candidates
    where method_preference = 1
    group by claim_payment_id

),

unique_direct_matches as (

    select * from direct_matches
    where candidate_count = 1

),

control_number_anchors as (

    -- CLP07 of one payer -> the claim its directly matched claim payments belong to.
    select
        claim_payments.payer_id,
        claim_payments.payer_claim_control_number,
        min(unique_direct_matches.claim_id) as claim_id,
        count(distinct unique_direct_matches.claim_id) as claim_count
    from claim_payments
    inner join unique_direct_matches
        on claim_payments.claim_payment_id = unique_direct_matches.claim_payment_id
    where claim_payments.payer_claim_control_number is not null
    group by claim_payments.payer_id, claim_payments.payer_claim_control_number

),

linked_matches as (

    select
        claim_payments.claim_payment_id,
        control_number_anchors.claim_id
    from claim_payments
    inner join control_number_anchors
        on
            claim_payments.payer_claim_control_number = control_number_anchors.payer_claim_control_number
            and coalesce(claim_payments.payer_id, '') = coalesce(control_number_anchors.payer_id, '')
            and control_number_anchors.claim_count = 1
    inner join claims
        on control_number_anchors.claim_id = claims.claim_id
    left join unique_direct_matches
        on claim_payments.claim_payment_id = unique_direct_matches.claim_payment_id
    where
        unique_direct_matches.claim_payment_id is null
        and (
            claim_payments.remit_service_date_from is null
            or claim_payments.remit_service_date_from between claims.service_date and claims.service_date_to
        )
        and (
            claim_payments.remit_service_date_to is null
            or claim_payments.remit_service_date_to between claims.service_date and claims.service_date_to
        )

),

failed_candidates as (

    -- For an unmatched claim payment, the best candidate that failed and why.
    select
        claim_payment_id,
        claim_id,
        failure_reason
    from (
        select
            claim_payment_id,
            claim_id,
            case
                when not is_submitted then 'claim_not_submitted'
                when not is_payer_compatible and is_secondary_payer then 'secondary_payer_remit'
                when not is_payer_compatible then 'payer_mismatch'
                else 'service_dates_outside_claim'
            end as failure_reason,
            row_number() over (partition by claim_payment_id order by method_rank, claim_id) as candidate_order
        from checked_candidates
        where not (is_submitted and is_payer_compatible and is_dates_compatible)
    ) as failed
    where candidate_order = 1

),

matched as (

    select
        claim_payments.*,
        coalesce(unique_direct_matches.claim_id, linked_matches.claim_id) as claim_id,
        case
            when unique_direct_matches.claim_id is not null then unique_direct_matches.match_method
            when linked_matches.claim_id is not null then 'payer_claim_control_number'
        end as match_method,
        case
            when unique_direct_matches.claim_id is not null or linked_matches.claim_id is not null then null
            when direct_matches.candidate_count > 1 then 'ambiguous_patient_control_number'
            when claim_payments.is_placeholder_patient_control_number then 'placeholder_patient_control_number'
            when failed_candidates.failure_reason is not null then failed_candidates.failure_reason
            else 'unknown_patient_control_number'
        end as unmatched_reason,
        case
            when unique_direct_matches.claim_id is null and linked_matches.claim_id is null
                then failed_candidates.claim_id
        end as candidate_claim_id

    from claim_payments
    left join unique_direct_matches
        on claim_payments.claim_payment_id = unique_direct_matches.claim_payment_id
    left join linked_matches
        on claim_payments.claim_payment_id = linked_matches.claim_payment_id
    left join direct_matches
        on claim_payments.claim_payment_id = direct_matches.claim_payment_id
    left join failed_candidates
        on claim_payments.claim_payment_id = failed_candidates.claim_payment_id

),

reversal_originals as (

    select
        reversal_claim_payment_id,
        original_claim_payment_id
    from (
        select
            reversal.claim_payment_id as reversal_claim_payment_id,
            original.claim_payment_id as original_claim_payment_id,
            row_number() over (
                partition by reversal.claim_payment_id
                order by
                    case
                        when
                            original.payment_sequence < reversal.payment_sequence
                            or (
                                original.payment_sequence = reversal.payment_sequence
                                and original.segment_position < reversal.segment_position
                            )
                            then 0
                        else 1
                    end,
                    original.payment_sequence desc,
                    original.segment_position desc
            ) as preference
        from matched as reversal
        inner join matched as original
            on
                reversal.claim_id = original.claim_id
                and reversal.claim_payment_id != original.claim_payment_id
                and coalesce(reversal.payer_id, '') = coalesce(original.payer_id, '')
                and (
                    reversal.payer_claim_control_number = original.payer_claim_control_number
                    or (
                        (reversal.payer_claim_control_number is null or original.payer_claim_control_number is null)
                        and original.paid_amount = -reversal.paid_amount
                    )
                )
        where
            reversal.claim_status_code = '22'
            and original.claim_status_code is distinct from '22'
    ) as ranked
    where preference = 1

),

reversal_corrections as (

    select
        correction_claim_payment_id,
        corrected_claim_payment_id
    from (
        select
            later.claim_payment_id as correction_claim_payment_id,
            reversal_originals.original_claim_payment_id as corrected_claim_payment_id,
            row_number() over (
                partition by reversal.claim_payment_id
                order by later.payment_sequence, later.segment_position
            ) as correction_order,
            row_number() over (
                partition by later.claim_payment_id
                order by reversal.payment_sequence desc, reversal.segment_position desc
            ) as reversal_order
        from matched as reversal
        inner join reversal_originals
            on reversal.claim_payment_id = reversal_originals.reversal_claim_payment_id
        inner join matched as later
            on
                reversal.claim_id = later.claim_id
                and later.claim_status_code is distinct from '22'
                and reversal_originals.original_claim_payment_id != later.claim_payment_id
                and (
                    reversal.payment_sequence < later.payment_sequence
                    or (
                        reversal.payment_sequence = later.payment_sequence
                        and reversal.segment_position < later.segment_position
                    )
                )
    ) as ranked
    where correction_order = 1 and reversal_order = 1

),

final as (

    select
        matched.claim_payment_id,
        matched.payment_id,
        matched.payment_sequence,
        matched.segment_position,
        matched.event_date,
        matched.payer_id,
        matched.trace_number,
        matched.patient_control_number,
        matched.patient_control_number_normalised,
        matched.is_placeholder_patient_control_number,
        matched.claim_status_code,
        matched.total_charge_amount,
        matched.paid_amount,
        matched.patient_responsibility_amount,
        matched.payer_claim_control_number,
        matched.claim_frequency_code,
        matched.interest_amount,
        matched.remit_service_date_from,
        matched.remit_service_date_to,
        matched.service_line_count,
        matched.service_line_paid_amount,
        claims.account_claim_id as claim_id,
        matched.claim_id as billed_claim_id,
        claims.payer_sequence,
        matched.match_method,
        matched.unmatched_reason,
        matched.candidate_claim_id,
        claims.payer_id as claim_payer_id,
        reversal_originals.original_claim_payment_id as reversed_claim_payment_id,
        reversal_corrections.corrected_claim_payment_id,
        matched.claim_id is not null as is_matched,
        coalesce(matched.claim_status_code = '22', false) as is_reversal,
        reversal_corrections.correction_claim_payment_id is not null as is_correction

    from matched
    left join claims
        on matched.claim_id = claims.claim_id
    left join reversal_originals
        on matched.claim_payment_id = reversal_originals.reversal_claim_payment_id
    left join reversal_corrections
        on matched.claim_payment_id = reversal_corrections.correction_claim_payment_id

)

select * from final
