"""Who holds the case: the measures of docs/metrics.md on a small community built here with hand-checked
figures (a journey boundary exactly at the gap, a lead recorded then changed, a decline whose window is
still open, a friction pair just under the thresholds), an independent pandas recomputation on the demo
round-tripped through its contract files, and the page under AppTest and in Chromium."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TEST_KEY, each_section, write_files
from streamlit.testing.v1 import AppTest

from atlas.db import Atlas
from atlas.filters import Filters
from atlas.ingest import importer
from atlas.views import accountability

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
AS_OF = dt.datetime(2024, 3, 31)

AGENCIES = """agency_id,name,sector,region,is_victim_service
A1,North Police,justice,North,false
A2,North Child Protection,government,North,false
A3,Harbor Shelter,nonprofit,North,false
A4,South Clinic,health,South,false
A5,Safe Haven,nonprofit,South,true
"""
REFERRALS = """referral_id,client_id,from_agency_id,to_agency_id,service_type,referred_at,accepted_at,declined_at,decline_reason,lead_agency_id
R01,K1,A1,A2,case_management,2024-01-01 09:00:00,,2024-01-02 09:00:00,not_eligible,
R02,K1,A2,A1,other,2024-01-31 09:00:00,,,,
R03,K1,A1,A3,shelter,2024-03-01 09:00:01,2024-03-02 09:00:00,,,
R04,K2,A3,A4,medical,2024-02-01 09:00:00,2024-02-02 09:00:00,,,A3
R05,K2,A4,A2,case_management,2024-02-05 09:00:00,,2024-02-06 09:00:00,other,A2
R06,K3,A1,A2,case_management,2024-02-10 09:00:00,2024-02-12 09:00:00,,,
R07,K3,A1,A3,shelter,2024-02-11 09:00:00,2024-02-11 12:00:00,,,
R08,K4,A3,A5,shelter,2024-03-20 09:00:00,,2024-03-25 09:00:00,no_capacity,
R09,K5,A1,A4,medical,2024-01-10 09:00:00,,2024-01-11 09:00:00,not_eligible,
R10,K5,A2,A3,shelter,2024-01-20 09:00:00,2024-01-21 09:00:00,,,
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("accountability")
    files = write_files(root / "files", {"agencies.csv": AGENCIES, "referrals.csv": REFERRALS})
    importer.import_folder(files, root / "atlas.duckdb", TEST_KEY)
    return root / "atlas.duckdb"


def query(path: Path, name: str, **params) -> pd.DataFrame:
    with Atlas(path) as db:
        return db.query(name, as_of=AS_OF, **params)


def test_journeys_leads_and_unheld_journeys_as_checked_by_hand(small):
    row = query(small, "accountability_summary").iloc[0].to_dict()
    # K1: R01+R02 (exactly 30 days apart: one journey) and R03 (30 days and a second after R02: a new one);
    # K2 (lead recorded A3, then changed to A2); K3 (no lead recorded: A3 accepted first); K4; K5.
    assert {k: row[k] for k in ("journeys", "multi_agency", "with_lead", "lead_recorded", "multi_agency_with_lead",
                                "unheld")} == {"journeys": 6, "multi_agency": 4, "with_lead": 4, "lead_recorded": 1,
                                               "multi_agency_with_lead": 3, "unheld": 1}
    assert row["unheld_share"] == pytest.approx(0.25)
    assert query(small, "accountability_summary", journey_gap_days=29.99).iloc[0]["journeys"] == 7  # R02 splits off
    assert query(small, "accountability_summary", region="South").iloc[0]["journeys"] == 0  # by the first referrer
    south_start = query(small, "accountability_summary", start=dt.date(2024, 3, 1)).iloc[0]
    assert (south_start["journeys"], south_start["multi_agency"]) == (2, 0)  # K1's second journey, K4
    # a stalled referral needs stall_days: with 70, R02 (60 days old) is not stalled, but R01 was declined
    assert query(small, "accountability_summary", stall_days=70).iloc[0]["unheld"] == 1

    worklist = query(small, "unheld_journeys")
    assert len(worklist) == 1
    only = worklist.iloc[0]
    assert only["agencies"] == "North Child Protection; North Police"
    assert (only["last_status"], only["last_to_agency"], only["referrals"], only["receivers"]) == (
        "pending", "North Police", 2, 2)
    assert only["days_since"] == pytest.approx(59.625)  # from R02, 31 Jan 09:00, to 31 Mar 00:00
    assert only["client_id"] not in ("K1",) and len(only["client_id"]) == 32  # the pseudonym

    trend = query(small, "accountability_trend")
    assert trend[["journeys", "multi_agency", "multi_agency_with_lead", "unheld"]].values.tolist() == [
        [2, 2, 1, 1], [2, 2, 2, 0], [2, 0, 0, 0]]  # January (K1, K5), February (K2, K3), March


