"""Sections 5-8 of the Bottlenecks page: decline reasons, pathways, queues, ping-pong and lost
referrals, on the small community (conftest.py) with numbers worked out by hand, and on a second
database: the same files plus a few referrals that plant ping-pong clients and boundary cases.

The small community as the queries see it (as_of = R13's completion, 2024-03-31 12:00):

    id   from->to  sectors                service       referred     decided            reached
    R01  A1->A2    nonprofit->health      medical       01-02 09:00  acc 01-03 09:00    completed
    R02  A1->A3    nonprofit->health      mental_health 01-05 10:00  acc 01-15 10:00    started
    R03  A1->A3    nonprofit->health      mental_health 01-10 08:00  -                  pending
    R04  A1->A3    nonprofit->health      mental_health 02-01 08:00  dec 02-03 no_capacity
    R05  A5->A1    faith->nonprofit       shelter       02-10 12:00  acc 02-10 18:00    started
    R06  A1->A4    nonprofit->government  housing       02-15 09:00  acc 02-17 09:00    accepted
    R07  A4->A1    government->nonprofit  shelter       03-01 09:00  -                  pending
    R08  A1->A1    internal               case_mgmt     03-05 09:00  acc 03-05 21:00    accepted
    R09  A2->A3    health->health         mental_health 03-10 09:00  -                  pending
    R10  A3->A6    health->nonprofit      shelter       03-12 09:00  acc 03-14 09:00    accepted
    R11  A1->A3    nonprofit->health      mental_health 2023-06-01   acc 2023-06-05     completed
    R12  A5->A2    faith->health          medical       03-20 09:00  dec 03-21 not_eligible
    R13  A2->A1    health->nonprofit      shelter       03-25 09:00  acc 03-25 15:00    completed
"""

from __future__ import annotations

import html
import json

import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

from atlas.db import Atlas
from atlas.ingest import importer
from atlas.ingest.pseudonym import pseudonym
from atlas.views import flows, queues

Q1 = {"start": "2024-01-01", "end": "2024-03-31"}

# The extra community: the small one plus these referrals (all 2024), and one agency whose name is
# markup. P1..P5 are ping-pong candidates; Q1 is decided exactly at midnight on 1 March.
EXTRA_AGENCY = "A7,<i>Clinic</i> & Partners,health,North,false\n"
EXTRA_REFERRALS = """\
X01,P1,A4,A1,shelter,2024-01-01 09:00,,,2024-01-02 09:00,no_capacity,,
X02,P1,A1,A4,housing,2024-01-10 09:00,,,2024-01-11 09:00,not_eligible,,
X03,P1,A4,A1,shelter,2024-01-31 09:00,,,,,,
X04,P2,A2,A3,mental_health,2024-02-01 09:00,,,2024-02-02 09:00,no_capacity,,
X05,P2,A3,A2,medical,2024-02-05 09:00,,2024-02-05 12:00,,,2024-02-06 09:00,
X06,P2,A2,A3,mental_health,2024-02-10 09:00,,,2024-02-11 09:00,no_capacity,,
X07,P3,A5,A2,medical,2024-01-05 09:00,,,2024-01-06 09:00,not_eligible,,
X08,P3,A2,A5,other,2024-01-25 09:00,,,2024-01-26 09:00,other,,
X09,P3,A5,A2,medical,2024-02-14 09:00,,,,,,
X10,P4,A1,A3,mental_health,2024-02-01 09:00,,,2024-02-02 09:00,client_unreachable,,
X11,P4,A3,A1,shelter,2024-02-15 09:00,,,2024-02-16 09:00,no_capacity,,
X12,P4,A1,A3,mental_health,2024-03-02 09:01,,,,,,
X13,P5,A1,A2,medical,2024-03-01 09:00,,,2024-03-01 12:00,duplicate,,
X14,P5,A2,A3,mental_health,2024-03-03 09:00,,,2024-03-04 09:00,no_capacity,,
X15,P5,A3,A4,housing,2024-03-05 09:00,,,,,,
X16,P5,A4,A1,shelter,2024-03-08 09:00,,2024-03-08 10:00,,,2024-03-09 09:00,
X17,P5,A1,A2,medical,2024-03-10 09:00,,,,,,
X18,Q1,A5,A4,housing,2024-02-20 09:00,,2024-03-01 00:00,,,,
X19,Z1,A5,A7,medical,2024-03-15 09:00,,,,,,
"""


