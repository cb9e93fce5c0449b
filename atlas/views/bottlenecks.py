"""The Directors' Bottlenecks page: where referrals wait, stall and are turned away.

`build(db, filters, focus)` gathers every section from named queries and returns them ready to
render; the helpers below are pure and tested on a small database with hand-checked numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from atlas import escape, exports, formats
from atlas.filters import Filters
from atlas.views import flows, queues
from atlas.views.charts import COLORS, Drawn, monthly_axis, titled
from atlas.vocab import label

# The page's sections below its top (app.sections: each drawn only when opened), in order.
SECTIONS = [
    "Receiving agencies",
    "Time in stage",
    "Stalled referrals",
    "Why referrals fail",
    "Pathways",
    "Queues",
    "Ping-pong and lost clients",
]

PATH_STAGES = ("referred", "accepted", "started", "completed")
FLAG_COLUMN = "Look here first"  # the agency table's column saying why an agency is flagged (flag_agencies)
DAY_COLUMNS = ("Median days to accept", "P90 days to accept", "Median days to start")
COUNT_COLUMNS = ("Received", "Accepted", "Declined", "Pending", "Stalled")
STAGE_TITLES = {"days_to_accept": "Days from referral to acceptance",
                "days_to_start": "Days from referral to service start"}

AGENCY_COLUMNS = {
    "name": "Agency", "sector": "Sector", "region": "Region", "received": "Received",
    "accepted": "Accepted", "declined": "Declined", "pending": "Pending", "stalled": "Stalled",
    "acceptance_rate": "Acceptance rate", "median_days_to_accept": "Median days to accept",
    "p90_days_to_accept": "P90 days to accept", "median_days_to_start": "Median days to start",
}
SIGNAL_COLUMNS = {
    "agency": "Agency", "sector": "Sector", "region": "Region", "service_type": "Service",
    "declines": "Declines", "no_capacity": "No capacity", "no_capacity_share": "No-capacity share",
}
LOST_COLUMNS = {
    "name": "Agency", "sector": "Sector", "region": "Region", "received": "Received", "lost": "Never answered",
    "lost_share": "Share", "oldest_wait_days": "Oldest wait (days)", "median_wait_days": "Median wait (days)",
}
STALLED_COLUMNS = {
    "referral_id": "Referral", "days_waiting": "Days waiting", "from_agency": "From", "to_agency": "To",
    "service_type": "Service", "referred_at": "Referred", "client": "Client (pseudonym)",
}


def _readable(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """`columns` of `frame` under their headings, service types and sectors in words (`Mental health`)."""
    out = frame[list(columns)].copy()
    for coded in ("service_type", "sector"):
        if coded in out.columns:
            out[coded] = out[coded].map(lambda v: v if pd.isna(v) else label(v))
    return out.rename(columns=columns)


@dataclass(frozen=True)
class Bottlenecks(Drawn):
    """The page's view. The top (funnel, agencies, reading) is worked out by `build`; each section below it
    the first time it is read, and then kept with the view (app.view caches the view whole), so a page
    draws its top without waiting for sections nobody has opened."""

    funnel: pd.DataFrame  # stage, referrals, previous (None when there is no previous period)
    agencies: pd.DataFrame  # agency_bottlenecks, plus `flagged`
    network: pd.Series  # network_summary of the period (medians and rates of the whole selection)
    reading: list[str]  # plain-language findings, Markdown-escaped
    focus: str | None  # agency id the time-in-stage and trend compare with the network
    focus_name: str | None
    pathway_sector: str | None  # the receiving sector whose agencies the pathways show one by one
    filters: Filters = field(repr=False)
    db: Any = field(repr=False, compare=False)  # what the sections are read from

    def _query(self, name: str, **extra) -> pd.DataFrame:
        return self.db.query(name, **self.filters.params_for(name), **extra)

    @cached_property
    def funnel_chart(self) -> go.Figure:
        return funnel_chart(self.funnel)

    @property
    def agency_names(self) -> dict[str, str]:  # the agencies to compare the network with, by id
        return dict(zip(self.agencies["agency_id"], self.agencies["name"]))

    @property
    def receiving_sectors(self) -> list[str]:  # the pathways' choice of sector: "" for all of them
        return [""] + sorted(self.agencies["sector"].dropna().unique().tolist())

    @cached_property
    def agency_table(self) -> pd.DataFrame:  # the agencies, readable headings, why a flagged one is flagged
        return agency_table(self.agencies)

    @cached_property
    def _time_in_stage(self) -> tuple[go.Figure | None, go.Figure | None]:
        durations, trend = self._query("stage_durations"), self._query("referral_trend")
        focus_durations = focus_trend = None
        if self.focus:
            focus_durations = self._query("stage_durations", agency_id=self.focus)
            focus_trend = self._query("referral_trend", agency_id=self.focus)
        return (durations_chart(durations, focus_durations, self.focus_name) if len(durations) else None,
                trend_chart(trend, focus_trend, self.focus_name) if len(trend) else None)

    @property
    def durations_chart(self) -> go.Figure | None:
        return self._time_in_stage[0]

    @property
    def trend_chart(self) -> go.Figure | None:
        return self._time_in_stage[1]

    @cached_property
    def stalled(self) -> pd.DataFrame:  # the work list, readable headings
        return stalled_list(self._query("stalled_referrals"))

    @property
    def stalled_csv(self) -> Callable[[], bytes]:  # the work list as CSV, built only when it is downloaded
        return partial(exports.safe_csv, self.stalled)

    @cached_property
    def _declines(self) -> pd.DataFrame:
        return self._query("decline_reasons")

    @cached_property
    def declines_by_agency(self) -> go.Figure | None:  # stacked decline reasons, most declining agencies
        return flows.decline_chart_by_agency(self._declines) if len(self._declines) else None

    @cached_property
    def declines_by_service(self) -> go.Figure | None:
        return flows.decline_chart_by_service(self._declines) if len(self._declines) else None

    @cached_property
    def capacity_signal(self) -> pd.DataFrame:  # where no_capacity dominates the declines
        return _readable(flows.capacity_signal(self._declines), SIGNAL_COLUMNS)

    @cached_property
    def pathways(self) -> go.Figure | None:  # referring sector -> receiving sector (or agency) -> stage reached
        pathways = self._query("referral_pathways", focus_sector=self.pathway_sector)
        return flows.pathways_sankey(pathways) if len(pathways) else None

    @cached_property
    def _queue_rows(self) -> pd.DataFrame:
        return self._query("agency_queues")

    @cached_property
    def queues(self) -> pd.DataFrame:  # arrivals, throughput, backlog and the wait Little's law implies
        return queues.queue_table(self._queue_rows)

    @cached_property
    def queue_chart(self) -> go.Figure | None:
        return queues.queue_chart(self._queue_rows) if len(self._queue_rows) else None

    @cached_property
    def _bounced(self) -> pd.DataFrame:
        return self._query("ping_pong_clients")

    @cached_property
    def ping_pong(self) -> queues.PingPongSummary:  # clients bounced 3+ times in 30 days without a start
        return queues.ping_pong_summary(self._bounced)

    @cached_property
    def ping_pong_clients(self) -> pd.DataFrame:
        return queues.ping_pong_table(self._bounced)

    @property
    def ping_pong_clients_csv(self) -> Callable[[], bytes]:  # the bounced clients as CSV, built when downloaded
        return partial(exports.safe_csv, self.ping_pong_clients)

    @cached_property
    def lost(self) -> pd.DataFrame:  # referrals never acknowledged, by receiving agency
        return _readable(self._query("lost_referrals"), LOST_COLUMNS)

    def everything(self) -> Bottlenecks:
        """Every section worked out now (for a pack or a test that reads them all at once)."""
        for name in ("agency_table", "_time_in_stage", "stalled", "declines_by_agency", "declines_by_service",
                     "capacity_signal", "pathways", "queues", "queue_chart", "ping_pong", "ping_pong_clients", "lost"):
            getattr(self, name)
        return self


def build(db, filters: Filters, focus: str | None = None, pathway_sector: str | None = None,
          min_received: int = 20) -> Bottlenecks:
    """The page's top for the filters (the sections follow when read); `focus` picks the agency to compare
    (default: the worst), `pathway_sector` the receiving sector whose agencies the pathways show one by one."""
    funnel = db.query("referral_funnel", **filters.params_for("referral_funnel"))
    before = filters.previous()
    previous = db.query("referral_funnel", **before.params_for("referral_funnel")) if before else None
    agencies = flag_agencies(db.query("agency_bottlenecks", **filters.params_for("agency_bottlenecks")),
                             min_received)
    network = db.query("network_summary", **filters.params_for("network_summary")).iloc[0]
    if focus not in set(agencies["agency_id"]):
        focus = agencies["agency_id"].iloc[0] if len(agencies) else None
    focus_name = agencies.loc[agencies["agency_id"] == focus, "name"].iloc[0] if focus else None
    table = funnel_table(funnel, previous)
    return Bottlenecks(funnel=table, agencies=agencies, network=network,
                       reading=reading(agencies, network, min_received), focus=focus, focus_name=focus_name,
                       pathway_sector=pathway_sector, filters=filters, db=db)


def funnel_table(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Stages with this period's and the previous period's counts, and conversion from the stage before."""
    table = current[["stage", "referrals"]].copy()
    table["previous"] = previous["referrals"].to_numpy() if previous is not None else None
    counts = table.set_index("stage")["referrals"]
    conversion = {}
    for before, stage in zip(PATH_STAGES, PATH_STAGES[1:]):
        conversion[stage] = counts[stage] / counts[before] if counts[before] else None
    table["conversion"] = table["stage"].map(conversion)
    return table


