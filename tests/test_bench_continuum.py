"""The benchmark's continuum (issue 30): the demo's ordinary-size profile, built and cached by bench/data.py as the
dense scales are, measured for every audience, and reported in docs/benchmarks.md by bench/report.py.

The set is built by the real `python -m atlas demo --profile continuum` into a cache of the test's own (never the
benchmark's bench/cache/), then measured as `python -m bench --scales continuum` measures it, at the smallest
settings (every audience's pages by the real worker processes, one warm run each, and the board's map; no browser),
and the tables are written from what was measured.
"""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
from conftest import table

import bench.data
from atlas.db import Atlas
from atlas.demo import PROFILES
from atlas.filters import Filters, period_bounds, period_label, reporting_periods
from atlas.views.network import CLUSTER_BY
from bench import maps, peer, report, tab
from bench.__main__ import measure_profile
from bench.data import SCALES, ensure


@pytest.fixture(scope="module")
def continuum(tmp_path_factory):
    """The benchmark's continuum set, built by bench.data.ensure into a cache folder of this module's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench.data, "CACHE", tmp_path_factory.mktemp("bench_cache"))
        yield ensure(SCALES["continuum"])


def extent(db: Atlas) -> tuple:
    row = db.query("data_extent").iloc[0]
    return tuple(pd.Timestamp(row[k]).date() for k in ("first_referral", "last_referral"))


def test_the_continuum_is_the_profiles_demo_at_its_own_size(continuum):
    profile = PROFILES["continuum"]
    assert (continuum.agencies, continuum.referrals, continuum.profile) == (profile.agencies, profile.referrals,
                                                                            "continuum")
    assert continuum.name not in {s.name for s in SCALES.values() if s.dense}, "a cache of its own"
    assert (continuum.csv / "referrals.csv").exists()
    assert all((continuum.parquet / f"{t}.parquet").exists() for t in bench.data.TABLES)
    counts = table(continuum.db, "select (select count(*) from agencies), (select count(*) from referrals), "
                                 "(select count(distinct region) from agencies)")
    assert counts == [(profile.agencies, profile.referrals, profile.regions)]
    # the dense scales are still built at the sizes given, in the default profile
    assert SCALES["100k"].demo_args() == ["--agencies", "500", "--referrals", "100000"]
    assert continuum.demo_args() == ["--profile", "continuum"]


def test_the_peer_computes_atlas_figures_on_the_continuum(continuum):
    """The peer comparison means something on a sparse network too: the same figures for a year and a quarter."""
    tables = peer.load(continuum.parquet)
    with Atlas(continuum.db) as db:
        first, last = extent(db)
        _, start, end = reporting_periods(first, last, "quarter")[0]
        for filters in (Filters(*period_bounds("Last 12 months", first, last)), Filters(start, end)):
            for page in peer.PAGES:
                assert peer.differences(peer.atlas_figures(db, page, filters),
                                        peer.pandas_figures(tables, page, filters)) == [], (page, filters)


@pytest.fixture(scope="module")
def measured(continuum) -> dict:
    """The continuum measured alone as `python -m bench --scales continuum` measures it, at the smallest settings
    (one fresh process and one warm run per page, no browser), into results of its own: every page of every
    audience, each in a process of its own (AppTest), and the board's map."""
    results: dict = {}
    settings = argparse.Namespace(warm=1, cold=1, timeout=600, skip_browser=True, baseline=None)
    measure_profile(results, "continuum", settings)
    return results


def test_every_audiences_pages_are_measured_in_its_session_and_period(continuum, measured):
    out = measured["scales"]["continuum"]
    assert (out["profile"], out["agencies"], out["referrals"]) == ("continuum", continuum.agencies, continuum.referrals)
    with Atlas(continuum.db) as db:
        first, last = extent(db)
    _, start, _ = reporting_periods(first, last, "quarter")[0]
    quarter = period_label(start, "quarter")
    assert {a: list(pages) for a, pages in out["audiences"].items()} == tab.AUDIENCES
    for audience, pages in out["audiences"].items():
        for page, m in pages.items():
            assert "error" not in m and "timeout_s" not in m, (audience, page, m)
            assert m["audience"] == audience and m["warm_s"] > 0 and len(m["warm_runs"]) == 1, (audience, page)
            assert len(m["cold_totals_s"]) == 1 and m["peak_mib"] > 0
            # the board and funders get the latest whole quarter; a director the last 12 months
            assert (m["period"] == quarter) == (audience != "director"), (audience, page, m["period"])
    # the board's map ran its own queries: the network's edges at least
    assert "network_edges" in out["audiences"]["board"]["network"]["warm_queries"]
    assert "tab" not in measured, "no browser at these settings"


def test_the_report_writes_the_continuum_as_its_own_subsections(measured):
    results = {"scales": {"1m": {"agencies": 5_000, "referrals": 1_000_000, "pages": {}}, **measured["scales"]}}
    text = "\n".join(report.page_tables(results))
    size = measured["scales"]["continuum"]
    assert f"### Every audience's pages on the continuum profile ({size['agencies']:,} agencies, " \
           f"{size['referrals']:,} referrals)" in text
    pages = measured["scales"]["continuum"]["audiences"]
    rows = [line for line in text.splitlines() if line.startswith(("| director |", "| board |", "| funder |"))]
    assert len(rows) == sum(len(p) for p in pages.values())
    board = pages["board"]["network"]
    row = next(line for line in rows if line.startswith("| board | Network map |"))
    assert f"| {board['period']} |" in row and f"| {report.s(board['warm_s'])} |" in row
    assert "### 1M referrals, 5,000 agencies" in text
    # the tables by size leave the continuum out: it is not a step of the dense demo's growth
    assert list(report.dense(results)["scales"]) == ["1m"]


def test_the_boards_map_is_measured_on_the_continuum(continuum, measured):
    name = next(n for n, size in maps.NETWORKS.items() if size == "continuum")
    assert list(measured["maps"]["networks"]) == [name] and list(measured["maps"]["measured"]) == [name]
    rows = measured["maps"]["networks"][name]
    board = [r for r in rows if r["audience"] == "board"]
    assert {r["cluster_by"] for r in board} == set(CLUSTER_BY)
    for r in rows:
        assert 0 < r["agencies_drawn"] <= continuum.agencies and r["flows_drawn"] <= r["flows_total"]
        assert r["build_s"] > 0 and r["summary_s"] > 0
    assert all(r["period"].endswith(("Q1", "Q2", "Q3", "Q4")) for r in board)
    table = "\n".join(maps.table(measured))
    assert table.count(f"| {name} | board, ") == len(board)
