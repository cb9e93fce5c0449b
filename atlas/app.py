"""Streamlit glue shared by every page: the cached connection, cached query results, shared filters.

This is the only module of `atlas` that imports Streamlit. The connection is a cache resource keyed
by the database file's identity (path, modification time, size), so when an import swaps in a new
file the app opens the new one; query results are cached per (database identity, query, parameters).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import threading
import time
from importlib import import_module
from pathlib import Path

import pandas as pd
import streamlit as st

from atlas import audience, catalog, config, escape, formats, vocab
from atlas.audience import Audience
from atlas.db import Atlas, DatabaseOutdated, DatabaseUnreadable
from atlas.filters import PERIODS, Filters, period_bounds, reporting_periods


def _warm_up() -> None:
    """Import, off any page's thread, what a page would otherwise import on its first visit: SciPy's solver,
    which the suppression audit of the board's and funders' figures uses, takes most of a second to load."""
    import scipy.optimize  # noqa: F401


threading.Thread(target=_warm_up, name="atlas-warm-up", daemon=True).start()  # once per server process


@st.cache_resource(max_entries=2, show_spinner=False)
def _connect(path: str, mtime_ns: int, size: int) -> Atlas:
    return Atlas(path)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _run(version: tuple, name: str, params: tuple) -> pd.DataFrame:
    return database().query(name, **dict(params))


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)  # not pickled: views hold Stylers; pages only read them
def _view(version: tuple, audience_key: str, builder: str, args: tuple, kwargs: tuple):
    module, function = builder.split(".")
    return getattr(import_module(f"atlas.views.{module}"), function)(CachedAtlas(database()), *args, **dict(kwargs))


BUILDERS = frozenset({"overview.build", "bottlenecks.build", "need.build", "network.build", "outcomes.build",
                      "resilience.closure", "resilience.change", "accountability.build",
                      "accountability.headline", "ties.build", "network.summary_view"})


def view(builder: str, *args, **kwargs):
    """A page's whole view, `atlas.views.<builder>(db, *args, **kwargs)`, cached per data version, viewer's
    protections (`Audience.cache_key`) and arguments, so a page shown again (another visitor, a widget
    that does not change it, a return visit) is not built again."""
    if builder not in BUILDERS:
        raise ValueError(f"{builder} is not a page builder")
    with _explained():  # a damaged block, met while building
        return _view(database().version, current_audience().cache_key, builder, args,
                     tuple(sorted(kwargs.items())))


@contextlib.contextmanager
def _explained():
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


class CachedAtlas:
    """The app's view of the database: the same `.query(name, **params)` as `Atlas`, cached."""

    def __init__(self, db: Atlas):
        self.db = db

    def query(self, name: str, /, **params) -> pd.DataFrame:
        bound = catalog.get(name).bind(params)
        with _explained():  # a damaged block, met by this query
            return _run(self.db.version, name, tuple(sorted(bound.items())))


def database() -> Atlas:
    path = config.database_path()
    stat = Path(path).stat()  # raises FileNotFoundError when there is none: see require_database
    return _connect(str(path), stat.st_mtime_ns, stat.st_size)


def has_database() -> bool:
    return Path(config.database_path()).exists()


def _opened() -> CachedAtlas:
    """The cached database; one built by another model version, or damaged, explains itself and stops."""
    with _explained():
        return CachedAtlas(database())


def database_or_none() -> CachedAtlas | None:
    """The cached database, or None before the first import has built one."""
    return _opened() if has_database() else None


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
    return _opened()


