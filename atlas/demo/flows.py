"""Who refers to whom: the weighted edges agency -> program that every referral is drawn over, with
the ties the story forces (Harbor House's partners, police and child protection) and the planted
flows (dormant pairs cut, the bottleneck's share, heavy flows without a tie).

Layer: the demo package, above the roster (atlas.demo.town) and the fixed tables (atlas.demo.story).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from atlas.demo.story import (
    AFFINITY,
    ARCHETYPE_KEYS,
    ARCHETYPES,
    BASE_NEEDS,
    BOTTLENECK,
    BOTTLENECK_SHARE,
    CAST,
    DORMANT_PAIRS,
    HARBOR_HOUSE,
    INFORMAL_CIRCLE,
    UNPARTNERED_FLOWS,
)
from atlas.demo.town import Town
from atlas.vocab import SERVICE_TYPES


class _Edges:
    """Weighted edges agency -> program, in the order they are added (merged into Flows once)."""

    def __init__(self) -> None:
        self.sources: list[np.ndarray] = []
        self.programs: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []

    def add(self, source: int, program: np.ndarray, weight: np.ndarray) -> None:
        self.sources.append(np.full(len(program), source))
        self.programs.append(np.asarray(program))
        self.weights.append(np.asarray(weight, float))


@dataclass
class Flows:
    """Merged edges agency -> program, and the agency pairs whose declared tie the story fixes."""

    source: np.ndarray  # per edge: sending agency
    program: np.ndarray  # per edge: receiving program
    weight: np.ndarray  # per edge: expected share of referrals
    formal_ties: list[tuple[int, int]] = field(default_factory=list)  # pairs that must carry a formal tie
    informal_ties: list[tuple[int, int]] = field(default_factory=list)  # ... an informal tie
    disputed_ties: list[tuple[int, int]] = field(default_factory=list)  # police - child protection (formal)
    count: np.ndarray | None = None  # per edge: referrals drawn (set by atlas.demo.referrals.bulk)

    @classmethod
    def build(cls, rng: np.random.Generator, town: Town) -> Flows:
        edges = _Edges()
        _by_need(rng, town, edges)
        formal, informal = _by_story(rng, town, edges)
        flows = cls._merge(np.concatenate(edges.sources), np.concatenate(edges.programs),
                           np.concatenate(edges.weights), town.n_programs)
        flows.formal_ties = [(HARBOR_HOUSE, p) for p in formal]
        flows.informal_ties = [(HARBOR_HOUSE, p) for p in informal]
        flows.disputed_ties = [(p, c) for r in range(len(town.regions))
                               for p in town.agencies_of("police", r) for c in town.agencies_of("cps", r)]
        flows._plant(rng, town)
        return flows

    @classmethod
    def _merge(cls, source: np.ndarray, program: np.ndarray, weight: np.ndarray, n_programs: int) -> Flows:
        key, inverse = np.unique(source.astype(np.int64) * n_programs + program, return_inverse=True)
        return cls((key // n_programs).astype(np.int32), (key % n_programs).astype(np.int32),
                   np.bincount(inverse, weights=weight))

    def _plant(self, rng: np.random.Generator, town: Town) -> None:
        """Dormant pairs lose their flows, Riverside gets 3 % of all, unpartnered flows join the heaviest."""
        target = town.program_agency[self.program]
        cut = np.zeros(len(self.source), bool)
        for a, b in DORMANT_PAIRS + UNPARTNERED_FLOWS:
            cut |= ((self.source == a) & (target == b)) | ((self.source == b) & (target == a))
        keep = ~cut
        self.source, self.program, self.weight = self.source[keep], self.program[keep], self.weight[keep]
        target = target[keep]

        inbound = target == BOTTLENECK
        rest = self.weight[~inbound].sum()
        self.weight[inbound] *= BOTTLENECK_SHARE * rest / ((1 - BOTTLENECK_SHARE) * self.weight[inbound].sum())

        external = self.source != target
        _, pair = np.unique(self.source[external].astype(np.int64) * town.n_agencies + target[external],
                            return_inverse=True)
        pair_weight = np.sort(np.bincount(pair, weights=self.weight[external]))
        heavy = pair_weight[-min(10, len(pair_weight))] * rng.uniform(1.0, 1.3, len(UNPARTNERED_FLOWS))
        first = town.first_program()
        self.source = np.r_[self.source, [a for a, _ in UNPARTNERED_FLOWS]].astype(np.int32)
        self.program = np.r_[self.program, [first[b] for _, b in UNPARTNERED_FLOWS]].astype(np.int32)
        self.weight = np.r_[self.weight, heavy]


def _by_need(rng: np.random.Generator, town: Town, edges: _Edges) -> None:
    """Each agency's edges to the programs its clients need, nearer ones first, and its own other programs."""
    keys = town.keys()
    n_arch, prog_agency = len(ARCHETYPE_KEYS), town.program_agency
    needs = np.array([[BASE_NEEDS[s] * ARCHETYPES[k].needs.get(s, 1.0) for s in SERVICE_TYPES]
                      for k in ARCHETYPE_KEYS])
    affinity = np.ones((n_arch, n_arch))
    for (a, b), boost in AFFINITY.items():
        affinity[ARCHETYPE_KEYS.index(a), ARCHETYPE_KEYS.index(b)] = boost
    circle = [ARCHETYPE_KEYS.index(k) for k in INFORMAL_CIRCLE]
    affinity[np.ix_(circle, circle)] *= 2.5
    citywide = np.array([ARCHETYPES[k].citywide for k in keys])[prog_agency]
    closed = np.zeros(town.n_programs, bool)
    closed[town.pilots] = True  # pilots get their few clients separately

    prog_arch = town.archetype[prog_agency]
    mean, per_activity, least, most = town.profile.partners
    spread, focus = town.profile.spread, town.profile.focus
    for i in range(town.n_agencies):
        a = town.archetype[i]
        w = needs[a, town.program_type] * affinity[a, prog_arch] * town.program_size
        w *= np.where(town.region[prog_agency] == town.region[i], 1.0, np.where(citywide, 0.35, 0.12))
        w[(prog_agency == i) | closed] = 0
        k = min(int(np.clip(rng.poisson(mean + per_activity * ARCHETYPES[keys[i]].activity), least, most)),
                np.count_nonzero(w))
        pick = rng.choice(town.n_programs, k, replace=False, p=w / w.sum())
        share = w[pick] ** focus * rng.lognormal(0, spread, k)
        edges.add(i, pick, town.activity[i] * share / share.sum())
        own = np.flatnonzero((prog_agency == i) & ~closed)
        if len(own) > 1:  # internal referrals, a small share
            edges.add(i, own[1:], np.full(len(own) - 1, 0.04 * town.activity[i] / (len(own) - 1)))


