"""Bad input: malformed X12 in the inbox, broken EMR extract files, and names that try to leave
their folder. Every bad file gets one clear error naming the file and where it breaks, goes to
quarantine with a reason, and the good files of the same batch still load.

PROVENANCE: the malformed X12 files are the public imsweb/x12-parser samples copied unchanged
into tests/fixtures/x12/malformed/ (BSD licence; see tests/fixtures/x12/PROVENANCE.md). The
other bad X12 files are made here from the public stupidedi 835 sample by editing one segment.
The extract rows are invented (tests/reliability/fuzzing.py::seed_rows); every text value
starts with "Phi", so a reason or log line quoting a value is caught.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shutil
import string
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncssh
import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.extracts.load import FileOutcome, LoadStatus, load_extract_dir
from revcycle.extracts.schema import TABLES
from revcycle.inbox import PARSERS, InboxOutcome, load_inbox
from revcycle.x12.reader import read_interchanges
from tests.reliability.fuzzing import (
    FIXTURES,
    PHI_MARKER,
    budget,
    render_csv,
    seed_rows,
    split_x12,
)

MALFORMED = sorted((FIXTURES / "malformed").iterdir())
ERA = FIXTURES / "835" / "stupidedi-era-sample.edi"  # 1 claim, 5 service lines
MULTI = FIXTURES / "835" / "stupidedi-multiple-claims-single-check.edi"  # 9 claims
GOOD_FILES = {  # inbox kind -> (file, rows it adds to its first table)
    "835": (MULTI, "remit_claims", 9),
    "999": (FIXTURES / "ack" / "imsweb-x12_999_accepted.txt", "ack_999_transactions", 1),
    "277ca": (FIXTURES / "ack" / "lfh-demo.277", "ack_277ca_claims", 3),
    "271": (FIXTURES / "ack" / "lfh-demo.271", "eligibility_responses", 1),
}
TABLE = {t.name: t for t in TABLES}
NEWLINE = b"\n"


def _by_name(outcomes: list[InboxOutcome]) -> dict[tuple[str, str], FileOutcome]:
    return {(o.kind, o.outcome.file_name): o.outcome for o in outcomes}


def _count(warehouse: Path, table: str, where: str = "true") -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(f"select count(*) from {table} where {where}").fetchone()
    assert row is not None
    return int(row[0])


def _assert_quarantined(outcome: FileOutcome, reason: str) -> None:
    assert outcome.status is LoadStatus.QUARANTINED
    assert outcome.reason == reason
    target = outcome.quarantined_to
    assert target is not None and (target.exists() or target.is_symlink())
    reason_file = target.with_name(target.name + ".reason.txt")
    assert reason_file.read_bytes().decode("utf-8") == reason + "\n"


def _first_st(data: bytes) -> int:
    """1-based position of the first ST, by plain splitting (not the project's reader)."""
    segments = split_x12(data).segments
    return next(i for i, seg in enumerate(segments, 1) if seg[0] == "ST")


def _segment_of(data: bytes, prefix: str) -> int:
    segments = split_x12(data).segments
    return next(i for i, seg in enumerate(segments, 1) if "*".join(seg).startswith(prefix))


# --------------------------------------------------------------------------------------------
# Malformed X12 in the inbox


def test_every_malformed_sample_is_quarantined_at_its_first_transaction(tmp_path: Path) -> None:
    """All 14 public malformed samples, in every inbox folder, in one batch with good files.

    What really happens, and why: every one of these files is an 837P the tolerant reader can
    read, with warnings (tests/x12/test_reader.py::test_malformed_samples_read_with_warnings:
    a 105-character ISA, no ISA at all, a bad segment id, SE01 counts that are wrong...). Their
    defects are 837 implementation-guide errors (loops, codes, missing elements) that the
    reader does not judge. ``writer_test`` is a valid 837 apart from its SE01 count. What makes
    each unloadable here is that none holds the transaction an inbox folder takes (835, 999,
    277, 271): each is quarantined with that reason, at the position of its first ST (segment
    3, or 2 in the file that has no ISA).
    """
    assert len(MALFORMED) == 14
    for sample in MALFORMED:  # readable X12: the reader finds 837 transactions in each
        interchanges = read_interchanges(sample.read_bytes(), sample.name)
        assert {t.transaction_set_id for i in interchanges for t in i.transactions} == {"837"}
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    wanted = {
        "835": "no 835 transaction (ST*835) in the file",
        "999": "no 999 (or 997) transaction in the file",
        "277ca": "no 277 transaction in the file",
        "271": "no 271 transaction in the file",
    }
    for kind, (good, _, _) in GOOD_FILES.items():
        (inbox / kind).mkdir(parents=True)
        shutil.copy(good, inbox / kind / good.name)
        for sample in MALFORMED:
            shutil.copy(sample, inbox / kind / sample.name)

    outcomes = _by_name(load_inbox(inbox, warehouse, tmp_path / "archive", tmp_path / "q"))

    assert len(outcomes) == len(PARSERS) * (len(MALFORMED) + 1)
    for kind, message in wanted.items():
        for sample in MALFORMED:
            position = _first_st(sample.read_bytes())
            assert position == (2 if sample.name == "imsweb-x12_no_isa_line.txt" else 3)
            _assert_quarantined(
                outcomes[kind, sample.name],
                f"{sample.name} (segment {position}): {message}: "
                "its first transaction set is 837 (ST01)",
            )
            quarantined = outcomes[kind, sample.name].quarantined_to
            assert quarantined is not None
            assert quarantined.parent == tmp_path / "q" / "inbox" / kind
            assert quarantined.read_bytes() == sample.read_bytes()
        good, table, rows = GOOD_FILES[kind]
        assert outcomes[kind, good.name].status is LoadStatus.LOADED
        assert _count(warehouse, f"raw.x12_{table}") == rows
    assert not [p for p in inbox.rglob("*") if p.is_file()]  # nothing left behind
    assert _count(warehouse, "ops.load_manifest", "status = 'quarantined'") == 4 * len(MALFORMED)


def _edit(data: bytes, old: str, new: str) -> bytes:
    text = data.decode("ascii")
    assert text.count(old) == 1, old
    return text.replace(old, new).encode("latin-1")


_ERA = ERA.read_bytes()
_CLP = _segment_of(_ERA, "CLP*")
_SVC1 = _segment_of(_ERA, "SVC*AD:D0120")
# name -> (bytes, expected reason or None when the file loads, claims it adds when it loads)
BAD_835: dict[str, tuple[bytes, str | None, int]] = {
    # Readable quirks the reader is built for (docs/x12.md): these load.
    "no_isa.x12": (_ERA[_ERA.index(b"GS*") :], None, 1),
    "isa_105.x12": (_ERA.replace(b"*ZZ*123456789      *", b"*ZZ*123456789     *", 1), None, 1),
    "utf16.x12": (_ERA.decode("ascii").encode("utf-16"), None, 1),
    "cp1252_name.x12": (_edit(_ERA, "N1*PR*DELTA DENTAL", "N1*PR*DELTA D\xc9NTAL"), None, 1),
    "bad_date.x12": (
        _edit(_ERA, "D0220*25*14~DTM*472*20140324", "D0220*25*14~DTM*472*20140231"),
        None,
        1,
    ),
    # Not loadable: one reason, one position each.
    "bad_amount.x12": (
        _edit(_ERA, "CLP*7722337*1*226*", "CLP*7722337*1*22O*"),
        f"bad_amount.x12 (segment {_CLP}): CLP03 is not a valid decimal amount",
        0,
    ),
    "missing_element.x12": (
        _edit(_ERA, "CLP*7722337*1*226*132*", "CLP*7722337*1*226**"),
        f"missing_element.x12 (segment {_CLP}): CLP04 (claim payment amount) is missing",
        0,
    ),
    "bad_segment_id.x12": (  # CLP misspelt: the reader warns, the 835 has no claim to put SVC in
        _edit(_ERA, "CLP*7722337", "CIP*7722337"),
        f"bad_segment_id.x12 (segment {_SVC1}): SVC outside a claim (2100) loop",
        0,
    ),
    "out_of_order.x12": (  # a CAS before the claim's CLP
        _edit(_ERA, "LX*1~CLP*", "LX*1~CAS*CO*45*1~CLP*"),
        f"out_of_order.x12 (segment {_CLP}): CAS outside a claim (2100) loop",
        0,
    ),
    "truncated.x12": (
        _ERA[: _ERA.index(b"SVC*AD:D0220") + 10],
        f"truncated.x12 (segment {_SVC1 + 4}, character {_ERA.index(b'SVC*AD:D0220')}): the data "
        "ends inside a SVC segment with no segment terminator (truncated file?)",
        0,
    ),
    "overflowing_sums.x12": (  # each amount fits DECIMAL(18,2); CLP03 minus the CAS does not
        _edit(
            _edit(_ERA, "CLP*7722337*1*226*", "CLP*7722337*1*9999999999999999.99*"),
            "CAS*CO*131*21~",
            "CAS*CO*131*-9999999999999999.99~",
        ),
        f"overflowing_sums.x12 (segment {_SVC1}): the service line's amounts add up to more "
        "than DECIMAL(18,2) holds (16 integer digits): the balance check cannot be stored",
        0,
    ),
    "empty.x12": (b"", "empty.x12: no ISA, GS or ST segment found: not an X12 file", 0),
    "garbage.x12": (
        random.Random(835).randbytes(5000).replace(b"ISA", b"isa").replace(b"ST", b"st"),
        "garbage.x12: no ISA, GS or ST segment found: not an X12 file",
        0,
    ),
}


def test_broken_835s_are_quarantined_with_a_position_and_quirks_load(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    (inbox / "835").mkdir(parents=True)
    shutil.copy(MULTI, inbox / "835" / "good.x12")
    for name, (data, _, _) in BAD_835.items():
        (inbox / "835" / name).write_bytes(data)

    outcomes = _by_name(load_inbox(inbox, warehouse, tmp_path / "archive", tmp_path / "q"))

    assert outcomes["835", "good.x12"].status is LoadStatus.LOADED
    for name, (_, reason, _) in BAD_835.items():
        if reason is None:
            assert outcomes["835", name].status is LoadStatus.LOADED, outcomes["835", name]
        else:
            _assert_quarantined(outcomes["835", name], reason)
    loaded_claims = 9 + sum(claims for _, reason, claims in BAD_835.values() if reason is None)
    assert _count(warehouse, "raw.x12_remit_claims") == loaded_claims
    for name, (_, reason, _) in BAD_835.items():
        if reason is not None:
            assert _count(warehouse, "raw.x12_remit_claims", f"_source_file = '{name}'") == 0


# --------------------------------------------------------------------------------------------
# Broken EMR extract files


def _csv(table: str, rows: list[list[str]]) -> bytes:
    return render_csv(rows).encode("utf-8")


def _without_column(table: str, column: str) -> bytes:
    rows = seed_rows(TABLE[table])
    index = rows[0].index(column)
    return _csv(table, [row[:index] + row[index + 1 :] for row in rows])


def _with_cell(table: str, data_row: int, column: str, value: str) -> bytes:
    rows = seed_rows(TABLE[table])
    rows[data_row][rows[0].index(column)] = value
    return _csv(table, rows)


def _latin1_patients() -> tuple[bytes, str]:
    rows = seed_rows(TABLE["patients"])
    rows[2][rows[0].index("last_name")] = "Mu\xf1oz"
    data = render_csv(rows).encode("latin-1")
    bad = data.index(b"\xf1")
    return data, f"line {data.count(NEWLINE, 0, bad) + 1}, byte {bad + 1}"


def _garbage() -> tuple[bytes, str]:
    data = random.Random(7).randbytes(4096)
    with pytest.raises(UnicodeDecodeError) as info:
        data.decode("utf-8")
    bad = info.value.start
    return data, f"line {data.count(NEWLINE, 0, bad) + 1}, byte {bad + 1}"


_LATIN1, _LATIN1_AT = _latin1_patients()
_GARBAGE, _GARBAGE_AT = _garbage()
_HEADER = {name: ",".join(t.column_names) + "\n" for name, t in TABLE.items()}
_PAYERS_HEADER = _HEADER["payers"].encode()
_HUGE = 20_000_000

# file name -> (bytes, expected reason: None when the file loads)
BROKEN_EXTRACTS: dict[str, tuple[bytes, str | None]] = {
    "charges_missing_column.csv": (
        _without_column("charges", "charge_amount"),
        "charges_missing_column.csv, line 1: missing column(s): charge_amount",
    ),
    "charges_text_in_money.csv": (
        _with_cell("charges", 3, "charge_amount", "12.50 USD"),
        "charges_text_in_money.csv, data row 3, column charge_amount: not an amount like 125.00 "
        "(no currency sign or thousands separator)",
    ),
    "encounters_text_in_date.csv": (
        _with_cell("encounters", 2, "service_date", "yesterday"),
        "encounters_text_in_date.csv, data row 2, column service_date: not a date (YYYY-MM-DD)",
    ),
    "encounters_impossible_date.csv": (
        _with_cell("encounters", 4, "service_date", "2026-02-30"),
        "encounters_impossible_date.csv, data row 4, column service_date: not a date (YYYY-MM-DD)",
    ),
    "patients_latin1.csv": (
        _LATIN1,
        f"patients_latin1.csv, {_LATIN1_AT}: not UTF-8 text (re-export the file as UTF-8)",
    ),
    "patients_utf16.csv": (
        render_csv(seed_rows(TABLE["patients"])).encode("utf-16"),
        "patients_utf16.csv, line 1, byte 1: not UTF-8 text (re-export the file as UTF-8)",
    ),
    "payers_empty.csv": (b"", "payers_empty.csv: empty file: no header row (0 bytes)"),
    # The format says the generator writes every table, "even one with no data rows"
    # (docs/extract-format.md): a header-only file is a valid delivery of nothing.
    "diagnoses_header_only.csv": (_HEADER["diagnoses"].encode(), None),
    "providers_one_huge_line.csv": (
        b"x," * (_HUGE // 2),
        "providers_one_huge_line.csv, line 1: no line break in the first 65536 bytes: the file "
        "has no header row",
    ),
    "payers_huge_row.csv": (
        _PAYERS_HEADER + b"y" * _HUGE,
        "payers_huge_row.csv, line 2: not a well-formed CSV row: Maximum line size of 2000000 "
        f"bytes exceeded. Actual Size:{_HUGE} bytes.",
    ),
    "coverages_garbage.csv": (
        _GARBAGE,
        f"coverages_garbage.csv, {_GARBAGE_AT}: not UTF-8 text (re-export the file as UTF-8)",
    ),
    "coverages_control_bytes.csv": (  # valid UTF-8, but no header
        bytes(range(1, 128)) * 20,
        "coverages_control_bytes.csv, line 1: missing column(s): "
        + ", ".join(TABLE["coverages"].column_names),
    ),
    "payers_ragged.csv": (  # the row is echoed by DuckDB's message: it must not be passed on
        _PAYERS_HEADER + b"\n\n" + render_csv(seed_rows(TABLE["payers"])[1:2]).encode()[:40],
        "payers_ragged.csv, line 4: not a well-formed CSV row: Expected Number of Columns: 11 "
        "Found: 3",
    ),
    "payers_open_quote.csv": (
        _PAYERS_HEADER
        + render_csv(seed_rows(TABLE["payers"])[1:2]).encode().replace(b",", b',"', 1),
        "payers_open_quote.csv, line 2: not a well-formed CSV row: Value with unterminated "
        "quote found.",
    ),
    "patients_headerless.csv": (  # a data row read as the header: values are never echoed
        render_csv(seed_rows(TABLE["patients"])[1:3]).encode(),
        "patients_headerless.csv, line 1: missing column(s): "
        + ", ".join(TABLE["patients"].column_names),
    ),
}


@pytest.fixture(scope="module")
def broken_extract_batch(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, FileOutcome], Path, list[str]]:
    root = tmp_path_factory.mktemp("broken_extracts")
    extracts = root / "extracts"
    extracts.mkdir()
    for name, (data, _) in BROKEN_EXTRACTS.items():
        (extracts / name).write_bytes(data)
    (extracts / "charges.csv").write_bytes(_csv("charges", seed_rows(TABLE["charges"], 7)))
    (extracts / "payers.csv").write_bytes(_csv("payers", seed_rows(TABLE["payers"], 4)))
    warehouse = root / "wh.duckdb"
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("revcycle")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        outcomes = load_extract_dir(extracts, warehouse, root / "quarantine")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return {o.file_name: o for o in outcomes}, warehouse, [r.getMessage() for r in records]


@pytest.mark.parametrize("name", sorted(BROKEN_EXTRACTS))
def test_broken_extract_gets_one_clear_error(
    broken_extract_batch: tuple[dict[str, FileOutcome], Path, list[str]], name: str
) -> None:
    outcomes, _, _ = broken_extract_batch
    _, reason = BROKEN_EXTRACTS[name]
    if reason is None:
        assert outcomes[name].status is LoadStatus.LOADED
        assert outcomes[name].rows_loaded == 0
    else:
        _assert_quarantined(outcomes[name], reason)
        assert PHI_MARKER not in reason


def test_the_rest_of_a_broken_extract_batch_loads(
    broken_extract_batch: tuple[dict[str, FileOutcome], Path, list[str]],
) -> None:
    outcomes, warehouse, messages = broken_extract_batch
    assert outcomes["charges.csv"].status is LoadStatus.LOADED
    assert outcomes["payers.csv"].status is LoadStatus.LOADED
    assert _count(warehouse, "raw.charges") == 7
    assert _count(warehouse, "raw.payers") == 4
    assert len(outcomes) == len(BROKEN_EXTRACTS) + 2
    quarantined = [m for m in messages if m.startswith("quarantined ")]
    assert len(quarantined) == sum(1 for _, reason in BROKEN_EXTRACTS.values() if reason)
    assert not [m for m in messages if PHI_MARKER in m]  # no value in any log line


def test_glob_characters_in_names_read_only_that_file(tmp_path: Path) -> None:
    """DuckDB expands ``*``, ``?`` and ``[...]`` in the path it reads: before the fix,
    ``charges_*.csv`` loaded the rows of every charges file and ``charges_[12].csv`` those of
    ``charges_1.csv`` and ``charges_2.csv``; a folder named ``batch[1]`` read ``batch1``."""
    extracts = tmp_path / "batch[1]"
    decoy = tmp_path / "batch1"
    for folder in (extracts, decoy):
        folder.mkdir()
    sizes = {"charges_1.csv": 1, "charges_2.csv": 2, "charges_*.csv": 3, "charges_[12].csv": 4}
    for n, (name, rows) in enumerate(sizes.items()):
        table = seed_rows(TABLE["charges"], rows)
        for row in table[1:]:
            row[0] = f"{row[0]}-{n}"  # charge ids unique across the files
        (extracts / name).write_bytes(_csv("charges", table))
    (extracts / "charges_?.csv").write_bytes(_csv("charges", seed_rows(TABLE["charges"], 6)))
    (decoy / "charges_?.csv").write_bytes(b"not,this,folder\n")

    outcomes = {o.file_name: o for o in load_extract_dir(extracts, tmp_path / "wh", tmp_path / "q")}

    sizes["charges_?.csv"] = 6
    for name, rows in sizes.items():
        assert outcomes[name].status is LoadStatus.LOADED, outcomes[name]
        assert outcomes[name].rows_loaded == rows
        where = f"_source_file = '{name}'"
        assert _count(tmp_path / "wh", "raw.charges", where) == rows


# --------------------------------------------------------------------------------------------
# Names that try to leave their folder


def test_inbox_never_follows_a_symlink_or_leaves_its_folders(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "other-practice.835"
    shutil.copy(ERA, secret)  # a valid 835: it would load if the link were followed
    inbox = tmp_path / "inbox"
    folder = inbox / "835"
    folder.mkdir(parents=True)
    (folder / "link.x12").symlink_to(secret)
    (folder / "dangling.x12").symlink_to(outside / "missing.835")
    (folder / "to_dir.x12").symlink_to(outside)
    (folder / "sub").mkdir()  # a folder inside a kind folder is not read
    shutil.copy(ERA, folder / "sub" / "nested.x12")
    odd_names = ["-rf", " lead.x12", "a..b.x12", "%2e%2e%2fetc.x12", "~", "*.x12", "x12:"]
    dotted = ["..x12", "..."]  # dot-names are writers' temporary files: never read
    for name in odd_names + dotted:
        (folder / name).write_bytes(b"ISA*junk~")
    shutil.copy(MULTI, folder / "good.x12")
    archive, quarantine = tmp_path / "archive", tmp_path / "q"

    outcomes = _by_name(load_inbox(inbox, tmp_path / "wh.duckdb", archive, quarantine))

    reason = "a symbolic link, not a file: not followed (it could point outside the folder)"
    for link in ("link.x12", "dangling.x12", "to_dir.x12"):
        _assert_quarantined(outcomes["835", link], f"{link}: {reason}")
        moved = outcomes["835", link].quarantined_to
        assert moved is not None and moved.is_symlink()  # the link moved, not its target
    assert secret.read_bytes() == ERA.read_bytes() and outside.is_dir()
    assert _count(tmp_path / "wh.duckdb", "raw.x12_remit_claims") == 9  # good.x12 only
    assert (folder / "sub" / "nested.x12").exists()
    for name in odd_names:
        outcome = outcomes["835", name]
        assert outcome.status is LoadStatus.QUARANTINED
        assert outcome.quarantined_to is not None
        assert outcome.quarantined_to.parent == quarantine / "inbox" / "835"
        assert outcome.quarantined_to.resolve().is_relative_to(quarantine.resolve())
    assert [p.parent for p in (archive / "835").iterdir()] == [archive / "835"]
    assert all((folder / name).read_bytes() == b"ISA*junk~" for name in dotted)
    assert not [o for (_, name), o in outcomes.items() if name in dotted]


def test_extracts_never_follow_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(_csv("payers", seed_rows(TABLE["payers"], 3)))
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    (extracts / "payers.csv").symlink_to(outside)
    (extracts / "charges.csv").write_bytes(_csv("charges", seed_rows(TABLE["charges"], 2)))

    outcomes = {o.file_name: o for o in load_extract_dir(extracts, tmp_path / "wh", tmp_path / "q")}

    _assert_quarantined(
        outcomes["payers.csv"],
        "payers.csv: a symbolic link, not a file: not followed (it could point outside the folder)",
    )
    assert outside.exists() and _count(tmp_path / "wh", "raw.payers") == 0
    assert outcomes["charges.csv"].status is LoadStatus.LOADED


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (b"bad\xff.x12", "bad\\xff.x12: the file name is not valid UTF-8: the file was not read"),
        (
            b"x.x12\nWARNING forged log line",
            "x.x12\\x0aWARNING forged log line: the file name holds control characters: the file "
            "was not read",
        ),
    ],
)
def test_names_that_are_not_text_are_quarantined_not_a_crash(
    tmp_path: Path, name: bytes, reason: str
) -> None:
    """Before the fix, a name that is not UTF-8 stopped the whole batch (UnicodeEncodeError
    writing the manifest), and a line break in a name forged a log line."""
    inbox = tmp_path / "inbox"
    (inbox / "835").mkdir(parents=True)
    (inbox / "835" / os.fsdecode(name)).write_bytes(ERA.read_bytes())
    shutil.copy(MULTI, inbox / "835" / "good.x12")
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    (extracts / os.fsdecode(name.replace(b".x12", b".csv"))).write_bytes(_PAYERS_HEADER)
    (extracts / "payers.csv").write_bytes(_csv("payers", seed_rows(TABLE["payers"], 2)))

    inbox_results = load_inbox(inbox, tmp_path / "wh", tmp_path / "a", tmp_path / "q")
    extract_results = load_extract_dir(extracts, tmp_path / "wh", tmp_path / "q")

    for results, expected in (
        ([o.outcome for o in inbox_results], reason),
        (extract_results, reason.replace(".x12", ".csv")),
    ):
        (refused,) = [o for o in results if o.status is LoadStatus.QUARANTINED]
        _assert_quarantined(refused, expected)
        assert [o.status for o in results if o is not refused] == [LoadStatus.LOADED]


def test_a_long_name_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    """Before the fix, the quarantine's time stamp made a 240-byte name too long for the file
    system (ENAMETOOLONG) and the batch stopped."""
    inbox = tmp_path / "inbox"
    (inbox / "835").mkdir(parents=True)
    name = "b" * 240 + ".x12"
    (inbox / "835" / name).write_bytes(b"junk")
    shutil.copy(MULTI, inbox / "835" / "good.x12")

    outcomes = _by_name(load_inbox(inbox, tmp_path / "wh", tmp_path / "a", tmp_path / "q"))

    _assert_quarantined(
        outcomes["835", name], f"{name}: no ISA, GS or ST segment found: not an X12 file"
    )
    assert outcomes["835", "good.x12"].status is LoadStatus.LOADED


_HOSTILE = st.text(
    alphabet=st.sampled_from(list("/\\.\x00~ :*?[]" + string.ascii_letters + "\u2215\uff0f")),
    max_size=40,
) | st.sampled_from(["..", ".", "/", "/etc/passwd", "../../x", "..\\..\\x", "a/../../b", ""])


def _one_component(name: str) -> None:
    assert name not in ("", ".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert Path(name).name == name and not Path(name).is_absolute()


@given(_HOSTILE)
@budget(200)
def test_names_derived_from_outside_data_stay_one_component(value: str) -> None:
    """Names we make from what others send: ISA13 in the simulated clearinghouse's and payer's
    reply files, payer ids in our 837/270 file names, remote SFTP names made local."""
    from revcycle.claims.emit import EmissionError, _safe_file_part
    from revcycle.sim.clearinghouse import _safe_part as clearinghouse_part
    from revcycle.sim.eligibility import _safe_part as eligibility_part
    from revcycle.transport import _local_name

    _one_component(f"999_000000001_{clearinghouse_part(value)}.x12")
    _one_component(f"271_000000001_{eligibility_part(value)}.x12")
    with contextlib.suppress(EmissionError):  # nothing usable in the id: refused, no file
        _one_component(f"{_safe_file_part(value)}_837_000000001.x12")
    local = _local_name(value)
    if local is not None:
        _one_component(local)
        _one_component(f".collect-{local}.part")


class _FakeSftp:
    """An SFTP client over a dict of remote files; it records every path it is asked for."""

    def __init__(self, files: dict[str, bytes], listing: list[str]) -> None:
        self.files = files
        self.listing = listing
        self.touched: list[str] = []

    async def readdir(self, path: str) -> list[Any]:
        attrs = asyncssh.SFTPAttrs(size=4, permissions=0o100644, mtime=1)
        return [SimpleNamespace(filename=name, attrs=attrs) for name in self.listing]

    def open(self, path: str, mode: str) -> Any:
        self.touched.append(path)
        data = self.files[path]

        class _Remote:
            async def __aenter__(self) -> _Remote:
                return self

            async def __aexit__(self, *exc: object) -> None:
                return None

            async def read(self, size: int, offset: int) -> bytes:
                return data[offset : offset + size]

        return _Remote()

    async def stat(self, path: str) -> asyncssh.SFTPAttrs:
        self.touched.append(path)
        if path not in self.files:
            raise asyncssh.SFTPNoSuchFile(path)
        return asyncssh.SFTPAttrs(size=len(self.files[path]), permissions=0o100644, mtime=1)

    async def makedirs(self, path: str, exist_ok: bool = False) -> None:
        self.touched.append(path)

    async def rename(self, old: str, new: str) -> None:
        self.touched.extend([old, new])
        self.files[new] = self.files.pop(old)

    async def remove(self, path: str) -> None:
        self.touched.append(path)
        del self.files[path]


def test_remote_names_with_path_parts_are_not_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server (or a man in the middle of a misconfigured one) listing ``../outbound/x`` or an
    absolute path in ``inbound/835`` must not make us download, move or delete that file."""
    import revcycle.transport as transport
    from revcycle.config import SftpConfig
    from revcycle.paths import WorkArea

    files = {
        "inbound/835/good.x12": b"good",
        "outbound/claims_1.x12": b"ours",
        "/etc/passwd": b"root",
        "inbound/835/sub/x.x12": b"deep",
    }
    hostile = ["a/../../outbound/claims_1.x12", "/etc/passwd", "sub/x.x12", "x\\..\\..\\y.x12"]
    dotted = ["../../outbound/claims_1.x12", "..", "."]  # dot-names are never collected
    sftp = _FakeSftp(files, [*dotted, *hostile, "good.x12"])

    class _FakeSession:
        def __init__(self, config: SftpConfig) -> None:
            self.config = config

        async def open_with_retries(self) -> _FakeSftp:
            return sftp

        async def sftp(self) -> _FakeSftp:
            return sftp

        async def reset(self) -> None:
            return None

        async def close(self) -> None:
            return None

    monkeypatch.setattr(transport, "_Session", _FakeSession)
    config = SftpConfig(
        host="localhost",
        user="u",
        key_path=tmp_path / "key",
        host_key="ssh-ed25519 AAAA",
        inbound_dirs={"835": "inbound/835"},
    )
    area = WorkArea(tmp_path / "data")

    result = asyncio.run(transport.collect_async(area, config))

    assert [t.file_name for t in result.received] == ["good.x12"]
    assert sorted(t.file_name for t in result.failed) == sorted(hostile)
    for failed in result.failed:
        assert "which is not a plain file name" in (failed.detail or "")
    assert all(p.startswith("inbound/835/") and "/sub/" not in p for p in sftp.touched)
    assert files["outbound/claims_1.x12"] == b"ours" and files["/etc/passwd"] == b"root"
    assert "inbound/835/processed/good.x12" in files
    assert sorted(p.name for p in (area.inbox / "835").iterdir()) == ["good.x12"]
