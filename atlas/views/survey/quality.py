"""Partnership quality from the survey (computing layer, pure): where a closed round covers the period shown,
its ties' trust and value (means of what each side answered in full) stand beside the referrals each tie
carried, in the frame `atlas.views.ties` reads from `partnership_quality` otherwise.

Directors get every tie's ratings and each agency's trust and value received (survey_agencies). Outside
director views a tie's ratings are one or two respondents' answers: so there (atlas.views.ties) the frame
carries no rating and the lists of ties are left empty; an agency's trust and value received are given only
from 3 or more raters, never counting a victim-service respondent's ratings (survey_agencies_published), and
means and spreads over every tie shown."""

from __future__ import annotations

import pandas as pd

from atlas.filters import Filters
from atlas.views import privacy

KIND = "survey"


def ties_frame(db, filters: Filters, chosen: dict) -> pd.DataFrame:
    """The round's ties (rule either) as rows of partnership_quality: the pair, kind "survey", trust, value and
    the referrals and acceptances each way in the period (the whole network's flows, as partnership_quality)."""
    ties = db.query("survey_ties", round_id=chosen["round_id"], rule="either")
    flows = db.query("network_edges", start=filters.start, end=filters.end)
    flows = flows[["from_agency_id", "to_agency_id", "referrals", "accepted"]]
    ends = ["from_agency_id", "to_agency_id"]
    ab = ties.merge(flows, how="left", left_on=["agency_a_id", "agency_b_id"], right_on=ends)
    ba = ties.merge(flows, how="left", left_on=["agency_b_id", "agency_a_id"], right_on=ends)

    def carried(side: pd.DataFrame, column: str) -> pd.Series:
        return side[column].fillna(0).astype(int)

    return pd.DataFrame({
        "agency_a_id": ties["agency_a_id"], "agency_b_id": ties["agency_b_id"], "kind": KIND, "instrument": None,
        "started_on": chosen.get("period_start"), "ended_on": chosen.get("period_end"),
        "trust": ties["trust"].astype("Float64"), "value": ties["value"].astype("Float64"),
        "referrals_a_to_b": carried(ab, "referrals"), "referrals_b_to_a": carried(ba, "referrals"),
        "accepted_a_to_b": carried(ab, "accepted"), "accepted_b_to_a": carried(ba, "accepted"),
    })


def agency_ratings(db, chosen: dict, agencies: pd.DataFrame, published: bool = False) -> pd.DataFrame:
    """Each member as the others rated it (trust and value received), lowest trust first, victim-service
    agencies left out as on the map. Directors read survey_agencies; with `published` (board and funder views)
    survey_agencies_published: from 3 or more raters only, victim-service respondents' ratings not counted. A
    member is listed when its trust is given ("Rated ties" counts the raters behind that trust), its value
    beside it only when that too had 3 or more raters."""
    query = "survey_agencies_published" if published else "survey_agencies"
    rated = db.query(query, round_id=chosen["round_id"])
    shown, protected = privacy.split_agencies(agencies)
    names = dict(zip(shown["agency_id"], shown["name"].astype(str)))
    rated = rated[rated["agency_id"].isin(names) & rated["trust_received"].notna()]
    rated = rated.sort_values(["trust_received", "raters"], ascending=[True, False])
    return pd.DataFrame({"Agency": rated["agency_id"].map(names), "Rated ties": rated["raters"].astype(int),
                         "Mean trust": rated["trust_received"].astype(float),
                         "Mean value": rated["value_received"].astype(float)}).reset_index(drop=True)
