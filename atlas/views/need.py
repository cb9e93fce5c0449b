"""The Directors' Need vs capacity page: where need and referral demand outrun the slots on offer.

`build(db, filters, region, service, measure)` gathers every section from named queries and returns
them ready to render. The numbers come from the queries (`need_vs_capacity`, `need_gaps`,
`sustained_gaps`, `service_line_utilization`, `shiftable_capacity`, `capacity_declines`); the
functions here only reshape them into tables and figures, and `forecast` makes the outlook. All of
them are pure and tested without Streamlit.

The gap of a region and service is measured by the **share of need unmet**: the people in need
beyond the slots on offer, month by month, over the people in need. Gaps are ranked by the lower
end of that share's 95 % Wilson interval (`unmet_share_low`), so that four people out of twelve do
not outrank a hundred out of a hundred and forty. Cells with no slots at all in the region are kept
apart: there is no program there to add slots to (clients may be referred to another region), and
their 100 % on a handful of people would hide the gaps that funding can close.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler
from plotly.colors import sample_colorscale

from atlas import escape, exports, formats
from atlas.filters import Filters
from atlas.views import suppression
from atlas.views.charts import COLORS, titled
from atlas.vocab import label as service_label

# The page's sections below its top (app.sections: each drawn only when opened), in order.
SECTIONS = [
    "Where the gaps are",
    "Utilization",
    "Two signals of scarcity",
    "Outlook",
    "Where to invest",
]

MEASURES = {"unmet_share": "Share of need unmet", "utilization": "Utilization (referrals per slot)"}
HORIZON = 3  # months of outlook
SEASON = 12
COVERAGE = 0.8  # of the outlook's band
HISTORY_SHOWN = 24  # months of history drawn before the outlook

NEED_COLOUR = COLORS["declined"]
DEMAND_COLOUR = COLORS["referred"]
CAPACITY_COLOUR = COLORS["accepted"]
GAP_FILL = "rgba(231, 111, 81, 0.28)"
SHARE_SCALE = [[0.0, "#f7f4ef"], [0.25, "#f4c7a1"], [0.5, "#e98a5f"], [0.75, "#c8553d"], [1.0, "#7f1d1d"]]
UTILIZATION_SCALE = [[0.0, "#2a9d8f"], [0.35, "#a8d5cf"], [0.5, "#f7f4ef"], [0.7, "#e98a5f"], [1.0, "#7f1d1d"]]
NO_SLOTS_COLOUR = "#d9d9d9"
CELL_TEXT = ("#000000", "#ffffff")  # black or white on a coloured cell: one of them reads at 4.5:1 on any colour

OVER_COLUMNS = {
    "name": "Agency", "service": "Service", "utilization": "Utilization", "months_over": "Months over capacity",
    "referrals": "Referrals", "slots": "Slots", "peak_utilization": "Fullest month", "region": "Region",
    "programs": "Programs",
}
SIGNAL_COLUMNS = {
    "region": "Region", "service": "Service", "utilization": "Utilization",
    "no_capacity_share": "No-capacity share of declines", "no_capacity": "Declined: no capacity",
    "declined": "Declined", "referrals": "Referrals",
}
INVEST_COLUMNS = {
    "region": "Region", "service": "Service", "slots_typical": "Slots to add (typical month)",
    "slots_worst": "Slots to add (worst month)", "unmet_share": "Share of need unmet", "unmet_need": "Unmet need",
    "need": "People in need", "capacity": "Slots offered", "need_per_slot": "People in need per slot",
    "short": "Months short",
}
NO_SLOT_COLUMNS = {"region": "Region", "service": "Service", "need": "People in need", "short": "Months short"}
OUTLOOK_COLUMNS = {
    "region": "Region", "service": "Service", "unmet_need": "Unmet need, next 3 months",
    "unmet_share": "Share of need unmet", "last_unmet_need": "Unmet need, last 3 months", "change": "Change",
    "need": "People in need", "capacity": "Slots", "demand": "Referrals expected",
}
PERCENT = {"Utilization", "Fullest month", "No-capacity share of declines", "Share of need unmet"}
ONE_DECIMAL = {"People in need per slot"}
WHOLE = {"Unmet need", "Unmet need, next 3 months", "Unmet need, last 3 months", "People in need", "Slots", "Referrals expected",
         "Slots a month that could move"}
SIGNED = {"Change"}


def cell_name(region: str, service: str) -> str:
    return f"{region} · {service_label(service).lower()}"


def styled(frame: pd.DataFrame) -> Styler:
    """A readable table for display: shares as percentages (atlas.formats), forecasts as whole people; the
    values underneath stay those of the query."""
    writers = {}
    for column in frame.columns:
        if column in PERCENT:
            writers[column] = formats.percent
        elif column in ONE_DECIMAL:
            writers[column] = "{:.1f}"
        elif column in SIGNED:
            writers[column] = "{:+,.0f}"
        elif column in WHOLE or pd.api.types.is_integer_dtype(frame[column]):
            writers[column] = "{:,.0f}"
    return frame.style.format(writers, na_rep=formats.MISSING)


# --------------------------------------------------------------------------------------------
# The outlook: a seasonal forecast, tested on series with a known pattern
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Forecast:
    """Forecasts of several monthly series at once: arrays of shape (series, horizon)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    method: str  # "seasonal" or "recent average"
    misses: int  # past forecasts (per series and horizon, at most) the band was sized from


