"""A HUD HMIS CSV export mapped onto the import contract, one table at a time, with the report of what
each file became:

    Organization -> agencies, Project -> programs, Inventory -> capacity,
    Event (Coordinated Entry referrals to a project of the export) -> referrals, Exit -> outcomes.

Part of the HMIS format of the import side: `atlas.ingest.formats.hmis.files` reads the files, this module maps
their live rows, and `atlas.ingest.formats.hmis` ties the two to the mapping file and the import.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from atlas.ingest import sources
from atlas.ingest.formats.hmis.faults import Faults
from atlas.ingest.formats.hmis.files import (
    COLUMNS,
    PARSE,
    READ,
    ExportFile,
    arrow_text,
    is_before,
    lookup,
)
from atlas.ingest.formats.hmis.report import Report, file_rows
from atlas.ingest.problems import Problem, at_rows

# Coordinated Entry events (HUD list 4.20.2). A referral to a project or opening is a referral between
# agencies when its location names a project of the export; the others are not.
EVENTS = {
    1: "Referral to Prevention Assistance project",
    2: "Problem Solving/Diversion/Rapid Resolution intervention or service",
    3: "Referral to scheduled Coordinated Entry Crisis Needs Assessment",
    4: "Referral to scheduled Coordinated Entry Housing Needs Assessment",
    5: "Referral to post-placement/follow-up case management",
    6: "Referral to Street Outreach project or services",
    7: "Referral to Housing Navigation project or services",
    8: "Referral to non-continuum services: ineligible for continuum services",
    9: "Referral to non-continuum services: no availability in continuum services",
    10: "Referral to Emergency Shelter bed opening",
    11: "Referral to Transitional Housing bed/unit opening",
    12: "Referral to Joint TH-RRH project/unit/resource opening",
    13: "Referral to RRH project resource opening",
    14: "Referral to PSH project resource opening",
    15: "Referral to Other PH project/unit/resource opening",
    16: "Referral to emergency assistance/flex fund/furniture assistance",
    17: "Referral to Emergency Housing Voucher (EHV)",
    18: "Referral to a Housing Stability Voucher",
}
REFERRAL_EVENTS = (1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18)
# ReferralResult (HUD list 4.20.D) -> (contract stage, decline reason)
RESULTS = {1: ("accepted", None), 2: ("declined", "client_declined"), 3: ("declined", "other")}
EVENT_KINDS = ("imported", "not_a_referral", "location_not_matched")
EVENT_KIND_TITLES = {
    "imported": "Referral between agencies: imported",
    "not_a_referral": "Not a referral between agencies (problem solving, assessments, non-continuum referrals)",
    "location_not_matched": "Referral whose location names no project of the export: not imported",
}
PROJECT_TYPES = {
    0: "Emergency Shelter – Entry Exit", 1: "Emergency Shelter – Night-by-Night", 2: "Transitional Housing",
    3: "PH – Permanent Supportive Housing", 4: "Street Outreach", 6: "Services Only", 7: "Other",
    8: "Safe Haven", 9: "PH – Housing Only", 10: "PH – Housing with Services", 11: "Day Shelter",
    12: "Homelessness Prevention", 13: "PH – Rapid Re-Housing", 14: "Coordinated Entry",
}



# ---- the export, mapped --------------------------------------------------------------------------------

@dataclass
class HmisExport:
    """An HMIS export read, checked and mapped: contract tables of text, ready for `validate`."""

    tables: dict[str, sources.RawTable]
    problems: list[Problem]
    report: Report | None
    files: dict[str, str]  # file -> where it was read from
    checksum: str = ""  # of the zip, or of the files read from a folder
    _rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # table -> export row of each row
    _sources: dict[str, str] = field(default_factory=dict, repr=False)  # table -> export file
    _columns: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def locate(self, problems: list[Problem]) -> list[Problem]:
        """Problems found in the mapped tables, moved to the export's file, row and column they came from."""
        located = []
        for p in problems:
            table = next((t for t, raw in self.tables.items() if raw.file == p.file and t in self._sources), None)
            if table is None:
                located.append(p)
                continue
            row = int(self._rows[table][p.row - 2]) + 2 if p.row is not None else None
            column = self._columns[table].get(p.column, p.column) if p.column else p.column
            located.append(replace(p, file=self._sources[table], row=row, column=column))
        return located



@dataclass
class _Mapped:
    """The contract tables mapped so far, and for each where its rows and columns came from in the export."""

    tables: dict[str, sources.RawTable]
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # table -> export row of each row
    origin: dict[str, str] = field(default_factory=dict)  # table -> export file
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> contract column -> export column

    def put(self, table: str, frame: pd.DataFrame, source: str, row, column_map: dict[str, str]) -> None:
        self.tables[table] = sources.RawTable(table, f"{source} → {table}", frame.reset_index(drop=True))
        self.rows[table] = np.asarray(row)
        self.origin[table] = source
        self.columns[table] = column_map


