"""The claims gate: great-expectations suites over exactly the rows the 837 writer will write.

The gate reads the two ready-to-bill views once, validates them with the committed suites in
``expectations/``, records the outcome in ``ops.gate_runs`` and ``ops.gate_failures``, and hands
the very same DataFrames to the writer, so nothing reaches a claim file that the gate has not
seen. GX has no working DuckDB datasource (1.x), so the views are read into pandas (through
Arrow, so money stays ``Decimal`` and integers stay integers), never float.

Two columns per dataset are derived by the gate from the other dataset of the same batch,
because a claim's total is a fact about its lines: ``line_row_count`` and ``line_charge_total``
on claims, ``claim_type`` and ``has_claim`` on lines.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from revcycle.claims.emit import fetch_ready_to_bill
from revcycle.paths import project_root

log = logging.getLogger(__name__)

CLAIMS_SUITE = "claims_ready_to_bill"
LINES_SUITE = "claim_lines_ready_to_bill"


@dataclass(frozen=True)
class ExpectationFailure:
    dataset: str
    expectation_type: str
    column: str | None
    unexpected_count: int
    element_count: int
    kwargs_json: str
    error: str | None = None

    def describe(self) -> str:
        target = f"({self.column})" if self.column else ""
        if self.error:
            return f"{self.dataset}: {self.expectation_type}{target} raised {self.error}"
        return (
            f"{self.dataset}: {self.expectation_type}{target} "
            f"{self.unexpected_count:,} of {self.element_count:,} rows"
        )


@dataclass(frozen=True)
class GateResult:
    gate_run_id: str
    validated_at: datetime
    claims: pd.DataFrame = field(repr=False)
    lines: pd.DataFrame = field(repr=False)
    expectations_evaluated: int
    failures: tuple[ExpectationFailure, ...]

    @property
    def success(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if self.success:
            return (
                f"claims gate passed: {len(self.claims):,} claims, {len(self.lines):,} lines, "
                f"{self.expectations_evaluated} expectations"
            )
        listed = "; ".join(f.describe() for f in self.failures)
        return (
            f"claims gate failed ({len(self.failures)} of {self.expectations_evaluated} "
            f"expectations): {listed}"
        )


class GateFailedError(RuntimeError):
    """The gate stopped the batch: no claim file is written."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        super().__init__(result.summary())


def expectations_dir() -> Path:
    return project_root() / "expectations"


def load_suite_definition(name: str, folder: Path | None = None) -> dict[str, Any]:
    path = (folder or expectations_dir()) / f"{name}.json"
    definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return definition


def ensure_gate_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ops")
    con.execute(
        """
        create table if not exists ops.gate_runs (
            gate_run_id varchar primary key,
            gate_name varchar not null,
            flow_run_id varchar,
            validated_at timestamp not null,
            success boolean not null,
            claims_validated bigint not null,
            lines_validated bigint not null,
            expectations_evaluated integer not null,
            expectations_failed integer not null,
            summary varchar not null
        )
        """
    )
    con.execute(
        """
        create table if not exists ops.gate_failures (
            gate_run_id varchar not null,
            dataset varchar not null,
            expectation_type varchar not null,
            column_name varchar,
            unexpected_count bigint not null,
            element_count bigint not null,
            expectation_kwargs varchar not null,
            error varchar
        )
        """
    )


