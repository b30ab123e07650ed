{#- ops.submissions is owned by the Python side (the 837 writer records every claim it sends
    there; revcycle.extracts.load.ensure_warehouse is meant to create it). Until every
    warehouse is prepared that way, stg_ops__submissions runs this as a pre-hook so a dbt build
    on a warehouse without the table still works: it only creates what is missing, with the
    same columns, and never alters or empties an existing table. Once ensure_warehouse creates
    the table, this is a no-op. -#}

{% macro ensure_ops_submissions() -%}
    {{ revcycle.create_table_if_missing('ops', 'submissions', [
        ('submission_id', 'varchar'),
        ('file_name', 'varchar'),
        ('interchange_control_number', 'varchar'),
        ('group_control_number', 'varchar'),
        ('transaction_control_number', 'varchar'),
        ('claim_id', 'varchar'),
        ('claim_line_id', 'varchar'),
        ('claim_frequency_code', 'varchar'),
        ('payer_id', 'varchar'),
        ('submitted_at', 'timestamp'),
    ]) }}
{%- endmacro %}

{#- ops.eligibility_inquiries: one row per 270 inquiry sent (revcycle.eligibility writes it and
    ensure_warehouse creates it). Same arrangement as ops.submissions: the staging model
    creates it empty, with the same columns, when a warehouse does not have it yet. -#}

{% macro ensure_ops_eligibility_inquiries() -%}
    {{ revcycle.create_table_if_missing('ops', 'eligibility_inquiries', [
        ('inquiry_id', 'varchar'),
        ('file_name', 'varchar'),
        ('interchange_control_number', 'varchar'),
        ('group_control_number', 'varchar'),
        ('transaction_control_number', 'varchar'),
        ('encounter_id', 'varchar'),
        ('patient_id', 'varchar'),
        ('coverage_id', 'varchar'),
        ('coverage_order', 'integer'),
        ('payer_id', 'varchar'),
        ('member_id', 'varchar'),
        ('billing_provider_npi', 'varchar'),
        ('service_date', 'date'),
        ('inquiry_date', 'date'),
        ('sent_at', 'timestamp'),
    ]) }}
{%- endmacro %}
