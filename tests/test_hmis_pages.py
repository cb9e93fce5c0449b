"""An HMIS export on the dashboard: the Data page's upload flow under AppTest and in Chromium, and every
page on a database built from an HMIS export alone (no needs, no declared partnerships)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import served, wait_drawn
from conftest import TEST_KEY
from hmis_export import MAPPING, lossy_export, small_export
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from atlas.db import Atlas
from atlas.ingest.formats import hmis

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGES = {"pages/overview.py": (), "pages/bottlenecks.py": (), "pages/need_capacity.py": ("needs.csv",),
         "pages/network.py": ("partnerships.csv",), "pages/outcomes.py": (), "pages/data.py": ()}


@pytest.fixture(scope="module")
def hmis_db(tmp_path_factory) -> Path:
    """The small continuum's export, imported as the only data (with the alias mapping)."""
    root = tmp_path_factory.mktemp("hmis")
    (root / "mapping.toml").write_text(MAPPING)
    database = root / "atlas.duckdb"
    hmis.import_export(small_export().zip(root / "export.zip"), database, TEST_KEY,
                       mapping=hmis.load_mapping(root / "mapping.toml"))
    return database


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_upload_flow_takes_an_export_zip_to_a_dashboard(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "atlas.duckdb"))
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    zipped = small_export().zip(tmp_path / "export.zip").read_bytes()
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert ".zip" in at.file_uploader[0].allowed_type
    at.file_uploader[0].set_value([("HMIS export.zip", zipped, "application/zip"),
                                   ("mapping.toml", MAPPING.encode(), "text/plain")]).run()
    assert not at.exception, at.exception
    assert any("HUD HMIS CSV export" in i.value for i in at.info)
    button(at, "Check the files").click().run()
    assert not at.exception, at.exception
    assert any("No problems: these files can be imported" in s.value for s in at.success)
    frames = [d.value for d in at.dataframe]
    files = next(f for f in frames if "rows read" in f.columns)
    assert files.set_index("file").loc["Event.csv", "imported"] == 5
    events = next(f for f in frames if "kind" in f.columns)
    assert events["events"].tolist() == [5, 2, 2]
    unmatched = next(f for f in frames if "location" in f.columns and "why" in f.columns)
    assert unmatched["location"].tolist() == ["Unknown Place"]
    assert any("Not read: " in c.value and "Client" in c.value for c in at.caption)  # listed as not read
    button(at, "Import").click().run()
    assert not at.exception, at.exception
    with Atlas(tmp_path / "atlas.duckdb") as db:
        extent = db.query("data_extent").iloc[0]
        assert (extent["referrals"], extent["agencies"], extent["outcomes"]) == (5, 4, 4)
        assert db.query("import_history")["source"].iloc[0].startswith("upload (HMIS export)")


def test_an_export_losing_too_many_rows_imports_only_once_the_coordinator_accepts_it(tmp_path, monkeypatch):
    from atlas.views import quality

    database = tmp_path / "atlas.duckdb"
    monkeypatch.setenv("ATLAS_DB", str(database))
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    at.file_uploader[0].set_value([("HMIS export.zip", lossy_export().zip(tmp_path / "export.zip").read_bytes(),
                                    "application/zip")]).run()
    button(at, "Check the files").click().run()
    assert not at.exception, at.exception
    assert any("Too many rows of a file would be left out" in w.value for w in at.warning)
    faults = next(d.value for d in at.dataframe if "what was done" in d.value.columns)
    assert faults[["file", "column", "rows", "what was done"]].values.tolist() == [
        ["Event.csv", "EnrollmentID", 2, "left out"]]
    assert "Download every affected row (CSV)" in [b.proto.label for b in at.get("download_button")]
    assert not [b for b in at.button if b.label == "Import"] and not database.exists()  # nothing until confirmed
    at.checkbox(key="upload_accept_dropped_0").check().run()
    button(at, "Import").click().run()
    assert not at.exception, at.exception
    with Atlas(database) as db:
        assert db.query("data_extent").iloc[0]["referrals"] == 14
        check = {c.key: c for c in quality.report(db).checks}["left_out"]
    assert check.rows[["file", "file_row", "record_id"]].values.tolist() == [["Event.csv", 16, "G14"],
                                                                             ["Event.csv", 17, "G15"]]


def test_client_csv_uploaded_on_its_own_is_never_kept(tmp_path):
    from atlas.ingest import upload

    x = small_export()
    staging = upload.stage([(f"{name}.csv", x.csv(name)) for name in ("Organization", "Project", "Enrollment",
                                                                      "Event", "Client")], root=tmp_path)
    assert staging.format == "hmis"
    assert not any(p.name.lower() == "client.csv" for p in staging.directory.iterdir())
    assert [p.rule for p in staging.problems] == ["ignored_file"] and "Not kept" in staging.problems[0].message
    review = upload.review(staging, tmp_path / "atlas.duckdb", TEST_KEY)
    assert review.ok, review.problems
    assert review.hmis_report.events["events"].tolist() == [4, 2, 3]  # no alias mapping: V2 is not placed


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_works_on_an_hmis_only_import_and_says_what_is_missing(hmis_db, monkeypatch, page):
    monkeypatch.setenv("ATLAS_DB", str(hmis_db))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    notes = [i.value for i in at.info]
    for file in PAGES[page]:
        assert any(f"**{file}**" in n and "HMIS export" in n for n in notes), notes
    assert not [n for n in notes if "needs.csv" in n and "needs.csv" not in PAGES[page]]


