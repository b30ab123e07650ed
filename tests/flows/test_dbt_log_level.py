"""What a flow's dbt build copies into the Prefect log: warnings and errors unless
REVCYCLE_DBT_LOG_LEVEL says otherwise, and one clear error for a level dbt does not know.
(The demo-size flow test checks the logs themselves: a summary line per build in Prefect, the
per-model lines only in dbt.log.)"""

from __future__ import annotations

import pytest


def test_dbt_log_level_is_warn_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from dbt_common.events.base_types import EventLevel

    from flows.revenue_cycle import DBT_LOG_LEVEL_ENV, dbt_log_level

    monkeypatch.delenv(DBT_LOG_LEVEL_ENV, raising=False)
    assert dbt_log_level() is EventLevel.WARN
    monkeypatch.setenv(DBT_LOG_LEVEL_ENV, " INFO ")
    assert dbt_log_level() is EventLevel.INFO


def test_an_unknown_dbt_log_level_names_the_setting_and_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.revenue_cycle import DBT_LOG_LEVEL_ENV, dbt_log_level

    monkeypatch.setenv(DBT_LOG_LEVEL_ENV, "loud")
    with pytest.raises(ValueError, match=r"REVCYCLE_DBT_LOG_LEVEL='loud': use one of debug, "):
        dbt_log_level()
