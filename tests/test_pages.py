"""Every page of the dashboard, run headless with Streamlit's AppTest on a real demo database.

AppTest (Streamlit 1.67) loses the entrypoint's sidebar widgets on a second run of an app that
uses st.navigation, and a run started with switch_page does not apply them at all (the page sees the
open period), so each check starts a fresh run with the state preset; the filters themselves, and
their persistence across pages, are checked in a real browser (tests/test_browser.py).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from conftest import each_section
from streamlit.testing.v1 import AppTest

from atlas.views import need, network

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGES = ["pages/overview.py", "pages/bottlenecks.py", "pages/need_capacity.py", "pages/accountability.py",
         "pages/survey.py", "pages/network.py", "pages/outcomes.py", "pages/data.py"]


def table_with(at, column: str):
    """The first of the page's tables with this column (a chart's table of figures, app.chart, comes before the
    page's own tables); a pandas Styler gives its frame."""
    for element in at.dataframe:
        frame = element.value.data if hasattr(element.value, "data") else element.value
        if column in frame.columns:
            return frame
    raise AssertionError(f"no table has a {column!r} column")


@pytest.fixture
def run_app(demo_db, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(demo_db))

    def run(page: str | None = None, **state) -> AppTest:
        at = AppTest.from_file(DASHBOARD, default_timeout=60)
        for key, value in state.items():
            at.session_state[key] = value
        if page:
            at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
        return at

    return run


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def count(text: str) -> int:
    return int(text.replace(",", ""))


def test_overview_shows_headline_figures_with_change(run_app):
    at = run_app()
    shown = metrics(at)
    assert list(shown) == ["Referrals", "Acceptance rate", "Median days to accept", "Stalled referrals",
                           "Active partnerships", "Positive-exit rate"]
    assert count(shown["Referrals"]) > 1000
    assert shown["Acceptance rate"].endswith("%")
    assert shown["Median days to accept"].endswith("days")
    assert all(m.delta for m in at.metric), "each figure is compared with the previous period"
    assert len(at.get("plotly_chart")) == 1
    # the director's rate counts every exit, and says how it differs from the Outcomes page's
    assert "counts every exit" in at.metric[5].proto.help and "Outcomes page" in at.metric[5].proto.help
    # and says with which: the 12 whole months before the last 12
    caption = at.caption[0].value.replace("\\", "")
    period, _, before = caption.removesuffix(".").rpartition(", against ")
    start, end = (dt.datetime.strptime(d, "%d %b %Y").date() for d in period.rsplit("— ", 1)[1].split(" to "))
    first, last = (dt.datetime.strptime(d, "%d %b %Y").date() for d in before.split(" to "))
    assert last == start - dt.timedelta(days=1) and (first.month, first.day) == (start.month, start.day)
    assert first.year == start.year - 1 and (end - start).days >= 364


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(run_app, page):
    at = run_app(page)
    assert at.title, f"{page} has a title"


def test_the_shared_filters_are_in_the_sidebar(run_app):
    assert [s.key for s in run_app().sidebar.selectbox] == ["filter_period", "filter_region", "filter_service",
                                                            "filter_sector"]


def test_filters_narrow_the_figures(run_app):
    everything = count(metrics(run_app())["Referrals"])
    region = run_app().sidebar.selectbox(key="filter_region").options[1]
    narrowed = run_app(filter_region=region)
    assert narrowed.sidebar.selectbox(key="filter_region").value == region
    assert 0 < count(metrics(narrowed)["Referrals"]) < everything
    assert region in narrowed.caption[0].value


def test_all_data_has_no_comparison(run_app):
    at = run_app(filter_period="All data")
    assert not any(m.delta for m in at.metric)
    assert any("compare" in c.value for c in at.caption)


def test_missing_database_says_how_to_build_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    assert not at.exception
    assert "python -m atlas demo" in at.sidebar.info[0].value


