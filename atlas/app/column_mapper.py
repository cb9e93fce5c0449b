"""The Data page's column mapping, without Streamlit: what the mapper proposes first for a file in its own
columns (the table, the source of each contract column, its date format, its coded values, a status column,
agencies from names), what it still needs, the mapping it makes and where that mapping is kept for next
month. Layer: the Streamlit glue's pure side (atlas.app), over atlas.ingest.formats.columns; the widgets that ask a
person are in atlas.app.mapping_form."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from atlas import escape, formats
from atlas.contract import TABLES
from atlas.ingest.formats import agency_ids, columns

# The contract's stage columns, which one status column and its date fill in their place.
STAGE_COLUMNS = frozenset({"accepted_at", "declined_at", "decline_reason", "started_at", "completed_at"})
DATED = ("date", "timestamp", "month")  # column types read with a date format
AGENCY_COLUMNS = ("from_agency_id", "to_agency_id")  # the referral columns that may hold agency names


def header(frame: pd.DataFrame) -> list[str]:
    """A file's column names as the mapping records them."""
    return [str(c).strip() for c in frame.columns]


def known_mapping(names: list[str], uploaded: dict, folder: Path) -> columns.ColumnMapping | None:
    """The mapping made for a file with these columns: one uploaded with it, else the newest kept one."""
    known = next((m for m in uploaded.values() if m.matches(names)), None)
    saved = None if known else columns.saved_mapping(names, folder)
    return known or (saved[1] if saved else None)


def first_table(known: columns.ColumnMapping | None, guessed: str | None) -> str:
    """The table offered first: the known mapping's, else the one guessed from the file, else referrals."""
    return known.table if known else guessed or "referrals"


def index_of(options: list, value, missing: int | None = 0) -> int | None:
    """Where `value` is among a selectbox's options, or `missing` when it is not one of them."""
    return options.index(value) if value in options else missing


def to_map(table: str, use_status: bool) -> list:
    """The contract columns the person maps one by one (a status column stands for the stage columns)."""
    return [c for c in TABLES[table].columns if not (use_status and c.name in STAGE_COLUMNS)]


def first_source(start: columns.ColumnMapping | None, proposal: dict, column: str):
    """The source a contract column is first given (a known mapping's, else the proposal's), and its date
    column alone when it is a [date, time] pair."""
    first = start.columns.get(column) if start else proposal.get(column)
    return first, date_column(first)


def first_time(start: columns.ColumnMapping | None, first, frame: pd.DataFrame, source: str) -> str | None:
    """The time column first given to a timestamp read from `source`: the known mapping's, else the
    column that looks like its time."""
    if start:
        return first[1] if isinstance(first, list) and len(first) > 1 else None
    return columns.propose_time(frame, source)


def example(frame: pd.DataFrame, source: str) -> str:
    """A few of a column's values, to recognise it by."""
    sample = frame[source].dropna().astype(str).head(3).tolist()
    return "e.g. " + escape.markdown(", ".join(sample) or "(empty)")


def format_choices(frame: pd.DataFrame, source: str, start: columns.ColumnMapping | None,
                   time: bool = False) -> tuple[list[str], str | None]:
    """The formats offered for a date (or time) column, those its values fit first, and the one chosen
    first: the known mapping's, else the only one that fits (a format is never guessed among several)."""
    fitting = columns.fitting_formats(frame[source], time=time)
    options = list(columns.TIME_FORMATS if time else columns.DATETIME_FORMATS)
    options = fitting + [o for o in options if o not in fitting]
    return options, start.formats.get(source) if start else (fitting[0] if len(fitting) == 1 else None)


def reads_as(frame: pd.DataFrame, source: str, fmt: str, time: bool = False) -> str:
    """How a column's first values read under a format, in words."""
    sample = frame[source].dropna().astype(str).head(3)
    read = columns.parse_dates(sample, fmt)
    return "Reads as: " + ", ".join(
        f"{escape.markdown(s)} → {r:%H:%M}" if time and pd.notna(r) else
        f"{escape.markdown(s)} → {formats.moment(r)}" if pd.notna(r) else
        f"{escape.markdown(s)} → does not fit" for s, r in zip(sample, read))


def first_status(start: columns.ColumnMapping | None, proposed: tuple[str | None, str | None]) -> dict:
    """The status column and its date first given: the known mapping's, else those proposed
    (columns.propose_status)."""
    if start and start.status:
        return start.status
    return {"column": proposed[0], "date": proposed[1]}


def date_column(source) -> str | None:
    """The date column alone of a source that may be a [date, time] pair."""
    return source if isinstance(source, str) or source is None else source[0]


