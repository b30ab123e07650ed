"""Row types, column definitions and file writers for the tables read from 835, 999, 277CA and
271 files.

The contract is ``docs/remittance-tables.md``; this module is its executable form:

- row types in column order. The 835 parser returns **plain tuples** (``ClaimRow`` ...):
  a 100,000-claim file makes 1.1 million rows, and plain tuples of text, numbers and dates
  are the cheapest Python object to build, and the cyclic garbage collector stops tracking
  them once it has seen them (it never stops tracking ``NamedTuple`` instances: with a
  million of those alive, every full collection of the process costs a third of a second).
  The ``NamedTuple`` record types (``RemitClaim`` ...) give the same rows names:
  ``RemitClaim._make(row)``, or the ``Remit835Tables.claims`` (...) properties. The 999 and
  277CA readers, whose files are small, return records directly;
- :data:`TABLE_COLUMNS`: ``table name -> [(column, DuckDB type)]``, from which the inbox loader
  creates ``raw.x12_<table>`` (it adds its own lineage columns);
- :func:`write_tables`: one CSV (or Parquet) file per table; :func:`to_arrow`: one table as a
  ``pyarrow.Table`` with the declared types (to insert into DuckDB without a file).

Types: ids and codes are ``VARCHAR`` (codes keep leading zeros), money ``DECIMAL(18,2)``
(``Decimal`` in Python, never float), quantities ``DECIMAL(18,4)`` (units, CAS quantities:
payers send fractional units), dates ``DATE``, segment positions ``INTEGER``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from revcycle.gc_pause import gc_paused

__all__ = [
    "ACK_TABLES",
    "ELIGIBILITY_TABLES",
    "REMIT_835_TABLES",
    "ROW_TYPES",
    "TABLE_COLUMNS",
    "Ack277caClaim",
    "Ack999Transaction",
    "AdjustmentRow",
    "BalanceCheckRow",
    "ClaimRow",
    "EligibilityBenefit",
    "EligibilityResponse",
    "PaymentRow",
    "ProviderAdjustmentRow",
    "RemitAdjustment",
    "RemitBalanceCheck",
    "RemitClaim",
    "RemitPayment",
    "RemitProviderAdjustment",
    "RemitServiceLine",
    "ServiceLineRow",
    "arrow_schema",
    "to_arrow",
    "write_tables",
]

VARCHAR = "VARCHAR"
MONEY = "DECIMAL(18,2)"
QUANTITY = "DECIMAL(18,4)"
DATE = "DATE"
INTEGER = "INTEGER"
BOOLEAN = "BOOLEAN"

MONEY_SCALE = 2
QUANTITY_SCALE = 4


# --------------------------------------------------------------------------------------------
# Row types (column order = CSV/Parquet column order)


class RemitPayment(NamedTuple):
    """``remit_payments``: one row per 835 transaction (ST/SE), i.e. per check or EFT."""

    payment_id: str
    file_name: str
    file_sha256: str
    interchange_control_number: str | None
    transaction_control_number: str | None
    handling_code: str | None
    payment_amount: Decimal | None
    credit_debit_flag: str | None
    payment_method: str | None
    payment_date: date | None
    trace_number: str | None
    originating_company_id: str | None
    payer_name: str | None
    payer_id: str | None
    payee_name: str | None
    payee_id_qualifier: str | None
    payee_id: str | None
    production_date: date | None
    position: int


class RemitClaim(NamedTuple):
    """``remit_claims``: one row per CLP."""

    claim_payment_id: str
    payment_id: str
    patient_control_number: str
    claim_status_code: str | None
    total_charge_amount: Decimal
    paid_amount: Decimal
    patient_responsibility_amount: Decimal | None
    claim_filing_indicator: str | None
    payer_claim_control_number: str | None
    facility_type_code: str | None
    claim_frequency_code: str | None
    service_date_from: date | None
    service_date_to: date | None
    received_date: date | None
    interest_amount: Decimal | None
    coverage_amount: Decimal | None
    corrected_patient_control_number: str | None
    position: int


class RemitServiceLine(NamedTuple):
    """``remit_service_lines``: one row per SVC."""

    service_line_id: str
    claim_payment_id: str
    procedure_qualifier: str | None
    procedure_code: str | None
    modifier_1: str | None
    modifier_2: str | None
    modifier_3: str | None
    modifier_4: str | None
    charge_amount: Decimal
    paid_amount: Decimal
    revenue_code: str | None
    units_paid: Decimal
    original_procedure_code: str | None
    original_units: Decimal | None
    service_date_from: date | None
    service_date_to: date | None
    line_control_number: str | None
    allowed_amount: Decimal | None
    remark_codes: str | None
    position: int


class RemitAdjustment(NamedTuple):
    """``remit_adjustments``: one row per CAS reason/amount/quantity triplet."""

    adjustment_id: str
    claim_payment_id: str
    service_line_id: str | None
    level: str  # claim | line
    group_code: str | None
    reason_code: str | None
    amount: Decimal
    quantity: Decimal | None
    position: int


class RemitProviderAdjustment(NamedTuple):
    """``remit_provider_adjustments``: one row per PLB reason/amount pair."""

    provider_adjustment_id: str
    payment_id: str
    provider_id: str | None
    fiscal_period_date: date | None
    reason_code: str | None
    reference_id: str | None
    amount: Decimal
    position: int


class RemitBalanceCheck(NamedTuple):
    """``remit_balance_checks``: one row per balancing rule checked (line, claim, transaction)."""

    payment_id: str
    claim_payment_id: str | None
    service_line_id: str | None
    level: str  # line | claim | transaction
    expected_amount: Decimal
    actual_amount: Decimal | None
    difference_amount: Decimal | None
    is_balanced: bool


class Ack999Transaction(NamedTuple):
    """``ack_999_transactions``: one row per AK2 (or per AK1 group without AK2)."""

    ack_id: str
    file_name: str
    file_sha256: str
    acknowledged_group_control_number: str | None
    functional_id: str | None
    acknowledged_transaction_set_id: str | None
    acknowledged_transaction_control_number: str | None
    transaction_status: str | None
    group_status: str | None
    error_count: int
    error_summary: str | None
    position: int


class Ack277caClaim(NamedTuple):
    """``ack_277ca_claims``: one row per claim status loop (2200D)."""

    ack_id: str
    file_name: str
    file_sha256: str
    patient_control_number: str | None
    payer_claim_control_number: str | None
    status_category: str | None
    status_code: str | None
    status_effective_date: date | None
    is_accepted: bool | None
    total_charge_amount: Decimal | None
    service_date: date | None
    status_codes: str | None  # every STC01/10/11 of the claim, added to the contract
    position: int


class EligibilityResponse(NamedTuple):
    """``eligibility_responses``: one row per answered inquiry of a 271 (a ``TRN*2`` in a
    2000C subscriber or 2000D dependent loop)."""

    response_id: str
    file_name: str
    file_sha256: str
    interchange_control_number: str | None
    transaction_control_number: str | None
    response_date: date | None
    trace_number: str | None
    trace_originator_id: str | None
    payer_id: str | None
    payer_name: str | None
    information_receiver_id: str | None
    subscriber_level: str  # subscriber | dependent
    eligibility_date: date | None
    coverage_status: str | None  # active | inactive | None
    reject_reason_code: str | None
    benefit_count: int
    position: int


class EligibilityBenefit(NamedTuple):
    """``eligibility_benefits``: one row per EB segment of an answered inquiry."""

    benefit_id: str
    response_id: str
    benefit_code: str | None
    coverage_level_code: str | None
    service_type_codes: str | None
    insurance_type_code: str | None
    plan_coverage_description: str | None
    time_period_qualifier: str | None
    benefit_amount: Decimal | None
    benefit_percent: Decimal | None
    quantity_qualifier: str | None
    benefit_quantity: Decimal | None
    authorization_required: str | None
    in_plan_network: str | None
    position: int


# Plain-tuple rows of the 835 tables, as parse_835 builds them (same order as the records).
PaymentRow = tuple[
    str, str, str, str | None, str | None, str | None, Decimal | None, str | None, str | None,
    date | None, str | None, str | None, str | None, str | None, str | None, str | None,
    str | None, date | None, int,
]  # fmt: skip
ClaimRow = tuple[
    str, str, str | None, str | None, Decimal, Decimal, Decimal | None, str | None, str | None,
    str | None, str | None, date | None, date | None, date | None, Decimal | None,
    Decimal | None, str | None, int,
]  # fmt: skip
ServiceLineRow = tuple[
    str, str, str | None, str | None, str | None, str | None, str | None, str | None, Decimal,
    Decimal, str | None, Decimal, str | None, Decimal | None, date | None, date | None,
    str | None, Decimal | None, str | None, int,
]  # fmt: skip
AdjustmentRow = tuple[
    str, str, str | None, str, str | None, str | None, Decimal, Decimal | None, int
]  # fmt: skip
ProviderAdjustmentRow = tuple[
    str, str, str | None, date | None, str | None, str | None, Decimal, int
]  # fmt: skip
BalanceCheckRow = tuple[
    str, str | None, str | None, str, Decimal, Decimal | None, Decimal | None, bool
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Column definitions (DuckDB types)

TABLE_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "remit_payments": [
        ("payment_id", VARCHAR),
        ("file_name", VARCHAR),
        ("file_sha256", VARCHAR),
        ("interchange_control_number", VARCHAR),
        ("transaction_control_number", VARCHAR),
        ("handling_code", VARCHAR),
        ("payment_amount", MONEY),
        ("credit_debit_flag", VARCHAR),
        ("payment_method", VARCHAR),
        ("payment_date", DATE),
        ("trace_number", VARCHAR),
        ("originating_company_id", VARCHAR),
        ("payer_name", VARCHAR),
        ("payer_id", VARCHAR),
        ("payee_name", VARCHAR),
        ("payee_id_qualifier", VARCHAR),
        ("payee_id", VARCHAR),
        ("production_date", DATE),
        ("position", INTEGER),
    ],
    "remit_claims": [
        ("claim_payment_id", VARCHAR),
        ("payment_id", VARCHAR),
        ("patient_control_number", VARCHAR),
        ("claim_status_code", VARCHAR),
        ("total_charge_amount", MONEY),
        ("paid_amount", MONEY),
        ("patient_responsibility_amount", MONEY),
        ("claim_filing_indicator", VARCHAR),
        ("payer_claim_control_number", VARCHAR),
        ("facility_type_code", VARCHAR),
        ("claim_frequency_code", VARCHAR),
        ("service_date_from", DATE),
        ("service_date_to", DATE),
        ("received_date", DATE),
        ("interest_amount", MONEY),
        ("coverage_amount", MONEY),
        ("corrected_patient_control_number", VARCHAR),
        ("position", INTEGER),
    ],
    "remit_service_lines": [
        ("service_line_id", VARCHAR),
        ("claim_payment_id", VARCHAR),
        ("procedure_qualifier", VARCHAR),
        ("procedure_code", VARCHAR),
        ("modifier_1", VARCHAR),
        ("modifier_2", VARCHAR),
        ("modifier_3", VARCHAR),
        ("modifier_4", VARCHAR),
        ("charge_amount", MONEY),
        ("paid_amount", MONEY),
        ("revenue_code", VARCHAR),
        ("units_paid", QUANTITY),
        ("original_procedure_code", VARCHAR),
        ("original_units", QUANTITY),
        ("service_date_from", DATE),
        ("service_date_to", DATE),
        ("line_control_number", VARCHAR),
        ("allowed_amount", MONEY),
        ("remark_codes", VARCHAR),
        ("position", INTEGER),
    ],
    "remit_adjustments": [
        ("adjustment_id", VARCHAR),
        ("claim_payment_id", VARCHAR),
        ("service_line_id", VARCHAR),
        ("level", VARCHAR),
        ("group_code", VARCHAR),
        ("reason_code", VARCHAR),
        ("amount", MONEY),
        ("quantity", QUANTITY),
        ("position", INTEGER),
    ],
    "remit_provider_adjustments": [
        ("provider_adjustment_id", VARCHAR),
        ("payment_id", VARCHAR),
        ("provider_id", VARCHAR),
        ("fiscal_period_date", DATE),
        ("reason_code", VARCHAR),
        ("reference_id", VARCHAR),
        ("amount", MONEY),
        ("position", INTEGER),
    ],
    "remit_balance_checks": [
        ("payment_id", VARCHAR),
        ("claim_payment_id", VARCHAR),
        ("service_line_id", VARCHAR),
        ("level", VARCHAR),
        ("expected_amount", MONEY),
        ("actual_amount", MONEY),
        ("difference_amount", MONEY),
        ("is_balanced", BOOLEAN),
    ],
    "ack_999_transactions": [
        ("ack_id", VARCHAR),
        ("file_name", VARCHAR),
        ("file_sha256", VARCHAR),
        ("acknowledged_group_control_number", VARCHAR),
        ("functional_id", VARCHAR),
        ("acknowledged_transaction_set_id", VARCHAR),
        ("acknowledged_transaction_control_number", VARCHAR),
        ("transaction_status", VARCHAR),
        ("group_status", VARCHAR),
        ("error_count", INTEGER),
        ("error_summary", VARCHAR),
        ("position", INTEGER),
    ],
    "ack_277ca_claims": [
        ("ack_id", VARCHAR),
        ("file_name", VARCHAR),
        ("file_sha256", VARCHAR),
        ("patient_control_number", VARCHAR),
        ("payer_claim_control_number", VARCHAR),
        ("status_category", VARCHAR),
        ("status_code", VARCHAR),
        ("status_effective_date", DATE),
        ("is_accepted", BOOLEAN),
        ("total_charge_amount", MONEY),
        ("service_date", DATE),
        ("status_codes", VARCHAR),
        ("position", INTEGER),
    ],
    "eligibility_responses": [
        ("response_id", VARCHAR),
        ("file_name", VARCHAR),
        ("file_sha256", VARCHAR),
        ("interchange_control_number", VARCHAR),
        ("transaction_control_number", VARCHAR),
        ("response_date", DATE),
        ("trace_number", VARCHAR),
        ("trace_originator_id", VARCHAR),
        ("payer_id", VARCHAR),
        ("payer_name", VARCHAR),
        ("information_receiver_id", VARCHAR),
        ("subscriber_level", VARCHAR),
        ("eligibility_date", DATE),
        ("coverage_status", VARCHAR),
        ("reject_reason_code", VARCHAR),
        ("benefit_count", INTEGER),
        ("position", INTEGER),
    ],
    "eligibility_benefits": [
        ("benefit_id", VARCHAR),
        ("response_id", VARCHAR),
        ("benefit_code", VARCHAR),
        ("coverage_level_code", VARCHAR),
        ("service_type_codes", VARCHAR),
        ("insurance_type_code", VARCHAR),
        ("plan_coverage_description", VARCHAR),
        ("time_period_qualifier", VARCHAR),
        ("benefit_amount", MONEY),
        ("benefit_percent", QUANTITY),
        ("quantity_qualifier", VARCHAR),
        ("benefit_quantity", QUANTITY),
        ("authorization_required", VARCHAR),
        ("in_plan_network", VARCHAR),
        ("position", INTEGER),
    ],
}
"""``table -> [(column, DuckDB type)]`` in file column order, for ``raw.x12_<table>``."""

ROW_TYPES: dict[str, type[tuple[Any, ...]]] = {
    "remit_payments": RemitPayment,
    "remit_claims": RemitClaim,
    "remit_service_lines": RemitServiceLine,
    "remit_adjustments": RemitAdjustment,
    "remit_provider_adjustments": RemitProviderAdjustment,
    "remit_balance_checks": RemitBalanceCheck,
    "ack_999_transactions": Ack999Transaction,
    "ack_277ca_claims": Ack277caClaim,
    "eligibility_responses": EligibilityResponse,
    "eligibility_benefits": EligibilityBenefit,
}

REMIT_835_TABLES = (
    "remit_payments",
    "remit_claims",
    "remit_service_lines",
    "remit_adjustments",
    "remit_provider_adjustments",
    "remit_balance_checks",
)
ACK_TABLES = ("ack_999_transactions", "ack_277ca_claims")
ELIGIBILITY_TABLES = ("eligibility_responses", "eligibility_benefits")


# --------------------------------------------------------------------------------------------
# Writers


class _HasTables(Protocol):
    def as_dict(self) -> dict[str, Sequence[tuple[Any, ...]]]: ...


TableSource = _HasTables | Mapping[str, Sequence[tuple[Any, ...]]]
Format = Literal["csv", "parquet"]


def _csv_value(value: object) -> object:
    """Text for one CSV cell: empty for null, ISO dates, exact decimal text, true/false."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value  # str, int, Decimal (str() is exact, never exponent form here), date (ISO)


