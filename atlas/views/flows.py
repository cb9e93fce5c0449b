"""Why referrals fail and where they go: decline-reason charts, the capacity signal and the pathways
Sankey, built from the `decline_reasons` and `referral_pathways` query results by pure functions
(no Streamlit).

Every text that comes from the data (agency names, sectors) passes through `escape.html()` before it
reaches a figure: plotly renders a little HTML in labels, so a name such as ``<b>x</b>`` must show
as typed rather than as markup.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from atlas import escape
from atlas.views.charts import titled
from atlas.vocab import DECLINE_REASONS, label

# Decline reasons in a fixed order with fixed colours; no_capacity is the capacity signal, so it
# comes first, in the one strong colour, and says so in the legend. The rest are muted.
REASON_LABELS = {
    "no_capacity": "No capacity (capacity signal)",
    "not_eligible": "Not eligible",
    "client_unreachable": "Client unreachable",
    "client_declined": "Client declined",
    "duplicate": "Duplicate",
    "other": "Other",
}
REASON_COLORS = {
    "no_capacity": "#c1121f",
    "not_eligible": "#457b9d",
    "client_unreachable": "#8fb3c9",
    "client_declined": "#a8a6c9",
    "duplicate": "#c9c9c9",
    "other": "#e3e3e3",
}
REASONS = tuple(DECLINE_REASONS)
CAPACITY_REASON = "no_capacity"

# The stage a referral reached, furthest first, and how it is drawn.
STAGES = ("completed", "started", "accepted", "declined", "pending")
STAGE_LABELS = {
    "completed": "Completed",
    "started": "Started",
    "accepted": "Accepted, not started",
    "declined": "Declined",
    "pending": "Pending",
}
STAGE_COLORS = {
    "completed": "#264653",
    "started": "#2a9d8f",
    "accepted": "#8ab17d",
    "declined": "#e76f51",
    "pending": "#e9c46a",
}
SECTOR_COLOR = "#8d99ae"
AGENCY_COLOR = "#5c677d"


def _agency_labels(frame: pd.DataFrame) -> pd.Series:
    """Each agency's name, with its id added where two agencies share a name."""
    names = frame.groupby("agency_id")["name"].first()
    shared = names.duplicated(keep=False)
    return names.where(~shared, names + " (" + names.index.to_series() + ")").map(escape.html)


