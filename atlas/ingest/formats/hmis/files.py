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
from atlas.ingest.formats.hmis.faults import KEY_COLUMN, Faults, other_forms
from atlas.ingest.problems import Problem

SPEC = "HMIS CSV FY2024"

# The files read, in the order they are mapped; the files an export must hold.
READ = ("Export", "Organization", "Project", "ProjectCoC", "Funder", "Inventory", "Enrollment", "Exit", "Event")
# Without Enrollment.csv an export still gives the directory and its capacity.
REQUIRED_FILES = ("Organization", "Project")
NEVER_READ = ("Client",)  # personal data: never opened, never unpacked
BESIDE = ("partnerships", "needs")  # contract files that may travel with the export


@dataclass(frozen=True)
class HmisColumn:
    """A column of the HMIS CSV format that the import reads."""

    name: str
    type: str  # "id", "text", "int" (a code or count), "date" (YYYY-MM-DD), "timestamp" (YYYY-MM-DD HH:MM:SS)
    filled: bool = False  # the import needs it: an empty id, date or count leaves its row out
    required: bool = True  # the column must be in the file's header (False: older exports may lack it)


def _columns(*spec: tuple) -> tuple[HmisColumn, ...]:
    return tuple(HmisColumn(*s) for s in spec)


_DELETED = ("DateDeleted", "text")  # any value marks a deleted record, in whatever form it is written
_UPDATED = ("DateUpdated", "timestamp", False, False)  # of two rows with one id, the later stands
COLUMNS: dict[str, tuple[HmisColumn, ...]] = {
    "Export": _columns(("ExportID", "id", True), ("ExportStartDate", "date", True),
                       ("ExportEndDate", "date", True), ("CSVVersion", "text", False, False)),
    "Organization": _columns(("OrganizationID", "id", True), ("OrganizationName", "text", True),
                             ("VictimServiceProvider", "int"), _UPDATED, _DELETED),
    "Project": _columns(("ProjectID", "id", True), ("OrganizationID", "id", True), ("ProjectName", "text", True),
                        ("ProjectCommonName", "text", False, False), ("ProjectType", "int"), _UPDATED, _DELETED),
    "ProjectCoC": _columns(("ProjectCoCID", "id", True), ("ProjectID", "id", True), ("CoCCode", "text"),
                           ("City", "text"), _UPDATED, _DELETED),
    "Funder": _columns(("FunderID", "id", True), ("ProjectID", "id", True), ("Funder", "int"),
                       ("OtherFunder", "text", False, False), ("StartDate", "date"), _UPDATED, _DELETED),
    "Inventory": _columns(("InventoryID", "id", True), ("ProjectID", "id", True), ("BedInventory", "int", True),
                          ("InventoryStartDate", "date", True), ("InventoryEndDate", "date"), _UPDATED, _DELETED),
    "Enrollment": _columns(("EnrollmentID", "id", True), ("PersonalID", "id", True), ("ProjectID", "id", True),
                           ("EntryDate", "date", True), _UPDATED, _DELETED),
    "Exit": _columns(("ExitID", "id", True), ("EnrollmentID", "id", True), ("PersonalID", "id", True),
                     ("ExitDate", "date", True), ("Destination", "int"), _UPDATED, _DELETED),
    "Event": _columns(("EventID", "id", True), ("EnrollmentID", "id", True), ("PersonalID", "id", True),
                      ("EventDate", "date", True), ("Event", "int"), ("LocationCrisisOrPHHousing", "text"),
                      ("ReferralResult", "int"), ("ResultDate", "date"), _UPDATED, _DELETED),
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

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIMESTAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
_INT = r"-?\d{1,9}"
PARSE = {"date": validate._datetime_parser(_DATE), "timestamp": validate._datetime_parser(_TIMESTAMP)}
_WRITTEN = {"date": "%Y-%m-%d", "timestamp": "%Y-%m-%d %H:%M:%S"}  # how the mapping reads a date read in another form
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
    left_out: np.ndarray | None = None  # a row-level fault leaves it out (see faults.FAULTS)

    @property
    def live(self) -> np.ndarray:
        return ~(self.deleted_own | self.deleted_parent | self.left_out)


def read_export_file(path: Path, hmis_name: str, problems: list[Problem]) -> ExportFile | None:
    """One HMIS CSV file: its columns that the import reads, as text; None when it cannot be read."""
    name = f"{hmis_name}.csv"
    spec = COLUMNS[hmis_name]
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    if not head.strip():  # empty (0 bytes), as some exporters write a file with no records: no rows
        return ExportFile(name, pa.table({c.name: pa.array([], pa.large_string()) for c in spec}).to_pandas())
    header = _header(head, name, spec, problems)
    if header is None:
        return None
    names, present = header
    labels = [f"c{i}" for i in range(len(names))]
    if len(head) < _HEAD_BYTES and b"\n" not in head.rstrip(b"\r\n"):
        # the header alone, with or without a line end after it (which Arrow cannot skip): no rows
        table = pa.table({labels[i]: pa.array([], pa.large_string()) for i in present.values()})
    else:
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


def _header(head: bytes, name: str, spec: tuple[HmisColumn, ...], problems: list[Problem]
            ) -> tuple[list[str], dict[str, int]] | None:
    """The header of a file beginning with `head` and the position of each column of `spec` in it; None (with
    the problem) when the file is not text, or not this file of the HMIS CSV format, or lacks a column the
    import reads."""
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

_EMPTY_RULE = {"id": "hmis_empty_id", "date": "hmis_empty_date", "int": "hmis_bad_count"}


def parse_cells(hmis_name: str, f: ExportFile, faults: Faults) -> None:
    """Parse every read code, count and date into `f.typed`, and leave out each row (not deleted) whose id,
    needed date or count is empty, or whose date or count cannot be read. A code that cannot be read is
    left missing: the mapping reads it as "data not collected" (see `tables`)."""
    deleted = f.frame["DateDeleted"].notna().to_numpy() if "DateDeleted" in f.frame else np.zeros(len(f.frame), bool)
    f.deleted_own = deleted
    f.deleted_parent = np.zeros(len(f.frame), bool)
    f.left_out = np.zeros(len(f.frame), bool)
    check = ~deleted
    for column in COLUMNS[hmis_name]:
        if column.name == "DateUpdated":
            continue  # parsed only where two rows share an id (supersede): a million timestamps otherwise
        text = f.frame[column.name]
        empty = text.isna().to_numpy()
        if column.type == "int":
            ok = text.str.fullmatch(_INT).fillna(False).to_numpy(dtype=bool)
            f.typed[column.name] = pd.to_numeric(text.where(ok), errors="coerce").astype("Int64")
            bad = ~empty & ~ok
        elif column.type in PARSE:
            bad = _parse_date(hmis_name, f, column, faults.problems)
        else:
            bad = np.zeros(len(text), bool)
        if hmis_name == "Export":
            continue  # the export period falls back on the dates read
        if column.filled and column.type in _EMPTY_RULE and column.name != "VictimServiceProvider":
            faults.add(hmis_name, column.name, _EMPTY_RULE[column.type], empty & check,
                       f"{column.name} is empty, and the import needs it: fill it in in the HMIS.")
        if column.type in PARSE:
            faults.add(hmis_name, column.name, "hmis_bad_date", bad & check,
                       f"Not a date the import can read: {SPEC} dates are YYYY-MM-DD (2024-03-31); "
                       "DD-MON-YY (31-MAR-24) is read too, but not a form that could mean two days (03/04/2024).")
        elif column.name == "BedInventory":
            faults.add(hmis_name, column.name, "hmis_bad_count", bad & check, "Not a whole number of beds.")


def _parse_date(hmis_name: str, f: ExportFile, column: HmisColumn, problems: list[Problem]) -> np.ndarray:
    """Parse a date or timestamp column into `f.typed`, values in another unambiguous form (faults.OTHER_FORMS)
    rewritten as the format writes them, with a warning; the values that cannot be read."""
    text = f.frame[column.name]
    typed, bad = PARSE[column.type](text, None)
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        other = other_forms(text.where(bad))
        if column.type == "date":
            other = other.dt.floor("D")
        read = other.notna().to_numpy()
        if read.any():
            typed = typed.where(~read, other)
            f.frame.loc[read, column.name] = other[read].dt.strftime(_WRITTEN[column.type]).to_numpy()
            problems.append(Problem(f.name, None, column.name, None, "hmis_other_date_form",
                                    f"{int(read.sum()):,} values are written in another form than {SPEC}'s "
                                    "(such as DD-MON-YY): they were read as the days they name.", "warning",
                                    count=int(read.sum())))
            bad = bad & ~read
    f.typed[column.name] = typed
    return bad


def supersede(hmis_name: str, f: ExportFile, faults: Faults) -> None:
    """Of rows that share an id, the one updated last (DateUpdated; the later in the file on a tie) stands and
    the others are left out."""
    key = KEY_COLUMN[hmis_name]
    candidate = ~f.deleted_own & ~f.left_out & f.frame[key].notna().to_numpy()
    keys = f.frame[key][candidate]
    written = f.frame.pop("DateUpdated")[candidate] if "DateUpdated" in f.frame else None  # read for this only
    if written is None or not keys.duplicated().any():
        return
    updated, bad = PARSE["timestamp"](written, None)  # an unreadable DateUpdated counts as the oldest
    updated = updated.where(~np.asarray(bad, dtype=bool), other_forms(written.where(bad)))
    order = pd.DataFrame({"key": keys.to_numpy(), "updated": updated.to_numpy(),
                          "position": np.flatnonzero(candidate)})
    order = order.sort_values(["updated", "position"], na_position="first", kind="stable")
    older = np.sort(order["position"].to_numpy()[order.duplicated("key", keep="last").to_numpy()])
    faults.add(hmis_name, key, "hmis_duplicate", older,
               f"Another row of {f.name} has this {key} and was updated later (DateUpdated): that row stands.")


def cascade(files: dict[str, ExportFile], faults: Faults) -> None:
    """Follow each record's parent (PARENTS, parents first): a row of a deleted record is deleted; a row of a
    record that was left out, or of one not in the export at all, is left out."""
    for child, column, parent, key in PARENTS:
        f, p = files.get(child), files.get(parent)
        if f is None:
            continue
        ids = f.frame[column]
        named = ids.notna().to_numpy() & ~f.deleted_own
        if p is None:
            faults.add(child, column, "hmis_reference", named & ~f.left_out,
                       f"The export has no {parent}.csv, so the {key} this row names is not in it.")
            continue
        keys = p.frame[key]
        p_deleted = p.deleted_own | p.deleted_parent
        in_live = isin(ids, keys[~p_deleted & ~p.left_out])
        gone = named & ~in_live & isin(ids, keys[p_deleted])
        f.deleted_parent = f.deleted_parent | gone
        f.left_out = f.left_out & ~gone  # a deleted record is as if absent: not counted as left out
        open_ = named & ~gone & ~f.left_out & ~in_live
        left = isin(ids, keys[p.left_out & ~p_deleted])
        faults.add(child, column, "hmis_parent_left_out", open_ & left,
                   f"The record of {p.name} with this {key} was left out (the report says why), so this row is too.")
        faults.add(child, column, "hmis_reference", open_ & ~left,
                   f"No record of {p.name} has this {key}: it may have been left out of the export's period or "
                   "project filter. Export again with it, or fix the id in the HMIS.")


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

