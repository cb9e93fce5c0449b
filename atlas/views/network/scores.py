"""The referral network's scores: who brokers, who is central, who is a single point of failure, the
communities, each agency's ego network, and where the declared network and the real one part ways
(`formal_versus_real`). Computing layer: pure functions over frames, igraph (C) for the graph work, so
that centralities stay within a second or two at 5,000 agencies."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import igraph as ig
import numpy as np
import pandas as pd

SEED = 7
EXACT_BETWEENNESS_UP_TO = 1500  # agencies; above it betweenness is estimated from sampled sources
BETWEENNESS_SOURCES = 400  # sources sampled (seeded) for the estimate


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