def test_bottlenecks_names_the_planted_bottleneck_first(run_app):
    from atlas.demo import PLANTED

    at = run_app("pages/bottlenecks.py")
    bottleneck = PLANTED["names"][PLANTED["bottleneck_agency_id"]]
    assert at.markdown[0].value.startswith(f"- **{bottleneck}** takes")
    frame = table_with(at, "Median days to accept")
    assert frame.iloc[0]["Agency"] == bottleneck
    assert frame.iloc[0]["Look here first"] == "Stalls; slow to accept"  # why, in words beside its name
    # the top (reading, referral path) and the first section only: the others are drawn when opened
    assert [t.label for t in at.tabs] == ["Receiving agencies", "Time in stage", "Stalled referrals",
                                          "Why referrals fail", "Pathways", "Queues", "Ping-pong and lost clients"]
    assert len(at.get("plotly_chart")) == 1 and not at.get("download_button")
    at.session_state["bottlenecks_section"] = "Time in stage"
    at.run()
    assert at.selectbox(key="bottleneck_focus").value == PLANTED["bottleneck_agency_id"]
    # the funnel, durations and trend, each with its table of figures (app.chart), and no table of the page's own
    assert len(at.get("plotly_chart")) == 3 == len(at.dataframe)
    at.session_state["bottlenecks_section"] = "Stalled referrals"
    at.run()
    assert at.get("download_button") and "Stalled referrals" in at.subheader[1].value


def test_long_work_lists_show_their_first_rows_and_download_every_one(run_app, monkeypatch):
    """Stalled referrals, unheld journeys and bounced clients can run to tens of thousands of rows: each page lists
    the first app.LIST_ROWS (most urgent first), says how many there are, and its download holds all of them."""
    from atlas.app import widgets as app

    monkeypatch.setattr(app, "LIST_ROWS", 5)
    lists = [("pages/bottlenecks.py", {"bottlenecks_section": "Stalled referrals"}, "Referred", "stalled referrals",
              "Download the stalled list (CSV)"),
             ("pages/accountability.py", {}, "Client (pseudonym)", "families", "Download the list (CSV)"),
             ("pages/bottlenecks.py", {"bottlenecks_section": "Ping-pong and lost clients"}, "Referrals",
              "bounced clients", "Download the bounced clients (CSV)")]
    for page, state, column, called, button in lists:
        at = run_app(page, **state)
        listed = [e.value for e in at.dataframe if column in e.value.columns]
        said = [c.value for c in at.caption if called in c.value and c.value.startswith("The first 5 of ")]
        assert [len(frame) for frame in listed] == [5] and len(said) == 1, (page, called)
        assert int(said[0].removeprefix("The first 5 of ").split(" ")[0].replace(",", "")) > 5
        assert button in [d.proto.label for d in at.get("download_button")]

    at = run_app("pages/network.py", filter_period="All data", map_one_way_open=True)  # the network's first section
    one_way = [e.value for e in at.dataframe if list(e.value.columns) == ["From", "To", "Referrals", "Declared tie"]]
    said = [c.value for c in at.caption if c.value.startswith("The first 5 of ") and "one-way pairs" in c.value]
    assert [len(frame) for frame in one_way] == [5] and len(said) == 1
    assert one_way[0]["Referrals"].is_monotonic_decreasing
    assert "Download the one-way pairs (CSV)" in [d.proto.label for d in at.get("download_button")]


def test_network_formal_versus_real_shows_its_figures_and_draws_each_list_only_when_opened(run_app):
    at = run_app("pages/network.py", filter_period="All data")
    shown = metrics(at)
    unagreed, dormant = count(shown["Flows without an agreement"]), shown["Dormant agreements"]
    dormant, ties = (count(n) for n in dormant.split(" of "))
    assert 25 < unagreed and 0 < dormant < ties and shown["Referrals, no agreement"].endswith("%")
    one_way = count(shown["One-way pairs"])
    lists = {e.label for e in at.expander}
    assert {f"Flows without an agreement ({unagreed:,}), heaviest first", f"Dormant agreements ({dormant:,})",
            f"One-way pairs ({one_way:,}), heaviest first"} <= lists
    pairs = ["From", "To", "Referrals"]
    assert not [e for e in at.dataframe if list(e.value.columns[:3]) == pairs]  # no list is drawn, only figures

    at = run_app("pages/network.py", filter_period="All data", map_informal_open=True, map_dormant_open=True)
    informal = [e.value for e in at.dataframe if "Declared tie" in e.value.columns and "Accepted" in e.value.columns]
    assert len(informal) == 1 and len(informal[0]) == 25 and informal[0]["Referrals"].is_monotonic_decreasing
    assert "Formal agreement" not in set(informal[0]["Declared tie"])
    assert f"The first 25 of {unagreed:,} are listed here." in " ".join(c.value for c in at.caption)
    assert [len(e.value) for e in at.dataframe if "Since" in e.value.columns] == [dormant]


