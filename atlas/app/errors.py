"""What a page says, and where it stops, when the dashboard cannot go on: a configuration mistake
(`configured`) or a database that cannot be read (`explained`), each in words that say how to recover
instead of Streamlit's generic error box. Layer: the Streamlit glue (atlas.app), under the cache."""

from __future__ import annotations

import contextlib

import streamlit as st

from atlas import audience, config, escape
from atlas.app.signin import current_audience
from atlas.db import DatabaseOutdated, DatabaseUnreadable


@contextlib.contextmanager
def explained():
    """A database that cannot be read (damaged, outdated) says so on the page, which then stops."""
    try:
        yield
    except DatabaseOutdated as outdated:
        st.error(str(outdated), icon=":material/upgrade:")
        st.stop()
    except DatabaseUnreadable as unreadable:
        st.error(str(unreadable) + (replace_hint() if current_audience().can_open("data") else ""),
                 icon=":material/broken_image:")
        st.stop()


def replace_hint(where: str = "on the **Data** page") -> str:
    """The way back from an unreadable database that needs no shell, for a director."""
    return f"\n\nOr replace it here: load your community's files {where}, all of them, as for a first import."


@contextlib.contextmanager
def configured():
    """A configuration mistake (a role name, the threshold, the memory bound, the period length) stops
    the app with what is wrong, instead of Streamlit's generic error box (whose details are hidden)."""
    try:
        yield
    except (config.ConfigError, audience.RoleConfigError) as error:
        st.error("**The dashboard's configuration needs fixing** (in `.streamlit/secrets.toml` or the "
                 f"environment it was started with):\n\n{escape.markdown(str(error))}", icon=":material/settings:")
        st.stop()
