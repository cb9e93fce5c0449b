"""The Need vs capacity page's queries and pure functions, with numbers worked out by hand.

The small community (conftest.py) as need_vs_capacity sees it, by (region, service, month):

    North shelter    2024-01 need 30  demand 0 (-)        capacity 10 (P1)  unmet 20
                     2024-02 need 25  demand 1 (R05)      capacity 10       unmet 15
                     2024-03 need  0  demand 2 (R07 R13)  capacity 12       unmet  0
    North medical    2024-01 demand 1 (R01); 2024-03 demand 1 (R12, declined not_eligible); P4 has no slots
    North case_mgmt  2024-03 demand 1 (R08, internal, to A1, which runs no such program)
    South mental_h.  2023-06 demand 1 (R11); 2024-01 demand 2 (R02 R03); 2024-02 demand 1 (R04, declined
                     no_capacity); 2024-03 demand 1 (R09) and need 4; P2 has no slots  -> unmet 4 in March
    South housing    2024-02 need 10 (8 + 2, two sources)  demand 1 (R06)  capacity 5 (P3)  unmet 5
    South shelter    2024-03 demand 1 (R10, to the victim service A6)  capacity 0 (P5's row of 0 slots)

The months of the whole data run 2023-06 to 2024-03: 10 months. The "extended" community below adds
a few rows to the same files (see EXTRA_*), for a gap sustained 3 months of 4, slots to spare in one
region while another is short, and an agency over 100 % of its slots.
"""

from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

from atlas.db import Atlas
from atlas.filters import Filters
from atlas.ingest import importer
from atlas.views import need

Q1 = {"start": "2024-01-01", "end": "2024-03-31"}
Z = 1.959964


def wilson(successes: float, n: float) -> float:
    """Lower end of the 95 % Wilson interval, written out independently of atlas.views.need."""
    p, z2 = successes / n, Z * Z
    return (p + z2 / (2 * n) - Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)


def rows(frame: pd.DataFrame, *keys: str) -> dict:
    return {tuple(r[k] for k in keys): r for _, r in frame.iterrows()}


@pytest.fixture(scope="module")
def db(small_db):
    with Atlas(small_db) as atlas:
        yield atlas


# The extended community: P6 gives North housing slots that its own need does not use, while South
# housing is short in February; P2 gets slots, so Riverside Counselling (A3) runs over capacity; North
# shelter is short in March too (3 of the last 4 months); North legal has need and no program at all.
EXTRA_PROGRAMS = "P6,A5,Housing Help Desk,housing,\n"
EXTRA_CAPACITY = "P2,2024-01,1\nP2,2024-02,2\nP6,2024-02,8\nP6,2024-03,8\n"
EXTRA_NEEDS = """North,shelter,2024-03,15,community_survey
North,housing,2024-02,2,coordinated_entry
North,housing,2024-03,2,coordinated_entry
North,legal,2024-01,3,211
North,legal,2024-02,3,211
North,legal,2024-03,3,211
"""
EXTRA_REFERRALS = """\
X01,K1,A1,A4,housing,2024-03-04 09:00,,,2024-03-05 09:00,no_capacity,,
X02,K2,A5,A4,housing,2024-03-06 09:00,,,2024-03-07 09:00,not_eligible,,
X03,K3,A5,A1,shelter,2024-01-20 09:00,,,2024-01-21 09:00,no_capacity,,
"""


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """The extended community's cells (changes from the small one marked *):

        North shelter    Jan need 30 demand 1* (X03) cap 10 unmet 20 | Feb 25, 1, 10, 15 | Mar 15*, 2, 12, 3*
        North housing*   Feb need 2 demand 0 cap 8 (P6) | Mar need 2 demand 0 cap 8
        North legal*     Jan, Feb, Mar need 3, no slots: unmet 3 each month
        South mental_h.  Jun-23 demand 1 cap 0 | Jan 2, cap 1* | Feb 1, cap 2* | Mar 1, need 4, cap 0
        South housing    Feb need 10 demand 1 cap 5 unmet 5 | Mar demand 2* (X01 X02) cap 0
    """
    files = dict(SMALL_COMMUNITY)
    files["programs.csv"] = SMALL_COMMUNITY["programs.csv"] + EXTRA_PROGRAMS
    files["capacity.csv"] = SMALL_COMMUNITY["capacity.csv"] + EXTRA_CAPACITY
    files["needs.csv"] = SMALL_COMMUNITY["needs.csv"] + EXTRA_NEEDS
    files["referrals.csv"] = SMALL_COMMUNITY["referrals.csv"] + EXTRA_REFERRALS
    folder = write_files(tmp_path_factory.mktemp("need_extra") / "files", files)
    path = tmp_path_factory.mktemp("need_extra_db") / "atlas.duckdb"
    importer.import_folder(folder, path, TEST_KEY)
    with Atlas(path) as atlas:
        yield atlas


