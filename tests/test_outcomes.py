"""The Funders' Outcomes view (atlas/views/outcomes.py): hand-checked on the small community, whose exits sit
exactly on the thresholds (tests/conftest.py), and checked on the demo for what no view may show.

Small community, whole data, min_cell 11:
  P1 (A1 Harbor House, shelter, City Fund): 11 exits, 11 positive      shown (exactly at the threshold)
  P2 (A3, mental_health): 10 exits, 5 positive                          hidden (10 exits)
  P3 (A4 Housing Authority, housing, State Housing Trust): 22, 11       shown
  A4 with no program: 21 exits, 11 positive, 10 other                  hidden (the complement is 10)
  P4 (A2, medical): 1 exit in 2023                                      hidden
  P5 at the victim-service agency A6: 30 exits                          never on this page
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from atlas.db import Atlas
from atlas.filters import Filters
from atlas.views import outcomes, suppression

M = 11


@pytest.fixture(scope="module")
def small(small_db):
    with Atlas(small_db) as db:
        yield db


@pytest.fixture(scope="module")
def demo(demo_db):
    with Atlas(demo_db) as db:
        yield db


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame["suppressed"].astype(bool)] if "suppressed" in frame.columns else frame


# --------------------------------------------------------------------------------------------
# Hand-checked figures
# --------------------------------------------------------------------------------------------

def test_small_community_rates_by_program_agency_service_and_funder(small):
    view = outcomes.build(small, Filters(), min_cell=M)
    programs = view.programs.set_index("key")
    assert programs["suppressed"].to_dict() == {"A1|P1": False, "A2|P4": True, "A3|P2": True, "A4|": True,
                                                "A4|P3": False}
    assert programs.loc["A1|P1", ["exits", "positive"]].tolist() == [11, 11]
    assert programs.loc["A4|P3", ["exits", "positive", "rate"]].tolist() == [22, 11, 0.5]
    assert programs.loc[programs["suppressed"], ["exits", "positive", "rate"]].isna().all().all()
    assert programs.loc["A4|P3", "ci_low"] == pytest.approx(0.30722, abs=1e-5)

    def table(key):
        return view.by[key].set_index("group")[["programs", "exits", "positive"]].to_dict("index")

    assert table("service_type") == {"Housing": {"programs": 1, "exits": 22, "positive": 11},
                                     "Shelter": {"programs": 1, "exits": 11, "positive": 11}}
    assert table("funder") == {"State Housing Trust": {"programs": 1, "exits": 22, "positive": 11},
                               "City Fund": {"programs": 1, "exits": 11, "positive": 11}}
    # the Housing Authority's 21 exits without a program are hidden, so its row counts P3 only
    assert table("agency") == {"Housing Authority": {"programs": 1, "exits": 22, "positive": 11},
                               "Harbor House": {"programs": 1, "exits": 11, "positive": 11}}
    assert (view.network["exits"], view.network["positive"]) == (33, 22)
    assert view.network["rate"] == pytest.approx(2 / 3)
    assert view.suppressed.programs_hidden == 2  # A4 alone (no program) is not a program
    assert view.reading[0].startswith("**66.7%** of the 33 exits")


def test_small_community_trend_mix_pathways_and_returns(small):
    view = outcomes.build(small, Filters(), min_cell=M)
    trend = view.trend
    assert trend[["scope", "exits", "positive"]].values.tolist() == [["network", 33, 22]]  # all in 2024 Q1
    mix = view.mix["service_type"].set_index(["group", "outcome"])["exits"].to_dict()
    assert mix == {("Housing", "housed_permanent"): 11, ("Housing", "returned_to_homelessness"): 11,
                   ("Shelter", "housed_permanent"): 11}
    # nobody in the small community was referred to the agency they left
    assert view.pathways[["referrer", "exits", "positive"]].values.tolist() == [["No referral on record", 33, 22]]
    # the data ends 31 March 2024: no housing exit can yet be followed for 6 months
    assert view.returns.empty


def test_program_rows_agree_with_the_spec_query(small, demo):
    """Two implementations of the primary rule, one in SQL (outcomes_by_program), one here: they agree."""
    cases = [Filters(), Filters(pd.Timestamp("2025-01-01").date(), pd.Timestamp("2025-06-30").date()),
             Filters(region="Riverside"), Filters(service_type="housing")]
    for db, filters in [(small, Filters()), (small, Filters(region="South"))] + [(demo, f) for f in cases]:
        ours = outcomes.build(db, filters, min_cell=M).programs
        spec = db.query("outcomes_by_program", **filters.params_for("outcomes_by_program"), min_cell=M)
        spec = spec.assign(key=spec["agency_id"] + "|" + spec["program_id"].fillna(""))
        merged = ours.merge(spec, on="key", suffixes=("", "_spec"), validate="one_to_one")
        assert len(merged) == len(ours) == len(spec)
        assert (merged["suppressed"] == merged["suppressed_spec"]).all()
        both = merged[~merged["suppressed"]]
        assert (both["exits"] == both["exits_spec"]).all() and (both["positive"] == both["positive_spec"]).all()
        assert np.allclose(both["ci_low"], both["ci_low_spec"]) and np.allclose(both["ci_high"], both["ci_high_spec"])


# --------------------------------------------------------------------------------------------
# What no view may show
# --------------------------------------------------------------------------------------------

def published_counts(view: outcomes.Outcomes) -> list[tuple[str, float]]:
    """Every count of people the view publishes, with the complements a reader gets by subtraction."""
    out = []

    def add(name, frame, total="exits", part="positive"):
        frame = shown(frame)
        for column in (total, part):
            out.extend((f"{name}.{column}", v) for v in frame[column].dropna())
        out.extend((f"{name}.{total}-{part}", v) for v in (frame[total] - frame[part]).dropna())

    add("programs", view.programs)
    for key, table in view.by.items():
        add(f"by_{key}", table)
    add("trend", view.trend)
    add("pathways", view.pathways)
    add("returns", view.returns, "followed", "returned")
    for key, mix in view.mix.items():
        out.extend((f"mix_{key}", v) for v in mix["exits"])
    for name, series in (("network", view.network), ("selection", view.selection)):
        out += [(name, series["exits"]), (name, series["positive"]), (name, series["exits"] - series["positive"])]
    return out


def assert_no_small_count(view):
    small_ones = [(name, value) for name, value in published_counts(view) if 1 <= value < view.min_cell]
    assert not small_ones, small_ones[:10]


def test_no_view_shows_a_count_of_one_to_ten(small, demo):
    views = [outcomes.build(small, f, min_cell=M) for f in (Filters(), Filters(region="South"),
                                                          Filters(service_type="mental_health"))]
    regions = demo.query("filter_choices").query("dimension == 'region'")["value"].tolist()
    funders = outcomes.build(demo, Filters(), min_cell=M).funders
    views += [outcomes.build(demo, Filters(), min_cell=M),
              outcomes.build(demo, Filters(pd.Timestamp("2025-01-01").date(), pd.Timestamp("2025-12-31").date()),
                             min_cell=M),
              outcomes.build(demo, Filters(region=regions[0], service_type="shelter"), min_cell=M),
              outcomes.build(demo, Filters(sector="faith"), funder=funders[-1], min_cell=M)]
    for view in views:
        assert_no_small_count(view)
    # and the demo's planted small pilot programs are there, hidden
    from atlas.demo import planted

    pilots = set(planted(150)["small_programs"])
    programs = views[3].programs
    assert programs.loc[programs["program_id"].isin(pilots), "suppressed"].all()


def test_a_region_against_the_same_region_minus_a_program_reveals_nothing(small):
    """South holds P2 (10 exits, hidden), the Housing Authority's 21 exits without a program (hidden)
    and P3 (22, shown). Were hidden programs counted in totals, South (53) minus South's housing (22)
    minus South's mental health would give the 21, and South's mental-health total would be P2's 10."""
    south = outcomes.build(small, Filters(region="South"), min_cell=M)
    housing = outcomes.build(small, Filters(region="South", service_type="housing"), min_cell=M)
    mental = outcomes.build(small, Filters(region="South", service_type="mental_health"), min_cell=M)
    assert (south.selection["exits"], housing.selection["exits"], mental.selection["exits"]) == (22, 22, 0)
    assert mental.by["service_type"].empty and mental.programs["suppressed"].all()
    for view in (south, housing, mental):
        assert_no_small_count(view)


