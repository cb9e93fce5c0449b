"""The Overview's headline figures for a period, each set against the period before.

Directors see every figure. Board and funder views (`min_cell` given) see them protected: for a whole quarter
or year (the only periods they are offered) the monthly trend and the split by status that the acceptance rate
rests on are an audited set, the year protected with its quarters (`atlas.views.status_split`, whose total is the
board's network set's), any other period's trend passes through `suppression.protect`; a figure is hidden when
it rests on 1 to min_cell-1 referrals or exits or on a total the protection withheld, and the positive-exit rate counts shown programs only, exactly as the
Outcomes page does, so the two pages cannot be set against each other. The period before is
computed exactly as if it had been chosen itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas import formats
from atlas.filters import Filters
from atlas.views import charts, outcomes, status_split, suppression


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str  # "count", "rate" or "days": how to print it
    lower_is_better: bool
    help: str
    withheld: bool = False  # hidden by small-number protection (board and funder views)

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    def text(self, value: float | None = None) -> str:
        if value is None and self.withheld:
            return suppression.HIDDEN
        value = self.value if value is None else value
        if value is None:
            return "—"
        if self.kind == "rate":
            return formats.percent(value)
        if self.kind == "days":
            return f"{value:.1f} days"
        return f"{value:,.0f}"

    def change_text(self) -> str | None:
        """The change as shown, rounded as the figure is; a change that rounds to nothing is "no change"."""
        change = self.change
        if change is None:
            return None
        if self.unchanged:
            return "no change"
        if self.kind == "rate":
            return formats.points(change)
        if self.kind == "days":
            return f"{change:+.1f} days"
        return f"{change:+,.0f}"

    @property
    def delta_color(self) -> str:
        """Streamlit's colouring for the change: green when better, red when worse, grey when flat."""
        if self.unchanged:
            return "off"
        return "inverse" if self.lower_is_better else "normal"

    @property
    def unchanged(self) -> bool:
        change = self.change
        if change is None:
            return False
        digits = {"rate": 3, "days": 1}.get(self.kind, 0)
        return round(change, digits) == 0


FIGURES = (
    ("referrals", "Referrals", "count", False, "Referrals made in the period."),
    ("acceptance_rate", "Acceptance rate", "rate", False,
     "Accepted ÷ (accepted + declined) among referrals made in the period; pending ones are left out."),
    ("median_days_to_accept", "Median days to accept", "days", True,
     "Half of the accepted referrals were accepted within this many days of being made."),
    ("stalled", "Stalled referrals", "count", True,
     "Referrals from the period still neither accepted nor declined at the period's end, and waiting more than 14 days."),
    ("active_partnerships", "Active partnerships", "count", False,
     "Declared partnerships in force in the period that carried at least one referral."),
    ("positive_exit_rate", "Positive-exit rate", "rate", False,
     "Share of client exits in the period with a positive outcome (housed, employed, income up, enrolled, connected to health care)."),
)


# The positive-exit rate's two bases, said where it shows, so the Overview and the Outcomes page's "Whole
# network" figure (shown programs only) are not read as two answers to one question.
EXIT_BASIS = {
    "all": " It counts every exit; the Outcomes page's “Whole network” counts only programs with enough exits "
           "to show, so it can differ a little.",
    "shown": " It counts only programs with enough exits to show, as the Outcomes page's “Whole network” does.",
    "set": " It counts every exit of the network's programs, the very figure the Outcomes page and the funder "
           "pack publish.",
}


def _with_basis(key: str, help_text: str, basis: str) -> str:
    return help_text + EXIT_BASIS[basis] if key == "positive_exit_rate" else help_text


def _clock(end: dt.date | None, data_as_of: pd.Timestamp) -> dt.datetime:
    """Stalled is judged at the period's end (its last moment), never later than the data reaches."""
    if end is None:
        return data_as_of.to_pydatetime()
    return min(dt.datetime.combine(end, dt.time.max), data_as_of.to_pydatetime())