# --------------------------------------------------------------------------------------------
# need_gaps
# --------------------------------------------------------------------------------------------

def test_need_gaps_small_community(db):
    gaps = db.query("need_gaps")
    assert list(zip(gaps["region"], gaps["service_type"])) == [
        ("North", "shelter"), ("South", "housing"),  # with slots, largest gap first
        ("South", "mental_health"),  # no slots: unmet 4 of need 4
        ("North", "case_management"), ("North", "medical"), ("South", "shelter"),  # no need, no slots
    ]
    cell = rows(gaps, "region", "service_type")
    shelter = cell[("North", "shelter")]
    assert shelter["months"] == 10  # 2023-06 .. 2024-03
    assert (shelter["need"], shelter["demand"], shelter["capacity"], shelter["unmet_need"]) == (55, 3, 32, 35)
    assert (shelter["short_months"], shelter["over_months"]) == (2, 0)  # Jan, Feb short; never 3 > 10
    assert shelter["unmet_share"] == pytest.approx(35 / 55)
    assert shelter["unmet_share_low"] == pytest.approx(wilson(35, 55))  # 0.504
    assert shelter["need_per_slot"] == pytest.approx(55 / 32)
    assert shelter["utilization"] == pytest.approx(3 / 32)
    housing = cell[("South", "housing")]
    assert (housing["need"], housing["capacity"], housing["unmet_need"], housing["unmet_share"]) == (10, 5, 5, 0.5)
    assert housing["unmet_share_low"] == pytest.approx(wilson(5, 10))  # 0.237
    mh = cell[("South", "mental_health")]
    assert bool(mh["no_slots"]) and (mh["need"], mh["demand"], mh["unmet_need"], mh["unmet_share"]) == (4, 5, 4, 1.0)
    assert mh["over_months"] == 4  # a referral in each of its 4 months, no slots
    assert pd.isna(mh["utilization"]) and pd.isna(mh["need_per_slot"])
    medical = cell[("North", "medical")]
    assert bool(medical["no_slots"]) and pd.isna(medical["unmet_share"]) and pd.isna(medical["unmet_share_low"])


def test_need_gaps_agree_with_need_vs_capacity(db, extended):
    for atlas in (db, extended):
        for params in ({}, Q1, {"region": "South"}, {"service_type": "housing", "end": "2024-02-29"}):
            cells = atlas.query("need_vs_capacity", **params)
            summed = cells.groupby(["region", "service_type"])[["need", "demand", "capacity", "unmet_need"]].sum()
            gaps = atlas.query("need_gaps", **params).set_index(["region", "service_type"])
            assert gaps[summed.columns].sort_index().equals(summed.sort_index()), params


def test_need_gaps_honour_the_period(db):
    q1 = rows(db.query("need_gaps", **Q1), "region", "service_type")
    assert q1[("North", "shelter")]["months"] == 3
    assert q1[("South", "mental_health")]["demand"] == 4  # R11 (June 2023) is outside
    feb = db.query("need_gaps", start="2024-01-15", end="2024-02-29")  # January's first day is before the start
    assert set(zip(feb["region"], feb["service_type"])) == {("North", "shelter"), ("South", "mental_health"),
                                                             ("South", "housing")}
    assert feb["months"].tolist() == [1, 1, 1]


# --------------------------------------------------------------------------------------------
# sustained_gaps
# --------------------------------------------------------------------------------------------

def test_sustained_gaps_small_community(db):
    # the window is Dec 2023 - Mar 2024; North shelter is short in 2 of its 4 months, no cell in 3
    assert db.query("sustained_gaps").empty
    two = db.query("sustained_gaps", min_months=2)
    assert two[["region", "service_type"]].values.tolist() == [["North", "shelter"]]
    gap = two.iloc[0]
    assert (gap["window_start"], gap["window_end"]) == (pd.Timestamp("2023-12-01"), pd.Timestamp("2024-03-01"))
    assert (gap["window_months"], gap["short_months"]) == (4, 2)
    assert (gap["need"], gap["demand"], gap["capacity"], gap["unmet_need"]) == (55, 3, 32, 35)
    assert gap["slots_typical"] == 9  # 35 / 4 months = 8.75, rounded up
    assert gap["slots_worst"] == 20  # January: 30 - 10

    one = db.query("sustained_gaps", min_months=1)
    assert list(zip(one["region"], one["service_type"], one["no_slots"])) == [
        ("North", "shelter", False), ("South", "housing", False), ("South", "mental_health", True)]
    mh = one.iloc[2]
    assert (mh["need"], mh["demand"], mh["unmet_need"], mh["slots_typical"], mh["slots_worst"]) == (4, 4, 4, 1, 4)

    # a two-month window (Feb, Mar): North shelter short in February only
    short = rows(db.query("sustained_gaps", window_months=2, min_months=1), "region", "service_type")
    shelter = short[("North", "shelter")]
    assert (shelter["window_months"], shelter["need"], shelter["capacity"], shelter["unmet_need"]) == (2, 25, 22, 15)
    assert (shelter["slots_typical"], shelter["slots_worst"]) == (8, 15)  # 7.5 rounded up; February
    # a window longer than the period is the period (10 months from June 2023)
    long = db.query("sustained_gaps", window_months=24, min_months=1)
    assert set(long["window_months"]) == {10} and set(long["window_start"]) == {pd.Timestamp("2023-06-01")}


