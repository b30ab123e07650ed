"""The command line as a user runs it: real subprocesses."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AS_OF

COMMANDS = [
    "generate",
    "ingest",
    "build",
    "run",
    "bill",
    "eligibility",
    "demo",
    "summary",
    "query",
    "x12",
    "statements",
    "export",
    "docs",
    "dashboard",
    "transport",
    "serve",
]


def _revcycle(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revcycle", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command: str | None) -> None:
    result = _revcycle(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    if command is None:
        for name in COMMANDS:
            assert name in result.stdout


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_generate_same_seed_gives_identical_files(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name / "extracts"
        result = _revcycle(
            "generate",
            "--encounters",
            "600",
            "--seed",
            "7",
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(out),
            "--answer-key-dir",
            str(tmp_path / name / "key"),
        )
        assert result.returncode == 0, result.stderr
        runs.append((_digests(out), _digests(tmp_path / name / "key")))

    assert runs[0] == runs[1]
    assert set(runs[0][0]) == {
        "patients.csv",
        "payers.csv",
        "coverages.csv",
        "providers.csv",
        "encounters.csv",
        "charges.csv",
        "diagnoses.csv",
    }
    other = tmp_path / "c" / "extracts"
    result = _revcycle(
        "generate",
        "--encounters",
        "600",
        "--seed",
        "8",
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(other),
        "--answer-key-dir",
        str(tmp_path / "c" / "key"),
    )
    assert result.returncode == 0, result.stderr
    assert _digests(other)["charges.csv"] != runs[0][0]["charges.csv"]


def test_ingest_reports_a_quarantined_file_and_exits_non_zero(
    small_extract: Path, tmp_path: Path
) -> None:
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    (extracts / "payers.csv").write_bytes((small_extract / "payers.csv").read_bytes())
    (extracts / "charges.csv").write_text("charge_id\nCH1\n", encoding="utf-8")

    result = _revcycle("ingest", str(extracts), "--data-dir", str(tmp_path / "data"))

    assert result.returncode == 2
    assert "charges.csv, line 1: missing column(s): encounter_id" in result.stderr
    assert "1 file(s) loaded" in result.stdout


def test_build_builds_the_marts_and_prints_their_counts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    generated = _revcycle(
        "generate",
        "--encounters",
        "60",
        "--seed",
        "3",
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(data_dir / "extracts"),
        "--answer-key-dir",
        str(tmp_path / "key"),
    )
    assert generated.returncode == 0, generated.stderr
    ingested = _revcycle("ingest", str(data_dir / "extracts"), "--data-dir", str(data_dir))
    assert ingested.returncode == 0, ingested.stderr

    # The marts are read back in the same process dbt built them in (dbt-duckdb's database
    # must be closed first: this crashed once the profile set a memory limit).
    built = _revcycle("build", "--as-of", AS_OF.isoformat(), "--data-dir", str(data_dir))

    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "claims built: 60 (" in built.stdout