@pytest.fixture(scope="module")
def db(small_db):
    with Atlas(small_db) as atlas:
        yield atlas


@pytest.fixture(scope="module")
def extra(tmp_path_factory):
    files = dict(SMALL_COMMUNITY)
    files["agencies.csv"] = SMALL_COMMUNITY["agencies.csv"] + EXTRA_AGENCY
    files["referrals.csv"] = SMALL_COMMUNITY["referrals.csv"] + EXTRA_REFERRALS
    folder = write_files(tmp_path_factory.mktemp("bounces") / "files", files)
    path = tmp_path_factory.mktemp("bounces_db") / "atlas.duckdb"
    importer.import_folder(folder, path, TEST_KEY)
    with Atlas(path) as atlas:
        yield atlas


def rows_by(frame: pd.DataFrame, *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for _, r in frame.iterrows()}


def client(name: str) -> str:
    return pseudonym(name, TEST_KEY)


# --- 5. Why referrals fail -------------------------------------------------------------------------

def test_decline_reasons_small(db):
    frame = db.query("decline_reasons")
    # two declines in the whole data: R04 (A3, no_capacity) and R12 (A2, not_eligible)
    assert [(r.agency_id, r.name, r.service_type, r.decline_reason, r.declines) for r in frame.itertuples()] == [
        ("A2", "City Hospital", "medical", "not_eligible", 1),
        ("A3", "Riverside Counselling", "mental_health", "no_capacity", 1),
    ]
    # common filters: R12 is in North (A2) and in March; R04 in South and February
    assert db.query("decline_reasons", region="North")["agency_id"].tolist() == ["A2"]
    assert db.query("decline_reasons", start="2024-03-01")["agency_id"].tolist() == ["A2"]
    assert db.query("decline_reasons", sector="health", service_type="mental_health")["agency_id"].tolist() == ["A3"]
    assert db.query("decline_reasons", end="2024-01-31").empty


def test_decline_reasons_extra(extra):
    frame = extra.query("decline_reasons")
    got = {(r.agency_id, r.service_type, r.decline_reason): r.declines for r in frame.itertuples()}
    assert got == {
        ("A1", "shelter", "no_capacity"): 2,        # X01, X11
        ("A2", "medical", "duplicate"): 1,          # X13
        ("A2", "medical", "not_eligible"): 2,       # R12, X07
        ("A3", "mental_health", "client_unreachable"): 1,  # X10
        ("A3", "mental_health", "no_capacity"): 4,  # R04, X04, X06, X14
        ("A4", "housing", "not_eligible"): 1,       # X02
        ("A5", "other", "other"): 1,                # X08
    }
    assert frame["declines"].sum() == 12  # 2 in the small community + 10 extra


def test_decline_chart_by_agency(db, extra):
    fig = flows.decline_chart_by_agency(db.query("decline_reasons"))
    assert isinstance(fig, go.Figure)
    # one bar trace per reason present, in the fixed order; no_capacity first and marked
    assert [t.name for t in fig.data] == ["No capacity (capacity signal)", "Not eligible"]
    assert [t.meta for t in fig.data] == ["no_capacity", "not_eligible"]
    capacity = fig.data[0]
    assert capacity.orientation == "h" and capacity.marker.color == flows.REASON_COLORS["no_capacity"]
    # both agencies have one decline; the tie goes to the one declining for capacity
    assert list(capacity.y) == ["Riverside Counselling", "City Hospital"]
    assert list(capacity.x) == [1, 0] and list(fig.data[1].x) == [0, 1]
    assert fig.layout.barmode == "stack"
    top1 = flows.decline_chart_by_agency(db.query("decline_reasons"), top=1)
    assert [t.name for t in top1.data] == ["No capacity (capacity signal)"] and list(top1.data[0].y) == ["Riverside Counselling"]

    ext = flows.decline_chart_by_agency(extra.query("decline_reasons"), top=3)
    # totals: A3 5, A2 3, A1 2 (A4 1, A5 1 left out)
    assert list(ext.data[0].y) == ["Riverside Counselling", "City Hospital", "Harbor House"]
    totals = [sum(t.x[i] for t in ext.data) for i in range(3)]
    assert totals == [5, 3, 2]
    assert [t.meta for t in ext.data] == ["no_capacity", "not_eligible", "client_unreachable", "duplicate"]


