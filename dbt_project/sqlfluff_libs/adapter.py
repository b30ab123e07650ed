"""sqlfluff stand-in for dbt's ``adapter`` (linting only; dbt never reads this folder).

``adapter.dispatch('name', 'revcycle')`` returns the project's ``duckdb__name`` macro (else
``default__name``), so sqlfluff lints what DuckDB, the project's main target, runs.
"""

from jinja2 import pass_context


def dispatch(name, macro_namespace=None):
    @pass_context
    def dispatched(context, *args, **kwargs):
        for prefix in ("duckdb__", "default__"):
            macro = context.resolve_or_missing(prefix + name)
            if callable(macro):
                return macro(*args, **kwargs)
        raise NameError(f"no duckdb__ or default__ implementation of macro {name}")

    return dispatched
