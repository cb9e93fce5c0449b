"""Reading a community's contract files into tables of text.

A folder holds one file per contract table, named after the table: `referrals.csv`,
`agencies.parquet`, ... Reading keeps every cell as text — no type guessing, so identifiers keep
their leading zeros — and leaves the judgement of the values to `atlas.ingest.validate`. Reading does
normalise what carries no meaning: header names and cells are stripped of surrounding whitespace,
an empty or whitespace-only cell is missing, and blank rows at the end of a file are dropped.

What can go wrong at this stage (a file that is not what its extension says, two files for one
table, a missing mandatory table, a row with the wrong number of values) is reported as
`Problem`s, not raised.

Each file format is one reader in `READERS`, keyed by extension: a reader turns a file into an Arrow
table of strings (and any warnings) or raises `Unreadable`. CSV is read in UTF-8 (with or without a
byte-order mark), UTF-16 with its byte-order mark, or Windows-1252, with commas, semicolons or tabs
between values (detected); Excel workbooks (.xlsx) through python-calamine; Parquet. Every reader
checks the file's content, not its name. `read_text` reads any such file, for formats that are not
contract tables (an HSDS directory's).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
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
from atlas.ingest.problems import ROWS_LISTED, VALUE_CHARS, Problem

# The first bytes of file formats people save by mistake under a data file's name.
_SIGNATURES = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook is one)",
    b"\xd0\xcf\x11\xe0": "an old-style Excel or Office file",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
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


class BadRows:
    """An Arrow CSV `invalid_row_handler` that skips rows whose number of values is not the header's,
    keeping the number and text of the first ROWS_LISTED of them and counting the rest."""

    def __init__(self):
        self.listed: list[tuple[int, str]] = []  # (row number, text)
        self.count = 0

    def __call__(self, row) -> str:
        self.count += 1
        if len(self.listed) < ROWS_LISTED:
            self.listed.append((row.number, row.text))
        return "skip"

    def problems(self, file: str, message: str) -> list[Problem]:
        """One problem per listed row, and one that counts the rest."""
        found = [Problem(file, number, None, text, "field_count", message) for number, text in self.listed]
        if self.count > len(self.listed):
            more = self.count - len(self.listed)
            found.append(Problem(file, None, None, None, "field_count",
                                 f"… and {more:,} more rows with the wrong number of values ({self.count:,} in all).",
                                 count=more))
        return found


class Unreadable(Exception):
    """A file cannot be read as its extension says; carries the problems to report."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].message)
        self.problems = problems


