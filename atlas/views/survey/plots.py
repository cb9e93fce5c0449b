"""The Survey page's chart (presenting layer, pure): the round's ties by collaboration level, from the
ties the view holds."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from atlas.views.charts import titled

LEVELS = {1: "Networking", 2: "Cooperation", 3: "Coordination", 4: "Coalition", 5: "Collaboration"}


def level_chart(ties: pd.DataFrame, rule: str) -> go.Figure | None:
    """Ties by their collaboration level (the mean of the reported levels, rounded half up)."""
    if not len(ties):
        return None
    levels = (ties["level"].astype(float) + 0.5).astype(int).clip(1, 5)
    counts = levels.value_counts().reindex(list(LEVELS), fill_value=0)
    fig = go.Figure(go.Bar(x=[LEVELS[k] for k in counts.index], y=counts.to_numpy(), marker_color="#264653",
                           name="Ties", hovertemplate="%{x}: %{y:,} ties<extra></extra>"))
    fig.update_yaxes(title="Ties", rangemode="tozero")
    fig.update_xaxes(title="Collaboration level (1 networking to 5 collaboration)")
    fig.update_layout(height=320, showlegend=False)
    named = "at least one side" if rule == "either" else "both sides"
    return titled(fig, f"Ties named by {named}, by collaboration level")