def test_sustained_gaps_extended_community(extended):
    gaps = extended.query("sustained_gaps")
    assert list(zip(gaps["region"], gaps["service_type"])) == [("North", "shelter"), ("North", "legal")]
    shelter, legal = gaps.iloc[0], gaps.iloc[1]
    # Jan 30-10, Feb 25-10, Mar 15-12: short in all 3 of its months of the window Dec-Mar
    assert (shelter["short_months"], shelter["need"], shelter["capacity"], shelter["unmet_need"]) == (3, 70, 32, 38)
    assert shelter["demand"] == 4  # X03, R05, R07, R13
    assert shelter["unmet_share"] == pytest.approx(38 / 70)
    assert shelter["unmet_share_low"] == pytest.approx(wilson(38, 70))
    assert shelter["need_per_slot"] == pytest.approx(70 / 32)
    assert (shelter["slots_typical"], shelter["slots_worst"]) == (10, 20)  # 38 / 4 = 9.5 rounded up; January
    assert not shelter["no_slots"]
    assert bool(legal["no_slots"]) and (legal["need"], legal["unmet_need"], legal["slots_typical"]) == (9, 9, 3)
    assert extended.query("sustained_gaps", region="South").empty


# --------------------------------------------------------------------------------------------
# service_line_utilization
# --------------------------------------------------------------------------------------------

def test_service_line_utilization_small_community(db):
    lines = db.query("service_line_utilization")
    assert list(zip(lines["agency_id"], lines["service_type"])) == [
        ("A4", "housing"), ("A1", "shelter"),  # utilization 0.2, then 3 / 32
        ("A3", "mental_health"), ("A2", "medical"), ("A1", "case_management"), ("A6", "shelter"),  # no slots
    ]
    line = rows(lines, "agency_id", "service_type")
    shelter = line[("A1", "shelter")]
    assert (shelter["referrals"], shelter["slots"], shelter["months"], shelter["months_over"]) == (3, 32, 3, 0)
    assert shelter["utilization"] == pytest.approx(3 / 32)
    assert shelter["peak_utilization"] == pytest.approx(2 / 12)  # March: R07 and R13 for 12 slots
    assert shelter["programs"] == "Family Shelter" and shelter["region"] == "North"
    counselling = line[("A3", "mental_health")]
    assert (counselling["referrals"], counselling["slots"], counselling["months_over"]) == (5, 0, 4)
    assert pd.isna(counselling["utilization"]) and pd.isna(counselling["peak_utilization"])
    assert pd.isna(line[("A1", "case_management")]["programs"])  # A1 runs no case-management program
    refuge = line[("A6", "shelter")]
    assert bool(refuge["is_victim_service"]) and (refuge["slots"], refuge["months_over"]) == (0, 1)

    assert set(db.query("service_line_utilization", sector="health")["agency_id"]) == {"A2", "A3"}
    assert set(db.query("service_line_utilization", region="South")["agency_id"]) == {"A3", "A4", "A6"}
    q1 = rows(db.query("service_line_utilization", **Q1), "agency_id", "service_type")
    assert q1[("A3", "mental_health")]["referrals"] == 4  # R11 was in June 2023


def test_service_line_utilization_over_capacity(extended):
    lines = extended.query("service_line_utilization")
    counselling = lines.iloc[0]
    assert (counselling["agency_id"], counselling["referrals"], counselling["slots"]) == ("A3", 5, 3)
    assert counselling["utilization"] == pytest.approx(5 / 3)
    assert counselling["months_over"] == 3  # Jun-23 1 > 0, Jan 2 > 1, Mar 1 > 0; not Feb (1 of 2)
    assert counselling["peak_utilization"] == pytest.approx(2.0)  # January
    desk = rows(lines, "agency_id", "service_type")[("A5", "housing")]
    assert (desk["referrals"], desk["slots"], desk["utilization"]) == (0, 16, 0.0)
    over = need.over_capacity(lines)
    assert over[["Agency", "Service", "Months over capacity"]].values.tolist() == [
        ["Riverside Counselling", "Mental health", "3 of 4"]]
    # summed over a region's lines, referrals and slots are need_vs_capacity's demand and capacity
    cells = extended.query("need_vs_capacity").groupby(["region", "service_type"])[["demand", "capacity"]].sum()
    by_line = lines.groupby(["region", "service_type"])[["referrals", "slots"]].sum()
    by_line.columns = ["demand", "capacity"]
    assert by_line.sort_index().equals(cells.loc[by_line.index].sort_index())
    assert cells.drop(by_line.index)["demand"].sum() == 0  # every referral is on some line


