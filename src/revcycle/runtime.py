"""Process-wide settings that must be in place before Prefect or dbt is imported.

Prefect reads its settings when first imported, so the CLI and the flows call
``configure_runtime()`` at import time. Values already set in the environment win, so an
operator can point Prefect at a real server (``PREFECT_API_URL``) or move the working area.
"""

from __future__ import annotations

import os
from pathlib import Path

from revcycle.paths import WorkArea

# What this process creates is its owner's alone: the work area holds PHI (extracts, the
# warehouse, X12 files, statements, logs). Modules that write PHI also set modes explicitly;
# the umask covers everything else (DuckDB's files, dbt and Prefect artifacts, folders).
PRIVATE_UMASK = 0o077


def configure_runtime() -> None:
    os.umask(PRIVATE_UMASK)
    area = WorkArea.default()
    defaults = {
        # Prefect without a server: a temporary local API whose state lives in the work area.
        "PREFECT_HOME": str(area.root / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        # Our library loggers show up in flow-run logs; outside a flow run (library calls,
        # tests) they just log locally instead of complaining that there is no run.
        "PREFECT_LOGGING_EXTRA_LOGGERS": "revcycle",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        # dbt: no anonymous usage tracking (and no network attempts on closed machines).
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # Prefect creates its home without parents; a fresh work area has none yet.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