def test_decline_chart_by_service(extra):
    fig = flows.decline_chart_by_service(extra.query("decline_reasons"))
    # mental_health 5 (4 capacity), medical 3, shelter 2, housing 1, other 1
    y = list(fig.data[0].y)
    assert y == ["Mental health", "Medical", "Shelter", "Housing", "Other"]
    by_reason = {t.meta: dict(zip(t.y, t.x)) for t in fig.data}
    assert by_reason["no_capacity"] == {"Mental health": 4, "Medical": 0, "Shelter": 2, "Housing": 0, "Other": 0}
    assert by_reason["other"]["Other"] == 1


def test_decline_charts_with_nothing_declined(db):
    empty = db.query("decline_reasons", end="2024-01-31")
    assert len(flows.decline_chart_by_agency(empty).data) == 0
    assert len(flows.decline_chart_by_service(empty).data) == 0
    assert flows.capacity_signal(empty).empty


def test_capacity_signal(db, extra):
    # small: A3 mental_health 1 decline, 1 for capacity; below the default 5 declines
    assert flows.capacity_signal(db.query("decline_reasons")).empty
    small = flows.capacity_signal(db.query("decline_reasons"), min_declines=1)
    assert [(r.agency, r.service_type, r.declines, r.no_capacity, r.no_capacity_share) for r in small.itertuples()] == [
        ("Riverside Counselling", "mental_health", 1, 1, 1.0)]
    frame = extra.query("decline_reasons")
    # A3 mental_health: 4 of 5 declines for capacity (0.8); A1 shelter 2 of 2 (1.0) but only 2 declines
    assert [(r.agency_id, r.service_type, r.declines, r.no_capacity) for r in flows.capacity_signal(frame).itertuples()] == [
        ("A3", "mental_health", 5, 4)]
    two = flows.capacity_signal(frame, min_declines=2)
    assert [(r.agency_id, r.no_capacity_share) for r in two.itertuples()] == [("A1", 1.0), ("A3", 0.8)]
    assert flows.capacity_signal(frame, min_declines=2, min_share=0.9)["agency_id"].tolist() == ["A1"]


# --- 6. Pathways -------------------------------------------------------------------------------------

def test_referral_pathways_by_sector(db):
    frame = db.query("referral_pathways")
    got = {(r.from_sector, r.to_node, r.stage): r.referrals for r in frame.itertuples()}
    assert got == {
        ("faith", "health", "declined"): 1,        # R12
        ("faith", "nonprofit", "started"): 1,      # R05
        ("government", "nonprofit", "pending"): 1,  # R07
        ("health", "health", "pending"): 1,        # R09
        ("health", "nonprofit", "accepted"): 1,    # R10
        ("health", "nonprofit", "completed"): 1,   # R13
        ("nonprofit", "government", "accepted"): 1,  # R06
        ("nonprofit", "health", "completed"): 2,   # R01, R11
        ("nonprofit", "health", "started"): 1,     # R02
        ("nonprofit", "health", "pending"): 1,     # R03
        ("nonprofit", "health", "declined"): 1,    # R04
    }
    # 13 referrals less the internal R08 (A1 -> A1, nonprofit, accepted): no nonprofit -> nonprofit row
    assert frame["referrals"].sum() == 12
    assert set(frame["to_kind"]) == {"sector"} and frame["to_agency_id"].isna().all()
    assert dict(zip(frame["stage"], frame["stage_position"])) == {
        "completed": 1, "started": 2, "accepted": 3, "declined": 4, "pending": 5}


def test_referral_pathways_filters(db):
    # receiving agency in South: A3 (R02 R03 R04 R09 R11), A4 (R06), A6 (R10)
    assert db.query("referral_pathways", region="South")["referrals"].sum() == 7
    q1 = db.query("referral_pathways", **Q1)  # R11 (2023) out
    assert q1["referrals"].sum() == 11
    assert db.query("referral_pathways", service_type="shelter")["referrals"].sum() == 4  # R05 R07 R10 R13