def value_rows(values: pd.Series, allowed, known: dict | None) -> pd.DataFrame:
    """The distinct values of a coded column, each with the allowed value it becomes (proposed, or known)."""
    table = columns.propose_values(values, allowed)
    if known:
        table["becomes"] = [known.get(v, b) for v, b in zip(table["value"], table["becomes"])]
    return table


def chosen_values(edited: pd.DataFrame) -> dict:
    return {str(v): b for v, b in zip(edited["value"], edited["becomes"]) if isinstance(b, str)}


def stage_rows(values: pd.Series, known: dict | None) -> pd.DataFrame:
    """The distinct statuses, with their rows and the stage each means (known, or proposed by its words)."""
    counts = values.dropna().astype(str).value_counts()
    stages = [(known or {}).get(v) or columns.propose_stage(v) for v in counts.index]
    return pd.DataFrame({"status": list(counts.index), "rows": counts.to_numpy(), "stage": stages})


def chosen_stages(edited: pd.DataFrame) -> dict:
    return {str(s): g for s, g in zip(edited["status"], edited["stage"]) if isinstance(g, str)}


def agency_rows(frame: pd.DataFrame, sources: list, known: dict | None) -> pd.DataFrame:
    """The agencies as named in the referrals: each name as written, the agency it is (spellings merged,
    proposed or known), its sector and region."""
    names = columns.distinct_names(frame, [s if isinstance(s, str) else s[0] for s in sources if s])
    known = known or {}
    spelled = known.get("spellings") or {}
    names["agency"] = [spelled.get(w, a) for w, a in zip(names["written"], names["agency"])]
    names["sector"] = [(known.get("sectors") or {}).get(a, "community") for a in names["agency"]]
    names["region"] = [(known.get("regions") or {}).get(a, "") for a in names["agency"]]
    return names


def agency_settings(edited: pd.DataFrame) -> dict:
    """The mapping's [agencies] from the edited table: spellings that differ, each agency's sector and region."""
    spellings = {w: a for w, a in zip(edited["written"], edited["agency"]) if isinstance(a, str) and a.strip()
                 and a.strip() != w}
    sectors, regions = {}, {}
    for agency, sector, region in zip(edited["agency"], edited["sector"], edited["region"]):
        if isinstance(agency, str) and agency.strip():
            sectors.setdefault(agency.strip(), sector)
            if isinstance(region, str) and region.strip():
                regions.setdefault(agency.strip(), region.strip())
    return {"default_sector": "community", "default_region": "Unassigned", "spellings": spellings,
            "sectors": sectors, "regions": regions}


def first_name(start: columns.ColumnMapping | None, uploaded_as: str) -> str:
    """The mapping's name first offered: the known one's, else the file's name."""
    return start.name if start else f"{uploaded_as.rsplit('.', 1)[0]} columns"


@dataclass
class Draft:
    """A mapping being made on the page: what has been chosen so far, in ColumnMapping's terms."""

    table: str
    header: list[str]
    columns: dict = field(default_factory=dict)  # contract column -> source column, or [date, time]
    formats: dict = field(default_factory=dict)  # source column -> its format
    values: dict = field(default_factory=dict)  # contract column -> {source value: contract value}
    status: dict | None = None
    agencies: dict | None = None
    name: str = ""

    def still_to_do(self) -> str | None:
        """What the mapping still needs before it can be made, in words; None when nothing."""
        table = TABLES[self.table]
        missing = [c.name for c in table.columns if c.required and c.name not in self.columns]
        undated = [s for c, s in self.columns.items() if table.column(c).type in DATED
                   and (s if isinstance(s, str) else s[0]) not in self.formats]
        if self.status and self.status["date"] not in self.formats:
            undated.append(self.status["date"])
        if not (missing or undated):
            return None
        return "Still to do: " + "; ".join(
            ([f"choose the column of {', '.join(missing)}"] if missing else [])
            + ([f"choose how {', '.join(escape.markdown(u) for u in undated)} is written"] if undated else []))

    def mapping(self) -> columns.ColumnMapping:
        """The mapping made, checked (raises columns.MappingError, saying what to change)."""
        made = columns.ColumnMapping(self.table, self.header, self.columns, self.formats, self.values,
                                     self.status, self.agencies, self.name)
        made.check(self.name)
        return made


def file_name(name: str) -> str:
    """The file a mapping called `name` is downloaded as and kept in."""
    return f"{agency_ids.agency_slug(name)}.toml"


def keep(mapping: columns.ColumnMapping, name: str, folder: Path) -> Path:
    """Keep a mapping in the mappings folder, where next month's export of the same columns finds it
    (columns.saved_mapping)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(name)
    path.write_text(mapping.to_toml(), encoding="utf-8")
    return path