# --------------------------------------------------------------------------------------------
# shiftable_capacity
# --------------------------------------------------------------------------------------------

def test_shiftable_capacity_small_community(db):
    shifts = db.query("shiftable_capacity")
    # North shelter has 10 spare slots in March (12 - max(0 need, 2 referrals)) but its own unmet need
    # was in January and February: nothing can move. Averages are over the 10 months of the data.
    assert list(zip(shifts["service_type"], shifts["region"])) == [
        ("housing", "South"), ("mental_health", "South"), ("shelter", "North")]
    assert shifts["months"].tolist() == [10, 10, 10]
    assert shifts["shiftable_slots"].tolist() == [0, 0, 0]
    shelter = shifts.iloc[2]
    assert (shelter["spare_slots"], shelter["unmet_need"]) == pytest.approx((1.0, 3.5))
    assert need.shift_table(shifts).empty


def test_shiftable_capacity_between_regions(extended):
    shifts = extended.query("shiftable_capacity", **Q1)  # 3 months
    # housing: February North 6 spare (8 - 2), South 5 unmet (10 - 5) -> 5; March North 6 spare,
    # nobody short -> 0; 5 over 3 months.
    assert list(zip(shifts["service_type"], shifts["region"])) == [
        ("housing", "North"), ("housing", "South"), ("legal", "North"), ("mental_health", "South"),
        ("shelter", "North")]
    housing = rows(shifts, "service_type", "region")
    assert housing[("housing", "North")]["spare_slots"] == pytest.approx(12 / 3)
    assert housing[("housing", "South")]["unmet_need"] == pytest.approx(5 / 3)
    assert housing[("housing", "North")]["shiftable_slots"] == pytest.approx(5 / 3)
    # mental health: South has 1 spare slot in February (2 - 1 referral) and 4 unmet in March: no shift
    mh = housing[("mental_health", "South")]
    assert (mh["spare_slots"], mh["unmet_need"], mh["shiftable_slots"]) == pytest.approx((1 / 3, 4 / 3, 0))
    assert housing[("shelter", "North")]["unmet_need"] == pytest.approx(38 / 3)
    table = need.shift_table(shifts)
    assert table.to_dict("records") == [{"Service": "Housing", "Slots a month that could move": pytest.approx(5 / 3),
                                         "Unmet need a month in": "South (2)", "Spare slots a month in": "North (4)"}]
    # region keeps the services in which that region is spare or short, with every region of them
    south = extended.query("shiftable_capacity", **Q1, region="South")
    assert list(zip(south["service_type"], south["region"])) == [
        ("housing", "North"), ("housing", "South"), ("mental_health", "South")]


# --------------------------------------------------------------------------------------------
# capacity_declines and the two signals
# --------------------------------------------------------------------------------------------

def test_capacity_declines_small_community(db):
    declines = db.query("capacity_declines")
    assert list(zip(declines["region"], declines["service_type"])) == [
        ("South", "mental_health"), ("North", "medical"),  # 1 of 1 declines for no capacity; 0 of 1
        ("North", "case_management"), ("North", "shelter"), ("South", "housing"), ("South", "shelter")]
    cell = rows(declines, "region", "service_type")
    mh = cell[("South", "mental_health")]
    assert (mh["referrals"], mh["declined"], mh["no_capacity"], mh["no_capacity_share"]) == (5, 1, 1, 1.0)
    assert mh["no_capacity_rate"] == pytest.approx(1 / 5)
    medical = cell[("North", "medical")]
    assert (medical["declined"], medical["no_capacity"], medical["no_capacity_share"]) == (1, 0, 0.0)
    assert pd.isna(cell[("North", "shelter")]["no_capacity_share"])  # nothing declined
    # the referrals counted are need_vs_capacity's demand
    gaps = rows(db.query("need_gaps"), "region", "service_type")
    assert all(r["referrals"] == gaps[k]["demand"] for k, r in cell.items())
    assert db.query("capacity_declines", **Q1, region="South", service_type="mental_health")["referrals"].tolist() == [4]


def test_the_two_signals_side_by_side(extended):
    declines = extended.query("capacity_declines")
    both = need.signals(declines, extended.query("need_gaps"))
    cell = rows(both, "region", "service_type")
    shelter = cell[("North", "shelter")]  # X03 declined for no capacity; 4 referrals for 32 slots
    assert (shelter["declined"], shelter["no_capacity"], shelter["no_capacity_share"]) == (1, 1, 1.0)
    assert shelter["utilization"] == pytest.approx(4 / 32)
    housing = cell[("South", "housing")]  # X01 no capacity, X02 not eligible; 3 referrals for 5 slots
    assert (housing["declined"], housing["no_capacity"], housing["no_capacity_share"]) == (2, 1, 0.5)
    assert housing["utilization"] == pytest.approx(3 / 5)
    assert cell[("South", "mental_health")]["utilization"] == pytest.approx(5 / 3)
    # network: 3 no-capacity declines (R04 X01 X03) of 5; South mental health is over its slots and
    # declined for no capacity 1 of 1 times
    assert need.agreement(both, min_declined=1) == (
        "Of the 1 region·services whose referrals exceeded their slots, 1 also declined a larger share for "
        "'no capacity' than the network (60.0% of declines).")
    fig = need.signals_chart(both)
    assert len(fig.data[0].x) == 3  # cells with declines and a utilization (North medical has no slots)


