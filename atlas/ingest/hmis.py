"""Reading a HUD HMIS CSV export (FY2024) into the contract's tables.

Every US continuum of care keeps its records in an HMIS, and every HMIS exports the HUD "HMIS CSV"
format: one zip (or folder) of CSV files with fixed names and columns. This module reads that export
as it comes and maps it onto the import contract, so it loads through the same validation and
all-or-nothing import as contract files:

    Organization -> agencies, Project -> programs, Inventory -> capacity,
    Event (Coordinated Entry referrals to a project of the export) -> referrals, Exit -> outcomes.

Only the files in `READ` are opened, and of each only the columns in `COLUMNS`. **`Client.csv` is
never read** (nor unpacked from a zip): it holds names, SSNs and dates of birth. `PersonalID` travels
as a contract `client_id`, which the importer replaces with its keyed pseudonym before anything is
written. Identifiers are kept (OrganizationID is the agency_id, ProjectID the program_id, EventID the
referral_id), so every figure traces back to the HMIS.

A row with `DateDeleted` set is a deleted record and is ignored as if absent; so is a row that belongs
to a deleted record (a deleted project's inventory, funders and enrollments, a deleted enrollment's
exits and events, ...). Both are counted in the `Report`.

What a coordinator can decide is in a mapping file: `atlas/ingest/hmis_mapping.toml` by default
(ProjectType -> service type, Destination -> outcome, sector per organization, location aliases,
funder names), overridable in part by a file of their own (`load_mapping`).

Problems of the export itself (a missing file or column, a date in another format, a code that is not
a whole number, a record naming one that is not in the export, a result before its event, an exit
before its entry, negative beds) are found here, all in one pass, with file, row, column and value;
the mapped tables are then validated as contract files, and `HmisExport.locate` moves any problem
found there back to the export's file and row.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from atlas.ingest import archive, importer, mappings, sources, validate
from atlas.ingest.problems import Problem, at_rows
from atlas.progress import NOWHERE, Part, Progress
from atlas.vocab import OUTCOMES, SECTORS, SERVICE_TYPES

DEFAULT_MAPPING = Path(__file__).resolve().parent / "hmis_mapping.toml"
SPEC = "HMIS CSV FY2024"

# The files read, in the order they are mapped; the files an export must hold.
READ = ("Export", "Organization", "Project", "ProjectCoC", "Funder", "Inventory", "Enrollment", "Exit", "Event")
REQUIRED_FILES = ("Organization", "Project", "Enrollment")
NEVER_READ = ("Client",)  # personal data: never opened, never unpacked
BESIDE = ("partnerships", "needs")  # contract files that may travel with the export


@dataclass(frozen=True)
class HmisColumn:
    """A column of the HMIS CSV format that the import reads."""

    name: str
    type: str  # "id", "text", "int" (a code or count), "date" (YYYY-MM-DD), "timestamp" (YYYY-MM-DD HH:MM:SS)
    filled: bool = False  # the HUD specification does not let it be empty
    required: bool = True  # the column must be in the file's header (False: older exports may lack it)


def _columns(*spec: tuple) -> tuple[HmisColumn, ...]:
    return tuple(HmisColumn(*s) for s in spec)


_DELETED = ("DateDeleted", "timestamp")
COLUMNS: dict[str, tuple[HmisColumn, ...]] = {
    "Export": _columns(("ExportID", "id", True), ("ExportStartDate", "date", True),
                       ("ExportEndDate", "date", True), ("CSVVersion", "text", False, False)),
    "Organization": _columns(("OrganizationID", "id", True), ("OrganizationName", "text", True),
                             ("VictimServiceProvider", "int", True), _DELETED),
    "Project": _columns(("ProjectID", "id", True), ("OrganizationID", "id", True), ("ProjectName", "text", True),
                        ("ProjectCommonName", "text", False, False), ("ProjectType", "int"), _DELETED),
    "ProjectCoC": _columns(("ProjectCoCID", "id", True), ("ProjectID", "id", True), ("CoCCode", "text", True),
                           ("City", "text"), _DELETED),
    "Funder": _columns(("FunderID", "id", True), ("ProjectID", "id", True), ("Funder", "int", True),
                       ("OtherFunder", "text", False, False), ("StartDate", "date", True), _DELETED),
    "Inventory": _columns(("InventoryID", "id", True), ("ProjectID", "id", True), ("BedInventory", "int", True),
                          ("InventoryStartDate", "date", True), ("InventoryEndDate", "date"), _DELETED),
    "Enrollment": _columns(("EnrollmentID", "id", True), ("PersonalID", "id", True), ("ProjectID", "id", True),
                           ("EntryDate", "date", True), _DELETED),
    "Exit": _columns(("ExitID", "id", True), ("EnrollmentID", "id", True), ("PersonalID", "id", True),
                     ("ExitDate", "date", True), ("Destination", "int", True), _DELETED),
    "Event": _columns(("EventID", "id", True), ("EnrollmentID", "id", True), ("PersonalID", "id", True),
                      ("EventDate", "date", True), ("Event", "int", True), ("LocationCrisisOrPHHousing", "text"),
                      ("ReferralResult", "int"), ("ResultDate", "date"), _DELETED),
}

# (file, column, parent file, parent column): each row names a record of the parent file; a row whose
# parent is deleted is deleted too. Listed parents first, so deletions cascade down in one pass.
PARENTS = (
    ("Project", "OrganizationID", "Organization", "OrganizationID"),
    ("ProjectCoC", "ProjectID", "Project", "ProjectID"),
    ("Funder", "ProjectID", "Project", "ProjectID"),
    ("Inventory", "ProjectID", "Project", "ProjectID"),
    ("Enrollment", "ProjectID", "Project", "ProjectID"),
    ("Exit", "EnrollmentID", "Enrollment", "EnrollmentID"),
    ("Event", "EnrollmentID", "Enrollment", "EnrollmentID"),
)
KEYS = {"Organization": "OrganizationID", "Project": "ProjectID", "Enrollment": "EnrollmentID"}

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

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIMESTAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
_INT = r"-?\d{1,9}"
_PARSE = {"date": validate._datetime_parser(_DATE), "timestamp": validate._datetime_parser(_TIMESTAMP)}
_FORMAT_HELP = {
    "date": ("date_format", "HMIS CSV dates are YYYY-MM-DD (e.g. 2024-03-31)"),
    "timestamp": ("timestamp_format", "HMIS CSV timestamps are YYYY-MM-DD HH:MM:SS (e.g. 2024-03-31 14:05:00)"),
    "int": ("int_format", "this column holds a HUD code or count, a whole number"),
}
_HEAD_BYTES = 1 << 16


class MappingError(ValueError):
    """The mapping file is not usable; the message says what to change."""


# ---- the mapping ------------------------------------------------------------------------------------

_OPEN_TABLES = {("agencies", "sectors"), ("programs", "service_types"), ("locations",), ("funders",)}


def load_mapping(path: str | Path | None = None) -> dict:
    """The default mapping, with the file at `path` (if any) over it (see hmis_mapping.toml)."""
    return mappings.load(DEFAULT_MAPPING, path, merge_mapping, check_mapping, MappingError)


def merge_mapping(base: dict, override: dict, _path: tuple = ()) -> dict:
    """`override` over `base`: tables of codes or names entry by entry, settings and lists whole."""
    merged = copy.deepcopy(base)
    for name, value in override.items():
        where = "[" + ".".join((*_path, name)) + "]" if _path or isinstance(value, dict) else name
        if _path in _OPEN_TABLES or _path + (name,) in _OPEN_TABLES and not isinstance(value, dict):
            merged[name] = value
            continue
        if name not in merged:
            known = ", ".join(k for k in merged) or "nothing"
            raise MappingError(f"unknown mapping setting {where}: {'[' + '.'.join(_path) + '] has ' if _path else 'the sections are '}{known}")
        if isinstance(merged[name], dict):
            if not isinstance(value, dict):
                raise MappingError(f"{where} must be a table of settings")
            merged[name] = merge_mapping(merged[name], value, (*_path, name))
        else:
            merged[name] = value
    return merged


def check_mapping(mapping: dict) -> None:
    """Raise MappingError unless every value the mapping gives is one the contract allows."""
    agencies, programs, outcomes = mapping["agencies"], mapping["programs"], mapping["outcomes"]
    if agencies["default_sector"] not in SECTORS:
        raise MappingError(f"default_sector {agencies['default_sector']!r} is not a sector: use one of "
                           f"{', '.join(SECTORS)}")
    for org, sector in agencies["sectors"].items():
        if sector not in SECTORS:
            raise MappingError(f"[agencies.sectors] {org} = {sector!r} is not a sector: use one of {', '.join(SECTORS)}")
    if not str(agencies["default_region"]).strip():
        raise MappingError("default_region must not be empty")
    if programs["default_service_type"] not in SERVICE_TYPES:
        raise MappingError(f"default_service_type {programs['default_service_type']!r} is not a service type: "
                           f"use one of {', '.join(SERVICE_TYPES)}")
    for code, service in programs["service_types"].items():
        if not re.fullmatch(r"\d+", str(code)):
            raise MappingError(f"[programs.service_types] {code!r} is not a ProjectType code (a whole number)")
        if service not in SERVICE_TYPES:
            raise MappingError(f"[programs.service_types] {code} = {service!r} is not a service type: use one of "
                               f"{', '.join(SERVICE_TYPES)}")
    if outcomes["default_outcome"] not in OUTCOMES:
        raise MappingError(f"default_outcome {outcomes['default_outcome']!r} is not an outcome: use one of "
                           f"{', '.join(OUTCOMES)}")
    for rule in outcomes["destinations"]:
        if not isinstance(rule, dict) or rule.get("outcome") not in OUTCOMES:
            raise MappingError(f"destination rule {rule!r}: outcome must be one of {', '.join(OUTCOMES)}")
        unknown = set(rule) - {"outcome", "codes", "ranges", "project_types", "except_project_types"}
        if unknown:
            raise MappingError(f"destination rule {rule!r}: unknown setting {', '.join(sorted(unknown))}")
        if not rule.get("codes") and not rule.get("ranges"):
            raise MappingError(f"destination rule {rule!r} needs codes or ranges")
        for pair in rule.get("ranges", []):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) for v in pair)):
                raise MappingError(f"destination rule {rule!r}: each range is [first, last]")
        for key in ("codes", "project_types", "except_project_types"):
            if not all(isinstance(v, int) for v in rule.get(key, [])):
                raise MappingError(f"destination rule {rule!r}: {key} are whole numbers")
    for alias, project in mapping["locations"].items():
        if not isinstance(project, str) or not project.strip():
            raise MappingError(f"[locations] {alias!r} must name a ProjectID as text")


# ---- finding and reading the files --------------------------------------------------------------------

_BY_LOWER = {f"{name.lower()}.csv": f"{name}.csv" for name in READ}
_BESIDE = {f"{table}{ext}": f"{table}{ext}" for table in BESIDE for ext in sources.READERS}


def wanted(base_name: str) -> str | None:
    """The canonical name of an export file the import reads (`event.CSV` -> `Event.csv`), else None."""
    lower = base_name.strip().lower()
    return _BY_LOWER.get(lower) or _BESIDE.get(lower)


def is_hmis(names) -> bool:
    """Whether files with these names look like an HMIS CSV export (Organization, Project or Enrollment)."""
    found = {Path(n).name.lower() for n in names}
    return bool(found & {"project.csv", "enrollment.csv", "organization.csv", "export.csv"}) and \
        bool(found & {"project.csv", "enrollment.csv"})


@dataclass
class _File:
    name: str  # e.g. "Event.csv"
    frame: pd.DataFrame  # the columns read, as text (missing: null); row i is file row i + 2
    typed: dict[str, pd.Series] = field(default_factory=dict)  # parsed int / date columns
    deleted_own: np.ndarray | None = None  # DateDeleted set
    deleted_parent: np.ndarray | None = None  # belongs to a deleted record (and not deleted itself)
    orphan: np.ndarray | None = None  # names a record that is not in the export (an error, reported once)

    @property
    def live(self) -> np.ndarray:
        return ~(self.deleted_own | self.deleted_parent | self.orphan)


def _read(path: Path, hmis_name: str, problems: list[Problem]) -> _File | None:
    """One HMIS CSV file: its columns that the import reads, as text; None when it cannot be read."""
    name = f"{hmis_name}.csv"
    spec = COLUMNS[hmis_name]
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    if _binary(head):
        problems.append(Problem(name, None, None, None, "not_csv",
                                f"{name} is not a CSV text file: the HMIS CSV format is comma-separated text. "
                                "Export it again from the HMIS."))
        return None
    text = head.decode("utf-8", errors="replace")
    header = next(csv.reader(io.StringIO(text)), [])
    names = [h.strip() for h in header]
    by_lower = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
    present = {c.name: by_lower[c.name.lower()] for c in spec if c.name.lower() in by_lower}
    if not present:
        problems.append(Problem(
            name, 1, None, ",".join(names)[:80] or None, "not_hmis",
            f"{name} is not in the {SPEC} format: its header has none of the columns HUD names for this file "
            f"({', '.join(c.name for c in spec[:4])} …). Export the file again from the HMIS as "
            "'HMIS CSV', or check that it is the right file."))
        return None
    missing = [c for c in spec if c.required and c.name not in present]
    for column in missing:
        problems.append(Problem(name, 1, column.name, None, "missing_column",
                                f"{name} has no {column.name} column, which the {SPEC} format has and the import "
                                "reads. Export the file again from the HMIS as 'HMIS CSV' (FY2024)."))
    if missing:
        return None
    labels = [f"c{i}" for i in range(len(names))]
    bad = sources.BadRows()

    def parse(encoding: str) -> pa.Table:
        nonlocal bad

        def read(threads: bool) -> pa.Table:
            return pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(column_names=labels, skip_rows=1, use_threads=threads,
                                               encoding=encoding, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=bad),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[labels[i] for i in present.values()],
                    column_types={labels[i]: pa.large_string() for i in present.values()},
                    strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True))

        table = read(True)
        if bad.count:  # only a single-threaded parse knows the number of each row it rejects
            bad = sources.BadRows()
            table = read(False)
        return table

    try:
        try:
            table = parse("utf8")
        except pa.ArrowInvalid as error:
            if "UTF8" not in str(error).upper():
                raise
            bad = sources.BadRows()
            table = parse("cp1252")
            problems.append(Problem(name, None, None, None, "encoding",
                                    f"{name} is not UTF-8 text, as HMIS CSV files are: it was read as Windows-1252. "
                                    "If names look wrong on the pages, export again in UTF-8.", "warning"))
    except pa.ArrowInvalid as error:
        problems.append(Problem(name, None, None, None, "not_csv",
                                f"{name} cannot be read as CSV ({str(error).splitlines()[0][:80]}): export it again "
                                "from the HMIS."))
        return None
    if bad.count:
        problems += bad.problems(name, f"This row does not have the {len(names)} values of the header: the export is "
                                       "cut or damaged here. Export it again.")
        return None
    columns = {}
    for column in spec:
        if column.name in present:
            values = table.column(labels[present[column.name]])
            trimmed = pc.utf8_trim_whitespace(values)
            columns[column.name] = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.large_string()), trimmed)
        else:
            columns[column.name] = pa.nulls(table.num_rows, pa.large_string())
    frame = pa.table(columns).to_pandas()
    filled = frame.notna().any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    return _File(name, frame.iloc[:last].reset_index(drop=True) if last < len(frame) else frame)


def _binary(head: bytes) -> bool:
    return b"\0" in head or any(head.startswith(m) for m in (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"PAR1"))


# ---- checking the export -------------------------------------------------------------------------------

def _parse_cells(f: _File, problems: list[Problem]) -> None:
    """Check every read cell of the rows that are not deleted; keep ints and dates parsed in `f.typed`."""
    spec = COLUMNS[f.name[:-4]]
    deleted = f.frame["DateDeleted"].notna().to_numpy() if "DateDeleted" in f.frame else np.zeros(len(f.frame), bool)
    f.deleted_own = deleted
    f.deleted_parent = np.zeros(len(f.frame), bool)
    f.orphan = np.zeros(len(f.frame), bool)
    for column in spec:
        text = f.frame[column.name]
        check = ~deleted if column.name != "DateDeleted" else np.ones(len(text), bool)
        empty = text.isna().to_numpy()
        if column.filled:
            problems += at_rows(f.name, column.name, "required", np.flatnonzero(empty & check), None,
                                f"{column.name} is empty, which the {SPEC} format does not allow: fill it in "
                                "in the HMIS and export again.")
        if column.type == "int":
            ok = text.str.fullmatch(_INT).fillna(False).to_numpy(dtype=bool)
            typed = pd.to_numeric(text.where(ok), errors="coerce").astype("Int64")
        elif column.type in _PARSE:
            typed, bad_mask = _PARSE[column.type](text, None)
            ok = ~bad_mask | empty
        else:
            continue
        bad = ~empty & ~ok & check
        rule, help_text = _FORMAT_HELP[column.type]
        problems += at_rows(f.name, column.name, rule, np.flatnonzero(bad), text,
                            f"Not in the {SPEC} format: {help_text}.")
        f.typed[column.name] = typed


def _cascade(files: dict[str, _File], problems: list[Problem]) -> None:
    """Mark rows of deleted parents as deleted; report rows naming a record not in the export at all."""
    for child, column, parent, key in PARENTS:
        if child not in files or parent not in files:
            continue
        f, p = files[child], files[parent]
        ids = f.frame[column]
        keys = p.frame[key]
        own_live = ~f.deleted_own
        named = ids.notna().to_numpy()
        absent = named & own_live & ~_isin(ids, keys)
        problems += at_rows(f.name, column, "reference", np.flatnonzero(absent), ids,
                            f"No record of {p.name} has this {key}: the export is incomplete. Export again with "
                            f"{p.name} (the record may have been left out of the export's period or project filter).")
        gone = named & own_live & _isin(ids, keys[~p.live]) & ~_isin(ids, keys[p.live])
        f.deleted_parent = f.deleted_parent | gone
        f.orphan = f.orphan | absent | (named & own_live & _isin(ids, keys[p.orphan]) & ~gone)


def _arrow(values) -> pa.Array | pa.ChunkedArray:
    """Text values (a Series, an Index or a list) as Arrow large strings, without a trip through Python."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_null(array.type)):
        if len(array):
            raise TypeError(f"text expected, not {array.type}")
        array = pa.array([], pa.large_string())  # an empty index of no type
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def _isin(values: pd.Series, allowed) -> np.ndarray:
    """Whether each text value is one of `allowed` (missing: False), computed in Arrow: pandas' isin on
    Arrow strings converts every value to a Python string first (seconds per million rows)."""
    value_set = pc.drop_null(pc.unique(_arrow(allowed)))
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    found = pc.is_in(_arrow(values), value_set=value_set)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False).astype(bool)


