"""A large HMIS CSV export for the import benchmark, built once and cached in bench/cache/ (gitignored).

The export is shaped as a continuum's: every file the import reads carries every column of the HUD
FY2024 specification (tests/hmis_export.py), every field quoted, CRLF line ends, a byte-order mark,
zipped with its files in a folder. Sizes follow `HmisScale`: by default 1,000,000 enrollments (half at
Coordinated Entry access points, half in the projects referred to) and 2,000,000 events, of which a
fifth are not referrals and 3% name a location no project has; 1 row in 100 of each file is deleted.
"""

from __future__ import annotations

import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bench.data import CACHE, ROOT

sys.path.insert(0, str(ROOT / "tests"))
from hmis_export import COLUMNS  # the specification's columns, shared with the tests


@dataclass(frozen=True)
class HmisScale:
    enrollments: int = 1_000_000
    events: int = 2_000_000
    organizations: int = 300
    projects: int = 1_200

    @property
    def zip(self) -> Path:
        return CACHE / f"hmis_{self.enrollments}_{self.events}.zip"


REFERRAL_CODES = np.array([10, 11, 12, 13, 14, 15, 1, 5, 6, 7, 16, 17, 18])
OTHER_CODES = np.array([2, 3, 4, 8, 9])
DESTINATIONS = np.array([410, 411, 421, 422, 435, 101, 116, 118, 215, 302, 313, 314, 8, 9, 17, 24, 30, 99])


def _dates(days: np.ndarray) -> np.ndarray:
    return (np.datetime64("2022-01-01") + days.astype("timedelta64[D]")).astype(str)


def _write(zf: zipfile.ZipFile, name: str, columns: dict[str, np.ndarray], rows: int) -> None:
    """One file, every specification column (those not given empty), quoted, CRLF, with a BOM."""
    arrays = []
    for column in COLUMNS[name]:
        values = columns.get(column)
        if values is None:
            arrays.append(pa.nulls(rows, pa.string()))
        else:
            values = np.asarray(values, dtype=object)
            missing = np.array([v is None for v in values]) if values.dtype == object else None
            text = values.astype(str)
            arrays.append(pa.array(text, pa.string(), mask=missing))
    table = pa.table(arrays, names=list(COLUMNS[name]))
    sink = pa.BufferOutputStream()
    sink.write(b"\xef\xbb\xbf")
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="all_valid", eol="\r\n"))
    zf.writestr(f"HMIS_Export/{name}.csv", sink.getvalue().to_pybytes())


