"""Build the dbt project on a local Spark session from Parquet copies of the source tables.

Run as a script (one JVM, one Derby metastore, so never beside another dbt-on-Spark process):

    python -m tests.spark.spark_build --sources SOURCES --spark-dir DIR --out OUT --as-of DATE

``SOURCES`` holds one folder of Parquet files per source table, ``<schema>/<table>/``
(:func:`tests.spark.spark_support.export_sources` writes them from a DuckDB warehouse). The
script registers them as Spark tables (``dbt run-operation register_parquet_tables``), runs
``dbt build --target spark`` (models, seeds, unit and data tests), then writes every relation
of schema ``marts`` to ``OUT/marts/<name>/`` as Parquet, and ``OUT/result.json``: whether
each dbt command succeeded and every node that did not pass. All three steps run in this one
process, so the JVM starts once; dbt-spark's session method shares the process's session.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from revcycle.marts import dbt_vars
from revcycle.paths import dbt_project_dir


def _source_tables(sources: Path) -> list[dict[str, str]]:
    return [
        {"schema": schema_dir.name, "name": table_dir.name, "location": str(table_dir.resolve())}
        for schema_dir in sorted(p for p in sources.iterdir() if p.is_dir())
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir())
    ]


def _not_passed(result: Any) -> list[dict[str, str]]:
    """Every node of a dbt result that did not pass (error, fail, skipped)."""
    rows = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        if status not in ("success", "pass", "warn"):
            rows.append(
                {
                    "node": node_result.node.unique_id,
                    "status": status,
                    "message": str(node_result.message or "")[:2000],
                }
            )
    return rows


def _warned(result: Any) -> list[str]:
    """Tests of severity warn that found rows (reported, not a failure: DuckDB warns alike)."""
    return [
        f"{r.node.unique_id}: {r.message}"
        for r in getattr(result.result, "results", None) or []
        if str(r.status) == "warn"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--spark-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--as-of", required=True, help="YYYY-MM-DD, the run's as-of date")
    args = parser.parse_args(argv)

    from datetime import date

    spark_dir = args.spark_dir.resolve()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    spark_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "REVCYCLE_SPARK_DIR": str(spark_dir),
            "DBT_TARGET_PATH": str(spark_dir / "dbt" / "target"),
            "DBT_LOG_PATH": str(spark_dir / "dbt" / "logs"),
            "DO_NOT_TRACK": "1",
            "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
        }
    )
    # Derby writes derby.log into the working directory unless told otherwise.
    os.chdir(spark_dir)

    from dbt.cli.main import dbtRunner

    project = str(dbt_project_dir())
    common = ["--project-dir", project, "--profiles-dir", project, "--target", "spark"]
    runner = dbtRunner()
    summary: dict[str, Any] = {"steps": []}

    registered = runner.invoke(
        [
            "run-operation",
            "register_parquet_tables",
            *common,
            "--args",
            json.dumps({"tables": _source_tables(args.sources)}),
        ]
    )
    summary["steps"].append(
        {
            "step": "register_parquet_tables",
            "success": bool(registered.success),
            "error": str(registered.exception or ""),
        }
    )
    if registered.success:
        built = runner.invoke(["build", *common, *dbt_vars(date.fromisoformat(args.as_of))])
        summary["steps"].append(
            {
                "step": "build",
                "success": bool(built.success),
                "error": str(built.exception or ""),
                "not_passed": _not_passed(built),
                "warned": _warned(built),
            }
        )
        summary["marts"] = _export_marts(out / "marts")

    (out / "result.json").write_text(json.dumps(summary, indent=2))
    return 0 if all(step["success"] for step in summary["steps"]) else 1


def _export_marts(folder: Path) -> list[str]:
    """Write every table and view of schema marts as Parquet, one folder per relation."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    names = sorted(row.tableName for row in spark.sql("show tables in marts").collect())
    for name in names:
        spark.table(f"marts.{name}").write.mode("overwrite").parquet(str(folder / name))
    return names


if __name__ == "__main__":
    sys.exit(main())
