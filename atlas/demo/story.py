"""The demo community's fixed tables: the town, the kinds of agency, the cast, the planted phenomena and
the figures of how referrals unfold, read once from the data files beside this module (data/README.md
says what each holds).

Layer: the bottom of the demo package; it depends only on the domain's vocabulary (atlas.vocab). Every
other module of the package reads its tables from here, in the shapes the generator draws from (tuples,
dicts in the files' order, numpy arrays).
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from atlas.vocab import DECLINE_REASONS, SERVICE_TYPES

DATA = Path(__file__).resolve().parent / "data"


def _toml(name: str) -> dict:
    with open(DATA / name, "rb") as file:
        return tomllib.load(file)


def _pairs(rows: list[list]) -> tuple[tuple, ...]:
    return tuple(tuple(row) for row in rows)


# --------------------------------------------------------------------------------------------
# The town and its agencies
# --------------------------------------------------------------------------------------------

_TOWN = _toml("town.toml")
REGION_NAMES: tuple[str, ...] = tuple(_TOWN["regions"])
WORDS: tuple[str, ...] = tuple(_TOWN["words"])  # invented words for street and place names
SUFFIXES: tuple[str, ...] = tuple(_TOWN["suffixes"])
CORE: tuple[str, ...] = tuple(_TOWN["core"])  # agencies every neighbourhood has

_FUNDERS = _toml("funders.toml")
FUNDERS: dict[str, tuple[str, ...]] = {service: tuple(names) for service, names in _FUNDERS["by_service_type"].items()}
FAITH_FUNDER: str = _FUNDERS["faith_funder"]


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
    key: Archetype(**{**kind, "names": tuple(kind["names"]), "programs": _pairs(kind["programs"])})
    for key, kind in _toml("archetypes.toml").items()
}
ARCHETYPE_KEYS = tuple(ARCHETYPES)


@dataclass(frozen=True)
class CastMember:
    """A fixed agency at the head of the roster; `slot` picks its region (slot % regions)."""

    name: str
    archetype: str
    slot: int
    programs: int  # how many of the archetype's programs it runs (the first ones)
    pilot: tuple[str, str] | None = None  # an extra small program (name, service_type)


def _cast() -> tuple[CastMember, ...]:
    with open(DATA / "cast.csv", newline="", encoding="utf-8") as file:
        return tuple(CastMember(row["name"], row["archetype"], int(row["slot"]), int(row["programs"]),
                                (row["pilot_program"], row["pilot_service_type"]) if row["pilot_program"] else None)
                     for row in csv.DictReader(file))


CAST = _cast()

# --------------------------------------------------------------------------------------------
# The planted phenomena: positions in CAST
# --------------------------------------------------------------------------------------------

_PLANTED = _toml("planted.toml")
_CAST_AT = {member.name: i for i, member in enumerate(CAST)}


def _at(names: list[list[str]]) -> tuple[tuple[int, int], ...]:
    return tuple((_CAST_AT[a], _CAST_AT[b]) for a, b in names)


BOTTLENECK: int = _CAST_AT[_PLANTED["bottleneck"]["agency"]]
BOTTLENECK_ACCEPT_DAYS: float = _PLANTED["bottleneck"]["accept_days"]
BOTTLENECK_SHARE: float = _PLANTED["bottleneck"]["share"]  # of all referrals
HARBOR_HOUSE: int = _CAST_AT[_PLANTED["winter_surge"]["agency"]]
HARBOR_WINTER: tuple[float, ...] = tuple(_PLANTED["winter_surge"]["monthly"])
DROPPING_REFERRER: int = _CAST_AT[_PLANTED["dropping_referrer"]]  # its declined referrals are rarely followed up
SHORTAGE_SLOT: int = _PLANTED["shortage"]["slot"]
UNPARTNERED_FLOWS = _at(_PLANTED["unpartnered_flows"])  # cast positions, from -> to
DORMANT_PAIRS = _at(_PLANTED["dormant_pairs"])
FRICTION_SECTORS: tuple[str, str] = tuple(_PLANTED["friction_sectors"])

# --------------------------------------------------------------------------------------------
# How referrals flow and unfold
# --------------------------------------------------------------------------------------------

_REFERRALS = _toml("referrals.toml")
BASE_NEEDS: dict[str, float] = _REFERRALS["base_needs"]  # share of onward referrals by service type
AFFINITY: dict[tuple[str, str], float] = {(a, b): boost for a, b, boost in _REFERRALS["ties"]["affinity"]}
INFORMAL_CIRCLE: tuple[str, ...] = tuple(_REFERRALS["ties"]["informal_circle"])
LEAD_RECORDERS: tuple[str, ...] = tuple(_REFERRALS["ties"]["lead_recorders"])  # who records the case's lead

# Decline reasons, one row per kind of decline, in DECLINE_REASONS order.
REASONS = np.array([[profile[reason] for reason in DECLINE_REASONS]
                    for profile in _REFERRALS["decline_reasons"].values()])
ORDINARY, TIGHT, DISPUTED = (list(_REFERRALS["decline_reasons"]).index(k) for k in ("ordinary", "tight", "disputed"))

_CALENDAR = _toml("calendar.toml")
MONTHLY: dict[str, tuple[float, ...]] = {s: tuple(m) for s, m in _CALENDAR["monthly"].items()}  # January..December
WEEKDAY: tuple[float, ...] = tuple(_CALENDAR["weekday"])  # Monday..Sunday
TREND_PER_YEAR: float = _CALENDAR["trend_per_year"]
WINTER_MONTHS: tuple[int, ...] = tuple(_CALENDAR["winter_months"])
SECTOR_ACCEPT_DAYS: dict[str, float] = _CALENDAR["accept_days"]
START_DAYS: dict[str, float] = _CALENDAR["start_days"]
SERVICE_DAYS: dict[str, float] = _CALENDAR["service_days"]

_OUTCOMES = _toml("outcomes.toml")
OUTCOME_MIX: dict[str, dict[str, float]] = _OUTCOMES["completed"]  # at the end of a completed service
DROPOUT_MIX: dict[str, float] = _OUTCOMES["dropout"]
RETURN_SHARE: float = _OUTCOMES["return_share"]  # of positive housing exits, back in a shelter within 6-24 months
NEED_SOURCE: dict[str, str] = _OUTCOMES["need_source"]
SURVEY: str = _OUTCOMES["survey"]

# Service types by position in SERVICE_TYPES, as the generator's arrays hold them.
SERVICE = {s: i for i, s in enumerate(SERVICE_TYPES)}
SHELTER, HOUSING = SERVICE["shelter"], SERVICE["housing"]

# --------------------------------------------------------------------------------------------
# The profiles: the community's size and the knobs of its story
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A demo community's size and story knobs (data/profiles.toml says what each means)."""

    name: str
    agencies: int
    regions: int
    referrals: int  # over the whole period
    months: int
    core: tuple[str, ...]  # kinds of agency every neighbourhood has
    partners: tuple[float, float, int, int]  # programs an agency refers to: Poisson mean, per activity, clip
    focus: float  # power of the need weights in that share: below 1, an agency's partners are more alike
    spread: float  # sigma of the lognormal that shares an agency's referrals among its partners
    police_cps: float  # weight of police <-> child protection, relative to the sender's activity
    exit_share: float  # exits recorded, relative to the dense demo (completed services and drop-outs alike)
    keep_dormant: bool  # follow-ups never cross a dormant agreement


def _profile(name: str, knobs: dict) -> Profile:
    partners = knobs["partners"]
    return Profile(name, knobs["agencies"], knobs["regions"], knobs["referrals"], knobs["months"],
                   tuple(knobs.get("core", CORE)),
                   (partners["mean"], partners["per_activity"], partners["least"], partners["most"]),
                   partners["focus"], partners["spread"], knobs["police_cps"], knobs["exit_share"],
                   knobs["keep_dormant"])


PROFILES: dict[str, Profile] = {name: _profile(name, knobs) for name, knobs in _toml("profiles.toml").items()}
DENSE = PROFILES["dense"]  # the default community: every figure in tests/data/golden_figures.json is its own
