"""Shared test set-up: a private Prefect home and one Prefect test harness per session."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
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


def _built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """``build(root)`` once per test run, whatever the number of xdist workers: the first
    worker to ask builds under a file lock in the run's shared temporary folder, the others
    wait and reuse it (each of these builds is a minute or more of dbt). Returns ``root``."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is <run>/popen-gwN: share the run's folder.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / f"shared_{name}"
    done = shared / f"shared_{name}.done"
    with (shared / f"shared_{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)  # a build that failed in another worker
            build(root)
            done.touch()
    return root


@pytest.fixture(scope="session")
def small_built_area(small_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    """``small_extract`` ingested and built by dbt (staging, scrubber, billing marts), before
    any claim is sent; built once per test run. Read it; copy it (``copy_area``) before
    changing anything."""
    from revcycle.paths import WorkArea
    from tests.cycle_support import ingest_and_build

    def build(root: Path) -> None:
        area = WorkArea(root / "data")
        shutil.copytree(small_extract, area.extracts)
        ingest_and_build(area, AS_OF)

    return WorkArea(_built_once(tmp_path_factory, "small_built", build) / "data")


@pytest.fixture(scope="session")
def small_cycle_area(
    small_built_area: WorkArea, tmp_path_factory: pytest.TempPathFactory
) -> WorkArea:
    """``small_built_area`` through the rest of one whole cycle without Prefect (gate, 837
    writer, simulated payers, inbox, reconcile build: tests/cycle_support.py), built once per
    test run. Read it; copy it (``copy_area``) before changing anything."""
    from revcycle.paths import WorkArea
    from tests.cycle_support import bill_and_reconcile, copy_area

    def build(root: Path) -> None:
        bill_and_reconcile(copy_area(small_built_area, root / "data"), AS_OF)

    return WorkArea(_built_once(tmp_path_factory, "small_cycle", build) / "data")


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
