"""sqlfluff stand-in for dbt's target: the project lints as its DuckDB target."""

type = "duckdb"
name = "duckdb"
schema = "main"
