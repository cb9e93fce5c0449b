"""Row-level faults of an HMIS export: what the import does with each, the list of every affected row,
and the safeguard that stops an import which would lose more than a few rows of a file.

Real exports are messy and a coordinator cannot fix the HMIS before the board meets, so a fault in one
row costs that row, never the export: the row is left out, or its value is read as a documented value
(`FAULTS` says which, for each kind). Only what would make the figures wrong or unsafe stops an import:
a structural fault (`atlas.ingest.formats.hmis.files`), or more than `SAFEGUARD_PERCENT` % of one file's rows
left out, unless the person accepts it (`safeguard`).

Every affected row is kept with its file, row, record id and column, never a value: the list is
downloaded and stored in the database (`import_left_out`), and an id is what a coordinator looks up in
the HMIS. `PersonalID` values are never listed anywhere, not even among the first rows on screen.

Part of the HMIS format of the import side, below `files` (reading) and `tables` (mapping).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atlas.ingest.problems import Problem, at_rows

# More than this share of a file's rows (those not deleted) left out stops the import unless accepted: in
# whole percent, so that 5 rows of 100 are compared as whole numbers, exactly.
SAFEGUARD_PERCENT = 5
SAFEGUARD_RULE = "hmis_too_many_left_out"

LEFT_OUT = "left out"
# rule -> (the fault in plain words, what the import does with the row)
FAULTS = {
    "hmis_empty_id": ("An identifier is empty", LEFT_OUT),
    "hmis_empty_date": ("A date the import needs is empty", LEFT_OUT),
    "hmis_bad_date": ("A date that cannot be read, or could be read two ways (01/02/2024)", LEFT_OUT),
    "hmis_bad_count": ("The bed count is empty or not a whole number", LEFT_OUT),
    "hmis_negative": ("The bed count is negative", LEFT_OUT),
    "hmis_order": ("Dates in the wrong order", LEFT_OUT),
    "hmis_reference": ("Names a record that is not in the export", LEFT_OUT),
    "hmis_parent_left_out": ("Belongs to a record that was left out", LEFT_OUT),
    "hmis_duplicate": ("The same identifier again, updated earlier", LEFT_OUT),
    "hmis_victim_service": ("VictimServiceProvider is empty or not 0 or 1", "read as 1: a victim-service provider"),
    "hmis_victim_service_mapped": ("VictimServiceProvider is empty or not 0 or 1",
                                   "read as the mapping file says"),
    "hmis_destination": ("Destination is empty or not a code of HUD's list", "outcome unknown"),
    "hmis_code": ("A code is empty, not a whole number or not on HUD's list", "read as 'data not collected'"),
    "hmis_name": ("The name is empty", "the identifier stands as the name"),
}
# The record each file's rows are: its id column, which the list of affected rows names.
KEY_COLUMN = {"Export": "ExportID", "Organization": "OrganizationID", "Project": "ProjectID",
              "ProjectCoC": "ProjectCoCID", "Funder": "FunderID", "Inventory": "InventoryID",
              "Enrollment": "EnrollmentID", "Exit": "ExitID", "Event": "EventID"}
PERSONAL = ("PersonalID",)  # its values are shown nowhere: a raw client id
AFFECTED_COLUMNS = ["file", "file_row", "id_column", "record_id", "column_name", "fault", "action"]


@dataclass
class Faults:
    """The faults found in an export's files, row by row, as they are found; each file's `left_out`
    mask is kept up to date as rows are left out. `problems` is the export's list of problems, which the
    mapping adds to as well; the faults' own are listed once every row's fate is known (`warnings`)."""

    files: dict  # HMIS name (e.g. "Event") -> ExportFile
    problems: list[Problem]
    _parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, name: str, column: str, rule: str, positions: np.ndarray, message: str) -> None:
        """Record `rule` at the rows `positions` (0-based, or a boolean mask) of file `name`, with the
        `message` its warning gives."""
        positions = np.flatnonzero(positions) if positions.dtype == bool else np.asarray(positions, dtype="int64")
        if not len(positions):
            return
        f = self.files[name]
        title, action = FAULTS[rule]
        key = KEY_COLUMN[name]
        self._parts.append(pd.DataFrame({
            "file": f.name, "file_row": positions + 2, "id_column": key,
            "record_id": f.frame[key].to_numpy(dtype=object, na_value=None)[positions],
            "column_name": column, "fault": title, "action": action, "_rule": rule,
            "_message": f"{message} {_done(action)}", "_position": positions}))
        if action == LEFT_OUT:
            f.left_out[positions] = True

    def warnings(self, affected: pd.DataFrame) -> list[Problem]:
        """The affected rows (`affected()`) as warnings: per file, column and fault, the first rows listed with
        their values (never a PersonalID) and the rest counted."""
        found = []
        by_name = {f.name: f for f in self.files.values()}
        for (file, column, rule, message), rows in affected.groupby(["file", "column_name", "_rule", "_message"],
                                                                    sort=False):
            frame = by_name[file].frame
            shown = None if column in PERSONAL or column not in frame else frame[column]
            found += at_rows(file, column, rule, np.sort(rows["file_row"].to_numpy() - 2), shown, message, "warning")
        return found

    def affected(self) -> pd.DataFrame:
        """Every affected row that is not a deleted record (file, file_row, id_column, record_id, column_name,
        fault, action; its `_rule` and `_message` beside), by file and row."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "file_row" else "object")
                                 for c in [*AFFECTED_COLUMNS, "_rule", "_message"]})
        rows = pd.concat(self._parts, ignore_index=True)
        deleted = np.zeros(len(rows), dtype=bool)
        for f in self.files.values():  # a row that turned out deleted is as if absent
            at = (rows["file"] == f.name).to_numpy()
            gone = f.deleted_own | f.deleted_parent
            deleted[at] = gone[rows["_position"].to_numpy()[at]]
        rows = rows[~deleted].sort_values(["file", "file_row", "column_name"], kind="stable")
        return rows.drop(columns="_position").reset_index(drop=True)


