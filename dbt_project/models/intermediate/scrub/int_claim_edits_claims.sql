-- Claim header edits, one row per edit raised on a claim (claim level):
-- - PATIENT_UNKNOWN: the patient is not in dim_patients;
-- - PLACE_OF_SERVICE_INVALID: the place of service is not a CMS code (code_sets.place_of_service);
-- - TYPE_OF_BILL_INVALID: an institutional claim without a 4-digit type of bill;
-- - LINES_MISSING / LINES_TOO_MANY: no lines, or more than one 837 claim can carry (837P 50,
--   837I 999);
-- - CLAIM_TOTAL_MISMATCH: the total charge (CLM02) is not the sum of the line charges.
with

claims as (

    select * from {{ ref('fct_claims') }}

),

lines as (

    select * from {{ ref('fct_claim_lines') }}

),

patients as (

    select * from {{ ref('dim_patients') }}

),

places_of_service as (

    select * from {{ ref('place_of_service') }}

),

line_totals as (

    select
        claim_id,
        count(*) as line_count,
        sum(charge_amount) as line_charge_amount

    from lines
    group by claim_id

),

checked as (

    select
        claims.claim_id,
        claims.patient_id,
        claims.claim_type,
        claims.place_of_service,
        claims.type_of_bill,
        claims.total_charge_amount,
        cast(coalesce(line_totals.line_charge_amount, 0) as decimal(18, 2)) as line_charge_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        patients.patient_id is not null as has_patient,
        places_of_service.pos_code is not null as is_known_place_of_service,
        case when claims.claim_type = 'institutional' then 999 else 50 end as max_line_count

    from claims
    left join line_totals
        on claims.claim_id = line_totals.claim_id
    left join patients
        on claims.patient_id = patients.patient_id
    left join places_of_service
        on claims.place_of_service = places_of_service.pos_code

),

edits as (

    select
        claim_id,
        'PATIENT_UNKNOWN' as edit_id,
        'patient' as edit_subject,
        {{ revcycle.format_text('patient {} is not in the patient list', "coalesce(patient_id, '(none)')") }} as detail
    from checked
    where not has_patient

    union all

    select
        claim_id,
        'PLACE_OF_SERVICE_INVALID' as edit_id,
        'place_of_service' as edit_subject,
        {{ revcycle.format_text(
            "place of service '{}' is not a CMS place-of-service code",
            "coalesce(place_of_service, '')"
        ) }} as detail
    from checked
    where not is_known_place_of_service

    union all

    select
        claim_id,
        'TYPE_OF_BILL_INVALID' as edit_id,
        'type_of_bill' as edit_subject,
        {{ revcycle.format_text(
            "institutional claim type of bill '{}' is not 4 digits",
            "coalesce(type_of_bill, '')"
        ) }} as detail
    from checked
    where
        claim_type = 'institutional'
        and not coalesce({{ revcycle.full_match('type_of_bill', '[0-9]{4}') }}, false)

    union all

    select
        claim_id,
        'LINES_MISSING' as edit_id,
        'lines' as edit_subject,
        'the claim has no charge lines' as detail
    from checked
    where line_count = 0

    union all

    select
        claim_id,
        'LINES_TOO_MANY' as edit_id,
        'lines' as edit_subject,
        {{ revcycle.format_text(
            'the claim has {} lines; an 837 {} claim carries at most {}',
            'line_count',
            'claim_type',
            'max_line_count'
        ) }} as detail
    from checked
    where line_count > max_line_count

    union all

    select
        claim_id,
        'CLAIM_TOTAL_MISMATCH' as edit_id,
        'total_charge_amount' as edit_subject,
        {{ revcycle.format_text(
            'claim total {} is not the sum of its {} lines ({})',
            "coalesce(cast(total_charge_amount as " ~ dbt.type_string() ~ "), '(none)')",
            'line_count',
            'cast(line_charge_amount as ' ~ dbt.type_string() ~ ')'
        ) }} as detail
    from checked
    where coalesce(total_charge_amount != line_charge_amount, true)

),

final as (

    select
        claim_id,
        cast(null as {{ dbt.type_string() }}) as claim_line_id,
        cast(null as integer) as line_number,
        edit_id,
        edit_subject,
        detail

    from edits

)

select * from final
