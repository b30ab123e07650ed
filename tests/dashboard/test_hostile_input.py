"""What an analyst types into the dashboard is data, never SQL: the claim search box and the
sidebar filters go to DuckDB as bound parameters, and the warehouse is opened read-only."""

from __future__ import annotations

import duckdb
import pytest

from revcycle.dashboard import queries
from revcycle.paths import WorkArea

HOSTILE = (
    "' or '1'='1",
    "x'; drop table marts.fct_claims; --",
    "%",
    "\\",
    '" or 1=1 --',
)


@pytest.mark.parametrize("typed", HOSTILE)
def test_typed_text_is_data_not_sql(dashboard_area: WorkArea, typed: str) -> None:
    con = queries.connect(dashboard_area.warehouse)
    try:
        claims = queries.frame(con, "select count(*) as n from marts.fct_claims")["n"].iloc[0]
        assert claims > 0
        # A claim search for the typed text finds nothing (no claim id looks like that) ...
        assert queries.find_claim(con, typed) is None
        assert queries.claim_ledger(con, typed).empty
        # ... and a payer filter of it matches no payer, instead of every payer.
        hostile = queries.Filters(payer_id=typed, provider_id=typed)
        assert queries.held_claims(con, hostile).empty
        assert queries.work_queue(con, hostile).empty
        aging = queries.ar_aging_by_bucket(con, hostile, "service")
        assert aging["claims"].sum() == 0
    finally:
        con.close()
    with duckdb.connect(str(dashboard_area.warehouse), read_only=True) as check:
        row = check.execute("select count(*) from marts.fct_claims").fetchone()
    assert row == (claims,)  # nothing was dropped or changed


def test_the_dashboard_connection_cannot_write(dashboard_area: WorkArea) -> None:
    con = queries.connect(dashboard_area.warehouse)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("create table marts.intruder as select 1 as x")
    finally:
        con.close()
