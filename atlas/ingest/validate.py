"""Validating contract tables: every rule of the import contract, all problems in one pass.

`parse` turns one table of text (as `atlas.ingest.sources` reads it) into its canonical typed form and
reports what does not fit a column: a missing column, an empty required cell, a value in the wrong
format, outside its range or not among the allowed values. `check` applies the rules across rows and
tables to the typed frames: unique keys, references, the order of timestamps and the states a
referral can be in. `validate` does both for a whole import.

Every problem names the file, the row as in the file (the header is row 1), the column, the value
and a stable rule id, with a message that says how to fix it. The work is vectorised, and the list
is bounded as `atlas.ingest.problems` lists a rule's rows: the first `ROWS_LISTED` listed, the rest
counted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.contract import ORDERS, PII_COLUMN_PATTERNS, PII_TABLES, REFERENCES, TABLES, Column, Order, Reference, Table
from atlas.ingest.problems import ROWS_LISTED, Problem, at_rows, shown

if TYPE_CHECKING:
    from atlas.ingest.sources import RawTable

# Canonical pandas dtype of each contract column type.
DTYPES = {
    "id": "string", "text": "string", "enum": "string", "bool": "boolean", "int": "Int64",
    "date": "datetime64[us]", "month": "datetime64[us]", "timestamp": "datetime64[us]",
}

_TIMESTAMP = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_DATE = r"\d{4}-\d{2}-\d{2}"
_MONTH = r"\d{4}-\d{2}"
_ZONED = re.compile(_TIMESTAMP + r" ?(?:Z|[+-]\d{2}(?::?\d{2})?)", re.IGNORECASE)
_INT = r"-?\d{1,18}"  # at most 18 digits, so every match fits in an int64
_TRUE = ("true", "1", "yes", "t")
_FALSE = ("false", "0", "no", "f")
_PII = tuple(re.compile(pattern) for pattern in PII_COLUMN_PATTERNS)

# Rules of the contract that contract.py does not state as data.
# (table, program column, agency column): the program must be one that agency runs.
_PROGRAM_OWNERS = (("referrals", "to_program_id", "to_agency_id"), ("outcomes", "program_id", "agency_id"))


def validate(raw_tables: Mapping[str, RawTable], *, limit: int = ROWS_LISTED, progress=None
             ) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Parse every table and check every rule: the typed frames and all problems found.

    The frames are returned even when there are errors; an import must write nothing unless no
    problem has severity "error". `progress` (an atlas.progress Progress or Part) hears of each table.
    """
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    rows = rules = 0
    rules_total = sum(rule_count(name) for name in raw_tables)
    for i, (name, raw) in enumerate(raw_tables.items()):
        if progress is not None:
            progress.report(0.8 * i / len(raw_tables), f"Checking {raw.file}", rows=rows, rules=rules,
                            rules_total=rules_total, problems=sum(p.count for p in problems if p.severity == "error"))
        tables[name], found = parse(raw, limit=limit)
        problems += found
        rows += len(raw.frame)
        rules += rule_count(name)
    if progress is not None:
        progress.report(0.8, "Checking the rules across rows and tables", rows=rows, rules=rules,
                        rules_total=rules_total)
    files = {name: raw.file for name, raw in raw_tables.items()}
    written = {name: raw.frame if raw.frame.columns.is_unique
               else raw.frame.loc[:, ~raw.frame.columns.duplicated()] for name, raw in raw_tables.items()}
    return tables, problems + check(tables, files, written=written, limit=limit)


def parse(raw: RawTable, *, limit: int = ROWS_LISTED, header: bool = True
          ) -> tuple[pd.DataFrame, list[Problem]]:
    """The canonical typed form of one table, and the problems of its header and cells.

    The frame has exactly the contract's columns in contract order (an absent column is all null)
    with the dtypes of `DTYPES` and a RangeIndex, so the file row of index i is i + 2. A cell that
    breaks its column's rules is null in the frame and reported. `header=False` leaves the header's
    problems out (a batch of a file after its first: see `combine`).
    """
    table = TABLES[raw.table]
    frame = raw.frame.reset_index(drop=True)
    problems = _header_problems(table, raw.file, [str(name) for name in frame.columns]) if header else []
    position = {}
    for i, name in enumerate(frame.columns):
        position.setdefault(name, i)  # a repeated column: the first one is read
    typed = {}
    for column in table.columns:
        if column.name in position:
            text = frame.iloc[:, position[column.name]].astype("str")
            typed[column.name], found = _parse_column(column, text, raw.file, limit)
            problems += found
        else:
            typed[column.name] = pd.Series(index=frame.index, dtype=DTYPES[column.type])
    return pd.DataFrame(typed, index=frame.index), problems


