"""Every named query on the small community, against numbers worked out by hand from conftest.py.

The data's latest timestamp (the default as_of) is R13's completion, 2024-03-31 12:00.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pandas as pd
import pytest

from atlas import catalog
from atlas.db import Atlas

Q1 = {"start": "2024-01-01", "end": "2024-03-31"}
Z = 1.959964


@pytest.fixture(scope="module")
def db(small_db):
    with Atlas(small_db) as atlas:
        yield atlas


def by(frame: pd.DataFrame, *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for _, row in frame.iterrows()}


def test_every_query_file_is_documented_and_binds_what_it_declares():
    queries = catalog.catalog()
    for name in ("referral_funnel", "agency_bottlenecks", "network_edges", "partnership_activity",
                 "need_vs_capacity", "outcomes_by_program"):
        assert name in queries
    for q in queries.values():
        assert q.purpose and q.grain
        assert len(duckdb.extract_statements(q.sql)) == 1, f"{q.name}: one statement per file"
    for name, sql in catalog.model_statements():
        assert len(duckdb.extract_statements(sql)) == 1, f"model/{name}: one statement per file"


def test_referral_funnel_whole_data(db):
    funnel = db.query("referral_funnel")
    assert funnel["stage"].tolist() == ["referred", "accepted", "started", "completed", "declined", "pending"]
    assert funnel["referrals"].tolist() == [13, 8, 5, 3, 2, 3]


def test_referral_funnel_filtered(db):
    assert db.query("referral_funnel", **Q1)["referrals"].tolist() == [12, 7, 4, 2, 2, 3]
    # region and sector are the receiving agency's: South receives R02 R03 R04 R09 R10 (+R06 to A4)
    south = db.query("referral_funnel", **Q1, region="South")
    assert south["referrals"].tolist() == [6, 3, 1, 0, 1, 2]
    health = db.query("referral_funnel", **Q1, sector="health", service_type="mental_health")
    assert health["referrals"].tolist() == [4, 1, 1, 0, 1, 2]
    nothing = db.query("referral_funnel", start="2030-01-01")
    assert nothing["referrals"].tolist() == [0] * 6


def test_agency_bottlenecks_hand_checked(db):
    rows = by(db.query("agency_bottlenecks"), "agency_id")
    assert set(rows) == {"A1", "A2", "A3", "A4", "A6"}  # A5 receives nothing
    a3 = rows["A3"]
    assert (a3.received, a3.accepted, a3.declined, a3.pending, a3.stalled) == (5, 2, 1, 2, 2)
    assert a3.acceptance_rate == pytest.approx(2 / 3)
    assert a3.median_days_to_accept == pytest.approx(7.0)  # 10 and 4 days
    assert a3.p90_days_to_accept == pytest.approx(9.4)  # 4 + 0.9 * (10 - 4)
    assert a3.median_days_to_start == pytest.approx(12.0)  # 15 and 9 days
    a1 = rows["A1"]  # includes the internal referral R08
    assert (a1.received, a1.accepted, a1.declined, a1.pending, a1.stalled) == (4, 3, 0, 1, 1)
    assert a1.median_days_to_accept == pytest.approx(0.25)
    assert a1.p90_days_to_accept == pytest.approx(0.45)  # 0.25, 0.25, 0.5 interpolated at 0.9
    assert a1.median_days_to_start == pytest.approx(1.0)
    a2 = rows["A2"]
    assert (a2.received, a2.accepted, a2.declined, a2.acceptance_rate) == (2, 1, 1, 0.5)
    assert pd.isna(rows["A4"].median_days_to_start)
    assert rows["A6"].is_victim_service


def test_stalled_is_strictly_older_than_stall_days(db):
    # R09 waits 21.125 days at as_of (2024-03-10 09:00 to 2024-03-31 12:00)
    at = by(db.query("agency_bottlenecks", stall_days="21.125"), "agency_id")
    assert at["A3"].stalled == 1
    below = by(db.query("agency_bottlenecks", stall_days="21.1"), "agency_id")
    assert below["A3"].stalled == 2
    # an earlier as_of: R03 (from 2024-01-10 08:00) has waited 21.67 days on 2024-02-01 00:00
    early = by(db.query("agency_bottlenecks", as_of="2024-02-01 00:00", end="2024-01-31"), "agency_id")
    assert early["A3"].stalled == 1


def test_network_edges_agreement_in_force_in_the_period(db):
    edges = by(db.query("network_edges"), "from_agency_id", "to_agency_id")
    assert len(edges) == 9  # the internal referral R08 is not a tie
    assert ("A1", "A1") not in edges
    a13 = edges[("A1", "A3")]
    assert (a13.referrals, a13.accepted, a13.agreement) == (4, 2, "formal")
    assert edges[("A2", "A1")].agreement == "formal"  # the A1-A2 MOU covers both directions
    assert edges[("A5", "A1")].agreement == "informal"
    assert edges[("A1", "A4")].agreement == "none"
    # in Q1 2024 the A1-A3 protocol has ended (2023-12-31) and the informal tie began 2024-03-01
    q1 = by(db.query("network_edges", **Q1), "from_agency_id", "to_agency_id")
    assert (q1[("A1", "A3")].referrals, q1[("A1", "A3")].agreement) == (3, "informal")
    jan_feb = by(db.query("network_edges", start="2024-01-01", end="2024-02-28"), "from_agency_id", "to_agency_id")
    assert jan_feb[("A1", "A3")].agreement == "none"


def test_partnership_activity(db):
    whole = db.query("partnership_activity")
    assert len(whole) == 5
    counts = {(r.agency_a_id, r.agency_b_id): (r.referrals, r.status) for r in whole.itertuples()}
    assert counts == {
        ("A1", "A2"): (2, "active"),
        ("A1", "A3"): (4, "active"),
        ("A1", "A5"): (1, "active"),
        ("A4", "A2"): (0, "dormant"),
        ("A3", "A1"): (4, "active"),
    }
    q1 = {(r.agency_a_id, r.agency_b_id): r.referrals for r in db.query("partnership_activity", **Q1).itertuples()}
    assert q1 == {("A1", "A2"): 2, ("A1", "A5"): 1, ("A4", "A2"): 0, ("A3", "A1"): 3}
    south = db.query("partnership_activity", region="South")
    assert sorted(zip(south.agency_a_id, south.agency_b_id)) == [("A1", "A3"), ("A3", "A1"), ("A4", "A2")]
    medical = {(r.agency_a_id, r.agency_b_id): r.referrals
               for r in db.query("partnership_activity", service_type="medical").itertuples()}
    assert medical[("A1", "A2")] == 1 and medical[("A1", "A5")] == 0


def test_need_vs_capacity(db):
    rows = by(db.query("need_vs_capacity"), "region", "service_type", "month")
    assert len(rows) == 12

    def cell(region, service, month):
        return rows[(region, service, pd.Timestamp(month))]

    jan = cell("North", "shelter", "2024-01-01")
    assert (jan.need, jan.demand, jan.capacity, jan.unmet_need, jan.utilization) == (30, 0, 10, 20, 0.0)
    mar = cell("North", "shelter", "2024-03-01")
    assert (mar.need, mar.demand, mar.capacity, mar.unmet_need) == (0, 2, 12, 0)
    assert mar.utilization == pytest.approx(2 / 12)
    housing = cell("South", "housing", "2024-02-01")  # two need sources add up
    assert (housing.need, housing.demand, housing.capacity, housing.unmet_need, housing.utilization) == (10, 1, 5, 5, 0.2)
    assert pd.isna(cell("South", "shelter", "2024-03-01").utilization)  # capacity 0
    mh = cell("South", "mental_health", "2024-03-01")  # no capacity rows at all
    assert (mh.need, mh.capacity, mh.unmet_need) == (4, 0, 4) and pd.isna(mh.utilization)
    # a month is in the period when its first day is
    feb = db.query("need_vs_capacity", start="2024-01-15", end="2024-02-29", region="North")
    assert sorted(set(feb["month"].dt.strftime("%Y-%m"))) == ["2024-02"]


def wilson(positive: int, n: int) -> tuple[float, float]:
    p, z2 = positive / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def test_outcomes_by_program_suppresses_at_the_threshold(db):
    rows = by(db.query("outcomes_by_program", **Q1), "agency_id", "program_id")
    p1 = rows[("A1", "P1")]  # 11 exits, all positive: exactly at min_cell 11, shown
    assert (p1.exits, p1.positive, p1.rate, bool(p1.suppressed)) == (11, 11, 1.0, False)
    assert p1.ci_low == pytest.approx(11 / (11 + Z * Z)) and p1.ci_high == pytest.approx(1.0)
    p2 = rows[("A3", "P2")]  # 10 exits
    assert bool(p2.suppressed) and pd.isna(p2.exits) and pd.isna(p2.positive) and pd.isna(p2.rate)
    p3 = rows[("A4", "P3")]
    assert (p3.exits, p3.positive, p3.rate) == (22, 11, 0.5)
    assert (p3.ci_low, p3.ci_high) == pytest.approx(wilson(11, 22))
    agency_only = [r for k, r in rows.items() if k[0] == "A4" and pd.isna(k[1])]
    assert len(agency_only) == 1 and bool(agency_only[0].suppressed)  # 10 non-positive exits
    assert "A6" not in {k[0] for k in rows}  # victim-service agency hidden outside director view
    assert "A2" not in {k[0] for k in rows}  # its one exit is in 2023


def test_outcomes_by_program_director_view(db):
    rows = by(db.query("outcomes_by_program", **Q1, min_cell=0), "agency_id", "program_id")
    assert not any(bool(r.suppressed) for r in rows.values())
    assert (rows[("A3", "P2")].exits, rows[("A3", "P2")].positive) == (10, 5)
    assert (rows[("A6", "P5")].exits, rows[("A6", "P5")].positive) == (30, 15)
    assert (rows[("A6", "P5")].ci_low, rows[("A6", "P5")].ci_high) == pytest.approx(wilson(15, 30))
    ten = by(db.query("outcomes_by_program", **Q1, min_cell=10), "agency_id", "program_id")
    assert bool(ten[("A3", "P2")].suppressed)  # 5 positive < 10 still hides it
    assert not bool([r for k, r in ten.items() if k[0] == "A4" and pd.isna(k[1])][0].suppressed)


def test_network_summary(db):
    row = db.query("network_summary", **Q1).iloc[0]
    assert (row.referrals, row.accepted, row.declined, row.stalled) == (12, 7, 2, 3)
    assert row.acceptance_rate == pytest.approx(7 / 9)
    assert row.median_days_to_accept == pytest.approx(1.0)
    assert (row.active_partnerships, row.partnerships) == (3, 4)
    # Q1 exits: P1 11/11, P2 5/10, P3 11/22, A4 11/21, P5 15/30 (all agencies in the summary)
    assert (row.exits, row.positive_exits) == (94, 53)


def test_network_summary_judges_stalled_at_as_of(db):
    jan = {"start": "2024-01-01", "end": "2024-01-14"}
    # at the end of 14 January R02 (accepted the 15th) is still pending but young; R03 is 4.7 days old
    assert db.query("network_summary", **jan, as_of="2024-01-14 23:59:59").iloc[0].stalled == 0
    # by 31 January R02 is accepted and R03 has waited 21 days
    assert db.query("network_summary", **jan, as_of="2024-01-31 00:00").iloc[0].stalled == 1


def test_referral_trend(db):
    trend = db.query("referral_trend", **Q1)
    assert trend["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03"]
    assert trend["referred"].tolist() == [3, 3, 6]
    assert trend["pending"].tolist() == [1, 0, 2]


def test_data_extent_and_filter_choices(db):
    extent = db.query("data_extent").iloc[0]
    assert extent.as_of == pd.Timestamp("2024-03-31 12:00")
    assert (extent.referrals, extent.agencies, extent.programs) == (13, 6, 5)
    assert pd.Timestamp(extent.first_referral).date() == dt.date(2023, 6, 1)
    choices = db.query("filter_choices")
    assert choices.loc[choices.dimension == "region", "value"].tolist() == ["North", "South"]
    assert "case_management" in choices.loc[choices.dimension == "service_type", "value"].tolist()


def test_values_are_bound_not_spliced(db):
    hostile = "North' or '1'='1"
    assert db.query("referral_funnel", region=hostile)["referrals"].tolist() == [0] * 6
    assert db.query("partnership_activity", sector="x'); drop table referrals; --").empty
    assert db.query("referral_funnel")["referrals"].iloc[0] == 13


def test_a_period_filter_does_not_move_the_default_as_of(db):
    # as_of defaults to the latest activity in the whole data (2024-03-31 12:00), not in the period:
    # R03, referred 2024-01-10 08:00 and never answered, has waited 81.17 days, not 21 (to R04's decline)
    jan = by(db.query("agency_bottlenecks", start="2024-01-01", end="2024-01-31"), "agency_id")
    assert jan["A3"].stalled == 1
    summary = db.query("network_summary", start="2024-01-01", end="2024-01-10").iloc[0]
    assert summary.stalled == 1


def test_exit_people_counts_exits_people_and_positive_exits_of_the_whole_network(db):
    # Q1 2024 outside director views: P1 11 (11 positive), P2 10 (5), P3 22 (11), A4 alone 21 (11); the
    # victim-service agency's 30 exits left out, and A2's one exit is in 2023. Every exit is a client of its own.
    row = db.query("exit_people", **Q1).iloc[0]
    assert (row.exits, row.people, row.positive) == (64, 64, 38)
    row = db.query("exit_people", **Q1, min_cell=0).iloc[0]
    assert (row.exits, row.people, row.positive) == (94, 94, 53)
    assert db.query("exit_people", start="2023-01-01", end="2023-12-31").iloc[0].tolist() == [1, 1, 1]
