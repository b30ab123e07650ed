"""The inbox loader: every file ends loaded, skipped (same bytes again) or quarantined with a
reason, and leaves the inbox; a file delivered twice posts nothing twice."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import duckdb
from pytest import MonkeyPatch

import revcycle.inbox as inbox_module
from revcycle.extracts.load import LoadStatus
from revcycle.inbox import list_inbox, load_inbox, load_parsed_inbox, parse_inbox_file

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


def _inbox_of_samples(root: Path) -> Path:
    """An inbox with good, duplicate and broken files of three kinds."""
    inbox = root / "inbox"
    for kind in ("835", "999", "277ca"):
        (inbox / kind).mkdir(parents=True)
    for sample in sorted((SAMPLES / "835").glob("stupidedi-*")):
        shutil.copy(sample, inbox / "835" / f"{sample.stem}.x12")
    shutil.copy(SAMPLES / "835" / "stupidedi-era-sample.edi", inbox / "835" / "zz-again.x12")
    (inbox / "835" / "broken.x12").write_bytes(b"ST*835*0001~BPR*I*abc*C~SE*3*0001~")
    shutil.copy(SAMPLES / "ack" / "imsweb-x12_999_rejected.txt", inbox / "999" / "ack.x12")
    shutil.copy(SAMPLES / "ack" / "lfh-demo.277", inbox / "277ca" / "demo.x12")
    return inbox


def _raw_rows(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every raw X12 table and the manifest, clock columns left out, in insertion order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name like 'x12_%' order by 1"
            ).fetchall()
        ]
        rows = {
            table: con.execute(f"select * exclude (_loaded_at) from raw.{table}").fetchall()
            for table in tables
        }
        rows["load_manifest"] = con.execute(
            "select * exclude (load_id, loaded_at, quarantined_to) from ops.load_manifest"
        ).fetchall()
    return rows


def test_parsing_is_pure_and_picklable(tmp_path: Path) -> None:
    inbox = _inbox_of_samples(tmp_path)
    (inbox / "999" / "link.x12").symlink_to(inbox / "999" / "ack.x12")
    before = sorted(p.name for p in inbox.rglob("*"))
    parsed = {path.name: parse_inbox_file(kind, path) for kind, path in list_inbox(inbox)}
    assert sorted(p.name for p in inbox.rglob("*")) == before  # nothing moved, nothing written

    era = pickle.loads(pickle.dumps(parsed["stupidedi-era-sample.x12"]))  # noqa: S301 - our own bytes
    assert era.problem is None and era.refused is None and era.sha256
    assert era.tables["remit_claims"].num_rows == 1
    assert era.rows == sum(table.num_rows for table in era.tables.values())
    broken = parsed["broken.x12"]
    assert broken.tables == {} and (broken.problem or "").startswith("broken.x12 (segment")
    link = parsed["link.x12"]
    assert link.sha256 is None and "symbolic link" in (link.refused or "")


def test_the_loader_takes_parsed_files_in_any_order(tmp_path: Path) -> None:
    """load_parsed_inbox sorts what it is given into load order: the same rows, manifest and
    archive as load_inbox."""
    direct, mapped = tmp_path / "direct", tmp_path / "mapped"
    for root in (direct, mapped):
        _inbox_of_samples(root)
    load_inbox(direct / "inbox", direct / "wh.duckdb", direct / "archive", direct / "q")
    parsed = [parse_inbox_file(kind, path) for kind, path in list_inbox(mapped / "inbox")]
    outcomes = load_parsed_inbox(
        reversed(parsed), mapped / "wh.duckdb", mapped / "archive", mapped / "q"
    )

    assert [(o.kind, o.outcome.file_name) for o in outcomes] == [
        (kind, path.name) for kind, path in list_inbox(_inbox_of_samples(tmp_path / "again"))
    ]
    assert _raw_rows(mapped / "wh.duckdb") == _raw_rows(direct / "wh.duckdb")
    archived = sorted(
        str(p.relative_to(mapped / "archive")) for p in (mapped / "archive").rglob("*")
    )
    assert archived == sorted(
        str(p.relative_to(direct / "archive")) for p in (direct / "archive").rglob("*")
    )


def test_parsing_in_a_pool_loads_the_same_rows(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    alone, pooled = tmp_path / "alone", tmp_path / "pooled"
    for root in (alone, pooled):
        _inbox_of_samples(root)
    load_inbox(alone / "inbox", alone / "wh.duckdb", alone / "archive", alone / "q")
    monkeypatch.setattr(inbox_module, "POOL_MIN_BYTES", 0)
    started: list[object] = []
    real_pool = inbox_module.ProcessPoolExecutor

    def counting_pool(*args: object, **kwargs: object) -> object:
        started.append(True)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(inbox_module, "ProcessPoolExecutor", counting_pool)
    load_inbox(pooled / "inbox", pooled / "wh.duckdb", pooled / "archive", pooled / "q")

    assert started  # the pool did run
    assert _raw_rows(pooled / "wh.duckdb") == _raw_rows(alone / "wh.duckdb")


def test_a_file_changed_after_parsing_is_parsed_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "835").mkdir(parents=True)
    path = inbox / "835" / "era.x12"
    path.write_bytes(b"ST*835*0001~BPR*I*abc*C~SE*3*0001~")  # unreadable when parsed
    parsed = parse_inbox_file("835", path)
    assert parsed.problem is not None
    path.unlink()  # replaced by a good file before the loader ran
    shutil.copy(SAMPLES / "835" / "stupidedi-era-sample.edi", path)

    (outcome,) = load_parsed_inbox([parsed], tmp_path / "wh.duckdb", tmp_path / "a", tmp_path / "q")
    assert outcome.outcome.status is LoadStatus.LOADED
    assert (
        outcome.outcome.rows_loaded
        == parse_inbox_file("835", tmp_path / "a" / "835" / "era.x12").rows
    )


def test_the_checkpoint_threshold_is_put_back(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        (before,) = con.execute("select current_setting('checkpoint_threshold')").fetchone() or (
            "",
        )
        load_inbox(_inbox_of_samples(tmp_path), warehouse, tmp_path / "a", tmp_path / "q")
        (after,) = con.execute("select current_setting('checkpoint_threshold')").fetchone() or ("",)
    assert after == before
