"""The Data page's logic, without Streamlit: templates, staging uploaded files, the validation
report, and the confirmed import.

The flow a coordinator follows:

1. `template_csv` / `column_guide`: a template per table to fill in.
2. `stage`: the uploaded files are written, under names made safe, into a private folder of their
   own; `guess_table` says which table each file holds (by its name, else its header), and an
   Open Referral HSDS directory is recognised by its file names.
3. `review`: every file is read and validated and the import is planned, writing nothing; the
   `Review` holds the report (every problem, the count per rule, a CSV to download) and what the
   import would change.
4. `confirm`: the import, checked again under the database's lock (so a database replaced in
   between is noticed, not overwritten), built into a new file and swapped in.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from atlas.contract import TABLES, Column
from atlas.exports import safe_csv
from atlas.ingest import archive, importer, sources
from atlas.ingest.formats import agency_ids, columns, hmis, hsds
from atlas.ingest.formats.hmis import faults as hmis_faults
from atlas.ingest.formats.hmis import files as hmis_files
from atlas.ingest.problems import Problem, problems_frame, summary
from atlas.progress import NOWHERE, Part, Progress

STAGING_ROOT = Path(tempfile.gettempdir()) / "atlas-uploads"
STAGING_MAX_AGE = 24 * 3600  # seconds a staging folder left behind is kept
MAPPING_SUFFIX = ".toml"  # an HSDS or HMIS mapping file uploaded alongside the files

# One example row per table (the partnership names a second agency, A002, which a real file would hold).
EXAMPLES: dict[str, dict[str, str]] = {
    "agencies": {"agency_id": "A001", "name": "Harbor House", "sector": "nonprofit", "region": "North",
                 "is_victim_service": "false"},
    "programs": {"program_id": "P001", "agency_id": "A001", "name": "Family Shelter",
                 "service_type": "shelter", "funder": "City Fund"},
    "partnerships": {"agency_a_id": "A001", "agency_b_id": "A002", "kind": "formal", "instrument": "mou",
                     "started_on": "2024-01-15", "ended_on": "", "trust": "3", "value": "4"},
    "referrals": {"referral_id": "R0001", "client_id": "C-10023", "from_agency_id": "A001",
                  "to_agency_id": "A001", "service_type": "shelter", "referred_at": "2024-03-04 09:30",
                  "to_program_id": "P001", "accepted_at": "2024-03-05 14:00", "declined_at": "",
                  "decline_reason": "", "started_at": "2024-03-06", "completed_at": "", "lead_agency_id": "A001"},
    "outcomes": {"client_id": "C-10023", "agency_id": "A001", "program_id": "P001",
                 "outcome": "housed_permanent", "achieved_on": "2024-05-31"},
    "capacity": {"program_id": "P001", "month": "2024-03", "slots": "24"},
    "needs": {"region": "North", "service_type": "shelter", "month": "2024-03", "people_in_need": "40",
              "source": "coordinated_entry"},
}

_FORMATS = {
    "id": "text identifier; leading zeros are kept (007)",
    "text": "text",
    "enum": "one of the listed values",
    "bool": "true or false",
    "int": "whole number",
    "date": "date YYYY-MM-DD",
    "month": "month YYYY-MM",
    "timestamp": "YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS (local time)",
}

# Plain names of the rules, for the count per rule.
RULE_TITLES = {
    "required": "Empty required cell", "missing_column": "Required column missing",
    "unknown_column": "Column not in the template", "duplicate_column": "Column appears twice",
    "pii_column": "Personal data column", "enum": "Value not in the allowed list",
    "bool_format": "Not true/false", "int_format": "Not a whole number", "int_range": "Number out of range",
    "sentinel": "Placeholder number (999, -1 …)", "date_format": "Date not YYYY-MM-DD",
    "month_format": "Month not YYYY-MM", "timestamp_format": "Date-time not in the contract format",
    "unique": "Id repeated", "reference": "Refers to something not loaded", "order": "Dates in the wrong order",
    "accepted_and_declined": "Both accepted and declined",
    "decline_reason_required": "Decline without a reason",
    "decline_reason_without_decline": "Reason without a decline",
    "started_needs_accepted": "Started but not accepted", "completed_needs_started": "Completed but not started",
    "program_agency_mismatch": "Program run by another agency", "self_partnership": "Agency partnered with itself",
    "not_csv": "Not a readable CSV file", "not_parquet": "Not a Parquet file", "not_xlsx": "Not an Excel workbook",
    "empty_file": "Empty file", "field_count": "Row with the wrong number of values",
    "missing_file": "Required table missing", "duplicate_file": "Two files for one table",
    "ignored_file": "File not used", "unrecognised_file": "File not recognised", "encoding": "Old Excel text encoding",
    "sheet": "Other sheets ignored", "id_as_number": "Ids stored as numbers", "append_conflict": "Differs from stored data",
    "no_database": "Nothing to add to", "no_key": "No pseudonymisation key", "file_too_large": "File too large",
    "hsds_unit": "Capacity not counted in places", "hsds_capacity_month": "Capacity without a date",
    "hsds_capacity_superseded": "Older capacity row", "hsds_skipped_service": "Capacity of a service left out",
    "mapping": "Mapping file not usable", "not_hmis": "Not an HMIS CSV file", "not_zip": "Damaged zip archive",
    "unsafe_archive": "Archive refused", "hmis_location": "Referral location not matched",
    "hmis_result": "Unknown referral result", "hmis_result_date": "Referral result without a date",
    "hmis_entry_before_result": "Entry before the recorded acceptance", "hmis_no_events": "No referral events",
    "value_mapping": "Value without a mapping", "status_undated": "Status without a date",
    "hmis_other_date_form": "Date in another common form, read",
    hmis_faults.SAFEGUARD_RULE: "Too many rows of a file left out",
    **{rule: title for rule, (title, _) in hmis_faults.FAULTS.items()},
}


# ---- templates -----------------------------------------------------------------------------------

def template_csv(table: str) -> bytes:
    """A CSV template for `table`: the header and one example row (UTF-8 with BOM, for Excel)."""
    columns = [c.name for c in TABLES[table].columns]
    example = EXAMPLES[table]
    return safe_csv(pd.DataFrame([[example.get(c, "") for c in columns]], columns=columns))


def datapackage_json() -> bytes:
    """The contract as a Frictionless Data Package, to download beside the templates."""
    from atlas.ingest import datapackage

    return (json.dumps(datapackage.descriptor(), indent=2, ensure_ascii=False) + "\n").encode()


def column_guide(table: str) -> pd.DataFrame:
    """What each column of `table` holds: name, required, format, and allowed values or notes."""
    rows = []
    for column in TABLES[table].columns:
        rows.append({
            "column": column.name,
            "required": "required" if column.required else "optional",
            "format": _format(column),
            "what it holds": column.doc or "",
            "example": EXAMPLES[table].get(column.name, ""),
        })
    return pd.DataFrame(rows)


def _format(column: Column) -> str:
    if column.type == "enum":
        return "one of: " + ", ".join(column.values)
    text = _FORMATS[column.type]
    if column.type == "int" and (column.min is not None or column.max is not None):
        low = "" if column.min is None else f"{column.min}"
        high = "" if column.max is None else f"{column.max}"
        text += f" ({low}–{high})" if low and high else f" ({low or '…'} or more)" if low else f" (up to {high})"
    return text


# ---- staging ---------------------------------------------------------------------------------------

@dataclass
class StagedFile:
    name: str  # the file's (safe) name in the staging folder
    uploaded_as: str  # the name it was uploaded with
    size: int
    table: str | None  # guessed contract table; None when neither name nor header tells


@dataclass
class Staging:
    """Uploaded files written to a private folder, not yet read or validated."""

    directory: Path
    files: list[StagedFile]
    problems: list[Problem] = field(default_factory=list)  # files refused at upload

    @property
    def format(self) -> str:
        """"hmis" for an HMIS CSV export (its zip, or its files), "hsds" for an HSDS directory, else
        "contract"."""
        if self.export_zip is not None or hmis_files.is_hmis(f.name for f in self.files):
            return "hmis"
        return "hsds" if hsds.is_hsds(f.name for f in self.files) else "contract"

    @property
    def export_zip(self) -> Path | None:
        """The uploaded zip archive (an HMIS export), by content; None when there is none."""
        zips = [f for f in self.files if not f.name.lower().endswith(".xlsx")
                and archive.is_zip(self.directory / f.name)]
        return self.directory / zips[0].name if zips else None

    @property
    def mapping_file(self) -> Path | None:
        found = [f for f in self.files if f.name.lower().endswith(MAPPING_SUFFIX)]
        return self.directory / found[0].name if found else None

    @property
    def column_mappings(self) -> dict[str, columns.ColumnMapping]:
        """Column mappings uploaded with the files (.toml files that are one), by staged name."""
        found = {}
        for f in self.files:
            if f.name.lower().endswith(MAPPING_SUFFIX):
                try:
                    found[f.name] = columns.ColumnMapping.load(self.directory / f.name)
                except (columns.MappingError, OSError, UnicodeDecodeError, KeyError, TypeError):
                    continue
        return found

    def frame(self, name: str):
        """A staged file's table as text (for mapping its columns), or None when it cannot be read."""
        frame, _ = sources.read_text(self.directory / name)
        return frame

    def discard(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def stage(uploads: Iterable[tuple[str, bytes]], *, max_bytes: int | None = None,
          root: Path | None = None) -> Staging:
    """Write uploaded (name, content) pairs into a new private folder and guess each file's table.

    Names are reduced to a safe base name (no folders, no leading dots); a file over `max_bytes`
    is refused with a problem rather than written.
    """
    root = root or STAGING_ROOT
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale(root)
    directory = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
    files: list[StagedFile] = []
    problems: list[Problem] = []
    for uploaded_as, content in uploads:
        name = _safe_name(uploaded_as, {f.name for f in files})
        if Path(name).stem.lower() in {n.lower() for n in hmis_files.NEVER_READ}:
            problems.append(Problem(
                uploaded_as, None, None, None, "ignored_file",
                f"Not kept: {uploaded_as} holds clients' names, dates of birth and other personal data, which "
                "the dashboard never reads. It was not saved; the rest of the export does not need it.", "warning"))
            continue
        if max_bytes is not None and len(content) > max_bytes:
            problems.append(Problem(
                uploaded_as, None, None, None, "file_too_large",
                f"The file is {len(content) / 2**20:.1f} MB; files up to {max_bytes / 2**20:.0f} MB can be "
                "uploaded: split it (for example by year) and upload the parts one after another, adding "
                "them to the data."))
            continue
        (directory / name).write_bytes(content)
        table = guess_table(name, content[:sources._HEAD_BYTES])
        files.append(StagedFile(name, uploaded_as, len(content), table))
    return Staging(directory, files, problems)


def _safe_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w.\- ]", "_", Path(name.replace("\\", "/")).name).strip().lstrip(".") or "file"
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}).{suffix}" if suffix else f"{stem} ({n})"
    return candidate


