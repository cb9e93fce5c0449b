"""The network map's downloads: the graph for Gephi (GEXF) and other tools (GraphML), the scores and the
one-way pairs as CSV. Presenting layer: files written from a built `NetworkView`'s data."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import networkx as nx

from atlas.exports import safe_csv

if TYPE_CHECKING:
    from atlas.views.network.load import NetworkView


def to_networkx(view: NetworkView) -> nx.DiGraph:
    """The agencies, their scores and the referral flows as a networkx graph (for Gephi)."""
    g = nx.DiGraph()
    for row in view.agencies.itertuples(index=False):
        g.add_node(row.agency_id, label=str(row.name), sector=str(row.sector), region=str(row.region),
                   community=int(row.community), betweenness=float(row.betweenness),
                   referrals_in=int(row.in_strength), referrals_out=int(row.out_strength),
                   cut_point=bool(row.articulation))
    for f in view.flows.itertuples(index=False):
        if f.from_agency_id in g and f.to_agency_id in g:
            extra = {"accepted": int(f.accepted)} if hasattr(f, "accepted") else {}
            g.add_edge(f.from_agency_id, f.to_agency_id, weight=int(f.referrals), agreement=str(f.agreement), **extra)
    return g


def gexf(view: NetworkView) -> bytes:
    """The network as GEXF 1.2 (Gephi's own format)."""
    buffer = io.BytesIO()
    nx.write_gexf(to_networkx(view), buffer)
    return buffer.getvalue()


def graphml(view: NetworkView) -> bytes:
    """The network as GraphML."""
    buffer = io.BytesIO()
    nx.write_graphml(to_networkx(view), buffer)
    return buffer.getvalue()


def scores_csv(view: NetworkView) -> bytes:
    return safe_csv(view.scores)


def one_way_csv(view: NetworkView) -> bytes:
    """Every one-way pair (the page lists the first app.LIST_ROWS, heaviest first)."""
    return safe_csv(view.one_way)