def _is_before(earlier: pd.Series, later: pd.Series) -> np.ndarray:
    return (later < earlier).to_numpy(dtype=bool, na_value=False)


# ---- the export, mapped --------------------------------------------------------------------------------

@dataclass
class Report:
    """What a coordinator needs to act on: per file, per kind of event, what was not placed, the mapping."""

    files: pd.DataFrame  # file, rows read, deleted, of a deleted record, imported, becomes
    events: pd.DataFrame  # kind, events
    event_codes: pd.DataFrame  # Event code, meaning, events, treated as
    unmatched_locations: pd.DataFrame  # location (as written most often), events, why
    project_types: pd.DataFrame  # ProjectType, meaning, service type, projects
    destinations: pd.DataFrame  # Destination, project types, outcome, exits
    sectors: pd.DataFrame  # sector, agencies, from
    aliases: pd.DataFrame  # alias, ProjectID, events
    ignored: list[str]  # entries of the export that were not read
    period: str  # the export period, as read
    victim_service: int  # organizations flagged VictimServiceProvider = 1

    def text(self) -> str:
        """The report as plain text for the command line."""
        def table(frame: pd.DataFrame) -> str:
            if not len(frame):
                return "  (none)"
            shown = frame.copy()
            for c in shown.columns:
                if pd.api.types.is_integer_dtype(shown[c]):
                    shown[c] = shown[c].map(lambda v: f"{v:,}")
            return "\n".join("  " + line for line in shown.to_string(index=False).splitlines())

        parts = [f"HMIS export ({SPEC}), period {self.period}", "", "Files:", table(self.files)]
        if self.ignored:
            parts += ["", "Not read: " + ", ".join(self.ignored)]
        parts += ["", "Events:", table(self.events), "", "Events by code:", table(self.event_codes)]
        if len(self.unmatched_locations):
            parts += ["", "Locations that name no project of the export (most frequent first): fix them in the "
                          "HMIS, or add them to [locations] in a mapping file:", table(self.unmatched_locations)]
        parts += ["", "Mapping applied:", "Project types:", table(self.project_types), "Destinations:",
                  table(self.destinations), "Sectors:", table(self.sectors)]
        if len(self.aliases):
            parts += ["Location aliases used:", table(self.aliases)]
        parts.append(f"\nVictim-service organizations (never named outside director views): {self.victim_service:,}")
        return "\n".join(parts)


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


