"""Ingest: every file loaded once, malformed files quarantined with a reason, nothing dropped."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.extracts.schema import TABLES


def _copy_extract(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def _raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            t.name: int(con.execute(f"select count(*) from raw.{t.name}").fetchone()[0])  # type: ignore[index]
            for t in TABLES
        }


def test_every_row_of_every_file_is_loaded_once(small_extract: Path, tmp_path: Path) -> None:
    extracts = _copy_extract(small_extract, tmp_path / "extracts")
    warehouse = tmp_path / "wh.duckdb"

    first = load_extract_dir(extracts, warehouse, tmp_path / "quarantine")

    assert {o.status for o in first} == {LoadStatus.LOADED}
    assert len(first) == len(TABLES)
    counts = _raw_counts(warehouse)
    for table in TABLES:
        assert counts[table.name] == _data_rows(extracts / table.file_name) > 0
    for outcome in first:
        assert outcome.rows_read == outcome.rows_loaded

    second = load_extract_dir(extracts, warehouse, tmp_path / "quarantine")

    assert {o.status for o in second} == {LoadStatus.SKIPPED}
    assert _raw_counts(warehouse) == counts
    with duckdb.connect(str(warehouse), read_only=True) as con:
        manifest = con.execute(
            "select status, count(*), sum(rows_loaded) from ops.load_manifest group by status"
        ).fetchall()
    assert manifest == [("loaded", len(TABLES), sum(counts.values()))]


def test_same_content_under_another_name_is_not_loaded_twice(
    small_extract: Path, tmp_path: Path
) -> None:
    extracts = _copy_extract(small_extract, tmp_path / "extracts")
    warehouse = tmp_path / "wh.duckdb"
    load_extract_dir(extracts, warehouse, tmp_path / "quarantine")
    before = _raw_counts(warehouse)
    shutil.copy(extracts / "charges.csv", extracts / "charges_redelivered.csv")

    outcomes = {o.file_name: o for o in load_extract_dir(extracts, warehouse, tmp_path / "q")}

    assert outcomes["charges_redelivered.csv"].status is LoadStatus.SKIPPED
    assert "charges.csv" in (outcomes["charges_redelivered.csv"].reason or "")
    assert _raw_counts(warehouse) == before


def _rewrite(path: Path, transform: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if transform == "drop_column":
        header = lines[0].rstrip("\n").split(",")
        idx = header.index("service_date")
        lines = [
            ",".join(v for i, v in enumerate(line.rstrip("\n").split(",")) if i != idx) + "\n"
            for line in lines
        ]
    elif transform == "bad_date":
        header = lines[0].rstrip("\n").split(",")
        idx = header.index("service_date")
        fields = lines[5].rstrip("\n").split(",")
        fields[idx] = "11/31/2026"
        lines[5] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        ("drop_column", "encounters.csv, line 1: missing column(s): service_date"),
        ("bad_date", "encounters.csv, data row 5, column service_date: not a date (YYYY-MM-DD)"),
    ],
)
def test_malformed_file_is_quarantined_and_the_others_load(
    small_extract: Path, tmp_path: Path, transform: str, expected: str
) -> None:
    extracts = _copy_extract(small_extract, tmp_path / "extracts")
    _rewrite(extracts / "encounters.csv", transform)
    warehouse = tmp_path / "wh.duckdb"
    quarantine = tmp_path / "quarantine"

    outcomes = {o.file_name: o for o in load_extract_dir(extracts, warehouse, quarantine)}

    bad = outcomes["encounters.csv"]
    assert bad.status is LoadStatus.QUARANTINED
    assert bad.reason == expected
    assert "11/31/2026" not in (bad.reason or "")  # values never appear in errors
    assert not (extracts / "encounters.csv").exists()
    assert bad.quarantined_to is not None and bad.quarantined_to.exists()
    reason_file = bad.quarantined_to.with_name(bad.quarantined_to.name + ".reason.txt")
    assert reason_file.read_text(encoding="utf-8").strip() == expected
    others = [o for name, o in outcomes.items() if name != "encounters.csv"]
    assert {o.status for o in others} == {LoadStatus.LOADED}
    counts = _raw_counts(warehouse)
    assert counts["encounters"] == 0
    assert counts["charges"] == _data_rows(extracts / "charges.csv")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "select status, reason from ops.load_manifest where file_name = 'encounters.csv'"
        ).fetchone()
    assert row == ("quarantined", expected)


def test_wrong_encoding_names_the_line(small_extract: Path, tmp_path: Path) -> None:
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    original = (small_extract / "patients.csv").read_bytes().split(b"\n")
    original[3] = original[3].replace(b",", b",Mu\xf1oz ", 1)  # a cp1252 n-tilde
    (extracts / "patients.csv").write_bytes(b"\n".join(original))

    (outcome,) = load_extract_dir(extracts, tmp_path / "wh.duckdb", tmp_path / "q")

    assert outcome.status is LoadStatus.QUARANTINED
    assert outcome.reason is not None
    assert outcome.reason.startswith("patients.csv, line 4, byte ")
    assert "not UTF-8" in outcome.reason


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("payers.csv", b"", "payers.csv: empty file: no header row"),
        ("notes.csv", b"a,b\n1,2\n", "notes.csv: not an extract table file"),
        (
            "diagnoses.csv",
            b"encounter_id,diagnosis_sequence,icd10_code\nE1,1,I10\nE1,2,E11.9,X\n",
            "diagnoses.csv, line 3: not a well-formed CSV row",
        ),
        (
            "diagnoses_2.csv",
            b"encounter_id,diagnosis_sequence,icd10_code\nE1,1,I10\nE1,1,E11.9\n",
            "diagnoses_2.csv, data rows 1 and 2: key (encounter_id, diagnosis_sequence) appears",
        ),
        (
            "diagnoses_3.csv",
            b"encounter_id,diagnosis_sequence,icd10_code\nE1,1,I10\n,2,E11.9\n",
            "diagnoses_3.csv, data row 2, column encounter_id: required value missing",
        ),
    ],
)
def test_broken_files_get_one_clear_error(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    (extracts / name).write_bytes(content)

    (outcome,) = load_extract_dir(extracts, tmp_path / "wh.duckdb", tmp_path / "q")

    assert outcome.status is LoadStatus.QUARANTINED
    assert (outcome.reason or "").startswith(expected)
