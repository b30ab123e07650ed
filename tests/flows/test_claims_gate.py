"""The claims gate stops a batch that breaks an expectation: no file, a recorded verdict, a
failed flow run that says what failed and how many rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import AS_OF
from tests.cycle_support import dbt_build


@pytest.mark.usefixtures("prefect_harness")
def test_gate_stops_a_batch_with_a_planted_violation(tmp_path: Path) -> None:
    from flows.revenue_cycle import bill_ready_claims
    from revcycle.extracts.generate import generate_extract
    from revcycle.extracts.load import LoadStatus, load_extract_dir
    from revcycle.paths import WorkArea

    # The warehouse is built without Prefect (the flow tests run whole cycles elsewhere); the
    # billing flow under test is a real Prefect flow run.
    data_dir = tmp_path / "data"
    area = WorkArea(data_dir)
    generate_extract(area.extracts, tmp_path / "answer_keys", encounters=200, seed=3, as_of=AS_OF)
    outcomes = load_extract_dir(area.extracts, area.warehouse, area.quarantine)
    assert {o.status for o in outcomes} == {LoadStatus.LOADED}
    built = dbt_build(area, AS_OF)
    assert built.returncode == 0, built.stdout[-4000:]
    with duckdb.connect(str(area.warehouse)) as con:
        ready = con.execute("select count(*) from marts.claims_ready_to_bill").fetchone()
        assert ready is not None and ready[0] > 10
        # Plant two malformed procedure codes on lines of ready claims, behind the scrubber.
        con.execute(
            """
            update marts.fct_claim_lines set procedure_code = '9921'
            where claim_line_id in (
                select claim_line_id from marts.claim_lines_ready_to_bill
                order by claim_line_id limit 2
            )
            """
        )

    state = bill_ready_claims(data_dir=str(data_dir), return_state=True)

    assert state.is_failed()
    assert "claim_lines_ready_to_bill: expect_column_values_to_match_regex(procedure_code)" in (
        state.message or ""
    )
    assert "2 of " in (state.message or "")
    outbox = data_dir / "outbox" / "837"
    assert not outbox.exists() or not any(outbox.iterdir())
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        runs = con.execute(
            "select success, expectations_failed, claims_validated from marts.fct_gate_runs"
        ).fetchall()
        failures = con.execute(
            "select dataset, column_name, unexpected_count from marts.fct_gate_failures"
        ).fetchall()
        submitted = con.execute("select count(*) from ops.submissions").fetchone()
        pipeline_runs = con.execute(
            "select flow_name, status, message from marts.fct_pipeline_runs order by started_at"
        ).fetchall()
    assert runs == [(False, 1, ready[0])]
    # The run manifest: the billing run failed on the gate, and says so.
    assert [(name, status) for name, status, _ in pipeline_runs] == [
        ("bill-ready-claims", "failed"),
    ]
    assert "GateFailedError" in pipeline_runs[0][2]
    assert failures == [("claim_lines_ready_to_bill", "procedure_code", 2)]
    assert submitted == (0,)