def read_export(path: str | Path, mapping: dict | None = None, *, beside: Path | None = None) -> HmisExport:
    """Read the HMIS export at `path` (its zip or its folder), check it and map it to contract tables.

    `beside` (optional) is a folder whose contract files (partnerships, needs) load with the export,
    for files that travel next to its zip rather than in it.

    Raises archive.ArchiveRefused for a zip that must not be read, NotADirectoryError for a path that is
    neither a folder nor a zip.
    """
    mapping = mapping or load_mapping()
    problems: list[Problem] = []
    files: dict[str, _File] = {}
    contract_files: dict[str, sources.RawTable] = {}
    with archive.open_export(path, wanted) as found:
        problems += found.problems
        ignored = sorted(found.ignored, key=str.lower)
        for entry in ignored:
            base = entry.replace("\\", "/").rpartition("/")[2]
            if Path(base).stem.lower() in {n.lower() for n in NEVER_READ}:
                problems.append(Problem(base, None, None, None, "ignored_file",
                                        f"Never read: {base} holds clients' names, dates of birth and other personal "
                                        "data, which the dashboard must not hold. It was not opened.", "warning"))
            else:
                problems.append(Problem(base, None, None, None, "ignored_file",
                                        "Not read: the import does not use this file of the export.", "warning"))
        extra = {}
        for entry in sorted(beside.iterdir()) if beside is not None else ():
            canonical = wanted(entry.name)
            if entry.is_file() and canonical is not None and Path(canonical).stem in BESIDE \
                    and canonical not in found.files:
                extra[canonical] = entry
        for canonical, entry in {**found.files, **extra}.items():
            stem = Path(canonical).stem
            if stem in READ:
                f = _read(entry, stem, problems)
                if f is not None:
                    files[stem] = f
            else:
                raw, found_problems = sources.read_file(entry, stem.lower())
                problems += found_problems
                if raw is not None:
                    contract_files[raw.table] = raw
        read_names = {Path(c).stem: str(p) for c, p in found.files.items()}
        checksum = importer.checksum_files([Path(path)] if Path(path).is_file()
                                           else [found.files[c] for c in sorted(found.files)])
    for name in REQUIRED_FILES:
        if name not in files and not any(p.file == f"{name}.csv" for p in problems):
            problems.append(Problem(f"{name}.csv", None, None, None, "missing_file",
                                    f"An HMIS export holds {name}.csv, and the import needs it: this export has none. "
                                    "Export again with every file (the HMIS CSV export, not a single report)."))
    for f in files.values():
        _parse_cells(f, problems)
    _cascade(files, problems)
    export = _map(files, contract_files, problems, mapping, ignored)
    export.files = read_names
    export.checksum = checksum
    return export


