"""Who holds the case: the Directors' Accountability page and the network-level figure every audience sees.

`build(db, filters)` gathers the measures of docs/metrics.md ("Who holds the case") from their named
queries and returns them ready to render: a plain-language reading, the share of multi-agency journeys
with a lead over time, the sector-by-sector friction chart with its mutual pairs, referrers ranked by
dropped hand-offs, and the work list of unheld journeys with its formula-safe CSV. `headline(db,
filters, min_cell)` is the Overview's figure: network-level counts only, small cells hidden for board
and funder views. Pure: no Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial

import pandas as pd
import plotly.graph_objects as go

from atlas import exports, formats
from atlas.filters import Filters
from atlas.views.charts import COLORS, Drawn, monthly_axis, titled
from atlas.vocab import SECTORS, label

# The page's sections below its top (app.sections: each drawn only when opened), in order.
SECTIONS = ["Families no one took on", "Dropped hand-offs", "Sectors that turn each other down"]
MIN_DECLINES = 20  # a referrer is ranked on dropped hand-offs once this many of its declines have closed
WORKLIST_COLUMNS = {
    "client_id": "Client (pseudonym)", "first_referred_at": "First referral", "referrals": "Referrals",
    "receivers": "Agencies referred to", "agencies": "Agencies involved", "last_status": "Last step",
    "last_to_agency": "Last referred to", "last_moment": "Last recorded step", "days_since": "Days since",
}
REFERRER_COLUMNS = {
    "name": "Referring agency", "declines": "Declines", "open": "Still open", "dropped": "Dropped",
    "picked_up": "Picked up", "dropped_share": "Dropped share",
}


@dataclass(frozen=True)
class Accountability(Drawn):
    summary: dict  # journeys, multi_agency, with_lead, lead_recorded, multi_agency_with_lead, unheld, unheld_share
    reading: list[str]  # plain-language lines, Markdown-safe
    trend: pd.DataFrame  # month, multi_agency, multi_agency_with_lead, lead_share, unheld
    friction: pd.DataFrame  # from_sector, to_sector, decided, declined, decline_rate, ratio, mutual
    mutual_pairs: list[tuple[str, str]]
    referrers: pd.DataFrame  # ranked, under headings
    charted: pd.DataFrame  # the referrers the chart ranks (the first 15), as the query gives them
    network_share: float  # the share of the network's closed declines that were dropped
    unheld: pd.DataFrame  # the work list under headings

    @cached_property
    def trend_chart(self) -> go.Figure | None:
        return lead_chart(self.trend) if len(self.trend) else None

    @cached_property
    def friction_chart(self) -> go.Figure | None:
        return friction_chart(self.friction) if len(self.friction) else None

    @cached_property
    def referrers_chart(self) -> go.Figure | None:
        return referrers_chart(self.charted, self.network_share) if len(self.charted) else None

    @property
    def lead_share(self) -> float | None:  # of multi-agency journeys, those with an agency holding the case
        multi = self.summary["multi_agency"]
        return self.summary["multi_agency_with_lead"] / multi if multi else None

    @property
    def unheld_csv(self) -> Callable[[], bytes]:  # the work list as CSV, built only when it is downloaded
        return partial(exports.safe_csv, self.unheld)


def _params(filters: Filters) -> dict:
    return {"start": filters.start, "end": filters.end, "region": filters.region}


def build(db, filters: Filters) -> Accountability:
    """Every section of the Accountability page for the filters (period and region of the referrer)."""
    params = _params(filters)
    summary = db.query("accountability_summary", **params).iloc[0].to_dict()
    trend = db.query("accountability_trend", **params)
    friction = db.query("sector_friction", **params)
    dropped = db.query("dropped_handoffs", **params)
    unheld = db.query("unheld_journeys", **params)

    trend = trend.assign(lead_share=trend["multi_agency_with_lead"] / trend["multi_agency"].where(trend["multi_agency"] > 0))
    mutual = sorted({tuple(sorted((a, b))) for a, b, m in
                     zip(friction["from_sector"], friction["to_sector"], friction["mutual"]) if m})
    closed = dropped["dropped"] + dropped["picked_up"]
    ranked = dropped[closed >= MIN_DECLINES].sort_values(["dropped_share", "dropped"], ascending=[False, False])
    network_share = dropped["dropped"].sum() / max(1, closed.sum())
    worklist = unheld[list(WORKLIST_COLUMNS)].rename(columns=WORKLIST_COLUMNS)
    worklist["Last step"] = worklist["Last step"].map(label)
    return Accountability(
        summary=summary,
        reading=reading(summary, unheld, friction, mutual, ranked, network_share),
        trend=trend,
        friction=friction,
        mutual_pairs=mutual,
        referrers=ranked[list(REFERRER_COLUMNS)].assign(dropped_share=ranked["dropped_share"] * 100)
        .rename(columns=REFERRER_COLUMNS).reset_index(drop=True),  # a share in per cent, as the page shows it
        charted=ranked.head(15)[["name", "dropped_share", "dropped", "picked_up"]],
        network_share=network_share,
        unheld=worklist,
    )


def _pct(value: float) -> str:
    return formats.percent(value)


def _md(text: str) -> str:
    from atlas import escape

    return escape.markdown(str(text))


def reading(summary: dict, unheld: pd.DataFrame, friction: pd.DataFrame, mutual: list[tuple[str, str]],
            ranked: pd.DataFrame, network_share: float) -> list[str]:
    """The page's opening lines: who was passed around with no one taking them on, where, which sectors turn
    each other down, and which referrers' declines are not followed up."""
    lines = []
    multi, held, unheld_n = int(summary["multi_agency"]), int(summary["multi_agency_with_lead"]), int(summary["unheld"])
    journeys = int(summary["journeys"])
    if not journeys:
        return ["No referral journeys start in this period."]
    lines.append(f"**{multi:,}** of {journeys:,} client journeys this period involved more than one receiving "
                 f"agency; **{held:,}** of those ({_pct(held / multi) if multi else '—'}) have an agency holding "
                 "the case (recorded by the referrer, or the first to accept).")
    if unheld_n:
        where = ""
        if len(unheld):
            involved = unheld["agencies"].str.split("; ").explode().value_counts()
            top = ", ".join(_md(name) for name in involved.head(3).index)
            where = f" The agencies most often involved: {top}."
        lines.append(f"**{unheld_n:,} {'family was' if unheld_n == 1 else 'families were'} passed between agencies "
                     f"with no one taking them on** ({_pct(unheld_n / multi) if multi else '—'} of multi-agency "
                     f"journeys): declined or left waiting, and no agency holds the case.{where} The work list "
                     "below, **Families no one took on**, has each of them.")
    else:
        lines.append("No multi-agency journey of the period was left without an agency holding the case.")
    for a, b in mutual:
        there = friction[(friction["from_sector"] == a) & (friction["to_sector"] == b)].iloc[0]
        back = friction[(friction["from_sector"] == b) & (friction["to_sector"] == a)].iloc[0]
        lines.append(f"**{label(a)} and {label(b)} turn each other down**: {_pct(there['decline_rate'])} of "
                     f"{label(a).lower()} referrals to {label(b).lower()} were declined ({there['ratio']:.1f}× the "
                     f"network's rate), and {_pct(back['decline_rate'])} the other way ({back['ratio']:.1f}×).")
    if len(ranked):
        worst = ranked.iloc[0]
        if worst["dropped_share"] >= 1.5 * network_share:
            lines.append(f"**{_md(worst['name'])}**: {int(worst['dropped']):,} of its "
                         f"{int(worst['dropped'] + worst['picked_up']):,} declined referrals were not followed by "
                         f"any new referral of the client within 14 days ({_pct(worst['dropped_share'])}; across "
                         f"the network, {_pct(network_share)}).")
    return lines


