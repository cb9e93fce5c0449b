"""The Funders' Outcomes page's tables (presenting layer): rate tables under readable headings for the
page, and every aggregate table in long form for the funder pack's CSV (counts of shown programs only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atlas import formats
from atlas.filters import Filters
from atlas.views.outcomes.rates import NETWORK, NO_PROGRAM
from atlas.views.outcomes.words import day
from atlas.vocab import label

SHOWN_COLUMNS = {"programs": "Programs", "exits": "Exits", "positive": "Positive exits", "rate": "Rate",
                 "ci_low": "95% from", "ci_high": "95% to"}
PERCENT_COLUMNS = ("Rate", "95% from", "95% to")
FIRST_COLUMNS = {
    "service_type": {"group": "Service type"},
    "region": {"group": "Region"},
    "funder": {"group": "Funder"},
    "agency": {"group": "Agency", "region": "Region", "sector": "Sector"},
    "program": {"agency_name": "Agency", "program": "Program", "service": "Service type", "funder": "Funder"},
    "pathways": {"referrer": "Referred in by", "sector": "Sector"},
    "returns": {"horizon": "Back in homelessness", "housed": "Housed between", "followed": "Clients followed",
                "returned": "Returned"},
}


def display(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A table with readable headings for the page; hidden rows keep their names, their counts stay empty. Rates
    are percentages (0-100), for a column of format atlas.formats.PERCENT_PRINTF: written as everywhere else."""
    frame = table
    if kind == "program":
        frame = table.assign(service=table["service_type"].map(lambda s: "" if pd.isna(s) else label(s)),
                             program=table["program_name"].fillna(NO_PROGRAM.lower()),
                             funder=table["funder"].fillna(""))
    if kind == "returns":
        frame = table.assign(horizon=table["horizon_months"].map(lambda h: f"within {h} months"),
                             housed=[f"{day(a)} – {day(b)}" for a, b in
                                     zip(table["housed_from"], table["housed_to"])])
    columns = {**FIRST_COLUMNS[kind], **{k: v for k, v in SHOWN_COLUMNS.items()
                                         if k in frame.columns and not (kind == "returns" and k in ("exits",
                                                                                                    "positive"))}}
    out = formats.as_percent(frame[list(columns)].rename(columns=columns), PERCENT_COLUMNS)
    if "suppressed" in frame.columns and frame["suppressed"].astype(bool).any():
        out["Note"] = np.where(frame["suppressed"].astype(bool), "hidden: small numbers", "")
    return out.reset_index(drop=True)


def aggregate_tables(view) -> dict[str, pd.DataFrame]:
    """Every aggregate table of an Outcomes view, in long form, for the CSV (counts of shown programs only)."""
    tables = {}
    rate_cols = ["exits", "positive", "rate", "ci_low", "ci_high"]
    for key in ("service_type", "region", "funder", "agency"):
        if key in view.by:  # a whole period's published set has no agency table
            t = view.by[key]
            tables[f"by_{key}"] = t.assign(group=t["group"], note=_hidden(t))[["group", "programs", *rate_cols, "note"]]
    p = view.programs[~view.programs["suppressed"]]
    tables["by_program"] = p.assign(group=p["program_label"])[["group", *rate_cols]]
    network = {"group": NETWORK, **view.network[rate_cols].to_dict()}
    if "people" in view.network and view.network.get("hidden") is not None:  # a whole period's published set
        network.update(people=view.network["people"], note="hidden" if view.network["hidden"] else "")
    tables["network"] = pd.DataFrame([network])
    if view.funder or view.filters != Filters(view.filters.start, view.filters.end):
        tables["selection"] = pd.DataFrame([{"group": view.funder or "Selection", **view.selection[rate_cols].to_dict()}])
    trend = view.trend[~view.trend["suppressed"]]
    tables["trend"] = trend.assign(group=np.where(trend["scope"] == "network", NETWORK, view.funder or ""),
                                   period=trend["quarter"].astype(str))[["group", "period", *rate_cols]]
    for key in ("service_type", "program"):
        mix = view.mix[key]
        tables[f"mix_{key}"] = mix.assign(outcome=mix["label"])[["group", "outcome", "exits", "share"]]
    ret = view.returns[~view.returns["suppressed"]]
    tables["returns"] = ret.assign(group=NETWORK, period=ret["horizon_months"].map(lambda h: f"within {h} months"),
                                   exits=ret["followed"], positive=ret["returned"])[["group", "period", *rate_cols]]
    tables["pathways"] = view.pathways.assign(group=view.pathways["referrer"])[["group", *rate_cols]]
    return tables


def _hidden(table: pd.DataFrame) -> np.ndarray:
    """The CSV's word for a row whose figures are hidden (its counts are left empty)."""
    return np.where(table["suppressed"].astype(bool), "hidden", "") if "suppressed" in table else ""


def long_table(view) -> pd.DataFrame:
    """All aggregate tables stacked, with a `table` column: the pack's CSV."""
    parts = [t.assign(table=name) for name, t in aggregate_tables(view).items() if len(t)]
    frame = pd.concat(parts, ignore_index=True)
    first = ["table", "group", "period", "outcome", "programs", "exits", "people", "positive", "rate", "ci_low",
             "ci_high", "share", "note"]
    for column in first:
        if column not in frame.columns:
            frame[column] = None
    for count in ("programs", "exits", "people", "positive"):  # stacking tables without a count made them floats (26.0)
        frame[count] = frame[count].astype("Int64")
    return frame[first]
