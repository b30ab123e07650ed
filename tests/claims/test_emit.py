"""Emitting claim files into an outbox with control numbers and submission records kept in a
real DuckDB warehouse file. Every file written is validated with pyx12 4.0.0."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from revcycle.claims import emit
from revcycle.claims.emit import (
    SUBMISSION_COLUMNS,
    DuplicateSubmissionError,
    emit_claim_files,
    emit_claims,
    ensure_emission_tables,
    fetch_ready_to_bill,
)
from revcycle.claims.model import Claim, Payer, claims_from_frames
from revcycle.gates.claims_gate import _with_cross_checks
from tests.claims.support import (
    DEPENDENT,
    FACILITY,
    SUBMITTER,
    assert_valid,
    frames_from_claims,
    institutional_claim,
    professional_claim,
    segments,
)

RUN_1 = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
RUN_2 = datetime(2026, 11, 3, 9, 15, tzinfo=UTC)
OTHER_PAYER = Payer(payer_id="60054", name="Other Mutual")


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def batch_one() -> list[Claim]:
    return [
        professional_claim("C0000000000000001"),
        professional_claim("C0000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"),
        professional_claim("C0000000000000003", facility=FACILITY, place_of_service="22"),
        professional_claim("C0000000000000004", payer=OTHER_PAYER),
        institutional_claim("C1000000000000001"),
        institutional_claim(
            "C1000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"
        ),
    ]


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[tuple[Any, ...]]:
    return con.execute(sql, params or []).fetchall()


def control_state(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(rows(con, "select kind, last_number from ops.control_numbers"))


def outbox_names(outbox: Path) -> list[str]:
    return sorted(p.name for p in outbox.iterdir())


def assert_outbox_valid(outbox: Path) -> None:
    """Every file in the outbox passes pyx12 and the structure check; no temp file is left."""
    for path in outbox.iterdir():
        assert path.suffix == ".x12" and not path.name.startswith("."), path.name
        assert_valid(path.read_text(encoding="ascii"))


def load_views(
    con: duckdb.DuckDBPyConnection, claims_df: pd.DataFrame, lines_df: pd.DataFrame
) -> None:
    """Stand-ins for the dbt views, with the contract's DuckDB types (money DECIMAL(18,2))."""
    con.execute("create schema if not exists marts")
    claims_text = claims_df.assign(total_charge_amount=claims_df["total_charge_amount"].map(str))
    lines_text = lines_df.assign(charge_amount=lines_df["charge_amount"].map(str))
    con.register("claims_text", claims_text)
    con.register("lines_text", lines_text)
    con.execute(
        "create or replace table marts.claims_ready_to_bill as select * replace ("
        "cast(total_charge_amount as decimal(18,2)) as total_charge_amount, "
        "cast(service_date as date) as service_date, "
        "cast(service_date_to as date) as service_date_to, "
        "cast(subscriber_birth_date as date) as subscriber_birth_date, "
        "cast(patient_birth_date as date) as patient_birth_date, "
        "cast(line_count as integer) as line_count, "
        "cast(diagnosis_count as integer) as diagnosis_count"
        ") from claims_text"
    )
    con.execute(
        "create or replace table marts.claim_lines_ready_to_bill as select * replace ("
        "cast(charge_amount as decimal(18,2)) as charge_amount, "
        "cast(service_date as date) as service_date, cast(units as integer) as units, "
        "cast(line_number as integer) as line_number) from lines_text"
    )
    con.unregister("claims_text")
    con.unregister("lines_text")


def test_frames_round_trip_through_duckdb_with_decimal_money(
    con: duckdb.DuckDBPyConnection,
) -> None:
    claims = batch_one()
    load_views(con, *frames_from_claims(claims))
    claims_df, lines_df = fetch_ready_to_bill(con)
    assert isinstance(lines_df["charge_amount"].iloc[0], Decimal)
    assert list(claims_from_frames(claims_df, lines_df)) == sorted(claims, key=lambda c: c.claim_id)
    # DuckDB's .df() turns DECIMAL into float64: refused rather than guessed at.
    float_claims = con.execute("select * from marts.claims_ready_to_bill").df()
    float_lines = con.execute("select * from marts.claim_lines_ready_to_bill").df()
    with pytest.raises(TypeError, match="fetch_ready_to_bill"):
        list(claims_from_frames(float_claims, float_lines))


