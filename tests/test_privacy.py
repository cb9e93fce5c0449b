"""Privacy: what board and funder views may never show.

On a community built to tempt the rules (a year of referrals whose months, flows and programs sit on
both sides of the threshold, a victim-service agency, agencies with one small flow), for every
reporting period a board member or funder can choose:

- no count of 1 to min_cell-1 appears in a view or an export, nor is one the difference between a
  published total and the shown parts that make it up;
- the choices offered are whole calendar periods that never overlap, and the period compared
  against is itself one of them, so no two choices can be subtracted;
- no victim-service agency is named;
- no record-level row (client pseudonym, referral id) reaches the page.

Client ids are keyed pseudonyms, not plain hashes, and the raw value is nowhere in the database file.
Everything runs on a real DuckDB file imported by the real importer; the page checks run the real
pages in AppTest and in Chromium.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import random
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, each_section, write_files
from streamlit.testing.v1 import AppTest

from atlas.db import Atlas
from atlas.filters import Filters, reporting_periods
from atlas.ingest import importer
from atlas.packs import funder as report
from atlas.views import network, outcomes, overview, suppression

M = 11
DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
VICTIM_NAME = "Safe Haven"
# referrals per month of 2025: some months small, so the monthly trend must protect them
MONTHS = [30, 3, 25, 12, 14, 2, 40, 11, 9, 20, 1, 15]
# (from, to, weight): heavy flows, middling ones, and flows of a handful (A5->A4, A2->A4)
PAIRS = [("A1", "A3", 8), ("A2", "A1", 5), ("A4", "A1", 4), ("A1", "A2", 3), ("A3", "A4", 2),
         ("A5", "A4", 0.4), ("A2", "A4", 0.3), ("A3", "A6", 1.5)]


def client(i: int) -> str:
    """A raw client id as an agency's system might hold it: long enough that finding it means it is stored."""
    return f"CASE-2025-{i:05d}-NORTHSIDE"