def test_bottlenecks_focus_agency_can_be_changed_and_is_kept_while_its_section_is_closed(run_app):
    from atlas.demo import PLANTED

    shelter = PLANTED["winter_surge_agency_id"]
    at = run_app("pages/bottlenecks.py", bottleneck_focus=shelter, bottlenecks_section="Time in stage")
    assert at.selectbox(key="bottleneck_focus").value == shelter
    durations = at.get("plotly_chart")[1].proto.spec
    at.session_state["bottlenecks_section"] = "Queues"
    at.run()
    assert not at.exception and at.session_state["bottleneck_focus"] == shelter
    at.session_state["bottlenecks_section"] = "Time in stage"
    at.run()
    assert at.selectbox(key="bottleneck_focus").value == shelter
    assert at.get("plotly_chart")[1].proto.spec == durations


def test_network_page_shows_the_planted_findings(run_app):
    from atlas.demo import PLANTED

    at = run_app("pages/network.py", filter_period="All data", map_informal_open=True, map_dormant_open=True)
    assert at.get("bidi_component"), "the map is drawn"
    tables = []
    for _ in each_section(at, "network_section", network.SECTIONS):
        tables += [d.value for d in at.dataframe]
    informal = next(t for t in tables if "Declared tie" in t.columns and "Accepted" in t.columns)
    dormant = next(t for t in tables if "Kind" in t.columns)
    names = PLANTED["names"]
    flows = set(zip(informal["From"], informal["To"]))
    assert {(names[a], names[b]) for a, b in PLANTED["unpartnered_heavy_flows"]} <= flows
    pairs = {frozenset(p) for p in zip(dormant["Agency A"], dormant["Agency B"])}
    assert {frozenset((names[a], names[b])) for a, b in PLANTED["dormant_formal_pairs"]} <= pairs
    scores = next(t for t in tables if "Brokerage (betweenness)" in t.columns)
    assert scores["Brokerage (betweenness)"].is_monotonic_decreasing


def _agency_id(name: str) -> str:
    import duckdb

    with duckdb.connect(os.environ["ATLAS_DB"], read_only=True) as con:
        return con.execute("select agency_id from agencies where name = $name", {"name": name}).fetchone()[0]


def test_network_focus_picker_lists_every_agency_only_while_open_and_keeps_the_focus_when_closed(run_app):
    """The focus agency is chosen in a picker whose list (every agency of the network) is built only while it is
    open; a focus chosen stays, with its partners under the map and its name beside the picker, while the picker
    is closed."""
    def picker(at):
        return next(e for e in at.expander if e.label.endswith("Focus on an agency"))

    at = run_app("pages/network.py")
    assert "map_focus" not in [s.key for s in at.selectbox] and not picker(at).children  # closed: no list sent
    at.session_state["map_focus_open"] = True
    at.run()
    assert not at.exception, at.exception
    box = at.selectbox(key="map_focus")
    agencies = box.options[1:]
    assert box.options[0] == "No focus" and len(agencies) > 100 and agencies == sorted(agencies)
    name = agencies[0]
    at.session_state["map_focus"] = _agency_id(name)  # chosen (tests/test_accessibility.py chooses with the keyboard)
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="map_focus").value == _agency_id(name)
    assert [h for h in at.subheader if h.value == f"Partners of {name}"]

    at.session_state["map_focus_open"] = False  # closed again: the list is not built, the focus stays
    at.run()
    assert not at.exception, at.exception
    assert "map_focus" not in [s.key for s in at.selectbox]
    assert [c for c in at.caption if c.value.startswith(f"The map is focused on **{name}**")]
    assert [h for h in at.subheader if h.value == f"Partners of {name}"]


