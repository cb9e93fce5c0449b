"""The Directors' Need vs capacity page: where need and referral demand outrun the slots on offer, and where
they will next. One package in three layers:

* loading, `view`: `build(db, filters, region, service, measure)` reads the named queries once and returns a
  `NeedView` of data, whose charts and gap grid are drawn on first use;
* computing, `gaps` (the gap of a cell, its months, the two signals of scarcity) and `seasonal` (the
  forecast and the outlook): pure functions over frames;
* presenting, `plots` (plotly figures), `tables` (the gap grid, readable tables, display formats, the CSV)
  and `words` (sentences).

Every name the pages, the tests and the other modules use is here, as `need.X`.
"""

from atlas.views.need.gaps import axis_order, chosen_cell, filled_cell, signals, unrecorded
from atlas.views.need.plots import (
    CAPACITY_COLOUR,
    DEMAND_COLOUR,
    GAP_FILL,
    HISTORY_SHOWN,
    NEED_COLOUR,
    SHARE_SCALE,
    UTILIZATION_SCALE,
    cell_chart,
    outlook_chart,
    signals_chart,
)
from atlas.views.need.seasonal import (
    COVERAGE,
    HORIZON,
    OUTLOOK_COLUMNS,
    SEASON,
    Forecast,
    forecast,
    forecast_origin,
    month_start,
    monthly_matrix,
    outlook,
    outlook_ranking,
    wilson_low,
)
from atlas.views.need.tables import (
    CELL_TEXT,
    GRID_REGION,
    INVEST_COLUMNS,
    NO_SLOT_COLUMNS,
    NO_SLOTS_COLOUR,
    ONE_DECIMAL,
    OVER_COLUMNS,
    PERCENT,
    SIGNAL_COLUMNS,
    SIGNED,
    WHOLE,
    cell_colour,
    gap_grid,
    grid_axes,
    grid_cell,
    grid_selection,
    invest_download,
    invest_table,
    outlook_table,
    over_capacity,
    readable_text,
    shift_table,
    signal_table,
    styled,
)
from atlas.views.need.view import MEASURES, SECTIONS, NeedView, build
from atlas.views.need.words import agreement, cell_figures, cell_name, months_span, reading
from atlas.vocab import label as service_label

__all__ = [
    "CAPACITY_COLOUR", "CELL_TEXT", "COVERAGE", "DEMAND_COLOUR", "GAP_FILL", "GRID_REGION", "HISTORY_SHOWN",
    "HORIZON", "INVEST_COLUMNS", "MEASURES", "NEED_COLOUR", "NO_SLOTS_COLOUR", "NO_SLOT_COLUMNS", "ONE_DECIMAL",
    "OUTLOOK_COLUMNS", "OVER_COLUMNS", "PERCENT", "SEASON", "SECTIONS", "SHARE_SCALE", "SIGNAL_COLUMNS", "SIGNED",
    "UTILIZATION_SCALE", "WHOLE", "Forecast", "NeedView", "agreement", "axis_order", "build", "cell_chart",
    "cell_colour", "cell_figures", "cell_name", "chosen_cell", "filled_cell", "forecast", "forecast_origin",
    "gap_grid", "grid_axes", "grid_cell", "grid_selection", "invest_download", "invest_table", "month_start",
    "monthly_matrix", "months_span", "outlook", "outlook_chart", "outlook_ranking", "outlook_table",
    "over_capacity", "readable_text", "reading", "service_label", "shift_table", "signal_table", "signals",
    "signals_chart", "styled", "unrecorded", "wilson_low",
]
