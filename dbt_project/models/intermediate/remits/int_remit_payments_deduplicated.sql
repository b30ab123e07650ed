-- One row per staged 835 payment (payment_id), deciding which ones post.
--
-- A byte-identical file is skipped by the loader, but a payer may re-send the same payment in
-- a new file (new ISA13, new bytes, so new ids). The delivery key of a payment is
-- (payer_id, trace_number, payment_amount, payment_date): TRN02 identifies the check or EFT for
-- its payer, and amount and date make sure a reused trace number is not mistaken for a
-- re-delivery. The first file that delivered a key (earliest load, then file name, then
-- sha256) posts; the same key in any later file is a duplicate delivery and posts nothing
-- (is_duplicate_delivery, duplicate_of_payment_id). Two payments with one key in the same file
-- both post. Without a trace number or payer there is no key and the payment always posts.
--
-- payment_sequence orders posted payments for reconciliation (which payment came first):
-- event date, then load time, file and position. event_date is BPR16, else DTM*405, else the
-- day the file was loaded.
with

payments as (

    select * from {{ ref('stg_x12__remit_payments') }}

),

keyed as (

    select
        *,
        trace_number is not null and payer_id is not null and payment_amount is not null as has_delivery_key,
        coalesce(payment_date, production_date, cast(loaded_at as date)) as event_date,
        case when credit_debit_flag = 'D' then -payment_amount else payment_amount end as signed_payment_amount

    from payments

),

first_delivery as (

    select
        *,
        first_value(file_sha256) over (
            partition by payer_id, trace_number, payment_amount, payment_date
            order by loaded_at, source_file, file_sha256, segment_position, payment_id
            rows between unbounded preceding and unbounded following
        ) as first_file_sha256,
        first_value(payment_id) over (
            partition by payer_id, trace_number, payment_amount, payment_date
            order by loaded_at, source_file, file_sha256, segment_position, payment_id
            rows between unbounded preceding and unbounded following
        ) as first_payment_id

    from keyed

),

flagged as (

    select
        *,
        coalesce(has_delivery_key and file_sha256 != first_file_sha256, false) as is_duplicate_delivery

    from first_delivery

),

trace_reuse as (

    -- A trace number of one payer carried by posted payments that differ in amount or date:
    -- not a re-delivery, both post, but an analyst should look.
    select
        payer_id,
        trace_number,
        count(*) > 1 as has_reused_trace_number

    from (
        select distinct
            payer_id,
            trace_number,
            payment_amount,
            payment_date
        from flagged
        where has_delivery_key and not is_duplicate_delivery
    ) as delivery_keys
    group by payer_id, trace_number

),

final as (

    select
        flagged.payment_id,
        flagged.file_name,
        flagged.file_sha256,
        flagged.interchange_control_number,
        flagged.transaction_control_number,
        flagged.handling_code,
        flagged.payment_amount,
        flagged.credit_debit_flag,
        flagged.signed_payment_amount,
        flagged.payment_method,
        flagged.payment_date,
        flagged.production_date,
        flagged.event_date,
        flagged.trace_number,
        flagged.originating_company_id,
        flagged.payer_name,
        flagged.payer_id,
        flagged.payee_id_qualifier,
        flagged.payee_id,
        flagged.segment_position,
        flagged.source_file,
        flagged.loaded_at,
        flagged.has_delivery_key,
        flagged.is_duplicate_delivery,
        case when flagged.is_duplicate_delivery then flagged.first_payment_id end as duplicate_of_payment_id,
        coalesce(trace_reuse.has_reused_trace_number, false) as has_reused_trace_number,
        case
            when not flagged.is_duplicate_delivery
                then cast(row_number() over (
                    partition by flagged.is_duplicate_delivery
                    order by
                        flagged.event_date, flagged.loaded_at, flagged.source_file, flagged.segment_position,
                        flagged.payment_id
                ) as integer)
        end as payment_sequence

    from flagged
    left join trace_reuse
        on
            flagged.payer_id = trace_reuse.payer_id
            and flagged.trace_number = trace_reuse.trace_number
            and flagged.has_delivery_key
            and not flagged.is_duplicate_delivery

)

select * from final
