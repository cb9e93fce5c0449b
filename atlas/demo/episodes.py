"""Referral episodes that plant the story's patterns beside the bulk: clients bounced between two agencies,
the pilots' handful of clients, families passed between police and child protection, the follow-ups
after a decline, and the referrer whose declined clients nobody refers again.

Layer: the demo package, above the referral rows and their stages (atlas.demo.referrals).
"""

from __future__ import annotations

import numpy as np

from atlas.demo.flows import Flows
from atlas.demo.frames import categorical
from atlas.demo.period import Period
from atlas.demo.referrals import Rows, referral_days, stages
from atlas.demo.story import DISPUTED, DORMANT_PAIRS, DROPPING_REFERRER
from atlas.demo.town import Town


def pingpong(rng: np.random.Generator, town: Town, flows: Flows, period: Period, n_chains: int) -> Rows:
    """Clients bounced 3-5 times between two agencies within 30 days, never started."""
    n_agencies = town.n_agencies
    target = town.program_agency[flows.program]
    key = flows.source.astype(np.int64) * n_agencies + target
    reverse = target.astype(np.int64) * n_agencies + flows.source
    mutual = np.flatnonzero((flows.source != target) & np.isin(reverse, key))
    chosen = mutual[categorical(rng, flows.weight[mutual], n_chains)]
    by_key = np.argsort(key)
    back = by_key[np.searchsorted(key[by_key], reverse[chosen])]  # an edge from the receiver back

    length = 3 + categorical(rng, np.array([0.5, 0.3, 0.2]), n_chains)
    chain = np.repeat(np.arange(n_chains), length)
    first_row = np.repeat(np.cumsum(length) - length, length)
    step = np.arange(len(chain)) - first_row
    elapsed = np.cumsum(np.where(step == 0, 0, np.floor(rng.uniform(1, 7, len(chain)) * 1440) / 1440))
    first_day = referral_days(rng, town, period, flows.source[chosen], flows.program[chosen])
    day = first_day[chain] + elapsed - elapsed[first_row]
    edge = np.where(step % 2 == 0, chosen[chain], back[chain])
    inside = day < period.days  # a chain still bouncing when the data stops is cut short
    day, edge, chain = day[inside], edge[inside], chain[inside]
    program = flows.program[edge]
    n = len(day)
    answers = stages(rng, town, period, day, program, np.zeros(n), np.full(n, 0.7), np.full(n, DISPUTED), 0.0, 0.0)
    return Rows(flows.source[edge], program, np.ones(n, bool), chain, day, *answers)


