"""Shared test set-up: a private Prefect home and one Prefect test harness per session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from revcycle.paths import WorkArea

# Before anything imports Prefect: keep its state out of the user's home and the repo.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="revcycle-tests-"))
os.environ["PREFECT_HOME"] = str(_SESSION_HOME / "prefect")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ["REVCYCLE_DATA_DIR"] = str(_SESSION_HOME / "data")

# A fixed extract date keeps generated data (and so every figure) the same on any day.
AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated extract of 400 encounters (default defect rate), shared read-only."""
    from revcycle.extracts.generate import generate_extract

    root = tmp_path_factory.mktemp("small_extract")
    generate_extract(
        out_dir=root / "extracts",
        answer_key_dir=root / "answer_keys",
        encounters=400,
        seed=11,
        as_of=AS_OF,
    )
    return root / "extracts"


@pytest.fixture(scope="session")
def small_cycle_area(small_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    """``small_extract`` through one whole cycle without Prefect (tests/cycle_support.py),
    built once per session. Read it; copy it (``copy_area``) before changing anything."""
    from tests.cycle_support import build_cycle_area

    return build_cycle_area(small_extract, tmp_path_factory.mktemp("small_cycle") / "data", AS_OF)


# The slowest modules (minutes each), slowest first. `make test` distributes whole files over
# two workers (--dist loadfile) in collection order (--no-loadscope-reorder: xdist would
# otherwise reorder files by their number of tests); the first goes to one worker, the second
# to the other, the third and fourth follow them, and the short modules fill in around them,
# instead of two of them queueing on one worker while the other sits idle.
SLOWEST_MODULES = (
    "tests/flows/test_revenue_cycle.py",
    "tests/flows/test_nightly.py",
    "tests/flows/test_deployments.py",
    "tests/dbt/test_incremental_models.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return SLOWEST_MODULES.index(module) if module in SLOWEST_MODULES else len(SLOWEST_MODULES)

    items.sort(key=rank)  # stable: the rest keep their order
