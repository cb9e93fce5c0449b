"""The board's map and pack (issue 16): clustered, readable layouts at 150 and 5,000 agencies, and the board
pack (`python -m atlas report --board`, the Network map's button) whose figures are the board's screen's."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atlas import escape, formats
from atlas.cli import main
from atlas.db import Atlas
from atlas.filters import Filters
from atlas.packs import board
from atlas.views import network, ties

M = 11  # the deployment default the board sees


@pytest.fixture(scope="session")
def state_db(tmp_path_factory) -> Path:
    """A state-sized network: 5,000 agencies (the demo generator, 60,000 referrals so it builds in seconds)."""
    path = tmp_path_factory.mktemp("state") / "state.duckdb"
    assert main(["demo", "--db", str(path), "--referrals", "60000", "--agencies", "5000"]) == 0
    return path


def _latest_quarter(db) -> Filters:
    extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    return board.board_period(first, last, "quarter")


@pytest.mark.parametrize("size", ["demo", "state"])
def test_the_boards_map_is_readable_at_150_and_5000_agencies(size, demo_db, state_db):
    """Measured, not eyed: at the default zoom no two written names overlap, the drawing uses most of the frame
    (no knot in the middle with a scatter around it), and ties inside a cluster are shorter than ties between
    clusters — for the board's default map and for every agency drawn at 5,000."""
    path = demo_db if size == "demo" else state_db
    with Atlas(path) as db:
        period = _latest_quarter(db)
        choices = [network.MapChoice(min_referrals=M)]
        if size == "state":
            choices.append(network.MapChoice(min_referrals=1, top_edges=5000))
        for choice in choices:
            for cluster_by in network.CLUSTER_BY:
                view = network.build(db, period, network.replace(choice, cluster_by=cluster_by),
                                     min_cell=M if choice.min_referrals == M else None)
                measures = network.readability(view.layout)
                assert measures["label_overlaps"] == 0, (size, cluster_by, measures)
                assert 5 <= measures["labels"] <= network.LABELLED_NODES
                assert measures["frame_used"] >= 0.45, (size, cluster_by, measures)
                lay = view.layout
                where = {a: i for i, a in enumerate(lay.agencies["agency_id"])}
                ends = pd.concat([lay.flows[["from_agency_id", "to_agency_id"]].set_axis(["a", "b"], axis=1),
                                  lay.ties[["agency_a_id", "agency_b_id"]].set_axis(["a", "b"], axis=1)])
                ends = ends[ends["a"].isin(where) & ends["b"].isin(where)]  # every line drawn: flows and ties
                a = ends["a"].map(where).to_numpy()
                b = ends["b"].map(where).to_numpy()
                length = np.hypot(*(lay.xy[a] - lay.xy[b]).T)
                inside = lay.clusters.to_numpy()[a] == lay.clusters.to_numpy()[b]
                assert inside.any() and (~inside).any()
                assert np.median(length[inside]) < 0.5 * np.median(length[~inside]), (size, cluster_by)


def test_same_data_same_picture(demo_db):
    """Layouts are seeded and computed on the server: built twice from scratch, every position is the same."""
    with Atlas(demo_db) as db:
        period = _latest_quarter(db)
        first = network.build(db, period, network.MapChoice(min_referrals=M), min_cell=M).layout.xy.copy()
        network._clustered_layout.cache_clear()
        network._layout.cache_clear()
        again = network.build(db, period, network.MapChoice(min_referrals=M), min_cell=M).layout.xy
    assert np.array_equal(first, again)