@dataclass(frozen=True)
class Overview(charts.Drawn):
    figures: list[Figure]
    compared: bool  # whether there is a previous period to compare with
    trend: pd.DataFrame  # the `referral_trend` rows of the period (protected counts are missing)
    min_cell: int | None = None  # the threshold in force; None in director views
    hidden: int = 0  # figures and trend cells withheld by small-number protection

    def note(self) -> str:
        """The small-numbers note of a board or funder view: exactly what this Overview hides ("" for directors)."""
        if not self.min_cell:
            return ""
        m = self.min_cell
        figures = sum(f.withheld for f in self.figures)
        cells = self.hidden - figures
        if not self.hidden:
            return f"No figure here is hidden: none rests on 1 to {m - 1} people."
        parts = []
        if figures:
            parts.append(f"{figures} of {len(self.figures)} headline figures {'is' if figures == 1 else 'are'} hidden")
        if cells:
            counts = int(self.trend[list(STATUSES)].size) if len(self.trend) else 0
            parts.append(f"{cells} of {counts} monthly counts of the chart {'is' if cells == 1 else 'are'} hidden")
        return "; ".join(parts) + f": fewer than {m} people, or needed to protect one that was."

    @cached_property
    def trend_chart(self) -> go.Figure | None:
        """The monthly referrals by what became of them; None when no referral matches (or, for a board or
        funder, when every month is hidden)."""
        shown = self.trend.dropna(subset=list(STATUSES), how="all")
        return charts.referral_trend(self.trend) if len(shown) else None


def build(db, filters: Filters, min_cell: int | None = None) -> Overview:
    """Everything the Overview page shows, for the filters; `db` is anything with `.query(name, **params)`.
    With `min_cell`, the board and funder view: small numbers protected (see the module's docstring)."""
    if min_cell is not None:
        return _protected(db, filters, int(min_cell))
    trend = db.query("referral_trend", **filters.params_for("referral_trend"))
    return Overview(figures=headline(db, filters), compared=filters.previous() is not None, trend=trend)


STATUSES = ("accepted", "declined", "pending")


