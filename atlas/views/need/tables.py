"""The Need vs capacity page's tables (presenting layer): the gap grid (a heatmap as a table), the readable
tables of lines over capacity, slots that could move, the two signals, the outlook and the gaps to invest in,
their display formats and the sustained gaps' CSV. Pure functions over the frames the view holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler
from plotly.colors import sample_colorscale

from atlas import exports, formats
from atlas.views.need.gaps import axis_order
from atlas.views.need.plots import SHARE_SCALE, UTILIZATION_SCALE
from atlas.views.need.seasonal import OUTLOOK_COLUMNS
from atlas.vocab import label as service_label

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
PERCENT = {"Utilization", "Fullest month", "No-capacity share of declines", "Share of need unmet"}
ONE_DECIMAL = {"People in need per slot"}
WHOLE = {"Unmet need", "Unmet need, next 3 months", "Unmet need, last 3 months", "People in need", "Slots", "Referrals expected",
         "Slots a month that could move"}
SIGNED = {"Change"}


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


def signal_table(both: pd.DataFrame) -> pd.DataFrame:
    """The two signals (`signals`) of the cells with declines for 'no capacity', under readable headings."""
    shown = both[both["no_capacity"] > 0]
    return shown[list(SIGNAL_COLUMNS)].rename(columns=SIGNAL_COLUMNS)


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