def test_the_packs_figures_are_the_boards_screen(demo_db):
    """Every figure of the pack is the one the board's Network map page shows for the same period: the map's
    scores, the partnership-quality scores, the summary by region (whose totals are the agency map's), and
    the change since the previous period is the difference of the two periods' screens."""
    with Atlas(demo_db) as db:
        period = _latest_quarter(db)
        pack = board.build(db, period, min_cell=M)
        screen = network.build(db, period, network.MapChoice(min_referrals=M), min_cell=M)
        before = network.build(db, period.previous(), network.MapChoice(min_referrals=M), min_cell=M)
        quality = ties.build(db, period, min_cell=M)
        summary = network.summary_view(db, period, by="region", min_cell=M)
    assert pack.network.summary == screen.summary
    assert pack.quality.scores == quality.scores
    pd.testing.assert_frame_equal(pack.summary.nodes, summary.nodes)
    # the summary by region is counted from every referral, not from the flows shown (issue 30): the pack's is
    # the screen's, pair by pair, with the same words for what is hidden
    pd.testing.assert_frame_equal(pack.summary.between, summary.between)
    pd.testing.assert_frame_equal(pack.network.region_formal, screen.region_formal)
    assert int(pack.summary.nodes["within"].sum() + pack.summary.nodes["sent"].sum()) >= screen.summary["referrals"]
    scores = pack.scores.set_index("Measure")
    assert scores.loc["Referrals in the flows shown", "This period"] == f"{screen.summary['referrals']:,}"
    assert scores.loc["Referrals in the flows shown", "Previous period"] == f"{before.summary['referrals']:,}"
    change = screen.summary["flows"] - before.summary["flows"]
    assert scores.loc["Referral flows", "Change"] == ("no change" if change == 0 else f"{change:+,}")
    assert scores.loc["Mean trust (1–4)", "This period"] == f"{quality.scores['mean_trust']:.2f}"
    text = board.html(pack, images={})
    assert f"<strong>{screen.summary['referrals']:,}</strong>" in text
    assert f"{quality.scores['mean_trust']:.1f} of 4" in text
    for name in screen.informal_flows["From"].head(3):
        assert name in text
    # formal versus real in words: the figures the board's page shows above its lists
    real = screen.formal_real
    assert real.unagreed_flows >= len(screen.informal_flows) > 0 and 0 < real.dormant < real.ties
    assert any(line.startswith(f"**{real.unagreed_flows:,}** referral flows run with no formal agreement")
               and f"**{formats.percent(real.unagreed_share)}** of the referrals shown" in line
               and f"**{real.dormant:,}** of {real.ties:,} declared partnerships" in line for line in pack.reading)
    # who holds the case: the Overview's network-level figures, under the same rule
    from atlas.views import accountability

    with Atlas(demo_db) as db:
        passed = accountability.headline(db, period, min_cell=M)
    assert pack.passed == passed
    case = board.case_figures(passed, M)
    assert f'<div class="value">{case["multi_agency"]}</div>' in text
    assert f'<div class="value">{case["unheld"]}</div>' in text
    # the front page reads the period and the network's figures in words
    assert pack.reading[0].startswith(f"In **{period.describe_period()}**")
    assert any("communities" in line for line in pack.reading)
    assert any(line.startswith(f"Against **{period.previous().describe_period()}**") for line in pack.reading)


def test_the_pack_is_self_contained_and_keeps_hostile_names_as_text(hostile_db):
    from conftest import HOSTILE_NAME

    with Atlas(hostile_db) as db:
        extent = db.query("data_extent").iloc[0]
        first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
        period = board.board_period(first, last, "quarter") if board.reporting_periods(first, last, "quarter") \
            else None
        if period is None:
            pytest.skip("the hostile community holds no whole quarter")
        pack = board.build(db, period, min_cell=1)
        text = board.html(pack, images={})
        pictures = board.pictures(pack)
        everything = network.build(db, Filters(), network.MapChoice(min_referrals=1, cluster_by="region"))
        # its name is too long to be written without overlapping another: written here on purpose
        named = replace(everything, layout=replace(everything.layout, labelled=["A2"]))
        pictures["named"] = board.agency_picture(named, "the hostile agency named")
    assert "<script" not in text.lower() and "<img src=x" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "default-src 'none'" in text
    printed = [t for figure in pictures.values() for t in board.printed_text(figure)]
    # plotly reads tags in text (<a href>, <img>...): names reach it escaped, so they print as written
    assert not any(re.search(r"<(img|a|script)\b", t, re.I) for t in printed), printed
    assert escape.html(HOSTILE_NAME) in printed