@dataclass
class _Events:
    """What the export's events became, for the report."""

    kind_counts: np.ndarray  # events per EVENT_KINDS
    unmatched: pd.DataFrame  # location, events, why
    aliases_used: pd.DataFrame  # alias, ProjectID, events
    event_codes: pd.DataFrame  # Event, meaning, events, treated as


def map_export(files: dict[str, ExportFile], beside: dict[str, sources.RawTable], faults: Faults,
               mapping: dict, ignored: list[str]) -> HmisExport:
    """The export's live rows mapped onto the contract's tables, one table at a time, and the report. A row
    that cannot be mapped as it is (dates in the wrong order, negative beds) is left out through `faults`."""
    problems = faults.problems
    mapped = _Mapped(dict(beside))
    live = {name: _live(files, name) for name in READ}
    projects, enrollments = live["Project"], live["Enrollment"]
    period_start, period_end, period = _period(live, files, problems)
    project_org = projects.set_index("ProjectID")["OrganizationID"] if len(projects) else pd.Series(dtype="str")
    sectors, victim = _agencies(mapped, live, mapping, faults)
    project_types, project_service = _programs(mapped, live, mapping, faults)
    capacity_rows = _capacity_table(mapped, live, faults, period_start, period_end)
    enrollment_project = (enrollments.set_index("EnrollmentID")["ProjectID"] if len(enrollments)
                          else pd.Series(dtype="str"))
    first_exit = _first_exits(live, faults)
    destinations, outcome_rows = _outcome_table(mapped, live, mapping, enrollment_project, project_org, faults)
    events = _referral_table(mapped, live, files, faults, mapping, enrollment_project, project_org,
                             project_service, first_exit)
    imported = {"Organization.csv": len(mapped.tables["agencies"].frame) if "agencies" in mapped.origin else 0,
                "Project.csv": len(mapped.tables["programs"].frame) if "programs" in mapped.origin else 0,
                "Inventory.csv": capacity_rows, "Exit.csv": outcome_rows,
                "Event.csv": int(events.kind_counts[0])}
    counts = dict(zip(EVENT_KINDS, events.kind_counts.tolist()))
    report = Report(
        files=file_rows(files, beside, imported),
        events=pd.DataFrame({"kind": [EVENT_KIND_TITLES[k] for k in EVENT_KINDS],
                             "events": [counts.get(k, 0) for k in EVENT_KINDS]}),
        event_codes=events.event_codes.reset_index(drop=True),
        unmatched_locations=events.unmatched.reset_index(drop=True),
        project_types=project_types.reset_index(drop=True), destinations=destinations.reset_index(drop=True),
        sectors=sectors.reset_index(drop=True), aliases=events.aliases_used.reset_index(drop=True),
        ignored=[entry.replace("\\", "/").rpartition("/")[2] for entry in ignored], period=period,
        victim_service=victim, affected=faults.affected())
    if counts.get("location_not_matched"):
        problems.append(Problem("Event.csv", None, "LocationCrisisOrPHHousing", None, "hmis_location",
                                f"{counts['location_not_matched']:,} referral events name a location that is no project "
                                "of the export, so they are not on the network: the report lists the locations. Fix "
                                "them in the HMIS, or add them to [locations] in a mapping file.", "warning",
                                count=counts["location_not_matched"]))
    return HmisExport(mapped.tables, problems, report, {}, "", mapped.rows, mapped.origin, mapped.columns)


def _live(files: dict[str, ExportFile], name: str) -> pd.DataFrame:
    """The live rows of an export file, its parsed columns beside the text (`_<column>`) and its rows (`_row`)."""
    f = files.get(name)
    if f is None:  # an absent file: no rows, but every column, so what it feeds is simply empty
        spec = COLUMNS[name]
        frame = pd.DataFrame({c.name: pd.Series(dtype="str") for c in spec})
        for c in spec:
            if c.type == "int":
                frame[f"_{c.name}"] = pd.Series(dtype="Int64")
            elif c.type in PARSE:
                frame[f"_{c.name}"] = pd.Series(dtype="datetime64[us]")
        return frame.assign(_row=pd.Series(dtype="int64"))
    frame = f.frame.assign(**{f"_{c}": s for c, s in f.typed.items()}, _row=np.arange(len(f.frame)))
    return frame[f.live]


def _period(live: dict[str, pd.DataFrame], files: dict[str, ExportFile], problems: list[Problem]) -> tuple:
    """The export period (first and last day, or None) and how the report words it: Export.csv's, else the span
    of the dates read."""
    export, enrollments, exits, events = live["Export"], live["Enrollment"], live["Exit"], live["Event"]
    period_start = period_end = None
    told = bool(len(export) and export["_ExportStartDate"].notna().iloc[0] and export["_ExportEndDate"].notna().iloc[0])
    if told:
        period_start, period_end = export["_ExportStartDate"].iloc[0], export["_ExportEndDate"].iloc[0]
        if period_end < period_start:
            problems.append(Problem("Export.csv", 2, "ExportEndDate", str(export["ExportEndDate"].iloc[0]), "order",
                                    "The export period ends before it starts: the period is the span of the dates "
                                    "read instead.", "warning"))
            told = False
    if not told:
        dates = [s.dropna() for s in (enrollments.get("_EntryDate"), exits.get("_ExitDate"), events.get("_EventDate"))
                 if s is not None]
        dates = pd.concat(dates) if dates else pd.Series(dtype="datetime64[us]")
        period_start, period_end = (dates.min(), dates.max()) if len(dates) else (None, None)
    period = (f"{period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}" + ("" if told else
                                                                      " (no period in Export.csv: the span of the dates read)")
              if period_start is not None else "unknown")
    return period_start, period_end, period