def table(where, data, **kwargs):
    """`where.dataframe(data, **kwargs)` (where: st, a column, a tab or an expander) as every page draws a table:
    no index and the page's width unless asked otherwise, and the table's key column, the first it shows (the
    agency, program, region or month a row is about), pinned, so that it stays in view when a table wider than
    the page is scrolled sideways (docs/accessibility.md: tables at 1,280 px). Returns what st.dataframe returns."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    kwargs["column_config"] = pin_key_column(data, kwargs.get("column_config"), kwargs.get("column_order"),
                                             hide_index=kwargs["hide_index"])
    return where.dataframe(data, **kwargs)


LIST_ROWS = 1_000  # a work list shows this many rows, most urgent first; its download holds every row


def work_list(where, frame: pd.DataFrame, rows_called: str, **kwargs):
    """A work list that can run to tens of thousands of rows (stalled referrals, unheld journeys, bounced clients),
    ordered most urgent first: its first LIST_ROWS rows as a table, saying so when there are more, for its download
    (which the page offers beside it) holds all of them. The browser then gets a thousand rows, not 66,000 (0.3 s of
    each visit at 10M referrals)."""
    drawn = table(where, frame.head(LIST_ROWS), **kwargs)
    if len(frame) > LIST_ROWS:
        where.caption(f"The first {LIST_ROWS:,} of {len(frame):,} {rows_called} are listed here; the download has "
                      "every one.")
    return drawn


def pin_key_column(data, column_config=None, column_order=None, hide_index: bool = True) -> dict:
    """The column configuration with the first shown column pinned (its own configuration kept): the first of
    `column_order`, or of the frame's (or a Styler's frame's) columns, that the configuration does not hide. A
    shown index is the key itself, and Streamlit pins it already."""
    config = dict(column_config or {})
    if not hide_index:
        return config
    columns = list(getattr(data, "data", data).columns)  # a pandas Styler holds its frame in .data
    shown = [c for c in (column_order or columns) if c in columns and not (c in config and config[c] is None)]
    if not shown:
        return config
    key, current = shown[0], config.get(shown[0])
    config[key] = st.column_config.Column(current, pinned=True) if current is None or isinstance(current, str) \
        else {**current, "pinned": True}
    return config


def chart(where, fig, *args, **kwargs):
    """A chart and, one click under it, the figures it draws as a table (its text alternative:
    atlas.views.charts.figure_table), in `where` (st, a column or a tab); returns what st.plotly_chart returns."""
    from atlas.views import charts

    drawn = where.plotly_chart(fig, *args, **kwargs)
    figures = charts.figure_table(fig)
    if figures is not None:
        title = fig.layout.title.text or "this chart"
        table(where.expander(f"The figures of this chart: {escape.markdown(charts.plain(title))}",
                             icon=":material/table:"), figures)
    return drawn


@functools.cache
def _map_component():
    """The network map as a Streamlit component drawn in the page (no frame): one module whose code is the same
    on every visit, so the browser loads it once per tab and each visit of the page only draws its data (a
    fresh srcdoc frame re-read vis-network each time)."""
    from atlas.views import network  # igraph and friends load once, here or on the page

    script, stylesheet = network.map_component_sources()
    return st.components.v2.component("atlas_network_map", js=script, css=stylesheet)


def network_map(drawing, key: str):
    """Draw a map (atlas.views.network.MapDrawing) in the page, its legend above it."""
    return _map_component()(data=drawing.data(), key=key, height="content")


@contextlib.contextmanager
def progress_bar(starting: str):
    """A progress bar on the page for a long job (an import): yields the atlas.progress.Progress to hand the
    job; the bar shows the share done and, in words, what the job is doing, the rows read and checked, the
    rules checked, the problems found and the time left. It is removed when the job ends."""
    from atlas.progress import Progress

    bar = st.progress(0.0, text=starting)
    try:
        yield Progress(lambda step: bar.progress(step.done, text=escape.markdown(step.line())), every=0.25)
    finally:
        bar.empty()


def missing_data(page: str) -> None:
    """Say at the top of `page` which tables it uses were never loaded, and the file that adds each."""
    from atlas.views import missing

    for note in missing.notes(_opened().query("data_extent").iloc[0], page):
        st.info(note, icon=":material/dataset:")


# --------------------------------------------------------------------------------------------
# Who is looking
# --------------------------------------------------------------------------------------------

def _streamlit_has_auth() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sign_in_required() -> bool:
    """Sign-in is on when either our secrets file or Streamlit's secrets configure a provider."""
    return config.auth_configured() or _streamlit_has_auth()


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