def test_agreement_names_declines_with_slots_to_spare():
    both = pd.DataFrame({
        "region": ["Harbor <b>", "West", "East"], "service_type": ["shelter", "food", "legal"],
        "utilization": [0.8, 1.5, 0.5], "declined": [40, 20, 200], "no_capacity": [30, 2, 2],
        "no_capacity_share": [0.75, 0.1, 0.01], "over_months": [2, 12, 0], "months": [12, 12, 12]})
    text = need.agreement(both)
    # network: 34 of 260 declines (13 %); West is over its slots but declines less for no capacity
    assert text.startswith("Of the 1 region·services whose referrals exceeded their slots, 0 also declined a larger "
                           "share for 'no capacity' than the network (13.1% of declines).")
    assert r"**Harbor \<b\> · shelter** (over its slots in 2 of 12 months)" in text


# --------------------------------------------------------------------------------------------
# The forecast
# --------------------------------------------------------------------------------------------

PATTERN = np.array([30, 28, 22, 18, 15, 12, 11, 12, 15, 19, 24, 29], dtype=float)  # a winter peak


def test_forecast_recovers_a_known_seasonal_pattern():
    series = np.tile(PATTERN, 4)  # four years ending in December
    fc = need.forecast(series)
    assert fc.method == "seasonal"
    assert fc.mean[0] == pytest.approx(PATTERN[:3])  # January to March again
    assert fc.low[0] == pytest.approx(PATTERN[:3]) and fc.high[0] == pytest.approx(PATTERN[:3])  # no misses
    # with a trend of 0.5 a month the pattern moves up with it, exactly
    months = np.arange(48)
    trending = 100 + 0.5 * months + np.tile(PATTERN, 4)
    assert need.forecast(trending).mean[0] == pytest.approx(100 + 0.5 * np.arange(48, 51) + PATTERN[:3])
    # starting mid-year: the next months are those of the pattern that follow
    assert need.forecast(np.tile(PATTERN, 3)[:-5]).mean[0] == pytest.approx(PATTERN[7:10])


def test_forecast_band_covers_about_80_percent_of_noisy_outcomes():
    rng = np.random.default_rng(5)
    truth = 4 * np.tile(PATTERN, 5)  # 60 months: 48 seen, 12 to check
    series = rng.poisson(truth, size=(400, 60)).astype(float)
    fc = need.forecast(series[:, :48])
    assert np.abs(fc.mean.mean(axis=0) - truth[48:51]).max() < 0.05 * truth[48:51].max()
    inside = (series[:, 48:51] >= fc.low) & (series[:, 48:51] <= fc.high)
    assert 0.7 < inside.mean() < 0.92
    assert fc.misses == 12


def test_forecast_of_a_short_series_is_the_recent_average():
    fc = need.forecast([5, 7, 9, 11])
    assert fc.method == "recent average"
    assert fc.mean[0] == pytest.approx([9, 9, 9])  # (7 + 9 + 11) / 3
    # replayed from 1, 2 and 3 months: one month ahead it missed by 2 (7 - 5), 3 (9 - 6), 4 (11 - 7);
    # two and three months ahead there are fewer than 3 misses, so all six pool: 2 4 6 3 5 4
    z = 1.2815516
    sigma = np.array([math.sqrt((4 + 9 + 16) / 3), math.sqrt(106 / 6), math.sqrt(106 / 6)])
    assert fc.high[0] == pytest.approx(9 + z * sigma, rel=1e-6)
    assert fc.low[0] == pytest.approx(9 - z * sigma, rel=1e-6)


def test_forecast_edge_cases():
    zeros = need.forecast(np.zeros(36))
    assert zeros.mean.tolist() == [[0, 0, 0]] and zeros.low.tolist() == [[0, 0, 0]] and zeros.high.tolist() == [[0, 0, 0]]
    one = need.forecast([4])
    assert one.mean.tolist() == [[4, 4, 4]] and one.low.tolist() == one.high.tolist() == [[4, 4, 4]]
    empty = need.forecast(np.zeros((2, 0)))
    assert empty.mean.shape == (2, 3) and not empty.mean.any()
    falling = need.forecast(np.r_[np.full(12, 20.0), np.full(12, 2.0)])  # a drift of -18 a year
    assert (falling.mean >= 0).all() and (falling.low >= 0).all()
    spike = need.forecast(np.r_[np.zeros(20), [30], np.zeros(3)])
    assert (spike.low >= 0).all() and (spike.high >= spike.mean).all()
    carried = need.forecast([3, 5, 8], rule="carry")  # misses: 2 and 5 from 3, then 3 from 5: pooled
    assert carried.method == "carry" and carried.mean.tolist() == [[8, 8, 8]]
    assert carried.high[0] == pytest.approx(8 + 1.2815516 * math.sqrt(38 / 3), rel=1e-6)
    with pytest.raises(ValueError):
        need.forecast(np.zeros(30), horizon=13)
    with pytest.raises(ValueError):
        need.forecast(np.zeros(30), rule="guess")