def funnel_chart(table: pd.DataFrame) -> go.Figure:
    """The referral path as a funnel (this period, and the previous one when there is one)."""
    path = table[table["stage"].isin(PATH_STAGES)]
    labels = [s.capitalize() for s in path["stage"]]
    fig = go.Figure()
    text = "%{value:,} · %{percentPrevious:.1%}"
    if path["previous"].notna().all():
        fig.add_trace(go.Funnel(name="Previous period", y=labels, x=path["previous"], texttemplate=text,
                                marker_color="#b7c9d6", opacity=0.9))
    fig.add_trace(go.Funnel(name="This period", y=labels, x=path["referrals"], texttemplate=text,
                            marker_color=COLORS["referred"]))
    fig.update_layout(funnelmode="group", hovermode="closest")
    return titled(fig, "Referral path: share reaching each stage from the one before")


def flag_agencies(agencies: pd.DataFrame, min_received: int) -> pd.DataFrame:
    """Marks the agencies to look at first, among those with enough referrals to judge: a share of
    stalled referrals at least twice the network's (and at least five stalled), or a median time to
    accept at least twice the median across agencies. Volume alone never flags an agency."""
    agencies = agencies.copy()
    judged = agencies["received"] >= min_received
    network_share = agencies["stalled"].sum() / agencies["received"].sum() if len(agencies) else 0
    stalling = (agencies["stalled"] >= 5) & (agencies["stalled"] / agencies["received"] >= 2 * network_share)
    typical = agencies.loc[judged, "median_days_to_accept"].median()
    slow = (agencies["median_days_to_accept"] >= 2 * typical).fillna(False) if pd.notna(typical) else False
    agencies["flag_stalls"] = (judged & stalling).astype(bool)
    agencies["flag_slow"] = (judged & slow).astype(bool)
    agencies["flagged"] = agencies["flag_stalls"] | agencies["flag_slow"]
    return agencies


