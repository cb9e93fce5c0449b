"""The Bottlenecks page's own queries and pure functions, on the small community (numbers by hand).

Days to accept in the small community: R01 1, R02 10, R05 0.25, R06 2, R08 0.5, R10 2, R11 4,
R13 0.25. Days to start: R01 3, R02 15, R05 1, R11 9, R13 1. As of 2024-03-31 12:00 three
referrals are pending: R03 (81.17 days), R07 (30.125) and R09 (21.125).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from atlas import exports
from atlas.db import Atlas
from atlas.filters import Filters
from atlas.views import bottlenecks

Q1 = Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31))


@pytest.fixture(scope="module")
def db(small_db):
    with Atlas(small_db) as atlas:
        yield atlas


def bins(frame: pd.DataFrame, stage: str) -> dict[str, int]:
    part = frame[frame["stage"] == stage]
    return dict(zip(part["label"], part["referrals"]))


def test_stage_durations_bins_and_quartiles(db):
    waits = db.query("stage_durations")
    assert bins(waits, "days_to_accept") == {"< 1 day": 3, "1–2 days": 1, "2–3 days": 2, "3–5 days": 1,
                                                 "1–2 weeks": 1}
    accept = waits[waits["stage"] == "days_to_accept"].iloc[0]
    assert accept["stage_total"] == 8
    assert accept["median"] == pytest.approx(1.5)  # (1 + 2) / 2
    assert accept["q1"] == pytest.approx(0.4375)  # 0.25 + 0.75 * (0.5 - 0.25)
    assert bins(waits, "days_to_start") == {"1–2 days": 2, "3–5 days": 1, "1–2 weeks": 1, "2–4 weeks": 1}
    assert waits.loc[waits["stage"] == "days_to_start", "median"].iloc[0] == pytest.approx(3.0)
    shares = waits[waits["stage"] == "days_to_accept"]["share"]
    assert shares.sum() == pytest.approx(1.0)

    a3 = db.query("stage_durations", agency_id="A3")
    assert bins(a3, "days_to_accept") == {"3–5 days": 1, "1–2 weeks": 1}  # R11 4 days, R02 10 days
    assert a3["median"].iloc[0] == pytest.approx(7.0)


def test_stalled_referrals_work_list(db):
    stalled = db.query("stalled_referrals")
    assert stalled["referral_id"].tolist() == ["R03", "R07", "R09"]
    assert stalled["days_waiting"].tolist() == pytest.approx([81 + 4 / 24, 30.125, 21.125])
    assert stalled["to_agency"].tolist() == ["Riverside Counselling", "Harbor House", "Riverside Counselling"]
    assert stalled["client_id"].str.fullmatch(r"[0-9a-f]{32}").all()  # pseudonyms, never the raw ids
    assert db.query("stalled_referrals", agency_id="A3")["referral_id"].tolist() == ["R03", "R09"]
    assert db.query("stalled_referrals", stall_days=30.125)["referral_id"].tolist() == ["R03"]


def test_referral_trend_for_one_agency(db):
    trend = db.query("referral_trend", start="2024-01-01", end="2024-03-31", agency_id="A3")
    assert trend["referred"].tolist() == [2, 1, 1]  # R02 R03 | R04 | R09
    assert trend["median_days_to_start"].iloc[0] == pytest.approx(15.0)


@pytest.mark.parametrize("preset, last, before", [
    ("Last 12 months", "2025-12-31", ("2024-01-01", "2024-12-31")),  # 2024 whole: 366 days, leap day included
    ("Last 6 months", "2025-12-31", ("2025-01-01", "2025-06-30")),  # Jan-Jun, not from 29 December
    ("Last 3 months", "2025-11-15", ("2025-05-16", "2025-08-15")),  # counted back from a mid-month end
])
def test_a_period_of_whole_months_is_compared_with_as_many_months_before(preset, last, before):
    from atlas.filters import period_bounds

    start, end = period_bounds(preset, dt.date(2020, 1, 1), dt.date.fromisoformat(last))
    previous = Filters(start, end, region="North").previous()
    assert (previous.start.isoformat(), previous.end.isoformat()) == before and previous.region == "North"
    odd = Filters(dt.date(2024, 1, 5), dt.date(2024, 1, 20)).previous()  # not whole months: as many days
    assert (odd.start, odd.end) == (dt.date(2023, 12, 20), dt.date(2024, 1, 4))


def test_a_quarter_s_month_charts_are_labelled_by_month(db):
    """Plotly labels a three-month axis by days ("Jan 1 2024, Jan 29, Feb 26") unless told otherwise."""
    from atlas.views import charts

    trend = db.query("referral_trend", start="2024-01-01", end="2024-03-31")
    for figure in (charts.referral_trend(trend), bottlenecks.build(db, Q1).trend_chart):
        axis = figure.layout.xaxis
        assert (axis.dtick, axis.tickformat) == ("M1", "%b %Y")
    long = pd.DataFrame({"month": pd.date_range("2022-01-01", periods=36, freq="MS"),
                         "accepted": 1, "declined": 1, "pending": 1})
    assert charts.referral_trend(long).layout.xaxis.dtick == "M3"  # about twelve labels, not 36


def test_funnel_table_converts_between_stages(db):
    view = bottlenecks.build(db, Q1)
    funnel = view.funnel.set_index("stage")
    assert funnel["referrals"].tolist() == [12, 7, 4, 2, 2, 3]
    assert funnel.loc["accepted", "conversion"] == pytest.approx(7 / 12)
    assert funnel.loc["started", "conversion"] == pytest.approx(4 / 7)
    assert funnel.loc["completed", "conversion"] == pytest.approx(2 / 4)
    # the previous period (2023-10-01 to 2023-12-31: the three whole months before) had no referrals
    assert funnel["previous"].tolist() == [0, 0, 0, 0, 0, 0]
    assert [t.name for t in view.funnel_chart.data] == ["Previous period", "This period"]
    assert list(view.funnel_chart.data[1].x) == [12, 7, 4, 2]


def test_reading_names_the_worst_agency_against_the_network_median(db):
    agencies = bottlenecks.flag_agencies(db.query("agency_bottlenecks"), min_received=20)
    network = db.query("network_summary").iloc[0]
    assert network["median_days_to_accept"] == pytest.approx(1.5)
    lines = bottlenecks.reading(agencies, network, min_received=20)
    assert lines == [
        "**Riverside Counselling** takes 7.0 days to accept, 5× the network median (1.5 days); "
        "2 referrals are stalled there.",
        "3 referrals are stalled across 2 agencies.",
    ]
    everyone = bottlenecks.reading(bottlenecks.flag_agencies(db.query("agency_bottlenecks"), 1), network, 1)
    assert "**City Hospital** accepts only 50.0% of the referrals it decides on (network: 80.0%)." in everyone


def test_flags_slow_or_stalling_agencies_not_big_ones(db):
    agencies = bottlenecks.flag_agencies(db.query("agency_bottlenecks"), min_received=1)
    # median of agency medians is 2.0 days; only A3 (7.0) reaches twice that; no one has 5 stalled
    assert agencies.loc[agencies["flagged"], "agency_id"].tolist() == ["A3"]
    busy = pd.DataFrame({"agency_id": ["big", "small"], "name": ["Big", "Small"], "received": [1000, 50],
                         "stalled": [40, 10], "median_days_to_accept": [1.0, 1.0]})
    flagged = bottlenecks.flag_agencies(busy, min_received=20)
    assert flagged["flagged"].tolist() == [False, True]  # 4% of the big one's is volume; 20% is a problem
    # the table says why, in words, after the agency's name (no colour alone), and writes rates as percentages
    three = pd.DataFrame({"agency_id": ["big", "small", "other"], "name": ["Big", "Small", "Other"],
                          "received": [1000, 50, 100], "median_days_to_accept": [1.0, 9.0, 1.0],
                          "acceptance_rate": [0.5, 0.25, 1.0]})  # the typical median is 1 day
    for stalled, reasons in (([40, 0, 0], ["", "Slow to accept", ""]), ([40, 10, 0], ["", "Stalls; slow to accept", ""])):
        frame = bottlenecks.flag_agencies(three.assign(stalled=stalled), min_received=20)
        table = bottlenecks.agency_table(frame.assign(**{c: 0 for c in bottlenecks.AGENCY_COLUMNS if c not in frame}))
        assert list(table.columns[:2]) == ["Agency", bottlenecks.FLAG_COLUMN]
        assert table[bottlenecks.FLAG_COLUMN].tolist() == reasons
    assert bottlenecks.flag_reasons(flagged).tolist() == ["", "Stalls"]
    assert table["Acceptance rate"].tolist() == [50.0, 25.0, 100.0]


def test_reading_escapes_names():
    agencies = pd.DataFrame({"agency_id": ["x"], "name": ["*[Click](javascript:alert(1))* <b>"], "received": [5],
                             "accepted": [1], "declined": [0], "stalled": [3], "acceptance_rate": [1.0],
                             "median_days_to_accept": [9.0]})
    line = bottlenecks.reading(agencies, pd.Series({"median_days_to_accept": 1.0, "acceptance_rate": 0.9}))[0]
    assert "](javascript" not in line and "<b>" not in line
    assert r"\*\[Click\]\(javascript\:alert\(1\)\)\* \<b\>" in line


def test_the_bounced_clients_download_holds_every_one(demo_db):
    """The page lists the first of them (app.work_list); the CSV, built when downloaded, has them all."""
    with Atlas(demo_db) as db:
        view = bottlenecks.build(db, Filters())
        bounced = pd.read_csv(io.BytesIO(view.ping_pong_clients_csv()), encoding="utf-8-sig")
    assert bounced.columns.tolist() == view.ping_pong_clients.columns.tolist()
    assert len(bounced) == len(view.ping_pong_clients) == view.ping_pong.clients > 0


def test_stalled_download_is_formula_safe(db):
    view = bottlenecks.build(db, Filters())
    table = pd.read_csv(io.BytesIO(view.stalled_csv()), encoding="utf-8-sig")  # built on download
    assert table.columns.tolist() == list(bottlenecks.STALLED_COLUMNS.values())
    assert table["Referral"].tolist() == ["R03", "R07", "R09"]
    hostile = pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "plain"],
                            "number": [-1, 2, 3, 4, 5, 6]})
    csv = exports.safe_csv(hostile).decode("utf-8-sig")
    rows = pd.read_csv(io.StringIO(csv), keep_default_na=False)
    assert rows["text"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain"]
    assert rows["number"].tolist() == [-1, 2, 3, 4, 5, 6]


def test_focus_defaults_to_the_worst_agency_and_can_be_chosen(db):
    assert bottlenecks.build(db, Filters()).focus == "A3"
    view = bottlenecks.build(db, Filters(), focus="A1")
    assert (view.focus, view.focus_name) == ("A1", "Harbor House")
    assert bottlenecks.build(db, Filters(), focus="not-an-agency").focus == "A3"
    names = {t.name for t in view.trend_chart.data}
    assert "Median days to accept (Harbor House)" in names


def test_the_planted_winter_surge_shows_in_the_trend(demo_db):
    from atlas.demo import PLANTED

    with Atlas(demo_db) as demo:
        view = bottlenecks.build(demo, Filters(service_type="shelter"),
                                 focus=PLANTED["winter_surge_agency_id"]).everything()
    bars = next(t for t in view.trend_chart.data if t.name == "Referrals")
    months = pd.Series(list(bars.y), index=pd.to_datetime(list(bars.x)).month)
    assert months[months.index.isin([12, 1, 2])].mean() > 1.4 * months[months.index.isin([6, 7, 8])].mean()
