"""How the dashboard writes figures, dates and codes for people: one place, used by the pages, tables,
tooltips, exports and packs, so that the same figure reads the same wherever it is shown.

- Dates: day, short month name, year — "1 Jan 2025"; months "Jan 2025"; a moment "1 Jan 2025, 14:05";
  a period "1 Jan 2025 to 31 Dec 2025". Unambiguous in every English-speaking country (unlike 01/02/2025).
- Percentages: one decimal place, "50.3%"; a change between two percentages in points, "+0.4 pts". Chart axes
  tick whole percentages (ticks are a scale, not figures); hover labels write figures as here.
- Counts: thousands separators, "12,345".
- Codes (sectors, service types, outcomes, decline reasons): in words, "Mental health" (atlas.vocab.label).
- Nothing to show: "—".

(Not to be confused with atlas/ingest/contract_files.py, which writes typed tables as contract files.)
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

MISSING = "—"
PERCENT_PLACES = 1
# the same, for plotly's hover templates and axes (d3-format) and Streamlit's NumberColumn (printf, on 0-100)
PERCENT_D3 = f".{PERCENT_PLACES}%"
PERCENT_TICKS_D3 = ".0%"
PERCENT_PRINTF = f"%.{PERCENT_PLACES}f%%"
COUNT_D3 = ","
MONTH_D3 = "%b %Y"
DATE_D3 = "%-d %b %Y"
DATE_MOMENT = "D MMM YYYY"  # Streamlit's DateColumn (moment.js): 1 Jan 2025, sorted as dates


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or (
        not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value) and pd.isna(value))


def date(value) -> str:
    """1 Jan 2025."""
    if _missing(value):
        return MISSING
    value = pd.Timestamp(value)
    return f"{value.day} {value:%b %Y}"


def month(value) -> str:
    """Jan 2025."""
    return MISSING if _missing(value) else f"{pd.Timestamp(value):%b %Y}"


def moment(value) -> str:
    """1 Jan 2025, 14:05 (the date alone at midnight)."""
    if _missing(value):
        return MISSING
    value = pd.Timestamp(value)
    return date(value) if value.time() == dt.time() else f"{date(value)}, {value:%H:%M}"


def span(start, end) -> str:
    """1 Jan 2025 to 31 Dec 2025 (an open end is "…")."""
    return f"{date(start) if not _missing(start) else '…'} to {date(end) if not _missing(end) else '…'}"


def percent(value) -> str:
    """0.5027 → 50.3%."""
    return MISSING if _missing(value) else f"{value:.{PERCENT_PLACES}%}"


def percent_range(low, high) -> str:
    """A 95% interval, 41.2%–58.8% ("" when there is none)."""
    return "" if _missing(low) or _missing(high) else f"{percent(low)}–{percent(high)}"


def points(change) -> str:
    """A change between two percentages, in percentage points: +0.4 pts."""
    return MISSING if _missing(change) else f"{change * 100:+.{PERCENT_PLACES}f} pts"


def count(value) -> str:
    """12345 → 12,345."""
    return MISSING if _missing(value) else f"{int(value):,}"


def change(value) -> str:
    """A change of a count: +1,234 / -56."""
    return MISSING if _missing(value) else f"{int(value):+,}"


def words(code) -> str:
    """A sector, service type or other code in words: mental_health → Mental health."""
    from atlas.vocab import label

    return MISSING if _missing(code) else label(str(code))


def as_percent(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The frame with the share columns (0-1) as percentages (0-100), for a Streamlit NumberColumn of
    format PERCENT_PRINTF (Streamlit's own "percent" preset writes up to two decimals)."""
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: frame[c] * 100 for c in present}) if present else frame


def styled(frame: pd.DataFrame, percent_columns=(), count_columns=()):
    """The frame for st.dataframe with its shares written as percentages and its counts with separators (a pandas
    Styler: the page shows these texts, and sorts by the numbers underneath)."""
    writers = {c: percent for c in percent_columns if c in frame.columns}
    writers.update({c: count for c in count_columns if c in frame.columns})
    return frame.style.format(writers, na_rep=MISSING)