def _map(files: dict[str, _File], beside: dict[str, sources.RawTable], problems: list[Problem], mapping: dict,
         ignored: list[str]) -> HmisExport:
    tables: dict[str, sources.RawTable] = dict(beside)
    rows: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}

    def live(name: str) -> pd.DataFrame:
        f = files.get(name)
        if f is None:  # an absent file: no rows, but every column, so what it feeds is simply empty
            spec = COLUMNS[name]
            frame = pd.DataFrame({c.name: pd.Series(dtype="str") for c in spec})
            for c in spec:
                if c.type == "int":
                    frame[f"_{c.name}"] = pd.Series(dtype="Int64")
                elif c.type in _PARSE:
                    frame[f"_{c.name}"] = pd.Series(dtype="datetime64[us]")
            return frame.assign(_row=pd.Series(dtype="int64"))
        frame = f.frame.assign(**{f"_{c}": s for c, s in f.typed.items()}, _row=np.arange(len(f.frame)))
        return frame[f.live]

    orgs, projects, coc, funders = live("Organization"), live("Project"), live("ProjectCoC"), live("Funder")
    inventory, enrollments, exits, events = live("Inventory"), live("Enrollment"), live("Exit"), live("Event")
    export = live("Export")

    def put(table: str, frame: pd.DataFrame, source: str, row: np.ndarray, column_map: dict[str, str]) -> None:
        tables[table] = sources.RawTable(table, f"{source} → {table}", frame.reset_index(drop=True))
        rows[table] = np.asarray(row)
        origin[table] = source
        columns[table] = column_map

    # -- the export period
    period_start = period_end = None
    if len(export) and export["_ExportStartDate"].notna().iloc[0] and export["_ExportEndDate"].notna().iloc[0]:
        period_start, period_end = export["_ExportStartDate"].iloc[0], export["_ExportEndDate"].iloc[0]
        if period_end < period_start:
            problems.append(Problem("Export.csv", 2, "ExportEndDate", str(export["ExportEndDate"].iloc[0]), "order",
                                    "The export period ends before it starts: export again."))
            period_start = period_end = None
    elif "Export" not in files:
        dates = [s.dropna() for s in (enrollments.get("_EntryDate"), exits.get("_ExitDate"), events.get("_EventDate"))
                 if s is not None]
        dates = pd.concat(dates) if dates else pd.Series(dtype="datetime64[us]")
        if len(dates):
            period_start, period_end = dates.min(), dates.max()
    period = (f"{period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}" + ("" if "Export" in files else
                                                                      " (no Export.csv: the span of the dates read)")
              if period_start is not None else "unknown")

    # -- organizations -> agencies
    project_org = projects.set_index("ProjectID")["OrganizationID"] if len(projects) else pd.Series(dtype="str")
    victim = 0
    if len(orgs):
        region = _regions(orgs["OrganizationID"], projects, coc, mapping["agencies"]["default_region"])
        named = {str(k): v for k, v in mapping["agencies"]["sectors"].items()}
        sector = orgs["OrganizationID"].map(named).astype("object").fillna(mapping["agencies"]["default_sector"])
        flagged = orgs["_VictimServiceProvider"].eq(1).fillna(False).to_numpy(dtype=bool)
        victim = int(flagged.sum())
        frame = pd.DataFrame({
            "agency_id": orgs["OrganizationID"].to_numpy(), "name": orgs["OrganizationName"].to_numpy(),
            "sector": sector.to_numpy(), "region": region.to_numpy(),
            "is_victim_service": np.where(flagged, "true", "false")})
        put("agencies", frame, "Organization.csv", orgs["_row"],
            {"agency_id": "OrganizationID", "name": "OrganizationName", "is_victim_service": "VictimServiceProvider"})
        sectors = pd.DataFrame({"sector": sector.to_numpy(),
                                "from": np.where(orgs["OrganizationID"].isin(list(named)), "the mapping's [agencies.sectors]",
                                                 "default_sector")})
        sectors = sectors.value_counts().rename("agencies").reset_index().sort_values(["from", "sector"])
    else:
        sectors = pd.DataFrame(columns=["sector", "from", "agencies"])

    # -- projects -> programs
    service_types = {int(k): v for k, v in mapping["programs"]["service_types"].items()}
    project_service = pd.Series(dtype="str")
    if len(projects):
        types = projects["_ProjectType"]
        service = types.map(service_types).astype("object").fillna(mapping["programs"]["default_service_type"])
        project_service = pd.Series(service.to_numpy(), index=projects["ProjectID"].to_numpy())
        funder = _funders(projects["ProjectID"], funders, mapping["funders"])
        frame = pd.DataFrame({"program_id": projects["ProjectID"].to_numpy(),
                              "agency_id": projects["OrganizationID"].to_numpy(),
                              "name": projects["ProjectName"].to_numpy(), "service_type": service.to_numpy(),
                              "funder": funder.to_numpy()})
        put("programs", frame, "Project.csv", projects["_row"],
            {"program_id": "ProjectID", "agency_id": "OrganizationID", "name": "ProjectName",
             "service_type": "ProjectType", "funder": "Funder (Funder.csv)"})
        applied = pd.DataFrame({"ProjectType": types.astype("object").to_numpy(), "service type": service.to_numpy()})
        project_types = (applied.value_counts(dropna=False).rename("projects").reset_index()
                         .sort_values("ProjectType", key=lambda s: s.map(lambda v: -1 if pd.isna(v) else v)))
        project_types.insert(1, "meaning", project_types["ProjectType"].map(
            lambda v: "(empty)" if pd.isna(v) else PROJECT_TYPES.get(int(v), "not a HUD project type")))
        project_types["ProjectType"] = project_types["ProjectType"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    else:
        project_types = pd.DataFrame(columns=["ProjectType", "meaning", "service type", "projects"])

    # -- inventory -> capacity
    capacity_rows = 0
    if len(inventory):
        negative = (inventory["_BedInventory"] < 0).to_numpy(dtype=bool, na_value=False)
        problems += at_rows("Inventory.csv", "BedInventory", "int_range", inventory["_row"].to_numpy()[negative],
                            files["Inventory"].frame["BedInventory"],
                            "Beds cannot be fewer than 0: correct the inventory in the HMIS.")
        bad_order = _is_before(inventory["_InventoryStartDate"], inventory["_InventoryEndDate"])
        problems += at_rows("Inventory.csv", "InventoryEndDate", "order", inventory["_row"].to_numpy()[bad_order],
                            files["Inventory"].frame["InventoryEndDate"],
                            "The inventory ends before it starts (InventoryStartDate): correct it in the HMIS.")
        if period_start is not None:
            frame, used = _capacity(inventory[~negative], period_start, period_end)
            capacity_rows = used
            put("capacity", frame[["program_id", "month", "slots"]], "Inventory.csv", frame["_row"].to_numpy(),
                {"program_id": "ProjectID", "month": "InventoryStartDate", "slots": "BedInventory"})

    # -- enrollments, with their project and exit
    enrollment_project = enrollments.set_index("EnrollmentID")["ProjectID"] if len(enrollments) else pd.Series(dtype="str")
    first_exit = pd.DataFrame(columns=["EnrollmentID", "ExitDate", "_ExitDate"])
    if len(exits):
        entry = _lookup(exits["EnrollmentID"], enrollments.set_index("EnrollmentID")["_EntryDate"])
        early = _is_before(entry, exits["_ExitDate"])
        problems += at_rows("Exit.csv", "ExitDate", "order", exits["_row"].to_numpy()[early],
                            files["Exit"].frame["ExitDate"],
                            "The exit is before the enrollment's EntryDate (Enrollment.csv): correct one of the "
                            "two dates in the HMIS.")
        first_exit = (exits.sort_values("_ExitDate", kind="stable").drop_duplicates("EnrollmentID")
                      [["EnrollmentID", "ExitDate", "_ExitDate"]])

    # -- exits -> outcomes
    destinations = pd.DataFrame(columns=["Destination", "project types", "outcome", "exits"])
    outcome_rows = 0
    if len(exits) and len(projects):
        project = _lookup(exits["EnrollmentID"], enrollment_project)
        ptype = _lookup(project, projects.set_index("ProjectID")["_ProjectType"])
        skip = ptype.isin(mapping["outcomes"]["skip_project_types"]).to_numpy(dtype=bool) | project.isna().to_numpy()
        kept = exits[~skip]
        kept_type = ptype[~skip]
        outcome = _outcomes(kept["_Destination"], kept_type, mapping["outcomes"])
        client = _lookup(kept["EnrollmentID"], enrollments.set_index("EnrollmentID")["PersonalID"])
        frame = pd.DataFrame({"client_id": client.fillna(kept["PersonalID"]).to_numpy(),
                              "agency_id": _lookup(project[~skip], project_org).to_numpy(),
                              "program_id": project[~skip].to_numpy(),
                              "outcome": outcome.to_numpy(), "achieved_on": kept["ExitDate"].to_numpy()})
        outcome_rows = len(frame)
        put("outcomes", frame, "Exit.csv", kept["_row"],
            {"client_id": "PersonalID", "agency_id": "EnrollmentID", "program_id": "EnrollmentID",
             "outcome": "Destination", "achieved_on": "ExitDate"})
        street = kept_type.eq(4).fillna(False).to_numpy(dtype=bool)
        applied = pd.DataFrame({"Destination": kept["_Destination"].astype("object").to_numpy(),
                                "project types": np.where(street, "Street Outreach", "other"),
                                "outcome": outcome.to_numpy()})
        destinations = (applied.value_counts(dropna=False).rename("exits").reset_index()
                        .sort_values(["Destination", "project types"]))
        destinations["Destination"] = destinations["Destination"].map(lambda v: "" if pd.isna(v) else str(int(v)))

    # -- events -> referrals
    kind_counts = np.zeros(len(EVENT_KINDS), dtype="int64")  # per EVENT_KINDS
    unmatched = pd.DataFrame(columns=["location", "events", "why"])
    aliases_used = pd.DataFrame(columns=["alias", "ProjectID", "events"])
    event_codes = pd.DataFrame(columns=["Event", "meaning", "events", "treated as"])
    if len(events):
        early = _is_before(events["_EventDate"], events["_ResultDate"])
        problems += at_rows("Event.csv", "ResultDate", "order", events["_row"].to_numpy()[early],
                            files["Event"].frame["ResultDate"], "The result is dated before the event (EventDate): "
                            "correct one of the two dates in the HMIS.")
        code = events["_Event"]
        referral = code.isin(REFERRAL_EVENTS).to_numpy(dtype=bool)
        target, how = _locate_projects(events["LocationCrisisOrPHHousing"], projects, mapping["locations"])
        from_project = _lookup(events["EnrollmentID"], enrollment_project)
        placed = referral & target.notna().to_numpy() & from_project.notna().to_numpy()
        kinds = np.where(~referral, 1, np.where(placed, 0, 2)).astype("int8")  # positions in EVENT_KINDS
        kind_counts = np.bincount(kinds, minlength=len(EVENT_KINDS))
        lost = referral & ~placed
        if lost.any():
            unmatched = _unmatched(events["LocationCrisisOrPHHousing"][lost], projects)
        alias_rows = placed & (how == 2)
        if alias_rows.any():
            aliases_used = (pd.DataFrame({"alias": events["LocationCrisisOrPHHousing"][alias_rows].to_numpy(),
                                          "ProjectID": target[alias_rows].to_numpy()})
                            .value_counts().rename("events").reset_index())
        by_code = pd.DataFrame({"Event": code.fillna(-1).to_numpy(dtype="int64"), "kind": kinds})
        event_codes = by_code.groupby(["Event", "kind"]).size().rename("events").reset_index()
        event_codes.insert(1, "meaning", event_codes["Event"].map(lambda v: EVENTS.get(int(v), "not a HUD event code")))
        event_codes["treated as"] = event_codes.pop("kind").map(
            dict(enumerate(("referral, imported", "not a referral between agencies", "referral, location not matched"))))
        event_codes = event_codes[["Event", "meaning", "events", "treated as"]]
        event_codes["Event"] = event_codes["Event"].map(lambda v: str(int(v)))
        frame, row = _referrals(events[placed], target[placed], from_project[placed], project_org, project_service,
                                enrollments, first_exit, problems, files["Event"].frame)
        put("referrals", frame, "Event.csv", row,
            {"referral_id": "EventID", "client_id": "PersonalID", "from_agency_id": "EnrollmentID",
             "to_agency_id": "LocationCrisisOrPHHousing", "to_program_id": "LocationCrisisOrPHHousing",
             "service_type": "LocationCrisisOrPHHousing", "referred_at": "EventDate", "accepted_at": "ResultDate",
             "declined_at": "ResultDate", "decline_reason": "ReferralResult",
             "started_at": "EntryDate (Enrollment.csv)", "completed_at": "ExitDate (Exit.csv)"})
    elif "Event" not in files:
        problems.append(Problem("Event.csv", None, None, None, "hmis_no_events",
                                "The export has no Event.csv, so no referrals: the dashboard will show agencies, "
                                "programs, capacity and outcomes only. Coordinated Entry events are where the "
                                "HMIS records referrals between agencies.", "warning"))

    # -- the report
    imported = {"Organization.csv": len(tables["agencies"].frame) if "agencies" in origin else 0,
                "Project.csv": len(tables["programs"].frame) if "programs" in origin else 0,
                "Inventory.csv": capacity_rows, "Exit.csv": outcome_rows,
                "Event.csv": int(kind_counts[0])}
    becomes = {"Export.csv": "the export period (capacity months)", "Organization.csv": "agencies",
               "Project.csv": "programs", "ProjectCoC.csv": "agencies' regions", "Funder.csv": "programs' funders",
               "Inventory.csv": "capacity (beds per project and month)",
               "Enrollment.csv": "who referred (the event's enrollment) and when service started",
               "Exit.csv": "outcomes (exits from Coordinated Entry are not outcomes)",
               "Event.csv": "referrals"}
    file_rows = []
    for name in READ:
        f = files.get(name)
        if f is None:
            file_rows.append({"file": f"{name}.csv", "rows read": 0, "deleted": 0, "of a deleted record": 0,
                              "imported": 0, "becomes": "(not in the export)" if name != "Export" else "(not in the export: period from the dates read)"})
            continue
        live_rows = int(f.live.sum())
        file_rows.append({"file": f.name, "rows read": len(f.frame), "deleted": int(f.deleted_own.sum()),
                          "of a deleted record": int(f.deleted_parent.sum()),
                          "imported": imported.get(f.name, live_rows), "becomes": becomes[f.name]})
    for table, raw in beside.items():
        file_rows.append({"file": raw.file, "rows read": len(raw.frame), "deleted": 0, "of a deleted record": 0,
                          "imported": len(raw.frame), "becomes": table})
    counts = dict(zip(EVENT_KINDS, kind_counts.tolist()))
    report = Report(
        files=pd.DataFrame(file_rows),
        events=pd.DataFrame({"kind": [EVENT_KIND_TITLES[k] for k in EVENT_KINDS],
                             "events": [counts.get(k, 0) for k in EVENT_KINDS]}),
        event_codes=event_codes.reset_index(drop=True), unmatched_locations=unmatched.reset_index(drop=True),
        project_types=project_types.reset_index(drop=True), destinations=destinations.reset_index(drop=True),
        sectors=sectors.reset_index(drop=True), aliases=aliases_used.reset_index(drop=True),
        ignored=[entry.replace("\\", "/").rpartition("/")[2] for entry in ignored], period=period,
        victim_service=victim)
    if counts.get("location_not_matched"):
        problems.append(Problem("Event.csv", None, "LocationCrisisOrPHHousing", None, "hmis_location",
                                f"{counts['location_not_matched']:,} referral events name a location that is no project "
                                "of the export, so they are not on the network: the report lists the locations. Fix "
                                "them in the HMIS, or add them to [locations] in a mapping file.", "warning",
                                count=counts["location_not_matched"]))
    return HmisExport(tables, problems, report, {}, "", rows, origin, columns)


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """The value for each key, from `values` indexed by id (the first of a repeated id); missing where absent.
    Matched in Arrow (see `_isin`)."""
    values = values[~values.index.duplicated()]
    value_set = _arrow(values.index)
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    position = pc.fill_null(pc.index_in(_arrow(keys), value_set=value_set), -1).to_numpy(zero_copy_only=False)
    return pd.Series(values.array.take(position, allow_fill=True), index=keys.index)


def _normal(text: pd.Series) -> pd.Series:
    """Names compared as people mean them: case, surrounding spaces and runs of spaces ignored."""
    folded = pc.utf8_lower(pc.replace_substring_regex(pc.utf8_trim_whitespace(_arrow(text)), r"\s+", " "))
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
    by_name = _lookup(normal, unique)
    live_ids = set(projects["ProjectID"]) if len(projects) else set()
    alias_map = {k: v for k, v in zip(_normal(pd.Series(list(aliases), dtype="str")), aliases.values())
                 if v in live_ids}
    by_alias = (_lookup(normal, pd.Series(list(alias_map.values()), index=pd.Index(list(alias_map), dtype="str"),
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
    rows = coc.assign(org=_lookup(coc["ProjectID"], projects.set_index("ProjectID")["OrganizationID"]))

    def mode(column: str) -> pd.Series:
        have = rows.dropna(subset=["org", column])
        if not len(have):
            return pd.Series(dtype="str")
        counts = have.groupby(["org", column]).size().rename("n").reset_index()
        counts = counts.sort_values(["org", "n", column], ascending=[True, False, True], kind="stable")
        return counts.drop_duplicates("org").set_index("org")[column]

    return (org_ids.map(mode("City")).astype("object").fillna(org_ids.map(mode("CoCCode")).astype("object"))
            .fillna(default))


def _funders(project_ids: pd.Series, funders: pd.DataFrame, labels: dict) -> pd.Series:
    """Each project's funder: the label of its Funder code (OtherFunder for 46), from its latest-starting grant."""
    if not len(funders):
        return pd.Series([None] * len(project_ids), index=project_ids.index, dtype="object")
    latest = funders.sort_values(["ProjectID", "_StartDate", "FunderID"], kind="stable").drop_duplicates("ProjectID", keep="last")
    code = latest["_Funder"]
    label = code.map(lambda c: labels.get(str(int(c)), f"Funder code {int(c)}") if pd.notna(c) else None)
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


def _outcomes(destination: pd.Series, project_type: pd.Series, rules: dict) -> pd.Series:
    """The outcome of each exit: the first destination rule that matches (see hmis_mapping.toml)."""
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
    return out


def _referrals(events: pd.DataFrame, target: pd.Series, from_project: pd.Series, project_org: pd.Series,
               project_service: pd.Series, enrollments: pd.DataFrame, first_exit: pd.DataFrame,
               problems: list[Problem], event_text: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Placed referral events as contract referrals (text), with the Event.csv row of each."""
    events = events.reset_index(drop=True)
    target, from_project = target.reset_index(drop=True), from_project.reset_index(drop=True)
    result = events["_ReferralResult"]
    rows = events["_row"].to_numpy()
    known = result.isin(list(RESULTS)).fillna(False).to_numpy(dtype=bool)
    unknown_code = result.notna().to_numpy() & ~known
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
        "from_agency_id": _lookup(from_project, project_org), "to_agency_id": _lookup(target, project_org),
        "service_type": _lookup(target, project_service), "referred_at": events["EventDate"],
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
    end_text = _lookup(enrollment, exits["ExitDate"])
    end = _lookup(enrollment, exits["_ExitDate"])
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


class HmisRejected(importer.ImportRejected):
    """The export broke a rule; nothing was written. Carries the report of what was read."""

    def __init__(self, problems: list[Problem], report: Report | None):
        super().__init__(problems)
        self.report = report


def import_export(path: str | Path, database: str | Path, key: bytes, *, mapping: dict | None = None,
                  mode: str = "replace", on_conflict: str = "refuse",
                  progress: Progress | Part = NOWHERE) -> tuple[importer.ImportResult, Report]:
    """Read, check, map and (only if all is valid) load an HMIS export: `importer` modes.

    Raises HmisRejected with every problem, located in the export's files, and the report.
    """
    progress.report(0.0, f"Reading and mapping the HMIS export {Path(path).name}")
    export = read_export(path, mapping)
    try:  # the files an export needs are checked by read_export, in the export's own names
        result = importer.import_tables(export.tables, export.problems, database, key, mode=mode,
                                        on_conflict=on_conflict, source=f"HMIS export {Path(path).name}",
                                        checksum=export.checksum, progress=progress.part(0.3, 1.0))
    except importer.ImportRejected as rejected:
        raise HmisRejected(export.locate(rejected.problems), export.report) from None
    return result, export.report
