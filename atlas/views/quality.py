"""The data-quality panel: what in the loaded data looks incomplete, stale or not linked up.

Each check is a named query (`queries/quality_*.sql`) that lists the affected rows; `report` runs
them all and says, for each, how many rows it found, what that means and how to fix it. Downloads
hold identifiers only (agency, program and referral ids, and client ids as the pseudonyms the
database stores), never names or raw client ids.

"Ended" agency: the contract has no closing date for an agency, so an agency counts as ended when
it has had referral activity (sent or received, any step) but none in the last `ended_days` days
before the data's as-of moment. A partnership still in force with such an agency is probably
stale: it should carry an `ended_on`, or the agency's referrals are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from atlas.exports import safe_csv

# the columns of the left-out rows: ids and columns, never a value
LEFT_OUT_IDS = ("file", "file_row", "id_column", "record_id", "column_name", "fault", "action")
DEFAULT_STALE_DAYS = 90
DEFAULT_ENDED_DAYS = 365


@dataclass(frozen=True)
class Check:
    key: str  # stable id, also the download's file name
    short: str  # a label short enough for a metric
    title: str
    what: str  # what is counted, in plain words
    fix: str  # what to do about it
    rows: pd.DataFrame  # the affected rows, as the query returns them
    ids: tuple[str, ...]  # the identifier columns a download holds
    unit: str  # what one row is, for the count ("referrals", "agencies", ...)

    @property
    def count(self) -> int:
        return len(self.rows)

    def download(self) -> bytes:
        """The affected ids as a CSV (distinct rows of the id columns)."""
        return safe_csv(self.rows[list(self.ids)].drop_duplicates().reset_index(drop=True))


@dataclass(frozen=True)
class Report:
    completeness: pd.DataFrame  # table, column, rows, filled, share filled
    checks: tuple[Check, ...]

    @property
    def problems(self) -> int:
        """How many checks found something."""
        return sum(check.count > 0 for check in self.checks)


def report(db, *, stale_days: float = DEFAULT_STALE_DAYS, ended_days: float = DEFAULT_ENDED_DAYS) -> Report:
    """Every data-quality check on `db` (anything with `.query(name, **params)`)."""
    stale = db.query("quality_stale_referrals", days=stale_days)
    checks = (
        Check("stale_referrals", "Stale referrals", "Referrals not updated for a long time",
              f"Open referrals (pending, accepted or started) whose last recorded step is more than "
              f"{stale_days:g} days before the latest date in the data.",
              "Ask the receiving agencies to record the decision, start or completion, or close the "
              "referral, and load the next export.",
              stale, ("referral_id",), "referrals"),
        Check("agencies_without_referrals", "Agencies without referrals", "Agencies with no referrals",
              "Agencies that neither sent nor received a single referral.",
              "Check that their referrals are in the referral export (and use the same agency_id), or "
              "remove agencies that are not in the network.",
              db.query("quality_agencies_without_referrals"), ("agency_id",), "agencies"),
        Check("programs_without_capacity", "Programs without capacity", "Programs without capacity",
              "Programs with no capacity row in any month, so their slots cannot be compared with need.",
              "Add their monthly slots to capacity.csv.",
              db.query("quality_programs_without_capacity"), ("program_id", "agency_id"), "programs"),
        Check("ended_agency_partnerships", "Ties to ended agencies", "Partnerships with agencies that have ended",
              f"Partnerships still in force (no ended_on, or one after the agency's last activity) with "
              f"an agency that has had no referral activity for more than {ended_days:g} days.",
              "Set ended_on for partnerships that have ended, or load the agency's missing referrals.",
              db.query("quality_ended_agency_partnerships", ended_days=ended_days),
              ("agency_a_id", "agency_b_id", "ended_agency_id"), "partnerships"),
        Check("outcomes_never_referred", "Exits never referred", "Outcomes of clients never referred",
              "Exits recorded for clients who appear in no referral, so their outcome cannot be linked "
              "to a referral path.",
              "Check that outcomes and referrals use the same client ids, and that every import used "
              "the same pseudonymisation key.",
              db.query("quality_outcomes_never_referred"), ("client_id",), "exits"),
    )
    left_out = db.query("quality_left_out")
    if len(left_out):  # only an HMIS export leaves rows out: a community loading contract files never sees this check
        checks += (Check(
            "left_out", "Rows left out at import", "Rows the last import left out, or read by a rule",
            "Rows of the last HMIS export that the import left out (an empty id or date, a record naming one "
            "not in the export, dates in the wrong order, ...) or read with a documented value (an empty "
            "Destination as the outcome unknown, ...), by file, row and id.",
            "Fix each row in the HMIS (the download lists them by file, row and id) before the next export.",
            left_out, LEFT_OUT_IDS, "rows"),)
    return Report(completeness(db.query("quality_completeness")), checks)


def completeness(frame: pd.DataFrame) -> pd.DataFrame:
    """The completeness query's rows with whether each column is required by the contract."""
    from atlas.contract import TABLES

    required = {(t.name, c.name) for t in TABLES.values() for c in t.columns if c.required}
    out = frame.copy()
    out["required"] = [(t, c) in required for t, c in zip(out["table_name"], out["column_name"])]
    return out
