"""Work done ahead, off any page's thread, so that a click finds it ready: the slow imports a first visit
would wait for (`warm_up`) and each page's first view, built in the background once per data version and
protections (`prepare_ahead`). Both start only when the entrypoint starts them. Layer: the Streamlit glue
(atlas.app), over the cache of views."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

import streamlit as st

from atlas import config
from atlas.app.cache import CachedAtlas, cached_view, database, keyed_version
from atlas.app.sidebar import DEFAULT_PERIOD, data_days
from atlas.audience import Audience
from atlas.filters import Filters, board_periods, period_bounds


def _import_slow_modules() -> None:
    """Import what a page would otherwise import on its first visit: SciPy's solver, which the suppression
    audit of the board's and funders' figures uses, takes most of a second to load. Then protect the default
    period's published sets (`publish_ahead`)."""
    import scipy.optimize  # noqa: F401

    if st.runtime.exists() and os.environ.get("ATLAS_PREPARE_AHEAD", "1") != "0":
        publish_ahead()


def publish_ahead(periods: int | None = None) -> None:
    """Work out the board's and funders' published sets of every period they can choose, newest first, once per
    data version in this server: protecting a year takes minutes on a large network, and no board member or
    funder is to wait for it, whoever signs in first. The default period (the latest whole quarter) is worked
    out here, in this thread, and kept in this server's memory; every other period (unless `periods` is 1, the
    default alone) by `python -m atlas prepare` in a child process at a low priority, so the minutes a
    year's audit takes hold neither this server's interpreter nor the processors its pages need. Both store what
    they work out beside the database (a set stored already is only read), where a page then reads it. Any
    failure is left for the page to meet and explain."""
    try:
        db = CachedAtlas(database())
        with _PUBLISHING:
            if db.db.version in _PUBLISHED:
                return
            _PUBLISHED.add(db.db.version)
        from atlas.protection import prepare

        counted = iter(range(len(prepare.AUDIENCES)))  # the default period's sets
        prepare.prepare(db, config.min_cell(), say=lambda line: None,
                        stop=lambda: not db.db.is_current() or _spent(counted))
        if periods is None or periods > 1:
            _prepare_in_child(db.db.path, config.min_cell())
    except Exception:  # the page builds it again, and says what is wrong
        return


def _prepare_in_child(path, min_cell: int) -> None:
    """`python -m atlas prepare` for the database at `path`, at a low priority, ended with this server (it
    stops by itself once the database file is replaced); waited for, so it leaves no zombie."""
    def low_priority_and_bound_to_parent():
        os.nice(10)
        try:  # PR_SET_PDEATHSIG: ended when the server ends, mid-audit
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
        except (OSError, AttributeError):
            pass

    child = subprocess.Popen([sys.executable, "-m", "atlas", "prepare", "--db", str(path), "--min-cell",
                              str(min_cell)], cwd=config.ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=low_priority_and_bound_to_parent)
    child.wait()


def _spent(counted) -> bool:
    """True once `counted` (an iterator over the sets allowed) has none left."""
    return next(counted, None) is None


_PUBLISHED: set[tuple] = set()  # the data versions whose sets this server prepares (or prepared)
_PUBLISHING = threading.Lock()


def publish_for(version: tuple) -> None:
    """Start `publish_ahead` in a background thread when this server has not yet prepared the sets of the data
    version (new data imported since the server started: the refresh's own `prepare` may be under way, and
    then this thread reads what it stored)."""
    with _PUBLISHING:
        if version in _PUBLISHED:
            return
    threading.Thread(target=publish_ahead, name="atlas-publish", daemon=True).start()


_WARM_UP = threading.Thread(target=_import_slow_modules, name="atlas-warm-up", daemon=True)
_WARMING = threading.Lock()


def warm_up() -> None:
    """Start the slow imports in a background thread, once per server process (the entrypoint calls this
    on every run; a thread can be started only once)."""
    with _WARMING:
        if _WARM_UP.ident is None:
            _WARM_UP.start()


_PREPARED: set[tuple] = set()
_PREPARING = threading.Lock()


def default_views(viewer: Audience, first: dt.date, last: dt.date) -> list[tuple[str, tuple, dict]]:
    """The views this person's pages draw before any choice is made, as `view(builder, *args, **kwargs)`
    gets them: the default period (a director's last 12 months, the board's or funders' latest whole
    period) and each page's own defaults. The landing page comes last (its first visit builds it anyway)."""
    if viewer.restricted:
        periods = board_periods(first, last)
        if not periods:
            return []
        _, start, end, length = periods[0]  # the latest whole quarter, the sidebar's default
        filters, min_cell = Filters(start, end, aligned=length), config.min_cell()
    else:
        filters, min_cell = Filters(*period_bounds(DEFAULT_PERIOD, first, last, None)), None
    from atlas.views import network

    views = {
        "bottlenecks": [("bottlenecks.build", (filters,), {"focus": None, "pathway_sector": None})],
        "need_capacity": [("need.build", (filters,), {"region": None, "service": None, "measure": "unmet_share"})],
        "accountability": [("accountability.build", (filters,), {})],
        "network": [("network.build", (filters, network.default_choice(min_cell)), {"min_cell": min_cell})]
        + ([("network.summary_view", (filters,), {"by": "region", "min_cell": min_cell})] if viewer.restricted else []),
        "outcomes": [("outcomes.build", (filters,), {"funder": None, "min_cell": config.min_cell()})],
        "overview": [("overview.build", (filters,), {"min_cell": min_cell})],
    }
    return [v for page, listed in views.items() if viewer.can_open(page) for v in listed]


def prepare_ahead(viewer: Audience) -> None:
    """Build, in a background thread, the first view of every page this person may open, once per data
    version and protections in this server: a click on a page then finds its view ready, and what a page
    loads on first use (SciPy, plotly's trace types, DuckDB's blocks) is loaded already. Only in a served
    app (not under AppTest); a view that fails here is left for its page to build and explain."""
    if not st.runtime.exists() or os.environ.get("ATLAS_PREPARE_AHEAD", "1") == "0":
        return
    db = database()
    publish_for(db.version)
    days = data_days(CachedAtlas(db).query("data_extent").iloc[0])
    key = (db.version, viewer.cache_key)
    with _PREPARING:
        if days is None or key in _PREPARED:
            return
        _PREPARED.add(key)
    views = default_views(viewer, *days)
    threading.Thread(target=_prepare, args=(db.version, viewer.cache_key, views), name="atlas-prepare",
                     daemon=True).start()


PREPARE_AFTER_S = float(os.environ.get("ATLAS_PREPARE_AFTER", "3"))  # seconds: the browser first loads the app


def _prepare(version: tuple, audience_key: str, views: list[tuple[str, tuple, dict]]) -> None:
    time.sleep(PREPARE_AFTER_S)  # the page just drawn still has its scripts to fetch from this same process
    for builder, args, kwargs in views:
        try:
            built = cached_view(keyed_version(version, builder), audience_key, builder, args,
                                tuple(sorted(kwargs.items())))
            if builder == "bottlenecks.build":
                built.agency_table  # noqa: B018 - the section a first visit opens
        except Exception:  # the page builds it again, and says what is wrong
            continue
