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

Outcomes record client exits (mostly at the end of a completed service), with a mix of results
that depends on the service type; some clients housed later return to homelessness within 6-24
months. Capacity gives monthly slots per program, needs monthly people in need per neighbourhood and
service type. Late referrals are more often still pending, as the data stops at the period end.

Layout and randomness
---------------------
The first agencies of the roster are a fixed cast (`CAST`) that carries the planted phenomena, so
their ids depend only on the number of agencies and regions (`planted(agencies, regions)`); the rest
of the roster, the ties and the whole history are drawn from `seed`. All per-referral work is
vectorised with numpy; Python loops run only over agencies, programs, profiles and months.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.contract import TABLES
from atlas.progress import NOWHERE, Part, Progress
from atlas.vocab import DECLINE_REASONS, OUTCOMES, SERVICE_TYPES

# --------------------------------------------------------------------------------------------
# The community's vocabulary
# --------------------------------------------------------------------------------------------

REGION_NAMES = (
    "Northfield", "Riverside", "Harborview", "Eastgate", "Millbrook", "Westhaven",
    "Southmoor", "Cedar Hill", "Old Quarry", "Lakeshore", "Ashby Vale", "Fairmead",
)
# Invented words for street and place names ("Alder Street", "Kestrel Lane", ...).
_WORDS = (
    "Alder", "Ashgrove", "Bramble", "Copperwick", "Corrow", "Dunmarsh", "Elmstead", "Fallowmere",
    "Fenmoor", "Foundry", "Glenhollow", "Hazelby", "Hollis", "Ivystone", "Juniper", "Kestrel",
    "Larkmoor", "Linden", "Marlow", "Marrowgate", "Nettlebrook", "Oakhurst", "Orchard",
    "Pennywell", "Quarry", "Quillan", "Rookwood", "Sallowby", "Tanner", "Thistle", "Underwood",
    "Vetchley", "Wicken", "Wrenfield", "Yarrow", "Brackenridge", "Cobbleford", "Dovecote",
)
_SUFFIXES = ("Street", "Lane", "Road", "Park", "Hill", "Green", "Row", "Common")

_FUNDERS: dict[str, tuple[str, ...]] = {
    "shelter": ("City Housing Fund", "State Dept of Human Services", "Regional Homelessness Partnership Fund"),
    "housing": ("City Housing Fund", "Regional Homelessness Partnership Fund", "State Dept of Human Services"),
    "mental_health": ("County Behavioral Health Board", "State Dept of Health", "Wellspring Trust"),
    "substance_use": ("County Behavioral Health Board", "State Dept of Health"),
    "medical": ("County Health Fund", "Hospital Community Benefit Fund", "State Dept of Health"),
    "employment": ("State Workforce Board", "City Economic Development Office"),
    "education": ("Adult Learning Grant", "State Workforce Board", "Northfield Community Foundation"),
    "childcare": ("Early Years Fund", "State Dept of Human Services"),
    "transportation": ("City Transit Access Fund", "Northfield Community Foundation"),
    "food": ("Harvest Share Foundation", "Private donations", "Northfield Community Foundation"),
    "legal": ("Civil Justice Trust", "City Housing Fund"),
    "income_support": ("State Dept of Human Services",),
    "case_management": ("State Dept of Human Services", "City Housing Fund", "Northfield Community Foundation"),
    "other": ("Northfield Community Foundation", "Private donations"),
}
_FAITH_FUNDER = "Congregation giving"


@dataclass(frozen=True)
class Archetype:
    """A kind of agency: how it is named, what it runs and how it refers."""

    sector: str
    names: tuple[str, ...]  # templates over {region}, {place} ("Alder Street") and {word} ("Alder")
    programs: tuple[tuple[str, str], ...]  # (name, service_type); the first is the main service line
    fill: float = 0.0  # weight in the random part of the roster
    activity: float = 1.0  # referrals sent, relative
    pull: float = 1.0  # referrals attracted, relative
    needs: dict[str, float] = field(default_factory=dict)  # boosts of service types its clients are sent on for
    round_clock: bool = False  # refers at any hour
    citywide: bool = False  # takes referrals from every neighbourhood
    victim: bool = False  # a victim-service provider


