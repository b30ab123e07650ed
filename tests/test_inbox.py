"""The inbox loader: every file ends loaded, skipped (same bytes again) or quarantined with a
reason, and leaves the inbox; a file delivered twice posts nothing twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from revcycle.extracts.load import LoadStatus
from revcycle.inbox import load_inbox

SAMPLES = Path(__file__).parent / "fixtures" / "x12"


def _counts(warehouse: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            """
            select
                (select count(*) from raw.x12_remit_payments),
                (select count(*) from raw.x12_remit_claims),
                (select count(*) from raw.x12_ack_999_transactions)
            """
        ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def test_inbox_files_are_loaded_once_archived_or_quarantined(tmp_path: Path) -> None:
    inbox, archive, quarantine = tmp_path / "inbox", tmp_path / "archive", tmp_path / "q"
    warehouse = tmp_path / "wh.duckdb"
    (inbox / "835").mkdir(parents=True)
    (inbox / "999").mkdir(parents=True)
    era = SAMPLES / "835" / "stupidedi-era-sample.edi"
    shutil.copy(era, inbox / "835" / "era.x12")
    shutil.copy(era, inbox / "835" / "era_redelivered.x12")  # byte-identical second delivery
    shutil.copy(SAMPLES / "ack" / "imsweb-x12_999_rejected.txt", inbox / "999" / "ack.x12")
    (inbox / "835" / "broken.x12").write_bytes(b"ST*835*0001~BPR*I*abc*C~SE*3*0001~")

    outcomes = {
        o.outcome.file_name: o.outcome for o in load_inbox(inbox, warehouse, archive, quarantine)
    }

    assert outcomes["era.x12"].status is LoadStatus.LOADED
    assert outcomes["era_redelivered.x12"].status is LoadStatus.SKIPPED
    assert "era.x12" in (outcomes["era_redelivered.x12"].reason or "")
    assert outcomes["ack.x12"].status is LoadStatus.LOADED
    broken = outcomes["broken.x12"]
    assert broken.status is LoadStatus.QUARANTINED
    assert (broken.reason or "").startswith("broken.x12")
    assert "segment" in (broken.reason or "")
    assert broken.quarantined_to is not None and broken.quarantined_to.exists()
    # The inbox is empty: every file went to the archive or to quarantine.
    assert not [p for p in inbox.rglob("*") if p.is_file()]
    assert sorted(p.name for p in (archive / "835").iterdir()) == ["era.x12", "era_redelivered.x12"]
    payments, claims, acks = _counts(warehouse)
    assert payments >= 1 and claims >= 1 and acks >= 1

    # The same file delivered again later posts nothing.
    shutil.copy(era, inbox / "835" / "era_again.x12")
    (again,) = load_inbox(inbox, warehouse, archive, quarantine)
    assert again.outcome.status is LoadStatus.SKIPPED
    assert _counts(warehouse) == (payments, claims, acks)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = con.execute(
            "select status, count(*) from ops.load_manifest group by all order by 1"
        ).fetchall()
    assert statuses == [("loaded", 2), ("quarantined", 1), ("skipped", 2)]
