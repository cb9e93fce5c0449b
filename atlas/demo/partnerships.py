"""Declared ties: grown out of the flows, the ones the story forces (Harbor House's partners, police and
child protection), none where a planted flow must stand without one, and the dormant MOUs; with their
instruments, dates and ratings; the partnerships' table.

Layer: the demo package, above the flows (atlas.demo.flows) and the roster (atlas.demo.town).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.demo.flows import Flows
from atlas.demo.frames import categorical, frame, take
from atlas.demo.period import Period
from atlas.demo.story import ARCHETYPES, DORMANT_PAIRS, UNPARTNERED_FLOWS
from atlas.demo.town import Town


@dataclass
class _Ties:
    """The declared ties, one per position: the two agencies and what the story says of each tie."""

    a: np.ndarray
    b: np.ndarray
    formal: np.ndarray
    disputed: np.ndarray  # police - child protection
    forced: np.ndarray  # required by the story: it does not end during the period
    dormant: np.ndarray  # a planted MOU between agencies that never refer to each other

    def with_dormant(self) -> _Ties:
        """These ties and the dormant MOUs after them."""
        dormant = np.array(DORMANT_PAIRS)
        none, every = np.zeros(len(dormant), bool), np.ones(len(dormant), bool)
        return _Ties(np.r_[self.a, dormant[:, 0]], np.r_[self.b, dormant[:, 1]], np.r_[self.formal, every],
                     np.r_[self.disputed, none], np.r_[self.forced, every], np.r_[self.dormant, every])


def partnerships_frame(rng: np.random.Generator, town: Town, flows: Flows, period: Period) -> pd.DataFrame:
    """Declared ties grown out of the flows, the forced ones of the story, and the dormant MOUs."""
    ties = _grown(rng, town, flows).with_dormant()
    instrument = _instruments(rng, ties)
    started, ends, ended = _dates(rng, ties, period)
    trust, value = _ratings(rng, ties)
    flip = rng.random(len(ties.a)) < 0.5  # files list the two sides in either order
    ids = town.agency_ids()
    start_date = period.start
    return frame("partnerships", {
        "agency_a_id": take(ids, np.where(flip, ties.b, ties.a)),
        "agency_b_id": take(ids, np.where(flip, ties.a, ties.b)),
        "kind": np.where(ties.formal, "formal", "informal"),
        "instrument": instrument,
        "started_on": start_date + started.astype(np.int64),
        "ended_on": np.where(ends, start_date + np.nan_to_num(ended).astype(np.int64), np.datetime64("NaT")),
        "trust": trust,
        "value": value,
    })


def _grown(rng: np.random.Generator, town: Town, flows: Flows) -> _Ties:
    """Ties between agencies that refer to each other, likelier the more they do, and the story's."""
    n_agencies = town.n_agencies
    target = town.program_agency[flows.program]
    external = flows.source != target
    low, high = np.minimum(flows.source, target)[external], np.maximum(flows.source, target)[external]
    pairs, inverse = np.unique(low.astype(np.int64) * n_agencies + high, return_inverse=True)
    count = np.bincount(inverse, weights=flows.count[external])
    a, b = pairs // n_agencies, pairs % n_agencies

    def lookup(ties) -> np.ndarray:
        keys = [min(x, y) * n_agencies + max(x, y) for x, y in ties]
        return np.isin(pairs, keys)

    sector = np.array([ARCHETYPES[k].sector for k in town.keys()])
    circle = np.isin(sector[a], ("faith", "community")) | np.isin(sector[b], ("faith", "community"))
    rank = np.argsort(np.argsort(count)) / max(len(count) - 1, 1)
    tie = (count >= 3) & (rng.random(len(pairs)) < np.where(circle, 0.25 + 0.55 * rank, 0.15 + 0.6 * rank))
    unpartnered = lookup(UNPARTNERED_FLOWS)
    tie |= count >= 0.9 * count[unpartnered].min()  # so the planted flows are the heaviest without a tie
    formal = rng.random(len(pairs)) < np.where(circle, 0.15, 0.9)
    disputed = lookup(flows.disputed_ties)
    forced_formal, forced_informal = lookup(flows.formal_ties) | disputed, lookup(flows.informal_ties)
    tie |= forced_formal | forced_informal
    formal = (formal | forced_formal) & ~forced_informal
    tie &= ~unpartnered
    return _Ties(a[tie], b[tie], formal[tie], disputed[tie], (forced_formal | forced_informal)[tie],
                 np.zeros(tie.sum(), bool))


def _instruments(rng: np.random.Generator, ties: _Ties) -> np.ndarray:
    """What each tie is written in: formal ones mostly MOUs, informal ones mostly personal."""
    n, disputed = len(ties.a), ties.disputed
    instrument = np.where(ties.formal, np.array(["mou", "referral_protocol", "contract", "data_sharing"])[
        categorical(rng, np.array([0.45, 0.25, 0.15, 0.15]), n)],
        np.array(["personal", "co_location"])[categorical(rng, np.array([0.75, 0.25]), n)])
    instrument[disputed] = np.array(["referral_protocol", "data_sharing"])[rng.integers(0, 2, disputed.sum())]
    instrument[ties.dormant] = "mou"
    return instrument


def _dates(rng: np.random.Generator, ties: _Ties, period: Period) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days from the period start each tie began, whether it ends during the period, and when (NaN: never).

    Most ties predate the period; a fifth begin during it; a few end during it."""
    n, is_dormant = len(ties.a), ties.dormant
    started = np.where(rng.random(n) < 0.2, rng.uniform(0, period.days * 2 / 3, n),
                       -rng.exponential(3 * 365, n))
    started[is_dormant] = -rng.uniform(30, 700, is_dormant.sum())
    started = np.floor(started)
    first_day = np.maximum(started, 0) + 30
    ends = ~ties.forced & (rng.random(n) < 0.08) & (first_day < period.days - 1)
    ended = np.where(ends, np.floor(rng.uniform(first_day, period.days - 1)), np.nan)
    return started, ends, ended


def _rating(rng: np.random.Generator, weights: tuple[float, ...], n: int) -> np.ndarray:
    return 1.0 + categorical(rng, np.array(weights), n)


def _ratings(rng: np.random.Generator, ties: _Ties) -> tuple[np.ndarray, np.ndarray]:
    """The partner survey's trust and value, 1-4: lower across the disputed ties and for the dormant MOUs,
    missing where the survey went unanswered."""
    n, formal = len(ties.a), ties.formal
    trust = np.where(formal, _rating(rng, (0.05, 0.2, 0.45, 0.3), n), _rating(rng, (0.02, 0.1, 0.38, 0.5), n))
    value = np.where(formal, _rating(rng, (0.05, 0.15, 0.45, 0.35), n), _rating(rng, (0.03, 0.12, 0.4, 0.45), n))
    trust[ties.disputed] = _rating(rng, (0.3, 0.45, 0.2, 0.05), ties.disputed.sum())
    value[ties.dormant] = _rating(rng, (0.35, 0.45, 0.15, 0.05), ties.dormant.sum())
    unanswered = rng.random(n) < 0.2  # the partner survey went unanswered
    trust[unanswered | (rng.random(n) < 0.05)] = np.nan
    value[unanswered | (rng.random(n) < 0.05)] = np.nan
    return trust, value