ARCHETYPES: dict[str, Archetype] = {
    "housing_office": Archetype(
        "government", ("{region} Housing Authority Office", "{region} Housing Services"),
        (("Public Housing Allocation", "housing"), ("Housing Choice Vouchers", "housing"),
         ("Homelessness Prevention Fund", "income_support"), ("Tenancy Sustainment", "case_management")),
        fill=0.5, activity=2.0, pull=3.0, needs={"shelter": 2, "income_support": 2, "legal": 2}),
    "job_centre": Archetype(
        "government", ("{region} Job Centre", "{region} Employment Office", "{place} Job Centre"),
        (("Job Search Support", "employment"), ("Benefits Advice", "income_support"),
         ("Work Experience Placements", "employment")),
        fill=0.5, activity=2.5, pull=2.0, needs={"employment": 3, "education": 2, "income_support": 2}),
    "cps": Archetype(
        "government", ("{region} Child Protection Services", "{region} Children's Services"),
        (("Child Protection Investigations", "case_management"), ("Family Support Services", "childcare"),
         ("Foster Care Placement", "other")),
        fill=0.3, activity=3.0, pull=2.0, needs={"legal": 3, "childcare": 2, "mental_health": 1.5}),
    "health_department": Archetype(
        "government", ("{region} Public Health Department", "County Public Health ({region})"),
        (("Immunisation and Screening", "medical"), ("Harm Reduction", "substance_use"),
         ("Maternal and Child Health", "medical")),
        fill=0.3, activity=1.0, pull=1.5, needs={"medical": 0.5, "substance_use": 2}, citywide=True),
    "family_shelter": Archetype(
        "nonprofit", ("{region} Family Shelter", "{place} Family Shelter", "{word} House Family Shelter"),
        (("Emergency Family Shelter", "shelter"), ("Case Management", "case_management"),
         ("Rapid Rehousing", "housing"), ("Children's Programme", "childcare")),
        fill=3, activity=3.0, pull=2.0,
        needs={"housing": 3, "medical": 1.5, "education": 1.5, "employment": 1.5, "mental_health": 1.5,
               "shelter": 0.3}),
    "food_bank": Archetype(
        "nonprofit", ("{place} Food Bank", "{region} Community Pantry", "{word} Food Share"),
        (("Emergency Food Parcels", "food"), ("Community Meals", "food"), ("Benefits Check", "income_support")),
        fill=4, activity=1.5, pull=1.5, needs={"income_support": 2, "shelter": 1.5, "food": 0.3}),
    "legal_aid": Archetype(
        "nonprofit", ("{region} Legal Aid Centre", "{word} Law Clinic", "{place} Legal Advice Centre"),
        (("Housing and Eviction Advice", "legal"), ("Family Law Clinic", "legal"), ("Immigration Advice", "legal")),
        fill=2, activity=1.0, pull=1.2, needs={"housing": 2, "income_support": 1.5, "legal": 0.2}),
    "mh_charity": Archetype(
        "nonprofit", ("{word} Counselling Service", "{region} Mind and Wellbeing", "{place} Talking Space"),
        (("Talking Therapies", "mental_health"), ("Peer Support Groups", "mental_health"),
         ("Crisis Cafe", "mental_health")),
        fill=3, activity=1.5, pull=1.5, needs={"mental_health": 0.5, "substance_use": 2, "housing": 1.5}),
    "dv_service": Archetype(
        "nonprofit", ("{word} Women's Refuge", "{word} Domestic Abuse Project", "{place} Safe Haven"),
        (("Refuge Accommodation", "shelter"), ("Independent Advocacy", "legal"),
         ("Children's Recovery Groups", "mental_health")),
        fill=1, activity=1.2, pull=1.0, needs={"housing": 2.5, "legal": 2, "mental_health": 1.5}, victim=True),
    "church": Archetype(
        "faith", ("{place} Community Church", "{word} Baptist Church", "{place} Methodist Chapel",
                  "{word} Parish Church"),
        (("Food Pantry", "food"), ("Pastoral Care", "other"), ("Winter Night Shelter", "shelter")),
        fill=5, activity=0.8, pull=0.8, needs={"food": 2, "shelter": 2, "income_support": 1.5}),
    "mosque": Archetype(
        "faith", ("{place} Mosque", "{region} Islamic Centre"),
        (("Community Kitchen", "food"), ("Family Support Circle", "other"), ("Youth Mentoring", "education")),
        fill=2, activity=0.6, pull=0.7, needs={"food": 2, "legal": 1.5, "income_support": 1.5}),
    "synagogue": Archetype(
        "faith", ("{place} Synagogue", "{region} Hebrew Congregation"),
        (("Care Committee", "other"), ("Food Share", "food"), ("Bereavement Support", "mental_health")),
        fill=1.5, activity=0.4, pull=0.6, needs={"food": 1.5, "mental_health": 1.5}),
    "hospital": Archetype(
        "health", ("{region} General Hospital", "{word} Memorial Hospital"),
        (("Emergency Department", "medical"), ("Inpatient Psychiatry", "mental_health"),
         ("Social Work Discharge Team", "case_management"), ("Maternity Services", "medical")),
        fill=1, activity=5.0, pull=2.0, round_clock=True, citywide=True,
        needs={"mental_health": 2, "substance_use": 2, "shelter": 2, "housing": 1.5, "medical": 0.5}),
    "clinic": Archetype(
        "health", ("{place} Health Clinic", "{word} Family Practice", "{place} Medical Centre"),
        (("Primary Care", "medical"), ("Chronic Disease Clinic", "medical"), ("Dental Outreach", "medical")),
        fill=4, activity=2.0, pull=2.0, needs={"mental_health": 2, "substance_use": 1.5, "medical": 0.5}),
    "cmht": Archetype(
        "health", ("{region} Community Mental Health Team", "{region} Adult Mental Health Service"),
        (("Adult Community Mental Health", "mental_health"), ("Early Intervention in Psychosis", "mental_health"),
         ("Dual Diagnosis Service", "substance_use")),
        fill=1.5, activity=2.5, pull=2.0, needs={"housing": 2, "substance_use": 2, "mental_health": 0.5}),
    "substance_use": Archetype(
        "health", ("{word} Recovery Centre", "{region} Addiction Services"),
        (("Outpatient Recovery", "substance_use"), ("Detox Referral", "substance_use"),
         ("Recovery Housing", "housing")),
        fill=2.5, activity=1.5, pull=1.5, needs={"mental_health": 2, "housing": 2, "substance_use": 0.3}),
    "school": Archetype(
        "education", ("{word} Primary School", "{place} Middle School", "{word} High School",
                      "{region} Primary School"),
        (("Family Liaison", "case_management"), ("After-School Club", "childcare"),
         ("Special Educational Needs", "education")),
        fill=6, activity=2.0, pull=1.0, needs={"case_management": 3, "mental_health": 2, "childcare": 2, "food": 1.5}),
    "college": Archetype(
        "education", ("{word} Community College", "{region} College"),
        (("Further Education Courses", "education"), ("Career Services", "employment"),
         ("Student Hardship Fund", "income_support")),
        fill=1.5, activity=0.8, pull=1.5, needs={"employment": 2, "mental_health": 1.5}, citywide=True),
    "adult_ed": Archetype(
        "education", ("{place} Adult Learning Centre", "{region} Adult Education"),
        (("Basic Skills and ESOL", "education"), ("Digital Skills", "education"),
         ("High School Equivalency", "education")),
        fill=2, activity=0.6, pull=1.2, needs={"employment": 3}),
    "employer": Archetype(
        "business", ("{word} Logistics", "{word} Foods", "{word} Care Homes", "{word} Construction",
                     "{word} Retail Group"),
        (("Entry-Level Hiring", "employment"), ("Supported Employment", "employment")),
        fill=5, activity=0.2, pull=1.0, needs={"employment": 0.3, "education": 2}),
    "job_training": Archetype(
        "business", ("{word} Skills Academy", "{region} Job Training Centre", "{place} Skills Centre"),
        (("Job Readiness Training", "employment"), ("Vocational Certificates", "education"),
         ("Apprenticeships", "employment")),
        fill=3, activity=1.0, pull=1.5, needs={"employment": 2, "childcare": 1.5}),
    "police": Archetype(
        "justice", ("{region} Police Station", "{region} Police Precinct"),
        (("Safeguarding Referrals Unit", "case_management"), ("Victim Liaison", "legal"),
         ("Neighbourhood Policing", "other")),
        fill=0.5, activity=4.0, pull=1.0, round_clock=True,
        needs={"case_management": 3, "mental_health": 2, "substance_use": 2, "shelter": 1.5}),
    "probation": Archetype(
        "justice", ("{region} Probation Office",),
        (("Offender Supervision", "case_management"), ("Substance Misuse Programme", "substance_use"),
         ("Employment Pathways", "employment")),
        fill=1, activity=1.5, pull=0.8, needs={"employment": 2, "housing": 2, "substance_use": 2}),
    "court": Archetype(
        "justice", ("{region} Family Court", "{region} Magistrates' Court", "{word} Family Court"),
        (("Family Court Services", "legal"), ("Drug Treatment Court", "substance_use"), ("Court Advice Desk", "legal")),
        fill=0.5, activity=1.0, pull=0.8, needs={"legal": 2, "substance_use": 2}, citywide=True),
    "volunteer": Archetype(
        "community", ("{place} Volunteers", "Friends of {place}", "{word} Good Neighbours"),
        (("Volunteer Drivers", "transportation"), ("Befriending", "other"), ("Furniture Bank", "other")),
        fill=5, activity=0.6, pull=0.8, needs={"food": 2, "shelter": 1.5, "income_support": 1.5}),
    "tenant_assoc": Archetype(
        "community", ("{place} Tenants' Association", "{word} Estate Residents' Group"),
        (("Tenant Advice", "legal"), ("Neighbourhood Help Desk", "other")),
        fill=3, activity=0.4, pull=0.5, needs={"legal": 2, "housing": 2}),
    "community_centre": Archetype(
        "community", ("{region} Community Centre", "{place} Community Centre", "{region} Neighbourhood Hub"),
        (("After-School Club", "childcare"), ("Community Meals", "food"), ("ESOL Classes", "education"),
         ("Drop-In Advice", "case_management")),
        fill=3, activity=1.0, pull=1.0, needs={"food": 1.5, "income_support": 1.5, "legal": 1.5}),
}
ARCHETYPE_KEYS = tuple(ARCHETYPES)

# Share of a client's onward referrals by service type, before an archetype's boosts.
_BASE_NEEDS = {
    "shelter": 0.06, "housing": 0.10, "mental_health": 0.10, "substance_use": 0.05, "medical": 0.10,
    "employment": 0.10, "education": 0.07, "childcare": 0.05, "transportation": 0.03, "food": 0.10,
    "legal": 0.06, "income_support": 0.08, "case_management": 0.07, "other": 0.03,
}
# Archetype pairs that refer to each other more than service types alone explain.
_AFFINITY = {
    ("police", "cps"): 6, ("cps", "police"): 6, ("school", "cps"): 3, ("family_shelter", "housing_office"): 4,
    ("hospital", "cmht"): 3, ("cmht", "housing_office"): 2, ("probation", "job_training"): 3,
    ("job_centre", "job_training"): 3, ("job_centre", "employer"): 3, ("job_training", "employer"): 4,
    ("dv_service", "police"): 2, ("police", "dv_service"): 3, ("court", "probation"): 3,
}
# Agencies that tie informally, and refer to each other more than to the rest.
_INFORMAL_CIRCLE = {"church", "mosque", "synagogue", "volunteer", "tenant_assoc", "community_centre",
                    "family_shelter", "food_bank"}

# Agencies every neighbourhood has.
CORE = ("housing_office", "family_shelter", "police", "cps", "job_centre", "school", "hospital", "cmht",
        "church", "community_centre")


@dataclass(frozen=True)
class CastMember:
    """A fixed agency at the head of the roster; `slot` picks its region (slot % regions)."""

    name: str
    archetype: str
    slot: int
    programs: int  # how many of the archetype's programs it runs (the first ones)
    pilot: tuple[str, str] | None = None  # an extra small program (name, service_type)


CAST = (
    CastMember("Harbor House Family Shelter", "family_shelter", 2, 3),          # winter surge, MOUs
    CastMember("Riverside Counselling", "mh_charity", 1, 2),                    # bottleneck
    CastMember("Northfield General Hospital", "hospital", 0, 2),                # flows without agreement
    CastMember("Alderbrook Recovery Centre", "substance_use", 0, 2),
    CastMember("Millbrook Probation Office", "probation", 4, 2),
    CastMember("Foundry Lane Skills Centre", "job_training", 4, 2, ("Welding Apprenticeship Pilot", "employment")),
    CastMember("Westhaven Primary School", "school", 5, 2),
    CastMember("Westhaven Community Centre", "community_centre", 5, 2),
    CastMember("Eastgate Food Bank", "food_bank", 3, 1),
    CastMember("Chapel Row Baptist Church", "church", 3, 2),
    CastMember("Harborview Job Centre", "job_centre", 2, 2),
    CastMember("Kestrel Lane Adult Learning Centre", "adult_ed", 2, 2, ("Family Literacy Pilot", "education")),
    CastMember("Linden Vale Community College", "college", 0, 2),              # dormant agreements
    CastMember("County Public Health Department", "health_department", 1, 2),
    CastMember("Copperwick Legal Aid", "legal_aid", 5, 2),
    CastMember("Quarry Road Health Clinic", "clinic", 5, 2),
    CastMember("Fenmoor Family Court", "court", 0, 2),
    CastMember("Hollis Park Secondary School", "school", 0, 2),
    CastMember("Brackenridge Logistics", "employer", 4, 1),
    CastMember("Ashgrove Lane Mosque", "mosque", 4, 2),
    CastMember("Marlow Street Tenants' Association", "tenant_assoc", 3, 1, ("Eviction Defence Pilot", "legal")),
    CastMember("Larkmoor Synagogue", "synagogue", 1, 1, ("Newcomer Mentoring Circle", "other")),
    CastMember("Bluebell Domestic Abuse Project", "dv_service", 0, 3),         # victim services
    CastMember("Haven Row Women's Refuge", "dv_service", 3, 2),
)
_BOTTLENECK = 1
_HARBOR_HOUSE = 0
_DROPPING_REFERRER = 4  # Millbrook Probation Office: its declined referrals are rarely followed up
_LEAD_RECORDERS = ("cps", "cmht", "family_shelter")  # agencies that record who holds the case
_SHORTAGE_SLOT = 3
_UNPARTNERED_FLOWS = ((2, 3), (4, 5), (6, 7), (8, 9), (10, 11))  # cast positions, from -> to
_DORMANT_PAIRS = ((12, 13), (14, 15), (16, 17), (18, 10), (19, 13))

