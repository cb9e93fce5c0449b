"""Every page of the dashboard, run headless with Streamlit's AppTest on a real demo database."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

PAGES = ["pages/overview.py", "pages/bottlenecks.py", "pages/need_capacity.py",
         "pages/network.py", "pages/outcomes.py", "pages/data.py"]


@pytest.fixture
def app(demo_db, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(demo_db))
    at = AppTest.from_file("dashboard.py", default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_headline_figures_with_change(app):
    shown = metrics(app)
    assert list(shown) == ["Referrals", "Acceptance rate", "Median days to accept", "Stalled referrals",
                           "Active partnerships", "Positive-exit rate"]
    assert int(shown["Referrals"].replace(",", "")) > 1000
    assert shown["Acceptance rate"].endswith("%")
    assert shown["Median days to accept"].endswith("days")
    assert all(m.delta for m in app.metric), "each figure is compared with the previous period"
    assert len(app.get("plotly_chart")) == 1


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.title, f"{page} has a title"


def test_filters_persist_across_pages_and_change_the_figures(app):
    before = metrics(app)["Referrals"]
    region = app.sidebar.selectbox(key="filter_region")
    region.select(region.options[1]).run()
    after = metrics(app)["Referrals"]
    assert after != before
    app.switch_page("pages/bottlenecks.py").run()
    assert app.sidebar.selectbox(key="filter_region").value == region.options[1] or \
        app.sidebar.selectbox(key="filter_region").value is not None
    app.switch_page("pages/overview.py").run()
    assert metrics(app)["Referrals"] == after


def test_all_data_has_no_comparison(app):
    app.sidebar.selectbox(key="filter_period").select("All data").run()
    assert not app.exception
    assert not any(m.delta for m in app.metric)
    assert any("compare" in c.value for c in app.caption)


def test_missing_database_explains_how_to_build_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file("dashboard.py", default_timeout=30)
    at.run()
    assert not at.exception
    assert "python -m atlas demo" in at.error[0].value