def _with_cross_checks(
    claims: pd.DataFrame, lines: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of the datasets with the columns derived from the other dataset.

    The per-claim line counts and exact (DECIMAL) line totals, and each line's claim type, are
    computed by an in-memory DuckDB over Arrow copies of the key columns, not by pandas group-bys
    of Python objects (which took most of a million-claim gate). A claim id listed twice (which
    the uniqueness expectation reports) gives its lines the type of one of them."""
    claim_keys = pa.Table.from_pandas(
        claims[["claim_id", "claim_type"]].reset_index(drop=True), preserve_index=False
    ).append_column("claim_position", pa.array(range(len(claims)), pa.int64()))
    line_keys = pa.Table.from_pandas(
        lines[["claim_id", "claim_line_id", "charge_amount"]].reset_index(drop=True),
        preserve_index=False,
    ).append_column("line_position", pa.array(range(len(lines)), pa.int64()))
    with duckdb.connect() as con:
        con.register("claim_keys", claim_keys)
        con.register("line_keys", line_keys)
        per_claim = con.sql(
            """
            select
                count(line_keys.line_position) as line_row_count,
                cast(coalesce(sum(line_keys.charge_amount), 0) as decimal(38, 2))
                    as line_charge_total
            from claim_keys
            left join line_keys on claim_keys.claim_id = line_keys.claim_id
            group by claim_keys.claim_position
            order by claim_keys.claim_position
            """
        ).to_arrow_table()
        per_line = con.sql(
            """
            with claim_types as (
                select claim_id, any_value(claim_type) as claim_type
                from claim_keys
                group by claim_id
            )
            select
                claim_types.claim_type,
                claim_types.claim_id is not null as has_claim
            from line_keys
            left join claim_types on line_keys.claim_id = claim_types.claim_id
            order by line_keys.line_position
            """
        ).to_arrow_table()
    checked_claims = claims.reset_index(drop=True)
    checked_claims["line_row_count"] = per_claim["line_row_count"].to_pandas().astype("int64")
    checked_claims["line_charge_total"] = per_claim["line_charge_total"].to_pandas()
    checked_lines = lines.reset_index(drop=True)
    checked_lines["claim_type"] = per_line["claim_type"].to_pandas()
    checked_lines["has_claim"] = per_line["has_claim"].to_pandas().astype(bool)
    return checked_claims, checked_lines


def _columns_read_by(definition: dict[str, Any], frame: pd.DataFrame) -> list[str]:
    """The frame's columns the suite's expectations read (their column arguments and the
    columns named in their row conditions), in frame order: GX is handed only those, so it
    copies and scans no column that no expectation looks at. A column the suite names but the
    frame lacks is left for GX to report, as before."""
    named: set[str] = set()
    for expectation in definition["expectations"]:
        kwargs = expectation["kwargs"]
        named.update(
            str(kwargs[key]) for key in ("column", "column_A", "column_B") if key in kwargs
        )
        named.update(kwargs.get("column_list") or ())
        condition = str(kwargs.get("row_condition") or "")
        named.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition))
    return [column for column in frame.columns if column in named]


def _validate(
    dataset: str, frame: pd.DataFrame, definition: dict[str, Any]
) -> list[ExpectationFailure]:
    """Run one suite over one DataFrame with an ephemeral GX context."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    if frame.empty:
        return []  # an empty batch writes no file; column checks have nothing to say
    # GX fingerprints every pandas batch it is handed (a hash of every value of every column,
    # twice per suite) unless the frame is over a size threshold; the fingerprint only labels
    # the batch in GX's own records, which the gate does not keep, and was a third of a
    # million-claim gate. A threshold of 0 skips it; the verdict does not depend on it.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    frame = frame[_columns_read_by(definition, frame)]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = gx.ExpectationSuite(
        name=definition["name"],
        expectations=[
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"])
            for e in definition["expectations"]
        ],
    )
    batch_definition = (
        context.data_sources.add_pandas(f"{dataset}_source")
        .add_dataframe_asset(dataset)
        .add_batch_definition_whole_dataframe("batch")
    )
    # BASIC: counts and a few unexpected values per expectation, all the gate records. GX's
    # default (SUMMARY) also tallies unexpected values and their row indexes, which doubles
    # the cost on a large batch and changes no verdict.
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format="BASIC"
    )
    failures = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = dict(config.kwargs) if config is not None else {}
        error = None
        if item.exception_info and item.exception_info.get("raised_exception"):
            error = str(item.exception_info.get("exception_message") or "an exception")
        column = kwargs.get("column") or (
            f"{kwargs.get('column_A')}, {kwargs.get('column_B')}" if "column_A" in kwargs else None
        )
        failures.append(
            ExpectationFailure(
                dataset=dataset,
                expectation_type=config.type if config is not None else "unknown",
                column=column,
                unexpected_count=int(item.result.get("unexpected_count") or 0),
                element_count=int(item.result.get("element_count") or len(frame)),
                kwargs_json=json.dumps(kwargs, sort_keys=True, default=str),
                error=error,
            )
        )
    return failures


def validate_batch(
    claims: pd.DataFrame, lines: pd.DataFrame, suites_dir: Path | None = None
) -> tuple[int, list[ExpectationFailure]]:
    """Validate a batch; returns (expectations evaluated, failures)."""
    claims_suite = load_suite_definition(CLAIMS_SUITE, suites_dir)
    lines_suite = load_suite_definition(LINES_SUITE, suites_dir)
    checked_claims, checked_lines = _with_cross_checks(claims, lines)
    failures = _validate(CLAIMS_SUITE, checked_claims, claims_suite)
    failures += _validate(LINES_SUITE, checked_lines, lines_suite)
    evaluated = len(claims_suite["expectations"]) + len(lines_suite["expectations"])
    return evaluated, failures


def run_claims_gate(
    con: duckdb.DuckDBPyConnection, flow_run_id: str | None = None, suites_dir: Path | None = None
) -> GateResult:
    """Validate the ready-to-bill datasets and record the outcome; never raises on failure
    (the caller decides: the flow raises GateFailedError)."""
    ensure_gate_tables(con)
    claims, lines = fetch_ready_to_bill(con)
    evaluated, failures = validate_batch(claims, lines, suites_dir)
    result = GateResult(
        gate_run_id=str(uuid.uuid4()),
        validated_at=datetime.now(UTC).replace(tzinfo=None),
        claims=claims,
        lines=lines,
        expectations_evaluated=evaluated,
        failures=tuple(failures),
    )
    con.execute("begin transaction")
    con.execute(
        "insert into ops.gate_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.gate_run_id,
            "claims_ready_to_bill",
            flow_run_id,
            result.validated_at,
            result.success,
            len(claims),
            len(lines),
            evaluated,
            len(failures),
            result.summary(),
        ],
    )
    for failure in failures:
        con.execute(
            "insert into ops.gate_failures values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.gate_run_id,
                failure.dataset,
                failure.expectation_type,
                failure.column,
                failure.unexpected_count,
                failure.element_count,
                failure.kwargs_json,
                failure.error,
            ],
        )
    con.execute("commit")
    log.info("%s", result.summary())
    return result