def test_referral_pathways_focus_sector(db):
    frame = db.query("referral_pathways", focus_sector="health")
    got = {(r.from_sector, r.to_kind, r.to_node, r.stage): r.referrals for r in frame.itertuples()}
    assert got == {
        ("faith", "agency", "City Hospital", "declined"): 1,               # R12
        ("nonprofit", "agency", "City Hospital", "completed"): 1,          # R01
        ("nonprofit", "agency", "Riverside Counselling", "completed"): 1,  # R11
        ("nonprofit", "agency", "Riverside Counselling", "started"): 1,    # R02
        ("nonprofit", "agency", "Riverside Counselling", "declined"): 1,   # R04
        ("nonprofit", "agency", "Riverside Counselling", "pending"): 1,    # R03
        ("health", "agency", "Riverside Counselling", "pending"): 1,       # R09
        # referrals to other sectors stay grouped by sector
        ("faith", "sector", "nonprofit", "started"): 1,
        ("government", "sector", "nonprofit", "pending"): 1,
        ("health", "sector", "nonprofit", "accepted"): 1,
        ("health", "sector", "nonprofit", "completed"): 1,
        ("nonprofit", "sector", "government", "accepted"): 1,
    }
    assert frame["referrals"].sum() == 12
    agencies = frame[frame["to_kind"] == "agency"]
    assert set(agencies["to_agency_id"]) == {"A2", "A3"} and set(agencies["to_sector"]) == {"health"}
    # a victim-service receiver is flagged so a caller outside director views can hide it
    nonprofit = db.query("referral_pathways", focus_sector="nonprofit")
    safe_haven = nonprofit[nonprofit["to_agency_id"] == "A6"]
    assert safe_haven["to_node"].tolist() == ["Safe Haven"] and safe_haven["to_victim_service"].all()
    assert not nonprofit[nonprofit["to_agency_id"] == "A1"]["to_victim_service"].any()


def _hops(fig: go.Figure) -> dict[str, int]:
    link = fig.data[0].link
    totals: dict[str, int] = {}
    for (hop, _stage), value in zip(link.customdata, link.value):
        totals[hop] = totals.get(hop, 0) + value
    return totals


def test_pathways_sankey(db):
    fig = flows.pathways_sankey(db.query("referral_pathways"))
    sankey = fig.data[0]
    assert isinstance(sankey, go.Sankey)
    labels = list(sankey.node.label)
    # referring sectors, receiving sectors, stages reached
    assert labels == ["Faith", "Government", "Health", "Nonprofit", "Government", "Health", "Nonprofit",
                      "Completed", "Started", "Accepted, not started", "Declined", "Pending"]
    # each hop carries every non-internal referral once: 12 = 13 less R08
    assert _hops(fig) == {"referred": 12, "reached": 12}
    assert sum(sankey.link.value) == 24
    # links are coloured by the stage reached: the declined links carry R04 and R12
    declined = flows._rgba(flows.STAGE_COLORS["declined"], 0.45)
    assert sum(v for v, c in zip(sankey.link.value, sankey.link.color) if c == declined) == 2 * 2
    # the second hop into "Pending": R03, R09 (into Health) and R07 (into Nonprofit)
    pending = labels.index("Pending")
    into = {labels[s]: v for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value) if t == pending}
    assert into == {"Health": 2, "Nonprofit": 1}


def test_pathways_sankey_focus_and_escaping(extra):
    frame = extra.query("referral_pathways", focus_sector="health")
    assert "<i>Clinic</i> & Partners" in set(frame["to_node"])  # the data as stored
    fig = flows.pathways_sankey(frame)
    labels = list(fig.data[0].node.label)
    assert "&lt;i&gt;Clinic&lt;/i&gt; &amp; Partners" in labels
    assert not any("<" in text or ">" in text for text in labels)
    assert {"City Hospital", "Riverside Counselling"} <= set(labels)
    # 13 + 19 extra referrals, none internal
    assert _hops(fig) == {"referred": 31, "reached": 31}

    # markup in any data text, sectors included, is escaped
    hostile = pd.DataFrame([{
        "from_sector": "<script>alert(1)</script>", "to_kind": "agency", "to_sector": "health",
        "to_agency_id": "X", "to_node": "<b onmouseover=x>Evil</b>", "to_victim_service": False,
        "stage": "pending", "stage_position": 5, "referrals": 3,
    }])
    labels = list(flows.pathways_sankey(hostile).data[0].node.label)
    assert labels[1] == html.escape("<b onmouseover=x>Evil</b>")
    assert not any("<" in text for text in labels)


