"""The victim-service rule, written once for every view: victim-service agencies are never drawn, named or
scored, and the rows that involve one (referral flows, declared ties, pairs) are only counted. Views split
agencies and rows with these functions rather than filtering `is_victim_service` themselves. Computing
layer, below the views: pure functions over frames (the named queries' `network_agencies` columns)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

FLOW_ENDS = ("from_agency_id", "to_agency_id")  # a referral flow's two agencies
TIE_ENDS = ("agency_a_id", "agency_b_id")  # a declared tie's two agencies


def split_agencies(agencies: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """The agencies that may be shown (rows of `agencies`, in order) and the ids of those that may not."""
    victim = agencies["is_victim_service"]
    return agencies[~victim], set(agencies.loc[victim, "agency_id"])


def involves(rows: pd.DataFrame, protected: set[str], ends: Iterable[str] = FLOW_ENDS) -> pd.Series:
    """Which rows have a protected agency in any of the `ends` columns."""
    first, *others = ends
    mask = rows[first].isin(protected)
    for end in others:
        mask = mask | rows[end].isin(protected)
    return mask


def split_rows(rows: pd.DataFrame, protected: set[str], ends: Iterable[str] = FLOW_ENDS
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows that may be shown and those that involve a protected agency (to be counted, never shown);
    both keep their index."""
    touched = involves(rows, protected, ends)
    return rows[~touched], rows[touched]


def shown_rows(rows: pd.DataFrame, protected: set[str], ends: Iterable[str] = FLOW_ENDS) -> pd.DataFrame:
    """The rows that involve no protected agency (keeping their index)."""
    return rows[~involves(rows, protected, ends)]
