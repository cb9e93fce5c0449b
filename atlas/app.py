"""Streamlit glue shared by every page: the cached connection, cached query results, shared filters.

This is the only module of `atlas` that imports Streamlit. The connection is a cache resource keyed
by the database file's identity (path, modification time, size), so when an import swaps in a new
file the app opens the new one; query results are cached per (database identity, query, parameters).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from atlas import catalog, config, contract
from atlas.db import Atlas, DatabaseOutdated, DatabaseUnreadable
from atlas.filters import PERIODS, Filters, period_bounds


@st.cache_resource(max_entries=2, show_spinner=False)
def _connect(path: str, mtime_ns: int, size: int) -> Atlas:
    return Atlas(path)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _run(version: tuple, name: str, params: tuple) -> pd.DataFrame:
    return database().query(name, **dict(params))


class CachedAtlas:
    """The app's view of the database: the same `.query(name, **params)` as `Atlas`, cached."""

    def __init__(self, db: Atlas):
        self.db = db

    def query(self, name: str, /, **params) -> pd.DataFrame:
        bound = catalog.get(name).bind(params)
        return _run(self.db.version, name, tuple(sorted(bound.items())))


def database() -> Atlas:
    path = config.database_path()
    stat = Path(path).stat()  # raises FileNotFoundError when there is none: see require_database
    return _connect(str(path), stat.st_mtime_ns, stat.st_size)


def has_database() -> bool:
    return Path(config.database_path()).exists()


def _opened() -> CachedAtlas:
    """The cached database; a database built by another model version explains itself and stops."""
    try:
        return CachedAtlas(database())
    except DatabaseOutdated as outdated:
        st.error(str(outdated), icon=":material/upgrade:")
        st.stop()
    except DatabaseUnreadable as unreadable:
        st.error(str(unreadable), icon=":material/broken_image:")
        st.stop()


def database_or_none() -> CachedAtlas | None:
    """The cached database, or None before the first import has built one."""
    return _opened() if has_database() else None


def require_database() -> CachedAtlas:
    """The cached database, or an explanation on the page (and a stop) when there is none yet."""
    if not has_database():
        st.error(
            f"There is no database at `{config.database_path()}` yet. Load your community's files on the "
            f"**Data** page, build the demo community with `python -m atlas demo`, or load a folder with "
            f"`python -m atlas import DIR`."
        )
        st.stop()
    return _opened()


def sidebar_filters(db: CachedAtlas) -> Filters:
    """Draw the shared filters in the sidebar (their state persists across pages) and return them."""
    extent = db.query("data_extent").iloc[0]
    choices = db.query("filter_choices")
    first, last = extent["first_referral"], extent["last_referral"]
    if pd.isna(first):
        st.sidebar.info("The database holds no referrals yet.")
        return Filters()
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()

    def options(dimension: str) -> list[str]:
        # "" stands for all: a region, sector or service type is never empty
        return [""] + choices.loc[choices["dimension"] == dimension, "value"].tolist()

    def label(value: str) -> str:
        return contract.label(value) if value else "All"

    sb = st.sidebar
    sb.header("Filters")
    preset = sb.selectbox("Period", PERIODS, index=PERIODS.index("Last 12 months"), key="filter_period")
    custom = None
    if preset == "Custom":
        picked = sb.date_input("From – to", value=(max(first, last - dt.timedelta(days=364)), last),
                               min_value=first, max_value=last, key="filter_dates")
        custom = tuple(picked) if isinstance(picked, (tuple, list)) and len(picked) == 2 else None
    start, end = period_bounds(preset, first, last, custom)
    region = sb.selectbox("Region", options("region"), format_func=label, key="filter_region")
    service = sb.selectbox("Service type", options("service_type"), format_func=label, key="filter_service")
    sector = sb.selectbox("Sector", options("sector"), format_func=label, key="filter_sector",
                          help="For referral figures, the receiving agency's region and sector count.")
    as_of = pd.Timestamp(extent["as_of"])
    sb.caption(f"Data runs {first:%d %b %Y} – {last:%d %b %Y}; latest activity {as_of:%d %b %Y %H:%M}.")
    return Filters(start, end, region or None, service or None, sector or None)


def current_filters() -> Filters:
    """The filters the entrypoint drew for this run."""
    return st.session_state.get("atlas_filters", Filters())
