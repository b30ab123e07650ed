{#- The raw tables of parsed 999, 277CA, 835 and 271 files (docs/remittance-tables.md is the contract;
    the Python inbox loader creates and fills them). A warehouse that never received a
    remittance has none of them, so each stg_x12__* model runs ensure_x12_raw_table as a
    pre-hook: it creates the raw table empty, with the contract's columns and the three lineage
    columns, when it is missing, and never alters or empties an existing table (like
    ensure_ops_submissions). Once the loader has created a table, this is a no-op.

    Types follow the contract: ids, codes and text varchar; money decimal(18,2); dates date;
    positions and counts integer; units and quantities decimal(18,4); flags boolean.
    x12_raw_table_columns(name) returns the column list, so the tests can create the same tables. -#}

{% macro x12_raw_table_columns(table_name) -%}
    {%- set lineage = [
        ('_source_file', 'varchar'),
        ('_file_sha256', 'varchar'),
        ('_loaded_at', 'timestamp'),
    ] -%}
    {%- set tables = {
        'x12_remit_payments': [
            ('payment_id', 'varchar'),
            ('file_name', 'varchar'),
            ('file_sha256', 'varchar'),
            ('interchange_control_number', 'varchar'),
            ('transaction_control_number', 'varchar'),
            ('handling_code', 'varchar'),
            ('payment_amount', 'decimal(18,2)'),
            ('credit_debit_flag', 'varchar'),
            ('payment_method', 'varchar'),
            ('payment_date', 'date'),
            ('trace_number', 'varchar'),
            ('originating_company_id', 'varchar'),
            ('payer_name', 'varchar'),
            ('payer_id', 'varchar'),
            ('payee_name', 'varchar'),
            ('payee_id_qualifier', 'varchar'),
            ('payee_id', 'varchar'),
            ('production_date', 'date'),
            ('position', 'integer'),
        ],
        'x12_remit_claims': [
            ('claim_payment_id', 'varchar'),
            ('payment_id', 'varchar'),
            ('patient_control_number', 'varchar'),
            ('claim_status_code', 'varchar'),
            ('total_charge_amount', 'decimal(18,2)'),
            ('paid_amount', 'decimal(18,2)'),
            ('patient_responsibility_amount', 'decimal(18,2)'),
            ('claim_filing_indicator', 'varchar'),
            ('payer_claim_control_number', 'varchar'),
            ('facility_type_code', 'varchar'),
            ('claim_frequency_code', 'varchar'),
            ('service_date_from', 'date'),
            ('service_date_to', 'date'),
            ('received_date', 'date'),
            ('interest_amount', 'decimal(18,2)'),
            ('coverage_amount', 'decimal(18,2)'),
            ('corrected_patient_control_number', 'varchar'),
            ('position', 'integer'),
        ],
        'x12_remit_service_lines': [
            ('service_line_id', 'varchar'),
            ('claim_payment_id', 'varchar'),
            ('procedure_qualifier', 'varchar'),
            ('procedure_code', 'varchar'),
            ('modifier_1', 'varchar'),
            ('modifier_2', 'varchar'),
            ('modifier_3', 'varchar'),
            ('modifier_4', 'varchar'),
            ('charge_amount', 'decimal(18,2)'),
            ('paid_amount', 'decimal(18,2)'),
            ('revenue_code', 'varchar'),
            ('units_paid', 'decimal(18,4)'),
            ('original_procedure_code', 'varchar'),
            ('original_units', 'decimal(18,4)'),
            ('service_date_from', 'date'),
            ('service_date_to', 'date'),
            ('line_control_number', 'varchar'),
            ('allowed_amount', 'decimal(18,2)'),
            ('remark_codes', 'varchar'),
            ('position', 'integer'),
        ],
        'x12_remit_adjustments': [
            ('adjustment_id', 'varchar'),
            ('claim_payment_id', 'varchar'),
            ('service_line_id', 'varchar'),
            ('level', 'varchar'),
            ('group_code', 'varchar'),
            ('reason_code', 'varchar'),
            ('amount', 'decimal(18,2)'),
            ('quantity', 'decimal(18,4)'),
            ('position', 'integer'),
        ],
        'x12_remit_provider_adjustments': [
            ('provider_adjustment_id', 'varchar'),
            ('payment_id', 'varchar'),
            ('provider_id', 'varchar'),
            ('fiscal_period_date', 'date'),
            ('reason_code', 'varchar'),
            ('reference_id', 'varchar'),
            ('amount', 'decimal(18,2)'),
            ('position', 'integer'),
        ],
        'x12_remit_balance_checks': [
            ('payment_id', 'varchar'),
            ('claim_payment_id', 'varchar'),
            ('service_line_id', 'varchar'),
            ('level', 'varchar'),
            ('expected_amount', 'decimal(18,2)'),
            ('actual_amount', 'decimal(18,2)'),
            ('difference_amount', 'decimal(18,2)'),
            ('is_balanced', 'boolean'),
        ],
        'x12_ack_999_transactions': [
            ('ack_id', 'varchar'),
            ('file_name', 'varchar'),
            ('file_sha256', 'varchar'),
            ('acknowledged_group_control_number', 'varchar'),
            ('functional_id', 'varchar'),
            ('acknowledged_transaction_set_id', 'varchar'),
            ('acknowledged_transaction_control_number', 'varchar'),
            ('transaction_status', 'varchar'),
            ('group_status', 'varchar'),
            ('error_count', 'integer'),
            ('error_summary', 'varchar'),
            ('position', 'integer'),
        ],
        'x12_ack_277ca_claims': [
            ('ack_id', 'varchar'),
            ('file_name', 'varchar'),
            ('file_sha256', 'varchar'),
            ('patient_control_number', 'varchar'),
            ('payer_claim_control_number', 'varchar'),
            ('status_category', 'varchar'),
            ('status_code', 'varchar'),
            ('status_effective_date', 'date'),
            ('is_accepted', 'boolean'),
            ('total_charge_amount', 'decimal(18,2)'),
            ('service_date', 'date'),
            ('status_codes', 'varchar'),
            ('position', 'integer'),
        ],
        'x12_eligibility_responses': [
            ('response_id', 'varchar'),
            ('file_name', 'varchar'),
            ('file_sha256', 'varchar'),
            ('interchange_control_number', 'varchar'),
            ('transaction_control_number', 'varchar'),
            ('response_date', 'date'),
            ('trace_number', 'varchar'),
            ('trace_originator_id', 'varchar'),
            ('payer_id', 'varchar'),
            ('payer_name', 'varchar'),
            ('information_receiver_id', 'varchar'),
            ('subscriber_level', 'varchar'),
            ('eligibility_date', 'date'),
            ('coverage_status', 'varchar'),
            ('reject_reason_code', 'varchar'),
            ('benefit_count', 'integer'),
            ('position', 'integer'),
        ],
        'x12_eligibility_benefits': [
            ('benefit_id', 'varchar'),
            ('response_id', 'varchar'),
            ('benefit_code', 'varchar'),
            ('coverage_level_code', 'varchar'),
            ('service_type_codes', 'varchar'),
            ('insurance_type_code', 'varchar'),
            ('plan_coverage_description', 'varchar'),
            ('time_period_qualifier', 'varchar'),
            ('benefit_amount', 'decimal(18,2)'),
            ('benefit_percent', 'decimal(18,4)'),
            ('quantity_qualifier', 'varchar'),
            ('benefit_quantity', 'decimal(18,4)'),
            ('authorization_required', 'varchar'),
            ('in_plan_network', 'varchar'),
            ('position', 'integer'),
        ],
    } -%}
    {%- if table_name not in tables -%}
        {{ exceptions.raise_compiler_error("x12_raw_table_columns: unknown raw table " ~ table_name) }}
    {%- endif -%}
    {{ return(tables[table_name] + lineage) }}
{%- endmacro %}

{% macro ensure_x12_raw_table(table_name) -%}
    {%- set relation = source('x12', table_name) -%}
    create schema if not exists {{ relation.schema }};
    create table if not exists {{ relation }} (
    {%- for column_name, column_type in x12_raw_table_columns(table_name) %}
        {{ column_name }} {{ column_type }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}
