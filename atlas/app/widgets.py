"""How every page draws its parts: tables (key column pinned), work lists, charts with their figures as a
table, the network map's component, a progress bar, notes of missing data, and sections built only while
open. Layer: the Streamlit glue (atlas.app), the presenting side the pages lay out with."""

from __future__ import annotations

import contextlib
import functools

import pandas as pd
import streamlit as st

from atlas import escape
from atlas.app.cache import opened


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

    for note in missing.notes(opened().query("data_extent").iloc[0], page):
        st.info(note, icon=":material/dataset:")


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
    shown = next((i for i, tab in enumerate(tabs) if tab.open), 0)
    return names[shown], tabs[shown]
