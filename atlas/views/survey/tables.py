"""The Survey page's tables and figures as people read them (presenting layer, pure): headings in words,
agency names beside ids, ratings to one decimal, the summary as (label, value, meaning) triples, and the
links a mail merge takes."""

from __future__ import annotations

import pandas as pd

from atlas import formats
from atlas.views.survey.reading import named, with_names

RATING = "{:.1f}"

SUMMARY = [  # key of survey_summary, label, kind, what it counts
    ("invited", "Invited", "count", "Members of the round: the organizations asked."),
    ("responded", "Responded", "count", "Members that saved an answer (naming nobody counts as an answer)."),
    ("response_rate", "Response rate", "percent", "Answered ÷ invited."),
    ("ties_either", "Ties (either side)", "count", "Pairs of members at least one of which named the other."),
    ("ties_both", "Ties (both sides)", "count", "Pairs of members each of which named the other."),
    ("reciprocity", "Reciprocity", "percent", "Ties named by both ÷ ties named by either."),
    ("density", "Density", "percent", "Ties named by either ÷ every possible pair of members."),
    ("mean_trust", "Mean trust", "rating", "Mean over every partner rated on all three trust items (1 to 4)."),
    ("mean_value", "Mean value", "rating", "Mean over every partner rated on all three value items (1 to 4)."),
]


def figure(value, kind: str) -> str:
    """One summary figure as the page and the board pack write it."""
    if value is None or pd.isna(value):
        return formats.MISSING
    if kind == "percent":
        return formats.percent(value)
    if kind == "rating":
        return f"{RATING.format(float(value))} of 4"
    return formats.count(int(value))


def summary_figures(summary: dict, keys=None) -> list[tuple[str, str, str]]:
    """(label, value, meaning) of each summary figure (all, or those of `keys`)."""
    return [(name, figure(summary.get(key), kind), meaning) for key, name, kind, meaning in SUMMARY
            if keys is None or key in keys]


def _ratings(frame: pd.DataFrame, columns) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype("Float64").round(1) for c in columns if c in frame})


def ties_table(ties: pd.DataFrame, names: dict) -> pd.DataFrame:
    """survey_ties under headings, strongest collaboration first."""
    rows = named(ties, names).sort_values(["level", "frequency"], ascending=False, na_position="last")
    rows = _ratings(rows, ("level", "frequency", "trust", "value"))
    return rows.rename(columns={"agency_a": "Agency A", "agency_b": "Agency B", "reports": "Named by (1 or 2)",
                                "level": "Level (1–5)", "frequency": "Frequency (1–5)", "trust": "Trust (1–4)",
                                "value": "Value (1–4)"})[
        ["Agency A", "Agency B", "Named by (1 or 2)", "Level (1–5)", "Frequency (1–5)", "Trust (1–4)",
         "Value (1–4)"]].reset_index(drop=True)


def agencies_table(agencies: pd.DataFrame, names: dict) -> pd.DataFrame:
    """survey_agencies under headings, most trusted first."""
    rows = named(agencies, names).sort_values(["trust_received", "named_by"], ascending=False, na_position="last")
    rows = _ratings(rows, ("trust_received", "value_received"))
    return rows.rename(columns={"agency": "Agency", "responded": "Answered", "partners_named": "Partners named",
                                "named_by": "Named by", "trust_received": "Trust received (1–4)",
                                "value_received": "Value received (1–4)", "raters": "Raters"})[
        ["Agency", "Answered", "Partners named", "Named by", "Trust received (1–4)", "Value received (1–4)",
         "Raters"]].reset_index(drop=True)


HEADINGS = {  # the columns of the round's other queries, in words
    "agency_a_name": "Agency A", "agency_b_name": "Agency B", "agency_name": "Agency",
    "respondent_name": "Says", "partner_name": "About", "said": "Says it has a formal agreement",
    "on_paper": "Formal partnerships in force", "finding": "Finding", "level_by_a": "Level as A sees it",
    "level_by_b": "Level as B sees it", "difference": "Difference", "frequency_by_a": "Frequency as A sees it",
    "frequency_by_b": "Frequency as B sees it", "change": "Change", "trust_before": "Trust received then",
    "raters_before": "Raters then", "trust_now": "Trust received now", "raters_now": "Raters now",
    "trust_change": "Change in trust",
}
FINDINGS = {"yes_not_on_paper": "Says yes; none on paper", "no_but_on_paper": "Says no; one on paper",
            "gained": "Gained", "lost": "Lost"}


def readable(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Any of the round's other tables (seen differently, agreements, change, trust change) with names in place
    of agency ids (the query's own names where it gives them), ratings to one decimal, words for findings and
    its columns' names in words."""
    rows = with_names(frame, names)
    rows = _ratings(rows, [c for c in rows.columns if c.startswith(("trust", "value", "level"))
                           and pd.api.types.is_float_dtype(rows[c])])
    for column in ("finding", "change"):
        if column in rows and not pd.api.types.is_numeric_dtype(rows[column]):
            rows[column] = rows[column].map(lambda v: FINDINGS.get(v, v))
    return rows.rename(columns=lambda c: HEADINGS.get(c, c.replace("_", " ").capitalize())).reset_index(drop=True)


def progress_tables(progress: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(who has answered, latest first; who has not, by name) from Surveys.progress."""
    done = progress[progress["responded"]].sort_values("last_saved", ascending=False)
    answered = pd.DataFrame({"Member": done["name"].astype(str), "Partners named": done["partners_named"],
                             "Last saved": pd.to_datetime(done["last_saved"])}).reset_index(drop=True)
    waiting = progress[~progress["responded"]].sort_values("name")
    missing = pd.DataFrame({"Member": waiting["name"].astype(str),
                            "Victim-service": waiting["victim_service"].map({True: "yes", False: ""})})
    return answered, missing.reset_index(drop=True)

