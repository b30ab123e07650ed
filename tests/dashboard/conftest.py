"""One real warehouse for both dashboard test modules (built once for the package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from revcycle.paths import WorkArea
from tests.conftest import AS_OF
from tests.dashboard.support import build_cycle_area


@pytest.fixture(scope="package")
def dashboard_area(small_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    """conftest's small_extract through the real cycle (loader, dbt build, gate, 837 writer,
    simulated payers, inbox, second build), dated AS_OF."""
    return build_cycle_area(small_extract, tmp_path_factory.mktemp("dashboard") / "data", AS_OF)
