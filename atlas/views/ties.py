"""The quality of each partnership: partner-survey trust and value beside the referrals it really carries.

Partner surveys (the contract's optional `trust` and `value` ratings, 1-4, in the manner of the PARTNER
tool's trust and value scores) say how partners rate a tie; referral flows say what it carries. Read
together they show ties rated low in trust that carry heavy flows (work done in spite of the
relationship), ties rated high that carry nothing (goodwill not yet used), and how each agency is rated
by its partners. `build(db, filters, min_cell)` reads `partnership_quality` and returns it ready for the
Network map page; with `min_cell` (board and funder views) the low-trust ties that carry referrals are read from
the board's published set (atlas.views.network.published): a tie is listed when the set shows a flow of it, with
the set's figure each way, so the list is audited with the set. Ties with a victim-service agency are left out, as
on the map.
Where a closed partnership-survey round covers the period (issue 32), its ties and ratings stand in for the
declared ones' (atlas.views.survey.quality says what each audience gets of them). Pure: no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from atlas import formats
from atlas.filters import Filters
from atlas.views import privacy
from atlas.views.network.published import published
from atlas.views.suppression import figure_text
from atlas.views.survey import load as survey_load
from atlas.views.survey import quality as survey_quality
from atlas.vocab import instrument_label, label

LOW_TRUST, HIGH_TRUST = 2, 3  # rated 1-2: low; 3-4: high


@dataclass(frozen=True)
class Quality:
    ties: pd.DataFrame  # partnership_quality rows shown (no victim-service agency), with names and `referrals`
    scores: dict  # ties, rated_trust, mean_trust, sd_trust, rated_value, mean_value, sd_value
    strained: pd.DataFrame  # low trust, heaviest flows first (under headings)
    idle: pd.DataFrame  # high trust, no referral either way (under headings)
    ratings: pd.DataFrame  # each agency as its partners rate it (under headings)
    survey: dict | None = None  # the survey round the ratings come from (round_id, name, period, its summary)


def build(db, filters: Filters, min_cell: int | None = None) -> Quality:
    """The period's declared ties with their ratings and referrals, the network's scores and the three
    tables the Network map page shows under the map."""
    agencies = db.query("network_agencies", **filters.params_for("network_agencies"))
    chosen = survey_load.round_for(db, filters)
    if chosen is not None:
        return _from_survey(db, filters, chosen, agencies, min_cell)
    frame = _shown(db.query("partnership_quality", start=filters.start, end=filters.end), agencies)
    flows = None if min_cell is None else published(db, filters, int(min_cell)).flows
    return Quality(ties=frame, scores=scores(frame), strained=strained(frame, min_cell, flows=flows),
                   idle=idle(frame), ratings=ratings(frame))


def _shown(frame: pd.DataFrame, agencies: pd.DataFrame) -> pd.DataFrame:
    """The ties without a victim-service agency, with both agencies' names and the referrals both ways."""
    names = dict(zip(agencies["agency_id"], agencies["name"]))
    _, protected = privacy.split_agencies(agencies)
    frame = privacy.shown_rows(frame, protected, privacy.TIE_ENDS)
    frame = frame.assign(referrals=frame["referrals_a_to_b"] + frame["referrals_b_to_a"],
                         agency_a=frame["agency_a_id"].map(names), agency_b=frame["agency_b_id"].map(names))
    return frame.dropna(subset=["agency_a", "agency_b"]).reset_index(drop=True)


def _from_survey(db, filters: Filters, chosen: dict, agencies: pd.DataFrame, min_cell: int | None) -> Quality:
    """The quality of the survey round's ties: in director views every tie's ratings and each agency's received
    ratings; outside them the round's means, and agencies' received ratings from 3 or more raters only (no
    tie's ratings: a tie has at most two raters)."""
    kept = {**{k: chosen.get(k) for k in ("round_id", "name", "period_start", "period_end")},
            "summary": survey_load.round_summary(db, chosen["round_id"])}  # round-level: every audience's
    frame = _shown(survey_quality.ties_frame(db, filters, chosen), agencies)
    figures = {**scores(frame), "round": chosen.get("name")}  # over every tie shown: round-level, for everyone
    if min_cell is not None:
        frame = frame.assign(trust=pd.NA, value=pd.NA)  # no tie's ratings outside director views
        none = frame.head(0)
        return Quality(ties=frame, scores=figures, strained=strained(none, min_cell), idle=idle(none),
                       ratings=survey_quality.agency_ratings(db, chosen, agencies, published=True), survey=kept)
    return Quality(ties=frame, scores=figures, strained=strained(frame),
                   idle=idle(frame), ratings=survey_quality.agency_ratings(db, chosen, agencies), survey=kept)


