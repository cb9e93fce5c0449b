"""Reading a community's contract files into tables of text.

A folder holds one file per contract table, named after the table: `referrals.csv`,
`agencies.parquet`, ... Reading keeps every cell as text — no type guessing, so identifiers keep
their leading zeros — and leaves the judgement of the values to `atlas.validate`. Reading does
normalise what carries no meaning: header names and cells are stripped of surrounding whitespace,
an empty or whitespace-only cell is missing, and blank rows at the end of a file are dropped.

What can go wrong at this stage (a file that is not what its extension says, two files for one
table, a missing mandatory table, a row with the wrong number of values) is reported as
`Problem`s, not raised.

Each file format is one reader in `READERS`, keyed by extension: a reader turns a file into an Arrow
table of strings or raises `Unreadable`. Another format (Excel, another encoding or delimiter) is
another reader.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from atlas.contract import TABLES, Table
from atlas.validate import ROWS_LISTED, VALUE_CHARS, Problem

# The first bytes of file formats people save by mistake under a data file's name.
_SIGNATURES = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook is one)",
    b"\xd0\xcf\x11\xe0": "an old-style Excel or Office file",
    b"\xff\xfe": "UTF-16 text",
    b"\xfe\xff": "UTF-16 text",
}
_HEAD_BYTES = 1 << 16  # how much of a CSV file is sniffed before parsing it in full


@dataclass(frozen=True, eq=False)
class RawTable:
    """One contract table as read from its file, before validation.

    `frame` holds text only: every cell is a str or missing, in the file's column order, with a
    RangeIndex, so the file row of `frame.iloc[i]` is `i + 2` (the header is row 1).
    """

    table: str  # contract table name, e.g. "referrals"
    file: str  # file name as the user knows it, e.g. "referrals.csv"
    frame: pd.DataFrame


class Unreadable(Exception):
    """A file cannot be read as its extension says; carries the problems to report."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].message)
        self.problems = problems


def read_folder(path: str | Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every contract file in the folder `path` (not its subfolders).

    Returns the tables read, by table name, and the problems met: files that could not be read,
    two files for one table, missing mandatory tables (errors), and entries that are not contract
    files, which are ignored (warnings). Hidden entries (".DS_Store", ...) are skipped silently.
    Raises NotADirectoryError when `path` is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    found: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        table = entry.stem.lower()
        if entry.is_file() and table in TABLES and entry.suffix.lower() in READERS:
            found.setdefault(table, []).append(entry)
        else:
            problems.append(_ignored(entry))

    tables: dict[str, RawTable] = {}
    for table, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            problems.append(Problem(
                paths[0].name, None, None, None, "duplicate_file",
                f"{names} both hold the {table} table: keep only one of them in the folder."))
            continue
        raw, file_problems = read_file(paths[0], table)
        problems += file_problems
        if raw is not None:
            tables[table] = raw

    for table in TABLES.values():
        if table.mandatory and table.name not in found:
            problems.append(Problem(
                f"{table.name}.csv", None, None, None, "missing_file",
                f"The {table.name} table is mandatory: add {table.name}.csv (or {table.name}.parquet) "
                "to the folder."))
    return tables, problems


def read_file(path: str | Path, table: str | None = None) -> tuple[RawTable | None, list[Problem]]:
    """Read one contract file; `table` defaults to the file name without its extension.

    Returns the table, or None with the problems that made the file unreadable. Raises ValueError
    for a table the contract does not know or an extension no reader handles.
    """
    path = Path(path)
    name = table or path.stem.lower()
    if name not in TABLES:
        raise ValueError(f"{name!r} is not a contract table (one of {', '.join(TABLES)})")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"cannot read {path.name}: the readable extensions are {', '.join(READERS)}")
    try:
        arrow = reader(path, TABLES[name])
    except Unreadable as unreadable:
        return None, unreadable.problems
    return RawTable(name, path.name, _text_frame(arrow)), []


def _ignored(entry: Path) -> Problem:
    """The warning for a folder entry that is not a contract file."""
    if entry.is_dir():
        why = "it is a folder; put the contract files directly in the import folder."
    elif entry.stem.lower() in TABLES:
        why = (f"it looks like the {entry.stem.lower()} table, but only {' and '.join(READERS)} files "
               "are read: save it as CSV (UTF-8, comma-separated).")
    else:
        why = f"it is not a contract table (those are {', '.join(f'{t}.csv' for t in TABLES)})."
    return Problem(entry.name, None, None, None, "ignored_file", f"Ignored: {why}", "warning")


