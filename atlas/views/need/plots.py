"""The Need vs capacity page's charts (presenting layer): plotly figures drawn from the frames the view
holds (a cell's months, the outlook, the two signals of scarcity), by pure functions.

Names from the data pass through `escape.html` before they reach a figure (plotly renders a little HTML).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas import escape, formats
from atlas.views.charts import COLORS, titled
from atlas.views.need.gaps import filled_cell
from atlas.views.need.words import cell_name

HISTORY_SHOWN = 24  # months of history drawn before the outlook
NEED_COLOUR = COLORS["declined"]
DEMAND_COLOUR = COLORS["referred"]
CAPACITY_COLOUR = COLORS["accepted"]
GAP_FILL = "rgba(231, 111, 81, 0.28)"
SHARE_SCALE = [[0.0, "#f7f4ef"], [0.25, "#f4c7a1"], [0.5, "#e98a5f"], [0.75, "#c8553d"], [1.0, "#7f1d1d"]]
UTILIZATION_SCALE = [[0.0, "#2a9d8f"], [0.35, "#a8d5cf"], [0.5, "#f7f4ef"], [0.7, "#e98a5f"], [1.0, "#7f1d1d"]]


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
