"""The Funders' Outcomes page's charts (presenting layer): dot plots against the network, the quarterly
trend, the outcome mix and returns to homelessness, drawn by pure functions from the frames a view holds.
`FIGURES` names each chart of a view and how it is drawn from the view (`Outcomes.figure`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas import escape, formats
from atlas.views.charts import titled
from atlas.views.outcomes.rates import DIMENSIONS, NETWORK, OUTCOME_LABELS, OUTCOME_ORDER

DOT_ROWS = 30  # the comparison dot plots show at most this many rows (the largest by exits)
OUTCOME_COLOURS = {
    "housed_permanent": "#1b7a5a", "housed_temporary": "#3aa67a", "employed": "#5fbf8f",
    "income_increased": "#8fd3ad", "education_enrolled": "#2a9d8f", "health_connected": "#74c2b8",
    "positive_not_shown": "#b9e2cb", "exited_no_outcome": "#b8c0c8", "unknown": "#d9dee3",
    "other_not_shown": "#dde1e5", "exited_to_street": "#e76f51", "returned_to_homelessness": "#b5382a",
}
COLOURS = {"dot": "#264653", "network": "#e76f51", "band": "rgba(231,111,81,0.12)", "funder": "#2a9d8f"}


def _comparison(key: str):
    def draw(view) -> go.Figure | None:
        table = view.by.get(key, ())  # a whole period's published set has no agency table
        if not len(table):
            return None
        return comparison_chart(table, view.network, f"Positive-exit rate by {DIMENSIONS[key].lower()}") \
            if len(table) else None
    return draw


def _mix(key: str):
    return lambda view: mix_chart(view.mix[key], key) if len(view.mix[key]) else None


FIGURES = {
    **{f"by_{key}": _comparison(key) for key in DIMENSIONS},
    "trend": lambda view: trend_chart(view.trend, view.funder) if (~view.trend["suppressed"]).any() else None,
    "mix_service_type": _mix("service_type"),
    "mix_program": _mix("program"),
    "returns": lambda view: returns_chart(view.returns) if (~view.returns["suppressed"]).any() else None,
    "pathways": lambda view: comparison_chart(view.pathways.rename(columns={"referrer": "group"}), view.network,
                                              "Positive-exit rate by referring agency") if len(view.pathways)
    else None,
}


def comparison_chart(table: pd.DataFrame, network: pd.Series, title: str, rows: int = DOT_ROWS) -> go.Figure:
    """A dot plot: each group's rate with its 95% interval, against the network's rate and interval."""
    shown = table[~table["suppressed"].astype(bool)].nlargest(rows, "exits").sort_values("rate")
    names = [escape.html(g) for g in shown["group"]]
    fig = go.Figure()
    if pd.notna(network["rate"]):
        fig.add_vrect(x0=network["ci_low"], x1=network["ci_high"], fillcolor=COLORS_BAND, line_width=0, layer="below")
        fig.add_vline(x=network["rate"], line=dict(color=COLOURS["network"], dash="dash", width=2))
    fig.add_scatter(
        x=shown["rate"], y=names, mode="markers", name="Rate with 95% interval",
        marker=dict(color=COLOURS["dot"], size=9),
        error_x=dict(type="data", symmetric=False, array=shown["ci_high"] - shown["rate"],
                     arrayminus=shown["rate"] - shown["ci_low"], color=COLOURS["dot"], thickness=1.5, width=4),
        customdata=np.column_stack([shown["exits"].astype(float), shown["ci_low"], shown["ci_high"]]),
        hovertemplate="%{y}: %{x:.1%} of %{customdata[0]:,} exits (95% interval %{customdata[1]:.1%}–"
                      "%{customdata[2]:.1%})<extra></extra>",
    )
    if pd.notna(network["rate"]):
        fig.add_scatter(x=[None], y=[None], mode="lines", name=f"Whole network: {formats.percent(network['rate'])}",
                        line=dict(color=COLOURS["network"], dash="dash", width=2))
    subtitle = f"<br><sup>{len(shown)} largest by exits shown</sup>" if len(table) > rows else ""
    titled(fig, title + subtitle)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title_text="Share of exits that ended positively")
    fig.update_yaxes(automargin=True)
    fig.update_layout(height=140 + 24 * max(len(shown), 3), hovermode="closest", margin=dict(t=70 if subtitle else 50))
    return fig


COLORS_BAND = COLOURS["band"]


def trend_chart(trend: pd.DataFrame, funder: str | None) -> go.Figure:
    """The network's positive-exit rate by quarter with its interval as a band (and a funder's, if any)."""
    fig = go.Figure()
    series = [("network", NETWORK, COLOURS["network"], "rgba(231,111,81,0.15)")]
    if funder:
        series.append(("funder", escape.html(funder), COLOURS["funder"], "rgba(42,157,143,0.15)"))
    for scope, name, colour, band in series:
        part = trend[(trend["scope"] == scope)].sort_values("quarter")
        x = [f"{q.year} Q{(q.month - 1) // 3 + 1}" for q in part["quarter"]]
        single = len(part) == 1  # one quarter (a board or funder's period): a band has no width, so a bar
        if not single:
            fig.add_scatter(x=x + x[::-1], y=list(part["ci_high"]) + list(part["ci_low"])[::-1], fill="toself",
                            mode="lines", fillcolor=band, line=dict(width=0), hoverinfo="skip", showlegend=False)
        interval = dict(type="data", symmetric=False, color=colour, thickness=2, width=12,
                        array=(part["ci_high"] - part["rate"]).tolist(),
                        arrayminus=(part["rate"] - part["ci_low"]).tolist()) if single else None
        fig.add_scatter(x=x, y=part["rate"], mode="lines+markers", name=name, line=dict(color=colour, width=2),
                        marker=dict(size=10 if single else 6), error_y=interval,
                        customdata=part[["exits"]].astype(float).to_numpy(),
                        hovertemplate="%{x}: %{y:.1%} of %{customdata[0]:,} exits<extra>" + name + "</extra>")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="Positive-exit rate")
    fig.update_xaxes(type="category")
    titled(fig, "Positive-exit rate by quarter, with 95% intervals")
    fig.update_layout(hovermode="closest", height=360)
    return fig


def mix_chart(mix: pd.DataFrame, by: str) -> go.Figure:
    """Stacked bars: each group's exits by outcome, as shares (positive outcomes first)."""
    groups = list(dict.fromkeys(mix["group"]))[::-1]
    names = {g: escape.html(g) for g in groups}
    fig = go.Figure()
    for outcome in OUTCOME_ORDER:
        part = mix[mix["outcome"] == outcome].set_index("group").reindex(groups)
        if part["exits"].isna().all():
            continue
        fig.add_bar(y=[names[g] for g in groups], x=part["share"].fillna(0).to_numpy(), orientation="h",
                    name=OUTCOME_LABELS[outcome], marker_color=OUTCOME_COLOURS[outcome], marker_line_width=0,
                    marker_pattern_shape="/" if outcome.endswith("_not_shown") else "",
                    marker_pattern_fgcolor="white", marker_pattern_size=6,
                    customdata=part[["exits"]].fillna(0).astype(float).to_numpy(),
                    hovertemplate="%{y}: %{x:.1%} (%{customdata[0]:,} exits)<extra>" + OUTCOME_LABELS[outcome]
                                  + "</extra>")
    fig.update_layout(barmode="stack", hovermode="closest", height=170 + 26 * len(groups),
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, xanchor="left", traceorder="normal"))
    fig.update_xaxes(tickformat=".0%", range=[0, 1], side="top")
    fig.update_yaxes(automargin=True)
    what = "service type" if by == "service_type" else "program (the largest by exits)"
    titled(fig, f"Outcome mix by {what}")
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, xanchor="left"),
                      margin=dict(b=10, t=80), height=200 + 26 * len(groups))
    return fig


def returns_chart(returns: pd.DataFrame) -> go.Figure:
    """Share of housed clients back in homelessness within 6, 12 and 24 months, with intervals."""
    shown = returns[~returns["suppressed"]]
    x = [f"Within {h} months" for h in shown["horizon_months"]]
    fig = go.Figure()
    fig.add_bar(x=x, y=shown["rate"], marker_color=COLOURS["network"],
                error_y=dict(type="data", symmetric=False, array=shown["ci_high"] - shown["rate"],
                             arrayminus=shown["rate"] - shown["ci_low"], color="#444"),
                customdata=shown[["followed", "returned"]].astype(float).to_numpy(),
                hovertemplate="%{x}: %{y:.1%} (%{customdata[1]:,} of %{customdata[0]:,} clients)<extra></extra>")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="Returned to homelessness")
    titled(fig, "Returns to homelessness after a positive housing exit")
    fig.update_layout(hovermode="closest", height=340, showlegend=False)
    return fig
