"""Where a flow's mapped tasks run: threads in the flow's own process (the default), or the
workers of a Dask cluster (prefect-dask) so that per-file work spreads over many machines.

The per-file X12 stage (parsing inbox files: 999, 277CA, 835, 271) is a Prefect task mapped
over the files; one loader then writes the warehouse (a single DuckDB writer). Set
``REVCYCLE_DASK_ADDRESS`` before the flows are imported (the CLI, ``revcycle serve`` or a
deployment's job environment) to choose:

- unset or empty: Prefect's thread pool in the flow's process, two threads (no cluster);
- ``local``: a Dask cluster started on this machine for the flow run, one single-threaded
  worker process per core (at most :data:`LOCAL_WORKERS`), so parsing uses every core;
- a scheduler address (``tcp://scheduler:8786``): an existing Dask cluster. Its workers need
  revcycle installed and read access to the inbox folder (a shared file system), because a
  task is handed the file's path, not its bytes.
"""

from __future__ import annotations

import os

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

DASK_ADDRESS_ENV = "REVCYCLE_DASK_ADDRESS"
LOCAL_WORKERS = 2


def dask_address_from_env() -> str | None:
    """The configured Dask scheduler address, ``local``, or None (no Dask)."""
    address = os.environ.get(DASK_ADDRESS_ENV, "").strip()
    return address or None


def local_dask_task_runner(workers: int | None = None) -> TaskRunner:
    """A Dask task runner over a cluster started on this machine for the flow run: one
    single-threaded worker process per core (parsing is pure Python, so processes, not
    threads, are what use more than one core), no dashboard."""
    from prefect_dask.task_runners import DaskTaskRunner

    count = workers or max(1, min(LOCAL_WORKERS, os.cpu_count() or 1))
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": count,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


def flow_task_runner() -> TaskRunner:
    """The task runner for flows that map per-file work, from ``REVCYCLE_DASK_ADDRESS``."""
    address = dask_address_from_env()
    if address is None:
        # Parsing holds the GIL, so more threads would not parse faster; two bound how many
        # files (and their parsed rows) are in memory at once.
        return ThreadPoolTaskRunner(max_workers=LOCAL_WORKERS)
    if address == "local":
        return local_dask_task_runner()
    from prefect_dask.task_runners import DaskTaskRunner

    return DaskTaskRunner(address=address)
