"""Where the agency map draws each agency: a seeded layout over flows and declared ties, in clusters of
community or region, with dot sizes, the names written (`labels`) and measures of how readable the result
is (`readability`). Computing layer: the one layout behind the interactive map, the board pack's static
picture and the readability measures; layouts are cached by graph."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import igraph as ig
import numpy as np
import pandas as pd

from atlas.views.network.choice import TIE_KINDS, MapChoice
from atlas.views.network.labels import _overlap, label_box, readable_labels
from atlas.views.network.scores import SEED, _indices

KAMADA_KAWAI_UP_TO = 300  # agencies; a clearer layout for small networks, too slow for large ones
CLUSTER_GAP = 0.35  # empty space around each cluster, as a share of its radius
FRAME_ASPECT = 1.6  # the map's frame, width over height (the page's map at about 1,100 px by 680)


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


def map_ties(agencies: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice) -> pd.DataFrame:
    """The declared ties the map draws: between drawn agencies, at most `top_edges` (dormant agreements
    first, as they are a finding, then the busiest)."""
    ids = set(agencies["agency_id"])
    ties = ties[ties["agency_a_id"].isin(ids) & ties["agency_b_id"].isin(ids)]
    surveyed = ties["kind"] == "survey"  # the survey's ties have a limit of their own: declared ties never crowd them out
    survey, ties = ties[surveyed], ties[~surveyed]
    if len(ties) > choice.top_edges:
        ties = ties.assign(_dormant=ties["status"] == "dormant").sort_values(
            ["_dormant", "referrals"], ascending=False).head(choice.top_edges)
    if len(survey) > choice.top_edges:  # the closest collaborations first
        survey = survey.sort_values(["level", "frequency"], ascending=False, na_position="last").head(choice.top_edges)
    return pd.concat([ties, survey]) if len(survey) else ties


def drawn_agencies(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame, choice: MapChoice) -> pd.DataFrame:
    """The agencies the map draws: those with a drawn flow or a drawn declared tie. The rest are not strewn
    around the frame; the page counts them."""
    ends: set = set()
    if "flows" in choice.layers:
        ends |= set(flows["from_agency_id"]) | set(flows["to_agency_id"])
    shown_ties = ties[ties["kind"].isin([k for k in TIE_KINDS if k in choice.layers])]
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
