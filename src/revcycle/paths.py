"""Where revcycle finds its project files and keeps its working data.

One setting moves the whole working area: ``REVCYCLE_DATA_DIR`` (default ``data/`` under the
project root). The project root holds ``dbt_project/`` and ``expectations/``; it is found from
``REVCYCLE_PROJECT_DIR``, else by walking up from this file (editable installs and checkouts),
else from the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("REVCYCLE_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "dbt_project" / "dbt_project.yml").is_file():
                return candidate
    raise FileNotFoundError(
        "cannot find the revcycle project (a folder holding dbt_project/dbt_project.yml); "
        "set REVCYCLE_PROJECT_DIR"
    )


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def seeds_dir() -> Path:
    return dbt_project_dir() / "seeds"


@dataclass(frozen=True)
class WorkArea:
    """The working folders under one data directory."""

    root: Path

    @classmethod
    def default(cls) -> WorkArea:
        env = os.environ.get("REVCYCLE_DATA_DIR")
        return cls(Path(env).resolve() if env else project_root() / "data")

    @property
    def extracts(self) -> Path:
        return self.root / "extracts"

    @property
    def answer_keys(self) -> Path:
        return self.root / "answer_keys"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "revcycle.duckdb"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def statements(self) -> Path:
        """Patient statement PDFs (owner-only: they carry names and addresses)."""
        return self.root / "statements"