def _by_story(rng: np.random.Generator, town: Town, edges: _Edges) -> tuple[list[int], list[int]]:
    """The edges the story adds: police and child protection, Harbor House and its partners, everyone who
    sends to Riverside Counselling. Returns Harbor House's formal and informal partners."""
    first = town.first_program()
    for r in range(len(town.regions)):  # police and child protection, constantly
        for p in town.agencies_of("police", r):
            for c in town.agencies_of("cps", r):
                edges.add(p, [first[c]], [town.profile.police_cps * town.activity[p]])
                edges.add(c, [first[p]], [town.profile.police_cps * town.activity[c]])

    formal, informal = _harbor_house_partners(rng, town)
    for partner in formal:  # case managers refer out under MOUs; partners send families back
        edges.add(HARBOR_HOUSE, [first[partner]], [0.08 * town.activity[HARBOR_HOUSE]])
        edges.add(partner, [first[HARBOR_HOUSE]], [0.1 * town.activity[partner]])
    for partner in informal:
        edges.add(HARBOR_HOUSE, [first[partner]], [0.03 * town.activity[HARBOR_HOUSE]])
        edges.add(partner, [first[HARBOR_HOUSE]], [0.2 * town.activity[partner]])

    # All of Riverside and a third of the rest send clients to Riverside Counselling.
    senders = np.flatnonzero((town.region == town.region[BOTTLENECK]) | (rng.random(town.n_agencies) < 0.3))
    senders = senders[senders != BOTTLENECK]
    for s in senders:
        edges.add(s, [first[BOTTLENECK]], [0.05 * town.activity[s]])
    return formal, informal


def _harbor_house_partners(rng: np.random.Generator, town: Town) -> tuple[list[int], list[int]]:
    """Harbor House's partners: formal (MOUs) and informal (clergy, volunteers, community)."""
    home = town.region[HARBOR_HOUSE]

    def pick(key: str, n: int) -> list[int]:
        """n agencies of this kind, from Harborview if it has enough (the rest of the cast excluded)."""
        local, anywhere = (pool[pool >= len(CAST)] for pool in (town.agencies_of(key, home), town.agencies_of(key)))
        pool = local if len(local) >= n else anywhere
        return rng.choice(pool, min(n, len(pool)), replace=False).tolist() if len(pool) else []

    formal = (pick("housing_office", 1) + pick("hospital", 2) + pick("school", 2) + pick("job_training", 1)
              + pick("cmht", 1) + pick("health_department", 1))
    informal = pick("church", 2) + pick("mosque", 1) + pick("volunteer", 1) + pick("community_centre", 1)
    return formal, informal
