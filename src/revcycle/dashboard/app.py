"""The revcycle dashboard's Streamlit entry script: ``revcycle dashboard`` runs
``streamlit run`` on this file, bound to 127.0.0.1.

Each run (every click) opens the warehouse read-only, draws the sidebar (page and filters)
and one page, and closes the connection again: a pipeline run is never kept from writing the
warehouse between clicks. A missing, empty or busy warehouse gets a message, not a traceback.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

from revcycle.dashboard import queries, views, warehouse_path

PRIVACY_NOTE = "ids only: no patient names, birth dates or member ids"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _warehouse() -> Path:
    try:
        return warehouse_path()
    except FileNotFoundError as exc:  # no REVCYCLE_WAREHOUSE and no project to default to
        st.warning(f"No warehouse to show: {exc}. Start the dashboard with `revcycle dashboard`.")
        st.stop()
        raise  # st.stop() raises; this keeps the type checker informed


def main() -> None:
    st.set_page_config(page_title="revcycle: revenue cycle", page_icon="💵", layout="wide")
    st.sidebar.title("revcycle")
    path = _warehouse()
    if not path.is_file():
        st.title("revcycle dashboard")
        st.warning(
            f"No warehouse at `{path}` yet. Build one with `revcycle demo` (or `revcycle run`), "
            "then reload this page."
        )
        st.stop()
    try:
        con = queries.connect(path)
    except duckdb.Error as exc:
        st.title("revcycle dashboard")
        st.warning(
            f"The warehouse at `{path}` cannot be opened read-only right now "
            f"({_first_line(exc)}). A pipeline run may be writing it: reload when it has "
            "finished."
        )
        st.stop()
    with con:
        missing = queries.missing_marts(con)
        if missing:
            st.title("revcycle dashboard")
            st.warning(
                f"The warehouse at `{path}` has no marts to show yet (missing: "
                f"{', '.join('marts.' + name for name in missing)}). Run `revcycle build` (or "
                "`revcycle demo`), then reload this page."
            )
            st.stop()
        page = views.choose_page()
        filters = views.choose_filters(queries.filter_options(con))
        as_of = queries.as_of_date(con)
        st.sidebar.caption(f"As of {as_of or 'unknown'} · read-only · {PRIVACY_NOTE}")
        try:
            page.render(con, filters)
        except duckdb.CatalogException as exc:
            st.warning(
                f"This page needs a mart this warehouse does not have ({_first_line(exc)}). "
                "Run `revcycle build` to bring the marts up to date, then reload."
            )
        except duckdb.Error as exc:
            st.error(f"A query of this page failed: {_first_line(exc)}")
    st.divider()
    st.caption(f"Read-only view of {path}, as of {as_of or 'unknown'}; {PRIVACY_NOTE}.")


if __name__ == "__main__":
    main()
