"""SQL access for finance: the marts exported to files, and the dbt docs that describe them.

- :func:`export_marts` writes every table and view of the warehouse's ``marts`` schema to one
  file per mart, Parquet (``DECIMAL(18,2)`` stays decimal, codes stay text) or CSV, through
  DuckDB's ``COPY`` on a read-only connection. The marts hold patient data (names and
  addresses in ``dim_patients``, member ids in ``dim_coverages``), so files are owner-only
  (0600), written under a temporary name and then renamed; a folder created for them is
  owner-only (0700), an existing one keeps its permissions.
- :func:`generate_docs` runs ``dbt docs generate`` (``index.html``, ``manifest.json``,
  ``catalog.json`` in the work area's ``dbt/target``) and :func:`serve_docs` serves those
  three files on 127.0.0.1 only, never on another interface. Docs are generated without
  the scrubber's as-of var, so compiled SQL shows its default (``current_date``) and the
  docs do not change with the day they were built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import duckdb

from revcycle.marts import dbt_env, dbt_environment, release_dbt_duckdb
from revcycle.paths import WorkArea, dbt_project_dir

ExportFormat = Literal["parquet", "csv"]
MARTS_SCHEMA = "marts"
FILE_MODE = 0o600
FOLDER_MODE = 0o700
DOCS_HOST = "127.0.0.1"
DOCS_FILES = ("index.html", "manifest.json", "catalog.json")

_COPY_OPTIONS: dict[ExportFormat, str] = {
    "parquet": "format parquet",
    "csv": "format csv, header true",
}


class DocsError(RuntimeError):
    """dbt could not generate or serve the docs."""


@dataclass(frozen=True)
class ExportedMart:
    name: str  # the relation in the marts schema
    relation_type: str  # BASE TABLE or VIEW
    path: Path
    rows: int


def list_marts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, table type) of every table and view in the marts schema, by name."""
    rows = con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_schema = ? and table_catalog = current_database() order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def export_marts(
    warehouse: Path,
    out_dir: Path,
    file_format: ExportFormat,
    on_mart: Callable[[ExportedMart], None] | None = None,
) -> tuple[ExportedMart, ...]:
    """Write each mart to ``out_dir/<mart>.<parquet|csv>`` from a read-only connection;
    a file already there is replaced. Returns what was written, by mart name."""
    if not out_dir.is_dir():  # a folder we create is owner-only; one given is left as it is
        out_dir.mkdir(parents=True)
        out_dir.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask; be explicit
    exported: list[ExportedMart] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, kind in list_marts(con):
            path = out_dir / f"{name}.{file_format}"
            temp = out_dir / f".{path.name}.tmp"
            try:
                copied = con.execute(
                    f"copy (select * from {MARTS_SCHEMA}.{_quote_identifier(name)}) "
                    f"to {_quote_literal(str(temp))} ({_COPY_OPTIONS[file_format]})"
                ).fetchall()
                temp.chmod(FILE_MODE)
                temp.replace(path)
            finally:
                temp.unlink(missing_ok=True)  # only left behind when the copy failed
            mart = ExportedMart(name, kind, path, int(copied[0][0]) if copied else 0)
            exported.append(mart)
            if on_mart is not None:
                on_mart(mart)
    return tuple(exported)


def docs_target_dir(area: WorkArea) -> Path:
    """Where dbt writes its artifacts for this work area (and so the docs)."""
    return Path(dbt_environment(area)["DBT_TARGET_PATH"])


def _dbt_project_args() -> list[str]:
    return ["--project-dir", str(dbt_project_dir()), "--profiles-dir", str(dbt_project_dir())]


def generate_docs(area: WorkArea) -> Path:
    """``dbt docs generate`` against the work area's warehouse; returns the target folder
    holding ``index.html``, ``manifest.json`` and ``catalog.json``."""
    from dbt.cli.main import dbtRunner

    with dbt_env(area):
        try:
            result = dbtRunner().invoke(["docs", "generate", *_dbt_project_args()])
        finally:
            release_dbt_duckdb()
    if not result.success:
        raise DocsError(f"dbt docs generate failed: {result.exception or 'see the log above'}")
    target = docs_target_dir(area)
    missing = [name for name in DOCS_FILES if not (target / name).is_file()]
    if missing:
        raise DocsError(f"dbt docs generate wrote no {', '.join(missing)} in {target}")
    return target


class _DocsHandler(SimpleHTTPRequestHandler):
    """Serves the three files the docs site needs, and nothing else of the target folder
    (compiled SQL, run results); no access log."""

    def _allowed(self) -> bool:
        path = urlsplit(self.path).path
        return path == "/" or path.lstrip("/") in DOCS_FILES

    def do_GET(self) -> None:
        if self._allowed():
            super().do_GET()
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def do_HEAD(self) -> None:
        if self._allowed():
            super().do_HEAD()
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve_docs(target: Path, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the generated docs in ``target`` on http://127.0.0.1:<port>/ until Ctrl+C.

    Python's threaded HTTP server rather than ``dbt docs serve`` (which has ``--host`` in dbt
    1.11): dbt's server answers one request at a time, changes the process's working
    directory, serves the whole target folder and logs a traceback when stopped."""
    handler = partial(_DocsHandler, directory=str(target))
    with ThreadingHTTPServer((DOCS_HOST, port), handler) as server:
        if on_ready is not None:
            on_ready(f"http://{DOCS_HOST}:{server.server_address[1]}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            return
