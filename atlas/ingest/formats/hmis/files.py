"""The files of a HUD HMIS CSV export (FY2024): the format's files and columns that the import reads,
finding them, reading each as text, checking every cell read, and following deletions from a record
to the records that belong to it.

Part of the HMIS format of the import side (`atlas.ingest.formats.hmis` reads an export with it, and
`atlas.ingest.formats.hmis.tables` maps what it read onto the contract). **`Client.csv` is never read.**
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from atlas.ingest import sources, validate
from atlas.ingest.problems import Problem, at_rows

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

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIMESTAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
_INT = r"-?\d{1,9}"
PARSE = {"date": validate._datetime_parser(_DATE), "timestamp": validate._datetime_parser(_TIMESTAMP)}
_FORMAT_HELP = {
    "date": ("date_format", "HMIS CSV dates are YYYY-MM-DD (e.g. 2024-03-31)"),
    "timestamp": ("timestamp_format", "HMIS CSV timestamps are YYYY-MM-DD HH:MM:SS (e.g. 2024-03-31 14:05:00)"),
    "int": ("int_format", "this column holds a HUD code or count, a whole number"),
}
_HEAD_BYTES = 1 << 16


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
class ExportFile:
    name: str  # e.g. "Event.csv"
    frame: pd.DataFrame  # the columns read, as text (missing: null); row i is file row i + 2
    typed: dict[str, pd.Series] = field(default_factory=dict)  # parsed int / date columns
    deleted_own: np.ndarray | None = None  # DateDeleted set
    deleted_parent: np.ndarray | None = None  # belongs to a deleted record (and not deleted itself)
    orphan: np.ndarray | None = None  # names a record that is not in the export (an error, reported once)

    @property
    def live(self) -> np.ndarray:
        return ~(self.deleted_own | self.deleted_parent | self.orphan)


def read_export_file(path: Path, hmis_name: str, problems: list[Problem]) -> ExportFile | None:
    """One HMIS CSV file: its columns that the import reads, as text; None when it cannot be read."""
    name = f"{hmis_name}.csv"
    spec = COLUMNS[hmis_name]
    header = _header(path, name, spec, problems)
    if header is None:
        return None
    names, present = header
    labels = [f"c{i}" for i in range(len(names))]
    table = _read_columns(path, name, labels, present, problems)
    if table is None:
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
    return ExportFile(name, frame.iloc[:last].reset_index(drop=True) if last < len(frame) else frame)


def _header(path: Path, name: str, spec: tuple[HmisColumn, ...], problems: list[Problem]
            ) -> tuple[list[str], dict[str, int]] | None:
    """The file's header and the position of each column of `spec` in it; None (with the problem) when the
    file is not text, or not this file of the HMIS CSV format, or lacks a column the import reads."""
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
    return None if missing else (names, present)


def _read_columns(path: Path, name: str, labels: list[str], present: dict[str, int], problems: list[Problem]
                  ) -> pa.Table | None:
    """The columns at `present` as Arrow text (UTF-8, else Windows-1252 with a warning); None (with the
    problems) when the file is not CSV or a row does not have the header's number of values."""
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
        problems += bad.problems(name, f"This row does not have the {len(labels)} values of the header: the export is "
                                       "cut or damaged here. Export it again.")
        return None
    return table


def _binary(head: bytes) -> bool:
    return b"\0" in head or any(head.startswith(m) for m in (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"PAR1"))


# ---- checking the export -------------------------------------------------------------------------------

def parse_cells(f: ExportFile, problems: list[Problem]) -> None:
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
        elif column.type in PARSE:
            typed, bad_mask = PARSE[column.type](text, None)
            ok = ~bad_mask | empty
        else:
            continue
        bad = ~empty & ~ok & check
        rule, help_text = _FORMAT_HELP[column.type]
        problems += at_rows(f.name, column.name, rule, np.flatnonzero(bad), text,
                            f"Not in the {SPEC} format: {help_text}.")
        f.typed[column.name] = typed


def cascade(files: dict[str, ExportFile], problems: list[Problem]) -> None:
    """Mark rows of deleted parents as deleted; report rows naming a record not in the export at all."""
    for child, column, parent, key in PARENTS:
        if child not in files or parent not in files:
            continue
        f, p = files[child], files[parent]
        ids = f.frame[column]
        keys = p.frame[key]
        own_live = ~f.deleted_own
        named = ids.notna().to_numpy()
        absent = named & own_live & ~isin(ids, keys)
        problems += at_rows(f.name, column, "reference", np.flatnonzero(absent), ids,
                            f"No record of {p.name} has this {key}: the export is incomplete. Export again with "
                            f"{p.name} (the record may have been left out of the export's period or project filter).")
        gone = named & own_live & isin(ids, keys[~p.live]) & ~isin(ids, keys[p.live])
        f.deleted_parent = f.deleted_parent | gone
        f.orphan = f.orphan | absent | (named & own_live & isin(ids, keys[p.orphan]) & ~gone)


def arrow_text(values) -> pa.Array | pa.ChunkedArray:
    """Text values (a Series, an Index or a list) as Arrow large strings, without a trip through Python."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_null(array.type)):
        if len(array):
            raise TypeError(f"text expected, not {array.type}")
        array = pa.array([], pa.large_string())  # an empty index of no type
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def isin(values: pd.Series, allowed) -> np.ndarray:
    """Whether each text value is one of `allowed` (missing: False), computed in Arrow: pandas' isin on
    Arrow strings converts every value to a Python string first (seconds per million rows)."""
    value_set = pc.drop_null(pc.unique(arrow_text(allowed)))
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    found = pc.is_in(arrow_text(values), value_set=value_set)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False).astype(bool)


def is_before(earlier: pd.Series, later: pd.Series) -> np.ndarray:
    return (later < earlier).to_numpy(dtype=bool, na_value=False)



def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """The value for each key, from `values` indexed by id (the first of a repeated id); missing where absent.
    Matched in Arrow (see `isin`)."""
    values = values[~values.index.duplicated()]
    value_set = arrow_text(values.index)
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    position = pc.fill_null(pc.index_in(arrow_text(keys), value_set=value_set), -1).to_numpy(zero_copy_only=False)
    return pd.Series(values.array.take(position, allow_fill=True), index=keys.index)

