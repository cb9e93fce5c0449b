"""Queues and lost clients: each receiving agency as a queue (from `agency_queues`) and the clients
bounced between agencies (from `ping_pong_clients`), as presentation frames and plotly figures built
by pure functions (no Streamlit).
"""

from __future__ import annotations

import json
from itertools import chain
from typing import NamedTuple

import pandas as pd
import plotly.graph_objects as go

from atlas.escape import html as label
from atlas.views.charts import titled

ARRIVALS_COLOR = "#264653"
THROUGHPUT_COLOR = "#2a9d8f"
GROWING_COLOR = "#c1121f"
SHRINKING_COLOR = "#2a9d8f"

QUEUE_COLUMNS = {
    "name": "Agency",
    "sector": "Sector",
    "region": "Region",
    "arrivals_per_week": "Arrivals / week",
    "throughput_per_week": "Decided / week",
    "backlog_start": "Backlog at start",
    "backlog_end": "Backlog at end",
    "backlog_change": "Backlog change",
    "implied_wait_days": "Implied wait (days)",
    "growing": "Queue growing",
}


def _by_wait(frame: pd.DataFrame, min_backlog: int = 0) -> pd.DataFrame:
    """Agencies with at least `min_backlog` waiting first (a queue, not one stray referral), each group
    by longest implied wait; an agency that decided nothing (no wait can be implied) last."""
    substantial = frame["backlog_end"] >= min_backlog
    return frame.assign(_queue=substantial).sort_values(
        ["_queue", "implied_wait_days", "backlog_end", "agency_id"],
        ascending=[False, False, False, True], na_position="last").drop(columns="_queue")


def queue_table(frame: pd.DataFrame, min_backlog: int = 5) -> pd.DataFrame:
    """The `agency_queues` rows as a table to show: readable column names, rates and waits to one
    decimal; agencies with at least `min_backlog` waiting at the end first, each group sorted by the
    wait Little's law implies (longest first; agencies with no decision in the period, whose wait
    cannot be implied, last)."""
    if frame.empty:
        return pd.DataFrame(columns=list(QUEUE_COLUMNS.values()))
    table = _by_wait(frame, min_backlog)[list(QUEUE_COLUMNS)].copy()
    for column in ("arrivals_per_week", "throughput_per_week", "implied_wait_days"):
        table[column] = table[column].astype("float64").round(1)
    table["growing"] = table["growing"].astype(bool)
    return table.rename(columns=QUEUE_COLUMNS).reset_index(drop=True)


def queue_chart(frame: pd.DataFrame, top: int = 15, min_backlog: int = 5) -> go.Figure:
    """Arrivals against decisions per week for the `top` agencies with the longest implied wait, with
    each agency's backlog change over the period written at the end of its bars (▲ growing, ▼ shrinking).

    Agencies with fewer than `min_backlog` referrals waiting at the period's end are left out (a
    single referral waiting at a small agency implies a long wait but is no queue), unless that
    would leave nothing to show."""
    queued = frame[frame["backlog_end"] >= min_backlog]
    rows = _by_wait(queued if len(queued) else frame).head(top)
    names = rows["name"].map(label)
    if names.duplicated().any():
        names = names.where(~names.duplicated(keep=False), names + " (" + rows["agency_id"].map(label) + ")")
    y = names.tolist()
    arrivals = rows["arrivals_per_week"].astype("float64").fillna(0)
    throughput = rows["throughput_per_week"].astype("float64").fillna(0)
    change = rows["backlog_change"].astype("int64")
    waits = rows["implied_wait_days"].astype("float64")

    fig = go.Figure()
    fig.add_bar(y=y, x=arrivals.tolist(), orientation="h", name="Arrivals per week",
                marker_color=ARRIVALS_COLOR, hovertemplate="%{y}: %{x:.1f} referrals arrive a week<extra></extra>")
    fig.add_bar(y=y, x=throughput.tolist(), orientation="h", name="Decided per week",
                marker_color=THROUGHPUT_COLOR,
                hovertemplate="%{y}: %{x:.1f} referrals accepted or declined a week<extra></extra>")
    marks = [f"▲ {c:+,d} backlog" if c > 0 else f"▼ {c:+,d} backlog" if c < 0 else "= backlog" for c in change]
    wait_text = ["no decisions" if pd.isna(w) else f"{w:,.1f} days" for w in waits]
    fig.add_scatter(
        y=y, x=pd.concat([arrivals, throughput], axis=1).max(axis=1).tolist(), mode="text",
        text=marks, textposition="middle right", name="Backlog change over the period",
        showlegend=False,  # the marks say what they are; a text trace's legend entry is a bare "Aa"
        textfont=dict(color=[GROWING_COLOR if c > 0 else SHRINKING_COLOR if c < 0 else "#555" for c in change]),
        customdata=[[int(c), w] for c, w in zip(change, wait_text)],
        hovertemplate="%{y}: backlog %{customdata[0]:+,} over the period; implied wait %{customdata[1]}<extra></extra>",
    )
    fig.update_layout(barmode="group", xaxis_title="Referrals per week", yaxis_title=None,
                      height=max(360, 40 * len(y) + 140))
    fig.update_yaxes(categoryorder="array", categoryarray=y[::-1], automargin=True)
    fig.update_xaxes(range=[0, float(max([*arrivals, *throughput, 0.0])) * 1.3 or 1])
    fig = titled(fig, "Queues: arrivals against decisions per week, longest implied wait first")
    fig.update_layout(hovermode="closest")
    return fig