# --- 7. Queues ---------------------------------------------------------------------------------------

def test_agency_queues_q1(db):
    # Q1 2024 runs from 1 January 00:00 to as_of (31 March 12:00, before the end of the end day):
    # 90.5 days = 12.93 weeks
    rows = rows_by(db.query("agency_queues", **Q1), "agency_id")
    weeks = 90.5 / 7
    assert set(rows) == {"A1", "A2", "A3", "A4", "A6"}
    a3 = rows["A3"]
    # arrivals R02 R03 R04 R09; decided in Q1 R02 (01-15) R04 (02-03); R11 was decided in 2023,
    # so nothing waited at the start; R03 and R09 wait at the end
    assert (a3.arrivals, a3.throughput, a3.backlog_start, a3.backlog_end, a3.backlog_change) == (4, 2, 0, 2, 2)
    assert a3.weeks == pytest.approx(weeks)
    assert a3.arrivals_per_week == pytest.approx(4 / weeks)
    assert a3.throughput_per_week == pytest.approx(2 / weeks)
    assert a3.implied_wait_days == pytest.approx(2 / (2 / weeks) * 7)  # = 90.5 days
    assert a3.growing
    a1 = rows["A1"]  # R05 R07 R08 (internal) R13 arrive; all but R07 decided
    assert (a1.arrivals, a1.throughput, a1.backlog_start, a1.backlog_end) == (4, 3, 0, 1)
    assert a1.implied_wait_days == pytest.approx(90.5 / 3) and a1.growing
    a2 = rows["A2"]  # R01, R12 both decided
    assert (a2.arrivals, a2.throughput, a2.backlog_end, a2.implied_wait_days, a2.growing) == (2, 2, 0, 0.0, False)
    # longest implied wait first
    assert db.query("agency_queues", **Q1)["agency_id"].tolist() == ["A3", "A1", "A2", "A4", "A6"]


def test_agency_queues_whole_data_and_filters(db):
    # empty start = the first referral's day (2023-06-01), empty end = as_of: 304.5 days = 43.5 weeks
    rows = rows_by(db.query("agency_queues"), "agency_id")
    a3 = rows["A3"]
    assert a3.weeks == pytest.approx(43.5)
    assert (a3.arrivals, a3.throughput, a3.backlog_start, a3.backlog_end) == (5, 3, 0, 2)  # + R11
    assert a3.implied_wait_days == pytest.approx(2 / (3 / 43.5) * 7)  # 203 days
    south = db.query("agency_queues", region="South")
    assert sorted(south["agency_id"]) == ["A3", "A4", "A6"]
    # a filter narrows the agencies, not the clock: the period still ends at the data's as_of
    assert rows_by(south, "agency_id")["A3"].weeks == pytest.approx(43.5)
    # a period that starts after R03 arrived: it is backlog at the start
    feb = rows_by(db.query("agency_queues", start="2024-02-01", end="2024-02-29"), "agency_id")
    f3 = feb["A3"]  # R04 arrives and is declined in February; R03 waits throughout
    assert (f3.backlog_start, f3.arrivals, f3.throughput, f3.backlog_end) == (1, 1, 1, 1)
    assert f3.weeks == pytest.approx(29 / 7) and f3.implied_wait_days == pytest.approx(29.0)
    assert not f3.growing


def test_agency_queues_decision_on_the_period_boundary(extra):
    # X18 (to A4) was referred 20 February and accepted at exactly 2024-03-01 00:00.
    # February ends just before that moment: X18 is still waiting at February's end...
    feb = rows_by(extra.query("agency_queues", start="2024-02-01", end="2024-02-29"), "agency_id")["A4"]
    # A4 in February: arrivals R06 X18; decided R06 (02-17); X02 was decided in January
    assert (feb.arrivals, feb.throughput, feb.backlog_start, feb.backlog_end) == (2, 1, 0, 1)
    assert feb.implied_wait_days == pytest.approx(29.0) and feb.growing
    # ... and March begins with it: backlog at the start, decided in March
    mar = rows_by(extra.query("agency_queues", start="2024-03-01", end="2024-03-31"), "agency_id")["A4"]
    # A4 in March: X15 arrives (pending); X18 decided at the first instant; 30.5 days to as_of
    assert (mar.arrivals, mar.throughput, mar.backlog_start, mar.backlog_end) == (1, 1, 1, 1)
    assert mar.weeks == pytest.approx(30.5 / 7) and mar.implied_wait_days == pytest.approx(30.5)
    assert not mar.growing


