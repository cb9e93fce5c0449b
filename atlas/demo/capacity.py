"""Capacity and need: monthly slots per program sized to its demand (short where the story says so),
and people in need per neighbourhood, service type and month; their tables.

Layer: the demo package, above the referral rows (atlas.demo.referrals) and the roster (atlas.demo.town).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atlas.contract import TABLES
from atlas.demo.frames import frame, take
from atlas.demo.period import Period
from atlas.demo.referrals import Rows
from atlas.demo.story import (
    BOTTLENECK,
    HOUSING,
    MONTHLY,
    NEED_SOURCE,
    SHELTER,
    SURVEY,
    TREND_PER_YEAR,
    WINTER_MONTHS,
)
from atlas.demo.town import Town
from atlas.vocab import SERVICE_TYPES

_SENTINELS = np.array(TABLES["capacity"].column("slots").sentinels)


def capacity(rng: np.random.Generator, town: Town, rows: Rows, period: Period) -> tuple[pd.DataFrame, np.ndarray]:
    """Monthly slots per program, sized to its demand: short in the shortage region and at Riverside.

    Returns the frame and each program's mean monthly referrals (the basis of need)."""
    n_months = len(period.months)
    demand = np.bincount(rows.program, minlength=town.n_programs) / n_months
    housing = np.isin(town.program_type, (SHELTER, HOUSING))
    headroom = rng.uniform(1.1, 1.6, town.n_programs)
    headroom[housing & (town.region[town.program_agency] == town.shortage)] *= 0.35
    headroom[town.program_agency == BOTTLENECK] = 0.5
    base = np.maximum(demand * headroom, rng.uniform(0.05, 0.2, town.n_programs) * demand.mean())
    funding = rng.lognormal(0, 0.08, (town.n_programs, period.year_of_month[-1] + 1))[:, period.year_of_month]
    overflow = 1 + 0.1 * np.outer(town.program_type == SHELTER, np.isin(period.moy_of_month + 1, WINTER_MONTHS))
    slots = np.rint(base[:, None] * funding * overflow * rng.lognormal(0, 0.04, funding.shape)).astype(np.int64)
    slots[np.isin(slots, _SENTINELS)] += 1  # a real 999 would read as a placeholder
    table = frame("capacity", {
        "program_id": take(town.program_ids(), np.repeat(np.arange(town.n_programs), n_months)),
        "month": np.tile(period.months, town.n_programs),
        "slots": slots.ravel(),
    })
    return table, demand


def needs(rng: np.random.Generator, town: Town, demand: np.ndarray, period: Period) -> pd.DataFrame:
    """People in need per region, service type and month: tracks demand, outruns housing in one region."""
    n_regions, n_types, n_months = len(town.regions), len(SERVICE_TYPES), len(period.months)
    cell = town.region[town.program_agency] * n_types + town.program_type
    base = np.bincount(cell, weights=demand, minlength=n_regions * n_types).reshape(n_regions, n_types)
    base = np.where(base > 0, base, np.maximum(0.25 * base.mean(axis=0), 1.0)) * 1.3
    base[town.shortage, [SHELTER, HOUSING]] *= 1.3
    flat = (1.0,) * 12
    season = np.array([np.asarray(MONTHLY.get(s, flat))[period.moy_of_month] / np.mean(MONTHLY.get(s, flat))
                       for s in SERVICE_TYPES])
    trend = 1 + TREND_PER_YEAR * np.arange(n_months) / 12
    noise = rng.lognormal(0, 0.06, (n_regions, n_types, n_months))
    need = base[:, :, None] * season[None] * (trend / trend.mean()) * noise
    source = np.array([NEED_SOURCE.get(s, SURVEY) for s in SERVICE_TYPES], dtype=object)
    source = np.broadcast_to(source[None, :, None], need.shape).ravel().copy()
    source[rng.random(len(source)) < 0.03] = None
    return frame("needs", {
        "region": np.repeat(np.array(town.regions, dtype=object), n_types * n_months),
        "service_type": np.tile(np.repeat(np.array(SERVICE_TYPES, dtype=object), n_months), n_regions),
        "month": np.tile(period.months, n_regions * n_types),
        "people_in_need": np.rint(need).astype(np.int64).ravel(),
        "source": source,
    })
