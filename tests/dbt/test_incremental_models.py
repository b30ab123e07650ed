"""Incremental models equal a full refresh.

The remittance staging tables (stg_x12__remit_*) and the ledger (fct_ar_ledger) are
incremental: a nightly build stages only the raw rows loaded since the last build and writes
only the ledger entries that are new or changed. This test takes the shared small cycle (one
full build, then an incremental one after the first remittances), runs a second night on it -
a late charge correction on a claim already billed, the secondary claims billed and answered,
every build incremental - and then rebuilds a copy with ``--full-refresh``. Every table and
view the project builds must hold the same rows either way.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.paths import WorkArea
from tests.conftest import AS_OF
from tests.cycle_support import bill_and_reconcile, copy_area, dbt_build, table_rows

INCREMENTAL_MODELS = (
    ("staging", "stg_x12__remit_payments"),
    ("staging", "stg_x12__remit_claims"),
    ("staging", "stg_x12__remit_service_lines"),
    ("staging", "stg_x12__remit_adjustments"),
    ("staging", "stg_x12__remit_provider_adjustments"),
    ("staging", "stg_x12__remit_balance_checks"),
    ("marts", "fct_ar_ledger"),
)
SCHEMAS = ("staging", "intermediate", "marts")


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return [
        (str(schema), str(name), str(kind))
        for schema, name, kind in con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_schema in (select unnest(?::varchar[])) order by 1, 2",
            [list(SCHEMAS)],
        ).fetchall()
    ]


def _contents(warehouse: Path) -> dict[str, Counter[tuple[object, ...]]]:
    """Every relation's rows as a multiset (row order is not part of a table)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = [f"{schema}.{name}" for schema, name, _ in _relations(con)]
    return table_rows(warehouse, relations, schema=None)


def _correct_a_billed_charge(area: WorkArea) -> tuple[str, Decimal]:
    """Deliver a late correction of one charge line of a claim already sent: same charge_id,
    the amount raised by 10.00. Returns the charge id and its new amount."""
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        row = con.execute(
            "select lines.charge_id, lines.charge_amount from marts.fct_claim_lines as lines "
            "inner join marts.fct_ar_ledger as ledger using (claim_line_id) "
            "where ledger.event_type = 'charge' and ledger.source_type = '837_submission' "
            "order by lines.charge_id limit 1"
        ).fetchone()
    assert row is not None, "no billed charge in the small cycle"
    charge_id, amount = str(row[0]), Decimal(row[1]) + Decimal("10.00")
    with (area.extracts / "charges.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        original = next(r for r in reader if r["charge_id"] == charge_id)
    with (area.extracts / "charges_correction.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerow({**original, "charge_amount": f"{amount:.2f}"})
    return charge_id, amount


def test_incremental_builds_equal_a_full_refresh(
    small_cycle_area: WorkArea, tmp_path: Path
) -> None:
    area = copy_area(small_cycle_area, tmp_path / "incremental")
    next_night = AS_OF + timedelta(days=1)
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        ledger_before = con.execute("select count(*) from marts.fct_ar_ledger").fetchone()

    charge_id, new_amount = _correct_a_billed_charge(area)
    outcomes = load_extract_dir(area.extracts, area.warehouse, area.quarantine)
    assert [o.file_name for o in outcomes if o.status is LoadStatus.LOADED] == [
        "charges_correction.csv"
    ]
    built = dbt_build(area, next_night)
    assert built.returncode == 0, built.stdout[-6000:]
    bill_and_reconcile(area, next_night)

    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        # The second night really exercised the incremental paths: new remittances were
        # staged (the secondaries' 835s), new entries posted, and a posted charge changed.
        ledger_after = con.execute("select count(*) from marts.fct_ar_ledger").fetchone()
        corrected = con.execute(
            "select ledger.amount from marts.fct_ar_ledger as ledger "
            "inner join marts.fct_claim_lines as lines using (claim_line_id) "
            "where lines.charge_id = ? and ledger.event_type = 'charge'",
            [charge_id],
        ).fetchall()
        secondary_paid = con.execute(
            "select count(*) from marts.fct_ar_ledger "
            "where payer_sequence = 'secondary' and event_type = 'payment'"
        ).fetchone()
    assert ledger_before is not None and ledger_after is not None
    assert ledger_after[0] > ledger_before[0]
    assert corrected == [(new_amount,)]
    assert secondary_paid is not None and secondary_paid[0] > 0

    refreshed = copy_area(area, tmp_path / "full_refresh")
    rebuilt = dbt_build(refreshed, next_night, full_refresh=True)
    assert rebuilt.returncode == 0, rebuilt.stdout[-6000:]

    incremental, full = _contents(area.warehouse), _contents(refreshed.warehouse)
    assert set(incremental) == set(full)
    for schema, name in INCREMENTAL_MODELS:
        assert f"{schema}.{name}" in incremental
    differing = sorted(name for name in full if incremental[name] != full[name])
    assert differing == [], f"incremental build differs from a full refresh in {differing}"