def test_dropped_handoffs_charge_the_referrer_and_leave_open_windows_out(small):
    frame = query(small, "dropped_handoffs").set_index("agency_id")
    assert frame[["declines", "open", "dropped", "picked_up"]].to_dict("index") == {
        "A1": {"declines": 2, "open": 0, "dropped": 1, "picked_up": 1},  # R01 dropped (29 days), R09 picked up (9)
        "A4": {"declines": 1, "open": 0, "dropped": 1, "picked_up": 0},  # R05: nobody referred K2 again
        "A3": {"declines": 1, "open": 1, "dropped": 0, "picked_up": 0},  # R08: 25 Mar + 14 days is after 31 Mar
    }
    assert frame.loc["A1", "dropped_share"] == 0.5 and frame.loc["A4", "dropped_share"] == 1.0
    assert pd.isna(frame.loc["A3", "dropped_share"])
    assert query(small, "dropped_handoffs", handoff_days=30).set_index("agency_id").loc["A1", "dropped"] == 0


def friction_community(tmp_path: Path, back: int) -> Path:
    """Justice and government decline each other; `back` decided referrals come back the other way."""
    agencies = AGENCIES
    rows = ["referral_id,client_id,from_agency_id,to_agency_id,service_type,referred_at,accepted_at,declined_at,"
            "decline_reason"]
    n = 0

    def add(frm, to, declined: bool):
        nonlocal n
        n += 1
        at = dt.datetime(2024, 1, 1) + dt.timedelta(hours=n)
        done = (at + dt.timedelta(hours=1)).isoformat(" ")
        rows.append(f"F{n:03d},C{n},{frm},{to},other,{at.isoformat(' ')},{'' if declined else done},"
                    f"{done if declined else ''},{'other' if declined else ''}")

    for i in range(30):  # justice -> government: 30 decided, 15 declined
        add("A1", "A2", i % 2 == 0)
    for i in range(back):  # government -> justice: `back` decided, half declined
        add("A2", "A1", i % 2 == 0)
    for _ in range(60):  # the rest of the network: accepted
        add("A3", "A4", False)
    files = write_files(tmp_path / f"files{back}", {"agencies.csv": agencies, "referrals.csv": "\n".join(rows) + "\n"})
    importer.import_folder(files, tmp_path / f"friction{back}.duckdb", TEST_KEY)
    return tmp_path / f"friction{back}.duckdb"