# --------------------------------------------------------------------------------------------
# How referrals unfold
# --------------------------------------------------------------------------------------------

_MONTHLY = {  # seasonal multipliers, January..December
    "shelter": (1.6, 1.55, 1.2, 1.0, 0.9, 0.85, 0.8, 0.85, 0.9, 1.0, 1.2, 1.55),
    "education": (1.1, 1.0, 1.0, 1.0, 1.0, 0.9, 0.6, 1.2, 1.4, 1.1, 1.0, 0.7),
    "employment": (1.25, 1.1, 1.05, 1.0, 1.0, 0.95, 0.9, 0.95, 1.0, 1.0, 0.95, 0.8),
    "food": (1.1, 1.0, 0.95, 0.95, 0.9, 0.9, 0.95, 0.95, 1.0, 1.05, 1.2, 1.35),
}
_HARBOR_WINTER = (2.1, 2.0, 1.3, 1.0, 0.85, 0.8, 0.75, 0.8, 0.9, 1.0, 1.35, 2.0)
_WEEKDAY = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.25)  # Monday..Sunday
_TREND_PER_YEAR = 0.08  # referrals grow 8 % a year
_WINTER_MONTHS = (12, 1, 2)

# Median days from acceptance to start, and from start to completion.
_START_DAYS = {"shelter": 0.5, "housing": 14, "mental_health": 7, "substance_use": 5, "medical": 3,
               "employment": 7, "education": 14, "childcare": 7, "transportation": 2, "food": 0.2,
               "legal": 5, "income_support": 5, "case_management": 3, "other": 4}
_SERVICE_DAYS = {"shelter": 45, "housing": 90, "mental_health": 60, "substance_use": 45, "medical": 5,
                 "employment": 60, "education": 120, "childcare": 90, "transportation": 1, "food": 0.1,
                 "legal": 30, "income_support": 20, "case_management": 60, "other": 20}
_SECTOR_ACCEPT_DAYS = {"government": 2.0, "justice": 1.5, "health": 1.2, "nonprofit": 1.0,
                       "education": 1.5, "business": 2.5, "faith": 0.6, "community": 0.6}
_BOTTLENECK_ACCEPT_DAYS = 16.0
_BOTTLENECK_SHARE = 0.03  # of all referrals

# Decline reasons, in DECLINE_REASONS order: no_capacity, not_eligible, client_unreachable,
# client_declined, duplicate, other.
_REASONS = np.array([
    [0.08, 0.32, 0.25, 0.19, 0.06, 0.10],  # ordinary
    [0.65, 0.12, 0.10, 0.06, 0.02, 0.05],  # capacity is tight
    [0.03, 0.55, 0.04, 0.03, 0.10, 0.25],  # police and child protection disagree; ping-pong
])
_ORDINARY, _TIGHT, _DISPUTED = range(3)

_OUTCOME_MIX = {  # at the end of a completed service
    "shelter": {"housed_temporary": .28, "housed_permanent": .18, "income_increased": .04, "health_connected": .03,
                "exited_to_street": .10, "exited_no_outcome": .22, "unknown": .15},
    "housing": {"housed_permanent": .55, "housed_temporary": .15, "exited_to_street": .03,
                "exited_no_outcome": .15, "unknown": .12},
    "mental_health": {"health_connected": .60, "housed_temporary": .02, "exited_no_outcome": .23, "unknown": .15},
    "substance_use": {"health_connected": .45, "exited_to_street": .07, "exited_no_outcome": .30, "unknown": .18},
    "medical": {"health_connected": .70, "exited_no_outcome": .18, "unknown": .12},
    "employment": {"employed": .45, "income_increased": .15, "education_enrolled": .05,
                   "exited_no_outcome": .23, "unknown": .12},
    "education": {"education_enrolled": .55, "employed": .08, "exited_no_outcome": .25, "unknown": .12},
    "childcare": {"education_enrolled": .20, "employed": .15, "health_connected": .10,
                  "exited_no_outcome": .35, "unknown": .20},
    "transportation": {"health_connected": .20, "employed": .10, "exited_no_outcome": .40, "unknown": .30},
    "food": {"health_connected": .10, "income_increased": .05, "exited_no_outcome": .50, "unknown": .35},
    "legal": {"housed_permanent": .15, "income_increased": .20, "exited_no_outcome": .40, "unknown": .25},
    "income_support": {"income_increased": .55, "exited_no_outcome": .30, "unknown": .15},
    "case_management": {"housed_permanent": .12, "housed_temporary": .10, "employed": .10, "income_increased": .10,
                        "health_connected": .12, "exited_to_street": .03, "exited_no_outcome": .28,
                        "unknown": .15},
    "other": {"health_connected": .10, "income_increased": .10, "exited_no_outcome": .45, "unknown": .35},
}
_DROPOUT_MIX = {"exited_no_outcome": .55, "unknown": .25, "exited_to_street": .20}
_RETURN_SHARE = 0.15  # of positive housing exits, back in a shelter within 6-24 months

_NEED_SOURCE = {"shelter": "coordinated_entry", "housing": "coordinated_entry", "food": "211",
                "income_support": "211", "transportation": "211", "legal": "211", "other": "211"}
_SURVEY = "community_survey"

_SENTINELS = np.array(TABLES["capacity"].column("slots").sentinels)
_S = {s: i for i, s in enumerate(SERVICE_TYPES)}
_SHELTER, _HOUSING = _S["shelter"], _S["housing"]
_SECONDS_PER_DAY = 86_400


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def planted(agencies: int = 150, regions: int = 6) -> dict:
    """The planted phenomena of a community of this size (they do not depend on the seed).

    Keys: `bottleneck_agency_id` (slow mental-health provider), `shortage_region` (housing need
    outruns capacity), `dormant_formal_pairs` (formal ties with no referrals either way; pairs of
    agency ids), `unpartnered_heavy_flows` (heavy directed flows (from, to) with no declared tie),
    `small_programs` (program ids with 1-10 exits a year), `winter_surge_agency_id` and
    `winter_surge_program_id` (the shelter whose demand surges in Dec-Feb), `dropping_referrer_agency_id`
    (whose declined referrals are rarely followed up), `friction_sectors` (the sector pair that turns each
    other down: police and child protection), and `names` (agency id -> name for every agency above).
    """
    _check_size(agencies, regions)
    agency_ids = _arrow_ids("A", np.arange(1, len(CAST) + 1), _width(agencies)).to_pylist()
    program_width = _width(4 * agencies)
    first_program, pilots, n = [], [], 0
    for member in CAST:
        first_program.append(n)
        n += member.programs
        if member.pilot:
            pilots.append(n)
            n += 1
    program_ids = _arrow_ids("P", np.arange(1, n + 1), program_width).to_pylist()
    named = {_BOTTLENECK, _HARBOR_HOUSE, _DROPPING_REFERRER, *np.ravel(_UNPARTNERED_FLOWS), *np.ravel(_DORMANT_PAIRS),
             *(i for i, m in enumerate(CAST) if m.pilot)}
    return {
        "bottleneck_agency_id": agency_ids[_BOTTLENECK],
        "shortage_region": _region_names(regions)[_SHORTAGE_SLOT % regions],
        "dormant_formal_pairs": [(agency_ids[a], agency_ids[b]) for a, b in _DORMANT_PAIRS],
        "unpartnered_heavy_flows": [(agency_ids[a], agency_ids[b]) for a, b in _UNPARTNERED_FLOWS],
        "small_programs": [program_ids[i] for i in pilots],
        "winter_surge_agency_id": agency_ids[_HARBOR_HOUSE],
        "dropping_referrer_agency_id": agency_ids[_DROPPING_REFERRER],
        "friction_sectors": ("justice", "government"),
        "winter_surge_program_id": program_ids[first_program[_HARBOR_HOUSE]],
        "names": {agency_ids[i]: CAST[i].name for i in sorted(named)},
    }



