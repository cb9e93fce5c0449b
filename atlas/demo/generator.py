"""`generate`: the seven contract tables of a seeded synthetic community, step by step.

The first agencies of the roster are a fixed cast (atlas.demo.story.CAST) that carries the planted
phenomena, so their ids depend only on the number of agencies and regions (atlas.demo.phenomena); the
rest of the roster, the ties and the whole history are drawn from `seed`, in a fixed order of draws:
changing the order of the steps below changes every seed's community. All per-referral work is
vectorised with numpy; Python loops run only over agencies, programs, profiles and months.

Layer: the top of the demo package; the command line (atlas.cli) and the tests reach it as atlas.demo.generate.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from atlas.demo.capacity import capacity, needs
from atlas.demo.episodes import drop_handoffs, follow_ups, passed_around, pilots, pingpong
from atlas.demo.flows import Flows
from atlas.demo.frames import arrow_ids
from atlas.demo.outcomes import outcomes_frame
from atlas.demo.partnerships import partnerships_frame
from atlas.demo.period import Period
from atlas.demo.referrals import Rows, bulk, referrals_frame
from atlas.demo.story import PROFILES
from atlas.demo.town import Town, check_size
from atlas.progress import NOWHERE, Part, Progress


def generate(seed: int = 7, referrals: int | None = None, agencies: int | None = None, regions: int | None = None,
             start: datetime.date = datetime.date(2023, 1, 1), months: int | None = None, profile: str = "dense",
             progress: Progress | Part = NOWHERE) -> dict[str, pd.DataFrame]:
    """The seven contract tables of a synthetic community, in canonical typed form.

    `profile` (a key of atlas.demo.story.PROFILES, data/profiles.toml) gives the sizes and the story's
    knobs; `referrals`, `agencies`, `regions` and `months` given explicitly override its sizes. `start`
    must be the first of a month; the period runs `months` months from it, and every timestamp lies
    before its end. `referrals` is the exact number of referral rows. `progress` hears each step (at 10M
    referrals the whole takes about 25 s).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
    knobs = PROFILES[profile]
    referrals = knobs.referrals if referrals is None else referrals
    agencies = knobs.agencies if agencies is None else agencies
    regions = knobs.regions if regions is None else regions
    months = knobs.months if months is None else months
    check_size(agencies, regions, knobs.core)
    if referrals < 1_000:
        raise ValueError("referrals must be at least 1000")
    if months < 1 or start.day != 1:
        raise ValueError("start must be the first of a month and months at least 1")
    rng = np.random.default_rng(seed)
    period = Period(start, months)
    progress.report(0.0, f"Generating the demo: {agencies:,} agencies and who refers to whom")
    town = Town.build(rng, agencies, regions, knobs)
    flows = Flows.build(rng, town)

    progress.report(0.15, f"Generating the demo: {referrals:,} referrals")
    rows = _referral_rows(rng, town, flows, period, referrals)
    n_clients = int(rows.client.max()) + 1  # raw ids in random order, not in order of arrival
    clients = arrow_ids("C", rng.permutation(n_clients) + 1, max(7, len(str(n_clients))))
    progress.report(0.55, "Generating the demo: capacity, partnerships and the referrals' table")
    slots, demand = capacity(rng, town, rows, period)
    tables = {
        "agencies": town.agencies_frame(),
        "programs": town.programs_frame(rng),
        "partnerships": partnerships_frame(rng, town, flows, period),
        "referrals": referrals_frame(town, rows, clients, period, rng),
    }
    progress.report(0.85, "Generating the demo: outcomes and need")
    tables.update(outcomes=outcomes_frame(rng, town, rows, clients, period), capacity=slots,
                  needs=needs(rng, town, demand, period))
    progress.report(1.0, "Generated the demo")
    return tables


def _referral_rows(rng: np.random.Generator, town: Town, flows: Flows, period: Period, referrals: int) -> Rows:
    """Exactly `referrals` rows: the planted kinds first (their sizes fixed by the total), then the bulk
    over the flows, then the follow-ups of the bulk's declines, which keep its clients."""
    bounced = pingpong(rng, town, flows, period, round(referrals * 0.004))
    piloted = pilots(rng, town, period)
    passed = passed_around(rng, town, period, max(12, round(referrals * 0.0008)))
    n_follow = round(referrals * 0.05)
    main = bulk(rng, town, flows, period,
                referrals - len(bounced.day) - len(piloted.day) - len(passed.day) - n_follow)
    follow = follow_ups(rng, town, period, main, n_follow)
    rows = Rows.concat([main, bounced, piloted, passed]).extended(follow)  # follow-ups keep main's clients
    del main, bounced, piloted, passed, follow
    drop_handoffs(rows)
    return rows