def _point(values: np.ndarray, horizon: int, season: int, years: int, rule: str) -> tuple[np.ndarray, str]:
    """A forecasting rule on complete rows of monthly values (series × months).

    `seasonal`: with more than one season of history, each coming month is the average of the same
    month in up to `years` past years, each brought forward by the average year-on-year change of
    the last `season` months (a seasonal naive forecast with drift, averaged over years); with
    less, the average of the last three months (`recent average`). `carry`: the last month carried
    forward (slots follow funding decisions, not seasons of need).
    """
    series, n = values.shape
    if n == 0:
        return np.zeros((series, horizon)), "recent average" if rule == "seasonal" else rule
    if rule == "carry":
        return np.repeat(values[:, -1:], horizon, axis=1), "carry"
    if n <= season:
        level = values[:, -min(3, n):].mean(axis=1)
        return np.repeat(level[:, None], horizon, axis=1), "recent average"
    drift = (values[:, season:] - values[:, :-season])[:, -season:].mean(axis=1)
    out = np.empty((series, horizon))
    for h in range(1, horizon + 1):
        target = n - 1 + h
        back = [k for k in range(1, years + 1) if target - season * k >= 0]
        out[:, h - 1] = np.mean([values[:, target - season * k] + k * drift for k in back], axis=0)
    return out, "seasonal"


def forecast(values, horizon: int = HORIZON, season: int = SEASON, years: int = 3, coverage: float = COVERAGE,
             backtest: int = 12, rule: str = "seasonal") -> Forecast:
    """Forecast the next `horizon` months of each series (rows; a 1-D array is one series) by `rule`.

    The band: the same rule is replayed from each of the last `backtest` months (using only the
    months before it), and its misses at each horizon give a root-mean-square error; the band is
    the forecast ± z of that error, z for `coverage` of a normal distribution (1.28 for 80 %). With
    fewer than three such misses it falls back on the spread of the last `season` months. Counts
    cannot go below zero, so the forecast and the band are cut at 0.
    """
    if rule not in ("seasonal", "carry"):
        raise ValueError(f"unknown forecasting rule {rule!r}")
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    if horizon > season:
        raise ValueError("the horizon must not exceed the season")
    series, n = values.shape
    mean, method = _point(values, horizon, season, years, rule)
    first = season + 1 if method == "seasonal" else 1  # replay only where the same rule applies
    errors = [[] for _ in range(horizon)]
    for used in range(max(first, n - backtest), n):
        past, _ = _point(values[:, :used], horizon, season, years, rule)
        for h in range(horizon):
            if used + h < n:
                errors[h].append(values[:, used + h] - past[:, h])
    pooled = [e for per_h in errors for e in per_h]
    sigma = np.empty((series, horizon))
    for h in range(horizon):
        misses = errors[h] if len(errors[h]) >= 3 else pooled
        if len(misses) >= 3:
            sigma[:, h] = np.sqrt(np.mean(np.square(misses), axis=0))
        else:
            recent = values[:, -season:]
            sigma[:, h] = recent.std(axis=1, ddof=1) if recent.shape[1] >= 2 else 0.0
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    mean = np.maximum(mean, 0.0)
    return Forecast(mean=mean, low=np.maximum(mean - z * sigma, 0.0), high=mean + z * sigma, method=method,
                    misses=max((len(e) for e in errors), default=0))


def wilson_low(successes, trials):
    """Lower end of the Wilson score interval of successes / trials (NaN where there are no trials);
    the same measure as `unmet_share_low` in the gap queries (the wilson_low model macro)."""
    return suppression.wilson(successes, trials)[0]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def forecast_origin(end: dt.date | None, as_of) -> dt.date | None:
    """The last complete month (its first day) on or before the period's end, or else before `as_of`
    (the data's latest activity)."""
    if end is None:
        if as_of is None or pd.isna(as_of):
            return None
        end = pd.Timestamp(as_of).date()
    month = month_start(end)
    next_month = (pd.Timestamp(month) + pd.DateOffset(months=1)).date()
    if end < next_month - dt.timedelta(days=1):  # the end month is not complete
        month = (pd.Timestamp(month) - pd.DateOffset(months=1)).date()
    return month


