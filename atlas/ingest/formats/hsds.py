"""Reading an Open Referral HSDS 3 directory into the contract's directory tables.

A community that keeps its service directory in the Human Services Data Specification (a folder of
CSV files: organizations, services, locations, ...) can load it as it is. Organizations become
agencies, services become programs (the contract's program is one service line an agency runs; an
HSDS "program" only groups services, and lends its words to the service type) and service_capacity
rows become monthly capacity. What HSDS does not say directly (an agency's sector and region, a
program's service type, whether an agency serves victims) comes from a mapping file:
`atlas/ingest/formats/hsds_mapping.toml` by default, documented there and in docs/import.md, and overridable.

A directory holds no referrals, so it fills agencies, programs and capacity only: on its own it
builds a database of the directory (replace), or it updates the directory of an existing database
(append), whose referrals must then still name agencies it holds.

The mapped tables are validated like contract files. Their problems are reported against the HSDS
files: `Directory.locate` turns a mapped table's row and column back into the HSDS file's.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from atlas.ingest import importer, mappings, sources
from atlas.ingest.problems import Problem, at_rows
from atlas.progress import NOWHERE, Part, Progress
from atlas.vocab import SECTORS, SERVICE_TYPES

DEFAULT_MAPPING = Path(__file__).resolve().parent / "hsds_mapping.toml"

# HSDS table -> the file names it goes by (HSDS 3.0 examples name files in the singular, 3.1 plural; HSDS
# 1.x and 2.0 call the addresses physical_addresses and the links services_at_location).
FILES = {
    "organizations": ("organizations", "organization"),
    "services": ("services", "service"),
    "programs": ("programs", "program"),
    "locations": ("locations", "location"),
    "addresses": ("addresses", "address", "physical_addresses", "physical_address"),  # HSDS 1.x/2.0: physical_
    "service_at_location": ("service_at_location", "service_at_locations", "services_at_location"),  # 2.0
    "service_capacity": ("service_capacity", "service_capacities"),
    "units": ("units", "unit"),
    "attributes": ("attributes", "attribute"),
    "taxonomy_terms": ("taxonomy_terms", "taxonomy_term"),
    "funding": ("funding", "fundings"),
}
USED = set(FILES)
# Mapped contract table -> the HSDS table its rows come from.
SOURCES = {"agencies": "organizations", "programs": "services", "capacity": "service_capacity"}


class MappingError(ValueError):
    """The mapping file is not usable; the message says what to change."""


def load_mapping(path: str | Path | None = None) -> dict:
    """The default mapping, with the sections of the file at `path` (if any) put over it."""
    return mappings.load(DEFAULT_MAPPING, path, merge_mapping, check_mapping, MappingError)


def merge_mapping(base: dict, override: dict) -> dict:
    """`override`'s sections over `base`'s: tables key by key, lists and values whole."""
    merged = copy.deepcopy(base)
    for section, values in override.items():
        if section not in merged:
            raise MappingError(f"unknown mapping section [{section}]: the sections are "
                               f"{', '.join(merged)}")
        if not isinstance(values, dict):
            raise MappingError(f"[{section}] must be a table of settings")
        for name, value in values.items():
            if name not in merged[section]:
                raise MappingError(f"[{section}] has no setting {name!r}: it has "
                                   f"{', '.join(merged[section])}")
            merged[section][name] = value
    return merged


def check_mapping(mapping: dict) -> None:
    """Raise MappingError unless every value the mapping gives is one the contract allows."""
    agencies, programs = mapping["agencies"], mapping["programs"]
    if agencies["default_sector"] not in SECTORS:
        raise MappingError(f"default_sector {agencies['default_sector']!r} is not a sector: use one of "
                           f"{', '.join(SECTORS)}")
    if programs["default_service_type"] not in SERVICE_TYPES:
        raise MappingError(f"default_service_type {programs['default_service_type']!r} is not a service "
                           f"type: use one of {', '.join(SERVICE_TYPES)}")
    for rule in agencies["sector"]:
        if rule.get("sector") not in SECTORS:
            raise MappingError(f"sector rule {rule!r}: sector must be one of {', '.join(SECTORS)}")
        if not rule.get("fields") or not rule.get("pattern"):
            raise MappingError(f"sector rule {rule!r} needs fields and a pattern")
    for rule in programs["service_type"]:
        if rule.get("service_type") not in SERVICE_TYPES:
            raise MappingError(f"service_type rule {rule!r}: service_type must be one of "
                               f"{', '.join(SERVICE_TYPES)}")
    patterns = ([agencies["victim_service_pattern"], mapping["capacity"]["count_units"]]
                + [r["pattern"] for r in agencies["sector"]]
                + [r.get("pattern", "") for r in programs["service_type"]])
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise MappingError(f"pattern {pattern!r} is not a regular expression: {error}") from None
    if not str(agencies["default_region"]).strip():
        raise MappingError("default_region must not be empty")


def is_hsds(names) -> bool:
    """Whether files with these names look like an HSDS directory (they hold organizations or services)."""
    stems = {Path(n).stem.lower() for n in names}
    return bool(stems & set(FILES["organizations"] + FILES["services"]))


@dataclass
class Directory:
    """An HSDS directory read and mapped: contract tables of text, ready for `validate`."""

    tables: dict[str, sources.RawTable]
    problems: list[Problem]  # met reading the HSDS files (already located in them)
    files: dict[str, str] = field(default_factory=dict)  # HSDS table -> file name read
    _rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # mapped row -> HSDS row
    _columns: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def locate(self, problems: list[Problem]) -> list[Problem]:
        """Problems found in the mapped tables, moved to the HSDS file row and column they came from."""
        located = []
        for p in problems:
            table = next((t for t, raw in self.tables.items() if raw.file == p.file), None)
            if table is None:
                located.append(p)
                continue
            row = p.row
            if row is not None:
                row = int(self._rows[table][row - 2]) + 2
            column = self._columns[table].get(p.column, p.column) if p.column else p.column
            located.append(replace(p, file=self.files[SOURCES[table]], row=row, column=column))
        return located


def read_directory(path: str | Path, mapping: dict | None = None) -> Directory:
    """Read the HSDS files in the folder `path` and map them to agencies, programs and capacity."""
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    mapping = mapping or load_mapping()
    frames: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        table = next((t for t, stems in FILES.items() if entry.stem.lower() in stems), None)
        if table is None or entry.suffix.lower() not in sources.READERS:
            if entry.suffix.lower() != ".json" and entry.suffix.lower() != ".md":
                problems.append(Problem(entry.name, None, None, None, "ignored_file",
                                        "Ignored: this HSDS table is not used (only organizations, "
                                        "services, programs, locations, addresses, service_at_location, "
                                        "service_capacity, units, attributes, taxonomy_terms and funding "
                                        "are).", "warning"))
            continue
        if table in frames:
            problems.append(Problem(entry.name, None, None, None, "duplicate_file",
                                    f"{names[table]} and {entry.name} both hold the HSDS {table} table: "
                                    "keep only one of them."))
            continue
        frame, found = sources.read_text(entry)
        problems += found
        names[table] = entry.name
        if frame is not None:
            frames[table] = frame.loc[:, ~frame.columns.duplicated()]
    if "organizations" not in names:
        problems.append(Problem("organizations.csv", None, None, None, "missing_file",
                                "An HSDS directory needs organizations.csv: every agency comes from it."))
    return _map(frames, names, problems, mapping)


@dataclass
class _Read:
    """The HSDS tables read, by name, and their files; the problems met so far."""

    frames: dict[str, pd.DataFrame]
    names: dict[str, str]
    problems: list[Problem]

    def get(self, table: str, *columns: str) -> pd.DataFrame:
        """The HSDS table with (at least) these columns, absent ones empty; an empty table if absent."""
        frame = self.frames.get(table, pd.DataFrame())
        frame = frame.reset_index(drop=True)
        for column in columns:
            if column not in frame.columns:
                frame[column] = pd.Series([None] * len(frame), dtype="object")
        return frame

    def need(self, table: str, *columns: str) -> bool:
        """Report required HSDS columns missing from a table that is present; True when all are there."""
        if table not in self.frames:
            return False
        missing = [c for c in columns if c not in self.frames[table].columns]
        for column in missing:
            self.problems.append(Problem(self.names[table], None, column, None, "missing_column",
                                         f"The HSDS {table} table needs a column {column}."))
        return not missing


def _map(frames: dict[str, pd.DataFrame], names: dict[str, str], problems: list[Problem],
         mapping: dict) -> Directory:
    read = _Read(frames, names, problems)
    directory = Directory({}, problems, names, {}, {})
    services = read.get("services", "id", "organization_id", "program_id", "name", "description", "status")
    keep_service = ~services["status"].fillna("").str.strip().str.lower().isin(
        [s.lower() for s in mapping["programs"]["skip_statuses"]])
    terms = _service_terms(read.get("attributes", "link_id", "taxonomy_term_id"),
                           read.get("taxonomy_terms", "id", "code", "name"))
    _agencies(read, directory, services, keep_service, terms, mapping["agencies"])
    _programs(read, directory, services, keep_service, terms, mapping["programs"])
    _capacity_table(read, directory, services, keep_service, mapping["capacity"])
    return directory


def _put(directory: Directory, table: str, source: str, frame: pd.DataFrame, rows: np.ndarray,
         columns: dict[str, str]) -> None:
    directory.tables[table] = sources.RawTable(table, f"{source} → {table}", frame)
    directory._rows[table] = rows
    directory._columns[table] = columns


def _agencies(read: _Read, directory: Directory, services: pd.DataFrame, keep_service: pd.Series,
              terms: dict, agencies_map: dict) -> None:
    """Organizations -> agencies."""
    org_id = agencies_map["id_field"]
    if not read.need("organizations", org_id, "name"):
        return
    victim = re.compile(agencies_map["victim_service_pattern"], re.IGNORECASE)
    orgs = read.get("organizations", "id", org_id, "name", "description", "legal_status", "tax_status")
    region = _regions(orgs[org_id], services, read.get("locations", "id", "organization_id", "location_type"),
                      read.get("addresses", "location_id", "address_type", *agencies_map["region_fields"]),
                      read.get("service_at_location", "service_id", "location_id"),
                      agencies_map["region_fields"]).astype("object").fillna(agencies_map["default_region"])
    by_org = services[keep_service].groupby("organization_id", dropna=True)
    service_text = by_org["name"].agg(lambda s: " ".join(s.dropna()))
    service_terms = services.assign(terms=services["id"].map(terms).map(
        lambda t: " ".join(name for _, name in t) if isinstance(t, list) else ""))
    term_text = service_terms.groupby("organization_id", dropna=True)["terms"].agg(" ".join)
    org_terms = orgs["id"].map(terms).map(
        lambda t: " ".join(name for _, name in t) if isinstance(t, list) else "")
    about = (orgs["name"].fillna("") + " " + orgs["description"].fillna("") + " " + org_terms + " "
             + orgs[org_id].map(service_text).fillna("") + " " + orgs[org_id].map(term_text).fillna(""))
    frame = pd.DataFrame({
        "agency_id": orgs[org_id],
        "name": orgs["name"],
        "sector": [_sector(row, agencies_map) for row in orgs.to_dict("records")],
        "region": region,
        "is_victim_service": ["true" if victim.search(text) else "false" for text in about],
    })
    _put(directory, "agencies", read.names["organizations"], frame, np.arange(len(orgs)), {"agency_id": org_id})


def _programs(read: _Read, directory: Directory, services: pd.DataFrame, keep_service: pd.Series,
              terms: dict, programs_map: dict) -> None:
    """Services -> programs (those whose status is not skipped)."""
    service_id = programs_map["id_field"]
    if not read.need("services", service_id, "organization_id", "name"):
        return
    kept = services[keep_service]
    hsds_programs = read.get("programs", "id", "name", "description").drop_duplicates("id").set_index("id")
    program_text = (hsds_programs["name"].fillna("") + " " + hsds_programs["description"].fillna(""))
    texts = [kept["name"], kept["description"], kept["program_id"].map(program_text)]
    funders = _funders(read.get("funding", "organization_id", "service_id", "source"), kept, service_id)
    frame = pd.DataFrame({
        "program_id": kept[service_id].to_numpy(),
        "agency_id": kept["organization_id"].to_numpy(),
        "name": kept["name"].to_numpy(),
        "service_type": [_service_type(kept_terms, [t.iat[i] for t in texts], programs_map)
                         for i, kept_terms in enumerate(kept[service_id].map(terms))],
        "funder": funders.to_numpy(),
    })
    _put(directory, "programs", read.names["services"], frame, np.flatnonzero(keep_service.to_numpy()),
         {"program_id": service_id, "agency_id": "organization_id", "funder": "funding source"})


def _capacity_table(read: _Read, directory: Directory, services: pd.DataFrame, keep_service: pd.Series,
                    capacity_map: dict) -> None:
    """Service capacity -> capacity."""
    if not read.need("service_capacity", "service_id", "updated"):
        return
    skipped = set(services.loc[~keep_service, "id"].dropna())
    frame, kept_rows, found = _capacity(read.get("service_capacity", "service_id", "unit_id", "updated",
                                                 *capacity_map["slots_fields"]),
                                        read.get("units", "id", "name"), capacity_map,
                                        read.names["service_capacity"], skipped)
    read.problems += found
    _put(directory, "capacity", read.names["service_capacity"], frame, kept_rows,
         {"program_id": "service_id", "month": "updated", "slots": " or ".join(capacity_map["slots_fields"])})


def _service_terms(attributes: pd.DataFrame, taxonomy_terms: pd.DataFrame) -> dict[str, list[tuple[str, str]]]:
    """linked id (a service's or organization's) -> its taxonomy terms as (code, name), from the
    attributes that link terms to records (ids are unique across HSDS tables)."""
    linked = attributes
    terms = taxonomy_terms.drop_duplicates("id").set_index("id")
    found: dict[str, list[tuple[str, str]]] = {}
    for link_id, term_id in zip(linked["link_id"], linked["taxonomy_term_id"]):
        if pd.isna(link_id) or pd.isna(term_id) or term_id not in terms.index:
            continue
        term = terms.loc[term_id]
        found.setdefault(link_id, []).append((term["code"] or "", term["name"] or ""))
    return found


def _sector(org: dict, mapping: dict) -> str:
    for rule in mapping["sector"]:
        pattern = re.compile(rule["pattern"], re.IGNORECASE)
        if any(isinstance(org.get(f), str) and pattern.search(org[f]) for f in rule["fields"]):
            return rule["sector"]
    return mapping["default_sector"]


def _service_type(terms, texts: list, mapping: dict) -> str:
    """The contract service type of one service: by its taxonomy terms, then by its texts in order."""
    rules = [(rule, re.compile(rule["pattern"], re.IGNORECASE) if rule.get("pattern") else None)
             for rule in mapping["service_type"]]
    for rule, pattern in rules:
        for code, name in terms if isinstance(terms, list) else []:
            if any(code.upper().startswith(c.upper()) for c in rule.get("codes", [])):
                return rule["service_type"]
            if pattern is not None and name and pattern.search(name):
                return rule["service_type"]
    for text in texts:
        if not isinstance(text, str):
            continue
        for rule, pattern in rules:
            if pattern is not None and pattern.search(text):
                return rule["service_type"]
    return mapping["default_service_type"]


def _regions(org_ids: pd.Series, services: pd.DataFrame, locations: pd.DataFrame, addresses: pd.DataFrame,
             service_at_location: pd.DataFrame, fields: list[str]) -> pd.Series:
    """Each organization's region: from the addresses of its own locations, else of its services'."""
    addresses = addresses.assign(
        _value=addresses[fields].bfill(axis=1).iloc[:, 0] if fields else None,
        _physical=addresses["address_type"].fillna("").str.lower().ne("physical"))
    addresses = addresses.dropna(subset=["_value"]).sort_values("_physical", kind="stable")
    location_region = addresses.drop_duplicates("location_id").set_index("location_id")["_value"]
    own = locations.assign(_region=locations["id"].map(location_region)).dropna(subset=["_region"])
    own = own.drop_duplicates("organization_id").set_index("organization_id")["_region"]
    via = service_at_location.assign(
        organization_id=service_at_location["service_id"].map(
            services.drop_duplicates("id").set_index("id")["organization_id"]),
        _region=service_at_location["location_id"].map(location_region)).dropna(subset=["_region"])
    via = via.dropna(subset=["organization_id"]).drop_duplicates("organization_id")
    via = via.set_index("organization_id")["_region"]
    return org_ids.map(own).astype("object").fillna(org_ids.map(via).astype("object"))


def _funders(funding: pd.DataFrame, services: pd.DataFrame, service_id: str) -> pd.Series:
    """Each service's funder: the first funding source named for it, else for its organization."""
    by_service = funding.dropna(subset=["service_id", "source"]).drop_duplicates("service_id")
    by_org = funding[funding["service_id"].isna()].dropna(subset=["organization_id", "source"])
    by_org = by_org.drop_duplicates("organization_id")
    own = services[service_id].map(by_service.set_index("service_id")["source"]).astype("object")
    return own.fillna(services["organization_id"].map(by_org.set_index("organization_id")["source"]).astype("object"))