def test_need_capacity_puts_the_planted_shortage_first_and_follows_a_chosen_cell(run_app):
    import json

    from atlas.demo import PLANTED

    shortage = PLANTED["shortage_region"]
    at = run_app("pages/need_capacity.py")
    assert "the sector filter does not apply" in at.caption[0].value
    assert at.markdown[0].value.startswith(f"- **{shortage} · ")  # the largest sustained gap leads the reading
    assert at.selectbox(key="need_region").value == shortage  # and the chart follows it
    tables, charts, captions, downloads = {}, [], [], 0
    for _ in each_section(at, "need_section", need.SECTIONS):
        tables.update({tuple(d.value.columns): d.value for d in at.dataframe})
        charts += [json.loads(c.proto.spec) for c in at.get("plotly_chart")][1:]  # the top's chart comes first
        captions += [c.value for c in at.caption]
        downloads += len(at.get("download_button"))
    invest = next(t for cols, t in tables.items() if "Slots to add (typical month)" in cols)
    assert invest.iloc[0]["Region"] == shortage
    assert len(charts) == 2  # below the top's need vs capacity: the two signals, the outlook
    grid = next(t for cols, t in tables.items() if cols[:2] == ("Region", "Housing") or cols[:2] == ("Region", "Shelter"))
    assert grid["Region"].iloc[0] == shortage  # the gap grid: the largest gap's region first
    assert grid[grid.columns[1]].iloc[0].endswith("%")  # each cell says its share
    assert any("seasonal naive" in c for c in captions)  # the forecast's method is stated
    assert downloads

    # the selectboxes and a cell of the grid (a click in Chromium: tests/test_browser.py) drive the same state
    at = run_app("pages/need_capacity.py", need_region="Riverside", need_service="mental_health",
                 need_measure="utilization")
    assert (at.selectbox(key="need_region").value, at.selectbox(key="need_service").value) == (
        "Riverside", "mental_health")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert charts[0]["layout"]["title"]["text"].startswith("Riverside · mental health")
    assert any(m.value.startswith("**Riverside · mental health**: ") for m in at.markdown)  # the cell's figures
    grid = at.dataframe(key="need_grid").value
    assert any(float(v.rstrip("%")) > 100 for v in grid["Mental health"] if v.endswith("%"))  # utilization
    riverside = grid.index[grid["Region"] == "Riverside"][0]  # the chosen cell is the grid's selection
    assert list(at.session_state["need_grid"]["selection"]["cells"]) == [(riverside, "Mental health")]
    at.session_state["need_section"] = "Outlook"
    at.run()
    chart = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert chart["layout"]["title"]["text"].startswith("Riverside · mental health: the next three months")
    assert at.session_state["need_measure"] == "utilization"  # kept while its section is closed


def test_network_page_closure_and_change(run_app):
    from atlas.demo import PLANTED

    at = run_app("pages/network.py", map_closure=PLANTED["bottleneck_agency_id"],
                 network_section="If an agency closed")
    bottleneck = PLANTED["names"][PLANTED["bottleneck_agency_id"]]
    assert any(m.value.startswith(f"- Closing **{bottleneck}** would leave") for m in at.markdown)
    at.session_state["network_section"] = "Change since the previous period"
    at.run()
    assert at.session_state["map_closure"] == PLANTED["bottleneck_agency_id"]  # kept while its section is closed
    # a page run by switch_page sees the open period (see the module docstring): nothing to compare with
    assert "Change since the previous period" in [s.value for s in at.subheader]
    assert any("no previous period to compare with" in i.value for i in at.info)