def protect_trend(trend: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The month x status counts with small cells and their complements removed (set to missing), and
    which published totals were withheld: [each month..., each status..., the grand total]."""
    months = len(trend)
    if not months:
        return trend, np.zeros(len(STATUSES) + 1, dtype=bool)
    values = trend[list(STATUSES)].to_numpy(dtype=float).ravel()
    lines = suppression.table_lines((months, len(STATUSES)))
    pattern = suppression.protect(values, lines, min_cell)
    hidden = pattern.hidden.reshape(months, len(STATUSES))
    out = trend.copy()
    for j, status in enumerate(STATUSES):
        out[status] = pd.array(np.where(hidden[:, j], pd.NA, trend[status]), dtype="Int64")
    out["referred"] = pd.array(np.where(pattern.lines_hidden[:months] | hidden.any(axis=1), pd.NA,
                                        trend["referred"]), dtype="Int64")
    small_months = trend["accepted"].to_numpy() < min_cell
    for column in ("median_days_to_accept", "median_days_to_start"):
        if column in out:
            out.loc[small_months | hidden[:, 0], column] = np.nan
    return out, pattern.lines_hidden[months:]


def _without_medians(trend: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The month's medians left out where its accepted referrals are too few or hidden."""
    out = trend.copy()
    gone = out["accepted"].fillna(0).to_numpy() < min_cell  # a hidden count reads as too few
    for column in ("median_days_to_accept", "median_days_to_start"):
        if column in out:
            out.loc[gone, column] = np.nan
    return out


def _protected_values(db, filters: Filters, min_cell: int, as_of) -> tuple[dict, pd.DataFrame, set, int]:
    """The six figures of one period as a board or funder may see them, its protected trend, the
    figures withheld and how many trend cells were."""
    row = db.query("network_summary", **filters.params_for("network_summary"),
                   as_of=_clock(filters.end, as_of)).iloc[0]
    if filters.aligned:  # a whole quarter or year: its audited set, the year protected with its quarters
        split = status_split.published_split(db, filters, min_cell)
        trend = _without_medians(split.trend, min_cell)
        totals_hidden = np.array([not split.status_shown[s] for s in STATUSES] + [not split.total_shown])
    else:
        trend, totals_hidden = protect_trend(db.query("referral_trend", **filters.params_for("referral_trend")),
                                             min_cell)
    status_hidden = dict(zip(STATUSES, totals_hidden[:len(STATUSES)]))
    grand_hidden = bool(totals_hidden[-1])

    def small(n) -> bool:
        return 1 <= n < min_cell

    def number(key):
        return None if pd.isna(row[key]) else float(row[key])

    accepted, declined, referrals = int(row["accepted"]), int(row["declined"]), int(row["referrals"])
    network = outcomes.network_total(db, filters, min_cell)
    withheld = {
        "referrals": small(referrals) or (referrals > 0 and grand_hidden),
        "acceptance_rate": (accepted + declined > 0) and (
            small(accepted) or small(declined) or small(accepted + declined)
            or bool(status_hidden["accepted"]) or bool(status_hidden["declined"])),
        "median_days_to_accept": 0 < accepted < min_cell,
        "stalled": small(int(row["stalled"])),
    }
    values = {key: None if withheld.get(key) else number(key)
              for key in ("referrals", "acceptance_rate", "median_days_to_accept", "stalled", "active_partnerships")}
    # agencies, not people, so partnerships are never a small cell; the positive-exit rate is the Outcomes
    # page's network figure (for a whole quarter or year, the funders' published set's)
    values["positive_exit_rate"] = None if pd.isna(network["rate"]) else float(network["rate"])
    if network.get("hidden", False):
        withheld["positive_exit_rate"] = True
    cells = int(trend[list(STATUSES)].isna().to_numpy().sum()) if len(trend) else 0
    return values, trend, {key for key, hidden in withheld.items() if hidden}, cells


def _protected(db, filters: Filters, min_cell: int) -> Overview:
    as_of = db.query("data_extent")["as_of"].iloc[0]
    values, trend, withheld, cells = _protected_values(db, filters, min_cell, as_of)
    before = filters.previous()
    previous = _protected_values(db, before, min_cell, as_of)[0] if before is not None else None
    if previous is not None and not previous["referrals"]:
        previous = None  # nothing before the data began (or too few to show): no comparison
    figures = [Figure(key, label, values[key], previous[key] if previous else None, kind, lower,
                      _with_basis(key, help_text, "set" if filters.aligned else "shown"), withheld=key in withheld)
               for key, label, kind, lower, help_text in FIGURES]
    return Overview(figures=figures, compared=previous is not None, trend=trend, min_cell=min_cell,
                    hidden=len(withheld) + cells)


def headline(db, filters: Filters) -> list[Figure]:
    """The six headline figures of the Overview for the filtered period and the one before it."""
    as_of = db.query("data_extent")["as_of"].iloc[0]
    current = db.query("network_summary", **filters.params_for("network_summary"),
                       as_of=_clock(filters.end, as_of)).iloc[0]
    before = filters.previous()
    previous = (
        db.query("network_summary", **before.params_for("network_summary"), as_of=_clock(before.end, as_of)).iloc[0]
        if before is not None else None
    )

    def value(row, key):
        if row is None or pd.isna(row[key]):
            return None
        # the period before the data began has nothing in it: no comparison rather than a false one
        if row is previous and row["referrals"] == 0:
            return None
        return float(row[key])

    return [
        Figure(key, label, value(current, key), value(previous, key), kind, lower, _with_basis(key, help_text, "all"))
        for key, label, kind, lower, help_text in FIGURES
    ]
