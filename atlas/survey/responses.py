"""The responses file, `survey_responses.csv`: a round's standing answers written out, and paper answers
(or another tool's export) read in.

The import checks the whole file before anything changes and reports every problem with its row (as
in the file, the header being row 1), column, value and rule, in the import side's words
(`atlas.ingest.problems`); with one problem it writes nothing. Otherwise it replaces, in one
transaction, the answers of every respondent in the file. Export, import and export again give the
same bytes: the export writes rows in a fixed order, and a cell the export made inert for a
spreadsheet (an id beginning with `=`, say, given a leading quote by `atlas.exports`) is read back as
it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from atlas.exports import FORMULA_PREFIXES, neutralise
from atlas.ingest.problems import Problem
from atlas.survey import store
from atlas.survey.model import AGREEMENTS, RANGES
from atlas.survey.store import COLUMNS, replace

FILE = "survey_responses.csv"
TIMESTAMP = "%Y-%m-%d %H:%M:%S"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


@dataclass
class ImportReport:
    """What an import did: nothing when `problems` holds any (see `ok`)."""

    round_id: str
    file: str
    respondents: list[str] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def export_file(surveys, round_id: str, path: Path) -> int:
    """Write the round's standing answers (drafts left out) to `path`; the rows written."""
    with store.reading(surveys.database) as con:
        surveys._known(con, round_id)
        frame = con.execute(store.statement("responses"), {"round_id": round_id}).df()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in frame.astype(object).itertuples(index=False, name=None):
        writer.writerow([_cell(name, value) for name, value in zip(COLUMNS, row)])
    Path(path).write_text(out.getvalue(), encoding="utf-8")
    return len(frame)


def _cell(name: str, value) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return ""
    if name == "submitted_at":
        return pd.Timestamp(value).strftime(TIMESTAMP)
    if isinstance(value, float):
        return str(int(value))
    return str(neutralise(value) if isinstance(value, str) else value)


def _unquoted(text: str) -> str:
    """A cell as it was before the export made it inert for a spreadsheet."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def read(path: Path) -> tuple[list[str], list[dict[str, str]], list[Problem]]:
    """The file's header and rows (cells stripped), or the problems that stop it being read at all."""
    name = Path(path).name
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [], [], [Problem(name, None, None, None, "not_utf8",
                                f"The file is not UTF-8 text (byte {error.start}): save it as CSV UTF-8.")]
    except OSError as error:
        return [], [], [Problem(name, None, None, None, "unreadable", f"The file cannot be read: {error}.")]
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        return [], [], [Problem(name, None, None, None, "not_csv", f"The file is not CSV: {error}.")]
    if not table:
        return [], [], [Problem(name, 1, None, None, "header", "The file is empty: it needs the header row.")]
    header = [h.strip() for h in table[0]]
    problems = []
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems.append(Problem(name, 1, None, ",".join(header), "header",
                                f"The header must be exactly: {','.join(COLUMNS)}"
                                + (f" (missing {', '.join(missing)})" if missing else "")
                                + (f" (unknown {', '.join(unknown)})" if unknown else "")))
        return header, [], problems
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(name, number, None, ",".join(cells), "cells",
                                    f"The row has {len(cells)} cells; the header has {len(header)}."))
            continue
        row = {h: c.strip() for h, c in zip(header, cells)}
        row.update({h: _unquoted(v) for h, v in row.items() if v.startswith("'")})
        row["_row"] = number
        rows.append(row)
    return header, rows, problems


def _values(name: str, row: dict, number: int) -> tuple[dict, list[Problem]]:
    """The typed values of one partner row, and the problems of its cells."""
    problems, values = [], {}
    named = bool(row["partner_agency_id"])
    for column, allowed in RANGES.items():
        text = row[column]
        if not text:
            values[column] = None
            if named and column in ("frequency", "level"):
                problems.append(Problem(name, number, column, None, "required",
                                        f"{column} is required for each partner named."))
            continue
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value not in allowed:
            problems.append(Problem(name, number, column, text, "out_of_range",
                                    f"{column} must be a whole number {allowed.start}-{allowed.stop - 1}."))
        values[column] = value
    agreement = row["agreement"]
    values["agreement"] = agreement or None
    if named and not agreement:
        problems.append(Problem(name, number, "agreement", None, "required", "agreement is required for each partner named."))
    elif agreement and agreement not in AGREEMENTS:
        problems.append(Problem(name, number, "agreement", agreement, "agreement_word",
                                "agreement must be one of yes, no, unsure."))
    if not named and any(values[c] is not None for c in (*RANGES, "agreement")):
        problems.append(Problem(name, number, "partner_agency_id", None, "required",
                                "A row with answers needs its partner (a row without one says the respondent "
                                "named nobody, and holds no answers)."))
    return values, problems


