"""The planted phenomena of a community of a given size, by id: what the pages must let a user find, and
what the tests look for. They depend only on the community's size, never on the seed.

Layer: the demo package, above its fixed tables (atlas.demo.story) and the roster's sizing rules
(atlas.demo.town).
"""

from __future__ import annotations

import numpy as np

from atlas.demo.frames import arrow_ids, width
from atlas.demo.story import (
    BOTTLENECK,
    CAST,
    DORMANT_PAIRS,
    DROPPING_REFERRER,
    FRICTION_SECTORS,
    HARBOR_HOUSE,
    PROFILES,
    SHORTAGE_SLOT,
    UNPARTNERED_FLOWS,
)
from atlas.demo.town import check_size, region_names


def planted(agencies: int | None = None, regions: int | None = None, profile: str = "dense") -> dict:
    """The planted phenomena of a community of this size (they do not depend on the seed); the sizes
    default to the profile's (atlas.demo.story.PROFILES).

    Keys: `bottleneck_agency_id` (slow mental-health provider), `shortage_region` (housing need
    outruns capacity), `dormant_formal_pairs` (formal ties with no referrals either way; pairs of
    agency ids), `unpartnered_heavy_flows` (heavy directed flows (from, to) with no declared tie),
    `small_programs` (program ids with 1-10 exits a year), `winter_surge_agency_id` and
    `winter_surge_program_id` (the shelter whose demand surges in Dec-Feb), `dropping_referrer_agency_id`
    (whose declined referrals are rarely followed up), `friction_sectors` (the sector pair that turns each
    other down: police and child protection), and `names` (agency id -> name for every agency above).
    """
    knobs = PROFILES[profile]
    agencies = knobs.agencies if agencies is None else agencies
    regions = knobs.regions if regions is None else regions
    check_size(agencies, regions, knobs.core)
    agency_ids = arrow_ids("A", np.arange(1, len(CAST) + 1), width(agencies)).to_pylist()
    program_width = width(4 * agencies)
    first_program, pilots, n = [], [], 0
    for member in CAST:
        first_program.append(n)
        n += member.programs
        if member.pilot:
            pilots.append(n)
            n += 1
    program_ids = arrow_ids("P", np.arange(1, n + 1), program_width).to_pylist()
    named = {BOTTLENECK, HARBOR_HOUSE, DROPPING_REFERRER, *np.ravel(UNPARTNERED_FLOWS), *np.ravel(DORMANT_PAIRS),
             *(i for i, m in enumerate(CAST) if m.pilot)}
    return {
        "bottleneck_agency_id": agency_ids[BOTTLENECK],
        "shortage_region": region_names(regions)[SHORTAGE_SLOT % regions],
        "dormant_formal_pairs": [(agency_ids[a], agency_ids[b]) for a, b in DORMANT_PAIRS],
        "unpartnered_heavy_flows": [(agency_ids[a], agency_ids[b]) for a, b in UNPARTNERED_FLOWS],
        "small_programs": [program_ids[i] for i in pilots],
        "winter_surge_agency_id": agency_ids[HARBOR_HOUSE],
        "dropping_referrer_agency_id": agency_ids[DROPPING_REFERRER],
        "friction_sectors": FRICTION_SECTORS,
        "winter_surge_program_id": program_ids[first_program[HARBOR_HOUSE]],
        "names": {agency_ids[i]: CAST[i].name for i in sorted(named)},
    }


PLANTED = planted()  # the planted phenomena at the default size (150 agencies, 6 regions)