def read_folder(path: str | Path, required: tuple[str, ...] | None = None
                ) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every contract file in the folder `path` (not its subfolders).

    Returns the tables read, by table name, and the problems met: files that could not be read,
    two files for one table, missing `required` tables (by default the contract's mandatory ones;
    an append needs none) (errors), and entries that are not contract files, which are ignored
    (warnings). Hidden entries (".DS_Store", ...) are skipped silently. Raises NotADirectoryError
    when `path` is not a folder.
    """
    paths, problems = list_folder(path, required)
    tables: dict[str, RawTable] = {}
    for table, file in paths.items():
        raw, file_problems = read_file(file, table)
        problems += file_problems
        if raw is not None:
            tables[table] = raw
    return tables, problems


def list_folder(path: str | Path, required: tuple[str, ...] | None = None
                ) -> tuple[dict[str, Path], list[Problem]]:
    """The contract files in the folder `path`, by table, without reading them; and the problems of
    the folder itself (as `read_folder` reports them: two files for one table, missing `required`
    tables, entries that are not contract files)."""
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    found: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "datapackage.json":  # hidden, or the files' description
            continue
        table = entry.stem.lower()
        if entry.is_file() and table in TABLES and entry.suffix.lower() in READERS:
            found.setdefault(table, []).append(entry)
        else:
            problems.append(_ignored(entry))

    paths: dict[str, Path] = {}
    for table, files in found.items():
        if len(files) > 1:
            names = " and ".join(p.name for p in files)
            problems.append(Problem(
                files[0].name, None, None, None, "duplicate_file",
                f"{names} both hold the {table} table: keep only one of them in the folder."))
            continue
        paths[table] = files[0]

    if required is None:
        required = tuple(t.name for t in TABLES.values() if t.mandatory)
    for table in (TABLES[name] for name in required):
        if table.name not in found:
            problems.append(Problem(
                f"{table.name}.csv", None, None, None, "missing_file",
                f"The {table.name} table is mandatory: add {table.name}.csv (or {table.name}.parquet) "
                "to the folder."))
    return paths, problems


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
        read = reader(path, TABLES[name])
    except Unreadable as unreadable:
        return None, unreadable.problems
    arrow, warnings = read if isinstance(read, tuple) else (read, [])
    return RawTable(name, path.name, _text_frame(arrow)), warnings


def read_text(path: str | Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Any table file a reader handles (not only contract tables, e.g. an HSDS directory's), as a
    frame of text like `RawTable.frame`, or None with the problems that made it unreadable."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"cannot read {path.name}: the readable extensions are {', '.join(READERS)}")
    try:
        read = reader(path, None)
    except Unreadable as unreadable:
        return None, unreadable.problems
    arrow, warnings = read if isinstance(read, tuple) else (read, [])
    return _text_frame(arrow), warnings


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


_SAVE_AS = "save the table as CSV (UTF-8, comma-separated)"


def _as_utf8(name: str, data: bytes) -> tuple[bytes, list[Problem]]:
    """A text file's bytes as UTF-8 without a byte-order mark, from UTF-8, UTF-16 (with its mark) or
    Windows-1252 (with a warning); a binary file, or text in no known encoding, is refused."""
    head = data[:_HEAD_BYTES]
    save_as = _SAVE_AS

    def refuse(rule: str, message: str) -> Unreadable:
        return Unreadable([Problem(name, None, None, None, rule, message)])

    warnings: list[Problem] = []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise refuse("not_csv", f"This file starts like UTF-16 text but is not: {save_as}.") from None
    else:
        kind = next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)
        if kind is not None or _looks_binary(head):
            hint = (" (UTF-16 text without its byte-order mark looks like this too)"
                    if kind is None and b"\0" in head else "")
            raise refuse("not_csv", f"This is not a CSV text file (it is {kind or 'a binary file'}"
                                    f"{hint}): {save_as}.")
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                data = data.decode("cp1252").encode("utf-8")
            except UnicodeDecodeError:
                raise refuse("not_csv", "This file's text is neither UTF-8 nor Windows-1252: save it as "
                                        "'CSV UTF-8'.") from None
            warnings.append(Problem(
                name, None, None, None, "encoding",
                "Read as Windows-1252 (Western European) text, as older Excel saves CSV: if accented "
                "letters look wrong in the report or on the pages, save the file as 'CSV UTF-8'.",
                "warning"))
    return data, warnings


def _read_csv(path: Path, table: Table | None) -> tuple[pa.Table, list[Problem]]:
    """A delimited text file with a header row, as Arrow strings.

    Real exports are accepted as they come: UTF-8 with or without a byte-order mark, UTF-16 (little
    or big endian, with its byte-order mark, as Excel's "Unicode text" writes it) and Windows-1252
    (Excel's "CSV" on Western-European Windows; read with a warning); values separated by commas,
    semicolons or tabs, whichever the header and first rows show; quoted values may span lines.

    The file's content is checked, not only its name: a binary file or text in no known encoding is
    refused, and so is the whole file when a row has more or fewer values than the header (each
    such row is reported with its number).
    """
    data, warnings = _as_utf8(path.name, path.read_bytes())
    save_as = _SAVE_AS

    def refuse(rule: str, message: str) -> Unreadable:
        return Unreadable([Problem(path.name, None, None, None, rule, message)])

    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data[:_HEAD_BYTES], final=False)
    delimiter = _sniff_delimiter(text, table)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    if not any(name.strip() for name in header):
        raise refuse("empty_file", "The file has no header row: the first row names the columns.")

    names = [f"c{i}" for i in range(len(header))]
    bad_rows = BadRows()

    try:
        arrow = pacsv.read_csv(
            pa.BufferReader(data),
            # Single-threaded so that the parser knows the number of each row it rejects.
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                invalid_row_handler=bad_rows),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as error:
        raise refuse("not_csv", f"The file cannot be read as CSV ({_first_line(error)}): {save_as}, "
                                "with text containing commas or quotes in double quotes.") from None
    if bad_rows.count:
        separator = _DELIMITER_NAMES[delimiter]
        problems = bad_rows.problems(path.name, (
            f"This row does not have {len(header)} values like the header: put text containing {separator} in "
            "double quotes, and give every row the same columns. The file is not read until every row is fixed."))
        raise Unreadable(problems)
    header_row = arrow.slice(0, 1).to_pylist()[0]
    return arrow.slice(1).rename_columns([header_row[n] or "" for n in names]), warnings


_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}


def _sniff_delimiter(text: str, table: Table | None) -> str:
    """The delimiter of a file whose beginning is `text`: the one that splits the header into the
    most contract column names, then gives the first rows the header's number of values most often,
    then splits the header into the most columns. A comma when nothing tells."""
    lines = text.splitlines(keepends=True)
    if len(text) >= _HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    sample = "".join(lines[:51])
    known = {c.name for c in table.columns} if table is not None else set()

    def score(delimiter: str) -> tuple:
        try:
            rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        except csv.Error:
            return (0, 0.0, 0)
        if not rows:
            return (0, 0.0, 0)
        header = [name.strip() for name in rows[0]]
        body = rows[1:]
        consistent = sum(len(row) == len(header) for row in body) / len(body) if body else 1.0
        return (len(known.intersection(header)), consistent if len(header) > 1 else 0.0, len(header))

    best = max(_DELIMITERS, key=lambda d: (score(d), d == ","))
    return best if score(best)[2] > 1 else ","


def _looks_binary(head: bytes) -> bool:
    """True for bytes no text export holds: NULs, or many control characters."""
    if b"\0" in head:
        return True
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13, 12))
    return controls > max(8, len(head) // 100)


def _read_parquet(path: Path, table: Table | None) -> pa.Table:
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
    types = {c.name: c.type for c in table.columns} if table is not None else {}
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


def _check_workbook(path: Path, refuse) -> None:
    """Refuse (by `refuse(message)`) a file that is not an .xlsx workbook: an old .xls, CSV text, another
    zip archive, a damaged file."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise refuse("This is an old-style Excel workbook (.xls): in Excel, save it as 'Excel Workbook "
                     "(.xlsx)' or as 'CSV UTF-8'.")
    if not head.startswith(b"PK\x03\x04"):
        text = not _looks_binary(head) and b"," in path.read_bytes()[:_HEAD_BYTES]
        raise refuse("This is not an Excel workbook" + (
            f" (it looks like CSV text: name it {path.stem}.csv)" if text else "") + ".")
    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise refuse("This is a zip archive, not an Excel workbook: save the table from Excel "
                             "as 'Excel Workbook (.xlsx)' or as 'CSV UTF-8'.")
    except zipfile.BadZipFile:
        raise refuse("The workbook is damaged and cannot be opened: save it again from Excel.") from None


def _read_xlsx(path: Path, table: Table | None) -> tuple[pa.Table, list[Problem]]:
    """An Excel workbook (.xlsx): the sheet named after the table, else the first sheet; row 1 of
    the sheet names the columns, so row numbers are Excel's.

    Cells become text in the contract's formats, as for Parquet: whole numbers without a decimal
    point, dates YYYY-MM-DD (YYYY-MM in a month column, for the 1st), times to the second. Excel
    keeps no leading zeros of an id it stored as a number, so such ids are reported (a warning).
    """
    def refuse(message: str) -> Unreadable:
        return Unreadable([Problem(path.name, None, None, None, "not_xlsx", message)])

    _check_workbook(path, refuse)
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        with CalamineWorkbook.from_path(str(path)) as book:
            sheets = [m.name for m in book.sheets_metadata if str(m.typ).endswith("WorkSheet")]
            named = [s for s in sheets if table is not None and s.strip().lower() == table.name]
            if not sheets:
                raise refuse("The workbook has no worksheet.")
            sheet = named[0] if named else sheets[0]
            rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except PasswordError:
        raise refuse("The workbook is protected by a password: save a copy without one.") from None
    except Unreadable:
        raise
    except Exception as error:  # calamine raises its own errors, and zip and XML ones
        raise refuse(f"The workbook cannot be read ({_first_line(error)}): save it again from Excel, "
                     "or save the sheet as 'CSV UTF-8'.") from None
    warnings = []
    if len(sheets) > 1 and not named:
        warnings.append(Problem(path.name, None, None, None, "sheet", (
            f"The workbook has {len(sheets)} sheets; only the first, {sheet!r}, was read" + (
                f" (a sheet named {table.name!r} would be read instead)" if table is not None else "")
            + "."), "warning"))
    if not rows or not any(_cell_text(v, None) for v in rows[0]):
        raise refuse(f"Row 1 of sheet {sheet!r} is empty: the first row names the columns.")
    width = max(len(row) for row in rows)
    header = [_cell_text(v, None) or "" for v in rows[0]] + [""] * (width - len(rows[0]))
    types = {c.name: c.type for c in table.columns} if table is not None else {}
    columns = []
    for i, name in enumerate(header):
        kind = types.get(name.strip())
        cells = [row[i] if i < len(row) else None for row in rows[1:]]
        if kind == "id":
            numbers = sum(isinstance(v, (int, float)) and not isinstance(v, bool) for v in cells)
            if numbers:
                warnings.append(Problem(path.name, None, name, None, "id_as_number", (
                    f"Excel stored {numbers:,} of these ids as numbers, which keeps no leading zeros "
                    "(007 becomes 7): format the column as Text in Excel and type the ids again, or "
                    "check that the ids have none."), "warning"))
        columns.append(pa.array([_cell_text(v, kind) for v in cells], pa.large_string()))
    return pa.table(columns, names=header), warnings


def _cell_text(value, kind: str | None) -> str | None:
    """One Excel cell as text in the contract's formats (see `_read_xlsx`)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        value = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)  # Excel's float time
        if kind == "month" and value == dt.datetime(value.year, value.month, 1):
            return f"{value:%Y-%m}"
        if value.time() == dt.time() and kind != "timestamp":
            return f"{value:%Y-%m-%d}"
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m}" if kind == "month" and value.day == 1 else value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    return str(value)


def _first_line(error: Exception) -> str:
    """The start of an Arrow error message, short enough for a problem message."""
    return str(error).strip().split("\n")[0][:VALUE_CHARS]


def _text_frame(arrow: pa.Table) -> pd.DataFrame:
    """Strip names and cells, make blank cells missing, drop trailing blank rows, to pandas."""
    columns, filled = _stripped(arrow)
    length = int(filled[-1]) + 1 if len(filled) else 0
    names = [name.strip() for name in arrow.column_names]
    arrow = pa.table(columns, names=[f"c{i}" for i in range(len(columns))]).slice(0, length)
    frame = arrow.to_pandas()
    frame.columns = names
    return frame


# ---- reading in batches ----------------------------------------------------------------------------

BLOCK_BYTES = 32 << 20  # how much of a CSV file one batch holds (about 250,000 referral rows)


class Batches:
    """A contract file read a batch of rows at a time, for tables too large to hold whole.

    Iterating gives (offset, frame) pairs: frames of text like `RawTable.frame`, each with the
    contract's header names, in file order, and the number of rows before each (the file row of the
    frame's position i is offset + i + 2). Blank rows at the end of a batch are held back and given
    with the next batch, so blank rows at the end of the file are dropped as `read_file` drops them.

    A CSV file in UTF-8 is streamed (Arrow's reader, on both cores); anything else (Parquet, a
    workbook, text in another encoding) is read whole by `read_file` and given as one batch. After
    iterating, `unreadable` holds the problems that make the file unreadable (rows with the wrong
    number of values), if any: the batches given are then not the file's rows and must be discarded.
    `estimated_rows` is the file's number of rows as its first 64 KiB suggest, for progress.
    """

    def __init__(self, path: str | Path, table: str, block_bytes: int = BLOCK_BYTES):
        self.path = Path(path)
        self.table = table
        self.block_bytes = block_bytes
        self.size = self.path.stat().st_size
        self.offset = 0
        self.estimated_rows: int | None = None
        self.header: list[str] | None = None
        self.warnings: list[Problem] = []
        self.unreadable: list[Problem] | None = None

    def __iter__(self):
        streamed = self._stream() if self.path.suffix.lower() in (".csv", ".tsv") else None
        if streamed is not None:
            try:
                yield from streamed
                return
            except _NotUtf8:  # read again, whole, in the encoding read_file finds
                pass
        self.offset, self.header, self.warnings = 0, None, []
        raw, problems = read_file(self.path, self.table)
        if raw is None:
            self.unreadable = problems
            return
        self.warnings = problems
        self.header = [str(name) for name in raw.frame.columns]
        self.estimated_rows = len(raw.frame)
        yield 0, raw.frame

    def _stream(self):
        """The generator of a UTF-8 CSV file's batches, or None when the file is not read this way."""
        with self.path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_binary(head) or any(
                head.startswith(magic) for magic in _SIGNATURES):
            return None  # read_file says what it is
        bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        try:
            text = head[bom:].decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - bom - 4:  # not only a character cut at the end of the sample
                return None
            text = head[bom:error.start].decode("utf-8")
        delimiter = _sniff_delimiter(text, TABLES[self.table])
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        if not any(name.strip() for name in header):
            return None  # read_file reports the empty file
        lines = head.count(b"\n")
        self.estimated_rows = max(1, round((self.size - bom) * lines / len(head)) - 1) if lines else 1
        return self._batches(bom, delimiter, len(header))

    def _batches(self, bom: int, delimiter: str, width: int):
        names = [f"c{i}" for i in range(width)]
        bad_rows = BadRows()
        source = self.path.open("rb")
        source.seek(bom)
        try:
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(column_names=names, use_threads=True, block_size=self.block_bytes),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                                 ignore_empty_lines=False, invalid_row_handler=bad_rows),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.large_string() for n in names}, strings_can_be_null=True,
                    null_values=[""], quoted_strings_can_be_null=True))
            held = None  # blank rows at the end of the last batch
            for batch in reader:
                table = pa.Table.from_batches([batch])
                if self.header is None:
                    if not table.num_rows:
                        continue
                    self.header = [(v or "").strip() for v in table.slice(0, 1).to_pylist()[0].values()]
                    table = table.slice(1)
                if held is not None:
                    table = pa.concat_tables([held, table])
                columns, filled = _stripped(table)
                last = int(filled[-1]) + 1 if len(filled) else 0
                held = table.slice(last) if last < table.num_rows else None
                if last:
                    frame = pa.table(columns, names=names).slice(0, last).to_pandas()
                    frame.columns = self.header
                    yield self.offset, frame
                    self.offset += last
        except pa.ArrowInvalid as error:
            if "UTF8" in str(error) or "UTF-8" in str(error):
                raise _NotUtf8() from None
            save_as = "save the table as CSV (UTF-8, comma-separated)"
            self.unreadable = [Problem(self.path.name, None, None, None, "not_csv", (
                f"The file cannot be read as CSV ({_first_line(error)}): {save_as}, with text containing "
                "commas or quotes in double quotes."))]
            return
        finally:
            source.close()
        if bad_rows.count:
            if any(number is None or number < 0 for number, _ in bad_rows.listed):  # read on two cores: number again
                _, problems = read_file(self.path, self.table)
                self.unreadable = problems
                return
            separator = _DELIMITER_NAMES[delimiter]
            self.unreadable = bad_rows.problems(self.path.name, (
                f"This row does not have {width} values like the header: put text containing {separator} in "
                "double quotes, and give every row the same columns. The file is not read until every row is "
                "fixed."))


class _NotUtf8(Exception):
    """A streamed CSV file turned out not to be UTF-8."""


def _stripped(arrow: pa.Table) -> tuple[list[pa.ChunkedArray], np.ndarray]:
    """The table's columns stripped, blank cells missing; and the positions of rows with a value."""
    columns = []
    has_value = np.zeros(arrow.num_rows, dtype=bool)
    for column in arrow.columns:
        stripped = pc.utf8_trim_whitespace(column.cast(pa.large_string()))  # pandas' own string type
        column = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.large_string()), stripped)
        has_value |= column.is_valid().to_numpy(zero_copy_only=False)
        columns.append(column)
    return columns, np.flatnonzero(has_value)


# A reader returns the file's Arrow table of strings, or that and the warnings it has to report.
READERS: dict[str, Callable[[Path, Table | None], pa.Table | tuple[pa.Table, list[Problem]]]] = {
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".parquet": _read_parquet,
    ".xlsx": _read_xlsx,
}