def test_data_page_templates_limit_quality_and_history(run_app):
    at = run_app("pages/data.py")
    labels = [b.proto.label for b in at.get("download_button")]
    from atlas.contract import TABLES

    for table in TABLES:
        assert f"Download the {table} template (CSV)" in labels
    assert any("up to **50 MB**" in m.value for m in at.markdown)  # read from Streamlit's config
    assert [t.label for t in at.tabs] == ["Load your data", "Data quality", "Import history"]
    assert not at.metric  # the checks are worked out when their tab is opened
    at.session_state["data_section"] = "Data quality"
    at.run()
    shown = metrics(at)
    assert list(shown) == ["Stale referrals", "Agencies without referrals", "Programs without capacity",
                           "Ties to ended agencies", "Exits never referred"]
    stale = count(shown["Stale referrals"])
    assert count(metrics(run_app("pages/data.py", quality_stale_days=30, data_section="Data quality"))[
        "Stale referrals"]) > stale
    at.session_state["data_section"] = "Import history"
    at.run()
    assert at.get("download_button") and not at.metric  # the upload flow is drawn whichever tab is open
    history = at.dataframe[-1].value
    assert list(history.columns) == ["imported at", "how", "source", "files", "what changed", "checksum"]
    assert history["how"].tolist() == ["replaced the data"] and "referrals:" in history["what changed"][0]
    assert not at.error


PEOPLE_COLUMNS = ("Exits", "Positive exits", "Clients followed", "Returned")


def assert_no_small_count_shown(at, min_cell: int, charts_required: bool = True) -> int:
    """No table or chart of the page shows a count of people from 1 to min_cell - 1; returns how many chart
    counts were checked."""
    import json

    import pandas as pd

    for frame in (d.value for d in at.dataframe):
        for column in PEOPLE_COLUMNS:
            if column in frame.columns:
                values = pd.to_numeric(frame[column], errors="coerce").dropna()
                assert not ((values >= 1) & (values < min_cell)).any(), (column, values.tolist())
    import base64

    import numpy as np

    checked = 0
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            data = trace.get("customdata")
            if isinstance(data, dict):  # plotly sends numpy arrays as typed base64
                shape = [int(n) for n in str(data.get("shape", "-1")).split(",")]
                data = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).reshape(shape)
            if data is None or not len(data):
                continue
            counts = np.asarray(data, dtype=float).reshape(len(data), -1)[:, 0]  # the exits come first
            assert not ((counts >= 1) & (counts < min_cell)).any(), (trace.get("name"), counts)
            checked += len(counts)
    assert checked or not charts_required, "the charts carry their counts"
    return checked


def test_outcomes_page_shows_rates_with_small_numbers_hidden(run_app, demo_db):
    import io

    import pandas as pd

    from atlas import config
    from atlas.db import Atlas
    from atlas.filters import Filters
    from atlas.packs import funder as report
    from atlas.views import outcomes

    at = run_app("pages/outcomes.py")  # a page run by switch_page sees the open period
    with Atlas(demo_db) as db:
        view = outcomes.build(db, Filters(), min_cell=config.min_cell())
    shown = metrics(at)
    assert shown["Exits"] == f"{view.selection['exits']:,}"
    assert shown["Programs hidden"] == f"{view.suppressed.programs_hidden:,} of {view.suppressed.programs:,}"
    assert view.suppressed.programs_hidden > 0
    assert any("programs are hidden: fewer than 11 exits" in m.value for m in at.markdown)
    assert any("Victim-service agencies are left out" in m.value for m in at.markdown)
    assert [s.value for s in at.subheader] == ["Positive-exit rate against the network", "Funder pack"]
    assert len(at.get("download_button")) == 3  # the pack is there whichever section is open
    page = table_with(at, "Service type").set_index("Service type")["Exits"].to_dict()
    headings, charts, placeholders, checked = [], 0, [], 0
    for _ in each_section(at, "outcomes_section", outcomes.SECTIONS):
        headings += [s.value for s in at.subheader][:-1]
        charts += len(at.get("plotly_chart"))
        placeholders += [d.proto.placeholder for d in at.dataframe if "Rate" in d.value.columns]  # not chart tables
        checked += assert_no_small_count_shown(at, config.min_cell(), charts_required=False)
    assert headings == ["Positive-exit rate against the network", "Trend by quarter", "Outcome mix",
                        "Returns to homelessness", "Pathways: outcomes by referring agency", "Programs"]
    assert charts == 5 and checked, "the charts carry their counts"
    # a hidden count's empty cell reads as a dash (Streamlit's default is the word "None")
    assert view.programs["suppressed"].any() and placeholders == ["hidden"] * 4

    # the page's table and the pack's CSV hold the same figures
    pack = pd.read_csv(io.BytesIO(report.csv(view)), encoding="utf-8-sig")
    assert page == pack[pack["table"] == "by_service_type"].set_index("group")["exits"].to_dict()