def test_agency_queues_decision_at_as_of(db):
    # R02 was accepted at 2024-01-15 10:00: an event at as_of has happened, one after it has not
    at = rows_by(db.query("agency_queues", as_of="2024-01-15 10:00"), "agency_id")["A3"]
    assert (at.arrivals, at.throughput, at.backlog_end) == (3, 2, 1)  # R11 R02 R03; R11 R02; R03
    before = rows_by(db.query("agency_queues", as_of="2024-01-15 09:59"), "agency_id")["A3"]
    assert (before.arrivals, before.throughput, before.backlog_end) == (3, 1, 2)


@pytest.mark.parametrize("period", [
    {}, Q1, {"start": "2024-02-01", "end": "2024-02-29"}, {"start": "2024-03-01", "end": "2024-03-31"},
    {"start": "2024-01-10", "end": "2024-03-02", "as_of": "2024-02-20 12:00"},
])
def test_agency_queues_backlog_balances(extra, period):
    frame = extra.query("agency_queues", **period)
    assert len(frame)
    assert (frame["backlog_end"] == frame["backlog_start"] + frame["arrivals"] - frame["throughput"]).all()
    assert (frame["growing"] == (frame["backlog_change"] > 0)).all()


def test_queue_table_and_chart(db):
    frame = db.query("agency_queues", **Q1)
    table = queues.queue_table(frame)
    assert table["Agency"].tolist() == ["Riverside Counselling", "Harbor House", "City Hospital",
                                        "Housing Authority", "Safe Haven"]
    first = table.iloc[0]
    assert first["Implied wait (days)"] == 90.5 and first["Backlog at end"] == 2 and first["Queue growing"]
    assert first["Arrivals / week"] == round(4 / (90.5 / 7), 1)
    assert list(table.columns) == list(queues.QUEUE_COLUMNS.values())

    # no agency has 5 waiting at the end, so all are candidates; the top 2 by implied wait
    fig = queues.queue_chart(frame, top=2)
    assert [t.name for t in fig.data] == ["Arrivals per week", "Decided per week", "Backlog change over the period"]
    arrivals, decided, marks = fig.data
    assert list(arrivals.y) == ["Riverside Counselling", "Harbor House"]
    assert list(arrivals.x) == pytest.approx([4 / (90.5 / 7), 4 / (90.5 / 7)])
    assert list(decided.x) == pytest.approx([2 / (90.5 / 7), 3 / (90.5 / 7)])
    assert list(marks.text) == ["▲ +2 backlog", "▲ +1 backlog"] and marks.showlegend is False
    assert [c[0] for c in marks.customdata] == [2, 1]
    # with min_backlog 2 only Riverside Counselling (2 waiting at the end) is a queue
    assert list(queues.queue_chart(frame, min_backlog=2).data[0].y) == ["Riverside Counselling"]
    assert queues.queue_table(frame.iloc[0:0]).empty


def test_queue_table_puts_agencies_without_decisions_last(extra):
    # 20 March 00:00 to as_of (31 March 12:00): 11.5 days. A1: R07 and X03 wait at the start, R13
    # arrives and is accepted: wait 2 / (1 / w) * 7 = 2 * 11.5 = 23 days. A2: X09 and X17 wait, R12
    # arrives and is declined: 23 days too (ties go by backlog, then id). A3 (R03 R09 X12), A4 (X15)
    # and A7 (X19) decide nothing: no wait can be implied, so they come last.
    frame = extra.query("agency_queues", start="2024-03-20", end="2024-03-31")
    assert frame["agency_id"].tolist() == ["A1", "A2", "A3", "A4", "A7"]
    rows = rows_by(frame, "agency_id")
    for agency in ("A1", "A2"):
        r = rows[agency]
        assert (r.backlog_start, r.arrivals, r.throughput, r.backlog_end) == (2, 1, 1, 2)
        assert r.implied_wait_days == pytest.approx(23.0)
    assert (rows["A3"].backlog_start, rows["A3"].throughput, rows["A3"].backlog_end) == (3, 0, 3)
    assert rows["A3"].throughput_per_week == 0 and pd.isna(rows["A3"].implied_wait_days)
    table = queues.queue_table(frame)
    assert table["Agency"].tolist() == ["Harbor House", "City Hospital", "Riverside Counselling",
                                        "Housing Authority", "<i>Clinic</i> & Partners"]
    assert table["Implied wait (days)"].isna().tolist() == [False, False, True, True, True]
    chart = queues.queue_chart(frame, min_backlog=0)
    assert not any("<" in y for y in chart.data[0].y)  # names escaped for plotly
    assert [c[1] for c in chart.data[2].customdata] == ["23.0 days", "23.0 days", "no decisions",
                                                        "no decisions", "no decisions"]


