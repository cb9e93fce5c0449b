"""The network at a glance: the referrals of the agency map summed by region or sector, and where the
summary map places each group. Computing layer: pure functions over frames."""

from __future__ import annotations

import numpy as np
import pandas as pd


def summary(agencies: pd.DataFrame, flows: pd.DataFrame, by: str = "region") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network at a glance: one row per region (or sector) with its agencies, the referrals its agencies
    sent and received (within it counted once) and those kept within it; and the flows between groups.
    Built from the flows the agency map scores, so its totals are the agency map's."""
    group = dict(zip(agencies["agency_id"], agencies[by]))
    f = flows.assign(a=flows["from_agency_id"].map(group), b=flows["to_agency_id"].map(group)).dropna(subset=["a", "b"])
    between = f[f["a"] != f["b"]].groupby(["a", "b"], as_index=False)["referrals"].sum()
    within = f[f["a"] == f["b"]].groupby("a")["referrals"].sum()
    sent = between.groupby("a")["referrals"].sum()
    received = between.groupby("b")["referrals"].sum()
    groups = sorted(agencies[by].dropna().unique(), key=str)
    nodes = pd.DataFrame({"group": groups,
                          "agencies": [int((agencies[by] == g).sum()) for g in groups],
                          "within": [int(within.get(g, 0)) for g in groups],
                          "sent": [int(sent.get(g, 0)) for g in groups],
                          "received": [int(received.get(g, 0)) for g in groups]})
    nodes["referrals"] = nodes["within"] + nodes["sent"] + nodes["received"]
    return nodes, between.rename(columns={"a": "from_group", "b": "to_group"})


def summary_positions(nodes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where the summary map draws its groups (on a circle, in the table's order, the first at the top; y down)
    and their radii (by the square root of their referrals), in map units."""
    n = len(nodes)
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False) - np.pi / 2
    radius = 420 if n > 1 else 0
    top = max(1, int(nodes["referrals"].max() or 1)) if n else 1
    xy = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) if n else np.zeros((0, 2))
    return xy, 18 + 42 * np.sqrt(nodes["referrals"].to_numpy(float) / top)