def check(tables: Mapping[str, pd.DataFrame], files: Mapping[str, str], *,
          written: Mapping[str, pd.DataFrame] | None = None, limit: int = ROWS_LISTED,
          context: Mapping[str, pd.DataFrame] | None = None, only: Iterable[str] | None = None,
          keys: bool = True) -> list[Problem]:
    """The rules across rows and tables, on typed frames as `parse` returns them.

    `files` names each table's file. `written` (optional) holds each table's text as read. With it,
    problems show values as written, and a cell that was filled in but failed to parse still counts
    as filled for the rules about which cells go together, so a wrong value is reported once, by
    `parse`, and not again here.

    `context` (optional, for an append) holds rows the database already stores, by table, typed
    alike. They are nobody's file rows and are not checked themselves, but a reference may name one
    of them, and a stored program's agency counts as its owner unless a file row replaces it.

    `only` (optional) names the tables whose rows are checked; the others in `tables` are there to be
    referred to (a batch of referrals checked against the agencies and programs). `keys=False` leaves
    out the unique-key rule, for a batch whose keys are checked with the whole file's (`duplicate_keys`).
    """
    written = written or {}
    context = context or {}
    checked = set(tables) if only is None else set(only)

    def text(table: str, column: str) -> pd.Series:
        raw = written.get(table)
        return raw[column] if raw is not None and column in raw.columns else tables[table][column]

    problems: list[Problem] = []
    for name, frame in tables.items():
        if keys and name in checked and TABLES[name].key:
            problems += _duplicate_keys(TABLES[name], frame, [text(name, c) for c in TABLES[name].key],
                                        files[name], limit)
    for reference in REFERENCES:
        if reference.table in checked:
            problems += _references(reference, tables, files, limit, context)
    for order in ORDERS:
        if order.table in checked:
            problems += _order(order, tables[order.table], text(order.table, order.earlier),
                               text(order.table, order.later), files[order.table], limit)
    if "referrals" in checked:
        problems += _referral_states(lambda column: text("referrals", column), files["referrals"], limit)
    if "programs" in tables or "programs" in context:
        programs = _with_context(tables, context, "programs", ("program_id",))
        agencies = (_with_context(tables, context, "agencies", ("agency_id",))
                    if "agencies" in tables or "agencies" in context else None)
        for table, program, agency in _PROGRAM_OWNERS:
            if table in checked:
                problems += _program_owner(tables[table], program, agency, programs, agencies,
                                           files[table], limit)
    if "partnerships" in checked:
        frame = tables["partnerships"]
        same = _mask(frame["agency_a_id"] == frame["agency_b_id"])
        problems += at_rows(files["partnerships"], "agency_b_id", "self_partnership", same, frame["agency_b_id"],
                            "An agency cannot be its own partner: agency_a_id and agency_b_id must be two "
                            "different agencies.", limit=limit)
    return problems


def rule_count(name: str) -> int:
    """How many of the contract's rules the rows of table `name` are checked against (for progress)."""
    table = TABLES[name]
    count = sum(column.required + (column.type in _FORMAT_RULES) + bool(column.sentinels)
                + (column.min is not None or column.max is not None) for column in table.columns)
    count += bool(table.key) + sum(r.table == name for r in REFERENCES) + sum(o.table == name for o in ORDERS)
    count += 5 * (name == "referrals") + sum(t == name for t, _, _ in _PROGRAM_OWNERS) + (name == "partnerships")
    return int(count)


def duplicate_keys(name: str, keys: pd.DataFrame, text: pd.DataFrame, file: str, limit: int = ROWS_LISTED
                   ) -> list[Problem]:
    """The unique-key rule over a whole table given as its typed key columns (`keys`) and those columns as
    written (`text`), for a table checked in batches (`check(..., keys=False)`)."""
    return _duplicate_keys(TABLES[name], keys, [text[c] for c in TABLES[name].key], file, limit)


# ---- parse: header and cells --------------------------------------------------------------------

