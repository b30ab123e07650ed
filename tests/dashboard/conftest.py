"""One real warehouse for both dashboard test modules (built once for the package)."""

from __future__ import annotations

import pytest

from revcycle.paths import WorkArea


@pytest.fixture(scope="package")
def dashboard_area(small_cycle_area: WorkArea) -> WorkArea:
    """conftest's small_extract through the real cycle (loader, dbt build, gate, 837 writer,
    simulated payers, inbox, second build), dated AS_OF: the session's shared work area,
    which the dashboard only reads."""
    return small_cycle_area