def test_wilson_low_is_the_queries_ranking_measure(extended):
    gaps = extended.query("need_gaps")
    assert need.wilson_low(gaps["unmet_need"], gaps["need"]) == pytest.approx(
        gaps["unmet_share_low"].to_numpy(dtype=float), nan_ok=True)
    assert need.wilson_low([0, 4], [4, 4]) == pytest.approx([0.0, wilson(4, 4)])


def test_forecast_origin_is_the_last_complete_month():
    assert need.forecast_origin(dt.date(2024, 3, 31), None) == dt.date(2024, 3, 1)
    assert need.forecast_origin(dt.date(2024, 3, 30), None) == dt.date(2024, 2, 1)
    assert need.forecast_origin(dt.date(2024, 2, 29), None) == dt.date(2024, 2, 1)
    assert need.forecast_origin(None, pd.Timestamp("2024-03-31 12:00")) == dt.date(2024, 3, 1)
    assert need.forecast_origin(None, pd.NaT) is None


def test_outlook_and_where_the_gap_will_be_largest(db):
    history = db.query("need_vs_capacity", end="2024-03-01")
    ahead = need.outlook(history)
    assert ahead["month"].drop_duplicates().tolist() == list(pd.date_range("2024-04-01", periods=3, freq="MS"))
    assert set(ahead["method"]) == {"recent average"}  # 10 months of history
    shelter = ahead[(ahead["region"] == "North") & (ahead["service_type"] == "shelter")]
    assert shelter["need"].tolist() == pytest.approx([55 / 3] * 3)  # (30 + 25 + 0) / 3
    assert shelter["capacity"].tolist() == [12, 12, 12]  # March's slots carried forward
    assert shelter["unmet_need"].tolist() == pytest.approx([55 / 3 - 12] * 3)
    ranking = need.outlook_ranking(history, ahead)
    # South housing: need (0 + 10 + 0) / 3 a month against 0 slots carried from March: left out
    assert list(zip(ranking["region"], ranking["service_type"])) == [("North", "shelter")]
    top = ranking.iloc[0]
    assert top["unmet_need"] == pytest.approx(19)  # 3 × (18.33 - 12)
    assert top["last_unmet_need"] == 35 and top["change"] == pytest.approx(19 - 35)
    assert top["unmet_share"] == pytest.approx(19 / 55)
    assert need.outlook(history.iloc[0:0]).empty


# --------------------------------------------------------------------------------------------
# Figures, tables and the page's view
# --------------------------------------------------------------------------------------------

GRID_GAPS = pd.DataFrame({
    "region": ["<b>East</b>", "<b>East</b>", "West"], "service_type": ["housing", "legal", "housing"],
    "months": 12, "short_months": [12, 12, 0], "over_months": 0, "need": [100, 9, 50], "demand": [50, 0, 40],
    "capacity": [30, 0, 60], "unmet_need": [70, 9, 0], "unmet_share": [0.7, 1.0, 0.0],
    "unmet_share_low": [0.6, 0.7, 0.0], "need_per_slot": [100 / 30, None, 50 / 60],
    "utilization": [50 / 30, None, 40 / 60], "no_slots": [False, True, False]})


def test_gap_grid_writes_each_cell_on_its_colour_and_marks_no_slots():
    grid = need.gap_grid(GRID_GAPS, "unmet_share")
    frame = grid.data
    assert list(frame.columns) == ["Region", "Housing", "Legal"]  # gap order, services as people read them
    assert frame["Region"].tolist() == ["<b>East</b>", "West"]  # the raw name: the table escapes what it draws
    # each cell says its value (what a screen reader reads too); no slots is not 100 %; nothing recorded is empty
    assert frame.values.tolist() == [["<b>East</b>", "70.0%", "no slots"], ["West", "0.0%", ""]]
    styles = {cell: dict(props) for cell, props in grid._compute().ctx.items() if props}
    assert set(styles) == {(0, 1), (0, 2), (1, 1)}  # the region's column and the empty cell stay plain
    assert styles[(0, 2)] == {"background-color": need.NO_SLOTS_COLOUR, "color": "#000000"}
    shade = need.cell_colour(0.7, "unmet_share")
    assert styles[(0, 1)] == {"background-color": shade, "color": need.readable_text(shade)}
    assert styles[(1, 1)]["background-color"] == need.cell_colour(0.0, "unmet_share")
    util = need.gap_grid(GRID_GAPS, "utilization")
    assert util.data["Housing"].tolist() == ["166.7%", "66.7%"]
    assert dict(util._compute().ctx[(0, 1)])["background-color"] == need.cell_colour(50 / 30, "utilization")