# --- 8. Ping-pong and lost referrals -----------------------------------------------------------------

def test_ping_pong_none_in_the_small_community(db):
    frame = db.query("ping_pong_clients")
    assert frame.empty
    assert {"client_id", "referrals", "agencies", "agency_names", "first_referred_at", "last_referred_at"} <= set(frame.columns)
    summary = queues.ping_pong_summary(frame)
    assert (summary.clients, summary.referrals, summary.agencies.empty) == (0, 0, True)


def test_ping_pong_clients(extra):
    frame = extra.query("ping_pong_clients")
    rows = rows_by(frame, "client_id")
    # P1: three referrals, the last exactly 30 days after the first, none started: flagged.
    # P2: a start (X05) between its referrals. P3: three referrals over 40 days. P4: the third
    # 30 days and 1 minute after the first. P5: X13 X14 X15 within 4 days, then the started X16;
    # X17 after the start is on its own.
    assert set(rows) == {client("P1"), client("P5")}
    p1 = rows[client("P1")]
    assert (p1.referrals, p1.agencies, p1.declined, p1.pending) == (3, 2, 2, 1)
    # the agencies as JSON arrays in text, aligned and ordered by name
    assert json.loads(p1.agency_ids) == ["A1", "A4"]
    assert json.loads(p1.agency_names) == ["Harbor House", "Housing Authority"]
    assert p1.first_referred_at == pd.Timestamp("2024-01-01 09:00")
    assert p1.last_referred_at == pd.Timestamp("2024-01-31 09:00") and p1.span_days == pytest.approx(30.0)
    p5 = rows[client("P5")]
    assert (p5.referrals, p5.agencies) == (3, 4)  # X13 A1->A2, X14 A2->A3, X15 A3->A4
    assert json.loads(p5.agency_ids) == ["A2", "A1", "A4", "A3"]  # City Hospital, Harbor House, ...
    assert p5.last_referred_at == pd.Timestamp("2024-03-05 09:00")
    assert frame["client_id"].tolist() == [client("P1"), client("P5")]  # 3 referrals each; P1 began first


def test_ping_pong_window_and_run_length(extra):
    def flagged(**params):
        return set(extra.query("ping_pong_clients", **params)["client_id"])

    # a window a little shorter than P1's 30 days drops it; a little longer takes in P4 (30 d 1 min)
    assert flagged(window_days=29.99) == {client("P5")}
    assert flagged(window_days=30.01) == {client("P1"), client("P4"), client("P5")}
    # P3's 40 days need a 40-day window
    assert client("P3") in flagged(window_days=40) and client("P3") not in flagged(window_days=39.9)
    # two referrals without a start: P3 (20 days apart) and P4 (14, 16) join; P2's start still
    # splits it into single referrals; nobody has four
    two = rows_by(extra.query("ping_pong_clients", min_referrals=2), "client_id")
    assert {k: r.referrals for k, r in two.items()} == {
        client("P1"): 3, client("P3"): 3, client("P4"): 3, client("P5"): 3}
    assert flagged(min_referrals=4) == set()