class PingPongSummary(NamedTuple):
    clients: int  # clients with at least one flagged run
    referrals: int  # referrals in their flagged runs
    agencies: pd.DataFrame  # agency_id, agency, clients, share_of_clients; most involved first


def _json_lists(texts: pd.Series) -> list[list]:
    """Each text of the column (a JSON array) parsed, all in one call to the parser."""
    return json.loads("[" + ",".join(texts.tolist()) + "]")


def _agency_pairs(clients: pd.DataFrame) -> pd.DataFrame:
    """One row per (client, agency involved), from the JSON arrays of `ping_pong_clients`."""
    ids = _json_lists(clients["agency_ids"])
    names = _json_lists(clients["agency_names"])
    return pd.DataFrame({
        "client_id": clients["client_id"].repeat([len(row) for row in ids]).to_numpy(),
        "agency_id": list(chain.from_iterable(ids)),
        "agency": list(chain.from_iterable(names)),
    })


def ping_pong_summary(clients: pd.DataFrame, top: int | None = 15) -> PingPongSummary:
    """How many clients were bounced, in how many referrals, and the agencies most involved (by the
    number of bounced clients whose runs passed through them, as sender or receiver), from
    `ping_pong_clients` rows."""
    columns = ["agency_id", "agency", "clients", "share_of_clients"]
    if clients.empty:
        return PingPongSummary(0, 0, pd.DataFrame(columns=columns))
    pairs = _agency_pairs(clients)
    agencies = (pairs.groupby("agency_id", as_index=False)
                .agg(agency=("agency", "first"), clients=("client_id", "nunique")))
    agencies["share_of_clients"] = agencies["clients"] / len(clients)
    agencies = agencies.sort_values(["clients", "agency", "agency_id"], ascending=[False, True, True])
    if top is not None:
        agencies = agencies.head(top)
    return PingPongSummary(int(len(clients)), int(clients["referrals"].sum()),
                           agencies[columns].reset_index(drop=True))


PING_PONG_COLUMNS = {
    "client_id": "Client (pseudonym)",
    "referrals": "Referrals",
    "agencies": "Agencies",
    "agency_list": "Agencies involved",
    "declined": "Declined",
    "pending": "Pending",
    "first_referred_at": "First referral",
    "last_referred_at": "Last referral",
}


def ping_pong_table(clients: pd.DataFrame) -> pd.DataFrame:
    """The `ping_pong_clients` rows as a table to show: the agencies involved as readable text."""
    if clients.empty:
        return pd.DataFrame(columns=list(PING_PONG_COLUMNS.values()))
    table = clients.assign(agency_list=[", ".join(names) for names in _json_lists(clients["agency_names"])])
    return table[list(PING_PONG_COLUMNS)].rename(columns=PING_PONG_COLUMNS).reset_index(drop=True)