def _reason_bars(totals: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal stacked bars: `totals` is indexed by the category (top first), one column per reason."""
    categories = list(totals.index)
    fig = go.Figure()
    for reason in REASONS:
        if reason not in totals.columns or not totals[reason].any():
            continue
        fig.add_bar(
            y=categories, x=totals[reason].tolist(), orientation="h", name=REASON_LABELS[reason],
            marker=dict(color=REASON_COLORS[reason],
                        line=dict(color="#6a040f", width=1.5) if reason == CAPACITY_REASON else dict(width=0)),
            meta=reason,
            hovertemplate="%{y}: %{x:,} declined — " + REASON_LABELS[reason] + "<extra></extra>",
        )
    fig.update_layout(barmode="stack", xaxis_title=None, yaxis_title=None,  # the title says what is counted
                      height=max(320, 28 * len(categories) + 140), legend_traceorder="normal")
    fig.update_yaxes(categoryorder="array", categoryarray=categories[::-1], automargin=True)
    fig = titled(fig, title)
    # the legend goes under the axis (30 px below the plot): at the top, in a half-width column, its rows of
    # reasons ran over the title
    plot_height = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    fig.update_layout(hovermode="closest",
                      legend=dict(orientation="h", yanchor="top", y=-30 / plot_height, xanchor="left", x=0))
    return fig


def _reason_table(frame: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    """Declines per category (rows) and reason (columns, in REASONS order), largest total first."""
    if frame.empty:
        return pd.DataFrame(columns=list(REASONS), dtype="int64")
    table = (frame.assign(_category=by.values)
             .pivot_table(index="_category", columns="decline_reason", values="declines",
                          aggfunc="sum", fill_value=0))
    extra = [c for c in table.columns if c not in REASONS]  # a reason outside the contract counts as other
    if extra:
        table["other"] = table.get("other", 0) + table[extra].sum(axis=1)
        table = table.drop(columns=extra)
    table = table.reindex(columns=list(REASONS), fill_value=0)
    total = table.sum(axis=1)
    capacity = table[CAPACITY_REASON]
    order = pd.DataFrame({"total": total, "capacity": capacity, "key": table.index}).sort_values(
        ["total", "capacity", "key"], ascending=[False, False, True])
    return table.loc[order.index]


def decline_chart_by_agency(frame: pd.DataFrame, top: int = 15) -> go.Figure:
    """Decline reasons of the `top` receiving agencies with the most declines (from `decline_reasons`)."""
    labels = _agency_labels(frame) if len(frame) else pd.Series(dtype=str)
    by = frame["agency_id"].map(labels) if len(frame) else pd.Series(dtype=str)
    table = _reason_table(frame, by).head(top)
    shown = f"top {top} " if len(table) == top and frame["agency_id"].nunique() > top else ""
    return _reason_bars(table, f"Why referrals are declined: {shown}agencies by declined referrals")


def decline_chart_by_service(frame: pd.DataFrame) -> go.Figure:
    """Decline reasons per service type (from `decline_reasons`), most declined first."""
    by = frame["service_type"].map({s: escape.html(label(s)) for s in frame["service_type"].unique()})
    table = _reason_table(frame, by)
    return _reason_bars(table, "Why referrals are declined: declined referrals by service type")


def capacity_signal(frame: pd.DataFrame, min_share: float = 0.5, min_declines: int = 5) -> pd.DataFrame:
    """Agency and service pairs whose declines are mostly for lack of capacity.

    From `decline_reasons` rows: per (agency, service type), the declines, how many were
    `no_capacity` and that share; kept when the share is at least `min_share` and there are at
    least `min_declines` declines. Sorted by share, then no-capacity declines, largest first.
    """
    columns = ["agency_id", "agency", "sector", "region", "service_type", "declines", "no_capacity",
               "no_capacity_share"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    work = frame.assign(no_capacity=frame["declines"].where(frame["decline_reason"] == CAPACITY_REASON, 0))
    pairs = (work.groupby(["agency_id", "service_type"], as_index=False)
             .agg(agency=("name", "first"), sector=("sector", "first"), region=("region", "first"),
                  declines=("declines", "sum"), no_capacity=("no_capacity", "sum")))
    pairs["no_capacity_share"] = pairs["no_capacity"] / pairs["declines"]
    kept = pairs[(pairs["no_capacity_share"] >= min_share) & (pairs["declines"] >= min_declines)
                 & (pairs["no_capacity"] > 0)]
    kept = kept.sort_values(["no_capacity_share", "no_capacity", "agency_id", "service_type"],
                            ascending=[False, False, True, True])
    return kept[columns].reset_index(drop=True)


def _sankey_nodes(rows: pd.DataFrame) -> tuple[dict[tuple, int], list[str], list[str]]:
    """The Sankey's nodes in a stable order (referring sectors, receiving nodes, then stages): each node's
    index by its key, and the nodes' labels and colours."""
    nodes: dict[tuple, int] = {}
    node_labels: list[str] = []
    node_colors: list[str] = []

    def node(key: tuple, text: str, color: str) -> None:
        if key not in nodes:
            nodes[key] = len(node_labels)
            node_labels.append(text)
            node_colors.append(color)

    def sector_text(sector) -> str:
        return escape.html(str(sector).capitalize())

    for sector in sorted(rows["from_sector"].unique()):
        node(("from", sector), sector_text(sector), SECTOR_COLOR)
    receiving = rows.drop_duplicates(["to_kind", "to_sector", "to_agency_id"]).sort_values(["to_kind", "to_node"])
    for r in receiving.itertuples():
        if r.to_kind == "agency":
            node(("agency", r.to_agency_id), escape.html(r.to_node), AGENCY_COLOR)
        else:
            node(("to", r.to_sector), sector_text(r.to_sector), SECTOR_COLOR)
    for stage in STAGES:
        if stage in set(rows["stage"]):
            node(("stage", stage), STAGE_LABELS[stage], STAGE_COLORS[stage])
    return nodes, node_labels, node_colors


def _sankey_links(rows: pd.DataFrame, nodes: dict[tuple, int]) -> dict[str, list]:
    """The Sankey's links, both hops per stage: referring sector -> receiving node, receiving node -> stage
    reached, each in the colour of its stage."""
    links: dict[str, list] = {"source": [], "target": [], "value": [], "color": [], "customdata": []}

    def link(a: int, b: int, n: int, stage: str, which: str) -> None:
        for key, value in zip(links, (a, b, int(n), _rgba(STAGE_COLORS[stage], 0.45), [which, STAGE_LABELS[stage]])):
            links[key].append(value)

    for r in rows.itertuples():
        middle = nodes[("agency", r.to_agency_id) if r.to_kind == "agency" else ("to", r.to_sector)]
        link(nodes[("from", r.from_sector)], middle, r.referrals, r.stage, "referred")
    second = rows.groupby(["to_kind", "to_sector", "to_agency_id", "stage"], dropna=False, sort=False)["referrals"].sum()
    for (kind, sector, agency, stage), n in second.items():
        middle = nodes[("agency", agency) if kind == "agency" else ("to", sector)]
        link(middle, nodes[("stage", stage)], n, stage, "reached")
    return links


def pathways_sankey(frame: pd.DataFrame) -> go.Figure:
    """Referring sector → receiving sector (or agency) → stage reached, from `referral_pathways`.

    Both hops are drawn per stage, so every link carries the colour of the stage its referrals
    reached; each hop's link values add up to the number of referrals shown.
    """
    rows = frame.copy()
    rows["stage_rank"] = rows["stage"].map({s: i for i, s in enumerate(STAGES)})
    rows = rows.sort_values(["stage_rank", "from_sector", "to_kind", "to_node"])
    nodes, node_labels, node_colors = _sankey_nodes(rows)
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=node_labels, color=node_colors, pad=12, thickness=16,
                  line=dict(color="white", width=0.5),
                  hovertemplate="%{label}: %{value:,} referrals<extra></extra>"),
        link=dict(**_sankey_links(rows, nodes),
                  hovertemplate="%{source.label} → %{target.label}: %{value:,} referrals"
                                " (%{customdata[1]})<extra></extra>"),
    ))
    fig.update_layout(height=max(420, 22 * len(node_labels) + 120))
    fig = titled(fig, "Pathways: referring sector → receiving sector or agency → stage reached")
    fig.update_layout(hovermode="closest")
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