def generate(seed: int = 7, referrals: int = 150_000, agencies: int = 150, regions: int = 6,
             start: datetime.date = datetime.date(2023, 1, 1), months: int = 36,
             progress: Progress | Part = NOWHERE) -> dict[str, pd.DataFrame]:
    """The seven contract tables of a synthetic community, in canonical typed form.

    `start` must be the first of a month; the period runs `months` months from it, and every
    timestamp lies before its end. `referrals` is the exact number of referral rows. `progress` hears
    each step (at 10M referrals the whole takes about 25 s).
    """
    _check_size(agencies, regions)
    if referrals < 1_000:
        raise ValueError("referrals must be at least 1000")
    if months < 1 or start.day != 1:
        raise ValueError("start must be the first of a month and months at least 1")
    rng = np.random.default_rng(seed)
    period = _Period(start, months)
    progress.report(0.0, f"Generating the demo: {agencies:,} agencies and who refers to whom")
    town = _Town.build(rng, agencies, regions)
    flows = _Flows.build(rng, town)

    progress.report(0.15, f"Generating the demo: {referrals:,} referrals")
    pingpong = _pingpong(rng, town, flows, period, round(referrals * 0.004))
    pilots = _pilots(rng, town, period)
    passed = _passed_around(rng, town, period, max(12, round(referrals * 0.0008)))
    n_follow = round(referrals * 0.05)
    main = _main(rng, town, flows, period,
                 referrals - len(pingpong.day) - len(pilots.day) - len(passed.day) - n_follow)
    follow = _follow_ups(rng, town, period, main, n_follow)
    rows = _Rows.concat([main, pingpong, pilots, passed]).extended(follow)  # follow-ups keep main's clients
    del main, pingpong, pilots, passed, follow
    _drop_handoffs(rows, town)

    n_clients = int(rows.client.max()) + 1  # raw ids in random order, not in order of arrival
    clients = _arrow_ids("C", rng.permutation(n_clients) + 1, max(7, len(str(n_clients))))
    progress.report(0.55, "Generating the demo: capacity, partnerships and the referrals' table")
    capacity, demand = _capacity(rng, town, rows, period)
    tables = {
        "agencies": town.agencies_frame(),
        "programs": town.programs_frame(rng),
        "partnerships": _partnerships(rng, town, flows, period),
        "referrals": _referrals_frame(town, rows, clients, period, rng),
    }
    progress.report(0.85, "Generating the demo: outcomes and need")
    tables.update(outcomes=_outcomes(rng, town, rows, clients, period), capacity=capacity,
                  needs=_needs(rng, town, demand, period))
    progress.report(1.0, "Generated the demo")
    return tables


# --------------------------------------------------------------------------------------------
# Helpers: ids, periods, canonical frames
# --------------------------------------------------------------------------------------------

def _check_size(agencies: int, regions: int) -> None:
    if regions < 2:
        raise ValueError("regions must be at least 2 (the shortage region needs others to compare with)")
    smallest = len(CAST) + len(CORE) * regions
    if agencies < smallest:
        raise ValueError(f"agencies must be at least {smallest} for {regions} regions")


def _width(n: int) -> int:
    return max(4, len(str(n)))


def _arrow_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded `numbers`, built in Arrow (fast for millions)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _strings(values: pa.Array) -> pd.arrays.ArrowStringArray:
    return pd.arrays.ArrowStringArray(pa.chunked_array([values]))


def _take(labels: pa.Array, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    """String array of `labels[codes]`, NA where a code is negative."""
    return _strings(labels.take(pa.array(codes, mask=codes < 0)))


def _region_names(regions: int) -> list[str]:
    return [REGION_NAMES[i] if i < len(REGION_NAMES) else f"District {i + 1}" for i in range(regions)]


def _frame(table: str, columns: dict) -> pd.DataFrame:
    """A frame with the contract's columns, in order, each cast to its canonical dtype."""
    dtypes = {"id": "string", "text": "string", "enum": "string", "bool": "boolean", "int": "Int64"}
    out = {}
    for column in TABLES[table].columns:
        values = columns[column.name]
        if column.type in dtypes:
            out[column.name] = pd.array(values, dtype=dtypes[column.type])
        else:
            out[column.name] = np.asarray(values).astype("datetime64[us]", copy=False)
    return pd.DataFrame(out)


def _categorical(rng: np.random.Generator, probabilities: np.ndarray, n: int) -> np.ndarray:
    """n draws of category indices with the given probabilities."""
    cumulative = np.cumsum(probabilities) / np.sum(probabilities)
    return np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), len(cumulative) - 1)


class _Period:
    """Calendar of the period: days are floats counted from `start`."""

    def __init__(self, start: datetime.date, months: int):
        first = np.datetime64(start, "M")
        self.months = np.arange(first, first + months)  # datetime64[M]
        self.start = first.astype("datetime64[D]")
        self.days = int(((first + months).astype("datetime64[D]") - self.start).astype(int))
        day = self.start + np.arange(self.days)
        self.moy_of_day = day.astype("datetime64[M]").astype(int) % 12  # 0 = January
        self.dow_of_day = (day.astype(int) + 3) % 7  # 0 = Monday
        self.moy_of_month = self.months.astype(int) % 12
        self.year_of_month = np.arange(months) // 12

    def day_weights(self, monthly: tuple[float, ...]) -> np.ndarray:
        trend = 1 + _TREND_PER_YEAR * np.arange(self.days) / 365.25
        return np.asarray(monthly)[self.moy_of_day] * np.asarray(_WEEKDAY)[self.dow_of_day] * trend

    def timestamps(self, days: np.ndarray) -> np.ndarray:
        """Float days (NaN = missing) to datetime64[us], truncated to whole seconds (order kept)."""
        seconds = np.floor(days * _SECONDS_PER_DAY + 1e-6)  # + 1e-6: 12:59 stays 12:59:00, not 12:58:59
        missing = np.isnan(seconds)
        seconds[missing] = 0
        stamp = seconds.astype(np.int64)
        stamp *= 1_000_000
        stamp += self.start.astype("datetime64[us]").astype(np.int64)
        stamp[missing] = np.iinfo(np.int64).min  # NaT
        return stamp.view("datetime64[us]")

    def dates(self, days: np.ndarray) -> np.ndarray:
        return self.start + np.floor(days).astype(np.int64)


# --------------------------------------------------------------------------------------------
# The town: agencies and programs
# --------------------------------------------------------------------------------------------