def test_ping_pong_filters(extra):
    def flagged(**params):
        return set(extra.query("ping_pong_clients", **params)["client_id"])

    # the period: without X01 P1 has two referrals left
    assert flagged(start="2024-01-02") == {client("P5")}
    # receiving region/sector/service of any flagged referral: P1 X02 -> A4 (South, government,
    # housing), X01 X03 -> A1 (North, shelter); P5 X13 -> A2 (North, medical), X14 -> A3 (South),
    # X15 -> A4 (South, government, housing)
    assert flagged(region="South") == {client("P1"), client("P5")}
    assert flagged(sector="government", service_type="housing") == {client("P1"), client("P5")}
    assert flagged(service_type="medical") == {client("P5")}
    assert flagged(service_type="shelter") == {client("P1")}
    assert flagged(sector="faith") == set()
    # a filter picks clients, not referrals: P1 keeps all three referrals
    assert extra.query("ping_pong_clients", region="South").set_index("client_id").loc[client("P1"), "referrals"] == 3


def test_ping_pong_summary(extra):
    summary = queues.ping_pong_summary(extra.query("ping_pong_clients"))
    assert (summary.clients, summary.referrals) == (2, 6)
    # P1 involves A1 A4; P5 A1 A2 A3 A4
    assert [(r.agency_id, r.clients) for r in summary.agencies.itertuples()] == [
        ("A1", 2), ("A4", 2), ("A2", 1), ("A3", 1)]
    assert summary.agencies["share_of_clients"].tolist() == [1.0, 1.0, 0.5, 0.5]
    assert len(queues.ping_pong_summary(extra.query("ping_pong_clients"), top=1).agencies) == 1


def test_ping_pong_table(extra):
    table = queues.ping_pong_table(extra.query("ping_pong_clients"))
    assert table["Agencies involved"].tolist() == [
        "Harbor House, Housing Authority",
        "City Hospital, Harbor House, Housing Authority, Riverside Counselling",
    ]
    assert table["Referrals"].tolist() == [3, 3] and table.columns[0] == "Client (pseudonym)"
    assert queues.ping_pong_table(extra.query("ping_pong_clients", min_referrals=9)).empty


def test_ping_pong_prints_through_the_cli(extra, capsys):
    from atlas.cli import main

    assert main(["query", "ping_pong_clients", "--db", str(extra.path), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [json.loads(r["agency_names"]) for r in printed] == [
        ["Harbor House", "Housing Authority"],
        ["City Hospital", "Harbor House", "Housing Authority", "Riverside Counselling"],
    ]


def test_lost_referrals(db):
    frame = db.query("lost_referrals")
    # unanswered at as_of: R03 81.17 days, R07 30.125 days, R09 21.125 days (not over 30)
    assert [(r.agency_id, r.lost, r.received) for r in frame.itertuples()] == [("A3", 1, 5), ("A1", 1, 4)]
    rows = rows_by(frame, "agency_id")
    assert rows["A3"].oldest_wait_days == pytest.approx(81 + 4 / 24)  # 01-10 08:00 to 03-31 12:00
    assert rows["A1"].oldest_wait_days == pytest.approx(30.125)
    assert rows["A3"].lost_share == pytest.approx(1 / 5)
    # strictly older than lost_days
    assert db.query("lost_referrals", lost_days=30.125)["agency_id"].tolist() == ["A3"]
    assert set(db.query("lost_referrals", lost_days=21)["agency_id"]) == {"A1", "A3"}
    assert rows_by(db.query("lost_referrals", lost_days=21), "agency_id")["A3"].lost == 2  # + R09
    assert db.query("lost_referrals", region="North")["agency_id"].tolist() == ["A1"]
    # judged at the data's as_of whatever the filter (South's own latest event is 14 March)
    assert db.query("lost_referrals", region="South").iloc[0].oldest_wait_days == pytest.approx(81 + 4 / 24)


def test_lost_referrals_judged_at_as_of(db):
    # on 14 January R02 (accepted on the 15th) was still unanswered: 8.58 days; R03 3.67 days
    early = db.query("lost_referrals", as_of="2024-01-14 00:00", lost_days=3)
    assert [(r.agency_id, r.lost, r.received) for r in early.itertuples()] == [("A3", 2, 3)]  # R11 R02 R03 by then
    assert early.iloc[0].oldest_wait_days == pytest.approx(8 + 14 / 24)
    # on 10 February R03 had waited 30.67 days; R02 and R04 were answered
    feb = db.query("lost_referrals", as_of="2024-02-10 00:00")
    assert [(r.agency_id, r.lost) for r in feb.itertuples()] == [("A3", 1)]
    assert feb.iloc[0].oldest_wait_days == pytest.approx(30 + 16 / 24)