def _contrast(a: str, b: str) -> float:
    def luminance(colour):
        rgb = ([int(colour[i:i + 2], 16) for i in (1, 3, 5)] if colour.startswith("#")
               else [float(v) for v in colour[colour.index("(") + 1:-1].split(",")])
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("measure, top", [("unmet_share", 1.0), ("utilization", 2.0)])
def test_gap_grid_text_reads_at_4_5_to_1_on_every_colour_of_its_scale(measure, top):
    for step in range(0, 401):
        shade = need.cell_colour(top * step / 400, measure)
        assert _contrast(shade, need.readable_text(shade)) >= 4.5, (measure, step, shade)
    assert _contrast(need.NO_SLOTS_COLOUR, need.CELL_TEXT[0]) >= 4.5
    assert need.cell_colour(5.0, measure) == need.cell_colour(top, measure)  # beyond the scale: its end


def test_gap_grid_selection_reads_back_the_chosen_cell():
    axes = need.grid_axes(GRID_GAPS)
    assert axes == (["<b>East</b>", "West"], {"Housing": "housing", "Legal": "legal"})
    chosen = need.grid_selection(GRID_GAPS, "West", "housing")
    assert chosen["selection"]["cells"] == [(1, "Housing")]
    assert need.grid_cell(chosen["selection"]["cells"], [], axes) == ("West", "housing")
    assert need.grid_cell([(0, "Region")], [], axes) == ("<b>East</b>", None)  # the region's own column: the region
    assert need.grid_cell([], ["Legal"], axes) == (None, "legal")  # a service's heading: the service
    assert need.grid_cell([(1, "Housing")], ["Legal"], axes) == (None, "legal")  # the heading beside the old cell
    assert need.grid_cell([], [], axes) == (None, None) and need.grid_cell([(7, "Housing")], [], axes) == (None, None)
    assert need.grid_cell([], ["Region"], axes) == (None, None)
    assert need.grid_selection(GRID_GAPS, "North", "housing")["selection"]["cells"] == []


def test_cell_figures_say_what_the_cell_holds():
    assert need.cell_figures(GRID_GAPS, "<b>East</b>", "housing") == (
        r"**\<b\>East\</b\> · housing**: 100 people in need, 30 slots and 50 referrals; unmet need 70 (70.0% of "
        "need), short in 12 of 12 months; utilization 166.7% (referrals per slot).")
    assert need.cell_figures(GRID_GAPS, "<b>East</b>", "legal").endswith(
        "No slots in this region: clients may be served in another.")
    assert need.cell_figures(GRID_GAPS, "West", "legal") is None


def test_cell_chart_fills_missing_months_and_shades_the_gap(db):
    cell = need.filled_cell(db.query("need_vs_capacity", region="South", service_type="mental_health"))
    assert cell["month"].dt.strftime("%Y-%m").tolist()[:3] == ["2023-06", "2023-07", "2023-08"]
    assert len(cell) == 10 and cell["demand"].sum() == 5 and cell["unmet_need"].tolist()[-1] == 4
    fig = need.cell_chart(need.filled_cell(db.query("need_vs_capacity", region="North", service_type="shelter")),
                          "North", "shelter")
    slots, gap = fig.data[0], fig.data[1]
    assert list(slots.y) == [10, 10, 12] and list(gap.y) == [30, 25, 12]  # capacity + unmet = max(need, capacity)
    assert gap.fill == "tonexty"


