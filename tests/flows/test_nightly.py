"""Nightly runs as the deployment runs them (the revenue-cycle flow, no simulation): a second
run with no new extract file changes no mart and sends nothing; a run with one new extract day
adds just that day's encounters, claims and 837s, and leaves everything else as it was."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from tests.conftest import AS_OF
from tests.cycle_support import table_rows

DAY_TABLES = ("encounters", "charges", "diagnoses")
# Marts of the billing side (the AR side waits for remittances, which no simulation sends
# here); rows compared in full.
COMPARED = ("fct_claims", "fct_claim_lines", "fct_claim_diagnoses", "fct_claim_scrub_status")


def _split_last_day(extract: Path, day_two: Path) -> set[str]:
    """Move the encounters of the latest service dates (and their charges and diagnoses) out
    of ``extract`` into ``day_two`` as ``<table>_day2.csv``; returns their encounter ids."""
    with (extract / "encounters.csv").open(encoding="utf-8", newline="") as fh:
        encounters = list(csv.DictReader(fh))
    # The latest ten dates of service stand for the new extract day's encounters (a single
    # date of a 200-encounter extract holds one or two encounters).
    since = sorted({row["service_date"] for row in encounters})[-10]
    moved = {row["encounter_id"] for row in encounters if row["service_date"] >= since}
    day_two.mkdir()
    for table in DAY_TABLES:
        path = extract / f"{table}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
        for target, keep in ((path, False), (day_two / f"{table}_day2.csv", True)):
            with target.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
                writer.writeheader()
                writer.writerows(r for r in rows if (r["encounter_id"] in moved) == keep)
    return moved


@pytest.mark.usefixtures("prefect_harness")
def test_nightly_runs_add_just_the_new_day(tmp_path: Path) -> None:
    from flows.revenue_cycle import revenue_cycle
    from revcycle.extracts.generate import generate_extract
    from revcycle.x12.read_837 import read_837_claims

    data_dir = tmp_path / "data"
    extract = data_dir / "extracts"
    generate_extract(
        out_dir=extract,
        answer_key_dir=tmp_path / "answer_keys",
        encounters=200,
        seed=5,
        as_of=AS_OF,
    )
    new_encounters = _split_last_day(extract, tmp_path / "day2")
    assert len(new_encounters) >= 5

    first = revenue_cycle(data_dir=str(data_dir), as_of=AS_OF)
    assert (first.files_loaded, first.files_quarantined) == (7, 0)
    assert first.billing is not None and first.billing.files
    before = table_rows(first.warehouse, COMPARED)

    # The next night, nothing new: nothing loaded, nothing sent, no mart changes.
    second = revenue_cycle(data_dir=str(data_dir), as_of=AS_OF)
    assert (second.files_loaded, second.files_skipped) == (0, 7)
    assert second.billing is not None and second.billing.files == ()
    assert table_rows(second.warehouse, COMPARED) == before

    # A new extract day arrives: just its encounters are added and billed.
    for path in sorted((tmp_path / "day2").iterdir()):
        (extract / path.name).write_bytes(path.read_bytes())
    third = revenue_cycle(data_dir=str(data_dir), as_of=AS_OF)
    assert (third.files_loaded, third.files_skipped) == (3, 7)
    after = table_rows(third.warehouse, COMPARED)
    for table in COMPARED:
        assert before[table] <= after[table], f"{table}: a row of the earlier days changed"
    with duckdb.connect(str(third.warehouse), read_only=True) as con:
        added = {
            str(row[0])
            for row in con.execute("select encounter_id from marts.fct_claims").fetchall()
        } - {str(row[1]) for row in before["fct_claims"]}
        new_ready_claims = {
            str(row[0])
            for row in con.execute(
                "select claim_id from marts.fct_claims as claims "
                "inner join marts.fct_claim_scrub_status using (claim_id) "
                "where scrub_status = 'ready' and claims.encounter_id in "
                "(select unnest(?::varchar[]))",
                [sorted(new_encounters)],
            ).fetchall()
        }
    assert added == new_encounters
    assert third.marts.claims == first.marts.claims + len(new_encounters)
    assert third.billing is not None
    sent = {
        claim.claim_id
        for emitted in third.billing.files
        for claim in read_837_claims(emitted.path.read_bytes(), emitted.path.name)
    }
    assert sent == new_ready_claims  # the new day's ready claims go out, nothing else
