"""The Overview's headline figures for a period, each set against the period before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from atlas import charts
from atlas.filters import Filters


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str  # "count", "rate" or "days": how to print it
    lower_is_better: bool
    help: str

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    def text(self, value: float | None = None) -> str:
        value = self.value if value is None else value
        if value is None:
            return "—"
        if self.kind == "rate":
            return f"{value:.1%}"
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
            return f"{change * 100:+.1f} pts"
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


def _clock(end: dt.date | None, data_as_of: pd.Timestamp) -> dt.datetime:
    """Stalled is judged at the period's end (its last moment), never later than the data reaches."""
    if end is None:
        return data_as_of.to_pydatetime()
    return min(dt.datetime.combine(end, dt.time.max), data_as_of.to_pydatetime())


@dataclass(frozen=True)
class Overview:
    figures: list[Figure]
    compared: bool  # whether there is a previous period to compare with
    trend: pd.DataFrame  # the `referral_trend` rows of the period
    trend_chart: go.Figure | None  # None when no referral matches


def build(db, filters: Filters) -> Overview:
    """Everything the Overview page shows, for the filters; `db` is anything with `.query(name, **params)`."""
    trend = db.query("referral_trend", **filters.params_for("referral_trend"))
    return Overview(
        figures=headline(db, filters),
        compared=filters.previous() is not None,
        trend=trend,
        trend_chart=charts.referral_trend(trend) if len(trend) else None,
    )


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
        Figure(key, label, value(current, key), value(previous, key), kind, lower, help_text)
        for key, label, kind, lower, help_text in FIGURES
    ]