def agency_table(agencies: pd.DataFrame) -> pd.DataFrame:
    """The agency table with readable headings and, after the agency's name, why a flagged agency is one to look at
    first, in words (FLAG_COLUMN): a plain frame, which the page writes with column formats (a pandas Styler
    re-renders every cell of 5,000 agencies on each visit of the page, half a second). Acceptance rates are
    percentages (0-100, for atlas.formats.PERCENT_PRINTF)."""
    shown = _readable(agencies, AGENCY_COLUMNS)
    shown.insert(1, FLAG_COLUMN, flag_reasons(agencies))
    return formats.as_percent(shown, ["Acceptance rate"])


def flag_reasons(agencies: pd.DataFrame) -> pd.Series:
    """Why each flagged agency is flagged (flag_agencies), in words; empty for the others."""
    words = {(True, False): "Stalls", (False, True): "Slow to accept", (True, True): "Stalls; slow to accept",
             (False, False): ""}
    return pd.Series([words[pair] for pair in zip(agencies["flag_stalls"].tolist(), agencies["flag_slow"].tolist())],
                     index=agencies.index, dtype="string")


def _times(ratio: float) -> str:
    return f"{ratio:.0f}×" if ratio >= 3 else f"{ratio:.1f}×"


def reading(agencies: pd.DataFrame, network: pd.Series, min_received: int = 20) -> list[str]:
    """Plain-language findings for the top of the page (names Markdown-escaped)."""
    if agencies.empty:
        return []
    lines = []
    median = network["median_days_to_accept"]
    worst = agencies.iloc[0]  # the query orders by stalled, then by slowness
    if worst["stalled"] > 0:
        name = escape.markdown(worst["name"])
        days = worst["median_days_to_accept"]
        if pd.notna(days) and pd.notna(median) and median > 0 and days > median:
            lines.append(f"**{name}** takes {days:.1f} days to accept, {_times(days / median)} the network median "
                         f"({median:.1f} days); {worst['stalled']:,} referrals are stalled there.")
        else:
            lines.append(f"**{name}** has the most stalled referrals: {worst['stalled']:,}.")
    judged = agencies[agencies["received"] >= min_received]
    if len(judged):
        slowest = judged.sort_values("median_days_to_accept", ascending=False).iloc[0]
        if slowest["agency_id"] != worst["agency_id"] and pd.notna(median) and median > 0 \
                and slowest["median_days_to_accept"] >= 2 * median:
            lines.append(f"**{escape.markdown(slowest['name'])}** is slowest to accept among agencies with at least "
                         f"{min_received} referrals: {slowest['median_days_to_accept']:.1f} days "
                         f"({_times(slowest['median_days_to_accept'] / median)} the network median).")
        decided = judged[(judged["accepted"] + judged["declined"]) >= min_received]
        rate = network["acceptance_rate"]
        if len(decided) and pd.notna(rate):
            lowest = decided.sort_values("acceptance_rate").iloc[0]
            if lowest["acceptance_rate"] < rate - 0.1:
                lines.append(f"**{escape.markdown(lowest['name'])}** accepts only {formats.percent(lowest['acceptance_rate'])} of "
                             f"the referrals it decides on (network: {formats.percent(rate)}).")
    stalled = int(agencies["stalled"].sum())
    lines.append(f"{stalled:,} referrals are stalled across {int((agencies['stalled'] > 0).sum()):,} agencies."
                 if stalled else "No referral is stalled.")
    return lines