def test_every_total_is_a_sum_of_shown_programs_whatever_the_filters(demo):
    """So the difference between any two totals, in one view or across filter choices, is a sum of
    programs that are shown anyway: a hidden program is never a remainder."""
    period = Filters(pd.Timestamp("2025-01-01").date(), pd.Timestamp("2025-12-31").date())
    choices = demo.query("filter_choices")
    regions = choices.query("dimension == 'region'")["value"].tolist()[:3]
    everything = outcomes.build(demo, period, min_cell=M)
    shown_everywhere = shown(everything.programs).set_index("key")
    for region in regions:
        for service in (None, "housing", "mental_health"):
            filters = Filters(period.start, period.end, region=region, service_type=service)
            view = outcomes.build(demo, filters, min_cell=M)
            programs = shown(view.programs)
            # a program is shown or hidden the same way in every view
            assert set(programs["key"]) == set(shown_everywhere.index[
                (shown_everywhere["region"] == region)
                & ((shown_everywhere["service_type"] == service) if service else True)])
            assert view.selection["exits"] == programs["exits"].sum()
            for key, _column in (("service_type", "service_type"), ("funder", "funder"), ("agency", "agency_id")):
                groups = view.by[key]
                assert groups["exits"].sum() == programs["exits"].sum()
                assert groups["positive"].sum() == programs["positive"].sum()
            if service:
                broad = outcomes.build(demo, Filters(period.start, period.end, region=region), min_cell=M)
                difference = broad.selection["exits"] - view.selection["exits"]
                others = shown(broad.programs)
                assert difference == others.loc[others["service_type"] != service, "exits"].sum()