def tempting_files() -> dict[str, str]:
    rng = random.Random(7)
    pairs, weights = [p[:2] for p in PAIRS], [p[2] for p in PAIRS]
    rows = [SMALL_COMMUNITY["referrals.csv"].rstrip("\n")]
    n = 0
    for month, count in enumerate(MONTHS, start=1):
        for i in range(count):
            n += 1
            a, b = rng.choices(pairs, weights)[0]
            made = dt.datetime(2025, month, 1 + i % 27, 9)
            fate = rng.random()
            accepted = (made + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M") if fate < 0.7 else ""
            declined = (made + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M") if 0.7 <= fate < 0.85 else ""
            service = {"A3": "mental_health", "A1": "shelter", "A4": "housing", "A2": "medical", "A6": "shelter"}[b]
            rows.append(f"T{n:04d},{client(n % 97)},{a},{b},{service},{made:%Y-%m-%d %H:%M},,{accepted},{declined},"
                        f"{'no_capacity' if declined else ''},,")
    outcomes_rows = [SMALL_COMMUNITY["outcomes.csv"].rstrip("\n")]
    # 2025 exits: P3 a shown program each quarter (14 exits, 7 positive), P1 a small one (4 exits), and
    # the victim-service program P5 (12 exits)
    for q in range(4):
        for i in range(14):
            outcome = "housed_permanent" if i < 7 else "exited_no_outcome"
            outcomes_rows.append(f"X3{q}{i:02d},A4,P3,{outcome},2025-{3 * q + 1:02d}-{i + 1:02d}")
        for i in range(4):
            outcomes_rows.append(f"X1{q}{i:02d},A1,P1,housed_permanent,2025-{3 * q + 2:02d}-{i + 1:02d}")
        for i in range(12):
            outcomes_rows.append(f"X5{q}{i:02d},A6,P5,housed_temporary,2025-{3 * q + 3:02d}-{i + 1:02d}")
    return {**SMALL_COMMUNITY, "referrals.csv": "\n".join(rows) + "\n",
            "outcomes.csv": "\n".join(outcomes_rows) + "\n"}


@pytest.fixture(scope="module")
def tempting_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tempting")
    path = root / "atlas.duckdb"
    importer.import_folder(write_files(root / "files", tempting_files()), path, TEST_KEY)
    return path


@pytest.fixture(scope="module")
def periods(tempting_db) -> list[Filters]:
    with Atlas(tempting_db) as db:
        extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    offered = [Filters(start, end, aligned=length) for length in ("quarter", "year")
               for _, start, end in reporting_periods(first, last, length)]
    assert any(f.start == dt.date(2025, 4, 1) for f in offered)
    return offered


def small(n) -> bool:
    return n is not None and not pd.isna(n) and 1 <= float(n) < M


# --------------------------------------------------------------------------------------------
# The filter space: whole periods that never overlap
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", ["quarter", "year"])
def test_reporting_periods_are_whole_disjoint_and_compared_with_one_another(length):
    periods = reporting_periods(dt.date(2022, 2, 14), dt.date(2025, 11, 3), length)
    spans = sorted((start, end) for _, start, end in periods)
    for (_, e1), (s2, _) in itertools.pairwise(spans):
        assert e1 + dt.timedelta(days=1) == s2, "consecutive, never overlapping"
    assert spans[-1][1] <= dt.date(2025, 11, 3), "only periods that have ended"
    offered = set(spans)
    for start, end in spans[1:]:
        before = Filters(start, end, aligned=length).previous()
        assert (before.start, before.end) in offered, "the period compared against is itself a choice"


def test_board_and_funder_get_no_filter_but_the_reporting_period(tempting_db, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(tempting_db))
    for role in ("board", "funder"):
        monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
        at = AppTest.from_file(DASHBOARD, default_timeout=120)
        at.run()
        assert not at.exception
        assert [s.key for s in at.sidebar.selectbox] == ["filter_reporting_period"]
        assert not at.sidebar.date_input
        labels = at.sidebar.selectbox(key="filter_reporting_period").options
        quarters = [x for x in labels if re.fullmatch(r"\d{4} Q[1-4]", x)]
        assert labels[0] == "2025 Q3" and labels == quarters + [x for x in labels if re.fullmatch(r"\d{4}", x)]
            # (2025 Q4 has not ended when the data does, on 15 December)
        # the filter state of a director view (or a crafted one) is not honoured
        at = AppTest.from_file(DASHBOARD, default_timeout=120)
        at.session_state["atlas_filters"] = Filters(dt.date(2025, 1, 1), dt.date(2025, 2, 14), region="North")
        at.switch_page("pages/overview.py")
        at.run()
        assert "2025 Q3" in at.caption[0].value


# --------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------

def test_overview_shows_no_small_count_and_no_total_gives_one_away(tempting_db, periods):
    withheld = 0
    with Atlas(tempting_db) as db:
        for filters in periods:
            view = overview.build(db, filters, min_cell=M)
            shown = {f.key: f for f in view.figures}
            for key in ("referrals", "stalled"):
                for value in (shown[key].value, shown[key].previous):
                    assert not small(value), (filters, key, value)
            cells = view.trend[list(overview.STATUSES)]
            assert not any(small(v) for v in cells.to_numpy().ravel() if v is not pd.NA), filters
            assert not any(small(v) for v in view.trend["referred"] if v is not pd.NA)
            raw = db.query("referral_trend", **filters.params_for("referral_trend"))
            if shown["referrals"].value is not None and len(raw):
                concealed = raw["referred"].sum() - cells.fillna(0).to_numpy().sum()
                assert not small(concealed), (filters, concealed)
            # the audit: no hidden month x status count can be pinned below the threshold
            values = raw[list(overview.STATUSES)].to_numpy(dtype=float).ravel()
            hidden = cells.isna().to_numpy().ravel()
            if hidden.any():
                # what the page publishes: each month's total (unless withheld); the accepted and declined
                # totals, taken as published whenever the acceptance rate is shown; the grand total with
                # the referral count. (The pending total follows from those: the linear program sees it.)
                lines = suppression.table_lines((len(raw), 3))
                months_shown = view.trend["referred"].notna().to_numpy()
                rate_shown = shown["acceptance_rate"].value is not None
                lines_hidden = np.array([not m for m in months_shown] + [not rate_shown] * 2 + [True]
                                        + [shown["referrals"].value is None])
                _, hi, _, _ = suppression.ranges(values, hidden, lines, lines_hidden=lines_hidden)
                for i in np.flatnonzero(hidden & (values > 0)):
                    assert hi.ravel()[i] >= M, (filters, i, values[i], hi.ravel()[i])
            withheld += view.hidden
    assert withheld > 0, "the community was built to need protection"


def test_overview_exit_rate_agrees_with_the_outcomes_page(tempting_db, periods):
    """Both count shown programs only, so neither can be set against the other to reveal one."""
    with Atlas(tempting_db) as db:
        for filters in periods:
            rate = {f.key: f for f in overview.build(db, filters, min_cell=M).figures}["positive_exit_rate"].value
            page = outcomes.build(db, filters, min_cell=M)
            expected = None if page.empty or pd.isna(page.network["rate"]) else float(page.network["rate"])
            assert rate == expected, filters


# --------------------------------------------------------------------------------------------
# Network map
# --------------------------------------------------------------------------------------------

NUMBER = re.compile(r"(\d[\d,]*) referrals")


def test_the_board_map_shows_no_small_flow_anywhere(tempting_db, periods):
    hidden_somewhere = False
    with Atlas(tempting_db) as db:
        for filters in periods:
            raw = db.query("network_edges", **filters.params_for("network_edges"))
            hidden_somewhere |= bool(raw["referrals"].between(1, M - 1).any())
            for focus in (None, "A4", "A5"):
                view = network.build(db, filters, network.MapChoice(min_referrals=1, focus=focus), min_cell=M)
                assert (view.flows["referrals"] >= M).all()
                assert "accepted" not in view.flows
                for column in ("in_strength", "out_strength"):
                    assert not view.agencies[column].map(small).any()
                counts = [int(n.replace(",", "")) for n in NUMBER.findall(view.html)]
                assert all(n >= M for n in counts), (filters, counts)
                assert "accepted)" not in view.html
                for table in (view.informal_flows, view.one_way):
                    assert not table["Referrals"].map(small).any()
                    assert "Accepted" not in table
                if not view.focus_partners.empty:
                    for column in ("Referrals sent to them", "Referrals from them"):
                        for value in view.focus_partners[column]:
                            assert value == "0" or value == network.HIDDEN or int(value) >= M, value
                assert view.hidden_referrals is None
                # the period's published referral total (the Overview's) less the shown flows is 0 or at least M
                total = {f.key: f for f in overview.build(db, filters, min_cell=M).figures}["referrals"].value
                if total is not None:
                    assert not small(total - int(view.flows["referrals"].sum())), filters
                assert VICTIM_NAME not in view.html and VICTIM_NAME not in view.scores.to_string()
                for export in (network.gexf(view), network.graphml(view), network.scores_csv(view)):
                    text = export.decode()
                    assert VICTIM_NAME not in text and "accepted" not in text
                graph = nx.read_graphml(io.BytesIO(network.graphml(view)))
                assert all(w >= M for _, _, w in graph.edges(data="weight"))
                for key in ("referrals_in", "referrals_out"):
                    assert not any(small(v) for _, v in graph.nodes(data=key))
    assert hidden_somewhere, "the community was built with small flows"


def test_the_board_pack_shows_no_small_flow_and_no_victim_service(tempting_db, periods):
    """The board pack (HTML, and the text its pictures print) under the same rules as the board's map: every
    referral count it gives is 0 or at least M, ratings never come with a tie's referral count, and the
    victim-service agency is neither named nor drawn."""
    from atlas.packs import board

    with Atlas(tempting_db) as db:
        for filters in periods:
            pack = board.build(db, filters, min_cell=M)
            text = board.html(pack, images={})
            assert VICTIM_NAME not in text
            assert not [n for n in NUMBER.findall(text) if small(int(n.replace(",", "")))], filters
            for figure in board.pictures(pack).values():
                printed = " ".join(board.printed_text(figure))
                assert VICTIM_NAME not in printed
                assert not [n for n in NUMBER.findall(printed) if small(int(n.replace(",", "")))], (filters, printed)
            regions = pack.summary.table.drop(columns=["Region", "Agencies"])
            cells = [str(v) for v in regions.to_numpy().ravel()]
            assert all(v == network.HIDDEN or re.fullmatch(r"[\d,]+", v) for v in cells), cells
            assert not [v for v in cells if v != network.HIDDEN and small(int(v.replace(",", "")))], filters
            assert not pack.bridges["Referrals"].map(small).any()
            assert "Referrals (both ways)" not in pack.quality.strained
            assert "Referrals" in pack.network.informal_flows and not pack.network.informal_flows["Referrals"].map(
                small).any()
            # the pack's referral total, like the map's, leaves out 0 or at least M of the published total
            total = {f.key: f for f in overview.build(db, filters, min_cell=M).figures}["referrals"].value
            if total is not None:
                assert not small(total - pack.network.summary["referrals"]), filters


def test_the_complement_leaves_out_one_more_flow_when_only_a_small_remainder_would_be_hidden():
    flows = pd.DataFrame({"from_agency_id": ["A", "B", "C"], "to_agency_id": ["B", "C", "A"],
                          "referrals": [40, 20, 12]})
    assert network.complement_flows(flows, 72, M)["referrals"].tolist() == [40, 20, 12]  # nothing hidden
    assert network.complement_flows(flows, 75, M)["referrals"].tolist() == [40, 20]  # 3 hidden: add 12
    assert network.complement_flows(flows, 90, M)["referrals"].tolist() == [40, 20, 12]  # 18 hidden: enough


# --------------------------------------------------------------------------------------------
# Outcomes (the funder's page and pack)
# --------------------------------------------------------------------------------------------

def test_funder_outcomes_and_pack_show_no_small_count_and_no_victim_service(tempting_db, periods):
    with Atlas(tempting_db) as db:
        for filters in periods:
            view = outcomes.build(db, filters, min_cell=M)
            if view.empty:
                continue
            for table in outcomes.aggregate_tables(view).values():
                for column in table.columns:
                    if re.search(r"exits|positive|count|clients|referrals", str(column), re.I):
                        assert not table[column].map(lambda v: isinstance(v, (int, float, np.integer))
                                                     and small(v)).any(), (filters, column)
            long = outcomes.long_table(view)
            assert VICTIM_NAME not in long.to_string()
            assert VICTIM_NAME not in report.csv(view).decode()
            assert VICTIM_NAME not in report.html(view, images={})
            if filters.aligned == "quarter" and filters.start.year == 2025:  # 4 exits a quarter: hidden
                assert "P1" not in set(view.programs.loc[~view.programs["suppressed"], "program_id"].astype(str))


# --------------------------------------------------------------------------------------------
# Pages, as a board member and a funder see them
# --------------------------------------------------------------------------------------------

SECTIONS = {"pages/network.py": ("network_section", network.SECTIONS),
            "pages/outcomes.py": ("outcomes_section", outcomes.SECTIONS)}
OPENED = {"pages/network.py": ("map_informal_open", "map_dormant_open", "map_one_way_open")}  # lists in a section


@pytest.mark.parametrize("role, pages", [("board", ["pages/overview.py", "pages/network.py"]),
                                         ("funder", ["pages/overview.py", "pages/outcomes.py"])])
def test_restricted_pages_hold_no_record_level_row_or_victim_name(tempting_db, monkeypatch, role, pages):
    monkeypatch.setenv("ATLAS_DB", str(tempting_db))
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
    with Atlas(tempting_db) as db:
        pseudonyms = set(db.query("stalled_referrals", stall_days=0)["client_id"].astype(str))
    assert pseudonyms
    for page in pages:
        for period in ("2025 Q3", "2025 Q2", "2025 Q1"):
            at = AppTest.from_file(DASHBOARD, default_timeout=120)
            at.session_state["filter_reporting_period"] = period
            for key in OPENED.get(page, ()):
                at.session_state[key] = True
            at.switch_page(page)
            at.run()
            assert not at.exception, at.exception
            sections = SECTIONS.get(page)
            seen = []  # every section of the page (each drawn only when opened)
            for _ in each_section(at, *sections) if sections else [None]:
                text = " ".join(str(e.value) for kind in ("markdown", "caption", "metric", "title", "subheader",
                                                          "info") for e in getattr(at, kind) if hasattr(e, "value"))
                seen.append(text + " ".join(df.value.to_string() for df in at.dataframe))
            everything = " ".join(seen)
            assert VICTIM_NAME not in everything
            assert not re.search(r"\bT\d{4}\b|\bR\d{2}\b", everything), "no referral id"
            assert not any(p in everything for p in pseudonyms), "no client pseudonym"
            for metric in at.metric:
                if metric.label in ("Referrals", "Stalled referrals", "Exits"):
                    assert metric.value == "hidden" or int(metric.value.replace(",", "")) == 0 \
                        or int(metric.value.replace(",", "")) >= M, (page, period, metric.label, metric.value)
            assert not at.get("download_button") or page != "pages/overview.py"
    for page in ("pages/bottlenecks.py", "pages/need_capacity.py", "pages/accountability.py", "pages/data.py"):
        at = AppTest.from_file(DASHBOARD, default_timeout=120)
        at.switch_page(page)
        at.run()
        assert [e.value for e in at.error] == ["This page is not part of your view of Collaboration Atlas."]
        assert not at.dataframe and not at.metric and not at.get("download_button")


# --------------------------------------------------------------------------------------------
# Client ids
# --------------------------------------------------------------------------------------------

def test_client_ids_are_keyed_pseudonyms_not_plain_hashes(tempting_db):
    raw_ids = {line.split(",")[1] for line in tempting_files()["referrals.csv"].splitlines()[1:]}
    raw_ids = {r for r in raw_ids if r.startswith("CASE-")}
    assert len(raw_ids) == 97
    data = tempting_db.read_bytes()
    for raw in raw_ids:
        assert raw.encode() not in data, f"{raw} stored as it came"
        for plain in (hashlib.sha256(raw.encode()).hexdigest(), hashlib.md5(raw.encode()).hexdigest(),
                      hashlib.sha1(raw.encode()).hexdigest()):
            assert plain[:16].encode() not in data, f"{raw} stored as a plain hash"
    with Atlas(tempting_db) as db:
        stored = set(db.query("stalled_referrals", stall_days=0)["client_id"].astype(str))
    assert stored and not stored & raw_ids
    assert all(re.fullmatch(r"[0-9a-f]{32}", p) for p in stored), "a 128-bit keyed HMAC, hex"


# --------------------------------------------------------------------------------------------
# In a real browser: the board's view as served
# --------------------------------------------------------------------------------------------

def test_the_served_board_view_shows_no_small_count_in_figures_map_or_tooltips(tempting_db, tmp_path, browser):
    from browser import map_texts, served, wait_drawn

    with served(tempting_db, tmp_path / "streamlit.log", env={"ATLAS_LOCAL_ROLE": "board"}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for query in ("", "?filter_period=All+data&filter_region=North"):  # URL parameters set no filter
            page.goto(url + "/" + query)
            page.get_by_text("Median days to accept").wait_for(timeout=60_000)
            wait_drawn(page)
            labels = [t.strip() for t in page.locator('[data-testid="stMetricLabel"]').all_inner_texts()]
            values = [t.strip() for t in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]
            shown = dict(zip(labels, values))
            assert shown["Referrals"] == "hidden" or int(shown["Referrals"].replace(",", "")) >= M
            assert "2025 Q3" in page.locator('[data-testid="stMain"]').inner_text()

        page.goto(url + "/network")
        page.get_by_role("heading", name="Formal versus real").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        maps = map_texts(page)
        assert maps, "the map is drawn"
        text = json.dumps(maps, ensure_ascii=False)  # legends, names and tooltips of everything drawn
        counts = [int(n.replace(",", "")) for n in NUMBER.findall(text)]
        assert counts and all(n >= M for n in counts), counts
        assert VICTIM_NAME not in text and VICTIM_NAME not in page.content()

        page.goto(url + "/bottlenecks")  # not part of the board's view: the Overview instead
        page.get_by_text("Median days to accept").wait_for(timeout=60_000)
        assert "Receiving agencies" not in page.locator('[data-testid="stMain"]').inner_text()
        assert not dialogs
