"""The benchmark's plain-pandas peer (bench/peer.py) computes the same figures as Atlas's named queries.

make bench compares Atlas with it for time and memory; that comparison only means something if both
compute the same thing, so each page's headline figures are checked here on the small community (hand-
checked in test_queries) and on a small demo, for a 12-month period, the one before it and all data.
"""

from __future__ import annotations

import pandas as pd
import pytest

from atlas.db import Atlas
from atlas.filters import Filters, period_bounds
from atlas.views import network
from bench import peer
from bench.data import export_parquet


def periods(db: Atlas) -> list[Filters]:
    extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    return [Filters(*period_bounds("Last 12 months", first, last)), Filters(*period_bounds("Last 3 months", first, last)),
            Filters()]


@pytest.fixture(scope="module", params=["small_db", "demo_db"])
def both(request, tmp_path_factory):
    path = request.getfixturevalue(request.param)
    tables = peer.load(export_parquet(path, tmp_path_factory.mktemp("parquet")))
    with Atlas(path) as db:
        yield db, tables


@pytest.mark.parametrize("page", peer.PAGES)
def test_the_peer_computes_atlas_figures(both, page):
    db, tables = both
    for filters in periods(db):
        atlas = peer.atlas_figures(db, page, filters)
        assert all(len(frame) for frame in atlas.values()) or page == "outcomes", "something to compare"
        assert peer.differences(atlas, peer.pandas_figures(tables, page, filters)) == [], filters


def test_the_peer_agrees_with_narrowing_filters(both):
    db, tables = both
    choices = db.query("filter_choices")
    first = {d: choices.loc[choices["dimension"] == d, "value"].iloc[0] for d in ("region", "service_type", "sector")}
    for narrowed in (Filters(region=first["region"]), Filters(service_type=first["service_type"]),
                     Filters(sector=first["sector"])):
        for page in peer.PAGES:
            problems = peer.differences(peer.atlas_figures(db, page, narrowed),
                                        peer.pandas_figures(tables, page, narrowed))
            assert problems == [], (page, narrowed)


def test_the_peer_degrees_are_the_network_maps(both):
    db, tables = both
    filters = periods(db)[0]
    scored = network.build(db, filters).agencies.set_index("agency_id")
    degrees = peer.pandas_figures(tables, "network", filters)["degrees"].set_index("agency_id")
    columns = ["in_degree", "out_degree", "in_strength", "out_strength"]
    ours = degrees.loc[scored.index, columns]
    pd.testing.assert_frame_equal(scored[columns].astype("int64"), ours.astype("int64"))


def test_a_difference_is_reported():
    atlas = {"funnel": pd.DataFrame({"position": [1, 2], "stage": ["referred", "accepted"], "referrals": [10, 5]})}
    same = {"funnel": atlas["funnel"].iloc[::-1].copy()}
    assert peer.differences(atlas, same) == []
    other = {"funnel": atlas["funnel"].assign(referrals=[10, 4])}
    assert peer.differences(atlas, other) == ["funnel.referrals: 1 rows differ, e.g. row 1: Atlas 5, peer 4"]
    assert peer.differences(atlas, {}) == ["funnel: missing from the peer"]
