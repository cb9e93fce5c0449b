"""The benchmark's continuum (issue 30): the demo's ordinary-size profile, built and cached by bench/data.py as the
dense scales are, measured for every audience, and reported in docs/benchmarks.md by bench/report.py.

The set is built by the real `python -m atlas demo --profile continuum` into a cache of the test's own (never the
benchmark's bench/cache/); one page of each kind of audience is measured by the real worker process at the smallest
settings (one warm run), the board's map by bench/maps.py, and the tables are written from what was measured.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import table

import bench.data
from atlas.db import Atlas
from atlas.demo import PROFILES
from atlas.filters import Filters, period_bounds, period_label, reporting_periods
from atlas.views.network import CLUSTER_BY
from bench import maps, peer, report, tab
from bench.__main__ import worker
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
    """The board's map and the director's Overview, each measured as `make bench` measures every audience's pages
    (a process of its own, AppTest), at the smallest settings: one warm run."""
    return {("board", "network"): worker("page", str(continuum.db), "network", "1", "board", timeout=600),
            ("director", "overview"): worker("page", str(continuum.db), "overview", "1", timeout=600)}


def test_a_page_is_measured_in_its_audiences_session_and_period(continuum, measured):
    board, director = measured[("board", "network")], measured[("director", "overview")]
    assert "error" not in board and "timeout_s" not in board, board
    with Atlas(continuum.db) as db:
        first, last = extent(db)
    _, start, _ = reporting_periods(first, last, "quarter")[0]
    assert (board["audience"], board["period"]) == ("board", period_label(start, "quarter"))
    assert director["audience"] == "director" and director["period"] != board["period"]
    assert board["warm_s"] > 0 and len(board["warm_runs"]) == 1 and board["peak_mib"] > 0
    # the board's map ran its own queries: the network's edges at least
    assert "network_edges" in board["warm_queries"]


def test_the_report_writes_the_continuum_as_its_own_subsections(continuum, measured):
    results = {"scales": {
        "1m": {"agencies": 5_000, "referrals": 1_000_000, "pages": {}},
        "continuum": {"profile": "continuum", "agencies": continuum.agencies, "referrals": continuum.referrals,
                      "audiences": {"board": {"network": measured[("board", "network")]},
                                    "director": {"overview": measured[("director", "overview")]}}}}}
    text = "\n".join(report.page_tables(results))
    assert f"### {tab.NAMES['continuum']} referrals: every audience's pages" in text
    board = measured[("board", "network")]
    assert f"| board | Network map | {board['period']} | " in text
    assert report.s(board["warm_s"]) in text.split("| board | Network map |")[1].splitlines()[0]
    assert "### 1M referrals, 5,000 agencies" in text
    # the tables by size leave the continuum out: it is not a step of the dense demo's growth
    assert list(report.dense(results)["scales"]) == ["1m"]


def test_the_boards_map_is_measured_on_the_continuum(continuum):
    name = next(n for n, size in maps.NETWORKS.items() if size == "continuum")
    out = maps.run({name: "continuum"})
    rows = out["networks"][name]
    board = [r for r in rows if r["audience"] == "board"]
    assert {r["cluster_by"] for r in board} == set(CLUSTER_BY)
    for r in rows:
        assert 0 < r["agencies_drawn"] <= continuum.agencies and r["flows_drawn"] <= r["flows_total"]
        assert r["build_s"] > 0 and r["summary_s"] > 0
    assert all(r["period"].endswith(("Q1", "Q2", "Q3", "Q4")) for r in board)
    table = "\n".join(maps.table({"maps": out}))
    assert table.count(f"| {name} | board, ") == len(board)