def _csv_rows(rows: Iterable[tuple[Any, ...]], has_bool: bool) -> Iterable[Sequence[object]]:
    if not has_bool:
        return rows  # csv writes None as "", Decimal and date through str(): already right
    return ([_csv_value(v) for v in row] for row in rows)


def arrow_schema(table: str) -> Any:
    """The pyarrow schema of ``table``: decimal128(18,2) money, date32 dates, int32 positions."""
    import pyarrow as pa

    types = {
        VARCHAR: pa.string(),
        MONEY: pa.decimal128(18, MONEY_SCALE),
        QUANTITY: pa.decimal128(18, QUANTITY_SCALE),
        DATE: pa.date32(),
        INTEGER: pa.int32(),
        BOOLEAN: pa.bool_(),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in TABLE_COLUMNS[table]])


def to_arrow(table: str, rows: Sequence[tuple[Any, ...]]) -> Any:
    """``rows`` of ``table`` as a ``pyarrow.Table`` with the declared types (exact decimals).

    DuckDB reads it directly (``con.register("rows", arrow_table)`` or ``insert into ...
    select * from arrow_table``), so a loader needs no intermediate file.

    Speed (it runs on every row the inbox loads): columns are taken with ``itemgetter`` while
    the cyclic garbage collector is paused (transposing a million rows otherwise triggers
    collections that walk them all, three times the work), and money and quantities go
    through their exact decimal text (``str(Decimal)``) and Arrow's checked cast: converting
    ``Decimal`` objects one by one costs 3-4 microseconds each, the text route a tenth of
    that, with the same values (a value that does not fit the column raises in both).
    """
    import pyarrow as pa

    schema = arrow_schema(table)
    if not rows:
        return pa.Table.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)
    with gc_paused():
        arrays = [
            _arrow_column(list(map(itemgetter(index), rows)), field.type)
            for index, field in enumerate(schema)
        ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _arrow_column(values: list[Any], arrow_type: Any) -> Any:
    import pyarrow as pa

    if not pa.types.is_decimal(arrow_type):
        return pa.array(values, type=arrow_type)
    text = [None if value is None else str(value) for value in values]
    return pa.array(text, type=pa.string()).cast(arrow_type)


def _write_parquet(table: str, rows: Sequence[tuple[Any, ...]], path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(to_arrow(table, rows), path)


def write_tables(tables: TableSource, out_dir: str | Path, format: Format = "csv") -> list[Path]:
    """Write each table to ``out_dir/<table>.csv`` (or ``.parquet``); return the paths.

    ``tables`` is a :class:`~revcycle.remits.parse_835.Remit835Tables` (anything with
    ``as_dict()``) or a mapping ``table name -> rows``. Tables with no rows are written too
    (header only), so a loader always finds every file. CSV: a header row, UTF-8, ``\\n`` line
    ends, empty cell for null, money and quantities as exact decimal text (``1250.00``,
    ``-35.5``), dates ``YYYY-MM-DD``, booleans ``true``/``false``.
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"unknown format {format!r}: use 'csv' or 'parquet'")
    named = tables if isinstance(tables, Mapping) else tables.as_dict()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for table, rows in named.items():
        columns = TABLE_COLUMNS.get(table)
        if columns is None:
            raise ValueError(f"unknown table {table!r}")
        path = out / f"{table}.{format}"
        if format == "parquet":
            _write_parquet(table, rows, path)
        else:
            has_bool = any(kind == BOOLEAN for _, kind in columns)
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow([name for name, _ in columns])
                writer.writerows(_csv_rows(rows, has_bool))
        written.append(path)
    return written