def _remove_stale(root: Path) -> None:
    """Staging folders older than STAGING_MAX_AGE (from sessions that went away) are removed."""
    now = time.time()
    for entry in root.glob("upload-*"):
        try:
            if now - entry.stat().st_mtime > STAGING_MAX_AGE:
                shutil.rmtree(entry, ignore_errors=True)
        except FileNotFoundError:
            pass


def guess_table(name: str, head: bytes = b"") -> str | None:
    """The contract table a file probably holds: named in its file name (`Referrals March.csv`),
    else the table whose columns its CSV header shares most (at least half of its required ones)."""
    stem = Path(name).stem.lower()
    words = set(re.split(r"[^a-z]+", stem))
    for table in TABLES:
        if words & {table, _SINGULAR.get(table, table.rstrip("s"))}:
            return table
    header = _header(head)
    best, score = None, 0.0
    for table in TABLES.values():
        required = set(table.required_columns)
        shared = len(required & header) / len(required)
        if shared >= 0.5 and shared > score:
            best, score = table.name, shared
    return best


_SINGULAR = {"agencies": "agency", "capacity": "capacities"}


def needs_mapping(frame: pd.DataFrame, table: str | None) -> bool:
    """Whether a file's columns are its own rather than a contract table's: no table was recognised, or
    its header has fewer than half the required columns of the table its name suggests (a contract file
    missing a column or two is reported as such instead)."""
    header = {str(c).strip() for c in frame.columns}
    if table is None:
        return bool(header)
    required = set(TABLES[table].required_columns)
    return len(required & header) < len(required) / 2


