"""Exports in their own columns, through a column mapping set once: real-world shapes written here (a 211
export, a case-management export with one status column, a spreadsheet with separate date and time
columns, an Excel file with serial dates, agency names with variant spellings), the mapping file, the
command line, and the Data page's mapping flow under AppTest (with a saved mapping recognised next month,
and reapplied by the CLI to the same database)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import TEST_KEY
from streamlit.testing.v1 import AppTest
from test_import import run_atlas
from xlsx import write_xlsx

from atlas.ingest import importer, sources, upload
from atlas.ingest.formats import agency_ids, columns

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")

CASE_TOOL = """Referral #,Client,Date Sent,Time Sent,Referred By,Referred To,Service,Status,Status Date
1001,C-1,03/04/2024,09:30,Harbor House,City Hospital,Medical,Enrolled,03/06/2024
1002,C-2,03/05/2024,14:00,harbor house ,St Marks,Food,Declined – full,03/07/2024
1003,C-3,03/13/2024,08:15,City Hospital,Harbor House,Shelter,Pending,
1004,C-4,3/14/2024,10:00,St. Mark's,City Hospital,Medical,Closed,04/01/2024
1005,C-5,03/15/2024,10:00,St. Mark's,City Hospital,Medical,Accepted,03/18/2024
1006,C-6,03/16/2024,11:00,St Marks,Harbor House,Shelter,Declined - not eligible,03/16/2024
"""

CASE_TOOL_MAPPING = columns.ColumnMapping(
    "referrals", ["Referral #", "Client", "Date Sent", "Time Sent", "Referred By", "Referred To", "Service", "Status",
                  "Status Date"],
    columns={"referral_id": "Referral #", "client_id": "Client", "referred_at": ["Date Sent", "Time Sent"],
             "from_agency_id": "Referred By", "to_agency_id": "Referred To", "service_type": "Service"},
    formats={"Date Sent": "MM/DD/YYYY", "Time Sent": "HH:MM", "Status Date": "MM/DD/YYYY"},
    values={"service_type": {"Medical": "medical", "Food": "food", "Shelter": "shelter"}},
    status={"column": "Status", "date": "Status Date",
            "values": {"Enrolled": "started", "Declined – full": "declined:no_capacity", "Pending": "pending",
                       "Closed": "completed", "Accepted": "accepted", "Declined - not eligible": "declined:not_eligible"}},
    agencies={"spellings": {"St. Mark's": "St Mark's Church", "St Marks": "St Mark's Church"},
              "sectors": {"St Mark's Church": "faith", "City Hospital": "health"},
              "regions": {"St Mark's Church": "North"}},
    name="Case tool referrals")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def mapped(path: Path, mapping: columns.ColumnMapping):
    frame, problems = sources.read_text(path)
    assert frame is not None, problems
    tables, found = columns.apply(mapping, frame, path.name)
    return tables, problems + found


def rows(raw: sources.RawTable) -> list[tuple]:
    return [tuple(None if v is None or v != v else v for v in row)
            for row in raw.frame.astype(object).itertuples(index=False)]


def test_a_case_management_export_with_one_status_column(tmp_path):
    tables, problems = mapped(write(tmp_path, "export.csv", CASE_TOOL), CASE_TOOL_MAPPING)
    assert [p for p in problems if p.severity == "error"] == []
    assert rows(tables["agencies"]) == [  # spellings merged: 5 ways of writing 3 agencies
        ("city-hospital", "City Hospital", "health", "Unassigned", "false"),
        ("harbor-house", "Harbor House", "community", "Unassigned", "false"),
        ("st-mark-s-church", "St Mark's Church", "faith", "North", "false"),
    ]
    referrals = {r[0]: r for r in rows(tables["referrals"])}
    frame = tables["referrals"].frame.set_index("referral_id")
    assert referrals["1001"][2:4] == ("harbor-house", "city-hospital")
    assert frame.loc["1002", "from_agency_id"] == "harbor-house"  # "harbor house " is Harbor House
    assert frame.loc["1001", ["referred_at", "accepted_at", "started_at"]].tolist() == [
        "2024-03-04 09:30:00", "2024-03-06 00:00:00", "2024-03-06 00:00:00"]  # Enrolled: accepted and started
    assert frame.loc["1002", ["declined_at", "decline_reason"]].tolist() == ["2024-03-07 00:00:00", "no_capacity"]
    assert frame.loc["1003", ["accepted_at", "declined_at"]].isna().all()  # pending
    assert frame.loc["1004", ["accepted_at", "started_at", "completed_at"]].tolist() == ["2024-04-01 00:00:00"] * 3
    assert frame.loc["1005", "accepted_at"] == "2024-03-18 00:00:00" and pd.isna(frame.loc["1005", "started_at"])
    assert frame.loc["1006", "decline_reason"] == "not_eligible"
    database = tmp_path / "atlas.duckdb"
    importer.import_tables(tables, problems, database, TEST_KEY, mode="replace", source="test", checksum="x")
    con = duckdb.connect(str(database), read_only=True)
    try:
        assert con.execute("select count(*), count(accepted_at), count(declined_at), count(completed_at) "
                           "from referrals").fetchone() == (6, 3, 2, 1)
    finally:
        con.close()


def test_a_211_export_with_iso_timestamps_names_and_its_own_categories(tmp_path):
    text = ("Call ID,Caller ID,Call Date,Agency Referred From,Agency Referred To,Need Category\n"
            "A-1,X9,2024-05-01 10:15,211 Helpline,Food Bank of the North,Food/Meals\n"
            "A-2,X8,2024-05-01T11:00,211 Helpline,Northside Shelter,Housing/Shelter\n"
            "A-3,X9,2024-05-02,211 Helpline,Legal Aid Society,Legal Assistance\n")
    frame, _ = sources.read_text(write(tmp_path, "calls.csv", text))
    proposal = columns.propose(frame, "referrals")
    assert proposal["referral_id"] == "Call ID" and proposal["referred_at"] == "Call Date"
    assert columns.fitting_formats(frame["Call Date"]) == ["YYYY-MM-DD HH:MM[:SS]"]
    values = columns.propose_values(frame["Need Category"], tuple(columns.TABLES["referrals"].column("service_type").values))
    assert dict(zip(values["value"], values["becomes"])) == {"Food/Meals": "food", "Housing/Shelter": "shelter",
                                                            "Legal Assistance": "legal"}
    mapping = columns.ColumnMapping(
        "referrals", list(frame.columns),
        columns={"referral_id": "Call ID", "client_id": "Caller ID", "referred_at": "Call Date",
                 "from_agency_id": "Agency Referred From", "to_agency_id": "Agency Referred To",
                 "service_type": "Need Category"},
        formats={"Call Date": "YYYY-MM-DD HH:MM[:SS]"},
        values={"service_type": dict(zip(values["value"], values["becomes"]))}, agencies={})
    tables, problems = columns.apply(mapping, frame, "calls.csv")
    assert not problems
    assert [r[5] for r in rows(tables["referrals"])] == ["2024-05-01 10:15:00", "2024-05-01 11:00:00",
                                                         "2024-05-02 00:00:00"]
    assert len(tables["agencies"].frame) == 4


def test_a_spreadsheet_with_date_and_time_apart_or_with_am_pm(tmp_path):
    text = ("Ref,Person,Day,At,From,To,Kind\n"
            "R1,P1,04/03/2024,9:05 AM,A,B,Food\n"
            "R2,P2,28/02/2024,1:30 PM,B,A,Food\n")
    frame, _ = sources.read_text(write(tmp_path, "sheet.csv", text))
    assert "DD/MM/YYYY" in columns.fitting_formats(frame["Day"]) and "MM/DD/YYYY" not in columns.fitting_formats(frame["Day"])
    assert columns.fitting_formats(frame["At"], time=True) == ["h:MM AM/PM"]
    mapping = columns.ColumnMapping(
        "referrals", list(frame.columns),
        columns={"referral_id": "Ref", "client_id": "Person", "referred_at": ["Day", "At"], "from_agency_id": "From",
                 "to_agency_id": "To", "service_type": "Kind"},
        formats={"Day": "DD/MM/YYYY", "At": "h:MM AM/PM"}, values={"service_type": {"Food": "food"}}, agencies={})
    tables, problems = columns.apply(mapping, frame, "sheet.csv")
    assert not problems
    assert [r[5] for r in rows(tables["referrals"])] == ["2024-03-04 09:05:00", "2024-02-28 13:30:00"]
    # the same file read under the other day-month order: each value that does not fit is an error, never a guess
    wrong = columns.ColumnMapping(**{**mapping.__dict__, "formats": {"Day": "MM/DD/YYYY", "At": "h:MM AM/PM"}})
    _, problems = columns.apply(wrong, frame, "sheet.csv")
    assert [(p.file, p.row, p.column, p.value, p.rule) for p in problems] == [
        ("sheet.csv", 3, "Day", "28/02/2024", "date_format")]


def test_an_excel_file_with_serial_dates(tmp_path):
    book = write_xlsx(tmp_path / "referrals export.xlsx", {"Sheet1": [
        ["No.", "Client", "Sent (serial)", "From", "To", "Service"],
        ["1", "C1", 45355, "Harbor House", "City Hospital", "Medical"],  # a serial number in a General cell
        ["2", "C2", 45356.5, "City Hospital", "Harbor House", "Medical"],
    ]})
    frame, problems = sources.read_text(book)
    assert list(frame["Sent (serial)"]) == ["45355", "45356.5"]
    assert columns.fitting_formats(frame["Sent (serial)"]) == ["Excel serial number"]
    mapping = columns.ColumnMapping(
        "referrals", list(frame.columns),
        columns={"referral_id": "No.", "client_id": "Client", "referred_at": "Sent (serial)", "from_agency_id": "From",
                 "to_agency_id": "To", "service_type": "Service"},
        formats={"Sent (serial)": "Excel serial number"}, values={"service_type": {"Medical": "medical"}}, agencies={})
    tables, problems = columns.apply(mapping, frame, book.name)
    assert not problems
    assert [r[5] for r in rows(tables["referrals"])] == ["2024-03-04 00:00:00", "2024-03-05 12:00:00"]


def test_variant_spellings_of_one_agency_are_proposed_for_merging():
    frame = pd.DataFrame({"from": ["Harbor House", "harbor house", "Harbor House ", "St. Mark's", "St Marks"],
                          "to": ["City Hospital", "City Hospital", "Cty Hospital", "City Hospital", "Harbour House"]})
    names = columns.distinct_names(frame, ["from", "to"])
    merged = dict(zip(names["written"], names["agency"]))
    assert merged["harbor house"] == "Harbor House" and merged["St Marks"] == "St. Mark's"
    assert merged["Cty Hospital"] == "City Hospital" and merged["Harbour House"] == "Harbor House"


def test_unmapped_values_and_statuses_are_errors_at_their_rows(tmp_path):
    text = CASE_TOOL + "1007,C-7,03/20/2024,09:00,Harbor House,City Hospital,Dental,On hold,03/21/2024\n"
    tables, problems = mapped(write(tmp_path, "export.csv", text), CASE_TOOL_MAPPING)
    found = {(p.file, p.row, p.column, p.value, p.rule) for p in problems}
    assert ("export.csv", 8, "Service", "Dental", "value_mapping") in found
    assert ("export.csv", 8, "Status", "On hold", "value_mapping") in found


def test_the_mapping_file_round_trips_and_is_checked(tmp_path):
    text = CASE_TOOL_MAPPING.to_toml()
    assert "[status.values]" in text and '"Date Sent" = "MM/DD/YYYY"' in text
    again = columns.ColumnMapping.from_toml(text)
    assert again.__dict__ == CASE_TOOL_MAPPING.__dict__ | {"agencies": again.agencies}
    assert again.agencies["spellings"] == CASE_TOOL_MAPPING.agencies["spellings"]
    assert again.matches(list(reversed(CASE_TOOL_MAPPING.header)))
    for bad, says in [(text.replace('"declined:no_capacity"', '"declined:too_busy"'), "decline reason"),
                      (text.replace('table = "referrals"', 'table = "calls"'), "not a contract table"),
                      (text.replace('"MM/DD/YYYY"', '"M/D/Y"', 1), "format"),
                      (text.replace('service_type = "Service"', 'service_type = "Services"'), "not in the header"),
                      (text.replace('"Medical" = "medical"', '"Medical" = "medicine"'), "not one of"),
                      ("table = ", "not valid TOML")]:
        with pytest.raises(columns.MappingError, match=says):
            columns.ColumnMapping.from_toml(bad)


def test_the_command_line_applies_a_saved_mapping(tmp_path):
    folder = tmp_path / "march"
    folder.mkdir()
    write(folder, "Case tool export.csv", CASE_TOOL)
    mapping = write(tmp_path, "case-tool.toml", CASE_TOOL_MAPPING.to_toml())
    database = tmp_path / "atlas.duckdb"
    done = run_atlas("import", str(folder), "--columns", str(mapping), "--db", str(database))
    assert done.returncode == 0, done.stderr
    assert "3 agencies, 6 referrals" in done.stdout
    other = write(tmp_path, "other.toml", CASE_TOOL_MAPPING.to_toml().replace('"Client"', '"Customer"'))
    refused = run_atlas("import", str(folder), "--columns", str(other), "--db", str(database))
    assert refused.returncode == 1 and "No file in march has the columns" in refused.stderr


def upload_and_map(at: AppTest, text: str, formats: dict[str, str]) -> str:
    at.file_uploader[0].set_value([("Case tool export.csv", text.encode(), "text/csv")]).run()
    assert not at.exception, at.exception
    k = "map_0_Case tool export.csv" if "map_0_Case tool export.csv_table" in [s.key for s in at.selectbox] else \
        next(s.key[:-6] for s in at.selectbox if s.key and s.key.endswith("_table"))
    for column, fmt in formats.items():
        at.selectbox(key=f"{k}_format_{column}").set_value(fmt).run()
    return k


def test_the_page_maps_a_file_keeps_the_mapping_and_recognises_next_months(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "page" / "atlas.duckdb"))
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    k = upload_and_map(at, CASE_TOOL, {"Status Date": "MM/DD/YYYY"})
    assert at.selectbox(key=f"{k}_format_Date Sent").value == "MM/DD/YYYY"  # the only format every value fits
    assert at.selectbox(key=f"{k}_time_referred_at").value == "Time Sent"
    assert at.toggle(key=f"{k}_use_status").value and at.toggle(key=f"{k}_by_name").value
    next(b for b in at.button if b.label == "Keep it for next month's export").click().run()
    saved = list((tmp_path / "page" / "mappings").glob("*.toml"))
    assert len(saved) == 1
    next(b for b in at.button if b.label == "Check the files").click().run()
    assert any("can be imported" in s.value for s in at.success), [e.value for e in at.error]
    next(b for b in at.button if b.label == "Import").click().run()
    assert any("6 referrals" in s.value for s in at.success)

    # next month: the same columns are recognised, and the mapping applies with nothing to choose
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader[0].set_value([("April export.csv", CASE_TOOL.replace("1001,", "2001,").encode(),
                                    "text/csv")]).run()
    assert any("Recognised" in s.value for s in at.success)
    at.radio[0].set_value("append").run()
    next(b for b in at.button if b.label == "Check the files").click().run()
    assert any("can be imported" in s.value for s in at.success), [e.value for e in at.error]

    # the saved mapping, given to the command line, builds the same database from the same file
    folder = tmp_path / "cli"
    folder.mkdir()
    write(folder, "Case tool export.csv", CASE_TOOL)
    done = run_atlas("import", str(folder), "--columns", str(saved[0]), "--db", str(tmp_path / "cli.duckdb"))
    assert done.returncode == 0, done.stderr
    tables = ("agencies", "referrals")
    page, cli = ({t: duckdb.connect(str(db), read_only=True).execute(f"select * from {t} order by 1").fetchall()
                  for t in tables} for db in (tmp_path / "page" / "atlas.duckdb", tmp_path / "cli.duckdb"))
    assert page == cli


def test_a_coordinator_maps_an_export_in_chromium_and_reaches_the_overview(browser, tmp_path, monkeypatch):
    from browser import served, wait_drawn
    from playwright.sync_api import expect

    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    export = write(tmp_path, "Case tool export.csv", CASE_TOOL)
    database = tmp_path / "atlas.duckdb"
    shots = Path(os.environ.get("ATLAS_SCREENSHOT_DIR", tmp_path))
    with served(database, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 4200})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.get_by_text("holds no data yet").wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(export))
        page.get_by_text("Map the columns of").wait_for(timeout=60_000)
        wait_drawn(page)
        # every date column's values fit one format only, so each is chosen and shown as it reads
        page.get_by_text("Reads as: 03/06/2024 → 6 Mar 2024").wait_for(timeout=30_000)
        page.get_by_role("combobox", name="How Date Sent is written").click()  # the person can still change it
        page.get_by_role("option", name="MM/DD/YYYY", exact=True).click()
        wait_drawn(page)
        page.screenshot(path=str(shots / "data_column_mapping.png"), full_page=True)
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("No problems: these files can be imported").wait_for(timeout=60_000)
        page.get_by_role("button", name="Import").click()
        page.get_by_text("The dashboard holds 6 referrals").wait_for(timeout=60_000)
        page.goto(url)
        page.get_by_role("link", name="Overview").first.wait_for(timeout=60_000)
        page.get_by_role("link", name="Overview").first.click()
        values = page.locator('[data-testid="stMetricValue"]')
        expect(values).to_have_count(6, timeout=60_000)
        wait_drawn(page)
        assert values.first.inner_text().strip() == "6"
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        assert not errors, errors
        page.close()


def test_hostile_header_and_values_cannot_break_or_extend_the_mapping_file():
    hostile = 'Ref"\n[agencies]\ndefault_sector = "justice"\n\\'
    mapping = columns.ColumnMapping("referrals", [hostile, "C", "D", "F", "T", "S"],
                                    columns={"referral_id": hostile, "client_id": "C", "referred_at": "D",
                                             "from_agency_id": "F", "to_agency_id": "T", "service_type": "S"},
                                    formats={"D": "YYYY-MM-DD"}, values={"service_type": {'x"\ty': "food"}})
    again = columns.ColumnMapping.from_toml(mapping.to_toml())
    assert again.header[0] == hostile and again.columns["referral_id"] == hostile
    assert again.values == {"service_type": {'x"\ty': "food"}} and again.agencies is None


PANTRY_HEADER = ["Referral #", "Client", "Date Sent", "Referred By", "Referred To", "Service"]
PANTRY = """Referral #,Client,Date Sent,Referred By,Referred To,Service
2001,C-1,03/04/2024,Café Esperança Food Pantry,Harbor House,Food
2002,C-2,03/05/2024,Harbor House,Café Esperança Food Pantry,Food
"""
PANTRY_APRIL = """Referral #,Client,Date Sent,Referred By,Referred To,Service
2003,C-3,04/02/2024,Café Esperança Food Pantry,Nueva Vía Shelter,Food
2004,C-1,04/09/2024,Nueva Vía Shelter,Café Esperança Food Pantry,Food
"""
PANTRY_MAPPING = columns.ColumnMapping(
    "referrals", PANTRY_HEADER,
    columns={"referral_id": "Referral #", "client_id": "Client", "referred_at": "Date Sent",
             "from_agency_id": "Referred By", "to_agency_id": "Referred To", "service_type": "Service"},
    formats={"Date Sent": "MM/DD/YYYY"}, values={"service_type": {"Food": "food"}}, agencies={},
    name="Pantry referrals")
EARLIER = "caf-esperan-a-food-pantry"  # the id versions before transliteration made of the pantry's name


def test_an_agency_id_made_from_a_name_transliterates_its_letters():
    assert agency_ids.agency_slug("Café Esperança Food Pantry") == "cafe-esperanca-food-pantry"
    assert agency_ids.earlier_slug("Café Esperança Food Pantry") == EARLIER
    assert agency_ids.agency_slug("  Straße der Hilfe ") == "strasse-der-hilfe"
    assert agency_ids.agency_slug("Øresund Æble & Łódź") == "oresund-aeble-lodz"
    assert agency_ids.agency_slug("St. Mark's Church") == "st-mark-s-church"  # as before, without accents
    # names in another script: ids of their own, never one "agency" shared by all of them
    greek, russian = agency_ids.agency_slug("Κέντρο Αλληλεγγύης"), agency_ids.agency_slug("Центр помощи")
    assert greek.startswith("agency-") and russian.startswith("agency-") and greek != russian
    assert agency_ids.agency_slug("Центр  помощи") == russian  # spacing is not a different name


def ids(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_an_agency_stored_under_its_earlier_id_keeps_it_through_append_and_replace(tmp_path):
    tables, problems = mapped(write(tmp_path, "march.csv", PANTRY), PANTRY_MAPPING)
    assert not problems
    assert rows(tables["agencies"])[0][:2] == ("cafe-esperanca-food-pantry", "Café Esperança Food Pantry")
    # the database an earlier version built of March's export, the pantry under its earlier id
    for raw in tables.values():
        for column in ("agency_id", "from_agency_id", "to_agency_id"):
            if column in raw.frame:
                raw.frame[column] = raw.frame[column].replace({"cafe-esperanca-food-pantry": EARLIER})
    database = tmp_path / "atlas.duckdb"
    importer.import_tables(tables, [], database, TEST_KEY, mode="replace", source="an earlier version",
                           checksum="earlier")
    april = tmp_path / "april"
    april.mkdir()
    write(april, "April referrals.csv", PANTRY_APRIL)
    mapping = write(tmp_path, "pantry.toml", PANTRY_MAPPING.to_toml())

    # the Data page's check of April's export, through the same mapping
    staging = upload.stage([("April referrals.csv", PANTRY_APRIL.encode())], root=tmp_path / "staged")
    review = upload.review(staging, database, TEST_KEY, mode="append", mappings={staging.files[0].name: PANTRY_MAPPING})
    assert review.ok, review.report()
    assert EARLIER in set(review.tables["agencies"].frame["agency_id"])

    done = run_atlas("import", str(april), "--columns", str(mapping), "--db", str(database), "--append")
    assert done.returncode == 0, done.stderr
    assert ids(database, "select agency_id, name from agencies order by 1") == [
        (EARLIER, "Café Esperança Food Pantry"), ("harbor-house", "Harbor House"),
        ("nueva-via-shelter", "Nueva Vía Shelter")]
    assert ids(database, "select referral_id, from_agency_id, to_agency_id from referrals order by 1") == [
        ("2001", EARLIER, "harbor-house"), ("2002", "harbor-house", EARLIER),
        ("2003", EARLIER, "nueva-via-shelter"), ("2004", "nueva-via-shelter", EARLIER)]
    # a replace of the database with the same mapping keeps the stored id too
    done = run_atlas("import", str(april), "--columns", str(mapping), "--db", str(database))
    assert done.returncode == 0, done.stderr
    assert ids(database, "select agency_id from agencies order by 1") == [(EARLIER,), ("nueva-via-shelter",)]
    # and a new database gets the transliterated id
    fresh = tmp_path / "fresh.duckdb"
    done = run_atlas("import", str(april), "--columns", str(mapping), "--db", str(fresh))
    assert done.returncode == 0, done.stderr
    assert ids(fresh, "select agency_id from agencies order by 1") == [("cafe-esperanca-food-pantry",),
                                                                      ("nueva-via-shelter",)]