def lead_chart(trend: pd.DataFrame) -> go.Figure:
    """The share of multi-agency journeys with an agency holding the case, by month of the first referral."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=trend["month"], y=trend["lead_share"], mode="lines+markers", name="With a lead agency",
        line=dict(color=COLORS["accepted"], width=3),
        customdata=trend[["multi_agency_with_lead", "multi_agency", "unheld"]],
        hovertemplate="%{x|%b %Y}: %{y:.1%} of %{customdata[1]:,} multi-agency journeys have a lead "
                      "(%{customdata[0]:,}); %{customdata[2]:,} unheld<extra></extra>"))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title="Share with a lead agency")
    monthly_axis(fig, trend["month"])
    return titled(fig, "Multi-agency journeys with an agency holding the case, by month they began")


def friction_chart(friction: pd.DataFrame) -> go.Figure:
    """Sector x sector: how much likelier than the network's a referral is declined; mutual pairs marked."""
    present = [s for s in SECTORS if s in set(friction["from_sector"]) | set(friction["to_sector"])]
    grid = friction.pivot(index="from_sector", columns="to_sector", values="ratio").reindex(index=present, columns=present)
    decided = friction.pivot(index="from_sector", columns="to_sector", values="decided").reindex(index=present, columns=present)
    mutual = friction.pivot(index="from_sector", columns="to_sector", values="mutual").reindex(index=present, columns=present)
    text = [[("" if pd.isna(v) else f"{v:.1f}×" + (" ⇄" if mutual.iat[i, j] is True else ""))
             for j, v in enumerate(row)] for i, row in enumerate(grid.to_numpy())]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[label(s) for s in present], y=[label(s) for s in present], text=text,
        texttemplate="%{text}", colorscale=[[0, "#f1f7f6"], [0.5, "#f4d6b0"], [1, COLORS["declined"]]], zmin=0,
        zmax=max(2.0, float(grid.max().max() or 0)), customdata=decided.to_numpy(),
        colorbar=dict(title="× network<br>decline rate"),
        hovertemplate="%{y} → %{x}: declined %{z:.2f}× as often as the network's referrals "
                      "(%{customdata:,} decided)<extra></extra>"))
    fig.update_xaxes(title="Receiving sector", side="bottom")
    fig.update_yaxes(title="Referring sector", autorange="reversed")
    fig.update_layout(hovermode="closest")
    return titled(fig, "How much likelier a referral is declined, sector to sector (⇄ both ways: mutual friction)")


