"""sqlfluff stand-in for the dbt cross-database macros the models call (linting only).

Each returns what dbt-duckdb renders, so sqlfluff lints the SQL DuckDB runs.
"""


def type_string():
    return "text"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"
