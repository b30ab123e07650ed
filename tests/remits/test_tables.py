"""Table definitions agree with the contract, and the written files load with those types."""

from __future__ import annotations

import csv
import gc
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revcycle.remits.parse_835 import parse_835_file
from revcycle.remits.parse_acks import parse_277ca, parse_999
from revcycle.remits.tables import (
    ACK_TABLES,
    ELIGIBILITY_TABLES,
    REMIT_835_TABLES,
    ROW_TYPES,
    TABLE_COLUMNS,
    write_tables,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "x12"
CONTRACT = ROOT / "docs" / "remittance-tables.md"
SECONDARY = FIXTURES / "835" / "stupidedi-secondary-payments.edi"
DUCKDB_TYPES = {"VARCHAR", "DECIMAL(18,2)", "DECIMAL(18,4)", "DATE", "INTEGER", "BOOLEAN"}


def test_every_table_has_a_row_type_with_the_same_columns() -> None:
    assert (
        set(TABLE_COLUMNS)
        == set(ROW_TYPES)
        == set(REMIT_835_TABLES) | set(ACK_TABLES) | set(ELIGIBILITY_TABLES)
    )
    for table, columns in TABLE_COLUMNS.items():
        assert [name for name, _ in columns] == list(ROW_TYPES[table]._fields), table
        assert {kind for _, kind in columns} <= DUCKDB_TYPES, table
        money = [name for name, kind in columns if kind == "DECIMAL(18,2)"]
        assert all(name == "amount" or name.endswith("_amount") for name in money), money


def _section(text: str, table: str) -> str:
    """The contract's text about ``table``: from its heading to the next heading."""
    heading = re.search(rf"^#{{2,3}} .*`{table}`", text, flags=re.MULTILINE)
    assert heading is not None, f"no heading for {table}"
    start = heading.start() + 1
    following = re.search(r"\n#{2,3} ", text[start:])
    return text[start : start + following.start()] if following else text[start:]


def test_the_contract_documents_every_column() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    for table, columns in TABLE_COLUMNS.items():
        section = _section(text, table)
        for name, _ in columns:
            if re.fullmatch(r"modifier_[23]", name):
                assert "modifier_1 .. modifier_4" in section
                continue
            assert re.search(rf"\b{name}\b", section), f"{table}.{name} is not in the contract"


def test_csv_files_have_a_header_exact_decimals_iso_dates_and_empty_nulls(tmp_path: Path) -> None:
    tables = parse_835_file(SECONDARY)
    paths = write_tables(tables, tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{t}.csv" for t in REMIT_835_TABLES)
    with (tmp_path / "remit_claims.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [name for name, _ in TABLE_COLUMNS["remit_claims"]]
    claim = dict(zip(rows[0], rows[2], strict=True))
    assert (claim["total_charge_amount"], claim["paid_amount"]) == ("751.50", "310")
    assert claim["service_date_from"] == "2005-01-06"
    assert claim["received_date"] == ""  # null
    with (tmp_path / "remit_balance_checks.csv").open(encoding="utf-8", newline="") as handle:
        checks = list(csv.DictReader(handle))
    assert {c["is_balanced"] for c in checks} == {"true"}
    assert (tmp_path / "remit_provider_adjustments.csv").read_text() == (
        ",".join(name for name, _ in TABLE_COLUMNS["remit_provider_adjustments"]) + "\n"
    )


def test_csv_files_load_into_duckdb_with_the_declared_types(tmp_path: Path) -> None:
    tables = parse_835_file(SECONDARY)
    write_tables(tables, tmp_path)
    con = duckdb.connect()
    for table in REMIT_835_TABLES:
        columns = TABLE_COLUMNS[table]
        con.execute(
            f"create table raw_{table} ("
            + ", ".join(f"{name} {kind}" for name, kind in columns)
            + ")"
        )
        con.execute(
            f"insert into raw_{table} select * from read_csv(?, header = true, columns = "
            + "{"
            + ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
            + "})",
            [str(tmp_path / f"{table}.csv")],
        )
    count, paid = con.execute(
        "select count(*), sum(paid_amount) from raw_remit_claims"
    ).fetchone() or (0, 0)
    assert (count, paid) == (2, Decimal("1222.00"))
    (unbalanced,) = con.execute(
        "select count(*) from raw_remit_balance_checks where not is_balanced"
    ).fetchone() or (None,)
    assert unbalanced == 0
    (modifier,) = con.execute(
        "select modifier_1 from raw_remit_service_lines order by position limit 1"
    ).fetchone() or (None,)
    assert modifier == "26"


def test_parquet_files_have_decimal_and_date_types(tmp_path: Path) -> None:
    tables = parse_835_file(SECONDARY)
    write_tables(tables, tmp_path, format="parquet")
    claims = pq.read_table(tmp_path / "remit_claims.parquet")
    assert claims.schema.field("paid_amount").type == pa.decimal128(18, 2)
    assert claims.schema.field("service_date_from").type == pa.date32()
    assert claims.schema.field("position").type == pa.int32()
    assert claims.column("paid_amount").to_pylist() == [Decimal("912.00"), Decimal("310.00")]
    lines = pq.read_table(tmp_path / "remit_service_lines.parquet")
    assert lines.schema.field("units_paid").type == pa.decimal128(18, 4)
    empty = pq.read_table(tmp_path / "remit_provider_adjustments.parquet")
    assert empty.num_rows == 0
    assert empty.schema.field("amount").type == pa.decimal128(18, 2)


def test_ack_rows_are_written_from_a_mapping(tmp_path: Path) -> None:
    ack = FIXTURES / "ack"
    rows = {
        "ack_999_transactions": parse_999(
            (ack / "imsweb-x12_999_rejected.txt").read_bytes(), "r.txt"
        ),
        "ack_277ca_claims": parse_277ca((ack / "lfh-demo.277").read_bytes(), "lfh-demo.277"),
    }
    write_tables(rows, tmp_path)
    write_tables(rows, tmp_path, format="parquet")
    with (tmp_path / "ack_277ca_claims.csv").open(encoding="utf-8", newline="") as handle:
        claims = list(csv.DictReader(handle))
    assert [c["is_accepted"] for c in claims] == ["", "", ""]
    assert claims[0]["status_effective_date"] == "2005-09-13"
    parquet = pq.read_table(tmp_path / "ack_999_transactions.parquet")
    assert parquet.column("error_summary").to_pylist() == ["NM at position 17: 1; transaction: 5"]


def test_unknown_tables_and_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        write_tables({"remit_nothing": []}, tmp_path)
    with pytest.raises(ValueError, match="unknown format"):
        write_tables({}, tmp_path, format="xlsx")  # type: ignore[arg-type]


def test_835_row_aliases_match_the_columns_and_rows_leave_the_gc() -> None:
    from typing import get_args

    from revcycle.remits import tables as module

    aliases = {
        "remit_payments": module.PaymentRow,
        "remit_claims": module.ClaimRow,
        "remit_service_lines": module.ServiceLineRow,
        "remit_adjustments": module.AdjustmentRow,
        "remit_provider_adjustments": module.ProviderAdjustmentRow,
        "remit_balance_checks": module.BalanceCheckRow,
    }
    for table, alias in aliases.items():
        assert len(get_args(alias)) == len(TABLE_COLUMNS[table]), table
    parsed = parse_835_file(SECONDARY)
    for table, rows in parsed.as_dict().items():
        assert all(type(row) is tuple for row in rows), table
        assert all(len(row) == len(TABLE_COLUMNS[table]) for row in rows), table
    # Plain tuples of atomic values are untracked by the collector once it has seen them: a
    # million rows then cost nothing to later full collections (NamedTuples would).
    gc.collect()
    assert not any(gc.is_tracked(row) for rows in parsed.as_dict().values() for row in rows)