def test_victim_service_agencies_never_appear(small, demo):
    for db in (small, demo):
        agencies = db.query("network_agencies")
        names = set(agencies.loc[agencies["is_victim_service"], "name"])
        assert names
        view = outcomes.build(db, Filters(), min_cell=M)
        text = json.dumps([f.to_plotly_json() for f in view.figures.values()], default=str)
        text += outcomes.long_table(view).to_csv() + view.programs.to_csv() + view.pathways.to_csv()
        for name in names:
            assert name not in text


# --------------------------------------------------------------------------------------------
# The breakdowns' own protection, on tables built to tempt it
# --------------------------------------------------------------------------------------------

def test_the_mix_hides_a_small_outcome_with_the_next_smallest_of_its_kind():
    cells = pd.DataFrame({
        "agency_id": "A1", "program_id": "P1", "agency_name": "Harbor House", "program_name": "Shelter",
        "service_type": "shelter",
        "outcome": ["housed_permanent", "housed_temporary", "employed", "exited_no_outcome", "unknown"],
        "is_positive": [True, True, True, False, False],
        "exits": [30, 1, 18, 20, 12],
    })
    mix = outcomes.protect_mix(cells, M)
    hidden = dict(zip(mix["outcome"], mix["hidden"]))
    # positive outcomes total 49 (shown with the program): 49 - 30 - 18 would give the 1, so 18 goes too
    assert hidden == {"employed": True, "housed_permanent": False, "housed_temporary": True,
                      "exited_no_outcome": False, "unknown": False}
    table = outcomes.mix_table(mix, "service_type").set_index("outcome")["exits"].to_dict()
    assert table == {"housed_permanent": 30, "positive_not_shown": 19, "exited_no_outcome": 20, "unknown": 12}


def test_every_programs_hidden_outcomes_add_up_to_zero_or_enough(demo):
    view = outcomes.build(demo, Filters(), min_cell=M)
    cells = demo.query("outcome_mix", min_cell=M)
    keys = set(shown(view.programs)["key"])
    mix = outcomes.protect_mix(cells[(cells["agency_id"] + "|" + cells["program_id"].fillna("")).isin(keys)], M)
    concealed = mix[mix["hidden"]].groupby(["key", "is_positive"])["exits"].sum()
    assert ((concealed == 0) | (concealed >= M)).all()
    assert not suppression.small(mix.loc[~mix["hidden"], "exits"], M).any()


