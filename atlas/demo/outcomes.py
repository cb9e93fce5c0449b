"""Client exits: outcomes at the end of most completed services, some drop-outs, and the later returns
to homelessness of some of those housed; the outcomes' table.

Layer: the demo package, above the referral rows (atlas.demo.referrals) and the roster (atlas.demo.town).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from atlas.demo.frames import categorical, frame, take
from atlas.demo.period import Period
from atlas.demo.referrals import Rows
from atlas.demo.story import DROPOUT_MIX, OUTCOME_MIX, RETURN_SHARE, SERVICE
from atlas.demo.town import Town
from atlas.vocab import OUTCOMES


def _draw(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    codes = np.array([OUTCOMES.index(o) for o in mix])
    return codes[categorical(rng, np.array(list(mix.values())), n)]


def outcomes_frame(rng: np.random.Generator, town: Town, rows: Rows, clients: pa.Array,
                   period: Period) -> pd.DataFrame:
    """Exits at the end of most completed services, some drop-outs, and later returns to homelessness."""
    n = len(rows.day)
    completed = np.flatnonzero(~np.isnan(rows.completed) & (rng.random(n) < 0.85 * town.profile.exit_share))
    dropout_day = rows.started + 21 * rng.lognormal(0, 0.8, n)
    dropped = np.flatnonzero(np.isnan(rows.completed) & (dropout_day < period.days)
                           & (rng.random(n) < 0.3 * town.profile.exit_share))
    index = np.r_[completed, dropped]
    day = np.r_[rows.completed[completed], dropout_day[dropped]]
    outcome = np.empty(len(index), np.int64)
    service = town.program_type[rows.program[completed]]
    for s, mix in OUTCOME_MIX.items():
        at = np.flatnonzero(service == SERVICE[s])
        outcome[at] = _draw(rng, mix, len(at))
    outcome[len(completed):] = _draw(rng, DROPOUT_MIX, len(dropped))
    agency = town.program_agency[rows.program[index]]
    program = np.where(rows.recorded[index], rows.program[index], -1)
    client = rows.client[index]

    # Some of those housed are back in their neighbourhood's shelter 6-24 months later.
    housed = np.isin(outcome, [OUTCOMES.index("housed_permanent"), OUTCOMES.index("housed_temporary")])
    back_day = day + rng.uniform(183, 730, len(day))
    back = np.flatnonzero(housed & (back_day < period.days) & (rng.random(len(day)) < RETURN_SHARE))
    first = town.first_program()
    shelter = np.array([first[town.agencies_of("family_shelter", r)[0]] for r in range(len(town.regions))])
    back_program = shelter[town.region[agency[back]]]
    agency = np.r_[agency, town.program_agency[back_program]]
    program = np.r_[program, back_program]
    client = np.r_[client, client[back]]
    outcome = np.r_[outcome, np.full(len(back), OUTCOMES.index("returned_to_homelessness"))]
    day = np.floor(np.r_[day, back_day[back]])

    order = np.lexsort((client, day))
    return frame("outcomes", {
        "client_id": take(clients, client[order]),
        "agency_id": take(town.agency_ids(), agency[order]),
        "program_id": take(town.program_ids(), program[order]),
        "outcome": take(pa.array(OUTCOMES), outcome[order]),
        "achieved_on": period.dates(day[order]),
    })
