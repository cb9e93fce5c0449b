"""A column mapping: how an export in its own columns becomes a contract table, set once and reused.

A referral tool, a 211 system or a shared spreadsheet writes "Referral #", "Date Sent", "Referred To",
"Status" = "Enrolled", dates as 03/04/2024. A `ColumnMapping` says, for one contract table:

- which source column feeds each contract column (`columns`), or which two (a date and a time column,
  combined into a timestamp);
- the format of each date or time column (`formats`), chosen by a person, never guessed: a value that
  does not fit its format is an error at its file, row and column;
- the contract value of each source value of a coded column (`values`);
- for referrals, a status column and its date in place of stage timestamps (`status`): each status
  value names the stage the referral reached on that date;
- for referrals, whether the agency columns hold names rather than ids (`agencies`): the agencies
  table is then built from the distinct names, with spellings merged and sectors and regions set.

A mapping is a small TOML file (`to_toml` / `from_toml`) that carries the source header, so next month's
export of the same shape is recognised (`matches`) and mapped with one click or one command
(`python -m atlas import DIR --columns MAPPING`). `apply` turns a source table into contract tables of
text, which then take the existing path: validation, report, atomic import, append.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from atlas.contract import TABLES
from atlas.ingest import sources
from atlas.ingest.formats.agency_ids import agency_id
from atlas.ingest.problems import Problem, at_rows
from atlas.vocab import DECLINE_REASONS, SECTORS

# Date and time formats a person can choose, as written in the page, and how each is read.
DATE_FORMATS = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "DD.MM.YYYY": "%d.%m.%Y",
    "MM-DD-YYYY": "%m-%d-%Y",
    "DD-MM-YYYY": "%d-%m-%Y",
    "YYYY/MM/DD": "%Y/%m/%d",
    "Excel serial number": "excel",
}
TIME_FORMATS = {"HH:MM": "%H:%M", "HH:MM:SS": "%H:%M:%S", "h:MM AM/PM": "%I:%M %p"}
# A date column may also carry a time: these read both at once.
DATETIME_FORMATS = {
    "YYYY-MM-DD HH:MM[:SS]": "iso",
    "MM/DD/YYYY HH:MM": "%m/%d/%Y %H:%M",
    "DD/MM/YYYY HH:MM": "%d/%m/%Y %H:%M",
    "MM/DD/YYYY h:MM AM/PM": "%m/%d/%Y %I:%M %p",
    **{name: fmt for name, fmt in DATE_FORMATS.items()},
}
STAGES = ("pending", "accepted", "declined", "started", "completed")
# The contract's stage columns each status stage fills with the status date.
_STAGE_COLUMNS = {"pending": (), "accepted": ("accepted_at",), "declined": ("declined_at",),
                  "started": ("accepted_at", "started_at"), "completed": ("accepted_at", "started_at", "completed_at")}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)

# Names people give each contract column, for proposing a source column.
SYNONYMS = {
    "referral_id": ("referral id", "referral #", "referral no", "referral number", "ref", "ref no", "id", "call id",
                    "record id", "no"),
    "client_id": ("client id", "client", "client #", "person id", "participant id", "case id", "case #", "caller id",
                  "person"),
    "from_agency_id": ("from agency", "from", "referred by", "referring agency", "referrer", "source agency", "sender",
                       "agency referred from"),
    "to_agency_id": ("to agency", "to", "referred to", "receiving agency", "provider", "recipient agency",
                     "agency referred to"),
    "service_type": ("service type", "service", "need", "category", "type of service", "program type", "need category",
                     "kind"),
    "referred_at": ("referred at", "date sent", "referral date", "date referred", "referred on", "sent", "created",
                    "call date", "day"),
    "to_program_id": ("program", "program id", "to program"),
    "accepted_at": ("accepted at", "date accepted", "accepted on", "accepted"),
    "declined_at": ("declined at", "date declined", "declined on", "declined"),
    "decline_reason": ("decline reason", "reason declined", "reason"),
    "started_at": ("started at", "service start", "date started", "start date", "enrolled on"),
    "completed_at": ("completed at", "date completed", "completed on", "end date", "closed on"),
    "agency_id": ("agency id", "agency", "organization id", "org id"),
    "name": ("name", "agency name", "organization", "organisation"),
    "sector": ("sector", "type", "organization type"),
    "region": ("region", "district", "county", "area", "city"),
    "program_id": ("program id", "program", "service id"),
    "outcome": ("outcome", "result", "exit outcome", "destination"),
    "achieved_on": ("achieved on", "exit date", "date of exit", "outcome date"),
    "month": ("month", "period"),
    "slots": ("slots", "capacity", "beds", "places"),
    "people_in_need": ("people in need", "need", "count"),
}
STATUS_NAMES = ("status", "referral status", "state", "outcome", "result")
STATUS_DATE_NAMES = ("status date", "date of status", "updated", "last updated", "date closed", "status updated")


class MappingError(ValueError):
    """The mapping file is not usable; the message says what to change."""


@dataclass
class ColumnMapping:
    table: str
    header: list[str]  # the source columns the mapping was made for
    columns: dict[str, str | list[str]] = field(default_factory=dict)  # contract column -> source column(s)
    formats: dict[str, str] = field(default_factory=dict)  # source column -> a DATETIME_FORMATS or TIME_FORMATS key
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # contract column -> source value -> value
    status: dict | None = None  # {"column": ..., "date": str | [date, time], "values": {source: stage[:reason]}}
    agencies: dict | None = None  # {"spellings": {...}, "sectors": {...}, "regions": {...}, default_sector, default_region}
    name: str = ""

    # ---- the file ----

    def to_toml(self) -> str:
        """The mapping as a small, commented TOML file."""
        lines = ["# Collaboration Atlas column mapping (docs/import.md, 'Map your columns'): how an export's own",
                 "# columns become the contract's " + self.table + ". Edit it by hand or on the Data page.",
                 f"name = {_q(self.name or self.table)}", f"table = {_q(self.table)}",
                 "header = [" + ", ".join(_q(h) for h in self.header) + "]", "",
                 "[columns]  # contract column = source column, or [date column, time column]"]
        for column, source in self.columns.items():
            lines.append(f"{column} = " + (_q(source) if isinstance(source, str) else
                                            "[" + ", ".join(_q(s) for s in source) + "]"))
        if self.formats:
            lines += ["", "[formats]  # source column = how its dates or times are written"]
            lines += [f"{_q(column)} = {_q(fmt)}" for column, fmt in self.formats.items()]
        for column, table in self.values.items():
            lines += ["", f"[values.{column}]  # source value = contract value"]
            lines += [f"{_q(source)} = {_q(value)}" for source, value in table.items()]
        if self.status:
            date = self.status["date"]
            lines += ["", "[status]  # one status column and its date, in place of stage timestamps",
                      f"column = {_q(self.status['column'])}",
                      "date = " + (_q(date) if isinstance(date, str) else "[" + ", ".join(_q(d) for d in date) + "]"),
                      "", "[status.values]  # source value = stage reached (pending, accepted, declined:REASON, "
                          "started, completed)"]
            lines += [f"{_q(source)} = {_q(stage)}" for source, stage in self.status["values"].items()]
        if self.agencies is not None:
            a = self.agencies
            lines += ["", "[agencies]  # the agency columns hold names: agencies are built from them",
                      f"default_sector = {_q(a.get('default_sector', 'community'))}",
                      f"default_region = {_q(a.get('default_region', 'Unassigned'))}"]
            for section, comment in (("spellings", "as written = the agency it is"), ("sectors", "agency = sector"),
                                     ("regions", "agency = region")):
                if a.get(section):
                    lines += ["", f"[agencies.{section}]  # {comment}"]
                    lines += [f"{_q(k)} = {_q(v)}" for k, v in a[section].items()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str, file: str = "mapping") -> ColumnMapping:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise MappingError(f"{file} is not valid TOML: {error}") from None
        unknown = set(data) - {"name", "table", "header", "columns", "formats", "values", "status", "agencies"}
        if unknown:
            raise MappingError(f"{file}: unknown setting {', '.join(sorted(unknown))}")
        try:
            mapping = cls(table=data["table"], header=list(data["header"]), columns=dict(data.get("columns", {})),
                          formats=dict(data.get("formats", {})), values=dict(data.get("values", {})),
                          status=data.get("status"), agencies=data.get("agencies"), name=data.get("name", ""))
        except KeyError as missing:
            raise MappingError(f"{file} needs {missing.args[0]!r}") from None
        mapping.check(file)
        return mapping

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        return cls.from_toml(Path(path).read_text(encoding="utf-8"), Path(path).name)

    def check(self, file: str = "mapping") -> None:
        """Raise MappingError unless the mapping can be applied: known columns, formats, values and stages."""
        if self.table not in TABLES:
            raise MappingError(f"{file}: table {self.table!r} is not a contract table ({', '.join(TABLES)})")
        table = TABLES[self.table]
        known = {c.name for c in table.columns}
        for column, source in self.columns.items():
            if column not in known:
                raise MappingError(f"{file}: {self.table} has no column {column!r}")
            for s in [source] if isinstance(source, str) else source:
                if s not in self.header:
                    raise MappingError(f"{file}: {column} comes from {s!r}, which is not in the header")
            if not isinstance(source, str) and (len(source) != 2 or table.column(column).type != "timestamp"):
                raise MappingError(f"{file}: only a timestamp column combines two columns (a date and a time)")
        for column, fmt in self.formats.items():
            if fmt not in DATETIME_FORMATS and fmt not in TIME_FORMATS:
                raise MappingError(f"{file}: the format of {column!r}, {fmt!r}, is not one of "
                                   f"{', '.join([*DATETIME_FORMATS, *TIME_FORMATS])}")
        for column, table_values in self.values.items():
            allowed = table.column(column).values if column in known else ()
            if not allowed:
                raise MappingError(f"{file}: [values.{column}] maps values of a column that has no list of values")
            for source, value in table_values.items():
                if value not in allowed:
                    raise MappingError(f"{file}: [values.{column}] {source!r} = {value!r} is not one of "
                                       f"{', '.join(allowed)}")
        if self.status:
            if self.table != "referrals":
                raise MappingError(f"{file}: a status column is for referrals")
            for key in ("column", "date", "values"):
                if key not in self.status:
                    raise MappingError(f"{file}: [status] needs {key}")
            for source, stage in self.status["values"].items():
                _stage(stage, f"{file}: [status.values] {source!r}")
        if self.agencies is not None:
            if self.table != "referrals":
                raise MappingError(f"{file}: building agencies from names is for referrals")
            for agency, sector in (self.agencies.get("sectors") or {}).items():
                if sector not in SECTORS:
                    raise MappingError(f"{file}: [agencies.sectors] {agency!r} = {sector!r} is not a sector")
            if self.agencies.get("default_sector", "community") not in SECTORS:
                raise MappingError(f"{file}: default_sector is not a sector")

    def source_of(self, column: str) -> str:
        """The source column(s) a contract column comes from, as a person would name them."""
        if self.status and column in ("accepted_at", "declined_at", "started_at", "completed_at", "decline_reason"):
            date = self.status["date"] if isinstance(self.status["date"], str) else self.status["date"][0]
            return f"{self.status['column']} / {date}"
        source = self.columns.get(column, column)
        return source if isinstance(source, str) else " + ".join(source)

    def locate(self, problems: list[Problem], file: str) -> list[Problem]:
        """Problems the contract's checks found in the mapped table of `file`, named by its own columns."""
        return [replace(p, column=self.source_of(p.column)) if p.file == file and p.column else p
                for p in problems]

    def matches(self, header: list[str]) -> bool:
        """Whether a file with `header` has the columns this mapping was made for (in any order)."""
        return {h.strip() for h in header} == {h.strip() for h in self.header}