def _header_problems(table: Table, file: str, names: list[str]) -> list[Problem]:
    """Repeated, unknown, personal-data and missing columns."""
    problems = []
    contract = {column.name for column in table.columns}
    seen: set[str] = set()
    for number, name in enumerate(names, start=1):
        if name in seen:
            problems.append(Problem(file, None, name, None, "duplicate_column",
                                    f"Column {name} appears more than once in the header: keep one "
                                    "(only the first is read)."))
            continue
        seen.add(name)
        if name in contract:
            continue
        if table.name in PII_TABLES and any(p.search(_normalised(name)) for p in _PII):
            problems.append(Problem(file, None, name, None, "pii_column",
                                    "This column looks like a client's personal data (a name, birth "
                                    "date, identity number, phone, email or address), which the "
                                    "dashboard must never hold: delete the column from the file."))
        else:
            what = f"Column {number} has no name" if not name else f"{name} is not a column of {table.name}"
            problems.append(Problem(file, None, name, None, "unknown_column",
                                    f"{what}: it is ignored. The columns of {table.name} are "
                                    f"{', '.join(column.name for column in table.columns)}.",
                                    "warning"))
    for column in table.columns:
        if column.required and column.name not in seen:
            alike = [name for name in names if _normalised(name).strip("_") == column.name]
            fix = f"rename {alike[0]!r} to {column.name}" if alike else f"add a column {column.name}"
            problems.append(Problem(file, None, column.name, None, "missing_column",
                                    f"The required column {column.name} is missing from the header: "
                                    f"{fix}."))
    return problems


def _normalised(name: str) -> str:
    """A column name as PII_COLUMN_PATTERNS expect it: lower case, spaces, dashes and dots as "_"."""
    return re.sub(r"[\s.\-]", "_", name.lower())


def _parse_column(column: Column, text: pd.Series, file: str, limit: int) -> tuple[pd.Series, list[Problem]]:
    """One column of text in its typed form, with the problems of its cells."""
    problems = []
    if column.required:
        problems += at_rows(file, column.name, "required", _mask(text.isna()), text, limit=limit,
                            message=lambda p: f"Empty: every row needs a {column.name}.")
    typed, bad = _PARSERS[column.type](text, column)
    if bad.any():
        problems += at_rows(file, column.name, _FORMAT_RULES[column.type], bad, text, limit=limit,
                            message=lambda p: _format_message(column, text.iat[p]))
    sentinel = _mask(typed.isin(column.sentinels)) if column.sentinels else np.zeros(len(text), dtype=bool)
    if sentinel.any():
        typed = typed.mask(sentinel)
        problems += at_rows(file, column.name, "sentinel", sentinel, text, limit=limit, message=lambda p: (
            f"{text.iat[p]} is a placeholder, not real data: enter the real number"
            + ("." if column.required else ", or leave the cell empty.")))
    outside = np.zeros(len(text), dtype=bool)
    if column.min is not None:
        outside |= _mask(typed < column.min)
    if column.max is not None:
        outside |= _mask(typed > column.max)
    if outside.any():
        typed = typed.mask(outside)
        problems += at_rows(file, column.name, "int_range", outside, text, limit=limit,
                            message=lambda p: f"Out of range: {column.name} must be {_bounds(column)}.")
    return typed, problems


# A parser turns a column's text into its typed form, and says which written cells are invalid.
_Parser = Callable[[pd.Series, Column], tuple[pd.Series, np.ndarray]]