def _submitted(name: str, row: dict, number: int, now: dt.datetime) -> tuple[dt.datetime, list[Problem]]:
    text = row["submitted_at"]
    if not text:
        return now, []
    try:
        if not STAMP.fullmatch(text):
            raise ValueError(text)
        return dt.datetime.fromisoformat(text), []
    except ValueError:
        return now, [Problem(name, number, "submitted_at", text, "timestamp_format",
                             "submitted_at must be YYYY-MM-DD HH:MM:SS (or empty).")]


def check(surveys, round_id: str, path: Path) -> tuple[ImportReport, list[dict]]:
    """The report of the whole file and the rows to write (none when the report holds a problem)."""
    name = Path(path).name
    report = ImportReport(round_id, name)
    try:
        round_ = surveys.round(round_id)
    except KeyError:
        report.problems.append(Problem(name, None, None, round_id, "unknown_round",
                                       f"There is no survey round {round_id!r}: open it first "
                                       f"(python -m atlas survey open), or name the right one."))
        return report, []
    with store.reading(surveys.database) as con:
        listed = surveys._members(con, round_id)
    victims = set(listed.loc[listed["victim_service"].astype(bool), "agency_id"])
    members = set(round_.members)
    header, rows, problems = read(path)
    report.problems.extend(problems)
    out, seen, nobody = [], {}, {}
    now = dt.datetime.now().replace(microsecond=0)
    for row in rows:
        number = row["_row"]
        found = _row_problems(name, row, number, round_, members, victims, seen, nobody)
        values, cells = _values(name, row, number)
        submitted, stamp = _submitted(name, row, number, now)
        found += cells + stamp
        report.problems.extend(found)
        out.append({"round_id": round_id, "respondent_agency_id": row["respondent_agency_id"],
                    "partner_agency_id": row["partner_agency_id"] or None, **values, "submitted_at": submitted})
    for respondent, number in nobody.items():
        if any(key[0] == respondent for key in seen):
            report.problems.append(Problem(name, number, "partner_agency_id", None, "nobody_and_partners",
                                           f"{respondent} has a row naming nobody and rows naming partners: "
                                           "keep one or the other."))
    report.respondents = sorted({r["respondent_agency_id"] for r in out})
    report.rows = len(out)
    report.problems.sort(key=lambda p: (p.row or 0, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
    return report, ([] if report.problems else out)


def _row_problems(name: str, row: dict, number: int, round_, members: set, victims: set, seen: dict,
                  nobody: dict) -> list[Problem]:
    """The problems of a row's round, respondent and partner (and the pairs seen so far)."""
    found = []
    if row["round_id"] != round_.round_id:
        found.append(Problem(name, number, "round_id", row["round_id"], "unknown_round",
                             f"The row is of another round than {round_.round_id!r}."))
    respondent, partner = row["respondent_agency_id"], row["partner_agency_id"]
    if respondent not in members:
        found.append(Problem(name, number, "respondent_agency_id", respondent or None,
                             "required" if not respondent else "not_a_member",
                             f"The respondent must be a member of round {round_.round_id!r}."))
    if not partner:
        if respondent in nobody:
            found.append(Problem(name, number, "partner_agency_id", None, "duplicate_pair",
                                 f"{respondent} already has a row naming nobody (row {nobody[respondent]})."))
        nobody.setdefault(respondent, number)
        return found
    if partner not in members:
        found.append(Problem(name, number, "partner_agency_id", partner, "not_a_member",
                             f"The partner must be a member of round {round_.round_id!r}."))
    elif partner == respondent:
        found.append(Problem(name, number, "partner_agency_id", partner, "partner_is_respondent",
                             "A respondent cannot name itself as a partner."))
    elif partner in victims:
        found.append(Problem(name, number, "partner_agency_id", partner, "victim_service_partner",
                             "A victim-service agency is never rated as a partner."))
    key = (respondent, partner)
    if key in seen:
        found.append(Problem(name, number, "partner_agency_id", partner, "duplicate_pair",
                             f"{respondent} names {partner} again (first at row {seen[key]})."))
    else:
        seen[key] = number
    return found


def import_file(surveys, round_id: str, path: Path) -> ImportReport:
    """Check the whole file, then (with no problem) replace the answers of every respondent in it."""
    report, rows = check(surveys, round_id, Path(path))
    if report.ok:
        with store.writing(surveys.database) as con:
            surveys._known(con, round_id)
            replace(con, round_id, report.respondents, rows)
    return report