@pytest.mark.parametrize("back, mutual", [(30, True), (29, False)], ids=["at the threshold", "one short"])
def test_sector_friction_and_a_pair_just_under_the_threshold(tmp_path, back, mutual):
    frame = query(friction_community(tmp_path, back), "sector_friction").set_index(["from_sector", "to_sector"])
    there, overall = frame.loc[("justice", "government")], (15 + (back + 1) // 2) / (30 + back + 60)
    assert (there["decided"], there["declined"]) == (30, 15)
    assert there["decline_rate"] == pytest.approx(0.5)
    assert there["ratio"] == pytest.approx(0.5 / overall)
    assert bool(there["mutual"]) is mutual and bool(frame.loc[("government", "justice"), "mutual"]) is mutual
    assert not frame.loc[("nonprofit", "health"), "mutual"]
    assert frame.loc[("nonprofit", "health"), "ratio"] == 0


def test_the_page_reading_and_the_overview_figure(small):
    with Atlas(small) as db:
        view = accountability.build(db, Filters())
        headline = accountability.headline(db, Filters())
        hidden = accountability.headline(db, Filters(), min_cell=11)
    assert view.reading[1].startswith("**1 family was passed between agencies with no one taking them on**")
    assert "North Child Protection" in view.reading[1]
    assert len(view.unheld) == 1 and list(view.unheld.columns)[0] == "Client (pseudonym)"
    assert headline.sentence(None).startswith("Of **4** multi-agency client journeys, **1** (25.0%)")
    assert (hidden.multi_agency, hidden.unheld) == (None, None) and hidden.sentence(11) is None  # 4 is a small cell


# ---- an independent recomputation on the demo, from its contract files ---------------------------------

@pytest.fixture(scope="module")
def demo_round_trip(tmp_path_factory):
    from atlas.cli import main

    root = tmp_path_factory.mktemp("acc_demo")
    assert main(["demo", "--db", str(root / "built.duckdb"), "--csv", str(root / "csv"), "--referrals", "30000"]) == 0
    importer.import_folder(root / "csv", root / "atlas.duckdb", TEST_KEY)
    agencies = pd.read_csv(root / "csv" / "agencies.csv", dtype=str)
    referrals = pd.read_csv(root / "csv" / "referrals.csv", dtype=str)
    for column in ("referred_at", "accepted_at", "declined_at", "started_at", "completed_at"):
        referrals[column] = pd.to_datetime(referrals[column])
    return root / "atlas.duckdb", agencies, referrals


def pandas_journeys(referrals: pd.DataFrame, agencies: pd.DataFrame, as_of, gap=30, stall=14) -> pd.DataFrame:
    r = referrals.sort_values(["client_id", "referred_at", "referral_id"]).reset_index(drop=True)
    previous = r.groupby("client_id")["referred_at"].shift()
    r["journey"] = ((previous.isna()) | ((r["referred_at"] - previous).dt.total_seconds() / 86400 > gap)).cumsum()
    r["stalled"] = r["accepted_at"].isna() & r["declined_at"].isna() & \
        ((as_of - r["referred_at"]).dt.total_seconds() / 86400 > stall)
    rows = []
    for _, j in r.groupby("journey", sort=False):
        recorded = j["lead_agency_id"].dropna()
        accepted = j.dropna(subset=["accepted_at"])
        lead = recorded.iloc[-1] if len(recorded) else (
            accepted.sort_values(["accepted_at"], kind="stable")["to_agency_id"].iloc[0] if len(accepted) else None)
        multi = j["to_agency_id"].nunique() >= 2
        rows.append({"first": j["referred_at"].iloc[0], "from": j["from_agency_id"].iloc[0], "multi": multi,
                     "lead": lead, "recorded": len(recorded) > 0,
                     "unheld": multi and lead is None and (j["declined_at"].notna().any() or j["stalled"].any())})
    out = pd.DataFrame(rows)
    return out.assign(region=out["from"].map(agencies.set_index("agency_id")["region"]))


def test_the_three_measures_recomputed_independently_on_the_demo(demo_round_trip):
    database, agencies, referrals = demo_round_trip
    as_of = max(referrals[c].max() for c in ("referred_at", "accepted_at", "declined_at", "started_at", "completed_at"))
    start, end = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    in_period = lambda t: (t >= pd.Timestamp(start)) & (t < pd.Timestamp(end) + pd.Timedelta(days=1))

    journeys = pandas_journeys(referrals, agencies, as_of)
    mine = journeys[in_period(journeys["first"])]
    with Atlas(database) as db:
        summary = db.query("accountability_summary", start=start, end=end).iloc[0]
        dropped = db.query("dropped_handoffs", start=start, end=end).set_index("agency_id")
        friction = db.query("sector_friction", start=start, end=end).set_index(["from_sector", "to_sector"])
    assert (summary["journeys"], summary["multi_agency"], summary["with_lead"], summary["lead_recorded"],
            summary["unheld"]) == (len(mine), mine["multi"].sum(), mine["lead"].notna().sum(), mine["recorded"].sum(),
                                   mine["unheld"].sum())
    assert summary["unheld"] > 0 and summary["lead_recorded"] > 0

    # dropped hand-offs, by brute force over each decline
    declines = referrals[referrals["declined_at"].notna() & in_period(referrals["referred_at"])]
    by_client = {c: g["referred_at"].to_numpy() for c, g in referrals.groupby("client_id")}
    window = pd.Timedelta(days=14)
    judged = []
    for r in declines.itertuples():
        if r.declined_at + window > as_of:
            judged.append((r.from_agency_id, "open"))
            continue
        times = by_client[r.client_id]
        later = (times > np.datetime64(r.declined_at)) & (times <= np.datetime64(r.declined_at + window))
        judged.append((r.from_agency_id, "picked_up" if later.any() else "dropped"))
    counts = pd.DataFrame(judged, columns=["agency", "kind"]).value_counts().unstack(fill_value=0)
    for column in ("open", "dropped", "picked_up"):
        assert dropped[column].to_dict() == counts.get(column, pd.Series(0, index=counts.index)).to_dict()

    # sector friction
    sector = agencies.set_index("agency_id")["sector"]
    decided = referrals[(referrals["accepted_at"].notna() | referrals["declined_at"].notna())
                        & in_period(referrals["referred_at"])]
    pairs = decided.assign(f=decided["from_agency_id"].map(sector), t=decided["to_agency_id"].map(sector),
                           d=decided["declined_at"].notna()).groupby(["f", "t"])["d"].agg(["count", "sum"])
    overall = decided["declined_at"].notna().mean()
    assert friction["decided"].to_dict() == pairs["count"].to_dict()
    assert friction["declined"].to_dict() == pairs["sum"].to_dict()
    ratio = (pairs["sum"] / pairs["count"] / overall)
    assert np.allclose(friction["ratio"].sort_index().to_numpy(), ratio.sort_index().to_numpy())
    qualifies = (pairs["count"] >= 30) & (ratio >= 1.5)
    mutual = {(f, t) for f, t in qualifies[qualifies].index if qualifies.get((t, f), False)}
    assert {k for k, v in friction["mutual"].items() if v} == mutual == {("justice", "government"),
                                                                          ("government", "justice")}


def test_the_planted_stories_are_what_a_director_finds(demo_round_trip):
    from atlas import demo

    database, _, _ = demo_round_trip
    planted = demo.planted()
    with Atlas(database) as db:
        view = accountability.build(db, Filters())  # three years: the planted referrer has its 20 declines
    assert view.referrers.iloc[0]["Referring agency"] == planted["names"][planted["dropping_referrer_agency_id"]]
    assert tuple(sorted(planted["friction_sectors"])) in view.mutual_pairs
    assert any("Police" in a or "Child" in a or "Children" in a for a in view.unheld["Agencies involved"].head(20))
    assert any(line.startswith("**Government and Justice turn each other down**") for line in view.reading)


# ---- the page ---------------------------------------------------------------------------------------------

def test_the_page_for_directors_and_not_for_the_board(demo_db, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(demo_db))
    at = AppTest.from_file(DASHBOARD, default_timeout=120)
    at.switch_page("pages/accountability.py")
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Who holds the case"]
    assert [m.label for m in at.metric] == ["Client journeys", "Multi-agency journeys",
                                            "With an agency holding the case", "Passed around, no one took them on"]
    assert any("passed between agencies" in m.value for m in at.markdown)
    # the top (reading, figures, the lead chart) and the open section only: the others are drawn when opened
    assert [t.label for t in at.tabs] == accountability.SECTIONS
    drawn = {}
    for name in each_section(at, "accountability_section", accountability.SECTIONS):
        drawn[name] = (len(at.get("plotly_chart")), len(at.get("download_button")), [s.value for s in at.subheader])
    assert drawn["Families no one took on"][:2] == (1, 1)  # the lead chart; the work list's download
    assert drawn["Dropped hand-offs"][:2] == (2, 0) and drawn["Sectors that turn each other down"][:2] == (2, 0)
    assert drawn["Families no one took on"][2][-1].startswith("Families no one took on (")
    assert drawn["Dropped hand-offs"][2][-1] == "Dropped hand-offs"
    assert drawn["Sectors that turn each other down"][2][-1] == "Sectors that turn each other down"

    monkeypatch.setenv("ATLAS_LOCAL_ROLE", "board")
    board = AppTest.from_file(DASHBOARD, default_timeout=120)
    board.switch_page("pages/accountability.py")
    board.run()
    assert [e.value for e in board.error] == ["This page is not part of your view of Collaboration Atlas."]
    assert not board.dataframe and not board.metric and not board.get("download_button")


def test_a_director_reads_the_page_in_chromium(browser, demo_db, tmp_path):
    from browser import served, wait_drawn
    from playwright.sync_api import expect

    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    with served(demo_db, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 3800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/accountability")
        page.get_by_role("heading", name="Who holds the case").first.wait_for(timeout=90_000)
        expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=60_000)  # the lead chart; sections below
        wait_drawn(page)
        with page.expect_download() as download:  # the work list is the section that opens first
            page.get_by_role("button", name="Download the list (CSV)").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.startswith("Client (pseudonym),First referral")
        page.get_by_role("tab", name="Sectors that turn each other down").click()  # a section drawn when opened
        expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=60_000)
        wait_drawn(page)
        expect(page.locator(".js-plotly-plot .heatmaplayer").first).to_be_visible()
        page.screenshot(path=str(shots / "accountability.png"), full_page=True)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not errors, errors
        page.close()