def test_outcomes_page_for_one_funder_by_program(run_app, demo_db):
    from atlas import config
    from atlas.db import Atlas
    from atlas.filters import Filters
    from atlas.views import outcomes

    with Atlas(demo_db) as db:
        funder = outcomes.build(db, Filters(), min_cell=config.min_cell()).funders[0]
        view = outcomes.build(db, Filters(), funder=funder, min_cell=config.min_cell())
    at = run_app("pages/outcomes.py", outcomes_funder=funder, outcomes_compare="program", outcomes_mix="program")
    assert at.selectbox(key="outcomes_funder").value == funder
    assert metrics(at)["Exits"] == f"{view.selection['exits']:,}"
    table = table_with(at, "Program")
    assert list(table.columns[:2]) == ["Agency", "Program"]
    assert len(table) == len(view.by["program"])
    checked = sum(assert_no_small_count_shown(at, config.min_cell(), charts_required=False)
                  for _ in each_section(at, "outcomes_section", outcomes.SECTIONS))
    assert checked, "the charts carry their counts"


def test_without_a_database_only_the_data_page_is_offered_and_it_can_load_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "first.duckdb"))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Data"]
    assert any("holds no data yet" in i.value for i in at.info)
    assert at.get("file_uploader"), "the first import happens here"


def test_an_outdated_database_explains_how_to_upgrade(small_db, tmp_path, monkeypatch):
    import shutil

    from test_import import outdate

    path = tmp_path / "old.duckdb"
    shutil.copyfile(small_db, path)
    outdate(path)
    monkeypatch.setenv("ATLAS_DB", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    assert not at.exception
    assert "python -m atlas upgrade" in at.error[0].value


@pytest.mark.parametrize("role", ["director", "board", "funder"])
def test_the_views_prepared_ahead_are_those_the_pages_draw_first(demo_db, monkeypatch, role):
    """app.prepare_ahead builds each page's first view in the background (a served app only): what it builds
    must be what the pages then ask for, or a click finds nothing ready. Each page is run as it first opens
    and its view requests recorded; each prepared view must be one of them (the period aside for a director:
    under AppTest the sidebar's period is not drawn, see the module docstring)."""
    import pandas as pd

    from atlas import app
    from atlas.audience import Audience, Role
    from atlas.db import Atlas

    monkeypatch.setenv("ATLAS_DB", str(demo_db))
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
    asked = []
    real = app.view

    def recorded(builder, *args, **kwargs):
        asked.append((builder, args, kwargs))
        return real(builder, *args, **kwargs)

    monkeypatch.setattr(app, "view", recorded)
    viewer = Audience(who="test", roles=frozenset({Role(role)}), signed_in=False)
    with Atlas(demo_db) as db:
        extent = db.query("data_extent").iloc[0]
    prepared = app.default_views(viewer, pd.Timestamp(extent["first_referral"]).date(),
                                 pd.Timestamp(extent["last_referral"]).date())
    assert {builder for builder, _, _ in prepared} >= {"overview.build", "network.build" if role == "board" else
                                                      "outcomes.build" if role == "funder" else "bottlenecks.build"}
    for page in viewer.pages:
        at = AppTest.from_file(DASHBOARD, default_timeout=120)
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception, at.exception
    same = (lambda a, b: a[1:] == b[1:]) if role == "director" else (lambda a, b: a == b)
    for builder, args, kwargs in prepared:
        assert any(b == builder and same(a, args) and k == kwargs for b, a, k in asked), (builder, args, kwargs)
        if role != "director":
            assert any(b == builder and a[0] == args[0] for b, a, _ in asked)  # the same whole period