def test_an_empty_batch_reads_joins_and_writes_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_views(con, *frames_from_claims([professional_claim()]))
    con.execute("delete from marts.claims_ready_to_bill")
    con.execute("delete from marts.claim_lines_ready_to_bill")
    claims_df, lines_df = fetch_ready_to_bill(con)
    assert claims_df.empty and lines_df.empty
    # The gate derives its cross-dataset columns from both frames, empty or not.
    checked_claims, checked_lines = _with_cross_checks(claims_df, lines_df)
    assert checked_claims.empty and checked_lines.empty
    assert {"line_row_count", "line_charge_total"} <= set(checked_claims.columns)
    result = emit_claim_files(con, claims_df, lines_df, tmp_path / "outbox", SUBMITTER, RUN_1)
    assert result.files == () and result.claim_count == 0
    assert result.total_charge_amount == Decimal("0.00")
    assert outbox_names(tmp_path / "outbox") == []


def test_one_valid_file_per_payer_and_claim_type(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    claims = batch_one()
    outbox = tmp_path / "outbox"
    result = emit_claim_files(con, *frames_from_claims(claims), outbox, SUBMITTER, RUN_1)

    assert outbox_names(outbox) == [
        "60054_837P_000000001.x12",
        "87726_837I_000000002.x12",
        "87726_837P_000000003.x12",
    ]
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    by_name = {f.path.name: f for f in result.files}
    for path in outbox.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text(encoding="ascii")
        assert_valid(text)
        emitted = by_name[path.name]
        written_ids = [s[1] for s in segments(text) if s[0] == "CLM"]
        assert emitted.claim_count == len(written_ids)
        assert emitted.total_charge_amount == sum(
            Decimal(s[2]) for s in segments(text) if s[0] == "CLM"
        )
        assert text.split("\n", 1)[0][90:99] == emitted.interchange_control_number

    assert by_name["87726_837P_000000003.x12"].claim_count == 3
    assert result.claim_count == 6
    assert result.line_count == 12
    assert result.total_charge_amount == sum((c.total_charge_amount for c in claims), Decimal("0"))

    # Every claim and every line recorded once, with its file and control numbers.
    columns = [
        r[0]
        for r in rows(
            con,
            "select column_name from information_schema.columns "
            "where table_schema = 'ops' and table_name = 'submissions' order by ordinal_position",
        )
    ]
    assert tuple(columns) == SUBMISSION_COLUMNS
    recorded = rows(
        con,
        "select claim_id, claim_line_id, file_name, claim_frequency_code, payer_id, submitted_at "
        "from ops.submissions order by submission_id",
    )
    assert len(recorded) == 6 + 12
    assert sorted(r[0] for r in recorded if r[1] is None) == sorted(c.claim_id for c in claims)
    assert {r[5] for r in recorded} == {datetime(2026, 11, 2, 9, 15)}
    assert {(r[0], r[2], r[4]) for r in recorded if r[0] == "C0000000000000004"} == {
        ("C0000000000000004", "60054_837P_000000001.x12", "60054")
    }


def test_transaction_control_numbers_match_the_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    claims = [professional_claim(f"C{n:016d}") for n in range(1, 6)]
    outbox = tmp_path / "outbox"
    result = emit_claims(con, claims, outbox, SUBMITTER, RUN_1, claims_per_transaction=2)
    (file,) = result.files
    assert file.transaction_control_numbers == ("0001", "0002", "0003")
    text = file.path.read_text(encoding="ascii")
    assert_valid(text)
    st_of_claim: dict[str, str] = {}
    current = ""
    for seg in segments(text):
        if seg[0] == "ST":
            current = seg[2]
        elif seg[0] == "CLM":
            st_of_claim[seg[1]] = current
    recorded = dict(
        rows(
            con,
            "select claim_id, transaction_control_number from ops.submissions "
            "where claim_line_id is null",
        )
    )
    assert recorded == st_of_claim
    assert_outbox_valid(outbox)


def test_control_numbers_are_unique_across_runs(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    outbox = tmp_path / "outbox"
    with duckdb.connect(str(warehouse)) as first:
        one = emit_claims(first, batch_one(), outbox, SUBMITTER, RUN_1, claims_per_transaction=1)
    second_batch = [professional_claim(f"C20000000000000{n:02d}") for n in range(1, 4)] + [
        institutional_claim("C2100000000000001")
    ]
    with duckdb.connect(str(warehouse)) as second:
        two = emit_claims(second, second_batch, outbox, SUBMITTER, RUN_2, claims_per_transaction=1)
        state = control_state(second)
    files = one.files + two.files
    interchanges = [f.interchange_control_number for f in files]
    groups = [f.group_control_number for f in files]
    transactions = [t for f in files for t in f.transaction_control_numbers]
    assert len(set(interchanges)) == len(interchanges) == 5
    assert len(set(groups)) == len(groups) == 5
    assert len(set(transactions)) == len(transactions) == 10
    assert state == {"interchange": 5, "group": 5, "transaction": 10}
    assert_outbox_valid(outbox)


def test_the_same_claim_is_not_emitted_twice(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    emit_claims(con, batch_one(), outbox, SUBMITTER, RUN_1)
    before = (
        outbox_names(outbox),
        control_state(con),
        rows(con, "select count(*) from ops.submissions"),
    )

    again = [professional_claim("C0000000000000099"), professional_claim("C0000000000000001")]
    with pytest.raises(
        DuplicateSubmissionError, match="C0000000000000001: already submitted"
    ) as caught:
        emit_claims(con, again, outbox, SUBMITTER, RUN_2)
    assert set(caught.value.reasons) == {"C0000000000000001"}
    # Nothing at all was written: not even the claim that was fine on its own.
    after = (
        outbox_names(outbox),
        control_state(con),
        rows(con, "select count(*) from ops.submissions"),
    )
    assert after == before

    twice = [professional_claim("C0000000000000099"), professional_claim("C0000000000000099")]
    with pytest.raises(DuplicateSubmissionError, match="twice in this batch"):
        emit_claims(con, twice, outbox, SUBMITTER, RUN_2)
    assert_outbox_valid(outbox)


def test_replacement_and_void_rules(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    original = professional_claim("C0000000000000001")
    emit_claims(con, [original], outbox, SUBMITTER, RUN_1)

    replacement = replace(original, frequency_code="7", payer_claim_control_number="PCN2026000123")
    result = emit_claims(con, [replacement], outbox, SUBMITTER, RUN_2)
    text = result.files[0].path.read_text(encoding="ascii")
    assert_valid(text)
    assert ["REF", "F8", "PCN2026000123"] in segments(text)
    assert [s[5] for s in segments(text) if s[0] == "CLM"] == ["11:B:7"]

    unknown = professional_claim(
        "C0000000000000077", frequency_code="7", payer_claim_control_number="X1"
    )
    with pytest.raises(DuplicateSubmissionError, match="never submitted"):
        emit_claims(con, [unknown], outbox, SUBMITTER, RUN_2)

    void = replace(original, frequency_code="8", payer_claim_control_number="PCN2026000123")
    emit_claims(con, [void], outbox, SUBMITTER, RUN_2)
    with pytest.raises(DuplicateSubmissionError, match="already voided"):
        emit_claims(con, [replacement], outbox, SUBMITTER, RUN_2)
    frequencies = rows(
        con,
        "select claim_frequency_code from ops.submissions "
        "where claim_id = 'C0000000000000001' and claim_line_id is null "
        "order by interchange_control_number",
    )
    assert frequencies == [("1",), ("7",), ("8",)]
    assert_outbox_valid(outbox)


def test_a_failure_while_writing_leaves_nothing_behind(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    ensure_emission_tables(con)
    before = control_state(con)
    real_write = emit._write

    def write_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_write(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(emit, "_write", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        emit_claims(con, batch_one(), outbox, SUBMITTER, RUN_1)
    assert outbox_names(outbox) == []  # no file, no temp file
    assert control_state(con) == before
    assert rows(con, "select count(*) from ops.submissions") == [(0,)]

    monkeypatch.undo()
    result = emit_claims(con, batch_one(), outbox, SUBMITTER, RUN_1)
    assert result.claim_count == 6
    assert_outbox_valid(outbox)


def test_a_crash_between_commit_and_rename_is_rolled_forward(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    real_replace = Path.replace

    def crash(self: Path, target: Any) -> Path:
        raise KeyboardInterrupt  # stands for the process dying right after the commit

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        emit_claims(con, [professional_claim()], outbox, SUBMITTER, RUN_1)
    monkeypatch.setattr(Path, "replace", real_replace)
    assert outbox_names(outbox) == [".87726_837P_000000001.x12.tmp"]
    assert rows(con, "select count(*) from ops.submissions") == [(3,)]

    # The next run (even with nothing to send) publishes the recorded file.
    result = emit_claims(con, [], outbox, SUBMITTER, RUN_2)
    assert result.files == ()
    assert [p.name for p in result.recovered_files] == ["87726_837P_000000001.x12"]
    assert outbox_names(outbox) == ["87726_837P_000000001.x12"]
    assert_valid((outbox / "87726_837P_000000001.x12").read_text(encoding="ascii"))


def test_an_unrecorded_temp_file_is_deleted(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    orphan = outbox / ".87726_837P_000000001.x12.tmp"
    orphan.write_text("ISA*partial")
    result = emit_claims(con, [professional_claim()], outbox, SUBMITTER, RUN_1)
    assert result.discarded_temp_files == (orphan,)
    # The number the orphan held was never published, so it is used for the real file.
    assert outbox_names(outbox) == ["87726_837P_000000001.x12"]
    assert_valid((outbox / "87726_837P_000000001.x12").read_text(encoding="ascii"))
