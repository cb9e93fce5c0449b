"""Resilience (what a closure would cut) and change over time, on the small community (numbers by hand).

Small community, first quarter of 2024 (91 days), referrals between different agencies:
R01 A1->A2 medical (accepted), R02 R03 R04 A1->A3 mental_health (accepted, pending, declined),
R05 A5->A1 shelter (accepted), R06 A1->A4 housing (accepted), R07 A4->A1 shelter (pending),
R09 A2->A3 mental_health (pending), R10 A3->A6 shelter (A6 is victim-service), R12 A5->A2 medical
(declined), R13 A2->A1 shelter (accepted). R11 A1->A3 mental_health is the only referral of 2023.
Declared ties in force in the quarter: A1-A2 formal, A1-A5 informal, A4-A2 formal (from 2024-01-01),
A3-A1 informal (from 2024-03-01); the A1-A3 protocol ended on 2023-12-31.

The extended community (`EXTRA`) adds a second mental-health provider A7 (with a hostile name), a
food bank A8 tied to nobody but Harbor House, and these referrals in the quarter:
R14 A1->A7 mental_health (accepted), R15 A2->A7 mental_health (declined), R16 A5->A7 mental_health
(accepted), R17 A8->A1 food (pending), R18 A1->A2 mental_health (accepted), R19 A6->A3 mental_health
(pending; from the victim-service agency), R20 A5->A6 mental_health (pending; to it).
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

from atlas.db import Atlas
from atlas.demo import PLANTED
from atlas.filters import Filters
from atlas.ingest import importer
from atlas.views import resilience

Q1 = Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
Y2023 = Filters(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
Y2024 = Filters(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
HOSTILE = "<img src=x onerror=alert(1)>*[Eastside](javascript:alert(1))*"

EXTRA = dict(SMALL_COMMUNITY)
EXTRA["agencies.csv"] = SMALL_COMMUNITY["agencies.csv"] + (
    f'A7,"{HOSTILE}",health,South,false\n'
    "A8,Corner Food Bank,nonprofit,North,false\n"
)
EXTRA["referrals.csv"] = SMALL_COMMUNITY["referrals.csv"] + """\
R14,C12,A1,A7,mental_health,2024-02-05 09:00,,2024-02-06 09:00,,,,
R15,C13,A2,A7,mental_health,2024-02-06 09:00,,,2024-02-07 09:00,not_eligible,,
R16,C14,A5,A7,mental_health,2024-02-07 09:00,,2024-02-08 09:00,,,,
R17,C15,A8,A1,food,2024-02-10 09:00,,,,,,
R18,C16,A1,A2,mental_health,2024-03-01 09:00,,2024-03-02 09:00,,,,
R19,C17,A6,A3,mental_health,2024-03-15 09:00,,,,,,
R20,C18,A5,A6,mental_health,2024-03-16 09:00,,,,,,
"""


@pytest.fixture(scope="module")
def db(small_db):
    with Atlas(small_db) as atlas:
        yield atlas


@pytest.fixture(scope="module")
def extra(tmp_path_factory):
    root = tmp_path_factory.mktemp("resilience")
    path = root / "atlas.duckdb"
    importer.import_folder(write_files(root / "files", EXTRA), path, TEST_KEY)
    with Atlas(path) as atlas:
        yield atlas


def everything_shown(closure: resilience.Closure) -> str:
    frames = [closure.received_table, closure.referrers_table, closure.absorbers_table, closure.disconnected_table]
    return "\n".join(closure.summary) + "".join(f.to_csv() for f in frames)


# --------------------------------------------------------------------------------------------
# Resilience
# --------------------------------------------------------------------------------------------

def test_service_flows_query(db):
    flows = db.query("service_flows", start="2024-01-01", end="2024-03-31")
    rows = {(r.from_agency_id, r.to_agency_id, r.service_type): (r.referrals, r.accepted, r.declined)
            for r in flows.itertuples()}
    assert len(rows) == 9  # 11 referrals between different agencies (R08 is internal), R02-R04 in one row
    assert rows[("A1", "A3", "mental_health")] == (3, 1, 1)  # R02 accepted, R03 pending, R04 declined
    assert rows[("A5", "A2", "medical")] == (1, 0, 1)
    assert ("A1", "A1", "case_management") not in rows
    assert db.query("service_flows")["referrals"].sum() == 12  # R11 of 2023 too
    south = db.query("service_flows", region="South")  # receiving agency's region: A3, A4 and A6
    assert set(south["to_agency_id"]) == {"A3", "A4", "A6"}


def test_closing_harbor_house_in_the_small_community(db):
    closure = resilience.closure(db, Q1, "A1")
    assert closure.found and closure.name == "Harbor House"
    # A1 receives only shelter: R05 (A5), R07 (A4), R13 (A2); R05 and R13 accepted, none declined
    received = closure.received.iloc[0]
    assert closure.received["service_type"].tolist() == ["shelter"]
    assert (received.referrals, received.accepted, received.declined, received.referrers) == (3, 2, 0, 3)
    assert received.acceptance_rate == pytest.approx(1.0)
    # each of the three sends it its only shelter referral: share 1/1, so it is the usual destination of all
    assert (received.usual_for, received.usual_referrals) == (3, 3)
    assert received.network_share == pytest.approx(3 / 4)  # shelter in Q1: R05 R07 R13 and R10 (to A6)
    assert closure.referrers["name"].tolist() == ["City Hospital", "Housing Authority", "St Mark's Church"]
    assert closure.referrers["share"].tolist() == [1.0, 1.0, 1.0]
    # the only other shelter receiver is victim-service A6: no one can be named to absorb the flow
    assert closure.absorbers.empty
    # without A1, A4's only referrals (R06, R07) are gone: the (dormant) A4-A2 MOU is no working channel,
    # so A4 is cut off, as the map's cut points say
    assert closure.disconnected["name"].tolist() == ["Housing Authority"]
    assert closure.hidden_referrals == 0
    assert closure.period_days == 91
    assert closure.summary == [
        # 3 * 365 / 91 = 12.03
        "Closing **Harbor House** would leave 3 shelter referrals in the period (about 12 a year) without their "
        "usual destination; all 3 agencies that refer shelter clients there send most of them there. No other "
        "agency on the map received shelter referrals in the period.",
        "1 agency would be cut off from the rest of the network: **Housing Authority**.",
    ]


def test_who_could_absorb_riverside_counselling(extra):
    closure = resilience.closure(extra, Q1, "A3")
    # A3 receives mental health in Q1: R02 R03 R04 (A1), R09 (A2), R19 (A6, victim-service) = 5 from 3 referrers
    received = closure.received.set_index("service_type").loc["mental_health"]
    assert (received.referrals, received.accepted, received.declined, received.referrers) == (5, 1, 1, 3)
    # A1 sends 5 mental-health referrals (R02-R04 to A3, R14 to A7, R18 to A2): 3/5 = 0.6 to A3;
    # A2 sends 2 (R09 to A3, R15 to A7): 1/2 = 0.5, usual at exactly USUAL_SHARE; A6 sends 1, to A3
    assert (received.usual_for, received.usual_referrals) == (3, 5)
    # mental health in Q1: R02 R03 R04 R09 R14 R15 R16 R18 R19 R20 = 10, of which 5 to A3
    assert received.network_share == pytest.approx(0.5)
    # the victim-service referrer is counted above but never listed
    assert closure.referrers[["from_agency_id", "share"]].values.tolist() == [["A1", 0.6], ["A2", 0.5]]
    assert closure.hidden_referrals == 1
    # absorbers: A7 gets mental health from A1 (R14), A2 (R15) and A5 (R16): 2 of A3's referrers, 3 referrals,
    # 1 accepted of 2 decided (R15 declined). A2 gets it from A1 (R18): 1 shared, 1 referral, accepted.
    # A6 also receives mental health (R20) but is victim-service: never an absorber.
    absorbers = closure.absorbers
    assert absorbers["agency_id"].tolist() == ["A7", "A2"]
    assert absorbers["rank"].tolist() == [1, 2]
    assert absorbers["shared_referrers"].tolist() == [2, 1]
    assert absorbers["referrers"].tolist() == [3, 3]
    assert absorbers["referrals"].tolist() == [3, 1]
    assert absorbers["acceptance_rate"].tolist() == pytest.approx([2 / 3, 1.0])
    line = closure.summary[0]
    assert line.startswith("Closing **Riverside Counselling** would leave 5 mental health referrals in the period "
                           "(about 20 a year) without their usual destination; all 3 agencies")  # 5 * 365 / 91
    assert "from 2 of those 3 referrers (3 in the period, accepting 66.7%)." in line
    assert closure.summary[-1] == ("1 of the referrals it received came from victim-service agencies "
                                   "(counted here, never named).")
    shown = everything_shown(closure)
    assert "Safe Haven" not in shown and "A6" not in closure.referrers["from_agency_id"].tolist()
    # the hostile name stays text in Markdown
    assert "<img src=x onerror=alert(1)>" not in line and "](javascript" not in line
    assert r"\<img src=x onerror=alert\(1\)\>\*\[Eastside\]\(javascript\:alert\(1\)\)\*" in line


def test_closing_harbor_house_cuts_off_the_food_bank(extra):
    closure = resilience.closure(extra, Q1, "A1")
    # A8's only link is R17 to A1, A4's are R06 and R07 (its MOU with A2 carries nothing); the rest stay
    # joined through A2
    assert closure.disconnected["name"].tolist() == ["Corner Food Bank", "Housing Authority"]
    assert ("2 agencies would be cut off from the rest of the network: **Corner Food Bank**, "
            "**Housing Authority**.") in closure.summary
    # it now receives food (R17) as well as shelter: the busiest service comes first
    assert closure.received["service_type"].tolist() == ["shelter", "food"]


def test_closure_of_a_victim_service_or_unknown_agency_shows_nothing(db):
    for agency in ("A6", "nope"):
        closure = resilience.closure(db, Q1, agency)
        assert not closure.found and closure.summary == [] and closure.total_referrals == 0
        assert closure.absorbers_table.empty and closure.received_table.empty


def test_closure_over_all_data_annualises_over_the_data(db):
    closure = resilience.closure(db, Filters(), "A3")
    # 2023-06-01 (R11) to 2024-03-25 (R13) = 299 days; A3 receives R02 R03 R04 R09 R11 = 5 mental health
    assert closure.period_days == 299
    assert closure.total_referrals == 5
    assert "(about 6 a year)" in closure.summary[0]  # 5 * 365 / 299 = 6.1


# --------------------------------------------------------------------------------------------
# Change over time
# --------------------------------------------------------------------------------------------

def test_ties_gained_between_2023_and_2024(db):
    change = resilience.change(db, Y2024, previous=Y2023, min_referrals=2)
    assert change.comparable
    # pairs in 2024 (either way): A1-A3 3 (R02-R04), A1-A2 2 (R01 R13), A1-A4 2 (R06 R07), A1-A5 1,
    # A2-A3 1, A2-A5 1 (A3-A6 1, victim-service); in 2023 only A1-A3 1 (R11)
    assert change.gained_table.values.tolist() == [
        ["Harbor House", "Riverside Counselling", 3, 1],
        ["Harbor House", "City Hospital", 2, 0],
        ["Harbor House", "Housing Authority", 2, 0],
    ]
    assert change.lost.empty
    movers = change.movers.set_index("agency_id")
    # ties in 2024: A1 with A2, A3, A4 (a star); A5 has none; in 2023 no pair reached 2
    assert movers["degree_now"].to_dict() == {"A1": 3, "A2": 1, "A3": 1, "A4": 1, "A5": 0}
    assert movers["degree_before"].eq(0).all()
    # A1 lies on the paths A2-A3, A2-A4, A3-A4: 3 of the (5-1)(5-2)/2 = 6 pairs of others
    assert movers.loc["A1", "betweenness_now"] == pytest.approx(0.5)
    assert movers.loc["A1", "rank_now"] == 1 and movers["rank_before"].isna().all()
    assert movers.loc["A1", "rank_change"] == 5  # from no rank (counted as 5 + 1) to 1
    assert change.to_centre["agency_id"].tolist() == ["A1", "A2", "A4", "A3"]  # +3, then +1 by name
    assert change.to_edge.empty
    assert change.summary[0] == ("Against the previous period (1 Jan 2023 to 31 Dec 2023), 3 ties formed and "
                                 "0 faded (a tie is at least 2 referrals between two agencies, either way).")
    assert "Strongest new tie: **Harbor House** – **Riverside Counselling**, 3 referrals (1 the period before)." \
        in change.summary
    assert "Moved most to the centre: **Harbor House**, 0 → 3 partners." in change.summary
    bars = change.chart.data[0]
    assert list(bars.x) == [1, 1, 1, 3] and list(bars.y)[-1] == "Harbor House"


def test_ties_lost_the_other_way_round(db):
    change = resilience.change(db, Y2023, previous=Y2024, min_referrals=2)
    assert change.lost_table["Agency B"].tolist() == ["Riverside Counselling", "City Hospital", "Housing Authority"]
    assert change.gained.empty
    assert change.to_edge.iloc[0]["name"] == "Harbor House" and change.to_edge.iloc[0]["degree_change"] == -3
    assert "Moved most to the edge: **Harbor House**, 3 → 0 partners." in change.summary


def test_default_previous_period_and_victim_service_ties_counted_only(db):
    change = resilience.change(db, Q1, min_referrals=1)
    assert change.previous == Filters(dt.date(2023, 10, 1), dt.date(2023, 12, 31))  # the 3 months before: empty
    # every pair of the quarter is new: 6 named, and A3-A6 (R10) counted only
    assert len(change.gained) == 6 and change.hidden_gained == 1 and change.hidden_lost == 0
    assert "Safe Haven" not in "".join(change.summary) + change.gained_table.to_csv() + change.movers.to_csv()
    assert "Ties with victim-service agencies: 1 formed, 0 faded (counted, never named)." in change.summary
    # default threshold of 5 referrals: nothing in the small community is a tie
    assert resilience.change(db, Q1).gained.empty


def test_no_comparison_for_an_open_period(db):
    change = resilience.change(db, Filters())
    assert not change.comparable and change.previous is None and change.chart is None
    assert "no previous period" in change.reason
    assert change.gained_table.empty and change.to_centre_table.empty


def test_chart_labels_are_escaped(extra):
    change = resilience.change(extra, Q1, min_referrals=1)
    figure = json.dumps(change.chart.to_plotly_json(), default=str)
    assert "<img" not in figure and "&lt;img src=x onerror=alert(1)&gt;" in figure
    assert "Safe Haven" not in figure


# --------------------------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------------------------

def test_demo_bottleneck_closure_names_mental_health_providers(demo_db):
    bottleneck = PLANTED["bottleneck_agency_id"]
    with Atlas(demo_db) as db:
        closure = resilience.closure(db, Filters(), bottleneck)
        change = resilience.change(db, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    assert closure.name == "Riverside Counselling"
    assert closure.received["service_type"].iloc[0] == "mental_health"
    absorbers = closure.absorbers[closure.absorbers["service_type"] == "mental_health"]
    assert len(absorbers) == resilience.TOP_ABSORBERS
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        providers = {row[0] for row in con.execute(
            "select distinct agency_id from programs where service_type = 'mental_health'").fetchall()}
        protected = {row[0] for row in con.execute("select agency_id from agencies where is_victim_service").fetchall()}
        protected_names = [row[0] for row in con.execute(
            "select name from agencies where is_victim_service").fetchall()]
    finally:
        con.close()
    assert set(absorbers["agency_id"]) <= providers - protected
    assert (absorbers["shared_referrers"] > 0).all()
    assert "Closing **Riverside Counselling**" in closure.summary[0]
    shown = everything_shown(closure) + "".join(change.summary) + change.gained_table.to_csv() \
        + change.lost_table.to_csv() + change.movers.to_csv()
    assert not any(name in shown for name in protected_names)
    assert not set(change.movers["agency_id"]) & protected
    assert change.comparable and len(change.to_centre) and len(change.to_edge)