def referrers_chart(ranked: pd.DataFrame, network_share: float) -> go.Figure:
    """Referrers whose declined referrals are most often not followed up, against the network's share."""
    top = ranked.iloc[::-1]
    fig = go.Figure(go.Bar(
        y=top["name"], x=top["dropped_share"], orientation="h", marker_color=COLORS["declined"],
        customdata=top[["dropped", "picked_up"]],
        hovertemplate="%{y}: %{x:.1%} not followed up (%{customdata[0]:,} dropped, %{customdata[1]:,} picked up)"
                      "<extra></extra>", name="Dropped share"))
    fig.add_vline(x=network_share, line_dash="dash", line_color="#444",
                  annotation_text=f"network {formats.percent(network_share)}", annotation_position="top")
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title="Declines not followed by a new referral within 14 days")
    fig.update_layout(hovermode="closest", height=max(320, 28 * len(top) + 120), showlegend=False)
    return titled(fig, "Referrers ranked by dropped hand-offs")


@dataclass(frozen=True)
class Headline:
    """The Overview's network-level figure: families passed around with no one taking them on."""

    multi_agency: int | None  # None: hidden (a count of 1 to min_cell - 1, or one that would reveal one)
    unheld: int | None
    with_lead: int | None

    def sentence(self, min_cell: int | None) -> str | None:
        if self.multi_agency in (None, 0):
            return None
        if self.unheld is None:
            return (f"Of **{self.multi_agency:,}** multi-agency client journeys, the number passed between agencies "
                    f"with no one taking them on is fewer than {min_cell} and is not shown.")
        return (f"Of **{self.multi_agency:,}** multi-agency client journeys, **{self.unheld:,}** "
                f"({_pct(self.unheld / self.multi_agency)}) were passed between agencies with no one taking them on.")


def headline(db, filters: Filters, min_cell: int | None = None) -> Headline:
    """The network-level figure for every audience; with `min_cell` (board and funder) a count of 1 to
    min_cell - 1 is hidden, and so is its complement (multi-agency journeys that were held)."""
    row = db.query("accountability_summary", **_params(filters)).iloc[0]
    multi, unheld = int(row["multi_agency"]), int(row["unheld"])
    held = int(row["multi_agency_with_lead"])
    if min_cell is not None:
        small = lambda n: 0 < n < min_cell  # noqa: E731
        if small(multi):
            return Headline(None, None, None)
        if small(unheld) or small(multi - unheld):
            return Headline(multi, None, None)
        if small(held) or small(multi - held):
            held = None
    return Headline(multi, unheld, held)
