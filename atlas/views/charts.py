"""Plotly figures, built from query results by pure functions (no Streamlit), and `Drawn`, what lets a view
hold data and draw its figures on first use (presenting layer, shared by the views)."""

from __future__ import annotations

import html
import numbers
import re
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Every figure's look. Set once as the default: naming the template on each figure made plotly copy and
# re-validate the whole template every time (25-40 ms a figure, a third of the Bottlenecks page's build).
pio.templates.default = "plotly_white"

COLORS = {"accepted": "#2a9d8f", "declined": "#e76f51", "pending": "#e9c46a", "referred": "#264653"}


class Drawn:
    """A view that holds data and draws from it: its figures and tables (plotly figures, pandas Stylers) are
    cached properties, each drawn once, on first use. Its pickle holds the data only, so the view can be cached
    as data; a copy read back from the cache draws again what it needs."""

    def __getstate__(self) -> dict:
        drawn = {name for klass in type(self).__mro__ for name, value in vars(klass).items()
                 if isinstance(value, cached_property)}
        return {name: value for name, value in self.__dict__.items() if name not in drawn}


def titled(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        hovermode="x unified",
    )
    return fig


def monthly_axis(fig: go.Figure, months: pd.Series) -> go.Figure:
    """Label a month axis by month ("Oct 2025"), one tick per month up to a year's worth and every k-th
    month beyond. Left to itself, plotly labels a short span by days ("Oct 1 2025, Oct 31, Nov 30")."""
    count = max(1, months.nunique())
    step = -(-count // 12)  # ceil: at most about twelve labels
    fig.update_xaxes(dtick=f"M{step}", tickformat="%b %Y", ticklabelmode="instant")
    return fig


def referral_trend(trend: pd.DataFrame) -> go.Figure:
    """Monthly referrals stacked by what became of them (from the `referral_trend` query)."""
    fig = go.Figure()
    for status in ("accepted", "declined", "pending"):
        fig.add_bar(x=trend["month"], y=trend[status], name=status.capitalize(),
                    marker_color=COLORS[status],
                    hovertemplate="%{y:,} " + status + "<extra></extra>")
    fig.update_layout(barmode="stack", yaxis_title="Referrals", xaxis_title=None)
    return titled(monthly_axis(fig, trend["month"]), "Referrals by month and what became of them")


def plain(text) -> str:
    """Plotly text as plain text: the first line, without its markup (<br>, <b>, <sup>), and with the entities the
    app escaped names into (atlas.escape.html) read back, so a table shows a name as the text it is."""
    if not isinstance(text, str):
        return text
    return html.unescape(re.sub(r"<[^>]+>", " ", text.split("<br>")[0])).strip()


def _rounded(value) -> str:
    """A figure of a chart as the pages write it: a count with separators, a measure to one decimal."""
    from atlas import formats

    if value is None or (isinstance(value, numbers.Real) and value != value):
        return formats.MISSING
    return formats.count(value) if float(value).is_integer() else f"{float(value):,.1f}"


def figure_table(fig: go.Figure) -> pd.DataFrame | None:
    """The figures a chart draws, as a table: its text alternative, for a person who cannot see the chart (the
    pages put it one click under each chart). One row per category or date of the chart's axis, one column per
    series (bars, lines, dots, funnel stages), shares written as percentages (atlas.formats); a heatmap gives one
    row per row of cells, a flow diagram one row per flow. Traces that draw no figures of their own (reference
    lines, legend entries) are left out. None when there is nothing to tabulate."""
    from atlas import formats

    columns: dict[str, pd.Series] = {}
    key_title = ""
    for i, trace in enumerate(fig.data):
        kind = trace.type
        if kind == "sankey":
            labels = list(trace.node.label)
            link = trace.link
            return pd.DataFrame({"From": [plain(labels[k]) for k in link.source],
                                 "To": [plain(labels[k]) for k in link.target],
                                 "Count": [formats.count(v) for v in link.value]})
        if kind == "heatmap" and trace.z is not None and trace.x is not None and trace.y is not None:
            if trace.hoverinfo == "skip" and trace.showscale is False:
                continue  # a layer that only paints empty cells
            share = bool(trace.colorbar and trace.colorbar.tickformat and "%" in trace.colorbar.tickformat)
            frame = pd.DataFrame([[formats.percent(v) if share else _rounded(v) for v in row] for row in trace.z],
                                 index=[plain(k) for k in trace.y], columns=[plain(k) for k in trace.x])
            return frame.rename_axis(fig.layout.yaxis.title.text or "Row").fillna(formats.MISSING).reset_index()
        if kind not in ("bar", "scatter", "funnel") or trace.x is None or trace.y is None:
            continue
        x, y = list(trace.x), list(trace.y)
        def numeric(values) -> bool:
            return bool(values) and all(v is None or isinstance(v, numbers.Number) for v in values)

        horizontal = (trace.orientation == "h" if getattr(trace, "orientation", None) else
                      kind == "funnel" or (numeric(x) and not numeric(y)))
        keys, values = (y, x) if horizontal else (x, y)
        if not keys or all(k is None for k in keys) or len(keys) != len(values) or not numeric(values):
            continue
        axis = fig.layout[(getattr(trace, "xaxis" if horizontal else "yaxis", None) or ("x" if horizontal else "y"))
                          .replace("x", "xaxis").replace("y", "yaxis")]
        share = bool(axis.tickformat and "%" in axis.tickformat)
        series = pd.Series([formats.percent(v) if share else _rounded(v) for v in values], index=[plain(k) for k in keys])
        series = series[~series.index.duplicated()]
        name = plain(trace.name) or (fig.layout.yaxis.title.text if not horizontal else fig.layout.xaxis.title.text) \
            or f"Series {i + 1}"
        panel = int((getattr(trace, "xaxis", None) or "x")[1:] or 1) - 1  # side-by-side panels: named by their titles
        if panel and len(fig.layout.annotations) > panel or (panel == 0 and getattr(trace, "xaxis", None)
                                                              and len(fig.layout.annotations) > 1):
            name = f"{name} — {plain(fig.layout.annotations[panel].text)}"
        while name in columns:
            name += " "
        columns[name] = series
        key_axis = fig.layout.yaxis if horizontal else fig.layout.xaxis
        key_title = key_title or key_axis.title.text or ""
    if not columns:
        return None
    table = pd.DataFrame(columns)
    if isinstance(table.index, pd.DatetimeIndex) or all(isinstance(k, (pd.Timestamp,)) for k in table.index):
        table.index = [formats.month(k) for k in table.index]
        key_title = key_title or "Month"
    table.index.name = key_title or "Category"
    return table.fillna(formats.MISSING).reset_index()
