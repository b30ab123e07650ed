"""The documents a user reads agree with the code."""

from __future__ import annotations

from pathlib import Path

from revcycle.extracts.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]


def test_extract_format_document_lists_every_table_and_column() -> None:
    text = (ROOT / "docs" / "extract-format.md").read_text(encoding="utf-8")
    for table in TABLES:
        assert table.file_name in text, table.file_name
        section = text.split(table.file_name, 1)[1]
        for column in table.columns:
            assert f"`{column.name}`" in section, f"{table.name}.{column.name} is not documented"


def test_readme_shows_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text
