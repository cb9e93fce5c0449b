"""The served dashboard in a real browser: the Overview draws its figures and chart from the database."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from browser import DRAWN_MAP, choose, served, wait_drawn
from playwright.sync_api import expect

from atlas import formats
from atlas.db import Atlas
from atlas.views import outcomes


@pytest.fixture(scope="module")
def site(demo_db, browser, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with served(demo_db, log) as url:
        yield url, browser


def test_overview_shows_real_figures(site, demo_db, tmp_path):
    url, browser = site
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.get_by_text("Median days to accept").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert [label.strip() for label in labels] == [
        "Referrals", "Acceptance rate", "Median days to accept", "Stalled referrals",
        "Active partnerships", "Positive-exit rate"]
    assert all(re.search(r"\d", v) for v in values), values

    # the first figure is the referral count of the default period (last 12 months), from the database
    with Atlas(demo_db) as db:
        extent = db.query("data_extent").iloc[0]
        from atlas.filters import period_bounds

        first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
        start, end = period_bounds("Last 12 months", first, last)
        expected = db.query("referral_funnel", start=start, end=end)["referrals"].iloc[0]
    assert values[0].replace(",", "") == str(expected)

    shot = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path)) / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert not errors, errors
    page.close()


def test_pages_are_reachable_from_the_navigation(site):
    url, browser = site
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    page.get_by_text("Median days to accept").wait_for(timeout=60_000)
    for title in ("Bottlenecks", "Need vs capacity", "Network map", "Outcomes", "Data"):
        page.get_by_role("link", name=title).first.click()
        page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    page.close()


def first_figure(page):
    values = page.locator('[data-testid="stMetricValue"]')
    expect(values).to_have_count(6, timeout=60_000)
    return values.first


def test_filters_persist_across_pages(site):
    url, browser = site
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    page.get_by_text("Median days to accept").wait_for(timeout=60_000)
    everything = first_figure(page).inner_text()

    region_box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1)
    region = choose(page, region_box, 1)
    page.get_by_text(f"region {region}").first.wait_for(timeout=30_000)  # the caption names the filter
    expect(first_figure(page)).not_to_have_text(everything, timeout=30_000)
    narrowed = first_figure(page).inner_text()
    assert int(narrowed.replace(",", "")) < int(everything.replace(",", ""))

    page.get_by_role("link", name="Bottlenecks").first.click()
    page.get_by_role("heading", name="Bottlenecks").first.wait_for(timeout=30_000)
    page.get_by_text(f"region {region}").first.wait_for(timeout=30_000)
    assert region_box.locator("input").input_value() == region
    page.get_by_role("link", name="Overview").first.click()
    page.get_by_text(f"region {region}").first.wait_for(timeout=30_000)
    expect(first_figure(page)).to_have_text(narrowed, timeout=30_000)
    page.close()


def test_bottlenecks_page_draws_the_funnel_and_the_agency_table(site, tmp_path):
    from atlas.demo import PLANTED

    url, browser = site
    page = browser.new_page(viewport={"width": 1400, "height": 4200})  # Streamlit scrolls inside the page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/bottlenecks")  # a deep link: the entrypoint's navigation and filters still apply
    page.get_by_role("heading", name="Receiving agencies").wait_for(timeout=60_000)
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Filters")).to_be_visible()
    expect(page.locator(".js-plotly-plot .funnellayer .point").first).to_be_visible(timeout=60_000)
    assert page.locator(".js-plotly-plot .funnellayer .point").count() >= 4  # referred → completed
    table = page.locator('[data-testid="stDataFrame"]:visible').first  # the charts' tables are in closed expanders
    expect(table).to_be_visible(timeout=60_000)
    bottleneck = PLANTED["names"][PLANTED["bottleneck_agency_id"]]
    expect(page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=bottleneck).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.wait_for_timeout(1500)
    shot = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path)) / "bottlenecks.png"
    page.screenshot(path=str(shot))
    assert not errors, errors
    page.close()


def test_network_map_draws_and_hostile_names_stay_text(hostile_db, browser, tmp_path):
    from conftest import HOSTILE_NAME

    with served(hostile_db, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        dialogs, errors = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/network")
        drawn_map = page.locator(DRAWN_MAP)  # in its component's shadow root
        expect(drawn_map).to_have_count(1, timeout=60_000)
        expect(drawn_map.locator("canvas")).to_have_count(1)

        # hover the hostile agency's node: its tooltip shows the name as text
        point = drawn_map.evaluate("""m => {
            const r = m.querySelector(".map").getBoundingClientRect();  // the legend sits above the map
            const d = m.visNetwork.canvasToDOM(m.visNetwork.getPositions(['A2'])['A2']);
            return {x: d.x + r.left, y: d.y + r.top};
        }""")
        page.mouse.move(point["x"], point["y"])
        tooltip = drawn_map.locator("div.vis-tooltip")
        expect(tooltip).to_be_visible(timeout=10_000)
        assert HOSTILE_NAME in tooltip.inner_text()
        assert drawn_map.locator("img").count() == 0 and drawn_map.locator("a").count() == 0

        # the name also appears in the page's tables, as text (the scores are a section, drawn when opened)
        page.get_by_role("tab", name="Network scores").click()
        page.get_by_role("heading", name="Network scores").wait_for(timeout=30_000)
        assert page.locator("img[src=x]").count() == 0
        page.screenshot(path=str(Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path)) / "network_hostile.png"))
        assert not dialogs, dialogs
        assert not errors, errors
        page.close()


def test_need_capacity_gap_grid_chosen_by_click_and_keyboard_drives_the_chart(site, demo_db, tmp_path):
    from atlas.demo import PLANTED

    with Atlas(demo_db) as db:
        agencies = db.query("agency_bottlenecks").set_index("agency_id")
    surge_region = agencies.loc[PLANTED["winter_surge_agency_id"], "region"]
    url, browser = site
    page = browser.new_page(viewport={"width": 1400, "height": 5200})  # Streamlit scrolls inside the page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/need_capacity")
    page.get_by_role("heading", name="Where the gaps are").wait_for(timeout=60_000)  # the first section
    grid = page.locator('[data-testid="stDataFrame"]:visible').filter(  # named by its `alt`
        has=page.locator('[aria-label="Share of need unmet by region and service"]')).first
    expect(grid.locator("td#glide-cell-0-0")).to_have_text(PLANTED["shortage_region"], timeout=60_000)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)  # the top's chart; the gaps are a table
    region_box = page.get_by_role("combobox", name="Region shown")
    service_box = page.get_by_role("combobox", name="Service shown")
    assert region_box.input_value() == PLANTED["shortage_region"]
    # each cell says its share, as the screen reader's table does too
    assert grid.locator("td#glide-cell-1-0").inner_text().endswith("%")

    def where(text: str, column: bool) -> int:
        cells = grid.locator("th" if column else "td[id^='glide-cell-0-']").all_inner_texts()
        return cells.index(text)

    def settled():
        page.wait_for_timeout(500)
        page.wait_for_function("""() => document.querySelector('[data-testid="stApp"]')
            .getAttribute('data-test-script-state') === 'notRunning'""", timeout=30_000)

    # a click on the first region's name chooses the region (the grid's selection then moves to the chosen
    # cell, in the service's column); the arrow keys go on to the winter-surge region's shelter, the chart above
    # following each cell chosen and the keyboard keeping its place in the grid
    row, column = where(surge_region, False), where("Shelter", True)
    grid.click(position={"x": 20, "y": 35 + 17})  # the first row (under the 35 px heading), the region's column
    settled()
    at = where(service_box.input_value(), True)
    for key in ["ArrowDown"] * row + (["ArrowRight"] * (column - at) if column > at else ["ArrowLeft"] * (at - column)):
        page.keyboard.press(key)
        settled()
    expect(region_box).to_have_value(surge_region, timeout=30_000)
    expect(service_box).to_have_value("Shelter", timeout=30_000)
    expect(page.locator(".js-plotly-plot .gtitle").first).to_contain_text(f"{surge_region} · shelter",
                                                                          timeout=30_000)
    expect(page.get_by_text(f"{surge_region} · shelter", exact=True).last).to_be_visible()  # the cell's figures
    page.keyboard.press("ArrowLeft")
    settled()
    expect(service_box).to_have_value(grid.locator("th").nth(column - 1).inner_text(), timeout=30_000)
    assert page.evaluate("() => !!document.activeElement.closest('[data-testid=\"stDataFrame\"]')")
    page.keyboard.press("ArrowRight")
    settled()
    expect(service_box).to_have_value("Shelter", timeout=30_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    # the other sections are drawn when opened, and the chosen cell is still followed
    page.get_by_role("tab", name="Outlook").click()
    page.get_by_role("heading", name="Outlook").wait_for(timeout=60_000)
    expect(page.locator(".js-plotly-plot .gtitle").nth(1)).to_contain_text(f"{surge_region} · shelter",
                                                                            timeout=30_000)
    assert region_box.input_value() == surge_region
    page.get_by_role("tab", name="Where to invest").click()
    page.get_by_role("heading", name="Where to invest").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    shot = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path)) / "need_capacity.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    assert not errors, errors
    page.close()


def test_data_page_uploads_files_reports_problems_and_imports(site, small_db, tmp_path, monkeypatch):
    """A coordinator's path on the Data page, in Chromium: upload a Windows, semicolon-separated
    export with a bad date, read the report, fix the file, add it to the data and see it counted."""
    import shutil

    from conftest import SMALL_COMMUNITY, TEST_KEY

    database = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, database)
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    header = SMALL_COMMUNITY["referrals.csv"].split("\n", 1)[0]
    month = header + "\nR40,C40,A1,A2,medical,2024-04-02 09:00,,,,,,\nR41,C41,A5,A1,shelter,02/04/2024,,,,,,\n"
    bad = tmp_path / "Referrals April.csv"
    bad.write_bytes(month.replace(",", ";").encode("cp1252"))
    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    browser = site[1]  # the module's browser, on a server of its own over a copy it may change
    with served(database, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 3200})  # Streamlit scrolls inside the page
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/data")
        page.get_by_text("Each file can be up to 50 MB").wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
        expect(page.get_by_role("combobox", name=re.compile("Referrals April"))).to_have_value("referrals",
                                                                                           timeout=30_000)
        page.get_by_text("Add these files to it").click()
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("must be fixed before these files can be imported").wait_for(timeout=60_000)
        page.get_by_text("Every problem").wait_for()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the report (CSV)").click()
        report = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert "Referrals April.csv,3,referred_at,02/04/2024," in report and "timestamp_format" in report
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "data_report.png"))
        assert page.get_by_role("button", name="Import").count() == 0  # nothing can be imported yet

        # the fixed file replaces the bad one: the report is clean, and the import goes through
        page.get_by_role("button", name="Remove Referrals April.csv").click()
        fixed = tmp_path / "referrals.csv"
        fixed.write_bytes(month.replace("02/04/2024", "2024-04-02 10:00").encode("utf-8-sig"))
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(fixed))
        page.wait_for_timeout(1000)
        wait_drawn(page)  # a click while the upload's run still draws can be undone by its redraw
        page.get_by_text("Add these files to it").click()
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("No problems: these files can be imported").wait_for(timeout=60_000)
        page.get_by_role("button", name="Import").click()
        page.get_by_text("Imported: 2 new and 0 updated referrals").wait_for(timeout=60_000)
        page.get_by_text("The dashboard holds 15 referrals").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Import history").click()
        expect(page.get_by_text("Every import that built the data")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "data_imported.png"))
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not errors, errors
        page.close()
    with Atlas(database) as db:
        assert db.query("data_extent")["referrals"].iloc[0] == 15
        assert db.query("import_history")["mode"].tolist() == ["append", "replace"]


def test_outcomes_page_matches_the_funder_pack_and_hides_small_numbers(site, demo_db, tmp_path):
    from atlas.cli import main

    url, browser = site
    page = browser.new_page(viewport={"width": 1400, "height": 7200})  # Streamlit scrolls inside the page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/outcomes")
    page.get_by_role("heading", name="Funder pack").wait_for(timeout=90_000)
    expect(page.get_by_text("Small numbers: what is hidden, and why")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    # the counts behind every chart (hover data) are 0 or at least 11, in each section as it is opened
    counts, charts = [], 0
    for section in outcomes.SECTIONS:
        page.get_by_role("tab", name=section).click()
        expect(page.get_by_role("tab", name=section)).to_have_attribute("aria-selected", "true")
        wait_drawn(page)
        plots = page.locator(".js-plotly-plot")
        charts += plots.count()
        counts += plots.evaluate_all("""plots => plots.flatMap(gd => gd._fullData.flatMap(t =>
            Array.from(t.customdata || [], row => (row && row.length !== undefined) ? row[0] : row)))""")
    assert charts == 5
    assert counts and not [c for c in counts if isinstance(c, (int, float)) and 1 <= c < 11]

    # the page opens on the last 12 months, as `atlas report` does by default: the same exits
    values = dict(zip(page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
                      page.locator('[data-testid="stMetricValue"]').all_inner_texts()))
    assert main(["report", "--db", str(demo_db), "--out", str(tmp_path / "pack")]) == 0
    pack = pd.read_csv(tmp_path / "pack.csv", encoding="utf-8-sig")
    network = pack[pack["table"] == "network"].iloc[0]
    assert values["Exits"].strip().replace(",", "") == str(int(network["exits"]))
    assert values["Positive-exit rate"].strip() == formats.percent(network["rate"])
    # and each figure reads the same on the page and in the pack (atlas.formats): counts, percentages, the period
    html = (tmp_path / "pack.html").read_text(encoding="utf-8")
    for label in ("Exits", "Positive-exit rate", "Whole network"):
        assert f'<div class="label">{label}</div><div class="value">{values[label].strip()}</div>' in html, label
    period = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text().split(
        " — ", 1)[1].split(".")[0]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} to \d{1,2} [A-Z][a-z]{2} \d{4}", period), period
    assert f"Period: {period} ·" in html

    page.wait_for_timeout(1500)
    shot = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path)) / "outcomes.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
    assert not errors, errors
    page.close()


def test_first_import_from_an_empty_install_on_the_data_page(site, small_files, tmp_path, monkeypatch):
    """From nothing to a working dashboard on the Data page alone: no database yet, upload the
    community's folder of exports, check, import, and the Overview opens on its figures."""
    from conftest import TEST_KEY

    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    database = tmp_path / "new" / "atlas.duckdb"
    browser = site[1]
    with served(database, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 3200})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.get_by_text("holds no data yet").wait_for(timeout=60_000)
        assert page.get_by_role("link", name="Overview").count() == 0  # only the Data page is offered
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            sorted(str(p) for p in small_files.iterdir()))
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("No problems: these files can be imported").wait_for(timeout=60_000)
        page.get_by_role("button", name="Import").click()
        page.get_by_text("The dashboard holds 13 referrals").wait_for(timeout=60_000)
        page.goto(url)  # the whole navigation is there now, and the Overview reads the new data
        page.get_by_role("link", name="Overview").first.wait_for(timeout=60_000)
        page.get_by_role("link", name="Overview").first.click()
        expect(page.locator('[data-testid="stMetricValue"]')).to_have_count(6, timeout=60_000)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not errors, errors
        page.close()
    assert database.exists()