@dataclass
class _Town:
    regions: list[str]
    shortage: int  # region index
    names: list[str]
    archetype: np.ndarray  # per agency, index into ARCHETYPE_KEYS
    region: np.ndarray  # per agency
    activity: np.ndarray  # per agency: referrals sent, relative
    accept_days: np.ndarray  # per agency: median days to accept
    decline: np.ndarray  # per agency: base decline probability
    program_agency: np.ndarray  # per program
    program_name: list[str]
    program_type: np.ndarray  # per program, index into SERVICE_TYPES
    program_size: np.ndarray  # per program: referrals attracted, relative
    pilots: np.ndarray  # program indices of the small pilot programs
    agency_width: int
    program_width: int

    @classmethod
    def build(cls, rng: np.random.Generator, n_agencies: int, n_regions: int) -> _Town:
        regions = _region_names(n_regions)
        members = [(m.name, m.archetype, m.slot % n_regions) for m in CAST]
        members += [(None, a, r) for r in range(n_regions) for a in CORE]
        fill_keys = [k for k in ARCHETYPE_KEYS if ARCHETYPES[k].fill]
        fill = np.array([ARCHETYPES[k].fill for k in fill_keys])
        n_fill = n_agencies - len(members)
        region_weight = rng.uniform(0.7, 1.3, n_regions)
        members += list(zip([None] * n_fill,
                            [fill_keys[i] for i in _categorical(rng, fill, n_fill)],
                            _categorical(rng, region_weight, n_fill).tolist()))

        used: set[str] = set()
        names = [cls._name(rng, name, ARCHETYPES[key], regions[r], used) for name, key, r in members]
        archetype = np.array([ARCHETYPE_KEYS.index(key) for _, key, _ in members], np.int32)
        region = np.array([r for _, _, r in members], np.int32)
        kinds = [ARCHETYPES[key] for _, key, _ in members]
        activity = np.array([k.activity for k in kinds]) * rng.lognormal(0, 0.5, n_agencies)
        activity[_HARBOR_HOUSE] = 6.0
        accept_days = np.clip(np.array([_SECTOR_ACCEPT_DAYS[k.sector] for k in kinds])
                              * rng.lognormal(0, 0.35, n_agencies), 0.2, 5.0)
        accept_days[_BOTTLENECK] = _BOTTLENECK_ACCEPT_DAYS
        decline = rng.uniform(0.05, 0.16, n_agencies)
        decline[_BOTTLENECK] = 0.35

        program_agency, program_name, program_type, pilots = [], [], [], []
        for i, kind in enumerate(kinds):
            if i < len(CAST):
                chosen = list(kind.programs[:CAST[i].programs])
                if CAST[i].pilot:
                    pilots.append(len(program_agency) + len(chosen))
                    chosen.append(CAST[i].pilot)
            else:
                n = min(len(kind.programs), int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.25, 0.1])))
                extra = rng.permutation(np.arange(1, len(kind.programs)))[: n - 1]
                chosen = [kind.programs[0]] + [kind.programs[j] for j in sorted(extra)]
            for name, service in chosen:
                program_agency.append(i)
                program_name.append(name)
                program_type.append(_S[service])
        program_agency = np.array(program_agency, np.int32)
        pull = np.array([k.pull for k in kinds]) * rng.lognormal(0, 0.35, n_agencies)
        n_programs = np.bincount(program_agency, minlength=n_agencies)
        size = (pull / np.sqrt(n_programs))[program_agency] * rng.lognormal(0, 0.3, len(program_agency))
        size[np.r_[True, program_agency[1:] != program_agency[:-1]]] *= 1.5  # main service lines
        return cls(regions, _SHORTAGE_SLOT % n_regions, names, archetype, region, activity, accept_days,
                   decline, program_agency, program_name, np.array(program_type, np.int32), size,
                   np.array(pilots, np.int32),
                   _width(n_agencies), _width(4 * n_agencies))

    @staticmethod
    def _name(rng: np.random.Generator, fixed: str | None, kind: Archetype, region: str, used: set[str]) -> str:
        """The fixed name, or a fresh one from the archetype's templates (numbered if all are taken)."""
        name = fixed
        for _ in range(12):
            if name is not None and name not in used:
                break
            word = _WORDS[rng.integers(len(_WORDS))]
            place = f"{word} {_SUFFIXES[rng.integers(len(_SUFFIXES))]}"
            name = kind.names[rng.integers(len(kind.names))].format(region=region, place=place, word=word)
        base, n = name, 2
        while name in used:
            name, n = f"{base} {n}", n + 1
        used.add(name)
        return name

    @property
    def n_agencies(self) -> int:
        return len(self.names)

    @property
    def n_programs(self) -> int:
        return len(self.program_agency)

    def keys(self) -> list[str]:
        return [ARCHETYPE_KEYS[a] for a in self.archetype]

    def agencies_of(self, key: str, region: int | None = None) -> np.ndarray:
        mask = self.archetype == ARCHETYPE_KEYS.index(key)
        if region is not None:
            mask &= self.region == region
        return np.flatnonzero(mask)

    def first_program(self) -> np.ndarray:
        """Per agency, its main program."""
        first = np.full(self.n_agencies, -1)
        first[self.program_agency[::-1]] = np.arange(self.n_programs)[::-1]
        return first

    def agency_ids(self) -> pa.Array:
        return _arrow_ids("A", np.arange(1, self.n_agencies + 1), self.agency_width)

    def program_ids(self) -> pa.Array:
        return _arrow_ids("P", np.arange(1, self.n_programs + 1), self.program_width)

    def agencies_frame(self) -> pd.DataFrame:
        sectors = [ARCHETYPES[k].sector for k in self.keys()]
        victim = [ARCHETYPES[k].victim for k in self.keys()]
        return _frame("agencies", {
            "agency_id": _strings(self.agency_ids()), "name": self.names,
            "sector": sectors, "region": [self.regions[r] for r in self.region], "is_victim_service": victim})

    def programs_frame(self, rng: np.random.Generator) -> pd.DataFrame:
        keys = self.keys()
        funders = []
        for agency, service in zip(self.program_agency, self.program_type):
            choices = _FUNDERS[SERVICE_TYPES[service]]
            if ARCHETYPES[keys[agency]].sector == "faith" and rng.random() < 0.6:
                funders.append(_FAITH_FUNDER)
            elif rng.random() < 0.08:
                funders.append(None)
            else:
                funders.append(choices[rng.integers(len(choices))])
        return _frame("programs", {
            "program_id": _strings(self.program_ids()),
            "agency_id": _take(self.agency_ids(), self.program_agency), "name": self.program_name,
            "service_type": [SERVICE_TYPES[s] for s in self.program_type], "funder": funders})


# --------------------------------------------------------------------------------------------
# Who refers to whom: weighted edges agency -> program
# --------------------------------------------------------------------------------------------