def _agencies(mapped: _Mapped, live: dict[str, pd.DataFrame], mapping: dict, faults: Faults
              ) -> tuple[pd.DataFrame, int]:
    """Organizations -> agencies; the sectors applied and the number of victim-service organizations."""
    orgs, projects, coc = live["Organization"], live["Project"], live["ProjectCoC"]
    if not len(orgs):
        return pd.DataFrame(columns=["sector", "from", "agencies"]), 0
    region = _regions(orgs["OrganizationID"], projects, coc, mapping["agencies"]["default_region"])
    named = {str(k): v for k, v in mapping["agencies"]["sectors"].items()}
    sector = orgs["OrganizationID"].map(named).astype("object").fillna(mapping["agencies"]["default_sector"])
    flagged = _victim_service(orgs, mapping["agencies"], faults)
    unnamed = orgs["OrganizationName"].isna().to_numpy()
    faults.add("Organization", "OrganizationName", "hmis_name", orgs["_row"].to_numpy()[unnamed],
               "OrganizationName is empty: fill it in in the HMIS.")
    frame = pd.DataFrame({
        "agency_id": orgs["OrganizationID"].to_numpy(),
        "name": orgs["OrganizationName"].fillna(orgs["OrganizationID"]).to_numpy(),
        "sector": sector.to_numpy(), "region": region.to_numpy(),
        "is_victim_service": np.where(flagged, "true", "false")})
    mapped.put("agencies", frame, "Organization.csv", orgs["_row"],
               {"agency_id": "OrganizationID", "name": "OrganizationName", "is_victim_service": "VictimServiceProvider"})
    sectors = pd.DataFrame({"sector": sector.to_numpy(),
                            "from": np.where(orgs["OrganizationID"].isin(list(named)), "the mapping's [agencies.sectors]",
                                             "default_sector")})
    return sectors.value_counts().rename("agencies").reset_index().sort_values(["from", "sector"]), int(flagged.sum())


def _victim_service(orgs: pd.DataFrame, settings: dict, faults: Faults) -> np.ndarray:
    """Whether each organization is a victim-service provider: as VictimServiceProvider says (0 or 1), else as
    the mapping's [agencies.victim_service] says, else `unflagged_victim_service` (privacy first: true). An
    entry of true in the mapping protects an organization whatever the export says."""
    code = orgs["_VictimServiceProvider"]
    said = code.isin([0, 1]).fillna(False).to_numpy(dtype=bool)
    told = orgs["OrganizationID"].map({str(k): bool(v) for k, v in settings["victim_service"].items()})
    by_mapping = told.notna().to_numpy()
    default = bool(settings["unflagged_victim_service"])
    unsaid = np.where(by_mapping, told.eq(True).fillna(False).to_numpy(dtype=bool), default)
    flagged = np.where(said, code.eq(1).fillna(False).to_numpy(dtype=bool), unsaid)
    rows = orgs["_row"].to_numpy()
    message = "VictimServiceProvider is empty or not 0 (no) or 1 (yes): record it in the HMIS."
    faults.add("Organization", "VictimServiceProvider", "hmis_victim_service", rows[~said & ~by_mapping & default],
               message)
    faults.add("Organization", "VictimServiceProvider", "hmis_victim_service_mapped",
               rows[~said & (by_mapping | (not default))], message)
    return flagged | told.eq(True).fillna(False).to_numpy(dtype=bool)