def viewer() -> Audience:
    """The person at the screen and what they may see; draws the sign-in or no-access page and stops
    when there is nobody (yet) to show anything to. Called once per run, by the entrypoint."""
    if not sign_in_required():
        local = audience.local(config.local_roles())
        roles = " and ".join(sorted(r.value for r in local.roles))
        view = f"the {roles}'s view" if len(local.roles) == 1 else f"what the {roles} roles share"
        st.sidebar.warning(
            f"**Local single-user session** — you see {view} and no one signs in. Set up "
            "sign-in before sharing this dashboard (docs/security.md).", icon=":material/person:")
        return local
    if not st.user.is_logged_in:
        st.title("Collaboration Atlas")
        st.markdown("This dashboard holds information about people the community's agencies serve. "
                    "Sign in with your organisation's account to continue.")
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
        st.stop()
    groups = st.user.get("groups") or []
    person = audience.signed_in(st.user.get("email"), groups if isinstance(groups, list) else [groups],
                                config.role_mapping())
    st.sidebar.caption(f"Signed in as {escape.markdown(person.describe())}")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")
    if len(person.pages) == 1 and len(person.roles) > 1:  # Streamlit draws no navigation for one page
        st.sidebar.caption("Your roles share this one page only: where roles differ, the narrower view "
                           "applies.")
    if not person.pages:
        st.title("Collaboration Atlas")
        st.error(f"Your account ({person.who}) has no role in Collaboration Atlas, or its roles share no page. "
                 "Ask the administrator to add you as a director, board member or funder.",
                 icon=":material/block:")
        st.stop()
    return person


def current_audience() -> Audience:
    """The audience the entrypoint established for this run (established here if no entrypoint ran)."""
    return st.session_state.get("atlas_audience") or viewer()


def page_audience(page: str) -> Audience:
    """The audience of this run, checked at the top of every page: a page that is not part of the
    person's view says so and stops, however it was reached (the entrypoint's navigation only lists
    allowed pages; this also holds when a page runs on its own, as in Streamlit's legacy pages/ mode)."""
    person = current_audience()
    if not person.can_open(page):
        st.error("This page is not part of your view of Collaboration Atlas.", icon=":material/lock:")
        st.stop()
    return person


# --------------------------------------------------------------------------------------------
# Shared filters
# --------------------------------------------------------------------------------------------

def _data_days(extent: pd.Series) -> tuple[dt.date, dt.date] | None:
    """The first and last day of referral in the data (a `data_extent` row); None when it holds none."""
    if pd.isna(extent["first_referral"]):
        return None
    return pd.Timestamp(extent["first_referral"]).date(), pd.Timestamp(extent["last_referral"]).date()


def _reporting_periods(first: dt.date | None, last: dt.date | None) -> tuple[str, list]:
    """The deployment's period length and the whole periods of it the data covers; when there are
    none, the page says there is nothing to report, and stops."""
    length = config.reporting_period()
    periods = reporting_periods(first, last, length) if first else []
    if not periods:
        st.info(f"The data does not yet cover a whole calendar {length}: there is nothing to report yet.")
        st.stop()
    return length, periods


DEFAULT_PERIOD = "Last 12 months"  # the directors' period until they choose another


def sidebar_filters(db: CachedAtlas, viewer: Audience | None = None) -> Filters:
    """Draw the shared filters in the sidebar (their state persists across pages) and return them.

    Board and funder views choose among whole reporting periods of the whole network only."""
    extent = db.query("data_extent").iloc[0]
    days = _data_days(extent)
    if days is None:
        st.sidebar.info("The database holds no referrals yet.")
        return Filters()
    first, last = days
    if viewer is not None and viewer.restricted:
        return _reporting_period_filter(first, last)
    choices = db.query("filter_choices")

    def options(dimension: str) -> list[str]:
        # "" stands for all: a region, sector or service type is never empty
        return [""] + choices.loc[choices["dimension"] == dimension, "value"].tolist()

    def label(value: str) -> str:
        return vocab.label(value) if value else "All"

    sb = st.sidebar
    sb.header("Filters")
    preset = sb.selectbox("Period", PERIODS, index=PERIODS.index(DEFAULT_PERIOD), key="filter_period")
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
    sb.caption(f"Data runs {formats.span(first, last)}; latest activity {formats.moment(as_of)}.")
    return Filters(start, end, region or None, service or None, sector or None)