def scores(frame: pd.DataFrame) -> dict:
    """Network-level scores: mean and spread (standard deviation) of trust and of value over rated ties."""
    out = {"ties": len(frame)}
    for column in ("trust", "value"):
        rated = frame[column].dropna().astype(float)
        out[f"rated_{column}"] = len(rated)
        out[f"mean_{column}"] = float(rated.mean()) if len(rated) else None
        out[f"sd_{column}"] = float(rated.std(ddof=0)) if len(rated) else None
    return out


def _pair(frame: pd.DataFrame) -> pd.Series:
    return frame["agency_a"] + " — " + frame["agency_b"]


def strained(frame: pd.DataFrame, min_cell: int | None = None, top: int = 15,
             flows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ties rated low in trust (1-2) that carry referrals, heaviest first. With `min_cell` (board and funder
    views) no tie's total is given: beside the map's flows it could reveal a flow the map hides. With the board's
    published set's `flows` (from_agency_id, to_agency_id, referrals, shown) a tie is listed only when the set
    shows a flow of it, each way reads the set's figure (or "hidden"), and the heaviest are those whose shown
    flows carry most: every number and the order are the set's, so the list is audited with it. Without them,
    only ties carrying at least min_cell referrals are listed, without a count."""
    low = frame[(frame["trust"] <= LOW_TRUST) & (frame["referrals"] > 0)]
    if flows is not None:
        return _strained_from_set(low, flows, top)
    low = low.sort_values("referrals", ascending=False)
    if min_cell is not None:
        low = low[low["referrals"] >= min_cell]
    low = low.head(top)
    out = pd.DataFrame({
        "Partnership": _pair(low), "Kind": low["kind"].map(label),
        "Instrument": low["instrument"].map(instrument_label), "Trust": low["trust"].astype("Int64"),
        "Value": low["value"].astype("Int64")})
    if min_cell is None:
        out["Referrals (both ways)"] = low["referrals"].astype(int)
    return out.reset_index(drop=True)


BOARD_WAYS = ("Referrals, first to second", "Referrals, second to first")  # the board's strained list, each way


def _strained_from_set(low: pd.DataFrame, flows: pd.DataFrame, top: int) -> pd.DataFrame:
    """The strained ties a board member sees, read from the board's published set (see `strained`)."""
    figure = dict(zip(zip(flows["from_agency_id"], flows["to_agency_id"]),
                      zip(flows["referrals"].astype(int), flows["shown"].astype(bool))))

    def way(a, b):
        referrals, shown = figure.get((a, b), (0, True))  # no flow: a known zero, as the map's partners read it
        return referrals if shown else None

    ab = [way(a, b) for a, b in zip(low["agency_a_id"], low["agency_b_id"])]
    ba = [way(b, a) for a, b in zip(low["agency_a_id"], low["agency_b_id"])]
    carried = [(x or 0) + (y or 0) for x, y in zip(ab, ba)]
    low = low.assign(_ab=ab, _ba=ba, _carried=carried)
    low = low[low["_carried"] > 0].sort_values(["_carried", "agency_a", "agency_b"], ascending=[False, True, True])
    low = low.head(top)
    out = pd.DataFrame({
        "Partnership": _pair(low), "Kind": low["kind"].map(label),
        "Instrument": low["instrument"].map(instrument_label), "Trust": low["trust"].astype("Int64"),
        "Value": low["value"].astype("Int64")})
    for column, values in zip(BOARD_WAYS, (low["_ab"], low["_ba"])):
        out[column] = [figure_text(v, v is None or pd.isna(v), formats.count) for v in values]
    return out.reset_index(drop=True)


def idle(frame: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Ties rated high in trust (3-4) that carried no referral either way in the period."""
    high = frame[(frame["trust"] >= HIGH_TRUST) & (frame["referrals"] == 0)]
    high = high.sort_values(["trust", "value"], ascending=False, na_position="last").head(top)
    return pd.DataFrame({
        "Partnership": _pair(high), "Kind": high["kind"].map(label),
        "Instrument": high["instrument"].map(instrument_label), "Trust": high["trust"].astype("Int64"),
        "Value": high["value"].astype("Int64")}).reset_index(drop=True)


def ratings(frame: pd.DataFrame) -> pd.DataFrame:
    """Each agency as its partners rate it: the mean trust and value of its rated ties (a tie rates both)."""
    both = pd.concat([frame.rename(columns={"agency_a": "agency"}), frame.rename(columns={"agency_b": "agency"})])
    rated = both.dropna(subset=["trust"])
    if not len(rated):
        return pd.DataFrame(columns=["Agency", "Rated ties", "Mean trust", "Mean value"])
    out = rated.groupby("agency").agg(ties=("trust", "size"), trust=("trust", "mean"), value=("value", "mean"))
    out = out.sort_values(["trust", "ties"], ascending=[True, False]).reset_index()
    return out.rename(columns={"agency": "Agency", "ties": "Rated ties", "trust": "Mean trust", "value": "Mean value"})