def _programs(mapped: _Mapped, live: dict[str, pd.DataFrame], mapping: dict, faults: Faults
              ) -> tuple[pd.DataFrame, pd.Series]:
    """Projects -> programs; the project types applied and each project's service type."""
    projects, funders = live["Project"], live["Funder"]
    if not len(projects):
        return pd.DataFrame(columns=["ProjectType", "meaning", "service type", "projects"]), pd.Series(dtype="str")
    service_types = {int(k): v for k, v in mapping["programs"]["service_types"].items()}
    types = projects["_ProjectType"]
    service = types.map(service_types).astype("object").fillna(mapping["programs"]["default_service_type"])
    project_service = pd.Series(service.to_numpy(), index=projects["ProjectID"].to_numpy())
    funder = _funders(projects["ProjectID"], funders, mapping["funders"], faults)
    rows = projects["_row"].to_numpy()
    # an empty ProjectType is allowed (a project outside the continuum); one that cannot be read or is on no list is not
    listed = types.isin([*PROJECT_TYPES, *service_types]).fillna(False).to_numpy(dtype=bool)
    unknown = projects["ProjectType"].notna().to_numpy() & ~listed
    faults.add("Project", "ProjectType", "hmis_code", rows[unknown],
               f"Not a ProjectType of HUD's list: the project is a program of type "
               f"{mapping['programs']['default_service_type']} (default_service_type).")
    unnamed = projects["ProjectName"].isna().to_numpy()
    faults.add("Project", "ProjectName", "hmis_name", rows[unnamed], "ProjectName is empty: fill it in in the HMIS.")
    frame = pd.DataFrame({"program_id": projects["ProjectID"].to_numpy(),
                          "agency_id": projects["OrganizationID"].to_numpy(),
                          "name": projects["ProjectName"].fillna(projects["ProjectID"]).to_numpy(),
                          "service_type": service.to_numpy(),
                          "funder": funder.to_numpy()})
    mapped.put("programs", frame, "Project.csv", projects["_row"],
               {"program_id": "ProjectID", "agency_id": "OrganizationID", "name": "ProjectName",
                "service_type": "ProjectType", "funder": "Funder (Funder.csv)"})
    applied = pd.DataFrame({"ProjectType": types.astype("object").to_numpy(), "service type": service.to_numpy()})
    project_types = (applied.value_counts(dropna=False).rename("projects").reset_index()
                     .sort_values("ProjectType", key=lambda s: s.map(lambda v: -1 if pd.isna(v) else v)))
    project_types.insert(1, "meaning", project_types["ProjectType"].map(
        lambda v: "(empty)" if pd.isna(v) else PROJECT_TYPES.get(int(v), "not a HUD project type")))
    project_types["ProjectType"] = project_types["ProjectType"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return project_types, project_service


def _capacity_table(mapped: _Mapped, live: dict[str, pd.DataFrame], faults: Faults, period_start, period_end
                    ) -> int:
    """Inventory -> capacity, over the export period; the inventory rows used."""
    inventory = live["Inventory"]
    if not len(inventory):
        return 0
    negative = (inventory["_BedInventory"] < 0).to_numpy(dtype=bool, na_value=False)
    faults.add("Inventory", "BedInventory", "hmis_negative", inventory["_row"].to_numpy()[negative],
               "Beds cannot be fewer than 0: correct the inventory in the HMIS.")
    bad_order = is_before(inventory["_InventoryStartDate"], inventory["_InventoryEndDate"]) & ~negative
    faults.add("Inventory", "InventoryEndDate", "hmis_order", inventory["_row"].to_numpy()[bad_order],
               "The inventory ends before it starts (InventoryStartDate): correct it in the HMIS.")
    if period_start is None:
        return 0
    frame, used = _capacity(inventory[~negative & ~bad_order], period_start, period_end)
    mapped.put("capacity", frame[["program_id", "month", "slots"]], "Inventory.csv", frame["_row"].to_numpy(),
               {"program_id": "ProjectID", "month": "InventoryStartDate", "slots": "BedInventory"})
    return used


def _first_exits(live: dict[str, pd.DataFrame], faults: Faults) -> pd.DataFrame:
    """Each enrollment's first exit (EnrollmentID, ExitDate, _ExitDate); an exit before its entry is left out
    (of `live` too)."""
    exits, enrollments = live["Exit"], live["Enrollment"]
    if not len(exits):
        return pd.DataFrame(columns=["EnrollmentID", "ExitDate", "_ExitDate"])
    entry = lookup(exits["EnrollmentID"], enrollments.set_index("EnrollmentID")["_EntryDate"])
    early = is_before(entry, exits["_ExitDate"])
    faults.add("Exit", "ExitDate", "hmis_order", exits["_row"].to_numpy()[early],
               "The exit is before the enrollment's EntryDate (Enrollment.csv): correct one of the "
               "two dates in the HMIS.")
    exits = live["Exit"] = exits[~early]
    return (exits.sort_values("_ExitDate", kind="stable").drop_duplicates("EnrollmentID")
            [["EnrollmentID", "ExitDate", "_ExitDate"]])


def _outcome_table(mapped: _Mapped, live: dict[str, pd.DataFrame], mapping: dict, enrollment_project: pd.Series,
                   project_org: pd.Series, faults: Faults) -> tuple[pd.DataFrame, int]:
    """Exits -> outcomes; the destinations applied and the outcome rows."""
    exits, projects, enrollments = live["Exit"], live["Project"], live["Enrollment"]
    if not (len(exits) and len(projects)):
        return pd.DataFrame(columns=["Destination", "project types", "outcome", "exits"]), 0
    project = lookup(exits["EnrollmentID"], enrollment_project)
    ptype = lookup(project, projects.set_index("ProjectID")["_ProjectType"])
    skip = ptype.isin(mapping["outcomes"]["skip_project_types"]).to_numpy(dtype=bool) | project.isna().to_numpy()
    kept = exits[~skip]
    kept_type = ptype[~skip]
    outcome, unmatched = _outcomes(kept["_Destination"], kept_type, mapping["outcomes"])
    faults.add("Exit", "Destination", "hmis_destination", kept["_row"].to_numpy()[unmatched],
               "Destination is empty or not a code of HUD's list (3.12.1): record where the client went in the HMIS.")
    client = lookup(kept["EnrollmentID"], enrollments.set_index("EnrollmentID")["PersonalID"])
    frame = pd.DataFrame({"client_id": client.fillna(kept["PersonalID"]).to_numpy(),
                          "agency_id": lookup(project[~skip], project_org).to_numpy(),
                          "program_id": project[~skip].to_numpy(),
                          "outcome": outcome.to_numpy(), "achieved_on": kept["ExitDate"].to_numpy()})
    mapped.put("outcomes", frame, "Exit.csv", kept["_row"],
               {"client_id": "PersonalID", "agency_id": "EnrollmentID", "program_id": "EnrollmentID",
                "outcome": "Destination", "achieved_on": "ExitDate"})
    street = kept_type.eq(4).fillna(False).to_numpy(dtype=bool)
    applied = pd.DataFrame({"Destination": kept["_Destination"].astype("object").to_numpy(),
                            "project types": np.where(street, "Street Outreach", "other"),
                            "outcome": outcome.to_numpy()})
    destinations = (applied.value_counts(dropna=False).rename("exits").reset_index()
                    .sort_values(["Destination", "project types"]))
    destinations["Destination"] = destinations["Destination"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return destinations, len(frame)


def _referral_table(mapped: _Mapped, live: dict[str, pd.DataFrame], files: dict[str, ExportFile],
                    faults: Faults, mapping: dict, enrollment_project: pd.Series, project_org: pd.Series,
                    project_service: pd.Series, first_exit: pd.DataFrame) -> _Events:
    """Events -> referrals: the Coordinated Entry referrals to a project of the export. An event whose result is
    dated before it is left out; one whose Event code is empty or unknown is not a referral."""
    problems = faults.problems
    events, projects = live["Event"], live["Project"]
    seen = _Events(np.zeros(len(EVENT_KINDS), dtype="int64"), pd.DataFrame(columns=["location", "events", "why"]),
                   pd.DataFrame(columns=["alias", "ProjectID", "events"]),
                   pd.DataFrame(columns=["Event", "meaning", "events", "treated as"]))
    if not len(events):
        if "Event" not in files:
            problems.append(Problem("Event.csv", None, None, None, "hmis_no_events",
                                    "The export has no Event.csv, so no referrals: the dashboard will show agencies, "
                                    "programs, capacity and outcomes only. Coordinated Entry events are where the "
                                    "HMIS records referrals between agencies.", "warning"))
        return seen
    early = is_before(events["_EventDate"], events["_ResultDate"])
    faults.add("Event", "ResultDate", "hmis_order", events["_row"].to_numpy()[early],
               "The result is dated before the event (EventDate): correct one of the two dates in the HMIS.")
    events = events[~early]
    if not len(events):
        return seen
    uncoded = ~events["_Event"].isin(list(EVENTS)).fillna(False).to_numpy(dtype=bool)
    faults.add("Event", "Event", "hmis_code", events["_row"].to_numpy()[uncoded],
               "The Event code is empty or not on HUD's list (4.20.2): the event is not a referral between agencies.")
    referral = events["_Event"].isin(REFERRAL_EVENTS).to_numpy(dtype=bool)
    target, how = _locate_projects(events["LocationCrisisOrPHHousing"], projects, mapping["locations"])
    from_project = lookup(events["EnrollmentID"], enrollment_project)
    placed = referral & target.notna().to_numpy() & from_project.notna().to_numpy()
    kinds = np.where(~referral, 1, np.where(placed, 0, 2)).astype("int8")  # positions in EVENT_KINDS
    seen.kind_counts = np.bincount(kinds, minlength=len(EVENT_KINDS))
    lost = referral & ~placed
    if lost.any():
        seen.unmatched = _unmatched(events["LocationCrisisOrPHHousing"][lost], projects)
    alias_rows = placed & (how == 2)
    if alias_rows.any():
        seen.aliases_used = (pd.DataFrame({"alias": events["LocationCrisisOrPHHousing"][alias_rows].to_numpy(),
                                           "ProjectID": target[alias_rows].to_numpy()})
                             .value_counts().rename("events").reset_index())
    seen.event_codes = _event_codes(events["_Event"], kinds)
    frame, row = _referrals(events[placed], target[placed], from_project[placed], project_org, project_service,
                            live["Enrollment"], first_exit, problems, files["Event"].frame)
    mapped.put("referrals", frame, "Event.csv", row,
               {"referral_id": "EventID", "client_id": "PersonalID", "from_agency_id": "EnrollmentID",
                "to_agency_id": "LocationCrisisOrPHHousing", "to_program_id": "LocationCrisisOrPHHousing",
                "service_type": "LocationCrisisOrPHHousing", "referred_at": "EventDate", "accepted_at": "ResultDate",
                "declined_at": "ResultDate", "decline_reason": "ReferralResult",
                "started_at": "EntryDate (Enrollment.csv)", "completed_at": "ExitDate (Exit.csv)"})
    return seen


def _event_codes(code: pd.Series, kinds: np.ndarray) -> pd.DataFrame:
    """Events per code and what each became (Event, meaning, events, treated as)."""
    by_code = pd.DataFrame({"Event": code.fillna(-1).to_numpy(dtype="int64"), "kind": kinds})
    event_codes = by_code.groupby(["Event", "kind"]).size().rename("events").reset_index()
    event_codes.insert(1, "meaning", event_codes["Event"].map(lambda v: EVENTS.get(int(v), "not a HUD event code")))
    event_codes["treated as"] = event_codes.pop("kind").map(
        dict(enumerate(("referral, imported", "not a referral between agencies", "referral, location not matched"))))
    event_codes = event_codes[["Event", "meaning", "events", "treated as"]]
    event_codes["Event"] = event_codes["Event"].map(lambda v: str(int(v)))
    return event_codes


def _normal(text: pd.Series) -> pd.Series:
    """Names compared as people mean them: case, surrounding spaces and runs of spaces ignored."""
    folded = pc.utf8_lower(pc.replace_substring_regex(pc.utf8_trim_whitespace(arrow_text(text)), r"\s+", " "))
    normal = folded.to_pandas()
    normal.index = text.index
    return normal


def _locate_projects(location: pd.Series, projects: pd.DataFrame, aliases: dict) -> tuple[pd.Series, np.ndarray]:
    """The ProjectID each event's location names (by name or common name, then by alias), and how (1 by
    name, 2 by alias, 0 not placed)."""
    names = pd.concat([pd.DataFrame({"name": _normal(projects[c]), "ProjectID": projects["ProjectID"]})
                       for c in ("ProjectName", "ProjectCommonName") if c in projects]) if len(projects) else \
        pd.DataFrame(columns=["name", "ProjectID"])
    names = names.dropna().drop_duplicates()
    counted = names.groupby("name")["ProjectID"].nunique()
    unique = names[names["name"].isin(counted[counted == 1].index)].drop_duplicates("name").set_index("name")["ProjectID"]
    normal = _normal(location)
    by_name = lookup(normal, unique)
    live_ids = set(projects["ProjectID"]) if len(projects) else set()
    alias_map = {k: v for k, v in zip(_normal(pd.Series(list(aliases), dtype="str")), aliases.values())
                 if v in live_ids}
    by_alias = (lookup(normal, pd.Series(list(alias_map.values()), index=pd.Index(list(alias_map), dtype="str"),
                                          dtype="str"))
                if alias_map else pd.Series(np.nan, index=location.index, dtype="object"))
    target = by_name.astype("object").where(by_name.notna(), by_alias)
    how = np.where(by_name.notna().to_numpy(), 1, np.where(by_alias.notna().to_numpy(), 2, 0))  # by name, alias
    return target, how


def _unmatched(location: pd.Series, projects: pd.DataFrame) -> pd.DataFrame:
    """Unplaced locations by frequency, each as most often written, with why it was not placed."""
    normal = _normal(location.fillna(""))
    frame = pd.DataFrame({"normal": normal.to_numpy(), "written": location.fillna("").to_numpy()})
    spelling = frame.groupby("normal")["written"].agg(lambda s: s.value_counts().index[0])
    counts = frame["normal"].value_counts()
    names = pd.concat([_normal(projects[c]) for c in ("ProjectName", "ProjectCommonName") if c in projects]) \
        if len(projects) else pd.Series(dtype="str")
    shared = names.value_counts() if len(names) else pd.Series(dtype="int64")
    # a name two projects share is ambiguous: it needs an alias
    why = {n: ("no location written" if n == "" else
               "names more than one project of the export: add an alias" if shared.get(n, 0) > 1 else
               "no project of the export has this name") for n in counts.index}
    out = pd.DataFrame({"location": [spelling[n] or "(empty)" for n in counts.index], "events": counts.to_numpy(),
                        "why": [why[n] for n in counts.index]})
    return out.sort_values(["events", "location"], ascending=[False, True], kind="stable")


def _regions(org_ids: pd.Series, projects: pd.DataFrame, coc: pd.DataFrame, default: str) -> pd.Series:
    """Each organization's region: the most frequent City of its projects, else their CoCCode, else default."""
    if not len(projects) or not len(coc):
        return pd.Series(default, index=org_ids.index)
    rows = coc.assign(org=lookup(coc["ProjectID"], projects.set_index("ProjectID")["OrganizationID"]))

    def mode(column: str) -> pd.Series:
        have = rows.dropna(subset=["org", column])
        if not len(have):
            return pd.Series(dtype="str")
        counts = have.groupby(["org", column]).size().rename("n").reset_index()
        counts = counts.sort_values(["org", "n", column], ascending=[True, False, True], kind="stable")
        return counts.drop_duplicates("org").set_index("org")[column]

    return (org_ids.map(mode("City")).astype("object").fillna(org_ids.map(mode("CoCCode")).astype("object"))
            .fillna(default))


def _funders(project_ids: pd.Series, funders: pd.DataFrame, labels: dict, faults: Faults) -> pd.Series:
    """Each project's funder: the label of its Funder code (OtherFunder for 46), from its latest-starting grant
    (an undated grant counts as the oldest); a code empty or on no list is "data not collected"."""
    if not len(funders):
        return pd.Series([None] * len(project_ids), index=project_ids.index, dtype="object")
    unknown = ~funders["_Funder"].map(lambda c: pd.notna(c) and str(int(c)) in labels).to_numpy(dtype=bool)
    faults.add("Funder", "Funder", "hmis_code", funders["_row"].to_numpy()[unknown],
               "The Funder code is empty or not on HUD's list (2.06.1): the grant names no funder. Correct it in the "
               "HMIS, or name the code in [funders] in a mapping file.")
    latest = funders.sort_values(["ProjectID", "_StartDate", "FunderID"], na_position="first",
                                 kind="stable").drop_duplicates("ProjectID", keep="last")
    code = latest["_Funder"]
    label = code.map(lambda c: labels.get(str(int(c))) if pd.notna(c) else None)
    other = latest["OtherFunder"] if "OtherFunder" in latest else pd.Series(None, index=latest.index)
    label = label.where(~(code.eq(46).fillna(False) & other.notna()), other)
    return project_ids.map(pd.Series(label.to_numpy(), index=latest["ProjectID"].to_numpy()))


def _capacity(inventory: pd.DataFrame, start, end) -> tuple[pd.DataFrame, int]:
    """Beds per project and month of the export period: the sum over inventory rows in force that month."""
    first, last = pd.Period(start, "M"), pd.Period(end, "M")
    starts = inventory["_InventoryStartDate"].dt.to_period("M")
    ends = inventory["_InventoryEndDate"].dt.to_period("M")
    lo = starts.where(starts > first, first)
    hi = ends.where(ends.notna() & (ends < last), last)
    span = (hi.astype("int64") - lo.astype("int64") + 1).clip(lower=0) if len(inventory) else pd.Series(dtype="int64")
    span = span.where(inventory["_InventoryStartDate"].notna(), 0).astype("int64")
    used = int((span > 0).sum())
    repeat = np.repeat(np.arange(len(inventory)), span.to_numpy())
    offsets = np.arange(len(repeat)) - np.repeat(np.cumsum(span.to_numpy()) - span.to_numpy(), span.to_numpy())
    month = lo.astype("int64").to_numpy()[repeat] + offsets
    frame = pd.DataFrame({"program_id": inventory["ProjectID"].to_numpy()[repeat], "_m": month,
                          "beds": inventory["_BedInventory"].to_numpy()[repeat].astype("int64"),
                          "_row": inventory["_row"].to_numpy()[repeat]})
    summed = frame.groupby(["program_id", "_m"], sort=True).agg(slots=("beds", "sum"), _row=("_row", "min")).reset_index()
    summed["month"] = pd.PeriodIndex.from_ordinals(summed["_m"].to_numpy(), freq="M").strftime("%Y-%m")
    summed["slots"] = summed["slots"].astype(str)
    return summed, used


def _outcomes(destination: pd.Series, project_type: pd.Series, rules: dict) -> tuple[pd.Series, np.ndarray]:
    """The outcome of each exit: the first destination rule that matches (see hmis_mapping.toml); and where none
    matches (an empty, unreadable or unknown Destination: the default outcome)."""
    out = pd.Series(rules["default_outcome"], index=destination.index, dtype="object")
    open_ = pd.Series(True, index=destination.index)
    for rule in rules["destinations"]:
        hit = destination.isin(rule.get("codes", []))
        for low, high in rule.get("ranges", []):
            hit |= destination.between(low, high)
        hit = hit.fillna(False).astype(bool)
        if rule.get("project_types"):
            hit &= project_type.isin(rule["project_types"]).fillna(False).astype(bool)
        if rule.get("except_project_types"):
            hit &= ~project_type.isin(rule["except_project_types"]).fillna(False).astype(bool)
        take = hit & open_
        out[take] = rule["outcome"]
        open_ &= ~take
    return out, open_.to_numpy(dtype=bool)


def _referrals(events: pd.DataFrame, target: pd.Series, from_project: pd.Series, project_org: pd.Series,
               project_service: pd.Series, enrollments: pd.DataFrame, first_exit: pd.DataFrame,
               problems: list[Problem], event_text: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Placed referral events as contract referrals (text), with the Event.csv row of each."""
    events = events.reset_index(drop=True)
    target, from_project = target.reset_index(drop=True), from_project.reset_index(drop=True)
    result = events["_ReferralResult"]
    rows = events["_row"].to_numpy()
    known = result.isin(list(RESULTS)).fillna(False).to_numpy(dtype=bool)
    unknown_code = events["ReferralResult"].notna().to_numpy() & ~known  # a code on no list, or not a number
    problems += at_rows("Event.csv", "ReferralResult", "hmis_result", rows[unknown_code], event_text["ReferralResult"],
                        "Not a ReferralResult of HUD's list (1 accepted, 2 client rejected, 3 provider rejected): "
                        "the referral is imported as still open.", "warning")
    undated = known & events["_ResultDate"].isna().to_numpy()
    problems += at_rows("Event.csv", "ResultDate", "hmis_result_date", rows[undated], event_text["ReferralResult"],
                        "The referral has a result but no ResultDate, so when it was answered is unknown: it is "
                        "imported as still open. Record the ResultDate in the HMIS.", "warning")
    answered = known & ~undated
    accepted = answered & result.eq(1).fillna(False).to_numpy(dtype=bool)
    declined = answered & result.isin([2, 3]).fillna(False).to_numpy(dtype=bool)
    reason = pd.Series(np.where(result.eq(2).fillna(False).to_numpy(dtype=bool), RESULTS[2][1], RESULTS[3][1]),
                       dtype="str")
    answered_on = events["ResultDate"]
    empty = pd.Series(pd.NA, index=events.index, dtype="str")
    frame = pd.DataFrame({
        "referral_id": events["EventID"], "client_id": events["PersonalID"],
        "from_agency_id": lookup(from_project, project_org), "to_agency_id": lookup(target, project_org),
        "service_type": lookup(target, project_service), "referred_at": events["EventDate"],
        "to_program_id": target, "accepted_at": answered_on.where(accepted), "declined_at": answered_on.where(declined),
        "decline_reason": reason.where(declined), "started_at": empty, "completed_at": empty.copy()})
    if accepted.any() and len(enrollments):
        _started(frame, events, target, np.flatnonzero(accepted), enrollments, first_exit, problems, event_text)
    return frame, rows


def _started(frame: pd.DataFrame, events: pd.DataFrame, target: pd.Series, accepted: np.ndarray,
             enrollments: pd.DataFrame, first_exit: pd.DataFrame, problems: list[Problem],
             event_text: pd.DataFrame) -> None:
    """Fill started_at and completed_at of accepted referrals: the client's first enrollment in the receiving
    project on or after the event, and that enrollment's exit."""
    stays = enrollments.reset_index(drop=True)
    # one whole-number key per (client, project), so that the as-of join compares numbers, not text
    people, _ = pd.factorize(pd.concat([events["PersonalID"].iloc[accepted], stays["PersonalID"]], ignore_index=True))
    places, _ = pd.factorize(pd.concat([target.iloc[accepted], stays["ProjectID"]], ignore_index=True))
    key = people.astype("int64") * (int(places.max()) + 2) + places
    wanted = pd.DataFrame({"i": accepted, "key": key[:len(accepted)],
                           "at": events["_EventDate"].to_numpy()[accepted].astype("datetime64[us]")})
    entered = pd.DataFrame({"key": key[len(accepted):], "entry": stays["_EntryDate"].to_numpy().astype("datetime64[us]"),
                            "stay": np.arange(len(stays))}).dropna(subset=["entry"])
    matched = pd.merge_asof(wanted.sort_values("at", kind="stable"), entered.sort_values("entry", kind="stable"),
                            left_on="at", right_on="entry", by="key", direction="forward").dropna(subset=["stay"])
    at = matched["i"].to_numpy()
    stay = matched["stay"].to_numpy().astype("int64")
    exits = first_exit.set_index("EnrollmentID")
    enrollment = stays["EnrollmentID"].iloc[stay].reset_index(drop=True)
    start_text = stays["EntryDate"].iloc[stay].reset_index(drop=True)
    start = stays["_EntryDate"].iloc[stay].reset_index(drop=True)
    end_text = lookup(enrollment, exits["ExitDate"])
    end = lookup(enrollment, exits["_ExitDate"])
    answered_text = frame["accepted_at"].iloc[at].reset_index(drop=True)
    answered = events["_ResultDate"].iloc[at].reset_index(drop=True)
    # an enrollment that began before the acceptance was recorded: service began no later than that
    late = (start < answered).to_numpy(dtype=bool, na_value=False)
    start_text = start_text.where(~late, answered_text)
    start = start.where(~late, answered)
    end_text = end_text.where(~(end < start).to_numpy(dtype=bool, na_value=False), start_text)
    frame.loc[at, "started_at"] = start_text.to_numpy()
    frame.loc[at, "completed_at"] = end_text.to_numpy()
    if late.any():
        rows = events["_row"].to_numpy()
        problems += at_rows("Event.csv", "ResultDate", "hmis_entry_before_result", np.sort(rows[at[late]]),
                            event_text["ResultDate"], "The client entered the receiving project (EntryDate) before "
                            "this acceptance was recorded: the service is counted as starting on the ResultDate.",
                            "warning")