def _q(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, so no source text (a
    header, a value) can end the string or add a line to the file."""
    out = []
    for ch in str(text):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _stage(text: str, where: str) -> tuple[str, str | None]:
    stage, _, reason = str(text).partition(":")
    if stage not in STAGES:
        raise MappingError(f"{where} = {text!r}: the stage is one of {', '.join(STAGES)}")
    if stage == "declined":
        reason = reason or "other"
        if reason not in DECLINE_REASONS:
            raise MappingError(f"{where} = {text!r}: the decline reason is one of {', '.join(DECLINE_REASONS)}")
        return stage, reason
    if reason:
        raise MappingError(f"{where} = {text!r}: only a decline has a reason")
    return stage, None


# ---- applying a mapping --------------------------------------------------------------------------------

def parse_dates(text: pd.Series, fmt: str) -> pd.Series:
    """Text in the chosen format as datetimes; NaT where a value does not fit it (or is empty)."""
    how = DATETIME_FORMATS.get(fmt) or TIME_FORMATS.get(fmt)
    if how is None:
        raise MappingError(f"unknown format {fmt!r}")
    if how == "excel":
        number = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,6}(\.\d+)?").fillna(False)), errors="coerce")
        fits = number.between(1, 2_958_465)  # 1900-01-01 to 9999-12-31
        return (pd.Series(_EXCEL_EPOCH, index=text.index) + pd.to_timedelta(number.where(fits), unit="D")).dt.round("s")
    if how == "iso":
        shaped = text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?").fillna(False))
        return pd.to_datetime(shaped, format="ISO8601", errors="coerce")
    if fmt in TIME_FORMATS:
        return pd.to_datetime("1900-01-01 " + text.str.upper(), format="%Y-%m-%d " + how, errors="coerce")
    return pd.to_datetime(text.str.upper() if "%p" in how else text, format=how, errors="coerce")


def fitting_formats(values: pd.Series, time: bool = False) -> list[str]:
    """The formats every non-empty value of `values` fits (for the page to offer first)."""
    sample = values.dropna()
    sample = sample[sample.astype(str).str.strip() != ""].astype(str).head(200)
    if not len(sample):
        return []
    options = TIME_FORMATS if time else DATETIME_FORMATS
    return [name for name in options if parse_dates(sample, name).notna().all()]


def apply(mapping: ColumnMapping, frame: pd.DataFrame, file: str, stored: Collection[str] = ()
          ) -> tuple[dict[str, sources.RawTable], list[Problem]]:
    """The source table `frame` (text, as `sources` reads it; row i is file row i + 2) as contract tables
    of text: the mapped table and, for referrals named by agency names, the agencies (an agency the
    database already holds keeps its id: `stored` are the ids it holds, see `agency_id`). Problems are at
    the source file's rows and columns."""
    problems: list[Problem] = []
    table = TABLES[mapping.table]
    header = [str(c).strip() for c in frame.columns]
    missing = [h for h in mapping.header if h not in header]
    for column in missing:
        problems.append(Problem(file, 1, column, None, "missing_column",
                                f"The mapping reads a column {column!r}, which this file does not have: the export "
                                "has changed shape. Map its columns again."))
    if missing:
        return {}, problems
    frame = frame.loc[:, ~frame.columns.duplicated()].reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column in table.columns:
        source = mapping.columns.get(column.name)
        if source is None:
            continue
        if column.type in ("date", "timestamp", "month"):
            out[column.name] = _dates(frame, source, column.name, column.type, mapping, file, problems)
        elif column.name in mapping.values:
            out[column.name] = _coded(frame[source], mapping.values[column.name], source, file, problems)
        else:
            out[column.name] = frame[source]
    if mapping.status:
        _status(frame, out, mapping, file, problems)
    tables = {}
    if mapping.agencies is not None:
        agencies, ids = _agencies(out, mapping.agencies, stored)
        for column in ("from_agency_id", "to_agency_id"):
            if column in out:
                out[column] = out[column].map(ids).astype("object")
        tables["agencies"] = sources.RawTable("agencies", f"{file} → agencies (from its agency names)", agencies)
    tables[mapping.table] = sources.RawTable(mapping.table, file, out.reset_index(drop=True))
    return tables, problems


def _read_dates(frame: pd.DataFrame, source, mapping: ColumnMapping, file: str, problems: list[Problem]
                ) -> pd.Series:
    """The datetimes of one source column, or of a date column and a time column together."""
    date_column, time_column = (source, None) if isinstance(source, str) else source
    fmt = mapping.formats.get(date_column)
    if fmt is None:
        problems.append(Problem(file, None, date_column, None, "mapping",
                                f"Choose how the dates in {date_column!r} are written (its format)."))
        return pd.Series(pd.NaT, index=frame.index)
    text = frame[date_column]
    when = parse_dates(text, fmt)
    problems += at_rows(file, date_column, "date_format", (text.notna() & when.isna()).to_numpy(), text,
                        f"Not a date written {fmt}, the format chosen for this column: correct the value, or "
                        "choose another format if the column is written another way.")
    if time_column is not None:
        tfmt = mapping.formats.get(time_column)
        if tfmt is None:
            problems.append(Problem(file, None, time_column, None, "mapping",
                                    f"Choose how the times in {time_column!r} are written (its format)."))
            return when
        times = frame[time_column]
        clock = parse_dates(times, tfmt)
        problems += at_rows(file, time_column, "timestamp_format", (times.notna() & clock.isna()).to_numpy(), times,
                            f"Not a time written {tfmt}, the format chosen for this column.")
        offset = (clock - pd.Timestamp("1900-01-01")).fillna(pd.Timedelta(0))
        when = when.dt.normalize() + offset
    return when


def _dates(frame, source, column: str, kind: str, mapping, file, problems) -> pd.Series:
    when = _read_dates(frame, source, mapping, file, problems)
    text = {"date": "%Y-%m-%d", "month": "%Y-%m", "timestamp": "%Y-%m-%d %H:%M:%S"}[kind]
    return when.dt.strftime(text).where(when.notna(), None).astype("object")


def _coded(text: pd.Series, table: dict[str, str], source: str, file: str, problems: list[Problem]) -> pd.Series:
    mapped = text.map(table).astype("object")
    unmapped = (text.notna() & mapped.isna()).to_numpy()
    problems += at_rows(file, source, "value_mapping", unmapped, text,
                        "This value has no contract value in the mapping: add it to the value mapping.")
    return mapped


def _status(frame: pd.DataFrame, out: pd.DataFrame, mapping: ColumnMapping, file: str,
            problems: list[Problem]) -> None:
    """Fill the stage columns (and decline reasons) from one status column and its date."""
    status = mapping.status
    text = frame[status["column"]]
    stages = {source: _stage(value, "status") for source, value in status["values"].items()}
    stage = text.map({s: v[0] for s, v in stages.items()}).astype("object")
    reason = text.map({s: v[1] for s, v in stages.items()}).astype("object")
    unmapped = (text.notna() & stage.isna()).to_numpy()
    problems += at_rows(file, status["column"], "value_mapping", unmapped, text,
                        "This status has no stage in the mapping: say which stage it means.")
    when = _read_dates(frame, status["date"], mapping, file, problems)
    if "referred_at" in out:  # a status dated the day of the referral, without a time: after the referral
        referred = pd.to_datetime(out["referred_at"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        same_day = (when.dt.normalize() == referred.dt.normalize()) & (when < referred)
        when = when.where(~same_day.fillna(False), referred)
    when_text = when.dt.strftime("%Y-%m-%d %H:%M:%S").where(when.notna(), None).astype("object")
    date_column = status["date"] if isinstance(status["date"], str) else status["date"][0]
    undated = (stage.notna() & (stage != "pending") & when.isna() & frame[date_column].isna()).to_numpy()
    problems += at_rows(file, date_column, "status_undated", undated, frame[status["column"]],
                        "The status says the referral moved on, but there is no status date, so when is unknown: "
                        "the referral is imported as still pending.", "warning")
    for name, columns in _STAGE_COLUMNS.items():
        rows = (stage == name).to_numpy() & ~undated
        for column in columns:
            current = out[column] if column in out else pd.Series(None, index=out.index, dtype="object")
            out[column] = current.astype("object").where(~(rows & current.isna().to_numpy()), when_text)
    declined = (stage == "declined").to_numpy() & ~undated
    current = out["decline_reason"] if "decline_reason" in out else pd.Series(None, index=out.index, dtype="object")
    out["decline_reason"] = current.astype("object").where(~(declined & current.isna().to_numpy()), reason)


def _agencies(out: pd.DataFrame, settings: dict, stored: Collection[str] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """The agencies named in the referral columns, and each written name's id. Names that differ only in
    case or spacing are one agency (written as most often); `spellings` merges others, and so do names whose
    ids are the same (`agency_id`: `stored` are the ids the database holds)."""
    spellings = {_normal(k): v.strip() for k, v in (settings.get("spellings") or {}).items()}
    written = pd.concat([out[c] for c in ("from_agency_id", "to_agency_id") if c in out]).dropna()
    counts = written.astype(str).value_counts()
    usual: dict[str, str] = {}
    for name in counts.index:  # most frequent first
        usual.setdefault(_normal(name), name.strip())
    canonical = {w: spellings.get(_normal(w), usual[_normal(w)]) for w in counts.index}
    ids = {name: agency_id(name, stored) for name in set(canonical.values())}
    by_id: dict[str, str] = {}
    for name in sorted(ids, key=str.lower):
        by_id.setdefault(ids[name], name)
    names = sorted(by_id.values(), key=str.lower)
    sectors, regions = settings.get("sectors") or {}, settings.get("regions") or {}
    frame = pd.DataFrame({
        "agency_id": [ids[n] for n in names], "name": names,
        "sector": [sectors.get(n, settings.get("default_sector", "community")) for n in names],
        "region": [regions.get(n, settings.get("default_region", "Unassigned")) for n in names],
        "is_victim_service": ["true" if n in (settings.get("victim_service") or []) else "false" for n in names]})
    return frame, {w: ids[c] for w, c in canonical.items()}


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def distinct_names(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Agency names as written in `columns`, with how often each occurs and the spelling each most
    resembles among the others (to merge), for the page's table of agencies."""
    values = pd.concat([frame[c] for c in columns if c in frame]).dropna().astype(str).str.strip()
    counts = values.value_counts()
    names = list(counts.index)
    keys = {n: re.sub(r"[^a-z0-9]", "", n.lower()) for n in names}
    merge = {}
    for name in names:  # the most frequent earlier spelling that is nearly the same
        for other in names:
            if other == name:
                break
            if keys[other] == keys[name] or difflib.SequenceMatcher(None, keys[other], keys[name]).ratio() >= 0.9:
                merge[name] = merge.get(other, other)
                break
    return pd.DataFrame({"written": names, "referrals": counts.to_numpy(),
                         "agency": [merge.get(n, n) for n in names]})


# ---- proposing a mapping -------------------------------------------------------------------------------

def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9#]+", " ", str(name).lower()).strip()


def propose(frame: pd.DataFrame, table: str) -> dict[str, str | None]:
    """For each column of the contract table, the source column that probably feeds it (by its name, and
    by what its values look like for dates), or None."""
    header = [str(c).strip() for c in frame.columns]
    keys = {h: _key(h) for h in header}
    taken: set[str] = set()
    proposal: dict[str, str | None] = {}
    for column in TABLES[table].columns:
        names = (column.name.replace("_", " "), *SYNONYMS.get(column.name, ()))
        best, score = None, 0.0
        for h in header:
            if h in taken:
                continue
            s = max(1.0 if keys[h] == n else difflib.SequenceMatcher(None, keys[h], n).ratio() for n in names)
            if column.required and column.type in ("date", "timestamp", "month") and s >= 0.5:
                s += 0.05 * bool(fitting_formats(frame[h]))  # between close names, one whose values read as dates
            if s > score:
                best, score = h, s
        needed = 0.75 if column.required else 0.95  # an optional column is left empty unless its name is plain
        if best is not None and score >= needed:
            proposal[column.name] = best
            taken.add(best)
        else:
            proposal[column.name] = None
    return proposal


def propose_time(frame: pd.DataFrame, date_column: str) -> str | None:
    """A column holding the times of `date_column`'s dates ("Date Sent" -> "Time Sent"), if there is one."""
    header = [str(c).strip() for c in frame.columns]
    twin = re.sub(r"(?i)date", lambda m: "Time" if m.group(0)[0].isupper() else "time", date_column)
    candidates = ([twin] if twin != date_column and twin in header else []) + [
        h for h in header if h != date_column and re.search(r"(?i)\btime\b", h)]
    return next((h for h in candidates if fitting_formats(frame[h], time=True)), None)


def propose_status(frame: pd.DataFrame, proposal: dict[str, str | None]) -> tuple[str | None, str | None]:
    """A status column and its date column, among the columns no contract column took."""
    free = [h for h in (str(c).strip() for c in frame.columns) if h not in proposal.values()]

    def pick(names):
        scored = [(max(difflib.SequenceMatcher(None, _key(h), n).ratio() for n in names), h) for h in free]
        scored = [s for s in scored if s[0] >= 0.75]
        return max(scored)[1] if scored else None

    status = pick(STATUS_NAMES)
    free = [h for h in free if h != status]
    return status, pick(STATUS_DATE_NAMES)


def saved_mapping(header: list[str], folder: Path) -> tuple[Path, ColumnMapping] | None:
    """A mapping saved in `folder` that was made for this header, if any (the newest)."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.toml"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            mapping = ColumnMapping.load(path)
        except (MappingError, OSError, UnicodeDecodeError):
            continue
        if mapping.matches(header):
            return path, mapping
    return None


def propose_values(values: pd.Series, allowed: tuple[str, ...]) -> pd.DataFrame:
    """The distinct source values of a coded column with their counts, each with the allowed value it most
    resembles (None when nothing is close), for a person to confirm or change."""
    counts = values.dropna().astype(str).value_counts()
    keys = {a: a.replace("_", " ") for a in allowed}

    def closest(value: str) -> str | None:
        key = _key(value)
        scored = [(difflib.SequenceMatcher(None, key, k).ratio() + (0.3 if k in key or key in k else 0), a)
                  for a, k in keys.items()]
        best = max(scored) if scored else (0, None)
        return best[1] if best[0] >= 0.7 else None

    return pd.DataFrame({"value": list(counts.index), "rows": counts.to_numpy(),
                         "becomes": [closest(v) for v in counts.index]})


_STAGE_WORDS = (
    (r"declin|reject|refus|denied|not accepted|turned away|no capacity|full|waitlist", "declined"),
    (r"complet|closed|discharg|exit|finished|ended", "completed"),
    (r"enrol|start|admit|placed|in service|housed|attending", "started"),
    (r"accept|approved|confirmed|scheduled", "accepted"),
)
_REASON_WORDS = ((r"full|capacity|no (space|room|bed|slot)|waitlist", "no_capacity"),
                 (r"eligib|criteria|qualif", "not_eligible"),
                 (r"unreach|contact|no show|no-show|lost", "client_unreachable"),
                 (r"duplicat", "duplicate"), (r"client|declined by|refused", "client_declined"))


def propose_stage(value: str) -> str:
    """The stage a status most likely means, by its words (a person confirms it on the page)."""
    text = str(value).lower()
    for pattern, stage in _STAGE_WORDS:
        if re.search(pattern, text):
            if stage != "declined":
                return stage
            reason = next((r for p, r in _REASON_WORDS if re.search(p, text)), "other")
            return f"declined:{reason}"
    return "pending"


STAGE_CHOICES = ("pending", "accepted", *(f"declined:{r}" for r in DECLINE_REASONS), "started", "completed")


def read_folder(directory: str | Path, mappings: list[ColumnMapping], required: tuple[str, ...] = (),
                stored: Collection[str] = ()) -> tuple[dict[str, sources.RawTable], list[Problem]]:
    """A folder whose files are contract files or exports a mapping was made for (recognised by header):
    every table read, mapped where a mapping fits, and the problems met. `stored` are the agency ids the
    database holds, which agencies named in the files keep (`apply`)."""
    folder = Path(directory)
    tables: dict[str, sources.RawTable] = {}
    problems: list[Problem] = []
    holders: dict[str, str] = {}
    used = set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file() or entry.suffix.lower() not in sources.READERS:
            continue
        frame, found = sources.read_text(entry)
        if frame is None:
            problems += found
            continue
        header = [str(c).strip() for c in frame.columns]
        mapping = next((m for m in mappings if m.matches(header)), None)
        if mapping is not None:
            used.add(id(mapping))
            read, found = apply(mapping, frame, entry.name, stored)
            problems += found
        elif entry.stem.lower() in TABLES:
            raw, found = sources.read_file(entry)
            problems += found
            read = {raw.table: raw} if raw is not None else {}
        else:
            problems.append(Problem(entry.name, None, None, None, "ignored_file",
                                    "Ignored: it is not a contract table, and no column mapping given was made for "
                                    "its columns.", "warning"))
            continue
        for name, raw in read.items():
            if name in holders:
                problems.append(Problem(entry.name, None, None, None, "duplicate_file",
                                        f"{holders[name]} and {entry.name} both give the {name} table: keep one."))
                continue
            holders[name] = entry.name
            tables[name] = raw
    for mapping in mappings:
        if id(mapping) not in used:
            problems.append(Problem(mapping.name or "mapping", None, None, None, "mapping",
                                    f"No file in {folder.name} has the columns the mapping {mapping.name!r} was made for "
                                    f"({', '.join(mapping.header[:4])} …)."))
    for name in required:
        if name not in tables and not any(p.rule in ("missing_file", "duplicate_file") for p in problems):
            problems.append(Problem(f"{name}.csv", None, None, None, "missing_file",
                                    f"The {name} table is needed: add {name}.csv, or a file a mapping gives it."))
    return tables, problems


def located(mapping: ColumnMapping, problems: list[Problem], folder: Path) -> list[Problem]:
    """`mapping.locate` for the file of `folder` the mapping was applied to (the command line's import)."""
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_file() and entry.suffix.lower() in sources.READERS:
            frame, _ = sources.read_text(entry)
            if frame is not None and mapping.matches([str(c) for c in frame.columns]):
                return mapping.locate(problems, entry.name)
    return problems
