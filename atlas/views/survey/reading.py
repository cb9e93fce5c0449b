"""What a round's figures allow one to read (computing layer, pure): the response-rate guidance of
network-survey practice, the round before this one, and the names put on the queries' agency ids."""

from __future__ import annotations

import pandas as pd

from atlas import formats

INDIVIDUAL, PATTERNS = 0.80, 0.65  # response rates from which individual positions, then overall patterns, read


def guidance(rate) -> tuple[str, str]:
    """(level, sentence): what the response rate allows one to read. Level is "individual", "patterns",
    "partial" or "none" (nobody invited, or nothing in yet)."""
    if rate is None or pd.isna(rate):
        return "none", "Nobody has answered yet: there is nothing to read."
    shown = formats.percent(rate)
    if rate >= INDIVIDUAL:
        return "individual", (f"{shown} of members answered: individual positions can be read (who brokers, who "
                              "is most trusted), as well as the overall patterns.")
    if rate >= PATTERNS:
        return "patterns", (f"{shown} of members answered: read only the overall patterns (density, reciprocity, "
                            "mean trust and value), not any one agency's position.")
    return "partial", (f"{shown} of members answered: the picture is partial. Ties of members who did not answer "
                       "are seen from one side at most, and many are missing.")


def previous_round(rounds: pd.DataFrame, round_id: str) -> dict | None:
    """The round the change is measured against: the latest whose period ends before this one starts."""
    this = rounds[rounds["round_id"] == round_id]
    if this.empty:
        return None
    start = pd.Timestamp(this["period_start"].iloc[0])
    before = rounds[pd.to_datetime(rounds["period_end"]) < start]
    if before.empty:
        return None
    return before.sort_values("period_end").iloc[-1].to_dict()


def is_agency(column: str) -> bool:
    """Whether a query's column holds agency ids (agency_id, agency_a_id, respondent_agency_id, ...)."""
    return column.endswith("_id") and "agency" in column


def named(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """The frame with a name beside each agency id column (`x_agency_id` -> `x_agency`, `agency_id` -> `agency`);
    an id with no name (an agency since removed) reads as its id."""
    out = frame.copy()
    for column in [c for c in frame.columns if is_agency(c)]:
        out[column.removesuffix("_id")] = frame[column].map(lambda a: names.get(a, a))
    return out


def _name_column(frame: pd.DataFrame, id_column: str) -> str | None:
    """The column a query gives the name of `id_column`'s agency in (agency_a_id -> agency_a_name,
    respondent_agency_id -> respondent_name), if it gives one."""
    stem = id_column.removesuffix("_id")
    for candidate in (f"{stem}_name", f"{stem.removesuffix('_agency')}_name"):
        if candidate in frame.columns:
            return candidate
    return None


def with_names(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """The frame with a name column for each agency id column that has none (as `named`), its ids dropped."""
    out = frame.copy()
    for column in [c for c in frame.columns if is_agency(c) and _name_column(frame, c) is None]:
        out[column.removesuffix("_id") + "_name"] = frame[column].map(lambda a: names.get(a, a))
    return out.drop(columns=[c for c in out.columns if c.endswith("_id")])