def _parse_text(text: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    return text.astype("string"), np.zeros(len(text), dtype=bool)


def _parse_enum(text: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    bad = _mask(text.notna() & ~text.isin(column.values))
    return text.mask(bad).astype("string"), bad


def _parse_bool(text: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    word = text.str.lower()
    true, false = _mask(word.isin(_TRUE)), _mask(word.isin(_FALSE))
    typed = pd.arrays.BooleanArray(true, ~(true | false))
    return pd.Series(typed, index=text.index), _mask(text.notna()) & ~(true | false)


def _parse_int(text: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    ok = _mask(text.str.fullmatch(_INT))
    typed = text.where(ok).astype("int64[pyarrow]").astype("Int64")
    return typed, _mask(text.notna()) & ~ok


def _datetime_parser(pattern: str, suffix: str = "") -> _Parser:
    """A parser for text of exactly `pattern`, read as ISO 8601 once `suffix` is appended.

    The shape is checked first, so that nothing is guessed; then the calendar (no 30 February, no
    hour 24). Arrow parses a whole column at once but fails it on one impossible value, so then
    pandas parses it value by value, making those values null.
    """

    def parse(text: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
        shaped = text.where(_mask(text.str.fullmatch(pattern))) + suffix
        try:
            parsed = pc.cast(pa.array(shaped), pa.timestamp("us")).to_numpy(zero_copy_only=False)
            typed = pd.Series(parsed, index=text.index)
        except pa.ArrowInvalid:
            typed = pd.to_datetime(shaped, format="ISO8601", errors="coerce", cache=False)
        typed = typed.astype("datetime64[us]")
        return typed, _mask(text.notna() & typed.isna())

    return parse


_PARSERS: dict[str, _Parser] = {
    "id": _parse_text, "text": _parse_text, "enum": _parse_enum, "bool": _parse_bool, "int": _parse_int,
    "date": _datetime_parser(_DATE),
    "month": _datetime_parser(_MONTH, "-01"),
    "timestamp": _datetime_parser(_TIMESTAMP),
}
_FORMAT_RULES = {  # the rule a value breaks when it does not parse (ids and text always parse)
    "enum": "enum", "bool": "bool_format", "int": "int_format",
    "date": "date_format", "month": "month_format", "timestamp": "timestamp_format",
}
_FORMATS = {  # what each type looks like, for messages
    "bool": "write true or false (1/0, yes/no and t/f are accepted too)",
    "int": "write a whole number in digits, e.g. 12",
    "date": "write YYYY-MM-DD, e.g. 2024-03-31",
    "month": "write YYYY-MM, e.g. 2024-03",
    "timestamp": "write YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS (local time), "
                 "e.g. 2024-03-31 14:05",
}
_SHAPES = {"date": _DATE, "month": _MONTH, "timestamp": _TIMESTAMP}
_IMPOSSIBLE = {  # for values of the right shape that name no real date or time
    "date": "No such date: check the month (01 to 12) and the day",
    "month": "No such month: the month is 01 to 12",
    "timestamp": "No such date or time: check the month, the day, the hours (00 to 23) and the minutes",
}


def _format_message(column: Column, value: str) -> str:
    """Why `value` is not a valid `column` value, and what to write instead."""
    if column.type == "enum":
        case = f" (write it in lower case: {value.lower()})" if value.lower() in column.values else ""
        return f"Not an allowed value{case}: use one of {', '.join(column.values)}."
    if column.type == "timestamp" and _ZONED.fullmatch(value):
        return "Has a time zone: timestamps are local time, written without one, e.g. 2024-03-31 14:05."
    if column.type in _SHAPES and re.fullmatch(_SHAPES[column.type], value):
        return f"{_IMPOSSIBLE[column.type]} ({_FORMATS[column.type]})."
    kind = {"bool": "true/false value", "int": "whole number"}.get(column.type, column.type)
    return f"Not a {kind}: {_FORMATS[column.type]}."


def _bounds(column: Column) -> str:
    if column.min is not None and column.max is not None:
        return f"between {column.min} and {column.max}"
    return f"{column.min} or more" if column.min is not None else f"{column.max} or less"


# ---- check: rules across rows and tables --------------------------------------------------------

def _duplicate_keys(table: Table, frame: pd.DataFrame, text: list[pd.Series], file: str,
                    limit: int) -> list[Problem]:
    """Each row whose key repeats an earlier row's, naming that first row; `text` shows the key."""
    complete = np.flatnonzero(_mask(frame[list(table.key)].notna().all(axis=1)))
    first = _first_of_each(frame, table.key, complete)  # first[i]: where complete[i]'s key first appears
    repeated = first != np.arange(len(complete))
    mask = np.zeros(len(frame), dtype=bool)
    mask[complete[repeated]] = True
    first_of = np.zeros(len(frame), dtype=np.int64)
    first_of[complete] = complete[first]
    name = ", ".join(table.key)
    values = text[0]
    if len(text) > 1:  # show the whole key, for the listed rows only
        listed = np.flatnonzero(mask)[:limit]
        values = pd.Series(None, index=frame.index, dtype="object")
        values.iloc[listed] = [" / ".join(shown(column.iat[p]) for column in text) for p in listed]
    return at_rows(file, name, "unique", mask, values, limit=limit, message=lambda p: (
        f"The {name} repeats row {first_of[p] + 2}: each row of {table.name} needs its own {name}."))


def _first_of_each(frame: pd.DataFrame, key: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
    """For each of `rows` (positions of rows with a whole key), the index in `rows` of the first with the same key.
    A text key of one column is looked up in Arrow's hash table of itself, which keeps each value's first place
    (10M referral ids: 1 s; factorizing them twice in pandas took 4 s); other keys are numbered by pandas."""
    values = _text(frame[key[0]].iloc[rows]) if len(key) == 1 else None
    if values is not None:
        return np.asarray(pc.index_in(values, value_set=values).to_numpy(zero_copy_only=False), dtype=np.int64)
    codes = np.zeros(len(rows), dtype=np.int64)
    for name in key:
        part, uniques = pd.factorize(frame[name].iloc[rows])
        codes = codes * (len(uniques) + 1) + part
    codes, _ = pd.factorize(codes)  # numbered in order of first appearance
    first_row = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())  # first_row[code]: its first row
    return first_row[codes]


def _references(reference: Reference, tables: Mapping[str, pd.DataFrame], files: Mapping[str, str],
                limit: int, context: Mapping[str, pd.DataFrame] | None = None) -> list[Problem]:
    """Values of `reference.column` that do not exist in the target column (of the files or, with
    `context`, of the rows already stored)."""
    context = context or {}
    values = tables[reference.table][reference.column]
    file = files[reference.table]
    target = reference.target_table
    if target not in tables and target not in context:
        if values.isna().all():
            return []
        return [Problem(file, None, reference.column, None, "reference",
                        f"{reference.column} has values, but no {target} file was loaded: add "
                        f"{target}.csv (or {target}.parquet), or leave {reference.column} empty.")]
    known = [frame[reference.target_column] for frame in (tables.get(target), context.get(target)) if frame is not None]
    unknown = _mask(values.notna()) & ~among(values, known)
    where = files[target] if target in files else f"{target}.csv"
    stored = " or the database" if target in context else ""
    return at_rows(file, reference.column, "reference", unknown, values, limit=limit, message=lambda p: (
        f"No row of {where}{stored} has {reference.target_column} {values.iat[p]!r}: correct the "
        f"value, or add the missing row to {where}."))


def _with_context(tables: Mapping[str, pd.DataFrame], context: Mapping[str, pd.DataFrame], name: str,
                  key: tuple[str, ...]) -> pd.DataFrame:
    """A table's file rows, then the stored rows whose key no file row has (as an append leaves it)."""
    frames = [frame for frame in (tables.get(name), context.get(name)) if frame is not None]
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True).drop_duplicates(list(key), keep="first")


def _order(order: Order, frame: pd.DataFrame, earlier: pd.Series, later: pd.Series, file: str,
           limit: int) -> list[Problem]:
    """Rows where the typed `order.later` is before `order.earlier`; `earlier` and `later` show them."""
    before = frame[order.later].to_numpy() < frame[order.earlier].to_numpy()  # False when either is NaT
    return at_rows(file, order.later, "order", before, later, limit=limit, message=lambda p: (
        f"{order.later} is before {order.earlier} ({shown(earlier.iat[p])}): correct whichever is "
        "wrong."))


def _referral_states(text: Callable[[str], pd.Series], file: str, limit: int) -> list[Problem]:
    """Which of accepted_at, declined_at, decline_reason, started_at and completed_at go together.

    `text(column)` is the column as written, so a cell that failed to parse counts as set.
    """
    names = ("accepted_at", "declined_at", "decline_reason", "started_at", "completed_at")
    accepted, declined, reason, started, completed = (_mask(text(name).notna()) for name in names)
    reasons = ", ".join(TABLES["referrals"].column("decline_reason").values)
    return (
        at_rows(file, "declined_at", "accepted_and_declined", accepted & declined, text("declined_at"),
                "Both accepted_at and declined_at are set: a referral is either accepted or declined, so "
                "clear one of them.", limit=limit)
        + at_rows(file, "decline_reason", "decline_reason_required", declined & ~reason, text("decline_reason"),
                  f"declined_at is set, so decline_reason is required: one of {reasons}.", limit=limit)
        + at_rows(file, "decline_reason", "decline_reason_without_decline", reason & ~declined,
                  text("decline_reason"), "A decline reason is given but declined_at is empty: fill in when the "
                  "referral was declined, or clear the reason.", limit=limit)
        + at_rows(file, "started_at", "started_needs_accepted", started & ~accepted, text("started_at"),
                  "started_at is set but accepted_at is empty: a service starts only after the referral is "
                  "accepted, so fill in accepted_at.", limit=limit)
        + at_rows(file, "completed_at", "completed_needs_started", completed & ~started, text("completed_at"),
                  "completed_at is set but started_at is empty: fill in when the service started.", limit=limit)
    )


def _program_owner(frame: pd.DataFrame, program: str, agency: str, programs: pd.DataFrame,
                   agencies: pd.DataFrame | None, file: str, limit: int) -> list[Problem]:
    """Rows whose program is run by another agency than the row's `agency`.

    A row whose agency is unknown is left to the reference rule, so that it is reported once.
    """
    owners = programs.dropna(subset=["program_id"]).drop_duplicates("program_id")
    known = _mask(frame[agency].notna()) if agencies is None else among(frame[agency], [agencies["agency_id"]])
    runs = _looked_up(frame[program], owners["program_id"], owners["agency_id"])  # each row's program's agency
    stated = _text(frame[agency])
    if runs is not None and stated is not None:  # text throughout: compared in Arrow (10M referrals: 0.5 s, not 3 s)
        differs = pc.fill_null(pc.not_equal(runs, stated), False).to_numpy(zero_copy_only=False)
        owner_at = lambda p: runs[p].as_py()  # noqa: E731
    else:
        owner = frame[program].map(owners.set_index("program_id")["agency_id"])
        differs = _mask(owner.notna() & (owner != frame[agency]))
        owner_at = owner.iat.__getitem__
    wrong = known & np.asarray(differs, dtype=bool)
    return at_rows(file, program, "program_agency_mismatch", wrong, frame[program], limit=limit, message=lambda p: (
        f"Program {frame[program].iat[p]} is run by agency {owner_at(p)}, not by {agency} "
        f"{frame[agency].iat[p]}: correct {program} or {agency}."))


def _looked_up(values: pd.Series, keys: pd.Series, mapped: pd.Series) -> pa.Array | None:
    """For each of `values`, the `mapped` value beside the same value in `keys` (unique), missing where there is
    none: an Arrow array; None when the columns are not all text."""
    columns = _text(values), _text(keys), _text(mapped)
    if any(c is None for c in columns):
        return None
    values, keys, mapped = columns
    return pc.take(mapped, pc.index_in(values, value_set=keys))


def _text(values: pd.Series) -> pa.Array | None:
    """A text column as one Arrow array of large strings; None when it is not text."""
    if not pd.api.types.is_string_dtype(values.dtype):
        return None
    try:
        return pa.chunked_array([pa.array(values, from_pandas=True)]).cast(pa.large_string()).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


# ---- append: file rows against the rows already stored --------------------------------------------

# How an append matches a file row to a stored row: by the table's key, or, for a table without one,
# by the columns that say which fact the row is (partnerships either way round).
APPEND_KEYS: dict[str, tuple[str, ...]] = {
    **{name: table.key for name, table in TABLES.items() if table.key},
    "partnerships": ("agency_a_id", "agency_b_id", "instrument", "started_on"),
    "outcomes": ("client_id", "agency_id", "program_id", "outcome", "achieved_on"),
    "needs": ("region", "service_type", "month", "source"),
}


@dataclass
class Comparison:
    """What appending one table's file rows to the stored rows would do.

    `merged` is the file rows (same positions) as they would be stored: a cell the file leaves empty
    keeps the stored value. `stored_row[i]` is the position of the stored row that file row i
    matches, or -1 for a new row; `changed[i]` says whether a matched row would change.
    """

    merged: pd.DataFrame
    stored_row: np.ndarray
    changed: np.ndarray
    problems: list[Problem]

    @property
    def added(self) -> int:
        return int((self.stored_row < 0).sum())

    @property
    def updated(self) -> int:
        return int(self.changed.sum())

    @property
    def unchanged(self) -> int:
        return len(self.stored_row) - self.added - self.updated


def compare_stored(name: str, frame: pd.DataFrame, stored: pd.DataFrame, file: str, *,
                   written: pd.DataFrame | None = None, update: bool = False,
                   limit: int = ROWS_LISTED) -> Comparison:
    """Match typed file rows of table `name` to the typed `stored` rows by `APPEND_KEYS`.

    A matched row whose file cell is empty keeps the stored value; one that fills a stored empty
    cell updates it (a referral accepted since the last export). A file value that differs from a
    stored value is a conflict: an error ("append_conflict"), or with `update` a warning and the
    file's value wins. Client ids must already be pseudonymised with the key the stored ones were.
    """
    key = list(APPEND_KEYS[name])
    left, right = _match_key(name, frame[key]), _match_key(name, stored[key])
    right["_stored"] = np.arange(len(stored))
    right = right.drop_duplicates(key, keep="first")
    matched = left.merge(right, on=key, how="left", sort=False)["_stored"]
    stored_row = matched.fillna(-1).to_numpy(dtype=np.int64)
    merged = frame.copy()
    changed = np.zeros(len(frame), dtype=bool)
    problems: list[Problem] = []
    at = np.flatnonzero(stored_row >= 0)
    if not len(at):
        return Comparison(merged, stored_row, changed, problems)
    text = written.reset_index(drop=True) if written is not None else None
    label = _append_label(name, key, frame if text is None else text)
    for column in frame.columns:
        if column in key:
            continue
        mine = frame[column].iloc[at].reset_index(drop=True)
        theirs = stored[column].iloc[stored_row[at]].reset_index(drop=True)
        mine_set, theirs_set = _mask(mine.notna()), _mask(theirs.notna())
        differ = mine_set & theirs_set & ~_mask(mine == theirs)
        keep = ~mine_set & theirs_set
        if keep.any():
            merged.iloc[at[keep], merged.columns.get_loc(column)] = theirs[keep].to_numpy()
        changed[at[mine_set & ~theirs_set]] = True
        if not differ.any():
            continue
        if update:
            changed[at[differ]] = True
        conflict = np.zeros(len(frame), dtype=bool)
        conflict[at[differ]] = True
        was = pd.Series(None, index=frame.index, dtype="object")
        was.iloc[at[differ]] = [shown(v) for v in theirs[differ]]
        as_written = (text[column] if text is not None and column in text.columns else frame[column])
        if update:
            fix = "The file's value replaces the stored one, as you chose."
        else:
            fix = ("Correct the file, or, if the file is right, import again letting the files' values "
                   "replace stored ones.")
        secret = TABLES[name].column(column).pseudonymise
        problems += [dataclasses.replace(p, severity="warning" if update else "error") for p in at_rows(
            file, column, "append_conflict", conflict, as_written, limit=limit, message=lambda p, column=column, secret=secret, was=was, fix=fix: (
                f"The database already holds {label(p)}, with a different {column}"
                + (" (stored pseudonymised, so not shown): check the file, and that the key is the one "
                   "used before. " if secret else f", {was.iat[p]!r}. ") + fix))]
    return Comparison(merged, stored_row, changed, problems)


def _match_key(name: str, keys: pd.DataFrame) -> pd.DataFrame:
    """A copy of rows' append keys as they are matched: a partnership's two agencies either way round."""
    keys = keys.copy()
    if name == "partnerships":
        a, b = keys["agency_a_id"], keys["agency_b_id"]
        first = _mask(a <= b) | b.isna().to_numpy()
        keys["agency_a_id"], keys["agency_b_id"] = a.where(first, b), b.where(first, a)
    return keys


def _append_label(name: str, key: list[str], frame: pd.DataFrame) -> Callable[[int], str]:
    """For a file row position, how the stored row it matched is named in a conflict message."""
    if any(TABLES[name].column(c).pseudonymise for c in key):
        return lambda p: f"this {name} row"
    return lambda p: f"the {name} row with " + ", ".join(
        f"{c} {shown(frame[c].iat[p]) or '(empty)'}" for c in key)


def among(values: pd.Series, known: list[pd.Series]) -> np.ndarray:
    """Whether each of `values` is one of the values of `known` (missing: False). Text is looked up in Arrow's hash
    set of `known` (pandas' isin of Arrow-backed text turns every known value into a Python string first: the
    outcomes' 4.8M referral ids against 10M referrals took 4 s that way, 0.6 s this way)."""
    wanted, pool = _text(values), [_text(s) for s in known]
    if wanted is not None and all(p is not None for p in pool):
        found = pc.is_in(wanted, value_set=pa.concat_arrays(pool), skip_nulls=True)  # a missing value: False
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    return _mask(values.isin(pd.concat(known).dropna().unique()))


def _mask(values) -> np.ndarray:
    """A boolean array from a (nullable) boolean Series: missing counts as False."""
    return values.to_numpy(dtype=bool, na_value=False)
