"""The Data page's word on the last refresh from the inbox (`python -m atlas refresh`): when, which export,
and what came of it. Layer: the Streamlit glue (atlas.app), reading the named query `last_refresh` over
the refresh log beside the database (atlas.config.refresh_log).

The log changes without the database changing (a failed refresh leaves the data as it was), so its
answer is cached by the log file's own identity, not the database's: the page reads it again only when a
refresh has written it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from atlas import config, escape, formats
from atlas.app.cache import database


@st.cache_data(max_entries=4, show_spinner=False)
def _last(log: str, mtime_ns: int, size: int) -> dict | None:
    found = database().query("last_refresh", log=log)
    return None if found.empty else found.iloc[0].to_dict()


def last_refresh() -> dict | None:
    """The last refresh's record (`last_refresh`), None when no refresh has run for this database."""
    log = config.refresh_log()
    try:
        stat = Path(log).stat()
    except FileNotFoundError:
        return None
    return _last(str(log), stat.st_mtime_ns, stat.st_size)


def _when(value) -> str:
    return "—" if value is None or pd.isna(value) else formats.moment(value)


def show_last_refresh() -> None:
    """One line on the last refresh (a warning when it failed or did not finish); nothing before the first."""
    last = last_refresh()
    if last is None:
        return
    entry = escape.markdown(last["entry"])
    message = escape.markdown(last["message"] or "")
    if last["result"] == "failed":
        st.warning(f"**The last refresh from the inbox failed** ({_when(last['finished_at'])}, {entry}): {message}",
                   icon=":material/sync_problem:")
    elif last["result"] == "running":
        st.info(f"A refresh from the inbox started at {_when(last['started_at'])} ({entry}) and has not finished: "
                "it is still running, or it was stopped, in which case its export is still in the inbox and the next "
                "refresh tries it again. The data shown is what was there before it.", icon=":material/sync:")
    else:
        st.caption(f"Last refresh from the inbox: {_when(last['finished_at'])}, {entry}: {message}")