def _pdftotext(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (pdftoppm) is installed by .ci/run")
def test_cli_writes_the_board_pack_as_pdf_and_html(demo_db, tmp_path):
    out = tmp_path / "board"
    assert main(["report", "--board", "--db", str(demo_db), "--out", str(out)]) == 0
    html, pdf = out.with_suffix(".html"), out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and html.stat().st_size > 50_000
    with Atlas(demo_db) as db:
        period = _latest_quarter(db)
        pack = board.build(db, period, min_cell=M)
    first = _pdftotext(pdf, 1)
    assert f"Board pack — the network, {period.describe_period()}" in first
    assert "At a glance" in first and f"{pack.network.summary['referrals']:,}" in first
    whole = _pdftotext(pdf)
    for heading in ("The network by region", "Who refers to whom", "Network scores", "Formal versus real",
                    "Partnership quality"):
        assert heading in whole
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                             check=True).stdout).group(1))
    assert pages >= 4
    # both maps are vector pictures in the HTML (SVG, embedded), and the PDF's pages render
    assert html.read_text().count("data:image/svg+xml;base64,") == 2
    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "3", str(pdf), str(shots / "board_pack")],
                   check=True)
    rendered = sorted(shots.glob("board_pack-*.png"))
    assert len(rendered) == 3 and all(p.stat().st_size > 20_000 for p in rendered)


def test_cli_board_pack_periods(demo_db, tmp_path, capsys):
    assert main(["report", "--board", "--db", str(demo_db), "--out", str(tmp_path / "b"), "--period", "1999 Q1"]) == 2
    assert "is not a whole calendar quarter of the data" in capsys.readouterr().err
    assert main(["report", "--board", "--db", str(demo_db), "--out", str(tmp_path / "b"),
                 "--start", "2025-01-01"]) == 2
    assert "--period" in capsys.readouterr().err
    assert main(["report", "--db", str(demo_db), "--out", str(tmp_path / "b"), "--period", "2025 Q1"]) == 2
    with Atlas(demo_db) as db:
        extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    latest = board.board_period(first, last, "quarter")
    assert latest.end <= last and (latest.end + dt.timedelta(days=1)).month in (1, 4, 7, 10)
    # a director's filters (last 12 months, a region) give the latest whole quarter of the whole network
    mine = board.for_board(Filters(dt.date(2025, 1, 1), last, region="Riverside"), first, last, "quarter")
    assert (mine.start, mine.end, mine.region, mine.aligned) == (latest.start, latest.end, None, "quarter")


def test_a_board_member_on_a_tablet_sees_the_map_and_takes_the_pack(demo_db, browser, tmp_path):
    """At 1024 x 768, as a board member opens it, the summary map is in view without scrolling (the sidebar and
    the map's settings tucked away), and the page's button hands over the board pack's PDF."""
    from browser import DRAWN_MAP, served, wait_drawn
    from playwright.sync_api import expect

    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    with served(demo_db, tmp_path / "streamlit.log", env={"ATLAS_LOCAL_ROLE": "board"}) as url:
        page = browser.new_page(viewport={"width": 1024, "height": 768}, accept_downloads=True)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/network")
        drawn_map = page.locator(DRAWN_MAP)  # in its component's shadow root
        expect(drawn_map).to_have_count(1, timeout=90_000)
        wait_drawn(page)
        box = drawn_map.bounding_box()
        assert box["y"] < 768 * 0.6 and box["x"] < 1024 / 2, box  # the map starts in the upper part of the screen
        side = page.locator('[data-testid="stSidebar"]').bounding_box()
        assert side is None or side["x"] + side["width"] <= 1 or side["width"] <= 1, side  # the sidebar tucked away
        assert page.get_by_text("Map settings: layers, sizes, how many flows").is_visible()
        assert not page.get_by_text("Strongest flows drawn").is_visible()  # settings closed for the board
        page.screenshot(path=str(shots / "board_tablet.png"))

        button = page.get_by_role("button", name="Board pack (PDF)")
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=120_000) as download:
            button.click()
        saved = tmp_path / "pack.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        assert download.value.suggested_filename.startswith("board_pack_")
        text = _pdftotext(saved, 1)
        with Atlas(demo_db) as db:
            period = _latest_quarter(db)
        assert f"Board pack — the network, {period.describe_period()}" in text
        assert not errors, errors
        page.close()