def _read_csv(path: Path, table: Table) -> pa.Table:
    """A UTF-8 (optionally with BOM), comma-separated file with a header row, as Arrow strings.

    The file's content is checked, not only its name: a binary file or text in another encoding is
    refused, and so is the whole file when a row has more or fewer values than the header (each
    such row is reported with its number).
    """
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)

    def refuse(rule: str, message: str) -> Unreadable:
        return Unreadable([Problem(path.name, None, None, None, rule, message)])

    kind = next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)
    if kind is not None or b"\0" in head:
        raise refuse("not_csv", f"This is not a CSV text file (it is {kind or 'a binary file'}): "
                                "save the table as CSV (UTF-8, comma-separated).")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        raise refuse("not_csv", "This file is not UTF-8 text: save it as 'CSV UTF-8'.") from None
    header = next(csv.reader(io.StringIO(text)), [])
    if not any(name.strip() for name in header):
        raise refuse("empty_file", "The file has no header row: the first row names the columns.")
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        raise refuse("delimiter", "Values are separated by semicolons or tabs: save the file with "
                                  "commas between values (CSV UTF-8, comma-separated).")

    names = [f"c{i}" for i in range(len(header))]
    bad_rows: list[tuple[int, str]] = []  # (row number, text), the first ROWS_LISTED of them
    bad_count = 0

    def skip_bad_row(row) -> str:
        nonlocal bad_count
        bad_count += 1
        if len(bad_rows) < ROWS_LISTED:
            bad_rows.append((row.number, row.text))
        return "skip"

    try:
        arrow = pacsv.read_csv(
            path,
            # Single-threaded so that the parser knows the number of each row it rejects.
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=skip_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as error:
        reason = "it is not UTF-8 text" if "UTF8" in str(error) else _first_line(error)
        raise refuse("not_csv", f"The file cannot be read as CSV ({reason}): save it as CSV (UTF-8, "
                                "comma-separated), with text containing commas or quotes in double "
                                "quotes.") from None
    if bad_rows:
        problems = [Problem(path.name, number, None, row_text, "field_count",
                            f"This row does not have {len(header)} values like the header: put text "
                            "containing commas in double quotes, and give every row the same columns. "
                            "The file is not read until every row is fixed.")
                    for number, row_text in bad_rows]
        if bad_count > len(bad_rows):
            problems.append(Problem(
                path.name, None, None, None, "field_count",
                f"… and {bad_count - len(bad_rows):,} more rows with the wrong number of values "
                f"({bad_count:,} in all).", count=bad_count - len(bad_rows)))
        raise Unreadable(problems)
    header_row = arrow.slice(0, 1).to_pylist()[0]
    return arrow.slice(1).rename_columns([header_row[n] or "" for n in names])


def _read_parquet(path: Path, table: Table) -> pa.Table:
    """A Parquet file, each column rendered as text in the contract's formats.

    Whole numbers are written without a decimal point (4.0 as 4), dates YYYY-MM-DD, timestamps
    YYYY-MM-DD HH:MM:SS (whole seconds; a time zone stays visible, as an offset or Z, so that
    validation refuses it). A timestamp at midnight in a date column is written as its date, and a
    date on the 1st in a month column as YYYY-MM, since pandas and Arrow store those as timestamps
    and dates.
    """
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(max(path.stat().st_size - 4, 0))
        tail = f.read(4)

    def refuse(message: str) -> Unreadable:
        return Unreadable([Problem(path.name, None, None, None, "not_parquet", message)])

    if head != b"PAR1" or tail != b"PAR1":
        raise refuse("This is not a Parquet file: if it is a CSV file, name it "
                     f"{path.stem}.csv instead.")
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise refuse(f"The Parquet file cannot be read ({_first_line(error)}): write it again.") from None
    types = {c.name: c.type for c in table.columns}
    columns = []
    for name, column in zip(arrow.column_names, arrow.columns):
        try:
            columns.append(_parquet_text(column, types.get(name.strip())))
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            raise refuse(f"Column {name} holds {column.type} values, which are not text, numbers, "
                         "dates or timestamps: write it as one of those.") from None
    return pa.table(columns, names=arrow.column_names)


def _parquet_text(column: pa.ChunkedArray, contract_type: str | None) -> pa.ChunkedArray:
    """One Parquet column as text in the contract's formats (see `_read_parquet`)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _parquet_text(column.cast(kind.value_type), contract_type)
    if pa.types.is_timestamp(kind):
        column = column.cast(pa.timestamp("s", tz=kind.tz), safe=False)  # whole seconds
    text = column.cast(pa.string())  # Arrow writes ISO dates and times, and a zone as an offset
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        if contract_type == "date":
            return pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1")
        if contract_type == "month":
            return pc.replace_substring_regex(text, r"^(\d{4}-\d{2})-01(?: 00:00:00)?$", r"\1")
    return text


def _first_line(error: Exception) -> str:
    """The start of an Arrow error message, short enough for a problem message."""
    return str(error).strip().split("\n")[0][:VALUE_CHARS]


def _text_frame(arrow: pa.Table) -> pd.DataFrame:
    """Strip names and cells, make blank cells missing, drop trailing blank rows, to pandas."""
    columns = []
    has_value = np.zeros(arrow.num_rows, dtype=bool)
    for column in arrow.columns:
        stripped = pc.utf8_trim_whitespace(column.cast(pa.large_string()))  # pandas' own string type
        column = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.large_string()), stripped)
        has_value |= column.is_valid().to_numpy(zero_copy_only=False)
        columns.append(column)
    filled = np.flatnonzero(has_value)
    length = int(filled[-1]) + 1 if len(filled) else 0
    names = [name.strip() for name in arrow.column_names]
    arrow = pa.table(columns, names=[f"c{i}" for i in range(len(columns))]).slice(0, length)
    frame = arrow.to_pandas()
    frame.columns = names
    return frame


READERS: dict[str, Callable[[Path, Table], pa.Table]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
}