def _done(action: str) -> str:
    return "The row is left out." if action == LEFT_OUT else f"It is {action}."


def by_fault(affected: pd.DataFrame) -> pd.DataFrame:
    """The affected rows grouped by file, column and fault: file, column, fault, rows, what was done."""
    if not len(affected):
        return pd.DataFrame(columns=["file", "column", "fault", "rows", "what was done"])
    grouped = (affected.groupby(["file", "column_name", "fault", "action"], sort=False).size()
               .rename("rows").reset_index())
    grouped = grouped.rename(columns={"column_name": "column", "action": "what was done"})
    return (grouped[["file", "column", "fault", "rows", "what was done"]]
            .sort_values(["file", "rows"], ascending=[True, False], kind="stable").reset_index(drop=True))


def safeguard(files: dict, affected: pd.DataFrame, accept: bool) -> list[Problem]:
    """A problem for each file with more than SAFEGUARD_PERCENT of its rows (those not deleted) left out: an
    error that stops the import, or a warning once the person has accepted the loss."""
    problems = []
    left = affected[affected["action"] == LEFT_OUT]
    for f in files.values():
        counted = int((~(f.deleted_own | f.deleted_parent)).sum())
        lost = int(f.left_out.sum())
        if not counted or lost * 100 <= SAFEGUARD_PERCENT * counted:
            continue
        rules = left.loc[left["file"] == f.name, "fault"].value_counts()
        commonest = f"'{rules.index[0]}' ({int(rules.iloc[0]):,} rows)" if len(rules) else "(none listed)"
        share = f"{100 * lost / counted:.1f} %"
        if accept:
            problems.append(Problem(f.name, None, None, None, SAFEGUARD_RULE,
                                    f"{lost:,} of its {counted:,} rows ({share}) were left out, more than "
                                    f"{SAFEGUARD_PERCENT} %, and this was accepted; the commonest fault: {commonest}.",
                                    "warning"))
            continue
        problems.append(Problem(
            f.name, None, None, None, SAFEGUARD_RULE,
            f"{lost:,} of its {counted:,} rows ({share}) would be left out, more than the {SAFEGUARD_PERCENT} % an "
            f"import takes without asking; the commonest fault: {commonest}. Nothing was imported. Fix the rows "
            "in the HMIS (the report lists every one) and export again, or import without them: "
            "--accept-dropped on the command line, or the confirmation on the Data page."))
    return problems


def affected_csv(affected: pd.DataFrame) -> bytes:
    """Every affected row as a CSV a spreadsheet opens safely: ids and columns only, no values."""
    from atlas.exports import safe_csv

    return safe_csv(affected[AFFECTED_COLUMNS])


# ---- dates as exporters write them ------------------------------------------------------------------

# Other unambiguous forms some exporters write, read as the day (or moment) they name; a form such as
# 01/02/2024 could be the 1st of February or the 2nd of January, so it is not read. Two-digit years are
# 2000-2068 for 00-68 and 1969-1999 for 69-99, as strptime reads them.
OTHER_FORMS = (
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M"),
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"\d{1,2}-[A-Za-z]{3}-\d{2}", "%d-%b-%y"),
    (r"\d{1,2}-[A-Za-z]{3}-\d{4}", "%d-%b-%Y"),
)


def other_forms(text: pd.Series) -> pd.Series:
    """The moments written in one of OTHER_FORMS (datetime64[us]); missing where none fits or the calendar
    has no such day."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for pattern, form in OTHER_FORMS:
        shaped = text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool) & out.isna().to_numpy()
        if not shaped.any():
            continue
        values = text[shaped].str.title()  # JAN, jan -> Jan, as %b reads it
        out[shaped] = pd.to_datetime(values, format=form, errors="coerce").astype("datetime64[us]")
    return out
