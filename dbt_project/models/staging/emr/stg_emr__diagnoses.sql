with

source as (

    select * from {{ source('emr', 'diagnoses') }}

),

renamed as (

    select
        {{ clean_text('encounter_id') }} as encounter_id,
        cast(diagnosis_sequence as integer) as diagnosis_sequence,
        -- Only the canonical dot (after the third character, followed by more of the code) is
        -- removed: E11.9 -> E119. Anything else stays as given (E11..9, I10., E1.19) so a
        -- malformed code remains visibly malformed for the scrubber instead of being repaired.
        {{ revcycle.regexp_replace_first(
            clean_code('icd10_code'), '^([A-Z0-9]{3})\\.([A-Z0-9])', '\\1\\2'
        ) }} as icd10_code,
        {{ clean_code('icd10_code') }} as icd10_code_dotted,
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

latest as (

    select * from renamed
    {{ keep_latest_delivery(['encounter_id', 'diagnosis_sequence']) }}

),

final as (

    select * from latest

)

select * from final