def test_missing_data_names_the_file_for_each_table():
    import pandas as pd

    from atlas.views import missing

    empty = pd.Series({"referrals": 5, "partnerships": 0, "need_rows": 0, "capacity_rows": 3, "outcomes": 0})
    assert [n.split("**")[1] for n in missing.notes(empty, "overview")] == ["partnerships.csv", "outcomes.csv"]
    assert [n.split("**")[1] for n in missing.notes(empty, "need_capacity")] == ["needs.csv"]
    full = pd.Series({"referrals": 5, "partnerships": 2, "need_rows": 4, "capacity_rows": 3, "outcomes": 1})
    assert all(missing.notes(full, page) == [] for page in missing.PAGES)


def test_victim_service_organizations_are_protected_like_the_contract_flag(hmis_db):
    """VictimServiceProvider = 1 is the contract's is_victim_service: never drawn or named on the map,
    for directors either, its referrals counted only in the totals."""
    import duckdb

    from atlas.filters import Filters
    from atlas.views import network

    con = duckdb.connect(str(hmis_db), read_only=True)
    try:
        assert con.execute("select agency_id from agencies where is_victim_service").fetchall() == [("O3",)]
    finally:
        con.close()
    with Atlas(hmis_db) as db:
        director = network.build(db, Filters(), network.MapChoice(min_referrals=1))
        board = network.build(db, Filters(), network.MapChoice(min_referrals=1), min_cell=11)
    for view in (director, board):
        assert "Safe Harbor" not in view.html and "O3" not in set(view.agencies["agency_id"])
    assert director.hidden_referrals == 1  # V3, declined by the victim-service shelter


def test_the_rows_left_out_are_reported_and_accepted_on_the_data_page_in_chromium(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    zipped = lossy_export().zip(tmp_path / "HMIS export.zip")
    database = tmp_path / "atlas.duckdb"
    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    with served(database, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 3600})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.get_by_text("holds no data yet").wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(zipped)])
        page.get_by_text("This is a HUD HMIS CSV export").wait_for(timeout=60_000)
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("Too many rows of a file would be left out").wait_for(timeout=60_000)
        page.get_by_text("Rows left out, and values read by a rule").wait_for()
        expect(page.get_by_role("button", name="Download every affected row (CSV)")).to_be_visible()
        expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
        wait_drawn(page)
        page.screenshot(path=str(shots / "data_hmis_left_out.png"), full_page=True)
        page.get_by_text("Import without the rows left out").click()
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("The dashboard holds 14 referrals").wait_for(timeout=60_000)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not errors, errors
        page.close()


def test_a_coordinator_uploads_an_export_zip_in_chromium_and_sees_the_overview(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    zipped = small_export().zip(tmp_path / "HMIS export.zip")
    (tmp_path / "mapping.toml").write_text(MAPPING)
    database = tmp_path / "atlas.duckdb"
    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    with served(database, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 3600})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.get_by_text("holds no data yet").wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            [str(zipped), str(tmp_path / "mapping.toml")])
        page.get_by_text("This is a HUD HMIS CSV export").wait_for(timeout=60_000)
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("No problems: these files can be imported").wait_for(timeout=60_000)
        page.get_by_text("Referral events", exact=True).wait_for()
        wait_drawn(page)
        page.screenshot(path=str(shots / "data_hmis_report.png"), full_page=True)
        page.get_by_role("button", name="Import").click()
        page.get_by_text("The dashboard holds 5 referrals").wait_for(timeout=60_000)
        page.goto(url)
        page.get_by_role("link", name="Overview").first.wait_for(timeout=60_000)
        page.get_by_role("link", name="Overview").first.click()
        values = page.locator('[data-testid="stMetricValue"]')
        expect(values).to_have_count(6, timeout=60_000)
        wait_drawn(page)
        labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
        shown = dict(zip([label.strip() for label in labels], values.all_inner_texts()))
        with Atlas(database) as db:
            import pandas as pd

            from atlas.filters import period_bounds

            extent = db.query("data_extent").iloc[0]
            first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
            start, end = period_bounds("Last 12 months", first, last)
            funnel = db.query("referral_funnel", start=start, end=end).iloc[0]
        assert shown["Referrals"].strip() == f"{int(funnel['referrals']):,}" == "5"
        expect(page.get_by_text("No declared partnerships are loaded")).to_be_visible()
        page.screenshot(path=str(shots / "overview_hmis.png"), full_page=True)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not errors, errors
        page.close()
