"""Reading a HUD HMIS CSV export (FY2024) into the contract's tables.

Every US continuum of care keeps its records in an HMIS, and every HMIS exports the HUD "HMIS CSV"
format: one zip (or folder) of CSV files with fixed names and columns. The HMIS format of the import
side reads that export as it comes (`files`) and maps it onto the import contract (`tables`),
so it loads through the same validation and all-or-nothing import as contract files; this module ties
the two to the mapping file and the import:

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

Only a structural fault refuses the export (a required file or column missing, a file that is not the
HMIS CSV format, a row cut short, a hostile archive). A fault in a row costs that row, or is read as a
documented value (`faults.FAULTS`), and is reported with every affected row; more than 5 % of one
file's rows left out stops the import unless the person accepts it (`accept_dropped`).

What a coordinator can decide is in a mapping file: `atlas/ingest/formats/hmis/hmis_mapping.toml` by default
(ProjectType -> service type, Destination -> outcome, sector per organization, location aliases,
funder names), overridable in part by a file of their own (`load_mapping`).

Problems of the export are found as it is read and mapped, all in one pass, with file, row, column
and value; the mapped tables are then validated as contract files, and `HmisExport.locate` moves any
problem found there back to the export's file and row.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from atlas.ingest import archive, importer, mappings, sources
from atlas.ingest.formats.hmis.faults import Faults, safeguard
from atlas.ingest.formats.hmis.files import (
    BESIDE,
    NEVER_READ,
    READ,
    REQUIRED_FILES,
    ExportFile,
    cascade,
    parse_cells,
    read_export_file,
    supersede,
    wanted,
)
from atlas.ingest.formats.hmis.report import Report
from atlas.ingest.formats.hmis.tables import HmisExport, map_export
from atlas.ingest.problems import Problem
from atlas.progress import NOWHERE, Part, Progress
from atlas.vocab import OUTCOMES, SECTORS, SERVICE_TYPES

DEFAULT_MAPPING = Path(__file__).resolve().parent / "hmis_mapping.toml"


class MappingError(ValueError):
    """The mapping file is not usable; the message says what to change."""


# ---- the mapping ------------------------------------------------------------------------------------

_OPEN_TABLES = {("agencies", "sectors"), ("agencies", "victim_service"), ("programs", "service_types"),
                ("locations",), ("funders",)}


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
    if not isinstance(agencies["unflagged_victim_service"], bool):
        raise MappingError("unflagged_victim_service must be true or false")
    for org, flag in agencies["victim_service"].items():
        if not isinstance(flag, bool):
            raise MappingError(f"[agencies.victim_service] {org} = {flag!r} must be true or false")
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



def read_export(path: str | Path, mapping: dict | None = None, *, beside: Path | None = None,
                accept_dropped: bool = False) -> HmisExport:
    """Read the HMIS export at `path` (its zip or its folder), check it and map it to contract tables.

    `beside` (optional) is a folder whose contract files (partnerships, needs) load with the export,
    for files that travel next to its zip rather than in it. With `accept_dropped`, more than
    faults.SAFEGUARD_PERCENT % of a file's rows left out is a warning rather than an error.

    Raises archive.ArchiveRefused for a zip that must not be read, NotADirectoryError for a path that is
    neither a folder nor a zip.
    """
    mapping = mapping or load_mapping()
    problems: list[Problem] = []
    files: dict[str, ExportFile] = {}
    contract_files: dict[str, sources.RawTable] = {}
    with archive.open_export(path, wanted) as found:
        problems += found.problems
        ignored = sorted(found.ignored, key=str.lower)
        problems += [_ignored(entry) for entry in ignored]
        extra = {}
        for entry in sorted(beside.iterdir()) if beside is not None else ():
            canonical = wanted(entry.name)
            if entry.is_file() and canonical is not None and Path(canonical).stem in BESIDE \
                    and canonical not in found.files:
                extra[canonical] = entry
        for canonical, entry in {**found.files, **extra}.items():
            stem = Path(canonical).stem
            if stem in READ:
                f = read_export_file(entry, stem, problems)
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
    faults = Faults(files, problems)
    for stem, f in files.items():
        parse_cells(stem, f, faults)
        supersede(stem, f, faults)
    cascade(files, faults)
    export = map_export(files, contract_files, faults, mapping, ignored)
    problems += faults.warnings(export.report.affected)
    if not any(p.severity == "error" for p in problems):  # a structural fault says enough: no share to add
        problems += safeguard(files, export.report.affected, accept_dropped)
    export.files = read_names
    export.checksum = checksum
    return export


def _ignored(entry: str) -> Problem:
    """The warning for an entry of the export that is not read."""
    base = entry.replace("\\", "/").rpartition("/")[2]
    if Path(base).stem.lower() in {n.lower() for n in NEVER_READ}:
        return Problem(base, None, None, None, "ignored_file",
                       f"Never read: {base} holds clients' names, dates of birth and other personal "
                       "data, which the dashboard must not hold. It was not opened.", "warning")
    return Problem(base, None, None, None, "ignored_file",
                   "Not read: the import does not use this file of the export.", "warning")


class HmisRejected(importer.ImportRejected):
    """The export broke a rule; nothing was written. Carries the report of what was read."""

    def __init__(self, problems: list[Problem], report: Report | None):
        super().__init__(problems)
        self.report = report


def import_export(path: str | Path, database: str | Path, key: bytes, *, mapping: dict | None = None,
                  mode: str = "replace", on_conflict: str = "refuse", accept_dropped: bool = False,
                  progress: Progress | Part = NOWHERE) -> tuple[importer.ImportResult, Report]:
    """Read, check, map and (only if all is valid) load an HMIS export: `importer` modes. The rows left out
    (and those read with a documented value) are stored with it, for the data-quality panel.

    `accept_dropped`: import even when more than faults.SAFEGUARD_PERCENT % of a file's rows are left out.
    Raises HmisRejected with every problem, located in the export's files, and the report.
    """
    progress.report(0.0, f"Reading and mapping the HMIS export {Path(path).name}")
    export = read_export(path, mapping, accept_dropped=accept_dropped)
    try:  # the files an export needs are checked by read_export, in the export's own names
        result = importer.import_tables(export.tables, export.problems, database, key, mode=mode,
                                        on_conflict=on_conflict, source=f"HMIS export {Path(path).name}",
                                        checksum=export.checksum, left_out=export.report.stored(),
                                        progress=progress.part(0.3, 1.0))
    except importer.ImportRejected as rejected:
        raise HmisRejected(export.locate(rejected.problems), export.report) from None
    return result, export.report
