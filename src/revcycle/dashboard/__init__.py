"""The RCM analysts' dashboard: a Streamlit app over the warehouse's marts, read-only.

``app.py`` is the entry script (``revcycle dashboard`` runs ``streamlit run`` on it),
``queries.py`` holds every SQL statement (parameterised; each returns data, never draws),
``views.py`` draws the pages and ``formatting.py`` turns figures into text (money as $1,234.56).
"""

from __future__ import annotations

import os
from pathlib import Path

WAREHOUSE_ENV = "REVCYCLE_WAREHOUSE"


def app_path() -> Path:
    """The Streamlit entry script."""
    return Path(__file__).resolve().with_name("app.py")


def warehouse_path() -> Path:
    """The warehouse the dashboard reads: ``REVCYCLE_WAREHOUSE`` when set (the CLI sets it),
    else the default work area's (``REVCYCLE_DATA_DIR`` or ``data/``)."""
    from revcycle.paths import WorkArea

    env = os.environ.get(WAREHOUSE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return WorkArea.default().warehouse


def streamlit_command(python: str, port: int) -> list[str]:
    """The ``streamlit run`` command line: bound to 127.0.0.1, headless, no usage statistics,
    no file watcher (the app does not change while it is served)."""
    return [
        python,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
    ]
