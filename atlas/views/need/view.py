"""The Directors' Need vs capacity page, its loading layer: `build` reads the named queries
(`need_gaps`, `need_vs_capacity`, `service_line_utilization`, `shiftable_capacity`, `capacity_declines`,
`sustained_gaps`, `data_extent`) once for the filters and returns a `NeedView` of data: frames, numbers and
words. Its charts and the gap grid are drawn from that data on first use (atlas.views.charts.Drawn), so the
view pickles as data. Pure: no Streamlit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go
from pandas.io.formats.style import Styler

from atlas.filters import Filters
from atlas.views.charts import Drawn
from atlas.views.need.gaps import axis_order, chosen_cell, filled_cell, signals, unrecorded
from atlas.views.need.plots import cell_chart, outlook_chart, signals_chart
from atlas.views.need.seasonal import forecast_origin, outlook, outlook_ranking
from atlas.views.need.tables import (
    gap_grid,
    grid_axes,
    grid_selection,
    invest_download,
    invest_table,
    outlook_table,
    over_capacity,
    shift_table,
)
from atlas.views.need.words import agreement, cell_figures, months_span, reading

# The page's sections below its top (app.sections: each drawn only when opened), in order.
SECTIONS = [
    "Where the gaps are",
    "Utilization",
    "Two signals of scarcity",
    "Outlook",
    "Where to invest",
]

MEASURES = {"unmet_share": "Share of need unmet", "utilization": "Utilization (referrals per slot)"}


@dataclass(frozen=True)
class NeedView(Drawn):
    gaps: pd.DataFrame  # need_gaps
    regions: list[str]  # options for the chosen cell, gap order
    services: list[str]
    region: str | None  # the chosen cell
    service: str | None
    measure: str
    cell: pd.DataFrame  # need_vs_capacity of the chosen cell, every month filled
    figures: str | None  # cell_figures of the chosen cell
    lines: pd.DataFrame  # service_line_utilization
    over: pd.DataFrame  # the lines above 100 %, readable
    unrecorded: int  # lines with referrals and no slots recorded
    shifts: pd.DataFrame  # shift_table of shiftable_capacity
    signals: pd.DataFrame  # capacity_declines beside utilization
    agreement: str | None  # whether the two signals agree, Markdown
    origin: dt.date | None  # the last complete month the outlook starts from
    quarter: str | None  # the months forecast, e.g. "Jan–Mar 2026"
    method: str | None
    ahead: pd.DataFrame  # outlook() of every cell
    cell_history: pd.DataFrame  # need_vs_capacity of the chosen cell up to the outlook's origin
    outlook: pd.DataFrame  # outlook_ranking, readable, top 10
    invest: pd.DataFrame  # sustained gaps slots would close, readable
    no_slots: pd.DataFrame  # sustained gaps in regions with no slots at all
    invest_csv: bytes
    window: str | None  # the months the sustained gaps were judged on, e.g. "Sep–Dec 2025"
    window_months: int | None
    reading: list[str]

    @cached_property
    def cell_chart(self) -> go.Figure | None:
        return cell_chart(self.cell, self.region, self.service) if len(self.cell) else None

    @cached_property
    def grid(self) -> Styler | None:  # gap_grid: regions × services, coloured by the measure
        return gap_grid(self.gaps, self.measure) if len(self.gaps) else None

    # a fresh one on each read: the page hands them to Streamlit's session state, which may change them
    @property
    def grid_axes(self) -> tuple[list[str], dict[str, str]]:  # what need.grid_cell reads the grid's selection with
        return grid_axes(self.gaps)

    @property
    def grid_selection(self) -> dict:  # the grid's selection that marks the chosen cell
        return grid_selection(self.gaps, self.region, self.service)

    @cached_property
    def signals_chart(self) -> go.Figure | None:
        return signals_chart(self.signals) if self.signals["utilization"].notna().any() else None

    @cached_property
    def outlook_chart(self) -> go.Figure | None:
        if not (len(self.ahead) and self.region):
            return None
        return outlook_chart(self.cell_history, self.ahead, self.region, self.service)


def _outlook(db, filters: Filters) -> tuple[dt.date | None, pd.DataFrame]:
    """The last complete month of the period (or of the data) and every cell's months up to it."""
    extent = db.query("data_extent").iloc[0]
    origin = forecast_origin(filters.end, extent["as_of"])
    history = pd.DataFrame()
    if origin is not None:
        history = db.query("need_vs_capacity", **{**filters.params_for("need_vs_capacity"), "start": None,
                                                  "end": origin})
    return origin, history


def _window(sustained: pd.DataFrame) -> tuple[str | None, int | None]:
    """The months the sustained gaps were judged on, and how many."""
    if not len(sustained):
        return None, None
    first, last = (pd.Timestamp(sustained[c].iloc[0]) for c in ("window_start", "window_end"))
    return months_span([first, last]), int(sustained["window_months"].iloc[0])


def build(db, filters: Filters, region: str | None = None, service: str | None = None,
          measure: str = "unmet_share") -> NeedView:
    """Every section of the page for the filters; (region, service) picks the cell the charts follow
    (default: the largest gap), `measure` what colours the gap grid."""
    measure = measure if measure in MEASURES else "unmet_share"
    gaps = db.query("need_gaps", **filters.params_for("need_gaps"))
    regions, services = axis_order(gaps) if len(gaps) else ([], [])
    region, service = chosen_cell(gaps, regions, services, region, service)
    cell = pd.DataFrame()
    if region and service:
        cell = filled_cell(db.query("need_vs_capacity", **{**filters.params_for("need_vs_capacity"),
                                                           "region": region, "service_type": service}))

    lines = db.query("service_line_utilization", **filters.params_for("service_line_utilization"))
    over = over_capacity(lines)
    shifts = shift_table(db.query("shiftable_capacity", **filters.params_for("shiftable_capacity")))
    both = signals(db.query("capacity_declines", **filters.params_for("capacity_declines")), gaps)

    origin, history = _outlook(db, filters)
    ahead = outlook(history)
    ranking = outlook_ranking(history, ahead)
    quarter = months_span(sorted(ahead["month"].unique()) if len(ahead) else [])
    in_cell = history[(history["region"] == region) & (history["service_type"] == service)] if len(history) \
        else history

    sustained = db.query("sustained_gaps", **filters.params_for("sustained_gaps"))
    invest, none = invest_table(sustained)
    window, window_months = _window(sustained)
    return NeedView(
        gaps=gaps, regions=regions, services=services, region=region, service=service, measure=measure,
        cell=cell, figures=cell_figures(gaps, region, service) if region and service else None,
        lines=lines, over=over, unrecorded=unrecorded(lines), shifts=shifts, signals=both, agreement=agreement(both),
        origin=origin, quarter=quarter, method=ahead["method"].iloc[0] if len(ahead) else None,
        ahead=ahead, cell_history=in_cell, outlook=outlook_table(ranking),
        invest=invest, no_slots=none, invest_csv=invest_download(sustained), window=window,
        window_months=window_months, reading=reading(sustained, over, shifts, ranking, quarter),
    )