_MONTH = re.compile(r"^(\d{4}-\d{2})-\d{2}")


def _capacity(capacity: pd.DataFrame, units: pd.DataFrame, mapping: dict, file: str, skipped: set
              ) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """service_capacity rows as contract capacity text, the HSDS row of each, and the problems.

    The month is that of `updated`; slots the first of `slots_fields` given. Rows counted in units
    that are not counts are left out, and so are rows of services left out (`skipped`) and a row
    superseded by a later `updated` of the same service in the same month (all with a warning).
    """
    problems: list[Problem] = []
    counts = re.compile(mapping["count_units"], re.IGNORECASE)
    unit_name = capacity["unit_id"].map(units.drop_duplicates("id").set_index("id")["name"])
    of_skipped = capacity["service_id"].isin(skipped).to_numpy()
    problems += at_rows(file, "service_id", "hsds_skipped_service", np.flatnonzero(of_skipped),
                        capacity["service_id"], "This capacity belongs to a service left out by its status "
                        "(skip_statuses in the mapping), so it is left out too.", "warning")
    not_counted = (unit_name.notna() & ~unit_name.fillna("").str.contains(counts)) | of_skipped
    problems += at_rows(file, "unit_id", "hsds_unit", np.flatnonzero(not_counted.to_numpy()),
                        unit_name, lambda p: f"This capacity is not counted in places (its unit is {unit_name.iat[p]}), "
                        "so it is not read as slots. If it is, add the unit's name to count_units in the mapping.",
                        "warning")
    month = capacity["updated"].str.extract(_MONTH, expand=False)
    undated = month.isna().to_numpy() & ~not_counted.to_numpy()
    problems += at_rows(file, "updated", "hsds_capacity_month", np.flatnonzero(undated), capacity["updated"],
                        "The month this capacity applies to is read from updated, which must start "
                        "with a date YYYY-MM-DD: fill it in.")
    slots = capacity[mapping["slots_fields"]].bfill(axis=1).iloc[:, 0]
    slots = slots.str.replace(r"^(-?\d+)\.0*$", r"\1", regex=True)
    usable = ~not_counted.to_numpy() & ~undated
    frame = pd.DataFrame({"program_id": capacity["service_id"], "month": month, "slots": slots,
                          "_updated": capacity["updated"]})
    order = frame[usable].sort_values("_updated", kind="stable", na_position="first")
    latest = ~order.duplicated(["program_id", "month"], keep="last")
    superseded = np.sort(order.index[~latest.to_numpy()].to_numpy())
    problems += at_rows(file, "updated", "hsds_capacity_superseded", superseded, capacity["updated"],
                        "A later row gives this service's capacity for the same month: only the "
                        "latest is read.", "warning")
    kept = np.setdiff1d(np.flatnonzero(usable), superseded)
    return frame.iloc[kept].drop(columns="_updated").reset_index(drop=True), kept, problems


def import_directory(path: str | Path, database: str | Path, key: bytes | None, *, mapping: dict | None = None,
                     mode: str = "replace", on_conflict: str = "refuse",
                     progress: Progress | Part = NOWHERE) -> importer.ImportResult:
    """Read, map, validate and (only if all is valid) load an HSDS directory: `importer` modes.

    Raises importer.ImportRejected with every problem, located in the HSDS files.
    """
    folder = Path(path)
    progress.report(0.0, f"Reading and mapping the HSDS directory {folder.name}")
    directory = read_directory(folder, mapping)
    checksum = importer.checksum_files(folder / name for name in sorted(directory.files.values()))
    try:
        return importer.import_tables(directory.tables, directory.problems, database, key, mode=mode,
                                      on_conflict=on_conflict, source=f"HSDS directory {folder}",
                                      checksum=checksum, progress=progress.part(0.2, 1.0))
    except importer.ImportRejected as rejected:
        raise importer.ImportRejected(directory.locate(rejected.problems)) from None
