"""A seeded, fully synthetic community for the demo, the tests and the docs.

The story
---------
A city of a few neighbourhoods (Northfield, Riverside, Harborview, Eastgate, Millbrook,
Westhaven, ...) has some 150 human-services agencies: the housing authority, job centres,
child-protection services and the public-health department (government); family shelters, food
banks, legal aid, counselling charities and a few domestic-violence services (nonprofit); churches,
mosques and synagogues (faith); hospitals, clinics, community mental-health teams and recovery
centres (health); schools, colleges and adult learning (education); employers and job training
(business); police, probation and courts (justice); volunteer groups, tenants' associations and
community centres (community). Each runs one to four programs, funded by invented funders.

Agencies refer clients to one another over three years. Most flows stay inside a neighbourhood
and follow what the sender's clients need (a shelter sends families to housing, hospitals, schools,
job training and mental-health teams; a school sends children's families to child protection ...).
Declared ties grow out of those flows: formal ones (MOU, referral protocol, contract,
data-sharing agreement) between institutions, informal ones (personal relationships,
co-location) among clergy, volunteers and community groups, which carry real referrals too.
Police and child-protection services refer to each other constantly and often decline each
other's referrals; clients ping-pong between agencies; a few referrals stay inside an agency.

Planted phenomena (see `planted()` and `PLANTED`), which the pages must let a user find:

1. **Bottleneck**: Riverside Counselling, where all of Riverside and a third of the city send clients,
   accepts slowly (median ~16 days against ~1-2 elsewhere), declines more, and lets many
   referrals sit unanswered: it tops the ranking of agencies by stalled referrals.
2. **Dormant agreements**: a handful of formal MOUs between agencies that never refer to each other.
3. **Flows without agreement**: a handful of directed flows, among the heaviest in the city,
   between agencies that have declared no tie at all.
4. **Housing shortage**: in one neighbourhood housing and shelter need runs at about three times the
   housing capacity there (and housing referrals there are often declined for lack of capacity);
   elsewhere need and capacity roughly balance.
5. **Winter surge**: shelter referrals and shelter need rise in December-February, most of all at
   Harbor House Family Shelter, whose declines for lack of capacity rise with them.
6. **Small numbers**: a few pilot programs see only a handful of clients leave each year, to
   exercise small-cell suppression.

Profiles
--------
The story above is the dense demo, the default (`python -m atlas demo`): about a thousand referrals an
agency a year, so most counts are large. `--profile continuum` tells it in a community of ordinary size,
like a mid-size continuum of care: 60 agencies in 5 neighbourhoods (fewer kinds of agency in every one),
10,000 referrals and about 2,000 exits a year, each agency referring a few clients a quarter to many
partners, so most pairs of agencies and most programs' exits in a quarter are counts of 1 to 10. A
profile is data (`data/profiles.toml`, `story.PROFILES`): the sizes and the story's knobs, each read where
its step draws; the dense profile's values draw exactly as the demo always has.

Outcomes record client exits (mostly at the end of a completed service), with a mix of results
that depends on the service type; some clients housed later return to homelessness within 6-24
months. Capacity gives monthly slots per program, needs monthly people in need per neighbourhood and
service type. Late referrals are more often still pending, as the data stops at the period end.

The package
-----------
Layer: a source of data beside the import side. It builds the same seven tables an import reads
(atlas.contract) from the domain's vocabulary (atlas.vocab); the command line (`python -m atlas demo`)
and the tests import it, the views never do. Its modules, each one part of the story:

- `story`: the fixed tables and the profiles, read from the data files of `data/` (`data/README.md` says what
  each holds);
- `frames`, `period`: ids, draws, canonical frames, and the calendar of the period;
- `town`: the roster of agencies and programs; `flows`: who refers to whom;
- `referrals`: the referral rows and their stages; `episodes`: the rows that plant the story's patterns;
- `outcomes`, `partnerships`, `capacity` (capacity and need): the other tables;
- `phenomena`: the planted phenomena by id; `generator`: `generate`, the steps in the order of their draws.
"""

from atlas.demo.generator import generate
from atlas.demo.phenomena import PLANTED, planted
from atlas.demo.story import (
    ARCHETYPE_KEYS,
    ARCHETYPES,
    CAST,
    CORE,
    PROFILES,
    REGION_NAMES,
    Archetype,
    CastMember,
    Profile,
)

__all__ = ["ARCHETYPES", "ARCHETYPE_KEYS", "CAST", "CORE", "PLANTED", "PROFILES", "REGION_NAMES", "Archetype",
           "CastMember", "Profile", "generate", "planted"]
