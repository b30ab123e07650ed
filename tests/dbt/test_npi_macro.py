"""The dbt macro npi_luhn_valid and the Python check revcycle.extracts.npi agree.

The scrubber uses the SQL result (dim_providers.is_npi_luhn_valid) and Python code uses
is_valid_npi: the two must never disagree. The macro is rendered with Jinja (no dbt needed)
and evaluated by DuckDB over well-formed, corrupted and malformed values.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import duckdb
import jinja2

from revcycle.extracts.npi import is_valid_npi, luhn_check_digit
from revcycle.paths import dbt_project_dir


def _macro_sql(column: str) -> str:
    macros = dbt_project_dir() / "macros"
    # Renders SQL, not HTML: escaping would corrupt the quotes in the expression.
    env = jinja2.Environment(autoescape=False, extensions=["jinja2.ext.do"])  # noqa: S701
    # The macro's regular expression goes through revcycle.full_match
    # (macros/portability.sql); on DuckDB, adapter.dispatch picks its default__ version.
    portability = env.from_string((macros / "portability.sql").read_text(encoding="utf-8")).module
    env.globals["revcycle"] = SimpleNamespace(full_match=portability.default__full_match)  # type: ignore[attr-defined]
    module = env.from_string((macros / "npi_luhn_valid.sql").read_text(encoding="utf-8")).module
    return str(module.npi_luhn_valid(column))  # type: ignore[attr-defined]


def _samples() -> list[str | None]:
    rnd = random.Random(20261101)
    values: list[str | None] = [None, "", "1234567893", "1234567890", "123456789", "12345678930"]
    for _ in range(2000):
        base = f"{rnd.randrange(10**9):09d}"
        good = base + luhn_check_digit(base)
        values.append(good)
        values.append(base + str((int(good[9]) + rnd.randint(1, 9)) % 10))
        values.append(good[:4] + "A" + good[5:])
        values.append(" " + good)
    return values


def test_sql_macro_matches_python_check() -> None:
    values = _samples()
    with duckdb.connect() as con:
        con.execute("create table npis (i integer, npi varchar)")
        con.executemany("insert into npis values (?, ?)", list(enumerate(values)))
        rows = con.execute(f"select i, {_macro_sql('npi')} from npis order by i").fetchall()
    sql_result = [valid for _, valid in rows]
    python_result = [value is not None and is_valid_npi(value) for value in values]
    assert sql_result == python_result
    assert sum(python_result) == 2001  # the known-good one plus every completed base