def _reporting_period_filter(first, last) -> Filters:
    length, periods = _reporting_periods(first, last)
    sb = st.sidebar
    sb.header("Reporting period")
    labels = [label for label, _, _ in periods]
    picked = sb.selectbox(f"Calendar {length}", labels, key="filter_reporting_period")
    _, start, end = periods[labels.index(picked)]
    sb.caption(f"Whole calendar {length}s of the whole network, so that no two choices can be compared to "
               f"work out a small number. Counts of fewer than {config.min_cell()} people are hidden.")
    return Filters(start, end, aligned=length)


def current_filters(person: Audience | None = None) -> Filters:
    """The filters the entrypoint drew for this run. A board or funder view only ever gets a whole
    reporting period of the whole network: the latest one when none was drawn."""
    filters = st.session_state.get("atlas_filters", Filters())
    if person is None or not person.restricted:
        return filters
    length = config.reporting_period()
    if filters.aligned == length and not (filters.region or filters.service_type or filters.sector):
        return filters
    _, periods = _reporting_periods(*(_data_days(require_database().query("data_extent").iloc[0]) or (None, None)))
    _, start, end = periods[0]
    return Filters(start, end, aligned=length)


def board_pack(filters: Filters) -> tuple[Filters | None, tuple | None]:
    """The board pack's period for the page's filters (the board's own whole period, or the latest whole one
    that ends by the filters' end) and its two deferred downloads (HTML, PDF), built on click with the
    board's protections whoever clicks; (None, None) when the data holds no whole period yet."""
    from atlas.packs import board

    days = _data_days(_opened().query("data_extent").iloc[0])
    if days is None:
        return None, None
    length = config.reporting_period()
    if not reporting_periods(days[0], days[1], length):
        return None, None
    period = board.for_board(filters, days[0], days[1], length)
    return period, board.deferred(database(), period, config.min_cell())


def keep_choices(*keys: str) -> None:
    """Keep the choices of widgets drawn in a page's sections while their section is closed (Streamlit
    forgets a widget's value at the end of a run that did not draw it, unless the value was set by the app)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


@contextlib.contextmanager
def folded(label: str, key: str, **kwargs):
    """An expander whose content is built and sent to the browser only while it is open (opening or closing
    it reruns the page), for what a page offers but few read on every visit: `with app.folded(...) as opened:`
    then draw only `if opened`. Its state is kept in the session under `key` (a test opens it with True)."""
    box = st.expander(label, key=key, on_change="rerun", **kwargs)
    with box:
        yield bool(box.open)


def sections(names: list[str], key: str):
    """A page's sections below its top, as tabs of which only the open one is drawn (its content is built
    and sent to the browser only when it is opened), so the top of a page never waits for them. Returns
    the open section's name and its container, which the page draws that section in.

    The open section is kept in the session under `key` (a test chooses one by setting it)."""
    tabs = st.tabs(names, key=key, on_change="rerun")
    opened = next((i for i, tab in enumerate(tabs) if tab.open), 0)
    return names[opened], tabs[opened]


# ------------------------------------------------------------------------------------------------
# Pages prepared ahead: each page's first view built in the background once per data version
# ------------------------------------------------------------------------------------------------

_PREPARED: set[tuple] = set()
_PREPARING = threading.Lock()


def default_views(viewer: Audience, first: dt.date, last: dt.date) -> list[tuple[str, tuple, dict]]:
    """The views this person's pages draw before any choice is made, as `view(builder, *args, **kwargs)`
    gets them: the default period (a director's last 12 months, the board's or funders' latest whole
    period) and each page's own defaults. The landing page comes last (its first visit builds it anyway)."""
    if viewer.restricted:
        length = config.reporting_period()
        periods = reporting_periods(first, last, length)
        if not periods:
            return []
        _, start, end = periods[0]
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
    days = _data_days(CachedAtlas(db).query("data_extent").iloc[0])
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
            built = _view(version, audience_key, builder, args, tuple(sorted(kwargs.items())))
            if builder == "bottlenecks.build":
                built.agency_table  # noqa: B018 - the section a first visit opens
        except Exception:  # the page builds it again, and says what is wrong
            continue