@dataclass
class _Flows:
    source: np.ndarray  # per edge: sending agency
    program: np.ndarray  # per edge: receiving program
    weight: np.ndarray  # per edge: expected share of referrals
    formal_ties: list[tuple[int, int]] = field(default_factory=list)  # pairs that must carry a formal tie
    informal_ties: list[tuple[int, int]] = field(default_factory=list)  # ... an informal tie
    disputed_ties: list[tuple[int, int]] = field(default_factory=list)  # police - child protection (formal)
    count: np.ndarray | None = None  # per edge: referrals drawn (set by _main)

    @classmethod
    def build(cls, rng: np.random.Generator, town: _Town) -> _Flows:
        keys = town.keys()
        n_arch, prog_agency = len(ARCHETYPE_KEYS), town.program_agency
        needs = np.array([[_BASE_NEEDS[s] * ARCHETYPES[k].needs.get(s, 1.0) for s in SERVICE_TYPES]
                          for k in ARCHETYPE_KEYS])
        affinity = np.ones((n_arch, n_arch))
        for (a, b), boost in _AFFINITY.items():
            affinity[ARCHETYPE_KEYS.index(a), ARCHETYPE_KEYS.index(b)] = boost
        circle = [ARCHETYPE_KEYS.index(k) for k in _INFORMAL_CIRCLE]
        affinity[np.ix_(circle, circle)] *= 2.5
        citywide = np.array([ARCHETYPES[k].citywide for k in keys])[prog_agency]
        closed = np.zeros(town.n_programs, bool)
        closed[town.pilots] = True  # pilots get their few clients separately

        sources, programs, weights = [], [], []

        def add(source: int, program: np.ndarray, weight: np.ndarray) -> None:
            sources.append(np.full(len(program), source))
            programs.append(np.asarray(program))
            weights.append(np.asarray(weight, float))

        prog_arch = town.archetype[prog_agency]
        for i in range(town.n_agencies):
            a = town.archetype[i]
            w = needs[a, town.program_type] * affinity[a, prog_arch] * town.program_size
            w *= np.where(town.region[prog_agency] == town.region[i], 1.0, np.where(citywide, 0.35, 0.12))
            w[(prog_agency == i) | closed] = 0
            k = min(int(np.clip(rng.poisson(6 + 4 * ARCHETYPES[keys[i]].activity), 3, 40)), np.count_nonzero(w))
            pick = rng.choice(town.n_programs, k, replace=False, p=w / w.sum())
            share = w[pick] * rng.lognormal(0, 0.9, k)
            add(i, pick, town.activity[i] * share / share.sum())
            own = np.flatnonzero((prog_agency == i) & ~closed)
            if len(own) > 1:  # internal referrals, a small share
                add(i, own[1:], np.full(len(own) - 1, 0.04 * town.activity[i] / (len(own) - 1)))

        first = town.first_program()
        for r in range(len(town.regions)):  # police and child protection, constantly
            for p in town.agencies_of("police", r):
                for c in town.agencies_of("cps", r):
                    add(p, [first[c]], [0.3 * town.activity[p]])
                    add(c, [first[p]], [0.3 * town.activity[c]])

        formal, informal = cls._harbor_house(rng, town)
        for partner in formal:  # case managers refer out under MOUs; partners send families back
            add(_HARBOR_HOUSE, [first[partner]], [0.08 * town.activity[_HARBOR_HOUSE]])
            add(partner, [first[_HARBOR_HOUSE]], [0.1 * town.activity[partner]])
        for partner in informal:
            add(_HARBOR_HOUSE, [first[partner]], [0.03 * town.activity[_HARBOR_HOUSE]])
            add(partner, [first[_HARBOR_HOUSE]], [0.2 * town.activity[partner]])

        # All of Riverside and a third of the rest send clients to Riverside Counselling.
        senders = np.flatnonzero((town.region == town.region[_BOTTLENECK]) | (rng.random(town.n_agencies) < 0.3))
        senders = senders[senders != _BOTTLENECK]
        for s in senders:
            add(s, [first[_BOTTLENECK]], [0.05 * town.activity[s]])

        flows = cls._merge(np.concatenate(sources), np.concatenate(programs), np.concatenate(weights),
                           town.n_programs)
        flows.formal_ties = [(_HARBOR_HOUSE, p) for p in formal]
        flows.informal_ties = [(_HARBOR_HOUSE, p) for p in informal]
        flows.disputed_ties = [(p, c) for r in range(len(town.regions))
                               for p in town.agencies_of("police", r) for c in town.agencies_of("cps", r)]
        flows._plant(rng, town)
        return flows

    @staticmethod
    def _harbor_house(rng: np.random.Generator, town: _Town) -> tuple[list[int], list[int]]:
        """Harbor House's partners: formal (MOUs) and informal (clergy, volunteers, community)."""
        home = town.region[_HARBOR_HOUSE]

        def pick(key: str, n: int) -> list[int]:
            """n agencies of this kind, from Harborview if it has enough (the rest of the cast excluded)."""
            local, anywhere = (pool[pool >= len(CAST)] for pool in (town.agencies_of(key, home), town.agencies_of(key)))
            pool = local if len(local) >= n else anywhere
            return rng.choice(pool, min(n, len(pool)), replace=False).tolist() if len(pool) else []

        formal = (pick("housing_office", 1) + pick("hospital", 2) + pick("school", 2) + pick("job_training", 1)
                  + pick("cmht", 1) + pick("health_department", 1))
        informal = pick("church", 2) + pick("mosque", 1) + pick("volunteer", 1) + pick("community_centre", 1)
        return formal, informal

    @classmethod
    def _merge(cls, source: np.ndarray, program: np.ndarray, weight: np.ndarray, n_programs: int) -> _Flows:
        key, inverse = np.unique(source.astype(np.int64) * n_programs + program, return_inverse=True)
        return cls((key // n_programs).astype(np.int32), (key % n_programs).astype(np.int32),
                   np.bincount(inverse, weights=weight))

    def _plant(self, rng: np.random.Generator, town: _Town) -> None:
        """Dormant pairs lose their flows, Riverside gets 3 % of all, unpartnered flows join the heaviest."""
        target = town.program_agency[self.program]
        cut = np.zeros(len(self.source), bool)
        for a, b in _DORMANT_PAIRS + _UNPARTNERED_FLOWS:
            cut |= ((self.source == a) & (target == b)) | ((self.source == b) & (target == a))
        keep = ~cut
        self.source, self.program, self.weight = self.source[keep], self.program[keep], self.weight[keep]
        target = target[keep]

        inbound = target == _BOTTLENECK
        rest = self.weight[~inbound].sum()
        self.weight[inbound] *= _BOTTLENECK_SHARE * rest / ((1 - _BOTTLENECK_SHARE) * self.weight[inbound].sum())

        external = self.source != target
        _, pair = np.unique(self.source[external].astype(np.int64) * town.n_agencies + target[external],
                            return_inverse=True)
        pair_weight = np.sort(np.bincount(pair, weights=self.weight[external]))
        heavy = pair_weight[-min(10, len(pair_weight))] * rng.uniform(1.0, 1.3, len(_UNPARTNERED_FLOWS))
        first = town.first_program()
        self.source = np.r_[self.source, [a for a, _ in _UNPARTNERED_FLOWS]].astype(np.int32)
        self.program = np.r_[self.program, [first[b] for _, b in _UNPARTNERED_FLOWS]].astype(np.int32)
        self.weight = np.r_[self.weight, heavy]


# --------------------------------------------------------------------------------------------
# Referral rows and their stages
# --------------------------------------------------------------------------------------------

@dataclass
class _Rows:
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
    def concat(cls, blocks: list[_Rows]) -> _Rows:
        offsets = np.cumsum([0] + [int(b.client.max(initial=-1)) + 1 for b in blocks[:-1]])
        parts = {name: np.concatenate([getattr(b, name) for b in blocks], dtype=getattr(blocks[0], name).dtype)
                 for name in cls.__dataclass_fields__}  # in the first (largest) block's dtypes
        parts["client"] = np.concatenate([b.client + o for b, o in zip(blocks, offsets)], dtype=np.int32)
        return cls(**parts)

    def extended(self, more: _Rows) -> _Rows:
        """These rows and `more`, whose client numbers are already this block's (not renumbered)."""
        return _Rows(**{name: np.concatenate([getattr(self, name), getattr(more, name)], dtype=getattr(self, name).dtype)
                        for name in self.__dataclass_fields__})


def _referral_days(rng: np.random.Generator, town: _Town, period: _Period, source: np.ndarray,
                   program: np.ndarray) -> np.ndarray:
    """When referrals are made: seasonal by service type, weekdays, office hours (police, hospitals: any hour)."""
    profile = town.program_type[program].copy()
    winter_program = town.first_program()[_HARBOR_HOUSE]
    profile[program == winter_program] = len(SERVICE_TYPES)
    day = np.empty(len(program))
    flat = (1.0,) * 12
    for k in np.unique(profile):
        monthly = _HARBOR_WINTER if k == len(SERVICE_TYPES) else _MONTHLY.get(SERVICE_TYPES[k], flat)
        rows = np.flatnonzero(profile == k)
        day[rows] = _categorical(rng, period.day_weights(monthly), len(rows))
    round_clock = np.array([ARCHETYPES[k].round_clock for k in town.keys()])[source]
    office = np.clip(rng.normal(13.0, 2.5, len(day)), 7.5, 18.5)
    hour = np.where(round_clock, rng.uniform(0, 24, len(day)), office)
    return day + np.floor(hour * 60) / 1440


def _stages(rng: np.random.Generator, town: _Town, period: _Period, day: np.ndarray, program: np.ndarray,
            p_never: np.ndarray, p_decline: np.ndarray, reason_profile: np.ndarray,
            p_start: float | np.ndarray, p_complete: float) -> tuple[np.ndarray, ...]:
    """Accept / decline / start / complete each referral; events after the period end stay missing."""
    n, end = len(day), period.days
    to = town.program_agency[program]
    service = town.program_type[program]
    answered = rng.random(n) >= p_never
    declines = answered & (rng.random(n) < p_decline)
    wait = town.accept_days[to] * rng.lognormal(0, np.where(to == _BOTTLENECK, 0.6, 0.75))
    respond = np.where(answered, day + np.where(declines, 0.6 * wait, wait), np.nan)
    respond[respond >= end] = np.nan
    accepted = np.where(~declines, respond, np.nan)
    declined = np.where(declines, respond, np.nan)

    reason = np.full(n, -1, np.int8)
    for k in range(len(_REASONS)):
        rows = np.flatnonzero(~np.isnan(declined) & (reason_profile == k))
        reason[rows] = _categorical(rng, _REASONS[k], len(rows))

    start_days = np.array([_START_DAYS[s] for s in SERVICE_TYPES])[service]
    started = accepted + start_days * rng.lognormal(0, 0.8, n)
    started[(rng.random(n) >= p_start) | (started >= end)] = np.nan
    service_days = np.array([_SERVICE_DAYS[s] for s in SERVICE_TYPES])[service]
    completed = started + service_days * rng.lognormal(0, 0.7, n)
    completed[(rng.random(n) >= p_complete) | (completed >= end)] = np.nan
    return accepted, declined, reason, started, completed


def _main(rng: np.random.Generator, town: _Town, flows: _Flows, period: _Period, n: int) -> _Rows:
    """The bulk of referrals, drawn over the weighted edges."""
    flows.count = rng.multinomial(n, flows.weight / flows.weight.sum())
    edge = np.repeat(np.arange(len(flows.source), dtype=np.int32), flows.count)
    source, program = flows.source[edge], flows.program[edge]
    del edge
    day = _referral_days(rng, town, period, source, program)
    to = town.program_agency[program]
    service = town.program_type[program]
    police, cps = ARCHETYPE_KEYS.index("police"), ARCHETYPE_KEYS.index("cps")
    kind_from, kind_to = town.archetype[source], town.archetype[to]

    # Declines: police and child protection dispute; capacity is tight at Riverside, in the
    # shortage region's housing and in winter shelters.
    disputed = ((kind_from == police) & (kind_to == cps)) | ((kind_from == cps) & (kind_to == police))
    del kind_from, kind_to
    winter = np.isin(period.moy_of_day[day.astype(int)] + 1, _WINTER_MONTHS) & (service == _SHELTER)
    housing = (service == _SHELTER) | (service == _HOUSING)
    short = housing & (town.region[to] == town.shortage)
    p_decline = (town.decline[to] + 0.25 * short + np.where(to == _HARBOR_HOUSE, 0.25, 0.12) * winter)
    p_decline = np.where(disputed, 0.45, p_decline).astype(np.float32)
    profile = np.where(disputed, _DISPUTED, np.where(short | winter | (to == _BOTTLENECK), _TIGHT, _ORDINARY))
    p_never = np.where(to == _BOTTLENECK, 0.15, 0.015).astype(np.float32)
    p_start = np.where(service == _SHELTER, 0.9, np.where(to == _BOTTLENECK, 0.75, 0.8)).astype(np.float32)
    del disputed, winter, housing, short, to, service
    stages = _stages(rng, town, period, day, program, p_never, p_decline, profile, p_start, 0.85)
    return _Rows(source, program, rng.random(n) >= 0.08, _clients(rng, town, source, day), day, *stages)


def _clients(rng: np.random.Generator, town: _Town, source: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Group referrals into clients: neighbours in (sender's region, time +- weeks) share a client."""
    order = np.lexsort((day + rng.normal(0, 45, len(day)), town.region[source]))
    sizes = 1 + _categorical(rng, np.array([55, 20, 10, 6, 4, 2, 1, 1, .5, .5, .5, .5]), len(day))
    client_sorted = np.repeat(np.arange(len(day), dtype=np.int32), sizes)[: len(day)]
    client = np.empty(len(day), np.int32)
    client[order] = client_sorted
    return client


def _pingpong(rng: np.random.Generator, town: _Town, flows: _Flows, period: _Period, n_chains: int) -> _Rows:
    """Clients bounced 3-5 times between two agencies within 30 days, never started."""
    n_agencies = town.n_agencies
    target = town.program_agency[flows.program]
    key = flows.source.astype(np.int64) * n_agencies + target
    reverse = target.astype(np.int64) * n_agencies + flows.source
    mutual = np.flatnonzero((flows.source != target) & np.isin(reverse, key))
    chosen = mutual[_categorical(rng, flows.weight[mutual], n_chains)]
    by_key = np.argsort(key)
    back = by_key[np.searchsorted(key[by_key], reverse[chosen])]  # an edge from the receiver back

    length = 3 + _categorical(rng, np.array([0.5, 0.3, 0.2]), n_chains)
    chain = np.repeat(np.arange(n_chains), length)
    first_row = np.repeat(np.cumsum(length) - length, length)
    step = np.arange(len(chain)) - first_row
    elapsed = np.cumsum(np.where(step == 0, 0, np.floor(rng.uniform(1, 7, len(chain)) * 1440) / 1440))
    first_day = _referral_days(rng, town, period, flows.source[chosen], flows.program[chosen])
    day = first_day[chain] + elapsed - elapsed[first_row]
    edge = np.where(step % 2 == 0, chosen[chain], back[chain])
    inside = day < period.days  # a chain still bouncing when the data stops is cut short
    day, edge, chain = day[inside], edge[inside], chain[inside]
    program = flows.program[edge]
    n = len(day)
    stages = _stages(rng, town, period, day, program, np.zeros(n), np.full(n, 0.7), np.full(n, _DISPUTED), 0.0, 0.0)
    return _Rows(flows.source[edge], program, np.ones(n, bool), chain, day, *stages)


def _pilots(rng: np.random.Generator, town: _Town, period: _Period) -> _Rows:
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
    stages = _stages(rng, town, period, day, program, np.zeros(n), np.zeros(n), np.zeros(n, int), 1.0, 1.0)
    return _Rows(sender[pilot], program, np.ones(n, bool), np.arange(n), day, *stages)


def _passed_around(rng: np.random.Generator, town: _Town, period: _Period, n_chains: int) -> _Rows:
    """Families passed between the police and child protection of their region, 2-4 times within weeks,
    that neither takes on: each referral is declined or left unanswered (the essays' failure)."""
    pairs = [(p, c) for r in range(len(town.regions))
             for p in town.agencies_of("police", r) for c in town.agencies_of("cps", r)]
    if not pairs:
        empty = np.zeros(0)
        return _Rows(empty.astype(np.int32), empty.astype(np.int32), empty.astype(bool), empty.astype(np.int32),
                     empty, empty, empty, empty.astype(np.int8), empty, empty)
    pair = rng.integers(0, len(pairs), n_chains)
    police, cps = (np.array([pairs[i][k] for i in pair]) for k in (0, 1))
    length = 2 + _categorical(rng, np.array([0.4, 0.4, 0.2]), n_chains)
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
    reason = np.where(np.isnan(declined), -1, _categorical(rng, np.array([0, 0.6, 0.1, 0, 0, 0.3]), n)).astype(np.int8)
    missing = np.full(n, np.nan)
    return _Rows(source.astype(np.int32), program.astype(np.int32), np.ones(n, bool), chain.astype(np.int32), day,
                 missing, declined, reason, missing.copy(), missing.copy())


def _follow_ups(rng: np.random.Generator, town: _Town, period: _Period, main: _Rows, n: int) -> _Rows:
    """After a decline, most referrers try again: a new referral of the same client, by the same referrer,
    to another program of the same service within ten days (the planted referrer excepted)."""
    declined = np.flatnonzero(~np.isnan(main.declined) & (main.source != _DROPPING_REFERRER))
    chosen = np.sort(rng.choice(declined, size=n, replace=len(declined) < n)) if len(declined) else \
        np.zeros(0, np.int64)
    service = town.program_type[main.program[chosen]]
    program = main.program[chosen].copy()
    for s in np.unique(service):
        options = np.flatnonzero(town.program_type == s)
        rows = np.flatnonzero(service == s)
        program[rows] = options[rng.integers(0, len(options), len(rows))]
    day = main.declined[chosen] + rng.uniform(0.5, 10, len(chosen))
    keep = day < period.days
    chosen, program, day = chosen[keep], program[keep], day[keep]
    short = n - len(day)  # the rest, on the edge of the period, become ordinary next-day referrals
    if short:
        extra = rng.choice(np.flatnonzero(main.day < period.days - 2), size=short)
        chosen, program = np.concatenate([chosen, extra]), np.concatenate([program, main.program[extra]])
        day = np.concatenate([day, main.day[extra] + 1])
    m = len(day)
    stages = _stages(rng, town, period, day, program, np.full(m, 0.015), np.full(m, 0.2), np.zeros(m, int),
                     0.8, 0.85)
    return _Rows(main.source[chosen], program, np.ones(m, bool), main.client[chosen], day, *stages)


def _drop_handoffs(rows: _Rows, town: _Town) -> None:
    """The planted referrer whose declined referrals are rarely followed up: its clients whose referral
    was declined are referred by nobody afterwards (each becomes a client of its own)."""
    declined = (rows.source == _DROPPING_REFERRER) & ~np.isnan(rows.declined)
    fresh = int(rows.client.max()) + 1
    rows.client[declined] = np.arange(fresh, fresh + int(declined.sum()), dtype=np.int32)


def _referrals_frame(town: _Town, rows: _Rows, clients: pa.Array, period: _Period,
                     rng: np.random.Generator) -> pd.DataFrame:
    order = np.argsort(rows.day, kind="stable")
    n = len(order)
    program = rows.program[order]
    # Child protection, community mental-health teams and case-managing shelters record the case's lead
    # on most of their referrals that are taken up: themselves, or (a fifth of the time) the receiver.
    source = rows.source[order]
    recording = np.isin(town.archetype[source], [ARCHETYPE_KEYS.index(k) for k in _LEAD_RECORDERS])
    recorded = recording & ~np.isnan(rows.accepted[order]) & (rng.random(n) < 0.7)
    lead = np.where(recorded, np.where(rng.random(n) < 0.2, town.program_agency[program], source), -1)
    return _frame("referrals", {
        "referral_id": _strings(_arrow_ids("R", np.arange(1, n + 1), max(8, len(str(n))))),
        "client_id": _take(clients, rows.client[order]),
        "from_agency_id": _take(town.agency_ids(), rows.source[order]),
        "to_agency_id": _take(town.agency_ids(), town.program_agency[program]),
        "service_type": _take(pa.array(SERVICE_TYPES), town.program_type[program]),
        "referred_at": period.timestamps(rows.day[order]),
        "to_program_id": _take(town.program_ids(), np.where(rows.recorded[order], program, -1)),
        "accepted_at": period.timestamps(rows.accepted[order]),
        "declined_at": period.timestamps(rows.declined[order]),
        "decline_reason": _take(pa.array(DECLINE_REASONS), rows.reason[order]),
        "started_at": period.timestamps(rows.started[order]),
        "completed_at": period.timestamps(rows.completed[order]),
        "lead_agency_id": _take(town.agency_ids(), lead),
    })


# --------------------------------------------------------------------------------------------
# Outcomes, ties, capacity, need
# --------------------------------------------------------------------------------------------

def _draw_outcomes(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    codes = np.array([OUTCOMES.index(o) for o in mix])
    return codes[_categorical(rng, np.array(list(mix.values())), n)]


def _outcomes(rng: np.random.Generator, town: _Town, rows: _Rows, clients: pa.Array,
              period: _Period) -> pd.DataFrame:
    """Exits at the end of most completed services, some drop-outs, and later returns to homelessness."""
    n = len(rows.day)
    completed = np.flatnonzero(~np.isnan(rows.completed) & (rng.random(n) < 0.85))
    dropout_day = rows.started + 21 * rng.lognormal(0, 0.8, n)
    dropped = np.flatnonzero(np.isnan(rows.completed) & (dropout_day < period.days) & (rng.random(n) < 0.3))
    index = np.r_[completed, dropped]
    day = np.r_[rows.completed[completed], dropout_day[dropped]]
    outcome = np.empty(len(index), np.int64)
    service = town.program_type[rows.program[completed]]
    for s, mix in _OUTCOME_MIX.items():
        at = np.flatnonzero(service == _S[s])
        outcome[at] = _draw_outcomes(rng, mix, len(at))
    outcome[len(completed):] = _draw_outcomes(rng, _DROPOUT_MIX, len(dropped))
    agency = town.program_agency[rows.program[index]]
    program = np.where(rows.recorded[index], rows.program[index], -1)
    client = rows.client[index]

    # Some of those housed are back in their neighbourhood's shelter 6-24 months later.
    housed = np.isin(outcome, [OUTCOMES.index("housed_permanent"), OUTCOMES.index("housed_temporary")])
    back_day = day + rng.uniform(183, 730, len(day))
    back = np.flatnonzero(housed & (back_day < period.days) & (rng.random(len(day)) < _RETURN_SHARE))
    first = town.first_program()
    shelter = np.array([first[town.agencies_of("family_shelter", r)[0]] for r in range(len(town.regions))])
    back_program = shelter[town.region[agency[back]]]
    agency = np.r_[agency, town.program_agency[back_program]]
    program = np.r_[program, back_program]
    client = np.r_[client, client[back]]
    outcome = np.r_[outcome, np.full(len(back), OUTCOMES.index("returned_to_homelessness"))]
    day = np.floor(np.r_[day, back_day[back]])

    order = np.lexsort((client, day))
    return _frame("outcomes", {
        "client_id": _take(clients, client[order]),
        "agency_id": _take(town.agency_ids(), agency[order]),
        "program_id": _take(town.program_ids(), program[order]),
        "outcome": _take(pa.array(OUTCOMES), outcome[order]),
        "achieved_on": period.dates(day[order]),
    })


def _ratings(rng: np.random.Generator, weights: tuple[float, ...], n: int) -> np.ndarray:
    return 1.0 + _categorical(rng, np.array(weights), n)


def _partnerships(rng: np.random.Generator, town: _Town, flows: _Flows, period: _Period) -> pd.DataFrame:
    """Declared ties grown out of the flows, the forced ones of the story, and the dormant MOUs."""
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
    unpartnered = lookup(_UNPARTNERED_FLOWS)
    tie |= count >= 0.9 * count[unpartnered].min()  # so the planted flows are the heaviest without a tie
    formal = rng.random(len(pairs)) < np.where(circle, 0.15, 0.9)
    disputed = lookup(flows.disputed_ties)
    forced_formal, forced_informal = lookup(flows.formal_ties) | disputed, lookup(flows.informal_ties)
    tie |= forced_formal | forced_informal
    formal = (formal | forced_formal) & ~forced_informal
    tie &= ~unpartnered

    dormant = np.array(_DORMANT_PAIRS)
    a = np.r_[a[tie], dormant[:, 0]]
    b = np.r_[b[tie], dormant[:, 1]]
    formal = np.r_[formal[tie], np.ones(len(dormant), bool)]
    disputed = np.r_[disputed[tie], np.zeros(len(dormant), bool)]
    is_dormant = np.r_[np.zeros(tie.sum(), bool), np.ones(len(dormant), bool)]
    forced = np.r_[(forced_formal | forced_informal)[tie], np.ones(len(dormant), bool)]
    n = len(a)

    instrument = np.where(formal, np.array(["mou", "referral_protocol", "contract", "data_sharing"])[
        _categorical(rng, np.array([0.45, 0.25, 0.15, 0.15]), n)],
        np.array(["personal", "co_location"])[_categorical(rng, np.array([0.75, 0.25]), n)])
    instrument[disputed] = np.array(["referral_protocol", "data_sharing"])[rng.integers(0, 2, disputed.sum())]
    instrument[is_dormant] = "mou"

    # Most ties predate the period; a fifth begin during it; a few end during it.
    started = np.where(rng.random(n) < 0.2, rng.uniform(0, period.days * 2 / 3, n),
                       -rng.exponential(3 * 365, n))
    started[is_dormant] = -rng.uniform(30, 700, is_dormant.sum())
    started = np.floor(started)
    first_day = np.maximum(started, 0) + 30
    ends = ~forced & (rng.random(n) < 0.08) & (first_day < period.days - 1)
    ended = np.where(ends, np.floor(rng.uniform(first_day, period.days - 1)), np.nan)

    trust = np.where(formal, _ratings(rng, (0.05, 0.2, 0.45, 0.3), n), _ratings(rng, (0.02, 0.1, 0.38, 0.5), n))
    value = np.where(formal, _ratings(rng, (0.05, 0.15, 0.45, 0.35), n), _ratings(rng, (0.03, 0.12, 0.4, 0.45), n))
    trust[disputed] = _ratings(rng, (0.3, 0.45, 0.2, 0.05), disputed.sum())
    value[is_dormant] = _ratings(rng, (0.35, 0.45, 0.15, 0.05), is_dormant.sum())
    unanswered = rng.random(n) < 0.2  # the partner survey went unanswered
    trust[unanswered | (rng.random(n) < 0.05)] = np.nan
    value[unanswered | (rng.random(n) < 0.05)] = np.nan

    flip = rng.random(n) < 0.5  # files list the two sides in either order
    ids = town.agency_ids()
    start_date = period.start
    return _frame("partnerships", {
        "agency_a_id": _take(ids, np.where(flip, b, a)),
        "agency_b_id": _take(ids, np.where(flip, a, b)),
        "kind": np.where(formal, "formal", "informal"),
        "instrument": instrument,
        "started_on": start_date + started.astype(np.int64),
        "ended_on": np.where(ends, start_date + np.nan_to_num(ended).astype(np.int64), np.datetime64("NaT")),
        "trust": trust,
        "value": value,
    })


def _capacity(rng: np.random.Generator, town: _Town, rows: _Rows, period: _Period) -> tuple[pd.DataFrame, np.ndarray]:
    """Monthly slots per program, sized to its demand: short in the shortage region and at Riverside.

    Returns the frame and each program's mean monthly referrals (the basis of need)."""
    n_months = len(period.months)
    demand = np.bincount(rows.program, minlength=town.n_programs) / n_months
    housing = np.isin(town.program_type, (_SHELTER, _HOUSING))
    headroom = rng.uniform(1.1, 1.6, town.n_programs)
    headroom[housing & (town.region[town.program_agency] == town.shortage)] *= 0.35
    headroom[town.program_agency == _BOTTLENECK] = 0.5
    base = np.maximum(demand * headroom, rng.uniform(0.05, 0.2, town.n_programs) * demand.mean())
    funding = rng.lognormal(0, 0.08, (town.n_programs, period.year_of_month[-1] + 1))[:, period.year_of_month]
    overflow = 1 + 0.1 * np.outer(town.program_type == _SHELTER, np.isin(period.moy_of_month + 1, _WINTER_MONTHS))
    slots = np.rint(base[:, None] * funding * overflow * rng.lognormal(0, 0.04, funding.shape)).astype(np.int64)
    slots[np.isin(slots, _SENTINELS)] += 1  # a real 999 would read as a placeholder
    frame = _frame("capacity", {
        "program_id": _take(town.program_ids(), np.repeat(np.arange(town.n_programs), n_months)),
        "month": np.tile(period.months, town.n_programs),
        "slots": slots.ravel(),
    })
    return frame, demand


def _needs(rng: np.random.Generator, town: _Town, demand: np.ndarray, period: _Period) -> pd.DataFrame:
    """People in need per region, service type and month: tracks demand, outruns housing in one region."""
    n_regions, n_types, n_months = len(town.regions), len(SERVICE_TYPES), len(period.months)
    cell = town.region[town.program_agency] * n_types + town.program_type
    base = np.bincount(cell, weights=demand, minlength=n_regions * n_types).reshape(n_regions, n_types)
    base = np.where(base > 0, base, np.maximum(0.25 * base.mean(axis=0), 1.0)) * 1.3
    base[town.shortage, [_SHELTER, _HOUSING]] *= 1.3
    flat = (1.0,) * 12
    season = np.array([np.asarray(_MONTHLY.get(s, flat))[period.moy_of_month] / np.mean(_MONTHLY.get(s, flat))
                       for s in SERVICE_TYPES])
    trend = 1 + _TREND_PER_YEAR * np.arange(n_months) / 12
    noise = rng.lognormal(0, 0.06, (n_regions, n_types, n_months))
    need = base[:, :, None] * season[None] * (trend / trend.mean()) * noise
    source = np.array([_NEED_SOURCE.get(s, _SURVEY) for s in SERVICE_TYPES], dtype=object)
    source = np.broadcast_to(source[None, :, None], need.shape).ravel().copy()
    source[rng.random(len(source)) < 0.03] = None
    return _frame("needs", {
        "region": np.repeat(np.array(town.regions, dtype=object), n_types * n_months),
        "service_type": np.tile(np.repeat(np.array(SERVICE_TYPES, dtype=object), n_months), n_regions),
        "month": np.tile(period.months, n_regions * n_types),
        "people_in_need": np.rint(need).astype(np.int64).ravel(),
        "source": source,
    })


PLANTED = planted()  # the planted phenomena at the default size (150 agencies, 6 regions)
