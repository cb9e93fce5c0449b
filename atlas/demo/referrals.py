"""Referral rows and their stages: when referrals are made, how each is answered, started and completed,
the bulk of them drawn over the flows, which of them share a client, and the referrals' table.

Layer: the demo package, above the roster (atlas.demo.town), the flows (atlas.demo.flows) and the
calendar (atlas.demo.period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from atlas.demo.flows import Flows
from atlas.demo.frames import arrow_ids, categorical, frame, strings, take
from atlas.demo.period import Period
from atlas.demo.story import (
    ARCHETYPE_KEYS,
    ARCHETYPES,
    BOTTLENECK,
    DISPUTED,
    HARBOR_HOUSE,
    HARBOR_WINTER,
    HOUSING,
    LEAD_RECORDERS,
    MONTHLY,
    ORDINARY,
    REASONS,
    SERVICE_DAYS,
    SHELTER,
    START_DAYS,
    TIGHT,
    WINTER_MONTHS,
)
from atlas.demo.town import Town
from atlas.vocab import DECLINE_REASONS, SERVICE_TYPES


@dataclass
class Rows:
    """Referral rows being built; days are floats from the period start, NaN = not (yet) happened."""

    source: np.ndarray
    program: np.ndarray
    recorded: np.ndarray  # whether to_program_id is filled in
    client: np.ndarray  # client number, unique within the block until concat
    day: np.ndarray
    accepted: np.ndarray
    declined: np.ndarray
    reason: np.ndarray  # index into DECLINE_REASONS, -1 = none
    started: np.ndarray
    completed: np.ndarray

    @classmethod
    def concat(cls, blocks: list[Rows]) -> Rows:
        offsets = np.cumsum([0] + [int(b.client.max(initial=-1)) + 1 for b in blocks[:-1]])
        parts = {name: np.concatenate([getattr(b, name) for b in blocks], dtype=getattr(blocks[0], name).dtype)
                 for name in cls.__dataclass_fields__}  # in the first (largest) block's dtypes
        parts["client"] = np.concatenate([b.client + o for b, o in zip(blocks, offsets)], dtype=np.int32)
        return cls(**parts)

    def extended(self, more: Rows) -> Rows:
        """These rows and `more`, whose client numbers are already this block's (not renumbered)."""
        return Rows(**{name: np.concatenate([getattr(self, name), getattr(more, name)], dtype=getattr(self, name).dtype)
                       for name in self.__dataclass_fields__})


def referral_days(rng: np.random.Generator, town: Town, period: Period, source: np.ndarray,
                  program: np.ndarray) -> np.ndarray:
    """When referrals are made: seasonal by service type, weekdays, office hours (police, hospitals: any hour)."""
    profile = town.program_type[program].copy()
    winter_program = town.first_program()[HARBOR_HOUSE]
    profile[program == winter_program] = len(SERVICE_TYPES)
    day = np.empty(len(program))
    flat = (1.0,) * 12
    for k in np.unique(profile):
        monthly = HARBOR_WINTER if k == len(SERVICE_TYPES) else MONTHLY.get(SERVICE_TYPES[k], flat)
        rows = np.flatnonzero(profile == k)
        day[rows] = categorical(rng, period.day_weights(monthly), len(rows))
    round_clock = np.array([ARCHETYPES[k].round_clock for k in town.keys()])[source]
    office = np.clip(rng.normal(13.0, 2.5, len(day)), 7.5, 18.5)
    hour = np.where(round_clock, rng.uniform(0, 24, len(day)), office)
    return day + np.floor(hour * 60) / 1440


def stages(rng: np.random.Generator, town: Town, period: Period, day: np.ndarray, program: np.ndarray,
           p_never: np.ndarray, p_decline: np.ndarray, reason_profile: np.ndarray,
           p_start: float | np.ndarray, p_complete: float) -> tuple[np.ndarray, ...]:
    """Accept / decline / start / complete each referral; events after the period end stay missing."""
    n, end = len(day), period.days
    to = town.program_agency[program]
    service = town.program_type[program]
    answered = rng.random(n) >= p_never
    declines = answered & (rng.random(n) < p_decline)
    wait = town.accept_days[to] * rng.lognormal(0, np.where(to == BOTTLENECK, 0.6, 0.75))
    respond = np.where(answered, day + np.where(declines, 0.6 * wait, wait), np.nan)
    respond[respond >= end] = np.nan
    accepted = np.where(~declines, respond, np.nan)
    declined = np.where(declines, respond, np.nan)

    reason = np.full(n, -1, np.int8)
    for k in range(len(REASONS)):
        rows = np.flatnonzero(~np.isnan(declined) & (reason_profile == k))
        reason[rows] = categorical(rng, REASONS[k], len(rows))

    start_days = np.array([START_DAYS[s] for s in SERVICE_TYPES])[service]
    started = accepted + start_days * rng.lognormal(0, 0.8, n)
    started[(rng.random(n) >= p_start) | (started >= end)] = np.nan
    service_days = np.array([SERVICE_DAYS[s] for s in SERVICE_TYPES])[service]
    completed = started + service_days * rng.lognormal(0, 0.7, n)
    completed[(rng.random(n) >= p_complete) | (completed >= end)] = np.nan
    return accepted, declined, reason, started, completed


