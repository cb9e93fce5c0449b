"""The town's roster: its neighbourhoods, agencies and programs, drawn around the fixed cast, and the
agencies' and programs' tables.

Layer: the demo package, above its fixed tables (atlas.demo.story) and tools (atlas.demo.frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from atlas.demo.frames import arrow_ids, categorical, frame, strings, take, width
from atlas.demo.story import (
    ARCHETYPE_KEYS,
    ARCHETYPES,
    BOTTLENECK,
    BOTTLENECK_ACCEPT_DAYS,
    CAST,
    CORE,
    DENSE,
    FAITH_FUNDER,
    FUNDERS,
    HARBOR_HOUSE,
    REGION_NAMES,
    SECTOR_ACCEPT_DAYS,
    SERVICE,
    SHORTAGE_SLOT,
    SUFFIXES,
    WORDS,
    Archetype,
    Profile,
)
from atlas.vocab import SERVICE_TYPES


def check_size(agencies: int, regions: int, core: tuple[str, ...] = CORE) -> None:
    """Refuse a community too small for its story: the cast and every neighbourhood's core agencies."""
    if regions < 2:
        raise ValueError("regions must be at least 2 (the shortage region needs others to compare with)")
    smallest = len(CAST) + len(core) * regions
    if agencies < smallest:
        raise ValueError(f"agencies must be at least {smallest} for {regions} regions")


def region_names(regions: int) -> list[str]:
    return [REGION_NAMES[i] if i < len(REGION_NAMES) else f"District {i + 1}" for i in range(regions)]


@dataclass
class Town:
    """Agencies and programs as arrays by position (the cast first, then each region's core, then the rest)."""

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
    profile: Profile = DENSE  # the story's knobs the later steps read (partners, exits)

    @classmethod
    def build(cls, rng: np.random.Generator, n_agencies: int, n_regions: int, profile: Profile = DENSE) -> Town:
        regions = region_names(n_regions)
        members = [(m.name, m.archetype, m.slot % n_regions) for m in CAST]
        members += [(None, a, r) for r in range(n_regions) for a in profile.core]
        fill_keys = [k for k in ARCHETYPE_KEYS if ARCHETYPES[k].fill]
        fill = np.array([ARCHETYPES[k].fill for k in fill_keys])
        n_fill = n_agencies - len(members)
        region_weight = rng.uniform(0.7, 1.3, n_regions)
        members += list(zip([None] * n_fill,
                            [fill_keys[i] for i in categorical(rng, fill, n_fill)],
                            categorical(rng, region_weight, n_fill).tolist()))

        used: set[str] = set()
        names = [cls._name(rng, name, ARCHETYPES[key], regions[r], used) for name, key, r in members]
        archetype = np.array([ARCHETYPE_KEYS.index(key) for _, key, _ in members], np.int32)
        region = np.array([r for _, _, r in members], np.int32)
        kinds = [ARCHETYPES[key] for _, key, _ in members]
        activity = np.array([k.activity for k in kinds]) * rng.lognormal(0, 0.5, n_agencies)
        activity[HARBOR_HOUSE] = 6.0
        accept_days = np.clip(np.array([SECTOR_ACCEPT_DAYS[k.sector] for k in kinds])
                              * rng.lognormal(0, 0.35, n_agencies), 0.2, 5.0)
        accept_days[BOTTLENECK] = BOTTLENECK_ACCEPT_DAYS
        decline = rng.uniform(0.05, 0.16, n_agencies)
        decline[BOTTLENECK] = 0.35

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
                program_type.append(SERVICE[service])
        program_agency = np.array(program_agency, np.int32)
        pull = np.array([k.pull for k in kinds]) * rng.lognormal(0, 0.35, n_agencies)
        n_programs = np.bincount(program_agency, minlength=n_agencies)
        size = (pull / np.sqrt(n_programs))[program_agency] * rng.lognormal(0, 0.3, len(program_agency))
        size[np.r_[True, program_agency[1:] != program_agency[:-1]]] *= 1.5  # main service lines
        return cls(regions, SHORTAGE_SLOT % n_regions, names, archetype, region, activity, accept_days,
                   decline, program_agency, program_name, np.array(program_type, np.int32), size,
                   np.array(pilots, np.int32),
                   width(n_agencies), width(4 * n_agencies), profile)

    @staticmethod
    def _name(rng: np.random.Generator, fixed: str | None, kind: Archetype, region: str, used: set[str]) -> str:
        """The fixed name, or a fresh one from the archetype's templates (numbered if all are taken)."""
        name = fixed
        for _ in range(12):
            if name is not None and name not in used:
                break
            word = WORDS[rng.integers(len(WORDS))]
            place = f"{word} {SUFFIXES[rng.integers(len(SUFFIXES))]}"
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
        return arrow_ids("A", np.arange(1, self.n_agencies + 1), self.agency_width)

    def program_ids(self) -> pa.Array:
        return arrow_ids("P", np.arange(1, self.n_programs + 1), self.program_width)

    def agencies_frame(self) -> pd.DataFrame:
        sectors = [ARCHETYPES[k].sector for k in self.keys()]
        victim = [ARCHETYPES[k].victim for k in self.keys()]
        return frame("agencies", {
            "agency_id": strings(self.agency_ids()), "name": self.names,
            "sector": sectors, "region": [self.regions[r] for r in self.region], "is_victim_service": victim})

    def programs_frame(self, rng: np.random.Generator) -> pd.DataFrame:
        keys = self.keys()
        funders = []
        for agency, service in zip(self.program_agency, self.program_type):
            choices = FUNDERS[SERVICE_TYPES[service]]
            if ARCHETYPES[keys[agency]].sector == "faith" and rng.random() < 0.6:
                funders.append(FAITH_FUNDER)
            elif rng.random() < 0.08:
                funders.append(None)
            else:
                funders.append(choices[rng.integers(len(choices))])
        return frame("programs", {
            "program_id": strings(self.program_ids()),
            "agency_id": take(self.agency_ids(), self.program_agency), "name": self.program_name,
            "service_type": [SERVICE_TYPES[s] for s in self.program_type], "funder": funders})
