"""Every page's view is data: it pickles, and a copy read back holds the same figures and draws the same
charts, so a view can be cached as data (docs/architecture.md, "Caching") and what it holds is what a
test reads."""

from __future__ import annotations

import dataclasses
import pickle
from importlib import import_module

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from atlas import audience
from atlas.app.cache import BUILDERS
from atlas.app.prefetch import default_views
from atlas.db import Atlas
from atlas.filters import Filters


def _views(db: Atlas):
    """(builder, args, kwargs) of every builder the pages call: each audience's first views, and the
    sections a director opens (an agency closing, change since the previous period, partnership quality,
    the Overview's accountability figures)."""
    extent = db.query("data_extent").iloc[0]
    first, last = pd.Timestamp(extent["first_referral"]).date(), pd.Timestamp(extent["last_referral"]).date()
    seen = []
    for role in ("director", "board", "funder"):
        seen += default_views(audience.local([role]), first, last)
    filters = Filters(pd.Timestamp(last).replace(month=1, day=1).date(), last)
    agency = db.query("network_agencies", **filters.params_for("network_agencies"))["agency_id"].iloc[0]
    seen += [("resilience.closure", (filters, agency), {}), ("resilience.change", (filters,), {}),
             ("ties.build", (filters,), {"min_cell": None}), ("accountability.headline", (filters,), {"min_cell": 11})]
    # the Survey page's view of each of the demo's rounds (its answers file beside it), by both rules of a tie
    for round_id in db.query("survey_rounds")["round_id"]:
        seen += [("survey.build", (round_id, rule), {}) for rule in ("either", "both")]
    return seen


def _same(a, b) -> None:
    """Two values hold the same data: frames and series equal, figures the same JSON, the rest equal."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, go.Figure):
        assert a.to_json() == b.to_json()
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b)
        for field in dataclasses.fields(a):
            _same(getattr(a, field.name), getattr(b, field.name))
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    elif not callable(a) and not isinstance(a, Atlas):
        assert a == b


def test_every_builder_is_covered(demo_db):
    with Atlas(demo_db) as db:
        assert {builder for builder, _, _ in _views(db)} == set(BUILDERS)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_a_view_pickles_and_its_copy_holds_the_same_data(demo_db, builder):
    with Atlas(demo_db) as db:
        calls = [(args, kwargs) for name, args, kwargs in _views(db) if name == builder]
        module, function = builder.split(".")
        build = getattr(import_module(f"atlas.views.{module}"), function)
        for args, kwargs in calls:
            view = build(db, *args, **kwargs)
            copy = pickle.loads(pickle.dumps(view))
            assert type(copy) is type(view)
            fields = getattr(view, "__dataclass_fields__", None) or vars(view)
            for name in fields:
                _same(getattr(view, name), getattr(copy, name))
            # what is drawn when read (a chart) is drawn the same from the copy
            for name in dir(type(view)):
                if isinstance(getattr(type(view), name, None), property) or name.endswith("_chart"):
                    try:
                        _same(getattr(view, name), getattr(copy, name))
                    except TypeError:  # a method that takes arguments
                        pass