def bulk(rng: np.random.Generator, town: Town, flows: Flows, period: Period, n: int) -> Rows:
    """The bulk of referrals, drawn over the weighted edges (their counts are kept in `flows.count`)."""
    flows.count = rng.multinomial(n, flows.weight / flows.weight.sum())
    edge = np.repeat(np.arange(len(flows.source), dtype=np.int32), flows.count)
    source, program = flows.source[edge], flows.program[edge]
    del edge
    day = referral_days(rng, town, period, source, program)
    to = town.program_agency[program]
    service = town.program_type[program]
    police, cps = ARCHETYPE_KEYS.index("police"), ARCHETYPE_KEYS.index("cps")
    kind_from, kind_to = town.archetype[source], town.archetype[to]

    # Declines: police and child protection dispute; capacity is tight at Riverside, in the
    # shortage region's housing and in winter shelters.
    disputed = ((kind_from == police) & (kind_to == cps)) | ((kind_from == cps) & (kind_to == police))
    del kind_from, kind_to
    winter = np.isin(period.moy_of_day[day.astype(int)] + 1, WINTER_MONTHS) & (service == SHELTER)
    housing = (service == SHELTER) | (service == HOUSING)
    short = housing & (town.region[to] == town.shortage)
    p_decline = (town.decline[to] + 0.25 * short + np.where(to == HARBOR_HOUSE, 0.25, 0.12) * winter)
    p_decline = np.where(disputed, 0.45, p_decline).astype(np.float32)
    profile = np.where(disputed, DISPUTED, np.where(short | winter | (to == BOTTLENECK), TIGHT, ORDINARY))
    p_never = np.where(to == BOTTLENECK, 0.15, 0.015).astype(np.float32)
    p_start = np.where(service == SHELTER, 0.9, np.where(to == BOTTLENECK, 0.75, 0.8)).astype(np.float32)
    del disputed, winter, housing, short, to, service
    answers = stages(rng, town, period, day, program, p_never, p_decline, profile, p_start, 0.85)
    return Rows(source, program, rng.random(n) >= 0.08, _clients(rng, town, source, day), day, *answers)


def _clients(rng: np.random.Generator, town: Town, source: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Group referrals into clients: neighbours in (sender's region, time +- weeks) share a client."""
    order = np.lexsort((day + rng.normal(0, 45, len(day)), town.region[source]))
    sizes = 1 + categorical(rng, np.array([55, 20, 10, 6, 4, 2, 1, 1, .5, .5, .5, .5]), len(day))
    client_sorted = np.repeat(np.arange(len(day), dtype=np.int32), sizes)[: len(day)]
    client = np.empty(len(day), np.int32)
    client[order] = client_sorted
    return client


def referrals_frame(town: Town, rows: Rows, clients: pa.Array, period: Period,
                    rng: np.random.Generator) -> pd.DataFrame:
    """The referrals' table, in order of referral, with the case's lead where the referrer records it."""
    order = np.argsort(rows.day, kind="stable")
    n = len(order)
    program = rows.program[order]
    # Child protection, community mental-health teams and case-managing shelters record the case's lead
    # on most of their referrals that are taken up: themselves, or (a fifth of the time) the receiver.
    source = rows.source[order]
    recording = np.isin(town.archetype[source], [ARCHETYPE_KEYS.index(k) for k in LEAD_RECORDERS])
    recorded = recording & ~np.isnan(rows.accepted[order]) & (rng.random(n) < 0.7)
    lead = np.where(recorded, np.where(rng.random(n) < 0.2, town.program_agency[program], source), -1)
    return frame("referrals", {
        "referral_id": strings(arrow_ids("R", np.arange(1, n + 1), max(8, len(str(n))))),
        "client_id": take(clients, rows.client[order]),
        "from_agency_id": take(town.agency_ids(), rows.source[order]),
        "to_agency_id": take(town.agency_ids(), town.program_agency[program]),
        "service_type": take(pa.array(SERVICE_TYPES), town.program_type[program]),
        "referred_at": period.timestamps(rows.day[order]),
        "to_program_id": take(town.program_ids(), np.where(rows.recorded[order], program, -1)),
        "accepted_at": period.timestamps(rows.accepted[order]),
        "declined_at": period.timestamps(rows.declined[order]),
        "decline_reason": take(pa.array(DECLINE_REASONS), rows.reason[order]),
        "started_at": period.timestamps(rows.started[order]),
        "completed_at": period.timestamps(rows.completed[order]),
        "lead_agency_id": take(town.agency_ids(), lead),
    })