def monthly_matrix(history: pd.DataFrame, column: str) -> pd.DataFrame:
    """Cells (region, service_type) × every month from the first to the last, missing months as 0."""
    months = pd.date_range(history["month"].min(), history["month"].max(), freq="MS")
    wide = history.pivot_table(index=["region", "service_type"], columns="month", values=column, aggfunc="sum")
    return wide.reindex(columns=months).fillna(0)


def outlook(history: pd.DataFrame, horizon: int = HORIZON) -> pd.DataFrame:
    """Forecast need, demand and capacity of every cell of `need_vs_capacity` rows for `horizon` months.

    Need and demand follow the `seasonal` rule; capacity is carried forward from the last month.
    One row per (region, service_type, month ahead): each measure with `_low` and `_high` (the band),
    and `unmet_need` = max(need − capacity, 0) of the point forecasts; `method` names need's rule.
    """
    columns = ["region", "service_type", "month", "step"]
    measures = ("need", "demand", "capacity")
    if history.empty:
        return pd.DataFrame(columns=columns + [f"{m}{s}" for m in measures for s in ("", "_low", "_high")]
                            + ["unmet_need", "method"])
    parts = []
    for measure in measures:
        wide = monthly_matrix(history, measure)
        fc = forecast(wide.to_numpy(), horizon, rule="carry" if measure == "capacity" else "seasonal")
        months = pd.date_range(wide.columns[-1], periods=horizon + 1, freq="MS")[1:]
        for label, block in (("", fc.mean), ("_low", fc.low), ("_high", fc.high)):
            frame = pd.DataFrame(block, index=wide.index, columns=months).stack()
            parts.append(frame.rename(measure + label))
        if measure == "need":
            method = fc.method
    out = pd.concat(parts, axis=1).reset_index()
    out.columns = ["region", "service_type", "month", *out.columns[3:]]
    out["step"] = out.groupby(["region", "service_type"]).cumcount() + 1
    out["unmet_need"] = (out["need"] - out["capacity"]).clip(lower=0)
    out["method"] = method
    return out[columns + [c for c in out.columns if c not in columns]]


