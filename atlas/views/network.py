"""The Board's network map: the declared network (formal and informal ties) laid over the real one
(referral flows), with the scores that say who brokers, who is central and who is a single point of
failure.

Everything here is pure: `build(db, filters, choice)` reads named queries and returns frames, scores
and the map as a `MapDrawing` (what vis-network draws: nodes, edges, options and the legend), which the
page draws in place (atlas.app.network_map) and `drawing_html` writes as one self-contained HTML document
for the download and the tests. Victim-service agencies are never drawn, named or scored; the
referrals that involve them are only counted.

Graph work uses igraph (C): a seeded Fruchterman-Reingold layout and centralities stay within a
second or two at 5,000 agencies, where pure-Python layouts take minutes. Layouts are cached by graph.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import igraph as ig
import jinja2
import networkx as nx
import numpy as np
import pandas as pd
import pyvis
from pyvis.network import Network

from atlas import exports, formats
from atlas.filters import Filters
from atlas.vocab import group_label, instrument_label, label

SEED = 7
LAYERS = {"formal": "Formal agreements", "informal": "Informal ties", "flows": "Referral flows"}
SIZE_MEASURES = {"volume": "Referral volume", "degree": "Partners (degree)", "betweenness": "Brokerage (betweenness)"}
# Okabe & Ito's palette, told apart with each common colour-vision deficiency (tests/test_accessibility.py simulates
# them: every pair at least 10 CIEDE2000 apart), and a shape per sector, so that the sector is never read from
# colour alone (the legend draws each shape; the tooltip names the sector). vis-network draws seven marker
# shapes with the name outside: the eighth sector is a dot with a dashed border.
SECTOR_COLOURS = {
    "government": "#0072b2", "nonprofit": "#d55e00", "faith": "#cc79a7", "health": "#009e73",
    "education": "#e69f00", "business": "#555555", "justice": "#56b4e9", "community": "#f0e442",
}
SECTOR_SHAPES = {
    "government": "square", "nonprofit": "dot", "faith": "triangle", "health": "diamond",
    "education": "star", "business": "triangleDown", "justice": "hexagon", "community": "dot",
}
DASHED_SECTORS = frozenset({"community"})
# the same marks in plotly (the board pack's map picture), where a dashed border is not drawn: a dot with a cross
PLOTLY_SYMBOLS = {"square": "square", "dot": "circle", "triangle": "triangle-up", "diamond": "diamond", "star": "star",
                  "triangleDown": "triangle-down", "hexagon": "hexagon"}


def plotly_symbol(sector: str) -> str:
    return "circle-x" if sector in DASHED_SECTORS else PLOTLY_SYMBOLS[SECTOR_SHAPES.get(sector, "dot")]
TIE_COLOURS = {"formal": "#577590", "informal": "#90be6d"}
FLOW_COLOURS = {"formal": "#577590", "informal": "#43aa8b", "none": "#f3722c"}
AGREEMENTS = {"formal": "Formal agreement", "informal": "Informal tie", "none": "No declared tie"}  # a flow's
DIMMED = "rgba(200,200,200,0.35)"
EXACT_BETWEENNESS_UP_TO = 1500  # agencies; above it betweenness is estimated from sampled sources
BETWEENNESS_SOURCES = 400  # sources sampled (seeded) for the estimate
LABELLED_NODES = 15  # names drawn on the map for the largest nodes (all names show on hover)
KAMADA_KAWAI_UP_TO = 300  # agencies; a clearer layout for small networks, too slow for large ones
CLUSTER_BY = {"community": "Communities (who refers to whom)", "region": "Regions"}
CLUSTER_WORDS = {  # the legend's sentence on how the dots are grouped
    "community": "Agencies that refer mostly among themselves are drawn together; lines that cross the gaps "
                 "between groups are the bridges.",
    "region": "Each region's agencies are drawn together; lines that cross the gaps between regions are the bridges.",
}
CLUSTER_GAP = 0.35  # empty space around each cluster, as a share of its radius
MAP_FONT = "Source Sans, Source Sans Pro, sans-serif"  # the page's own font first, as the legend (network_map.css)
FRAME_ASPECT = 1.6  # the map's frame, width over height (the page's map at about 1,100 px by 680)

_TEMPLATES = jinja2.Environment(
    loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        jinja2.FileSystemLoader(Path(pyvis.__file__).parent / "templates"),  # vis-network, inlined
    ]),
    autoescape=True,
)

SCORE_COLUMNS = {
    "name": "Agency", "sector": "Sector", "region": "Region", "community": "Community",
    "in_degree": "Referred in by (agencies)", "out_degree": "Refers out to (agencies)",
    "in_strength": "Referrals in", "out_strength": "Referrals out", "betweenness": "Brokerage (betweenness)",
    "articulation": "Cut point",
}


@dataclass(frozen=True)
class MapChoice:
    """What the board member asked the map to show."""

    layers: tuple[str, ...] = tuple(LAYERS)
    size_by: str = "volume"
    min_referrals: int = 1  # flows below this are not drawn (or scored)
    top_edges: int = 150  # at most this many flows (the strongest) and as many declared ties
    focus: str | None = None  # an agency whose ego network is highlighted
    steps: int = 1  # 1 or 2 steps out from the focus
    group: tuple[str, str] | None = None  # ("region" or "sector", value): the agency map of that group only
    cluster_by: str = "community"  # the agencies are laid out in clusters of this (a key of CLUSTER_BY)


def default_choice(min_cell: int | None = None) -> MapChoice:
    """The map as the page first draws it (its controls' defaults): flows of 5 referrals or more, or of at
    least min_cell in the board's and funders' views."""
    return MapChoice(min_referrals=max(5, min_cell or 1))


@dataclass(frozen=True)
class FormalVersusReal:
    """Where the declared network and the real one part ways, in figures: the flows with no formal agreement
    behind them and the referrals they carry, the declared ties that carried none, the pairs referred one way
    only. Every figure adds up the flows the view scores (in the board's and funders' views, flows of at least
    min_cell referrals, each of them published), so none is a small cell."""
    unagreed_flows: int  # scored flows with no formal agreement in force between their agencies
    unagreed_referrals: int  # the referrals those flows carry
    referrals: int  # the referrals of every scored flow
    dormant: int  # declared ties in force in the period that carried no referral either way
    ties: int  # declared ties in force in the period (victim-service agencies' aside)
    one_way: int  # pairs with at least `one_way_min` referrals one way and none back
    one_way_min: int

    @property
    def unagreed_share(self) -> float | None:
        """The share of the scored flows' referrals that run with no formal agreement."""
        return self.unagreed_referrals / self.referrals if self.referrals else None


def without_agreement(flows: pd.DataFrame) -> pd.Series:
    """Which flows run with no formal agreement in force between their agencies (an informal tie or none)."""
    return flows["agreement"] != "formal"


def formal_versus_real(flows: pd.DataFrame, ties: pd.DataFrame, dormant: pd.DataFrame, one_way: pd.DataFrame,
                       one_way_min: int) -> FormalVersusReal:
    """The figures of the scored `flows`, the declared `ties` in force, and the lists already made of them:
    the `dormant` agreements and the `one_way` pairs (of at least `one_way_min` referrals)."""
    unagreed = without_agreement(flows)
    return FormalVersusReal(
        unagreed_flows=int(unagreed.sum()), unagreed_referrals=int(flows.loc[unagreed, "referrals"].sum()),
        referrals=int(flows["referrals"].sum()), dormant=len(dormant), ties=len(ties), one_way=len(one_way),
        one_way_min=one_way_min)


@dataclass(frozen=True)
class NetworkView:
    agencies: pd.DataFrame  # drawn agencies with their scores (raw column names)
    scores: pd.DataFrame  # the same, with readable headings, strongest brokers first
    summary: dict  # network-level figures
    cut_points: pd.DataFrame  # agency whose closure cuts others off, and whom
    drawing: MapDrawing  # the map: what vis-network draws, and its legend
    informal_flows: pd.DataFrame  # heavy flows with no formal agreement
    dormant: pd.DataFrame  # declared agreements that carried no referral
    one_way: pd.DataFrame  # pairs where referrals go one way only
    formal_real: FormalVersusReal  # the same, in figures
    focus_partners: pd.DataFrame  # the focus agency's partners and how they are tied
    hidden_referrals: int | None  # referrals to or from victim-service agencies (None in board views)
    flows: pd.DataFrame  # every flow scored (victim-service agencies and weak flows left out)
    flows_drawn: int
    choice: MapChoice = field(default_factory=MapChoice)
    not_drawn: int = 0  # agencies with no flow or tie on the map, left out of it (they are in the tables)
    layout: MapLayout | None = None  # what the map draws and where (for static pictures and measures)
    min_cell: int | None = None  # the board's and funders' small-cell threshold (None: the directors' view)

    @property
    def html(self) -> str:
        """The map as one self-contained HTML document (the download)."""
        return drawing_html(self.drawing)

    @property
    def flows_total(self) -> int:
        return len(self.flows)

    @property
    def map_agencies(self) -> pd.DataFrame:
        """The agencies the map draws, as their tooltips describe them (the map's text alternative)."""
        return map_agencies_table(self.layout, self.min_cell)

    @property
    def map_flows(self) -> pd.DataFrame:
        """The referral flows the map draws (its arrows), as their tooltips describe them."""
        return map_flows_table(self.layout, self.choice, restricted=self.min_cell is not None)

    @property
    def map_ties(self) -> pd.DataFrame:
        """The declared ties the map draws (its lines without arrows), as their tooltips describe them."""
        return map_ties_table(self.layout, self.choice, restricted=self.min_cell is not None)


def build(db, filters: Filters, choice: MapChoice = MapChoice(), min_cell: int | None = None) -> NetworkView:
    """The map, scores and tables for the filters; `db` is anything with `.query(name, **params)`.

    With `min_cell` (board and funder views) the map is built from flows of at least min_cell
    referrals only, so every figure on it (volumes, partners, tooltips, exports) adds up shown flows;
    if everything left out of the period's referral total would then add up to 1..min_cell-1, the
    smallest shown flows are left out too, so the Overview's total cannot be used to work it out.
    Accepted counts and referral counts of declared ties are not shown, and an agency's partner
    with only small flows reads "fewer than min_cell", never a number."""
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    flows = db.query("network_edges", **filters.params_for("network_edges"))
    ties = db.query("partnership_activity", **filters.params_for("partnership_activity"))
    keys = ["agency_a_id", "agency_b_id", "kind", "instrument", "started_on"]
    rated = db.query("partnership_quality", start=filters.start, end=filters.end)[[*keys, "trust", "value"]]
    ties = ties.merge(rated.drop_duplicates(keys), on=keys, how="left")  # partner-survey ratings, where given

    protected = set(agencies.loc[agencies["is_victim_service"], "agency_id"])
    touches = flows["from_agency_id"].isin(protected) | flows["to_agency_id"].isin(protected)
    hidden_referrals = int(flows.loc[touches, "referrals"].sum())
    every_flow = flows[~touches].reset_index(drop=True)
    threshold = choice.min_referrals if min_cell is None else max(choice.min_referrals, int(min_cell))
    flows = every_flow[every_flow["referrals"] >= threshold].reset_index(drop=True)
    if min_cell is not None:
        total = int(db.query("network_summary", **filters.params_for("network_summary"))["referrals"].iloc[0])
        flows = complement_flows(flows, total, int(min_cell))
        choice = replace(choice, min_referrals=threshold)
    ties = ties[~(ties["agency_a_id"].isin(protected) | ties["agency_b_id"].isin(protected))].reset_index(drop=True)

    # the distinct ids first: isin on Arrow strings converts every value it is given one by one
    ends = set(flows["from_agency_id"].unique()) | set(flows["to_agency_id"].unique()) \
        | set(ties["agency_a_id"].unique()) | set(ties["agency_b_id"].unique())
    involved = agencies["agency_id"].isin(ends)
    shown = agencies[~agencies["is_victim_service"] & (agencies["in_scope"] | involved)]
    if choice.group is not None:  # the agency map of one region or sector, opened from the summary
        by, value = choice.group
        shown = shown[shown[by] == value]
        inside = set(shown["agency_id"])
        flows = flows[flows["from_agency_id"].isin(inside) & flows["to_agency_id"].isin(inside)].reset_index(drop=True)
        every_flow = every_flow[every_flow["from_agency_id"].isin(inside) & every_flow["to_agency_id"].isin(inside)]
        ties = ties[ties["agency_a_id"].isin(inside) & ties["agency_b_id"].isin(inside)].reset_index(drop=True)
    scored, summary, cut_points = score(shown.reset_index(drop=True), flows)
    focus = choice.focus if choice.focus in set(scored["agency_id"]) else None
    choice = replace(choice, focus=focus)

    names = dict(zip(scored["agency_id"], scored["name"]))
    drawn = flows.nlargest(choice.top_edges, "referrals") if len(flows) > choice.top_edges else flows
    restricted = min_cell is not None
    layout = map_layout(scored, drawn, ties, choice)
    one_way_min = max(10, threshold) if restricted else 10
    one_way = one_way_pairs(flows, names, min_referrals=one_way_min, every_flow=every_flow)
    dormant = dormant_agreements(ties, names)
    return NetworkView(
        agencies=scored,
        scores=scored.sort_values("betweenness", ascending=False)[list(SCORE_COLUMNS)].rename(columns=SCORE_COLUMNS),
        summary=summary,
        cut_points=cut_points,
        drawing=map_drawing(scored, drawn, ties, choice, restricted=restricted, min_cell=min_cell, layout=layout),
        informal_flows=informal_flows(flows, names, accepted=not restricted),
        dormant=dormant,
        one_way=one_way,
        formal_real=formal_versus_real(flows, ties, dormant, one_way, one_way_min),
        focus_partners=partners(focus, flows, ties, names, every_flow=every_flow,
                                min_cell=min_cell) if focus else pd.DataFrame(),
        hidden_referrals=None if restricted else hidden_referrals,
        flows=flows if not restricted else flows.drop(columns="accepted"),
        flows_drawn=len(drawn),
        choice=choice,
        not_drawn=len(scored) - len(layout.agencies),
        layout=layout,
        min_cell=min_cell,
    )


def complement_flows(flows: pd.DataFrame, total: int, min_cell: int) -> pd.DataFrame:
    """The shown flows less the smallest ones, as long as what is left out of `total` (the period's
    published referral count) adds up to 1..min_cell-1, the complementary rule of atlas.views.suppression."""
    flows = flows.sort_values(["referrals", "from_agency_id", "to_agency_id"], ascending=[False, True, True])
    kept = len(flows)
    concealed = total - int(flows["referrals"].sum())
    values = flows["referrals"].to_numpy()
    while 0 < concealed < min_cell and kept:
        kept -= 1
        concealed += int(values[kept])
    return flows.head(kept).sort_values(["referrals", "from_agency_id", "to_agency_id"],
                                        ascending=[False, True, True]).reset_index(drop=True)


def _indices(agency_ids, a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions of two id columns in `agency_ids` (-1 where absent), vectorised."""
    index = pd.Index(agency_ids)
    return index.get_indexer(a), index.get_indexer(b)


def _graph(agency_ids: list[str], flows: pd.DataFrame) -> ig.Graph:
    """Directed graph of the flows, weighted by referrals, on the given agencies (in that order)."""
    src, dst = _indices(agency_ids, flows["from_agency_id"], flows["to_agency_id"])
    g = ig.Graph(n=len(agency_ids), edges=np.column_stack([src, dst]).tolist(), directed=True)
    g.es["weight"] = flows["referrals"].astype(float).tolist()
    return g


def score(agencies: pd.DataFrame, flows: pd.DataFrame, *, cut_off_lists: bool = True
          ) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Per-agency scores, network figures and cut points of the referral network (with
    `cut_off_lists=False`, without the table of what each cut point's closure would cut off, for
    callers that only need the scores).

    Degree counts distinct partner agencies; strength counts referrals. Betweenness (brokerage) is
    the share of shortest paths between other agencies that pass through this one, on the undirected
    network where a strong tie is a short step (distance = 1 / referrals); exact up to
    EXACT_BETWEENNESS_UP_TO agencies, above that estimated from the shortest paths of a seeded sample
    of BETWEENNESS_SOURCES source agencies, scaled up (Brandes and Pich, 2007). Communities are
    Louvain (multilevel) on referral volume, seeded. Cut points are articulation points: agencies
    whose closure would split the network; what each one's closure cuts off is `cut_off_by`.
    """
    ids = agencies["agency_id"].tolist()
    g = _graph(ids, flows)
    u = g.as_undirected(mode="collapse", combine_edges="sum")  # one tie per pair, referrals both ways
    n = len(ids)
    out = agencies.copy()
    out["in_degree"] = g.degree(mode="in", loops=False)
    out["out_degree"] = g.degree(mode="out", loops=False)
    out["in_strength"] = np.asarray(g.strength(mode="in", weights="weight"), dtype=int)
    out["out_strength"] = np.asarray(g.strength(mode="out", weights="weight"), dtype=int)
    out["degree"] = u.degree()
    out["betweenness"] = _betweenness(n, tuple(u.get_edgelist()), tuple(u.es["weight"]))
    ig.set_random_number_generator(random.Random(SEED))
    communities = u.community_multilevel(weights="weight") if u.ecount() else None
    membership = communities.membership if communities else list(range(n))
    out["community"] = _renumber(membership)

    cut = set(u.articulation_points())
    out["articulation"] = [i in cut for i in range(n)]
    names = out["name"].astype(str).tolist()
    cut_rows = []
    if cut_off_lists and cut:
        for i, cut_off in sorted(cut_off_by(u.get_adjlist()).items(), key=lambda item: ids[item[0]]):
            listed = sorted(names[j] for j in cut_off)
            cut_rows.append({"agency_id": ids[i], "agency": names[i], "cut_off": len(listed),
                             "agencies_cut_off": ", ".join(listed)})
    cut_points = pd.DataFrame(cut_rows, columns=["agency_id", "agency", "cut_off", "agencies_cut_off"]) \
        .sort_values(["cut_off", "agency"], ascending=[False, True]).reset_index(drop=True)

    degrees = np.asarray(u.degree())
    summary = {
        "agencies": n,
        "flows": g.ecount(),
        "referrals": int(flows["referrals"].sum()),
        "density": g.ecount() / (n * (n - 1)) if n > 1 else None,
        "reciprocity": g.reciprocity() if g.ecount() else None,
        "centralization": float((degrees.max() - degrees).sum() / ((n - 1) * (n - 2))) if n > 2 else None,
        "components": len(u.connected_components()),
        "cut_points": len(cut),
        "exact_betweenness": n <= EXACT_BETWEENNESS_UP_TO,
    }
    return out, summary, cut_points


def cut_off_by(adjacency: list[list[int]]) -> dict[int, list[int]]:
    """For each cut point of an undirected graph (given as adjacency lists), the vertices its closure would cut off.

    Only the cut point's own connected part can be split by its closure (vertices never connected to it are not
    cut off). Of the pieces its part falls into, the largest stays connected to the network (between pieces of
    the same size, the one holding the lowest vertex number) and the others are cut off.

    One depth-first search finds them all (Hopcroft and Tarjan, 1973), in time linear in the graph: a child `c`
    of `v` in the search tree whose subtree reaches no higher than `v` (low[c] >= order[v]) is a piece of its own
    when `v` closes, and the subtree is the run of vertices numbered order[c] .. order[c] + size[c] - 1 in the
    search's order; what is left of `v`'s part, if anything, is one more piece."""
    n = len(adjacency)
    order, low, size = [-1] * n, [0] * n, [1] * n
    visit: list[int] = []  # vertices in the order the search reached them
    pieces: dict[int, list[int]] = {}  # cut point -> the children that head a piece of their own
    part_of: list[int] = [0] * n  # the root of each vertex's connected part
    part_size: dict[int, int] = {}
    for root in range(n):
        if order[root] >= 0:
            continue
        order[root] = low[root] = len(visit)
        visit.append(root)
        part_of[root] = root
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            v, parent, neighbours = stack[-1]
            for w in neighbours:
                reached = order[w]
                if reached < 0:
                    order[w] = low[w] = len(visit)
                    visit.append(w)
                    part_of[w] = root
                    stack.append((w, v, iter(adjacency[w])))
                    break
                if w != parent and reached < low[v]:
                    low[v] = reached
            else:
                stack.pop()
                if parent >= 0:
                    if low[v] < low[parent]:
                        low[parent] = low[v]
                    size[parent] += size[v]
                    if low[v] >= order[parent]:
                        pieces.setdefault(parent, []).append(v)
        part_size[root] = size[root]
    out = {}
    for v, heads in pieces.items():
        if v == part_of[v] and len(heads) < 2:
            continue  # a root with one child piece is no cut point
        parts = [visit[order[c]:order[c] + size[c]] for c in heads]
        rest = part_size[part_of[v]] - 1 - sum(size[c] for c in heads)  # the piece holding v's parent
        if rest:
            whole = visit[order[part_of[v]]:order[part_of[v]] + part_size[part_of[v]]]
            parts.append(_Remainder(whole, v, list(parts), rest))
        largest = max(len(p) for p in parts)
        tied = [k for k, p in enumerate(parts) if len(p) == largest]
        stays = tied[0] if len(tied) == 1 else min(tied, key=lambda k: min(parts[k]))
        out[v] = [j for k, p in enumerate(parts) if k != stays for j in p]
    return out


class _Remainder:
    """What is left of a connected part when a cut point and its child pieces are taken out (listed only when asked:
    usually it is the piece that stays)."""

    def __init__(self, whole: list[int], v: int, pieces: list[list[int]], count: int):
        self.whole, self.v, self.pieces, self.count = whole, v, pieces, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        taken = {j for piece in self.pieces for j in piece}
        return (j for j in self.whole if j != self.v and j not in taken)


@lru_cache(maxsize=16)
def _betweenness(n: int, edges: tuple[tuple[int, int], ...], weights: tuple[float, ...]) -> np.ndarray:
    """Normalised weighted betweenness (distance = 1 / referrals) of an undirected graph (cached)."""
    if n <= 2 or not edges:
        return np.zeros(n)
    g = ig.Graph(n=n, edges=list(edges))
    distance = [1.0 / w for w in weights]
    if n <= EXACT_BETWEENNESS_UP_TO:
        raw = np.asarray(g.betweenness(weights=distance, directed=False))
    else:
        sources = random.Random(SEED).sample(range(n), BETWEENNESS_SOURCES)
        raw = np.asarray(g.betweenness(weights=distance, directed=False, sources=sources)) * n / len(sources)
    return raw / ((n - 1) * (n - 2) / 2)


def _renumber(membership: list[int]) -> list[int]:
    """Community numbers 1, 2, ... from the largest community down (stable across runs)."""
    sizes = pd.Series(membership).value_counts()
    order = {c: i + 1 for i, c in enumerate(sorted(sizes.index, key=lambda c: (-sizes[c], c)))}
    return [order[m] for m in membership]


def _spread(n: int) -> float:
    """Half-width of the layout in map units: wide enough that nodes overlap little after fit-to-view;
    node sizes and label fonts grow with it so they stay legible."""
    return 900 + 25 * np.sqrt(n)


@lru_cache(maxsize=16)
def _layout(n: int, pairs: tuple[tuple[int, int, float], ...]) -> tuple[tuple[float, float], ...]:
    """Seeded Fruchterman-Reingold positions for n nodes and weighted undirected pairs (cached)."""
    if n < 2:  # nothing to lay out (a map with no drawn agency, or one)
        return tuple((0.0, 0.0) for _ in range(n))
    g = ig.Graph(n=n, edges=[(a, b) for a, b, _ in pairs])
    ig.set_random_number_generator(random.Random(SEED))
    if n <= KAMADA_KAWAI_UP_TO:
        layout = g.layout_kamada_kawai()
    else:
        layout = g.layout_fruchterman_reingold(niter=500 if n <= 2000 else 300, grid="auto")
    coords = np.asarray(layout.coords, dtype=float)
    if len(coords):
        coords -= coords.mean(axis=0)
        span = np.abs(coords).max() or 1.0
        coords *= _spread(n) / span
    return tuple(map(tuple, coords))


def _pairs(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame) -> tuple[tuple[int, int, float], ...]:
    """Weighted undirected pairs (agency positions, referrals both ways + 1 per declared tie)."""
    ids = agencies["agency_id"]
    fa, fb = _indices(ids, flows["from_agency_id"], flows["to_agency_id"])
    ta, tb = _indices(ids, ties["agency_a_id"], ties["agency_b_id"])
    both = pd.DataFrame({"a": np.concatenate([fa, ta]), "b": np.concatenate([fb, tb]),
                         "w": np.concatenate([flows["referrals"].to_numpy(float), np.ones(len(ta))])})
    both = both[(both["a"] >= 0) & (both["b"] >= 0) & (both["a"] != both["b"])]
    lo, hi = np.minimum(both["a"], both["b"]), np.maximum(both["a"], both["b"])
    pairs = both.assign(a=lo, b=hi).groupby(["a", "b"], as_index=False)["w"].sum()
    return tuple((int(a), int(b), float(w)) for a, b, w in pairs.itertuples(index=False, name=None))


def positions(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame,
              clusters: pd.Series | None = None) -> np.ndarray:
    """Server-side layout of the agencies over flows and declared ties together; with `clusters` (a group
    label per agency: its community or region), each group is laid out on its own and the groups are then
    placed apart, so ties inside a group are short and ties between groups visibly bridge."""
    pairs = _pairs(agencies, flows, ties)
    if clusters is None:
        return np.asarray(_layout(len(agencies), pairs)).reshape(-1, 2)
    codes = pd.factorize(clusters.astype(str).to_numpy(), sort=True)[0]
    return np.asarray(_clustered_layout(tuple(int(c) for c in codes), pairs)).reshape(-1, 2)


def _unit(coords: np.ndarray) -> np.ndarray:
    """Coordinates centred on 0 and scaled into the unit disc."""
    coords = coords - coords.mean(axis=0)
    span = np.sqrt((coords ** 2).sum(axis=1)).max() if len(coords) else 0.0
    return coords / span if span > 0 else coords


@lru_cache(maxsize=16)
def _clustered_layout(membership: tuple[int, ...], pairs: tuple[tuple[int, int, float], ...]
                      ) -> tuple[tuple[float, float], ...]:
    """Seeded positions in clusters: each cluster laid out alone in a disc whose area grows with its agencies,
    the discs placed by the referrals between them (a weighted layout of the cluster graph) and then pushed
    apart until none overlaps another, biggest clusters nearest the middle."""
    n = len(membership)
    if n < 2:
        return tuple((0.0, 0.0) for _ in range(n))
    member = np.asarray(membership)
    k = int(member.max()) + 1
    local = np.zeros((n, 2))
    for c in range(k):
        inside = np.flatnonzero(member == c)
        if len(inside) == 1:
            continue
        where = {int(i): j for j, i in enumerate(inside)}
        sub = tuple((where[a], where[b], w) for a, b, w in pairs if a in where and b in where)
        local[inside] = _unit(_cluster_disc(len(inside), sub))
    counts = np.bincount(member, minlength=k).astype(float)
    radius = np.sqrt(counts)  # area proportional to the agencies in the cluster
    # the cluster graph: referrals (and declared ties) between clusters
    between: dict[tuple[int, int], float] = {}
    for a, b, w in pairs:
        ca, cb = int(member[a]), int(member[b])
        if ca != cb:
            key = (min(ca, cb), max(ca, cb))
            between[key] = between.get(key, 0.0) + w
    if k == 1:
        centres = np.zeros((1, 2))
    else:
        g = ig.Graph(n=k, edges=list(between))
        ig.set_random_number_generator(random.Random(SEED))
        weights = list(between.values())
        centres = np.asarray((g.layout_kamada_kawai() if k <= KAMADA_KAWAI_UP_TO and g.ecount()
                              else g.layout_fruchterman_reingold(weights=weights or None, niter=500)).coords, float)
        centres = _unit(centres) * radius.sum() * 0.6
        centres[:, 0] *= np.sqrt(FRAME_ASPECT)  # the frame is wider than tall
        centres[:, 1] /= np.sqrt(FRAME_ASPECT)
        centres = _separate(centres, radius * (1 + CLUSTER_GAP))
    coords = _landscape(centres[member] + local * radius[member, None])
    span = np.abs(coords).max() or 1.0
    return tuple(map(tuple, coords * (_spread(n) / span)))


def _cluster_disc(n: int, pairs: tuple[tuple[int, int, float], ...]) -> np.ndarray:
    """One cluster's layout: its largest connected part in the middle, and the parts with no tie to it (often
    single agencies whose ties all lead out of the cluster) in a ring around it, not flung to the far side."""
    g = ig.Graph(n=n, edges=[(a, b) for a, b, _ in pairs])
    parts = sorted(g.connected_components(), key=lambda part: (-len(part), min(part)))
    out = np.zeros((n, 2))
    main = parts[0]
    if len(main) > 1:
        where = {i: j for j, i in enumerate(main)}
        sub = tuple((where[a], where[b], w) for a, b, w in pairs if a in where)
        out[main] = _unit(np.asarray(_layout(len(main), sub)).reshape(-1, 2)) * np.sqrt(len(main) / n)
    rest = parts[1:]
    if rest:
        ring = np.sqrt(len(main) / n) + 0.5 / np.sqrt(n)
        for k, part in enumerate(rest):
            angle = 2 * np.pi * k / len(rest) - np.pi / 2
            centre = ring * np.array([np.cos(angle), np.sin(angle)])
            if len(part) > 1:
                where = {i: j for j, i in enumerate(part)}
                sub = tuple((where[a], where[b], w) for a, b, w in pairs if a in where)
                out[part] = centre + _unit(np.asarray(_layout(len(part), sub)).reshape(-1, 2)) * np.sqrt(len(part) / n)
            else:
                out[part] = centre
    return out


def _separate(centres: np.ndarray, radius: np.ndarray, rounds: int = 400) -> np.ndarray:
    """Discs moved apart until none overlaps another, and drawn together where the frame has room: each round,
    every overlapping pair is pushed apart along the line between them, and every disc is pulled a little
    towards the middle (biggest discs most), so no cluster drifts away into a corner."""
    c = centres.copy()
    rng = np.random.default_rng(SEED)
    for step in range(rounds):
        delta = c[:, None, :] - c[None, :, :]
        dist = np.sqrt((delta ** 2).sum(axis=2))
        need = radius[:, None] + radius[None, :]
        np.fill_diagonal(dist, np.inf)
        overlap = np.clip(need - dist, 0, None)
        if step >= rounds - 50 and not overlap.any():
            break
        same = dist == 0
        if same.any():  # two discs at one point: nudge them apart, seeded
            c += rng.normal(scale=1e-3, size=c.shape) * same.any(axis=1)[:, None]
            continue
        direction = delta / dist[:, :, None]
        share = radius[None, :] / need  # the smaller disc moves more
        c += 0.5 * (direction * (overlap * share)[:, :, None]).sum(axis=1)
        if step < rounds - 50:
            c -= 0.02 * (c - (c * radius[:, None]).sum(axis=0) / radius.sum())
    return c


def _landscape(coords: np.ndarray) -> np.ndarray:
    """Coordinates centred and turned so that their longest spread lies across the frame (which is wider than
    tall); the turn is a rotation, so every distance and cluster is kept, and the sign of each axis is fixed
    by the data, so the same data gives the same picture."""
    coords = coords - coords.mean(axis=0)
    if len(coords) < 2:
        return coords
    _, vectors = np.linalg.eigh(np.cov(coords.T))
    main = vectors[:, -1]
    main = main if main[0] >= 0 else -main
    turned = coords @ np.array([[main[0], -main[1]], [main[1], main[0]]])
    return turned

def ego(focus: str, steps: int, flows: pd.DataFrame, ties: pd.DataFrame) -> set[str]:
    """Agencies within `steps` of the focus over flows and ties (either direction)."""
    neighbours: dict[str, set[str]] = {}
    for a, b in list(zip(flows["from_agency_id"], flows["to_agency_id"])) + \
            list(zip(ties["agency_a_id"], ties["agency_b_id"])):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    reached, frontier = {focus}, {focus}
    for _ in range(steps):
        frontier = {n for f in frontier for n in neighbours.get(f, ())} - reached
        reached |= frontier
    return reached


def _sizes(agencies: pd.DataFrame, measure: str) -> np.ndarray:
    """Node radii in map units: 1 to 5 hundredths of the layout's spread, by the square root of the measure."""
    values = {
        "volume": agencies["in_strength"] + agencies["out_strength"],
        "degree": agencies["degree"],
        "betweenness": agencies["betweenness"],
    }[measure].astype(float).to_numpy()
    top = values.max() if len(values) and values.max() > 0 else 1.0
    unit = _spread(len(agencies)) / 100
    return unit * (1 + 4 * np.sqrt(values / top))


def _tooltip(row, min_cell: int | None = None) -> str:
    """Plain text (vis-network shows string titles with innerText, never as HTML). With `min_cell` (board
    and funder views) the figures count only the flows drawn, of at least min_cell referrals, and say so: an
    agency whose flows are all smaller reads "hidden", never 0."""
    if min_cell is None:
        volume = f"Referrals in {row.in_strength:,} · out {row.out_strength:,}"
    elif row.in_strength or row.out_strength:
        volume = (f"Referrals in flows of {min_cell} or more: in {row.in_strength:,} · out {row.out_strength:,} "
                  f"(smaller flows hidden)")
    else:
        volume = f"Referrals: hidden (every flow it has is of fewer than {min_cell})"
    return "\n".join([
        str(row.name_),
        f"{formats.words(row.sector)} · {row.region}",
        volume,
        f"Partners: referred in by {row.in_degree}, refers out to {row.out_degree}",
        f"Brokerage (betweenness) {row.betweenness:.3f} · community {row.community}",
    ] + (["Cut point: its closure would split the network"] if row.articulation else []))


def label_box(name: str, x: float, y: float, size: float, font: float) -> tuple[float, float, float, float]:
    """Where vis-network draws a dot's label, in map units: centred under the dot (left, top, right, bottom);
    the width allows 0.6 of the font size per character, a little more than the map's sans-serif needs."""
    width, height = 0.6 * font * len(name), 1.25 * font
    top = y + size + 0.15 * font
    return (x - width / 2, top, x + width / 2, top + height)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def readable_labels(agencies: pd.DataFrame, xy: np.ndarray, sizes: np.ndarray, font: float,
                    limit: int = LABELLED_NODES) -> list[str]:
    """The agencies whose names the map writes: the largest dots first (by the chosen measure), each only if
    its label would overlap no label already written, nor a larger dot (a label is drawn with a white outline,
    so it stays legible over the lines and small dots it crosses); at most `limit`. Every other name shows on
    hover."""
    order = np.argsort(-sizes, kind="stable")
    dots = [(xy[i, 0] - sizes[i], xy[i, 1] - sizes[i], xy[i, 0] + sizes[i], xy[i, 1] + sizes[i]) for i in range(len(sizes))]
    chosen, boxes = [], []
    names = agencies["name"].astype(str).to_numpy()
    ids = agencies["agency_id"].to_numpy()
    for i in order:
        if len(chosen) >= limit:
            break
        box = label_box(names[i], xy[i, 0], xy[i, 1], sizes[i], font)
        if any(_overlap(box, other) for other in boxes):
            continue
        if any(j != i and sizes[j] > sizes[i] and _overlap(box, dots[j]) for j in range(len(dots))):
            continue
        chosen.append(ids[i])
        boxes.append(box)
    return chosen


def map_ties(agencies: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice) -> pd.DataFrame:
    """The declared ties the map draws: between drawn agencies, at most `top_edges` (dormant agreements
    first, as they are a finding, then the busiest)."""
    ids = set(agencies["agency_id"])
    ties = ties[ties["agency_a_id"].isin(ids) & ties["agency_b_id"].isin(ids)]
    if len(ties) > choice.top_edges:
        ties = ties.assign(_dormant=ties["status"] == "dormant").sort_values(
            ["_dormant", "referrals"], ascending=False).head(choice.top_edges)
    return ties


def drawn_agencies(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice) -> pd.DataFrame:
    """The agencies the map draws: those with a drawn flow or a drawn declared tie. The rest are not strewn
    around the frame; the page counts them."""
    ends: set = set()
    if "flows" in choice.layers:
        ends |= set(flows["from_agency_id"]) | set(flows["to_agency_id"])
    shown_ties = ties[ties["kind"].isin([k for k in ("formal", "informal") if k in choice.layers])]
    ends |= set(shown_ties["agency_a_id"]) | set(shown_ties["agency_b_id"])
    return agencies[agencies["agency_id"].isin(ends)].reset_index(drop=True)


@dataclass(frozen=True)
class MapLayout:
    """What the agency map draws and where: the one layout behind the interactive map, the pack's static
    picture and the readability measures."""

    agencies: pd.DataFrame  # the drawn agencies (with their scores)
    flows: pd.DataFrame  # the drawn flows
    ties: pd.DataFrame  # the drawn declared ties
    xy: np.ndarray  # positions, map units, y down (as vis-network draws)
    sizes: np.ndarray  # dot radii, map units
    font: float  # label size, map units
    labelled: list[str]  # agency ids whose names are written on the map
    clusters: pd.Series  # each drawn agency's cluster (community or region), as laid out


def layout_clusters(drawn: pd.DataFrame, cluster_by: str) -> pd.Series:
    """Each drawn agency's cluster: its region, or its community; an agency alone in its community on the map
    (its flows are not drawn: it is there for a declared tie) joins the others of its region, so such agencies
    are gathered by region rather than strewn one by one."""
    if cluster_by == "region":
        return drawn["region"].astype(str).reset_index(drop=True)
    community = drawn["community"].astype(int)
    alone = community.map(community.value_counts()) < 2
    return pd.Series(np.where(alone, "region " + drawn["region"].astype(str), "community " + community.astype(str)),
                     dtype=str).reset_index(drop=True)


def map_layout(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice) -> MapLayout:
    """The drawn agencies and ties, laid out in clusters of `choice.cluster_by`, with sizes and labels."""
    ties = map_ties(agencies, ties, choice)
    drawn = drawn_agencies(agencies, flows if "flows" in choice.layers else flows.head(0), ties, choice)
    clusters = layout_clusters(drawn, choice.cluster_by)
    xy = positions(drawn, flows if "flows" in choice.layers else flows.head(0), ties, clusters)
    sizes = _sizes(drawn, choice.size_by)
    font = round(_spread(len(drawn)) / 40)
    return MapLayout(drawn, flows, ties, xy, sizes, font, readable_labels(drawn, xy, sizes, font), clusters)


def cluster_captions(layout: MapLayout) -> list[tuple[str, float, float]]:
    """(cluster, y, x): where to write each cluster's name, centred just above its highest dot."""
    out = []
    frame = pd.DataFrame({"cluster": layout.clusters.to_numpy(), "x": layout.xy[:, 0],
                          "top": layout.xy[:, 1] - layout.sizes})
    for cluster, rows in frame.groupby("cluster", sort=True):
        out.append((str(cluster), float(rows["top"].min() - 1.5 * layout.font), float(rows["x"].mean())))
    return out


def readability(layout: MapLayout, columns: int = 8) -> dict:
    """How readable the map is at its default zoom (fitted to a frame of FRAME_ASPECT): labels written, label
    boxes overlapping another label (target 0), and the share of the frame used (of a grid of `columns` by
    columns / FRAME_ASPECT cells over the fitted frame, those holding a dot), so a map squeezed into a knot
    by a few far-flung agencies reads low."""
    xy, sizes = layout.xy, layout.sizes
    index = {a: i for i, a in enumerate(layout.agencies["agency_id"])}
    names = layout.agencies["name"].astype(str).to_numpy()
    boxes = [label_box(names[index[a]], *xy[index[a]], sizes[index[a]], layout.font) for a in layout.labelled]
    overlaps = sum(_overlap(a, b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
    if len(xy) < 2:
        return {"agencies": len(xy), "labels": len(boxes), "label_overlaps": overlaps, "frame_used": None}
    lo = (xy - sizes[:, None]).min(axis=0)
    hi = (xy + sizes[:, None]).max(axis=0)
    width, height = hi - lo
    if width / max(height, 1e-9) < FRAME_ASPECT:  # fitted by height: the frame is wider than the drawing
        width = height * FRAME_ASPECT
    else:
        height = width / FRAME_ASPECT
    centre = (lo + hi) / 2
    rows = max(1, round(columns / FRAME_ASPECT))
    cx = np.clip(((xy[:, 0] - centre[0]) / width + 0.5) * columns, 0, columns - 1).astype(int)
    cy = np.clip(((xy[:, 1] - centre[1]) / height + 0.5) * rows, 0, rows - 1).astype(int)
    used = len(set(zip(cx.tolist(), cy.tolist())))
    return {"agencies": len(xy), "labels": len(boxes), "label_overlaps": overlaps,
            "frame_used": used / (columns * rows)}


def map_agencies_table(layout: MapLayout, min_cell: int | None = None) -> pd.DataFrame:
    """The agencies the map draws, one row each in order of name, with what its tooltip says: sector (in words),
    region, referrals in and out, partners each way. With `min_cell` (board and funder views) the referrals count
    only the flows drawn, of at least min_cell, and an agency whose flows are all smaller reads "hidden" (as its
    tooltip does), never 0."""
    rows = layout.agencies.sort_values(["name", "agency_id"], key=lambda c: c.astype(str).str.casefold())

    def referrals(row, column: str) -> str:
        if min_cell is not None and not (row.in_strength or row.out_strength):
            return HIDDEN
        return formats.count(getattr(row, column))

    table = pd.DataFrame({
        "Agency": rows["name"].astype(str),
        "Sector": rows["sector"].map(formats.words),
        "Region": rows["region"].astype(str),
        "Referrals in": [referrals(r, "in_strength") for r in rows.itertuples(index=False)],
        "Referrals out": [referrals(r, "out_strength") for r in rows.itertuples(index=False)],
        "Referred in by (agencies)": rows["in_degree"].map(formats.count),
        "Refers out to (agencies)": rows["out_degree"].map(formats.count),
    })
    return table.reset_index(drop=True)


def map_flows_table(layout: MapLayout, choice: MapChoice, restricted: bool = False) -> pd.DataFrame:
    """The referral flows the map draws (its arrows), heaviest first: from, to, referrals, (directors) accepted,
    and the declared tie between the two agencies, as each arrow's tooltip says; empty when flows are not shown."""
    names = dict(zip(layout.agencies["agency_id"], layout.agencies["name"].astype(str)))
    flows = layout.flows if "flows" in choice.layers else layout.flows.head(0)
    flows = flows.assign(_from=flows["from_agency_id"].map(names), _to=flows["to_agency_id"].map(names)) \
        .sort_values(["referrals", "_from", "_to"], ascending=[False, True, True])
    table = pd.DataFrame({"From": flows["_from"], "To": flows["_to"], "Referrals": flows["referrals"].map(formats.count)})
    if not restricted:
        table["Accepted"] = flows["accepted"].map(formats.count)
    table["Declared tie"] = flows["agreement"].map(AGREEMENTS)
    return table.reset_index(drop=True)


def _rating(score) -> str:
    return formats.MISSING if pd.isna(score) else f"{int(score)} of 4"


def map_ties_table(layout: MapLayout, choice: MapChoice, restricted: bool = False) -> pd.DataFrame:
    """The declared ties the map draws (its lines without arrows): the two agencies, the kind (formal agreement or
    informal tie), instrument, since when, the referrals between them in the period and the partners' ratings
    (trust and value, 1 to 4, where given), as each line's tooltip says. Board and funder views give no referral
    count of a tie: it reads "hidden" (0 where the tie carried none, as its tooltip says)."""
    names = dict(zip(layout.agencies["agency_id"], layout.agencies["name"].astype(str)))
    ties = layout.ties[layout.ties["kind"].isin([k for k in ("formal", "informal") if k in choice.layers])]
    ties = ties.assign(_a=ties["agency_a_id"].map(names), _b=ties["agency_b_id"].map(names)) \
        .sort_values(["kind", "_a", "_b", "started_on"])
    carried = [formats.count(0) if status == "dormant" else HIDDEN if restricted else formats.count(n)
               for status, n in zip(ties["status"], ties["referrals"])]
    return pd.DataFrame({
        "Agency A": ties["_a"], "Agency B": ties["_b"],
        "Kind": ties["kind"].map(lambda k: LAYERS[k][:-1]),
        "Instrument": ties["instrument"].map(instrument_label),
        "Since": ties["started_on"].map(formats.date),
        "Referrals in the period": carried,
        "Trust": ties["trust"].map(_rating), "Value": ties["value"].map(_rating),
    }).reset_index(drop=True)


@dataclass(frozen=True)
class MapDrawing:
    """A map as vis-network draws it: its nodes, edges and options (positions laid out here, physics off;
    tooltips are plain text, which vis-network shows with innerText), and its legend. The page draws it in
    place (atlas.app.network_map); `drawing_html` writes it as one self-contained document."""
    title: str  # the document's title
    nodes: list[dict]
    edges: list[dict]
    options: dict
    height: int  # pixels, the legend included
    sectors: list[tuple[str, str, str, bool]]  # the legend's marks: name, colour, vis-network shape, dashed border
    lines: list[tuple[str, str, str]]  # the legend's lines: name, colour, CSS border style
    words: str  # the legend's sentence: what marks and lines mean
    alt: str  # what the map shows, said to a screen reader when its frame is reached (the table under it lists it)

    def data(self) -> dict:
        """What network_map.js draws (JSON): vis-network's nodes, edges and options, the legend (HTML written
        with autoescaping), the height and the map's alternative text."""
        legend = _TEMPLATES.get_template("network_legend.html").render(
            sectors=self.sectors, lines=self.lines, words=self.words)
        return {"nodes": self.nodes, "edges": self.edges, "options": self.options, "height": self.height,
                "legend": legend, "alt": self.alt}


VIS_NETWORK = "lib/vis-9.1.2/vis-network.min.js"  # pyvis's vis-network, inlined wherever a map is drawn


def drawing_html(drawing: MapDrawing) -> str:
    """The map as one self-contained HTML document (vis-network inlined, no CDN, physics off), drawn by the
    same script as the page's map."""
    return _TEMPLATES.get_template("network.html").render(title=drawing.title, data=drawing.data(), library=VIS_NETWORK)


def map_component_sources() -> tuple[str, str]:
    """The page's map component (atlas.app.network_map): its module, vis-network and network_map.js with
    drawMap as its default export, and its stylesheet."""
    def source(name: str) -> str:
        return _TEMPLATES.loader.get_source(_TEMPLATES, name)[0]
    module = (source(VIS_NETWORK) + "\n" + source("network_map.js")
              + "\nexport default function ({ parentElement, data }) { return drawMap(parentElement, data); }\n")
    return module, source("network_map.css")


def map_drawing(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice,
                restricted: bool = False, min_cell: int | None = None, layout: MapLayout | None = None) -> MapDrawing:
    """The network as vis-network draws it (physics off, positions from `map_layout`).
    `restricted`: tooltips give no accepted counts and no referral counts of declared ties, and (with
    `min_cell`) say which figures are hidden."""
    drawn = layout or map_layout(agencies, flows, ties, choice)
    agencies, ties, xy, sizes, font = drawn.agencies, drawn.ties, drawn.xy, drawn.sizes, drawn.font
    highlight = ego(choice.focus, choice.steps, flows, ties) if choice.focus else None
    labelled = set(drawn.labelled)

    net = Network(height="680px", width="100%", directed=True, cdn_resources="in_line")
    for i, row in enumerate(agencies.rename(columns={"name": "name_"}).itertuples(index=False)):
        lit = highlight is None or row.agency_id in highlight
        show_label = row.agency_id in labelled or (highlight is not None and lit)
        net.add_node(
            row.agency_id,
            label=str(row.name_) if show_label else " ",
            title=_tooltip(row, min_cell if restricted else None),
            x=float(xy[i, 0]), y=float(xy[i, 1]),
            size=float(sizes[i]),
            color=SECTOR_COLOURS.get(row.sector, "#999999") if lit else DIMMED,
            borderWidth=4 if row.agency_id == choice.focus else (2 if row.sector in DASHED_SECTORS else 1),
            shape=SECTOR_SHAPES.get(row.sector, "dot"),
            shapeProperties={"borderDashes": [3, 2]} if row.sector in DASHED_SECTORS else {},
            **({} if lit else {"font": {"color": "rgba(0,0,0,0.25)"}}),  # the rest of the font is the map's own
        )

    if choice.cluster_by == "region" and drawn.clusters.nunique() > 1:  # each region's name over its agencies
        for region, top, x in cluster_captions(drawn):
            net.add_node(f"region:{region}", label=region, shape="text", x=x, y=top, physics=False,
                         title=f"{region} (region)", font={"size": round(font * 1.5), "color": "#444444",
                                                           "strokeWidth": font // 5, "strokeColor": "#ffffff"})

    def lit(a: str, b: str) -> bool:
        return highlight is None or (a in highlight and b in highlight)

    for kind in ("formal", "informal"):
        if kind not in choice.layers:
            continue
        for t in ties[ties["kind"] == kind].itertuples(index=False):
            status = ("no referrals in the period" if t.status == "dormant" else
                      "referrals in the period" if restricted else f"{t.referrals:,} referrals")
            low = pd.notna(t.trust) and t.trust <= 2
            rating = "" if pd.isna(t.trust) and pd.isna(t.value) else " · rated by partners: " + ", ".join(
                f"{name} {int(score)} of 4" for name, score in (("trust", t.trust), ("value", t.value)) if pd.notna(score))
            net.add_edge(t.agency_a_id, t.agency_b_id, arrows={"to": {"enabled": False}},
                         color=TIE_COLOURS[kind] if lit(t.agency_a_id, t.agency_b_id) else DIMMED,
                         dashes=[2, 5] if low else kind == "informal", width=2.5 if t.status == "dormant" else 1,
                         title=f"{LAYERS[kind][:-1]}: {instrument_label(t.instrument)} since "
                               f"{formats.date(t.started_on)} — {status}{rating}",
                         smooth=False)
    if "flows" in choice.layers and len(flows):
        top = flows["referrals"].max()
        for f in flows.itertuples(index=False):
            net.add_edge(f.from_agency_id, f.to_agency_id, arrows="to",
                         color=FLOW_COLOURS[f.agreement] if lit(f.from_agency_id, f.to_agency_id) else DIMMED,
                         width=float(1 + 7 * np.sqrt(f.referrals / top)),
                         title=f"{f.referrals:,} referrals" + ("" if restricted else f" ({f.accepted:,} accepted)")
                               + f" — {AGREEMENTS[f.agreement].lower()}",
                         smooth={"enabled": True, "type": "curvedCW", "roundness": 0.12})

    options = {
        "physics": {"enabled": False},
        "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False, "multiselect": False},
        "nodes": {"font": {"face": MAP_FONT, "size": font, "color": "#222222",
                           "strokeWidth": font // 6, "strokeColor": "#ffffff"}},
        "edges": {"selectionWidth": 2, "hoverWidth": 1},
    }
    nodes, edges, *_ = net.get_network_data()
    for node in nodes:  # an agency whose name is not written has no label at all, not a blank one to measure and draw
        if node.get("label") == " ":
            del node["label"]
    lines = [(LAYERS["formal"], TIE_COLOURS["formal"], "solid"), (LAYERS["informal"], TIE_COLOURS["informal"], "dashed"),
             ("Tie rated low in trust (1–2)", "#555555", "dotted")]
    lines += [(f"Flow, {label}", FLOW_COLOURS[key], "solid")
              for key, label in (("formal", "formal agreement"), ("informal", "informal tie"), ("none", "no declared tie"))]
    shown_ties = sum(1 for e in edges if e.get("arrows") != "to")
    alt = (f"Network map: {len(agencies):,} agencies, {len(edges) - shown_ties:,} referral flows and {shown_ties:,} "
           "declared ties; the table under the map lists each with its figures.")
    return MapDrawing(
        title="Collaboration Atlas — network map", nodes=nodes, edges=edges, options=options, height=680, alt=alt,
        sectors=[(name.capitalize(), colour, SECTOR_SHAPES[name], name in DASHED_SECTORS)
                 for name, colour in SECTOR_COLOURS.items()],
        words=("Each mark is an agency, shaped and coloured by its sector and sized by " + SIZE_MEASURES[choice.size_by].lower()
               + ". " + ("An arrow is a referral flow from the agency that referred to the one that received: the "
                         "thicker, the more referrals. " if "flows" in choice.layers else "")
               + "A line without an arrow is a declared tie. " + CLUSTER_WORDS[choice.cluster_by]
               + " Hover any of them for its figures."),
        lines=[line for line in lines if ("Flow" in line[0] and "flows" in choice.layers)
               or line[0] in {LAYERS[k] for k in choice.layers}
               or (line[2] == "dotted" and {"formal", "informal"} & set(choice.layers))],
    )


# The page's sections below the map (app.sections: each drawn only when opened), in order; directors also
# get the two that are worked out referral by referral.
SECTIONS = ["Formal versus real", "Partnership quality", "Network scores"]
DIRECTOR_SECTIONS = ["If an agency closed", "Change since the previous period"]

SUMMARY_BY = {"region": "Region", "sector": "Sector"}
_GROUP_COLOUR = "#577590"


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


@dataclass(frozen=True)
class SummaryView:
    by: str
    nodes: pd.DataFrame  # group, agencies, within, sent, received, referrals
    between: pd.DataFrame  # from_group, to_group, referrals
    drawing: MapDrawing
    # group -> the columns (within, sent, received) that read 0 only because every flow in them is under the
    # small-cell threshold: the table says "hidden" there, never 0
    hidden: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def html(self) -> str:
        """The summary map as one self-contained HTML document."""
        return drawing_html(self.drawing)

    @property
    def table(self) -> pd.DataFrame:
        kind = SUMMARY_BY[self.by]
        out = self.nodes.copy()
        hidden = dict(self.hidden)
        for column in ("within", "sent", "received", "referrals"):  # written as the map's tooltips write them
            out[column] = [HIDDEN if column in hidden.get(g, ()) else formats.count(v)
                           for g, v in zip(out["group"], out[column])]
        out = out.rename(columns={"group": kind, "agencies": "Agencies", "within": f"Within the {kind.lower()}",
                                         "sent": f"To other {kind.lower()}s", "received": f"From other {kind.lower()}s",
                                         "referrals": "Referrals"})
        out[kind] = [group_label(self.by, g) for g in out[kind]]
        return out

    @property
    def flows_table(self) -> pd.DataFrame:
        """The arrows of the summary map: referrals from one group's agencies to another's, heaviest first (sums of
        the flows the map shows, so nothing in them is small)."""
        def name(group):
            return group_label(self.by, group)

        rows = self.between.sort_values(["referrals", "from_group", "to_group"], ascending=[False, True, True])
        kind = SUMMARY_BY[self.by]
        return pd.DataFrame({f"From {kind.lower()}": rows["from_group"].map(name),
                             f"To {kind.lower()}": rows["to_group"].map(name),
                             "Referrals": rows["referrals"].map(formats.count)}).reset_index(drop=True)


def summary_view(db, filters: Filters, by: str = "region", min_cell: int | None = None) -> SummaryView:
    """The summary map of the period: the flows the agency map scores by default (victim-service agencies
    left out; with `min_cell`, flows of at least min_cell and the complement rule, as on the board's map),
    summed by region or sector."""
    if by not in SUMMARY_BY:
        raise ValueError(f"by must be one of {', '.join(SUMMARY_BY)}")
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    flows = db.query("network_edges", **filters.params_for("network_edges"))
    protected = set(agencies.loc[agencies["is_victim_service"], "agency_id"])
    flows = flows[~(flows["from_agency_id"].isin(protected) | flows["to_agency_id"].isin(protected))]
    agencies = agencies[~agencies["is_victim_service"]]
    hidden: tuple = ()
    if min_cell is not None:
        every, _ = summary(agencies, flows, by)
        flows = flows[flows["referrals"] >= min_cell].reset_index(drop=True)
        total = int(db.query("network_summary", **filters.params_for("network_summary"))["referrals"].iloc[0])
        flows = complement_flows(flows, total, int(min_cell))
    nodes, between = summary(agencies, flows, by)
    if min_cell is not None:
        hidden = _hidden_cells(nodes, every)
    return SummaryView(by, nodes, between, summary_drawing(nodes, between, by, hidden), hidden)


HIDDEN = "hidden"


def _hidden_cells(shown: pd.DataFrame, every: pd.DataFrame) -> tuple:
    """Which of a group's figures read 0 in the flows shown although its agencies did refer there: every such
    flow is under the small-cell threshold. Says only that the figure is hidden, never how many."""
    out = []
    for (_, s), (_, e) in zip(shown.iterrows(), every.iterrows()):
        cols = tuple(c for c in ("within", "sent", "received", "referrals") if s[c] == 0 and e[c] > 0)
        if cols:
            out.append((s["group"], cols))
    return tuple(out)


def summary_positions(nodes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where the summary map draws its groups (on a circle, in the table's order, the first at the top; y down)
    and their radii (by the square root of their referrals), in map units."""
    n = len(nodes)
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False) - np.pi / 2
    radius = 420 if n > 1 else 0
    top = max(1, int(nodes["referrals"].max() or 1)) if n else 1
    xy = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) if n else np.zeros((0, 2))
    return xy, 18 + 42 * np.sqrt(nodes["referrals"].to_numpy(float) / top)


def summary_drawing(nodes: pd.DataFrame, between: pd.DataFrame, by: str = "region", hidden: tuple = ()) -> MapDrawing:
    """The summary map: one dot per group on a circle (same data, same picture), sized by its referrals, with
    arrows for the flows between groups, thicker for more. A figure of `hidden` (SummaryView.hidden) reads
    "hidden" in its tooltip, as in the table."""
    xy, sizes = summary_positions(nodes)
    net = Network(height="560px", width="100%", directed=True, cdn_resources="in_line")
    kind = SUMMARY_BY[by].lower()
    hidden = dict(hidden)

    def figure(row, column: str) -> str:
        return HIDDEN if column in hidden.get(row.group, ()) else formats.count(getattr(row, column))

    for i, row in enumerate(nodes.itertuples(index=False)):
        net.add_node(str(row.group), label=group_label(by, row.group),
                     x=float(xy[i, 0]), y=float(xy[i, 1]),
                     size=float(sizes[i]), color=_GROUP_COLOUR, shape="dot",
                     title="\n".join([f"{group_label(by, row.group)} ({kind})",
                                       f"{row.agencies:,} agencies",
                                       f"Referrals within the {kind}: {figure(row, 'within')}",
                                       f"To other {kind}s: {figure(row, 'sent')} · from other {kind}s: "
                                       f"{figure(row, 'received')}"]),
                     font={"face": MAP_FONT, "size": 22, "color": "#222222", "strokeWidth": 4, "strokeColor": "#ffffff"})
    heaviest = max(1, int(between["referrals"].max())) if len(between) else 1
    def name(group):
        return group_label(by, group)

    for f in between.itertuples(index=False):
        net.add_edge(str(f.from_group), str(f.to_group), arrows="to", color="#f3722c",
                     width=float(1 + 11 * np.sqrt(f.referrals / heaviest)),
                     title=f"{formats.count(f.referrals)} referrals from {name(f.from_group)} to {name(f.to_group)}",
                     smooth={"enabled": True, "type": "curvedCW", "roundness": 0.15})
    options = {"physics": {"enabled": False},
               "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False}}
    nodes_data, edges_data, *_ = net.get_network_data()
    words = (f"Each dot is a {kind}, sized by the referrals its agencies made and received; an arrow is the "
             f"referrals from one {kind}'s agencies to another's, thicker for more. Hover for the figures; open the "
             f"agency map of one {kind} below the map.")
    alt = (f"The network by {kind}: {len(nodes_data):,} {kind}s and {len(edges_data):,} arrows of referrals between "
           "them; the table under the map lists each with its figures.")
    return MapDrawing(title=f"Collaboration Atlas — the network by {kind}", nodes=nodes_data, edges=edges_data,
                      options=options, height=560, sectors=[], lines=[("Referrals between them", "#f3722c", "solid")],
                      words=words, alt=alt)


def _pair_names(frame: pd.DataFrame, a: str, b: str, names: dict) -> pd.DataFrame:
    return frame.assign(**{"From" if a.startswith("from") else "Agency A": frame[a].map(names),
                           "To" if b.startswith("to") else "Agency B": frame[b].map(names)})


def informal_flows(flows: pd.DataFrame, names: dict, top: int = 25, accepted: bool = True) -> pd.DataFrame:
    """Heavy referral traffic with no formal agreement (candidates for an MOU), heaviest first."""
    rows = flows[without_agreement(flows)].nlargest(top, "referrals")
    rows = _pair_names(rows, "from_agency_id", "to_agency_id", names)
    rows = rows.assign(agreement=rows["agreement"].map(AGREEMENTS))
    columns = ["From", "To", "Referrals"] + (["Accepted"] if accepted else []) + ["Declared tie"]
    return rows.rename(columns={"referrals": "Referrals", "accepted": "Accepted", "agreement": "Declared tie"})[
        columns].reset_index(drop=True)


def dormant_agreements(ties: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Declared agreements in force in the period that carried no referral either way."""
    rows = ties[ties["status"] == "dormant"].sort_values(["kind", "started_on"])
    rows = _pair_names(rows, "agency_a_id", "agency_b_id", names)
    rows = rows.assign(kind=rows["kind"].map(label), instrument=rows["instrument"].map(instrument_label),
                       started_on=pd.to_datetime(rows["started_on"]).dt.date)
    return rows.rename(columns={"kind": "Kind", "instrument": "Instrument", "started_on": "Since"})[
        ["Agency A", "Agency B", "Kind", "Instrument", "Since"]].reset_index(drop=True)


def one_way_pairs(flows: pd.DataFrame, names: dict, min_referrals: int = 10,
                  every_flow: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairs where at least `min_referrals` referrals went one way and none came back (judged on
    `every_flow`, the flows before any threshold, when given: a small flow back is still a flow)."""
    back = flows if every_flow is None else every_flow
    reverse = back[["to_agency_id", "from_agency_id"]].set_axis(["from_agency_id", "to_agency_id"], axis=1)
    marked = flows.merge(reverse.assign(returned=True), how="left", on=["from_agency_id", "to_agency_id"])
    rows = flows[marked["returned"].isna().to_numpy() & (flows["referrals"] >= min_referrals).to_numpy()]
    rows = _pair_names(rows.sort_values("referrals", ascending=False), "from_agency_id", "to_agency_id", names)
    rows = rows.assign(agreement=rows["agreement"].map(AGREEMENTS))
    return rows.rename(columns={"referrals": "Referrals", "agreement": "Declared tie"})[
        ["From", "To", "Referrals", "Declared tie"]].reset_index(drop=True)


def partners(focus: str, flows: pd.DataFrame, ties: pd.DataFrame, names: dict,
             every_flow: pd.DataFrame | None = None, min_cell: int | None = None) -> pd.DataFrame:
    """The focus agency's partners: referrals each way and the declared ties between them. With
    `min_cell`, a flow that is not shown reads "fewer than min_cell" (its count is never given)."""
    out = flows[flows["from_agency_id"] == focus].set_index("to_agency_id")["referrals"]
    into = flows[flows["to_agency_id"] == focus].set_index("from_agency_id")["referrals"]
    if min_cell is not None and every_flow is not None:
        small = f"fewer than {min_cell}"
        raw_out = every_flow[every_flow["from_agency_id"] == focus].set_index("to_agency_id")["referrals"]
        raw_in = every_flow[every_flow["to_agency_id"] == focus].set_index("from_agency_id")["referrals"]
        out = raw_out.astype(object).where(raw_out.index.isin(out.index), small)
        into = raw_in.astype(object).where(raw_in.index.isin(into.index), small)
    declared = {}
    for t in ties.itertuples(index=False):
        if focus in (t.agency_a_id, t.agency_b_id):
            other = t.agency_b_id if t.agency_a_id == focus else t.agency_a_id
            declared.setdefault(other, []).append(f"{label(t.kind).lower()} ({instrument_label(t.instrument)})")
    others = sorted(set(out.index) | set(into.index) | set(declared))
    table = pd.DataFrame({
        "Partner": [names.get(o, "(not shown)") for o in others],
        "Referrals sent to them": [_count(out.get(o, 0)) for o in others],
        "Referrals from them": [_count(into.get(o, 0)) for o in others],
        "Declared ties": [", ".join(declared.get(o, [])) or "none" for o in others],
    })
    table = table[table["Partner"] != "(not shown)"]
    if min_cell is not None:  # counts and "fewer than" side by side: text columns, busiest partners first
        order = table[["Referrals sent to them", "Referrals from them"]].map(
            lambda v: v if isinstance(v, int) else 0).sum(axis=1)
        return table.assign(_order=order).sort_values(["_order", "Partner"], ascending=[False, True]) \
            .drop(columns="_order").astype({"Referrals sent to them": str, "Referrals from them": str}) \
            .reset_index(drop=True)
    return table.sort_values(["Referrals sent to them", "Referrals from them"], ascending=False).reset_index(drop=True)


def _count(value):
    return value if isinstance(value, str) else int(value)


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
    return exports.safe_csv(view.scores)


def one_way_csv(view: NetworkView) -> bytes:
    """Every one-way pair (the page lists the first app.LIST_ROWS, heaviest first)."""
    return exports.safe_csv(view.one_way)
