"""sqlfluff stand-in for the project's macro namespace: ``revcycle.name(...)`` calls the
project's macro ``name`` (loaded from macros/ by sqlfluff), as dbt does."""

from jinja2 import pass_context


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)

    @pass_context
    def call(context, *args, **kwargs):
        macro = context.resolve_or_missing(name)
        if not callable(macro):
            raise NameError(f"no macro named {name}")
        return macro(*args, **kwargs)

    return call