def outlook_ranking(history: pd.DataFrame, ahead: pd.DataFrame, horizon: int = HORIZON) -> pd.DataFrame:
    """Where the gap will be largest next quarter: forecast unmet need over forecast need, by cell,
    beside the unmet need of the last `horizon` months. Cells forecast to have no slots are left
    out (see the module's note); ranked like the gap queries, by the lower end of the share's 95 %
    Wilson interval (`wilson_low`), then by people."""
    if ahead.empty:
        return pd.DataFrame(columns=list(dict.fromkeys(["region", "service_type", *OUTLOOK_COLUMNS, "unmet_share_low"])))
    keys = ["region", "service_type"]
    nxt = ahead.groupby(keys)[["need", "demand", "capacity", "unmet_need"]].sum()
    last_months = sorted(history["month"].unique())[-horizon:]
    recent = history[history["month"].isin(last_months)].groupby(keys)["unmet_need"].sum()
    nxt["last_unmet_need"] = recent.reindex(nxt.index).fillna(0)
    nxt = nxt[nxt["capacity"] > 0].reset_index()
    nxt["unmet_share"] = nxt["unmet_need"] / nxt["need"].where(nxt["need"] > 0)
    nxt["unmet_share_low"] = wilson_low(nxt["unmet_need"], nxt["need"])
    nxt["change"] = nxt["unmet_need"] - nxt["last_unmet_need"]
    nxt["service"] = nxt["service_type"].map(service_label)
    nxt = nxt[nxt["unmet_need"] > 0]
    return nxt.sort_values(["unmet_share_low", "unmet_need"], ascending=False, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Figures and tables
# --------------------------------------------------------------------------------------------

def axis_order(gaps: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Regions and service types, each ordered by its largest gap (`unmet_share_low`, cells with slots)."""
    scored = gaps.assign(score=gaps["unmet_share_low"].where(~gaps["no_slots"].astype(bool)).fillna(-1))
    regions = scored.groupby("region")["score"].max().sort_values(ascending=False, kind="stable")
    services = scored.groupby("service_type")["score"].max().sort_values(ascending=False, kind="stable")
    return regions.index.tolist(), services.index.tolist()


def _percent(value) -> str:
    return formats.percent(value)


GRID_REGION = "Region"  # the first column of the gap grid


def readable_text(background: str) -> str:
    """Black or white, whichever has the higher contrast (WCAG 2.1) on `background`, an "rgb(r, g, b)" or
    "#rrggbb" colour: one of the two reaches 4.5:1 on any colour (the page's own dark grey would not on a
    mid-tone)."""
    if background.startswith("#"):
        rgb = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        rgb = [float(v) for v in background[background.index("(") + 1:-1].split(",")]

    def luminance(channels) -> float:
        c = [v / 255 for v in channels]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    shade = luminance(rgb)
    black, white = CELL_TEXT
    return black if (shade + 0.05) / 0.05 >= 1.05 / (shade + 0.05) else white


def cell_colour(value: float, measure: str) -> str:
    """The colour of a cell of the gap grid: `value` on the measure's scale (SHARE_SCALE over 0 to 100 %,
    UTILIZATION_SCALE over 0 to 200 %, pale at 100 %)."""
    scale, top = (UTILIZATION_SCALE, 2.0) if measure == "utilization" else (SHARE_SCALE, 1.0)
    return sample_colorscale(scale, [min(max(float(value) / top, 0.0), 1.0)])[0]


def gap_grid(gaps: pd.DataFrame, measure: str) -> Styler:
    """Regions × service types as a table: a heatmap whose cells write their value. Each cell is coloured by the
    share of need unmet, or by utilization, and says it as text ("74.0%"), so that every value is read and not
    only seen (WCAG 1.4.1) and a screen reader reads what the eye does. A region with need for a service and no
    slots says "no slots" on grey; a cell with nothing recorded is empty. Rows and columns are in gap order
    (axis_order); the first column is the region, the others are named by service_label."""
    regions, services = axis_order(gaps)
    # each cell holds the words it shows: the table's screen-reader text is the cell's value, not a Styler's
    # display (a share would be read out as 0.7397260273972602)
    text = pd.DataFrame("", index=pd.RangeIndex(len(regions)), columns=services, dtype=object)
    styles = pd.DataFrame("", index=text.index, columns=[GRID_REGION, *services])
    row_of = {region: i for i, region in enumerate(regions)}
    for region, service, no_slots, need_, value in gaps[["region", "service_type", "no_slots", "need",
                                                        measure]].itertuples(index=False):
        i = row_of[region]
        if bool(no_slots):
            if need_ > 0:
                text.loc[i, service] = "no slots"
                styles.loc[i, service] = f"background-color: {NO_SLOTS_COLOUR}; color: {CELL_TEXT[0]}"
        elif pd.notna(value):
            text.loc[i, service] = formats.percent(value)
            shade = cell_colour(value, measure)
            styles.loc[i, service] = f"background-color: {shade}; color: {readable_text(shade)}"
    labels = {s: service_label(s) for s in services}  # the columns are named as people read them
    frame = pd.concat([pd.DataFrame({GRID_REGION: regions}), text], axis=1).rename(columns=labels)
    return frame.style.apply(lambda _: styles.to_numpy(), axis=None)


def grid_axes(gaps: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """The gap grid's rows (regions, in order) and its columns' services by their label: what grid_cell reads a
    selection with."""
    regions, services = axis_order(gaps)
    return regions, {service_label(s): s for s in services}


def grid_cell(cells, columns, axes: tuple[list[str], dict[str, str]]) -> tuple[str | None, str | None]:
    """The (region, service) chosen in the gap grid, from its selection as Streamlit gives it: a cell
    ([(row, column label)]) gives its row's region and its column's service (the region alone from the
    region's own column); a service's heading ([label]), selected or not beside a cell, gives the service alone.
    (None, None) for no selection or one out of reach."""
    regions, services = axes
    if columns:  # a heading clicked while a cell stays selected: the heading is the newer choice
        return None, services.get(columns[0])
    if cells:
        row, column = cells[0]
        if isinstance(row, int) and 0 <= row < len(regions):
            return regions[row], services.get(column)
    return None, None


def grid_selection(gaps: pd.DataFrame, region: str | None, service: str | None) -> dict:
    """The gap grid's selection (Streamlit's session state for it) that marks the chosen cell."""
    regions, services = grid_axes(gaps)
    labels = {s: label for label, s in services.items()}
    if region not in regions or service not in labels:
        return {"selection": {"rows": [], "columns": [], "cells": []}}
    return {"selection": {"rows": [], "columns": [], "cells": [(regions.index(region), labels[service])]}}


def cell_figures(gaps: pd.DataFrame, region: str, service: str) -> str | None:
    """The figures of one cell of the gap grid, as a line of Markdown: its need, slots and referrals, the
    unmet need, the months short and the utilization."""
    row = gaps[(gaps["region"] == region) & (gaps["service_type"] == service)]
    if row.empty:
        return None
    row = row.iloc[0]
    line = (f"**{escape.markdown(cell_name(region, service))}**: {row['need']:,} people in need, "
            f"{row['capacity']:,} slots and {row['demand']:,} referrals; unmet need {row['unmet_need']:,} "
            f"({_percent(row['unmet_share'])} of need), short in {row['short_months']} of {row['months']} months; "
            f"utilization {_percent(row['utilization'])} (referrals per slot).")
    if bool(row["no_slots"]):
        line += " No slots in this region: clients may be served in another."
    return line


def filled_cell(cell: pd.DataFrame) -> pd.DataFrame:
    """One cell's `need_vs_capacity` rows with every month from the first to the last (missing = 0)."""
    if cell.empty:
        return cell
    months = pd.date_range(cell["month"].min(), cell["month"].max(), freq="MS")
    out = cell.set_index("month").reindex(months)
    for column in ("need", "demand", "capacity", "unmet_need"):
        out[column] = out[column].fillna(0).astype("int64")
    out["region"], out["service_type"] = cell["region"].iloc[0], cell["service_type"].iloc[0]
    return out.rename_axis("month").reset_index()


def cell_chart(cell: pd.DataFrame, region: str, service: str) -> go.Figure:
    """Monthly need, referral demand and capacity of one cell; the unmet need above capacity shaded."""
    name = escape.html(cell_name(region, service))
    fig = go.Figure()
    fig.add_scatter(x=cell["month"], y=cell["capacity"], name="Slots (capacity)", mode="lines",
                    line=dict(color=CAPACITY_COLOUR, width=3, shape="hv"),
                    hovertemplate="%{y:,} slots<extra></extra>")
    fig.add_scatter(x=cell["month"], y=cell["capacity"] + cell["unmet_need"], name="Unmet need (gap)",
                    mode="lines", line=dict(width=0, shape="hv"), fill="tonexty", fillcolor=GAP_FILL,
                    customdata=cell["unmet_need"], hovertemplate="%{customdata:,} unmet<extra></extra>")
    fig.add_scatter(x=cell["month"], y=cell["need"], name="People in need", mode="lines+markers",
                    line=dict(color=NEED_COLOUR, width=2), hovertemplate="%{y:,} in need<extra></extra>")
    fig.add_scatter(x=cell["month"], y=cell["demand"], name="Referrals (demand)", mode="lines+markers",
                    line=dict(color=DEMAND_COLOUR, width=2, dash="dot"),
                    hovertemplate="%{y:,} referrals<extra></extra>")
    fig.update_yaxes(title_text="People / slots a month", rangemode="tozero")
    return titled(fig, f"{name}: need, referrals and slots by month")


def outlook_chart(history: pd.DataFrame, ahead: pd.DataFrame, region: str, service: str) -> go.Figure | None:
    """The last two years of one cell and the next three months forecast, with their bands."""
    past = filled_cell(history[(history["region"] == region) & (history["service_type"] == service)])
    nxt = ahead[(ahead["region"] == region) & (ahead["service_type"] == service)]
    if past.empty or nxt.empty:
        return None
    past = past.tail(HISTORY_SHOWN)
    fig = go.Figure()
    for measure, label, colour, dash in (("need", "People in need", NEED_COLOUR, "solid"),
                                         ("demand", "Referrals", DEMAND_COLOUR, "dot"),
                                         ("capacity", "Slots", CAPACITY_COLOUR, "solid")):
        fig.add_scatter(x=past["month"], y=past[measure], name=label, mode="lines", legendgroup=measure,
                        line=dict(color=colour, width=2, dash=dash), hovertemplate="%{y:,}<extra>" + label + "</extra>")
        if measure != "capacity":
            x = list(nxt["month"]) + list(nxt["month"])[::-1]
            y = list(nxt[f"{measure}_high"]) + list(nxt[f"{measure}_low"])[::-1]
            fig.add_scatter(x=x, y=y, mode="lines", fill="toself", fillcolor=_rgba(colour, 0.16), line=dict(width=0),
                            hoverinfo="skip", showlegend=False, legendgroup=measure, name=f"{label}: 80% range")
        bridge_x = [past["month"].iloc[-1], *nxt["month"]]
        bridge_y = [past[measure].iloc[-1], *nxt[measure]]
        fig.add_scatter(x=bridge_x, y=bridge_y, name=f"{label} (forecast)", mode="lines+markers", showlegend=False,
                        legendgroup=measure, line=dict(color=colour, width=2, dash="dash"),
                        customdata=np.c_[[np.nan, *nxt[f"{measure}_low"]], [np.nan, *nxt[f"{measure}_high"]]],
                        hovertemplate="%{y:,.0f} (80%: %{customdata[0]:,.0f}–%{customdata[1]:,.0f})<extra>"
                                      + label + " forecast</extra>")
    fig.add_vrect(x0=past["month"].iloc[-1], x1=nxt["month"].iloc[-1], fillcolor="#f1efe9", line_width=0,
                  layer="below", annotation_text="forecast", annotation_position="top left")
    fig.update_yaxes(title_text="People / slots a month", rangemode="tozero")
    return titled(fig, f"{escape.html(cell_name(region, service))}: the next three months")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def over_capacity(lines: pd.DataFrame) -> pd.DataFrame:
    """Agency service lines that received more referrals than they had slots over the period."""
    over = lines[lines["utilization"] > 1].copy()
    over["service"] = over["service_type"].map(service_label)
    over["months_over"] = [f"{o} of {m}" for o, m in zip(over["months_over"], over["months"])]
    return over[list(OVER_COLUMNS)].rename(columns=OVER_COLUMNS).reset_index(drop=True)


def _places(regions: pd.Series, amounts: pd.Series, top: int = 3) -> str:
    """`Westhaven (42), Millbrook (24), Northfield (10) and 2 more`: the largest first, whole slots."""
    named = [f"{r} ({v:,.0f})" for r, v in zip(regions, amounts)]
    more = len(named) - top
    return ", ".join(named[:top]) + (f" and {more} more" if more > 0 else "")


def shift_table(shifts: pd.DataFrame, min_slots: float = 0.5) -> pd.DataFrame:
    """Per service type: slots a month that could move, where they sit spare and where need goes unmet
    (regions with at least half a slot a month, the largest three named)."""
    rows = []
    for service, part in shifts.groupby("service_type", sort=False):
        could = part["shiftable_slots"].iloc[0]
        if could < min_slots:
            continue
        spare = part[part["spare_slots"] >= 0.5].sort_values("spare_slots", ascending=False)
        short = part[part["unmet_need"] >= 0.5].sort_values("unmet_need", ascending=False)
        rows.append({
            "Service": service_label(service),
            "Slots a month that could move": could,
            "Unmet need a month in": _places(short["region"], short["unmet_need"]),
            "Spare slots a month in": _places(spare["region"], spare["spare_slots"]),
        })
    return pd.DataFrame(rows, columns=["Service", "Slots a month that could move", "Unmet need a month in",
                                       "Spare slots a month in"])


def signals(declines: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """No-capacity declines (capacity_declines) beside utilization (need_gaps), by region and service,
    most no-capacity declines first."""
    both = declines.merge(gaps[["region", "service_type", "utilization", "capacity", "over_months", "months"]],
                          how="left",
                          on=["region", "service_type"])
    both["service"] = both["service_type"].map(service_label)
    return both.sort_values(["no_capacity", "no_capacity_share"], ascending=False, ignore_index=True)


def signals_chart(both: pd.DataFrame) -> go.Figure:
    """One point per region and service: utilization across, no-capacity share of declines up."""
    shown = both[(both["declined"] > 0) & both["utilization"].notna()]
    declined = both["declined"].sum()
    network = both["no_capacity"].sum() / declined if declined else None
    hover = [f"<b>{escape.html(r)} · {escape.html(s)}</b><br>Utilization {formats.percent(u)} · {n:,} of {d:,} declines "
             f"for no capacity ({formats.percent(sh)})"
             for r, s, u, n, d, sh in zip(shown["region"], shown["service"], shown["utilization"],
                                          shown["no_capacity"], shown["declined"], shown["no_capacity_share"])]
    fig = go.Figure()
    fig.add_scatter(x=shown["utilization"], y=shown["no_capacity_share"], mode="markers", name="Region · service",
                    marker=dict(size=np.clip(np.sqrt(shown["declined"].astype(float)) * 2.2, 6, 40),
                                color=shown["utilization"].clip(upper=2), colorscale=UTILIZATION_SCALE, cmin=0,
                                cmax=2, line=dict(color="#555", width=0.5), opacity=0.85),
                    hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", showlegend=False)
    fig.add_vline(x=1, line=dict(color="#888", dash="dash"), annotation_text="100% of slots",
                  annotation_position="top right")
    if network is not None:
        fig.add_hline(y=network, line=dict(color="#888", dash="dot"),
                      annotation_text=f"network: {formats.percent(network)} of declines", annotation_position="bottom right")
    fig.update_xaxes(title_text="Utilization (referrals per slot)", tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(title_text="Declines for no capacity", tickformat=".0%", range=[-0.03, 1.05])
    titled(fig, "Two signals of scarcity: full slots and 'no capacity' declines")
    fig.update_layout(hovermode="closest", height=430)
    return fig


def agreement(both: pd.DataFrame, min_declined: int = 10) -> str | None:
    """Whether the two signals agree: of the cells whose referrals exceeded their slots, how many also
    declined a larger share for 'no capacity' than the network; and which cells (with at least
    `min_declined` declines) often declined for 'no capacity' although their slots were not full.
    Names are Markdown-escaped."""
    declined = both["declined"].sum()
    if not declined:
        return None
    network = both["no_capacity"].sum() / declined
    full = both[(both["utilization"] > 1) & (both["declined"] > 0)]
    agree = full[full["no_capacity_share"] > network]
    text = ""
    if len(full):
        text = (f"Of the {len(full):,} region·services whose referrals exceeded their slots, {len(agree):,} also "
                f"declined a larger share for 'no capacity' than the network ({formats.percent(network)} of declines).")
    odd = both[(both["utilization"] <= 1) & (both["declined"] >= min_declined)
               & (both["no_capacity_share"] >= 2 * network)].sort_values("no_capacity", ascending=False)
    if len(odd):
        names = ", ".join(
            f"**{escape.markdown(cell_name(r, s))}** ({f'over its slots in {o:,} of {m:,} months' if o else 'never over'})"
            for r, s, o, m in zip(odd["region"], odd["service_type"], odd["over_months"], odd["months"]))
        text += (f" Others declined often for 'no capacity' although their slots were not full over the period as a "
                 f"whole: {names}. Look for peaks (winter, for shelters) or for slots on paper that are not really "
                 "available.")
    return text.strip() or None


def invest_table(sustained: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sustained gaps that slots would close (readable headings), and those with no slots at all."""
    out = sustained.copy()
    out["service"] = out["service_type"].map(service_label)
    out["short"] = [f"{s} of {w}" for s, w in zip(out["short_months"], out["window_months"])]
    funded = out[~out["no_slots"].astype(bool)]
    none = out[out["no_slots"].astype(bool)]
    return (funded[list(INVEST_COLUMNS)].rename(columns=INVEST_COLUMNS).reset_index(drop=True),
            none[list(NO_SLOT_COLUMNS)].rename(columns=NO_SLOT_COLUMNS).reset_index(drop=True))


def invest_download(sustained: pd.DataFrame) -> bytes:
    """Every sustained gap as a formula-safe CSV, with the window it was judged on."""
    out = sustained.copy()
    out["service"] = out["service_type"].map(service_label)
    out["short"] = [f"{s} of {w}" for s, w in zip(out["short_months"], out["window_months"])]
    out["No slots in the region"] = np.where(out["no_slots"].astype(bool), "yes", "no")
    out["From"] = pd.to_datetime(out["window_start"]).dt.strftime("%Y-%m")
    out["To"] = pd.to_datetime(out["window_end"]).dt.strftime("%Y-%m")
    shown = out[list(INVEST_COLUMNS) + ["No slots in the region", "From", "To"]].rename(columns=INVEST_COLUMNS)
    return exports.safe_csv(shown)


def outlook_table(ranking: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    return ranking.head(top)[list(OUTLOOK_COLUMNS)].rename(columns=OUTLOOK_COLUMNS)


def reading(sustained: pd.DataFrame, over: pd.DataFrame, shifts: pd.DataFrame, ranking: pd.DataFrame,
            quarter: str | None, min_referrals: int = 20) -> list[str]:
    """Plain-language findings for the top of the page (names Markdown-escaped). The fullest service
    line named is among those with at least `min_referrals` referrals, as on the Bottlenecks page."""
    lines = []
    funded = sustained[~sustained["no_slots"].astype(bool)]
    if len(funded):
        top = funded.iloc[0]
        months = int(top["window_months"])
        lines.append(
            f"**{escape.markdown(cell_name(top['region'], top['service_type']))}** has the largest sustained gap: "
            f"{formats.percent(top['unmet_share'])} of the people in need had no slot over the last {months} months "
            f"({top['need_per_slot']:.1f} people in need per slot); about {top['slots_typical']:,} more slots "
            f"a month would close it.")
    else:
        lines.append("No gap between need and slots persisted through the last months of the period.")
    if len(over):
        text = f"{len(over):,} agency service lines received more referrals than they had slots"
        judged = over[over["Referrals"] >= min_referrals]
        if len(judged):
            fullest = judged.iloc[0]
            text += (f"; the fullest with at least {min_referrals} referrals is "
                     f"**{escape.markdown(fullest['Agency'])}** ({escape.markdown(fullest['Service'].lower())}, "
                     f"{formats.percent(fullest['Utilization'])} of its slots)")
        lines.append(text + ".")
    if len(shifts):
        total = shifts["Slots a month that could move"].sum()
        first = shifts.iloc[0]
        lines.append(f"About {total:,.0f} slots a month sit spare in one region while need goes unmet in another — "
                     f"most in **{escape.markdown(first['Service'].lower())}** ({first['Slots a month that could move']:,.0f}"
                     " a month): a shift of slots, not new money.")
    if len(ranking) and quarter:
        top = ranking.iloc[0]
        text = (f"In {quarter} the gap is forecast to be largest in "
                f"**{escape.markdown(cell_name(top['region'], top['service_type']))}** "
                f"({formats.percent(top['unmet_share'])} of need unmet)")
        rising = ranking.head(10).sort_values("change", ascending=False).iloc[0]  # among the cells shown
        if rising["change"] >= 1 and (rising["region"], rising["service_type"]) != (top["region"], top["service_type"]):
            text += (f"; it grows most in **{escape.markdown(cell_name(rising['region'], rising['service_type']))}**"
                     f" (+{rising['change']:,.0f} people on the last three months)")
        lines.append(text + ".")
    return lines


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NeedView:
    gaps: pd.DataFrame  # need_gaps
    regions: list[str]  # options for the chosen cell, gap order
    services: list[str]
    region: str | None  # the chosen cell
    service: str | None
    measure: str
    cell: pd.DataFrame  # need_vs_capacity of the chosen cell, every month filled
    cell_chart: go.Figure | None
    grid: Styler | None  # gap_grid: regions × services, coloured by the measure
    figures: str | None  # cell_figures of the chosen cell
    lines: pd.DataFrame  # service_line_utilization
    over: pd.DataFrame  # the lines above 100 %, readable
    unrecorded: int  # lines with referrals and no slots recorded
    shifts: pd.DataFrame  # shift_table of shiftable_capacity
    signals: pd.DataFrame  # capacity_declines beside utilization
    signals_chart: go.Figure | None
    agreement: str | None  # whether the two signals agree, Markdown
    origin: dt.date | None  # the last complete month the outlook starts from
    quarter: str | None  # the months forecast, e.g. "Jan–Mar 2026"
    method: str | None
    ahead: pd.DataFrame  # outlook() of every cell
    outlook_chart: go.Figure | None
    outlook: pd.DataFrame  # outlook_ranking, readable, top 10
    invest: pd.DataFrame  # sustained gaps slots would close, readable
    no_slots: pd.DataFrame  # sustained gaps in regions with no slots at all
    invest_csv: bytes
    window: str | None  # the months the sustained gaps were judged on, e.g. "Sep–Dec 2025"
    window_months: int | None
    reading: list[str]


def _quarter(months: list) -> str | None:
    if not months:
        return None
    first, last = pd.Timestamp(months[0]), pd.Timestamp(months[-1])
    if first.year == last.year:
        return f"{first:%b}–{last:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"


def build(db, filters: Filters, region: str | None = None, service: str | None = None,
          measure: str = "unmet_share") -> NeedView:
    """Every section of the page for the filters; (region, service) picks the cell the charts follow
    (default: the largest gap), `measure` what colours the gap grid."""
    measure = measure if measure in MEASURES else "unmet_share"
    gaps = db.query("need_gaps", **filters.params_for("need_gaps"))
    regions, services = axis_order(gaps) if len(gaps) else ([], [])
    ranked = gaps[~gaps["no_slots"].astype(bool)]
    default = ranked.iloc[0] if len(ranked) else (gaps.iloc[0] if len(gaps) else None)
    if region not in regions:
        region = default["region"] if default is not None else None
    if service not in services:
        service = default["service_type"] if default is not None else None

    cell = pd.DataFrame()
    if region and service:
        cell = filled_cell(db.query("need_vs_capacity", **{**filters.params_for("need_vs_capacity"),
                                                           "region": region, "service_type": service}))

    lines = db.query("service_line_utilization", **filters.params_for("service_line_utilization"))
    over = over_capacity(lines)
    shifts = shift_table(db.query("shiftable_capacity", **filters.params_for("shiftable_capacity")))
    both = signals(db.query("capacity_declines", **filters.params_for("capacity_declines")), gaps)

    extent = db.query("data_extent").iloc[0]
    origin = forecast_origin(filters.end, extent["as_of"])
    history = pd.DataFrame()
    if origin is not None:
        history = db.query("need_vs_capacity", **{**filters.params_for("need_vs_capacity"), "start": None,
                                                  "end": origin})
    ahead = outlook(history)
    ranking = outlook_ranking(history, ahead)
    months = sorted(ahead["month"].unique()) if len(ahead) else []

    sustained = db.query("sustained_gaps", **filters.params_for("sustained_gaps"))
    invest, none = invest_table(sustained)
    window = window_months = None
    if len(sustained):
        first, last = (pd.Timestamp(sustained[c].iloc[0]) for c in ("window_start", "window_end"))
        window, window_months = _quarter([first, last]), int(sustained["window_months"].iloc[0])
    quarter = _quarter(months)
    return NeedView(
        gaps=gaps, regions=regions, services=services, region=region, service=service, measure=measure,
        cell=cell,
        cell_chart=cell_chart(cell, region, service) if len(cell) else None,
        grid=gap_grid(gaps, measure) if len(gaps) else None,
        figures=cell_figures(gaps, region, service) if region and service else None,
        lines=lines, over=over,
        unrecorded=int(((lines["slots"] == 0) & (lines["referrals"] > 0)).sum()),
        shifts=shifts, signals=both,
        signals_chart=signals_chart(both) if both["utilization"].notna().any() else None,
        agreement=agreement(both),
        origin=origin, quarter=quarter, method=ahead["method"].iloc[0] if len(ahead) else None,
        ahead=ahead,
        outlook_chart=outlook_chart(history, ahead, region, service) if len(ahead) and region else None,
        outlook=outlook_table(ranking),
        invest=invest, no_slots=none, invest_csv=invest_download(sustained), window=window,
        window_months=window_months,
        reading=reading(sustained, over, shifts, ranking, quarter),
    )