def pilots(rng: np.random.Generator, town: Town, period: Period) -> Rows:
    """A handful of clients a year for each pilot program, sent by its neighbourhood's community centre."""
    years = -(-period.days // 365)
    per_year = rng.integers(2, 8, (years, len(town.pilots))).ravel()  # year-major
    pilot = np.repeat(np.tile(np.arange(len(town.pilots)), years), per_year)
    year = np.repeat(np.repeat(np.arange(years), len(town.pilots)), per_year)
    day = year * 365 + rng.integers(0, 300 * 1440, len(pilot)) / 1440  # in the first 300 days, to the minute
    pilot, day = pilot[day < period.days], day[day < period.days]
    centres = town.agencies_of("community_centre")
    sender = np.array([centres[town.region[centres] == town.region[town.program_agency[p]]][0] for p in town.pilots])
    program = town.pilots[pilot]
    n = len(program)
    answers = stages(rng, town, period, day, program, np.zeros(n), np.zeros(n), np.zeros(n, int), 1.0, 1.0)
    return Rows(sender[pilot], program, np.ones(n, bool), np.arange(n), day, *answers)


def passed_around(rng: np.random.Generator, town: Town, period: Period, n_chains: int) -> Rows:
    """Families passed between the police and child protection of their region, 2-4 times within weeks,
    that neither takes on: each referral is declined or left unanswered (the essays' failure)."""
    pairs = [(p, c) for r in range(len(town.regions))
             for p in town.agencies_of("police", r) for c in town.agencies_of("cps", r)]
    if not pairs:
        empty = np.zeros(0)
        return Rows(empty.astype(np.int32), empty.astype(np.int32), empty.astype(bool), empty.astype(np.int32),
                    empty, empty, empty, empty.astype(np.int8), empty, empty)
    pair = rng.integers(0, len(pairs), n_chains)
    police, cps = (np.array([pairs[i][k] for i in pair]) for k in (0, 1))
    length = 2 + categorical(rng, np.array([0.4, 0.4, 0.2]), n_chains)
    chain = np.repeat(np.arange(n_chains), length)
    first_row = np.repeat(np.cumsum(length) - length, length)
    step = np.arange(len(chain)) - first_row
    first_day = rng.uniform(0, period.days - 60, n_chains)
    gaps = np.where(step == 0, 0, rng.uniform(2, 9, len(chain)))
    day = first_day[chain] + np.cumsum(gaps) - np.cumsum(gaps)[first_row]
    source = np.where(step % 2 == 0, police[chain], cps[chain])
    receiver = np.where(step % 2 == 0, cps[chain], police[chain])
    program = town.first_program()[receiver]
    n = len(day)
    last = step == length[chain] - 1
    declined = np.where(last & (rng.random(n) < 0.5), np.nan, day + rng.uniform(0.5, 3, n))  # the last may wait
    declined[declined >= period.days] = np.nan
    reason = np.where(np.isnan(declined), -1, categorical(rng, np.array([0, 0.6, 0.1, 0, 0, 0.3]), n)).astype(np.int8)
    missing = np.full(n, np.nan)
    return Rows(source.astype(np.int32), program.astype(np.int32), np.ones(n, bool), chain.astype(np.int32), day,
                missing, declined, reason, missing.copy(), missing.copy())


def follow_ups(rng: np.random.Generator, town: Town, period: Period, main: Rows, n: int) -> Rows:
    """After a decline, most referrers try again: a new referral of the same client, by the same referrer,
    to another program of the same service within ten days (the planted referrer excepted)."""
    declined = np.flatnonzero(~np.isnan(main.declined) & (main.source != DROPPING_REFERRER))
    chosen = np.sort(rng.choice(declined, size=n, replace=len(declined) < n)) if len(declined) else \
        np.zeros(0, np.int64)
    service = town.program_type[main.program[chosen]]
    program = main.program[chosen].copy()
    for s in np.unique(service):
        options = np.flatnonzero(town.program_type == s)
        rows = np.flatnonzero(service == s)
        program[rows] = options[rng.integers(0, len(options), len(rows))]
    if town.profile.keep_dormant:
        _around_dormant(town, main.source[chosen], program)
    day = main.declined[chosen] + rng.uniform(0.5, 10, len(chosen))
    keep = day < period.days
    chosen, program, day = chosen[keep], program[keep], day[keep]
    short = n - len(day)  # the rest, on the edge of the period, become ordinary next-day referrals
    if short:
        extra = rng.choice(np.flatnonzero(main.day < period.days - 2), size=short)
        chosen, program = np.concatenate([chosen, extra]), np.concatenate([program, main.program[extra]])
        day = np.concatenate([day, main.day[extra] + 1])
    m = len(day)
    answers = stages(rng, town, period, day, program, np.full(m, 0.015), np.full(m, 0.2), np.zeros(m, int),
                     0.8, 0.85)
    return Rows(main.source[chosen], program, np.ones(m, bool), main.client[chosen], day, *answers)


def _around_dormant(town: Town, source: np.ndarray, program: np.ndarray) -> None:
    """A follow-up drawn across a dormant agreement goes to the next program of its service instead, with
    no draw: those pairs exchange nobody (in a small town a random program of a service is often theirs)."""
    dormant = {(a, b) for pair in DORMANT_PAIRS for a, b in (pair, pair[::-1])}
    agency = town.program_agency
    keys = [a * town.n_agencies + b for a, b in dormant]
    for row in np.flatnonzero(np.isin(source.astype(np.int64) * town.n_agencies + agency[program], keys)):
        options = np.flatnonzero(town.program_type == town.program_type[program[row]])
        at = int(np.searchsorted(options, program[row]))
        for step in range(1, len(options)):
            candidate = options[(at + step) % len(options)]
            if (int(source[row]), int(agency[candidate])) not in dormant:
                program[row] = candidate
                break


def drop_handoffs(rows: Rows) -> None:
    """The planted referrer whose declined referrals are rarely followed up: its clients whose referral
    was declined are referred by nobody afterwards (each becomes a client of its own)."""
    declined = (rows.source == DROPPING_REFERRER) & ~np.isnan(rows.declined)
    fresh = int(rows.client.max()) + 1
    rows.client[declined] = np.arange(fresh, fresh + int(declined.sum()), dtype=np.int32)