def test_invest_table_and_download(extended):
    sustained = extended.query("sustained_gaps")
    invest, none = need.invest_table(sustained)
    assert invest.to_dict("records") == [{
        "Region": "North", "Service": "Shelter", "Slots to add (typical month)": 10,
        "Slots to add (worst month)": 20, "Share of need unmet": pytest.approx(38 / 70), "Unmet need": 38,
        "People in need": 70, "Slots offered": 32, "People in need per slot": pytest.approx(70 / 32),
        "Months short": "3 of 4"}]
    assert none.to_dict("records") == [{"Region": "North", "Service": "Legal", "People in need": 9,
                                        "Months short": "3 of 4"}]
    table = pd.read_csv(io.BytesIO(need.invest_download(sustained)), encoding="utf-8-sig")
    assert table["No slots in the region"].tolist() == ["no", "yes"]
    assert table[["From", "To"]].values.tolist() == [["2023-12", "2024-03"]] * 2
    hostile = sustained.assign(region=["=HYPERLINK(\"http://x\")", "+1"])
    csv = pd.read_csv(io.BytesIO(need.invest_download(hostile)), encoding="utf-8-sig")
    assert csv["Region"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1"]


def test_reading_escapes_names():
    sustained = pd.DataFrame({"region": ["*[x](javascript:alert(1))*"], "service_type": ["housing"],
                              "window_months": [4], "unmet_share": [0.5], "need_per_slot": [2.0],
                              "slots_typical": [7], "no_slots": [False]})
    over = pd.DataFrame({"Agency": ["Tiny", "<b>Shelter</b>"], "Service": ["Food", "Shelter"],
                         "Utilization": [3.0, 1.5], "Referrals": [3, 40]})
    lines = need.reading(sustained, over, pd.DataFrame(), pd.DataFrame(), None)
    assert lines[0].startswith(r"**\*\[x\]\(javascript\:alert\(1\)\)\* · housing** has the largest sustained gap")
    assert "about 7 more slots a month" in lines[0]
    assert lines[1] == (r"2 agency service lines received more referrals than they had slots; the fullest with at "
                        r"least 20 referrals is **\<b\>Shelter\</b\>** (shelter, 150.0% of its slots).")


def test_build_on_the_small_community(db, extended):
    view = need.build(db, Filters())
    assert (view.region, view.service) == ("North", "shelter")  # the largest gap with slots
    assert view.regions == ["North", "South"]
    assert view.cell["need"].tolist() == [30, 25, 0]
    assert view.origin == dt.date(2024, 3, 1) and view.quarter == "Apr–Jun 2024"
    assert view.method == "recent average"
    assert view.outlook["Region"].tolist() == ["North"]
    assert isinstance(view.outlook_chart, go.Figure) and view.grid.data["Region"].tolist() == ["North", "South"]
    assert view.figures.startswith("**North · shelter**: ")
    assert view.invest.empty and view.no_slots.empty and view.window is None
    assert view.reading[0] == "No gap between need and slots persisted through the last months of the period."
    assert view.unrecorded == 4  # A3 mental health, A2 medical, A1 case management, A6 shelter

    chosen = need.build(db, Filters(), region="South", service="housing", measure="utilization")
    assert (chosen.region, chosen.service, chosen.measure) == ("South", "housing", "utilization")
    assert chosen.cell["unmet_need"].tolist() == [5]
    odd = need.build(db, Filters(region="North"), region="South", service="nothing", measure="colour")
    assert (odd.region, odd.service, odd.measure) == ("North", "shelter", "unmet_share")  # out of reach: reset

    ext = need.build(extended, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
    assert (ext.window, ext.window_months) == ("Jan–Mar 2024", 3)  # the window stays inside the period
    assert ext.invest["Region"].tolist() == ["North"] and ext.no_slots["Service"].tolist() == ["Legal"]
    assert ext.reading[0] == ("**North · shelter** has the largest sustained gap: 54.3% of the people in need had no "
                              "slot over the last 3 months (2.2 people in need per slot); about 13 more slots a month "
                              "would close it.")  # 38 of 70; 70 / 32; 38 / 3 rounded up
    assert ext.over["Agency"].tolist() == ["Riverside Counselling"]
    assert ext.shifts["Service"].tolist() == ["Housing"]

    empty = need.build(db, Filters(dt.date(2030, 1, 1), dt.date(2030, 12, 31)))
    assert empty.gaps.empty and empty.grid is None and empty.cell_chart is None


def test_build_on_the_demo_finds_the_planted_shortage_and_the_winter_surge(demo_db):
    from atlas.demo import PLANTED

    with Atlas(demo_db) as demo:
        view = need.build(demo, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
        shortage = PLANTED["shortage_region"]
        assert view.invest.iloc[0]["Region"] == shortage  # tops the gap table
        assert view.invest.iloc[0]["Service"] in ("Housing", "Shelter")
        assert view.regions[0] == shortage and view.region == shortage  # tops the gap grid; the chart follows it
        assert view.grid.data["Region"].iloc[0] == shortage
        assert view.outlook.iloc[0]["Region"] == shortage

        lines = view.lines.set_index("agency_id")
        surge = lines.loc[PLANTED["winter_surge_agency_id"], "region"]
        surge = surge.iloc[0] if isinstance(surge, pd.Series) else surge
        winter = need.build(demo, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), surge, "shelter")
        cell = winter.cell.set_index("month")
        months = cell.index.month
        assert cell.loc[months.isin([12, 1, 2]), "demand"].mean() > 1.4 * cell.loc[months.isin([6, 7, 8]), "demand"].mean()
        ahead = winter.ahead[(winter.ahead["region"] == surge) & (winter.ahead["service_type"] == "shelter")]
        assert winter.quarter == "Jan–Mar 2026"
        summer = cell.loc[months.isin([6, 7, 8]), "demand"].mean()
        assert ahead["demand"].iloc[0] > 1.4 * summer  # January's forecast carries the surge