def _header(head: bytes) -> set[str]:
    """The column names in the first line of CSV bytes (any delimiter the reader accepts)."""
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return set()
    first = text.splitlines()[0] if text else ""
    best: list[str] = []
    for delimiter in (",", ";", "\t"):
        row = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
        if len(row) > len(best):
            best = row
    return {name.strip().lower() for name in best}


# ---- review --------------------------------------------------------------------------------------

@dataclass
class Review:
    """The files read, validated and planned: what an import would do, nothing written yet."""

    staging: Staging
    mode: str
    on_conflict: str
    format: str
    tables: dict[str, sources.RawTable]
    read_problems: list[Problem]  # met reading (and mapping) the files
    plan: importer.ImportPlan | None
    problems: list[Problem]  # every problem, located in the files as uploaded
    base: tuple[int, int] | None  # the database file the review was made against
    locate: object = None  # HSDS or HMIS: the object whose `locate` moves problems to its files
    hmis_report: hmis.Report | None = None  # HMIS: what was read, placed and mapped

    @property
    def errors(self) -> int:
        return sum(p.count for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(p.count for p in self.problems if p.severity != "error")

    @property
    def ok(self) -> bool:
        return self.plan is not None and self.errors == 0

    @property
    def held_by_safeguard(self) -> bool:
        """Whether the only thing that stops the import is an HMIS file losing more than a few rows, which the
        person may accept (`confirm(..., accept_dropped=True)`)."""
        errors = [p for p in self.problems if p.severity == "error"]
        return self.plan is not None and bool(errors) and all(p.rule == hmis_faults.SAFEGUARD_RULE for p in errors)

    @property
    def changes_anything(self) -> bool:
        return self.plan is not None and self.plan.changes_anything

    def report(self) -> pd.DataFrame:
        return report_frame(self.problems)

    def report_csv(self) -> bytes:
        return safe_csv(self.report())

    def rule_counts(self) -> pd.DataFrame:
        return rule_counts(self.problems)

    def changes(self) -> pd.DataFrame:
        """Per table: the file, rows read and (append) how many are new, updated or already stored."""
        if self.plan is None:
            return pd.DataFrame(columns=["table", "file", "rows"])
        rows = []
        for name, change in self.plan.changes.items():
            row = {"table": name, "file": self.plan.files.get(name, ""), "rows": change.rows}
            if self.mode == "append":
                row.update(new=change.added, updated=change.updated, already_there=change.unchanged)
            rows.append(row)
        return pd.DataFrame(rows)


def review(staging: Staging, database: str | Path, key: bytes | None, *, mode: str = "replace",
           on_conflict: str = "refuse", tables: Mapping[str, str | None] | None = None,
           mappings: Mapping[str, columns.ColumnMapping] | None = None,
           progress: Progress | Part = NOWHERE) -> Review:
    """Read, validate and plan the staged files as an import in `mode`, writing nothing; `progress` hears
    of each file read and each table checked.

    `tables` maps a staged file's name to the contract table it holds (None: leave it out); a file
    not in it keeps its guessed table. `mappings` maps a staged file's name to the column mapping that
    turns it into contract tables (a file in its own columns). For an HSDS directory or an HMIS export
    the files' names say what they hold.
    """
    database = Path(database)
    base = importer.identity(database)
    problems = list(staging.problems)
    report = None
    if staging.format == "hmis":
        raw, read_problems, directory = _read_hmis(staging)
        report = directory.report if directory is not None else None
    elif staging.format == "hsds":
        raw, read_problems, directory = _read_hsds(staging)
    else:
        named = any(m.agencies is not None for m in (mappings or {}).values())  # agencies built from names
        stored = agency_ids.stored_agency_ids(database) if named else ()
        raw, read_problems = _read_contract(staging, tables or {}, mappings or {}, progress.part(0, 0.5), stored)
        directory = None
    problems += read_problems
    plan = None
    if mode == "append" and key is None and importer.holds_client_ids(raw):
        problems.append(Problem(
            "", None, None, None, "no_key", "No pseudonymisation key is set, so client ids cannot be "
            "matched with the stored ones: ask whoever runs the dashboard to set ATLAS_HMAC_KEY."))
    elif not any(p.rule == "mapping" for p in problems):
        required = importer.REQUIRED_FOR_REPLACE if mode == "replace" and staging.format == "contract" else ()
        plan = importer.plan_import(raw, problems, database, key, mode=mode, on_conflict=on_conflict,
                                    source=_source(staging), checksum=_checksum(staging), required=required,
                                    progress=progress.part(0.5, 1.0))
        problems = plan.problems
    progress.finish("Checked")
    if directory is not None:
        problems = directory.locate(problems)
    for staged in staging.files:  # problems of a file in its own columns, named by them
        if staged.name in (mappings or {}):
            problems = mappings[staged.name].locate(problems, staged.uploaded_as)
    return Review(staging, mode, on_conflict, staging.format, raw, read_problems, plan, problems, base,
                  directory, report)


def confirm(done: Review, database: str | Path, key: bytes | None, *, accept_dropped: bool = False,
            progress: Progress | Part = NOWHERE) -> importer.ImportResult:
    """Import what `done` reviewed, if the database is still the one it was reviewed against. With
    `accept_dropped`, an HMIS export held only by its safeguard (`Review.held_by_safeguard`) is imported
    without the rows it leaves out.

    Raises importer.DatabaseChanged if someone imported in between, importer.ImportRejected (with
    located problems) if the files no longer pass; on success the staged files are removed.
    """
    accepted = accept_dropped and done.held_by_safeguard
    if not done.ok and not accepted:
        raise importer.ImportRejected(done.problems)
    required = importer.REQUIRED_FOR_REPLACE if done.mode == "replace" and done.format == "contract" else ()
    read_problems = [dataclasses.replace(p, severity="warning") if accepted and p.rule == hmis_faults.SAFEGUARD_RULE
                     else p for p in done.read_problems]
    left_out = done.hmis_report.stored() if done.hmis_report is not None else None
    try:
        result = importer.import_tables(
            done.tables, read_problems, database, key, mode=done.mode,
            on_conflict=done.on_conflict, source=_source(done.staging), checksum=_checksum(done.staging),
            required=required, expect=done.base, left_out=left_out, progress=progress)
    except importer.ImportRejected as rejected:
        problems = done.locate.locate(rejected.problems) if done.locate is not None else rejected.problems
        raise importer.ImportRejected(problems) from None
    done.staging.discard()
    return result


def _read_contract(staging: Staging, chosen: Mapping[str, str | None],
                   mappings: Mapping[str, columns.ColumnMapping], progress: Progress | Part = NOWHERE,
                   stored: Iterable[str] = ()) -> tuple[dict[str, sources.RawTable], list[Problem]]:
    raw: dict[str, sources.RawTable] = {}
    problems: list[Problem] = []
    holders: dict[str, str] = {}
    for i, staged in enumerate(staging.files):
        progress.report(i / max(1, len(staging.files)), f"Reading {staged.uploaded_as}")
        if staged.name in mappings:  # a file in its own columns, through its column mapping
            frame, found = sources.read_text(staging.directory / staged.name)
            problems += [_renamed(p, staged) for p in found]
            if frame is None:
                continue
            mapped, found = columns.apply(mappings[staged.name], frame, staged.uploaded_as, frozenset(stored))
            problems += found
            for name, table_raw in mapped.items():
                if name in holders:
                    problems.append(Problem(
                        staged.uploaded_as, None, None, None, "duplicate_file",
                        f"{holders[name]} and {staged.uploaded_as} both give the {name} table: upload one of them."))
                    continue
                holders[name] = staged.uploaded_as
                raw[name] = table_raw
            continue
        table = chosen.get(staged.name, staged.table)
        suffix = Path(staged.name).suffix.lower()
        if suffix == MAPPING_SUFFIX and staged.name in staging.column_mappings:
            continue  # a column mapping uploaded with the files: applied to the file it was made for
        if table is None or suffix not in sources.READERS:
            why = ("its type is not read: upload CSV, Excel (.xlsx) or Parquet files"
                   if suffix not in sources.READERS else
                   "which table it holds is not known: name the file after its table (referrals.csv …) "
                   "or choose the table next to the file")
            problems.append(Problem(staged.uploaded_as, None, None, None, "unrecognised_file",
                                             f"Not imported: {why}.", "warning"))
            continue
        if table in holders:
            problems.append(Problem(
                staged.uploaded_as, None, None, None, "duplicate_file",
                f"{holders[table]} and {staged.uploaded_as} both hold the {table} table: upload one file "
                "per table (join them first), or add the second one in a later import."))
            continue
        holders[table] = staged.uploaded_as
        table_raw, found = sources.read_file(staging.directory / staged.name, table)
        problems += [_renamed(p, staged) for p in found]
        if table_raw is not None:
            raw[table] = sources.RawTable(table, staged.uploaded_as, table_raw.frame)
    return raw, problems


def _read_hsds(staging: Staging):
    try:
        mapping = hsds.load_mapping(staging.mapping_file)
    except hsds.MappingError as error:
        name = staging.mapping_file.name if staging.mapping_file else "mapping"
        return {}, [Problem(name, None, None, None, "mapping", f"The mapping file cannot be used: "
                                     f"{error}.")], None
    directory = hsds.read_directory(staging.directory, mapping)
    problems = [p for p in directory.problems
                if not (p.rule == "ignored_file" and p.file.lower().endswith(MAPPING_SUFFIX))]
    return directory.tables, problems, directory


def _read_hmis(staging: Staging):
    """The staged HMIS export (its zip, or its files uploaded one by one) read and mapped, with any
    mapping file and contract files (partnerships, needs) uploaded beside it."""
    try:
        mapping = hmis.load_mapping(staging.mapping_file)
    except hmis.MappingError as error:
        name = staging.mapping_file.name if staging.mapping_file else "mapping"
        return {}, [Problem(name, None, None, None, "mapping", f"The mapping file cannot be used: "
                                     f"{error}.")], None
    zipped = staging.export_zip
    try:
        export = hmis.read_export(zipped or staging.directory, mapping,
                                  beside=staging.directory if zipped else None)
    except archive.ArchiveRefused as refused:
        return {}, [refused.problem], None
    problems = [p for p in export.problems
                if not (p.rule == "ignored_file" and p.file.lower().endswith(MAPPING_SUFFIX))]
    return export.tables, problems, export


def _renamed(problem: Problem, staged: StagedFile) -> Problem:
    """A problem of a staged file, named as the file was uploaded."""
    if problem.file == staged.name and staged.uploaded_as != staged.name:
        return dataclasses.replace(problem, file=staged.uploaded_as)
    return problem


def _source(staging: Staging) -> str:
    names = ", ".join(f.uploaded_as for f in staging.files)
    kind = {"hsds": "HSDS directory", "hmis": "HMIS export"}.get(staging.format, "files")
    return f"upload ({kind}): {names}"


def _checksum(staging: Staging) -> str:
    return importer.checksum_files(staging.directory / f.name for f in sorted(staging.files, key=lambda f: f.name))


# ---- reports ---------------------------------------------------------------------------------------

REPORT_COLUMNS = {"file": "file", "row": "row", "column": "column", "value": "value", "rule": "rule",
                  "message": "problem and how to fix it", "severity": "severity"}


def report_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Every problem as a table: file, row, column, value, problem and how to fix it, what (the
    rule in plain words), rule, severity."""
    frame = problems_frame(problems).rename(columns=REPORT_COLUMNS)
    frame["what"] = frame["rule"].map(RULE_TITLES).fillna(frame["rule"])
    return frame[["file", "row", "column", "value", "problem and how to fix it", "what", "rule", "severity"]]


def readable(problems: Iterable[Problem], limit: int = 20) -> list[str]:
    """The first `limit` problems as sentences (file, row, column, value, what to do), errors first."""
    ordered = sorted(problems, key=lambda p: (p.severity != "error", p.file, p.count > 1, p.row or 0))
    lines = []
    for p in ordered[:limit]:
        where = p.file or "The import"
        if p.row is not None:
            where += f", row {p.row}"
        if p.column:
            where += f", column {p.column}"
        value = f" (the value is {p.value!r})" if p.value is not None else ""
        kind = "Warning — " if p.severity != "error" else ""
        lines.append(f"{kind}{where}{value}: {p.message}")
    return lines


def rule_counts(problems: Iterable[Problem]) -> pd.DataFrame:
    """Rows per rule (true counts): what, rule, severity, rows."""
    problems = list(problems)
    if not problems:
        return pd.DataFrame(columns=["what", "rule", "severity", "rows"])
    counts = summary(problems).rename(columns={"count": "rows"})
    counts.insert(0, "what", counts["rule"].map(RULE_TITLES).fillna(counts["rule"]))
    return counts


def history_frame(imports: pd.DataFrame) -> pd.DataFrame:
    """The import log made readable: when, how, from where, the files, and what changed."""
    rows = []
    for record in imports.to_dict("records"):
        counts = _json(record.get("row_counts"))
        files = _json(record.get("files"))
        changes = _json(record.get("changes"))
        mode = record.get("mode") or "replace"
        if mode == "append" and changes:
            what = "; ".join(f"{table}: {c.get('added', 0):,} new, {c.get('updated', 0):,} updated"
                             for table, c in changes.items())
        else:
            what = "; ".join(f"{table}: {n:,} rows" for table, n in counts.items())
        rows.append({
            "imported at": record["imported_at"],
            "how": "added to the data" if mode == "append" else "replaced the data",
            "source": record.get("source"),
            "files": ", ".join(str(f) for f in files.values()) if isinstance(files, dict) else "",
            "what changed": what,
            "checksum": (record.get("checksum") or "")[:12],
        })
    return pd.DataFrame(rows, columns=["imported at", "how", "source", "files", "what changed", "checksum"])


def _json(text) -> dict:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def result_message(result: importer.ImportResult) -> str:
    """What an import did, in a sentence for the page."""
    if not result.written:
        return "Nothing new: every row was already there, so nothing changed."
    if result.mode == "append":
        parts = [f"{c.added:,} new and {c.updated:,} updated {name}" for name, c in result.changes.items()]
        return "Imported: " + "; ".join(parts) + ". Every page now shows the new data."
    parts = [f"{n:,} {name}" for name, n in result.row_counts.items()]
    return "Imported: the data now holds " + ", ".join(parts) + ". Every page now shows it."