def build(scale: HmisScale = HmisScale(), seed: int = 11) -> Path:
    """Write the export's zip (if it is not cached yet) and return its path."""
    if scale.zip.exists():
        return scale.zip
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_org, n_proj, n_enr, n_ev = scale.organizations, scale.projects, scale.enrollments, scale.events
    stamp = np.full(1, "2024-12-31 23:00:00")
    bookkeeping = lambda n: {"DateCreated": np.repeat("2022-01-01 09:00:00", n),  # noqa: E731
                             "DateUpdated": np.repeat(stamp, n), "UserID": np.repeat("U1", n),
                             "ExportID": np.repeat("EXP", n)}

    def deleted(n: int) -> np.ndarray:
        return np.where(rng.random(n) < 0.01, "2024-06-01 10:00:00", None)

    part = scale.zip.with_suffix(".part")
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        _write(zf, "Export", {"ExportID": ["EXP"], "SourceType": ["1"], "SourceID": ["XX-500"],
                              "ExportDate": ["2025-01-02 08:00:00"], "ExportStartDate": ["2022-01-01"],
                              "ExportEndDate": ["2024-12-31"], "SoftwareName": ["Bench HMIS"],
                              "CSVVersion": ["2024 v1.3"], "ExportPeriodType": ["3"], "ExportDirective": ["2"],
                              "HashStatus": ["1"], "ImplementationID": ["BENCH"]}, 1)
        org_ids = np.char.add("ORG", np.arange(n_org).astype(str))
        _write(zf, "Organization", {"OrganizationID": org_ids,
                                    "OrganizationName": np.char.add("Agency ", np.arange(n_org).astype(str)),
                                    "VictimServiceProvider": (np.arange(n_org) % 40 == 0).astype(int),
                                    **bookkeeping(n_org)}, n_org)
        proj_ids = np.char.add("PRJ", np.arange(n_proj).astype(str))
        ce = np.arange(n_proj) < n_proj // 10  # a tenth are Coordinated Entry access points
        ptype = np.where(ce, 14, rng.choice([0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 13], n_proj))
        proj_org = org_ids[rng.integers(0, n_org, n_proj)]
        names = np.char.add("Project ", np.arange(n_proj).astype(str))
        _write(zf, "Project", {"ProjectID": proj_ids, "OrganizationID": proj_org, "ProjectName": names,
                               "ProjectCommonName": np.char.add("P", np.arange(n_proj).astype(str)),
                               "OperatingStartDate": np.repeat("2015-01-01", n_proj), "ContinuumProject": np.ones(n_proj, int),
                               "ProjectType": ptype, "TargetPopulation": np.repeat(4, n_proj), **bookkeeping(n_proj)},
               n_proj)
        cities = np.array(["Riverton", "Port Ash", "Lakeside", "Hillcrest", "Millbrook", "Eastfield"])
        _write(zf, "ProjectCoC", {"ProjectCoCID": np.char.add("C", proj_ids), "ProjectID": proj_ids,
                                  "CoCCode": np.repeat("XX-500", n_proj), "Geocode": np.repeat("123456", n_proj),
                                  "City": cities[rng.integers(0, len(cities), n_proj)], **bookkeeping(n_proj)}, n_proj)
        _write(zf, "Funder", {"FunderID": np.char.add("F", proj_ids), "ProjectID": proj_ids,
                              "Funder": rng.choice([2, 3, 5, 8, 10, 46], n_proj), "OtherFunder": np.repeat("County", n_proj),
                              "GrantID": np.char.add("G", proj_ids), "StartDate": np.repeat("2020-01-01", n_proj),
                              **bookkeeping(n_proj)}, n_proj)
        inv = np.repeat(np.flatnonzero(~ce), 2)
        _write(zf, "Inventory", {"InventoryID": np.char.add("I", np.arange(len(inv)).astype(str)),
                                 "ProjectID": proj_ids[inv], "CoCCode": np.repeat("XX-500", len(inv)),
                                 "HouseholdType": np.ones(len(inv), int), "UnitInventory": rng.integers(5, 80, len(inv)),
                                 "BedInventory": rng.integers(5, 80, len(inv)),
                                 "InventoryStartDate": _dates(rng.integers(0, 700, len(inv))),
                                 "DateDeleted": deleted(len(inv)), **bookkeeping(len(inv))}, len(inv))

        # Events at access points: half the enrollments are there, one client each
        n_ce = n_enr // 2
        ce_projects = proj_ids[ce]
        ce_entry = rng.integers(0, 1000, n_ce)
        ev_enr = rng.integers(0, n_ce, n_ev)
        ev_day = ce_entry[ev_enr] + rng.integers(0, 60, n_ev)
        referral = rng.random(n_ev) < 0.8
        code = np.where(referral, rng.choice(REFERRAL_CODES, n_ev), rng.choice(OTHER_CODES, n_ev))
        target = rng.choice(np.flatnonzero(~ce), n_ev)
        spelled = np.where(rng.random(n_ev) < 0.5, np.char.upper(names[target]), names[target])
        spelled = np.where(rng.random(n_ev) < 0.03, "Somewhere Else", spelled)
        location = np.where(referral, spelled, None)
        outcome = rng.choice([1, 2, 3, 0], n_ev, p=[0.6, 0.15, 0.1, 0.15])
        result_day = ev_day + rng.integers(0, 20, n_ev)
        answered = referral & (outcome > 0)
        # program enrollments: the other half, for accepted referrals (client enters after the result)
        accepted = np.flatnonzero(answered & (outcome == 1))
        n_prog = n_enr - n_ce
        chosen = rng.choice(accepted, n_prog, replace=len(accepted) < n_prog)
        enr_ids = np.char.add("E", np.arange(n_enr).astype(str))
        person = np.char.add("PID", np.concatenate([np.arange(n_ce), ev_enr[chosen]]).astype(str))
        enr_project = np.concatenate([ce_projects[rng.integers(0, len(ce_projects), n_ce)], proj_ids[target[chosen]]])
        entry_day = np.concatenate([ce_entry, result_day[chosen] + rng.integers(0, 10, n_prog)])
        _write(zf, "Enrollment", {"EnrollmentID": enr_ids, "PersonalID": person, "ProjectID": enr_project,
                                  "EntryDate": _dates(entry_day), "HouseholdID": np.char.add("H", enr_ids),
                                  "RelationshipToHoH": np.ones(n_enr, int), "EnrollmentCoC": np.repeat("XX-500", n_enr),
                                  "LivingSituation": np.repeat(116, n_enr), "DisablingCondition": np.repeat(99, n_enr),
                                  "DateDeleted": deleted(n_enr), **bookkeeping(n_enr)}, n_enr)
        exits = rng.choice(n_enr, int(n_enr * 0.6), replace=False)
        n_exit = len(exits)
        _write(zf, "Exit", {"ExitID": np.char.add("X", np.arange(n_exit).astype(str)), "EnrollmentID": enr_ids[exits],
                            "PersonalID": person[exits], "ExitDate": _dates(entry_day[exits] + rng.integers(0, 200, n_exit)),
                            "Destination": rng.choice(DESTINATIONS, n_exit), "DateDeleted": deleted(n_exit),
                            **bookkeeping(n_exit)}, n_exit)
        _write(zf, "Event", {"EventID": np.char.add("V", np.arange(n_ev).astype(str)), "EnrollmentID": enr_ids[ev_enr],
                             "PersonalID": person[ev_enr], "EventDate": _dates(ev_day), "Event": code,
                             "LocationCrisisOrPHHousing": location,
                             "ReferralResult": np.where(answered, outcome, None),
                             "ResultDate": np.where(answered, _dates(result_day), None),
                             "DateDeleted": deleted(n_ev), **bookkeeping(n_ev)}, n_ev)
        zf.writestr("HMIS_Export/Client.csv", '"PersonalID","FirstName"\r\n"PID0","Never Read"\r\n')
    part.rename(scale.zip)
    return scale.zip


if __name__ == "__main__":
    print(build())