def test_the_trend_protects_funders_and_quarters_together():
    from test_suppression import assert_protected

    quarters = pd.DataFrame({
        "agency_id": ["A1", "A1", "A2", "A2", "A3", "A3"], "program_id": ["P1", "P1", "P2", "P2", "P3", "P3"],
        "funder": ["Fund A", "Fund A", "Fund B", "Fund B", None, None],
        "quarter": pd.to_datetime(["2024-01-01", "2024-04-01"] * 3),
        "exits": [40, 45, 14, 30, 50, 60], "positive": [20, 20, 3, 15, 25, 30],
    })
    names, periods, exits, positive, lines, pattern = outcomes.trend_pattern(quarters, M)
    values = np.column_stack([positive.ravel(), (exits - positive).ravel()])
    assert pattern.hidden.reshape(len(names), len(periods))[names.index("Fund B"), 0]
    assert_protected(values, pattern, lines, M, cap=int(exits.sum()))
    table = outcomes.trend_table(quarters, M, funder="Fund B")
    fund_b = table[table["scope"] == "funder"]
    assert fund_b["suppressed"].all()  # Fund B's total is shown, so its other quarter must go too
    assert not table.loc[table["scope"] == "network", "suppressed"].any()


def test_small_referral_routes_are_pooled_with_enough_others():
    routes = pd.DataFrame({
        "agency_id": "A9", "program_id": "P9",
        "referrer_kind": ["agency", "agency", "agency", "victim_service", "none"],
        "referrer_id": ["A1", "A2", "A3", None, None],
        "referrer_name": ["Big Referrer", "Middle Referrer", "Tiny Referrer", None, None],
        "referrer_sector": ["health", "justice", "faith", None, None],
        "exits": [80, 30, 4, 25, 40], "positive": [40, 15, 2, 12, 20],
    })
    table = outcomes.pathways_table(routes, M)
    # the tiny route goes with the next smallest (the victim-service agencies' 25), not with a named one
    assert set(table["referrer"]) == {"Big Referrer", "Middle Referrer", "No referral on record",
                                      "Other referral routes, pooled (2 with small numbers)"}
    pooled = table[table["kind"] == "pooled"].iloc[0]
    assert (pooled["exits"], pooled["positive"]) == (29, 14)
    assert table["exits"].sum() == 179
    assert not suppression.small(table["positive"], M).any()
    assert not suppression.small(table["exits"] - table["positive"], M).any()


def test_returns_hide_small_returns_and_small_non_returns():
    housed = pd.DataFrame({"agency_id": "A1", "program_id": "P1", "horizon_months": [6, 12, 24],
                           "housed_from": pd.to_datetime(["2024-07-01", "2024-01-01", "2023-01-01"]),
                           "housed_to": pd.to_datetime(["2025-06-30", "2024-12-31", "2023-12-31"]),
                           "followed": [300, 280, 40], "returned": [3, 40, 35]})
    table = outcomes.returns_table(housed, M)
    assert table["suppressed"].tolist() == [True, False, True]  # 3 returned; 5 did not return
    assert table.loc[1, ["followed", "returned"]].tolist() == [280, 40]


def test_an_empty_selection_builds(small):
    view = outcomes.build(small, Filters(region="Nowhere"), min_cell=M)
    assert view.empty and view.selection["exits"] == 0


def test_a_single_quarter_s_trend_shows_its_interval(demo):
    """A board or funder's period is one quarter: a band between one point has no width, so the interval
    is drawn as a bar; over several quarters it stays a band."""
    from atlas.filters import period_end, period_start

    extent = demo.query("data_extent").iloc[0]
    middle = (extent["first_referral"] + (extent["last_referral"] - extent["first_referral"]) / 2).date()
    quarter = Filters(period_start(middle, "quarter"), period_end(middle, "quarter"), aligned="quarter")
    one = outcomes.build(demo, quarter, min_cell=M).figure("trend")
    point = next(t for t in one.data if t.mode == "lines+markers")
    assert len(point.x) == 1 and point.error_y.array[0] > 0 and point.error_y.arrayminus[0] > 0
    assert not [t for t in one.data if t.fill == "toself"]
    year = Filters(period_start(middle, "year"), period_end(middle, "year"))
    several = outcomes.build(demo, year, min_cell=M).figure("trend")
    assert [t for t in several.data if t.fill == "toself"] and all(t.error_y.array is None for t in several.data)
