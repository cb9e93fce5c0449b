"""Plotly figures, built from query results by pure functions (no Streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Every figure's look. Set once as the default: naming the template on each figure made plotly copy and
# re-validate the whole template every time (25-40 ms a figure, a third of the Bottlenecks page's build).
pio.templates.default = "plotly_white"

COLORS = {"accepted": "#2a9d8f", "declined": "#e76f51", "pending": "#e9c46a", "referred": "#264653"}


def titled(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        hovermode="x unified",
    )
    return fig


def monthly_axis(fig: go.Figure, months: pd.Series) -> go.Figure:
    """Label a month axis by month ("Oct 2025"), one tick per month up to a year's worth and every k-th
    month beyond. Left to itself, plotly labels a short span by days ("Oct 1 2025, Oct 31, Nov 30")."""
    count = max(1, months.nunique())
    step = -(-count // 12)  # ceil: at most about twelve labels
    fig.update_xaxes(dtick=f"M{step}", tickformat="%b %Y", ticklabelmode="instant")
    return fig


def referral_trend(trend: pd.DataFrame) -> go.Figure:
    """Monthly referrals stacked by what became of them (from the `referral_trend` query)."""
    fig = go.Figure()
    for status in ("accepted", "declined", "pending"):
        fig.add_bar(x=trend["month"], y=trend[status], name=status.capitalize(),
                    marker_color=COLORS[status],
                    hovertemplate="%{y:,} " + status + "<extra></extra>")
    fig.update_layout(barmode="stack", yaxis_title="Referrals", xaxis_title=None)
    return titled(monthly_axis(fig, trend["month"]), "Referrals by month and what became of them")
