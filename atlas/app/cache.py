"""The database seam of the server: the cached connection, cached query results and the cached views of
the pages. Layer: the Streamlit glue (atlas.app), the one place a page reaches the data through.

The connection is a cache resource keyed by the database file's identity (path, modification time, size),
so when an import swaps in a new file the app opens the new one; query results are cached per (database
identity, query, parameters), and a page's whole view per (database identity, viewer's protections,
builder, arguments).

Survey figures change when a member saves an answer, and the database file does not: the answers live in a
file of their own beside it (atlas.survey.store.answers_path). So the survey's queries, and the views that read
them (SURVEY_BUILDERS), are keyed by that file's state too; every other view is not, so an answer saved during
a round leaves the other pages' caches as they were.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pandas as pd
import streamlit as st

from atlas import catalog, config
from atlas.app.errors import explained
from atlas.app.signin import current_audience
from atlas.db import Atlas, DatabaseOutdated, DatabaseUnreadable
from atlas.survey.store import answers_path

# How a page's whole view is kept. Every view is data (it pickles, and a copy draws the same charts:
# tests/test_views_as_data.py), so either cache can hold it under the same key. st.cache_resource shares
# one object between runs and sessions (pages only read it): a chart or section worked out on the first
# visit (a cached_property) is there on the next. st.cache_data would hand every read a fresh unpickled
# copy, which works its charts out again: a cost on every repeat visit, for an isolation pages do not need.
VIEWS_AS_DATA = False


@st.cache_resource(max_entries=2, show_spinner=False)
def _connect(path: str, mtime_ns: int, size: int) -> Atlas:
    return Atlas(path)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _run(version: tuple, name: str, params: tuple) -> pd.DataFrame:
    return database().query(name, **dict(params))


def _views_cache():
    """The cache of the pages' views (VIEWS_AS_DATA says which kind)."""
    keep = st.cache_data if VIEWS_AS_DATA else st.cache_resource
    return keep(ttl=3600, max_entries=64, show_spinner=False)


@_views_cache()
def cached_view(version: tuple, audience_key: str, builder: str, args: tuple, kwargs: tuple):
    """`atlas.views.<builder>(db, *args, **dict(kwargs))` over the cached queries, built once per key."""
    module, function = builder.split(".")
    return getattr(import_module(f"atlas.views.{module}"), function)(CachedAtlas(database()), *args, **dict(kwargs))


BUILDERS = frozenset({"overview.build", "bottlenecks.build", "need.build", "network.build", "outcomes.build",
                      "resilience.closure", "resilience.change", "accountability.build",
                      "accountability.headline", "ties.build", "network.summary_view", "survey.build"})
# the views that read the survey's answers (the map's survey layer, partnership quality, the Survey page)
SURVEY_BUILDERS = frozenset({"network.build", "ties.build", "survey.build"})


def answers_state(database: str | Path) -> tuple | None:
    """What identifies the survey answers beside `database` as they stand: the answers file's modification
    time and size (every save is committed and checkpointed into it before it returns); None while there is
    no answers file."""
    try:
        stat = answers_path(Path(database)).stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def keyed_version(version: tuple, builder_or_query: str) -> tuple:
    """The version a cached view or query result is kept under: the database's, and for what reads the survey's
    answers (SURVEY_BUILDERS, the survey_* queries) the answers file's state as well."""
    if builder_or_query in SURVEY_BUILDERS or (builder_or_query not in BUILDERS
                                               and catalog.get(builder_or_query).path.parent == catalog.SURVEY_DIR):
        return (*version, answers_state(version[0]))
    return version


def view(builder: str, *args, **kwargs):
    """A page's whole view, `atlas.views.<builder>(db, *args, **kwargs)`, cached per data version, viewer's
    protections (`Audience.cache_key`) and arguments, so a page shown again (another visitor, a widget
    that does not change it, a return visit) is not built again."""
    if builder not in BUILDERS:
        raise ValueError(f"{builder} is not a page builder")
    with explained():  # a damaged block, met while building
        return cached_view(keyed_version(database().version, builder), current_audience().cache_key, builder, args,
                           tuple(sorted(kwargs.items())))


class CachedAtlas:
    """The app's view of the database: the same `.query(name, **params)` as `Atlas`, cached."""

    def __init__(self, db: Atlas):
        self.db = db

    def query(self, name: str, /, **params) -> pd.DataFrame:
        bound = catalog.get(name).bind(params)
        with explained():  # a damaged block, met by this query
            return _run(keyed_version(self.db.version, name), name, tuple(sorted(bound.items())))


def database() -> Atlas:
    path = config.database_path()
    stat = Path(path).stat()  # raises FileNotFoundError when there is none: see require_database
    return _connect(str(path), stat.st_mtime_ns, stat.st_size)


def has_database() -> bool:
    return Path(config.database_path()).exists()


def opened() -> CachedAtlas:
    """The cached database; one built by another model version, or damaged, explains itself and stops."""
    with explained():
        return CachedAtlas(database())


def database_or_none() -> CachedAtlas | None:
    """The cached database, or None before the first import has built one."""
    return opened() if has_database() else None


def unreadable_database() -> str | None:
    """What is wrong with the file at the database path when it cannot be read at all (damaged, cut
    short, not a database), saying how to recover; None when it opens, or when there is none."""
    if not has_database():
        return None
    try:
        database()
    except DatabaseUnreadable as unreadable:
        return str(unreadable)
    except DatabaseOutdated:
        pass  # readable: require_database explains the upgrade
    return None


def require_database() -> CachedAtlas:
    """The cached database, or an explanation on the page (and a stop) when there is none yet."""
    if not has_database():
        st.error(
            f"There is no database at `{config.database_path()}` yet. Load your community's files on the "
            f"**Data** page, build the demo community with `python -m atlas demo`, or load a folder with "
            f"`python -m atlas import DIR`."
        )
        st.stop()
    return opened()