def durations_chart(overall: pd.DataFrame, focus: pd.DataFrame | None, focus_name: str | None) -> go.Figure:
    """Share of referrals by days in stage, for all agencies and the agency in focus, side by side."""
    series = [("All agencies", overall, COLORS["referred"])]
    if focus is not None and len(focus):
        series.append((escape.html(focus_name), focus, COLORS["declined"]))

    def title(stage: str) -> str:
        medians = [f"{name}: {frame.loc[frame['stage'] == stage, 'median'].iloc[0]:.1f}"
                   for name, frame, _ in series if (frame["stage"] == stage).any()]
        return f"{STAGE_TITLES[stage]}<br><sup>median days — {'; '.join(medians)}</sup>"

    fig = make_subplots(rows=1, cols=2, subplot_titles=[title(s) for s in STAGE_TITLES], shared_yaxes=True)
    for col, stage in enumerate(STAGE_TITLES, start=1):
        for name, frame, colour in series:
            part = frame[frame["stage"] == stage]
            fig.add_bar(x=part["label"], y=part["share"], name=name, marker_color=colour, legendgroup=name,
                        showlegend=col == 1, row=1, col=col,
                        hovertemplate="%{x}: %{y:.1%} of referrals<extra>" + name + "</extra>")
    fig.update_yaxes(tickformat=".0%", title_text="Share of referrals", row=1, col=1)
    titled(fig, "How long referrals wait at each stage")
    fig.update_annotations(yshift=8)  # the panels' titles, under the chart's
    fig.update_layout(barmode="group", hovermode="closest", margin=dict(t=110),
                      legend=dict(orientation="h", y=-0.28, x=0, xanchor="left", yanchor="top"))
    return fig


def trend_chart(trend: pd.DataFrame, focus: pd.DataFrame | None, focus_name: str | None) -> go.Figure:
    """Referrals per month (bars) with the median days to accept, for the network and the agency in focus."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=trend["month"], y=trend["referred"], name="Referrals", marker_color="#c9d6df",
                hovertemplate="%{y:,} referrals<extra></extra>", secondary_y=False)
    fig.add_scatter(x=trend["month"], y=trend["median_days_to_accept"], name="Median days to accept (all)",
                    mode="lines+markers", line_color=COLORS["referred"], secondary_y=True,
                    hovertemplate="%{y:.1f} days<extra>all agencies</extra>")
    if focus is not None and len(focus):
        name = escape.html(focus_name)
        fig.add_scatter(x=focus["month"], y=focus["median_days_to_accept"], name=f"Median days to accept ({name})",
                        mode="lines+markers", line=dict(color=COLORS["declined"], dash="dash"), secondary_y=True,
                        hovertemplate="%{y:.1f} days<extra>" + name + "</extra>")
    fig.update_yaxes(title_text="Referrals", secondary_y=False)
    fig.update_yaxes(title_text="Median days to accept", secondary_y=True, rangemode="tozero", showgrid=False,
                     tickformat=".0f")
    return titled(monthly_axis(fig, trend["month"]), "Referrals per month and how long acceptance takes")


def stalled_list(stalled: pd.DataFrame) -> pd.DataFrame:
    """The stalled-referral work list with readable headings and a short client pseudonym."""
    out = stalled.assign(client=stalled["client_id"].str.slice(0, 12), days_waiting=stalled["days_waiting"].round(1))
    return _readable(out, STALLED_COLUMNS)
