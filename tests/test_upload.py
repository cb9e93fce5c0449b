"""Bringing your own data: real-world files, the upload flow, append and replace, atomic imports.

Every file here is written for real (in each encoding, with each delimiter, as Excel stores a
workbook) and goes through the same code as the Data page and `atlas import`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files
from xlsx import write_xlsx

from atlas.contract import TABLES
from atlas.db import Atlas
from atlas.ingest import importer, upload, validate
from atlas.ingest.sources import read_file, read_folder

AGENCIES = "agency_id,name,sector,region\n007,Café Ünïcode,nonprofit,North\nA2,Two,faith,South\n"
EXPECTED = [{"agency_id": "007", "name": "Café Ünïcode", "sector": "nonprofit", "region": "North"},
            {"agency_id": "A2", "name": "Two", "sector": "faith", "region": "South"}]
REFERRALS_HEADER = SMALL_COMMUNITY["referrals.csv"].split("\n", 1)[0]


def records(raw) -> list[dict]:
    return raw.frame.astype(object).where(raw.frame.notna(), None).to_dict("records")


def rows(path: Path, sql: str):
    con = duckdb.connect()
    try:
        con.execute("attach $p as db (read_only)", {"p": str(path)})
        con.execute("use db")
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---- real-world files ------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, bom, warned", [
    ("utf-8", b"", False),
    ("utf-8", codecs.BOM_UTF8, False),
    ("cp1252", b"", True),
    ("utf-16-le", codecs.BOM_UTF16_LE, False),
    ("utf-16-be", codecs.BOM_UTF16_BE, False),
])
def test_each_encoding_reads_the_same_table(tmp_path, encoding, bom, warned):
    path = tmp_path / "agencies.csv"
    path.write_bytes(bom + AGENCIES.replace("\n", "\r\n").encode(encoding))
    raw, problems = read_file(path)
    assert records(raw) == EXPECTED
    assert [p.rule for p in problems] == (["encoding"] if warned else [])
    assert all(p.severity == "warning" for p in problems)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_each_delimiter_is_detected(tmp_path, delimiter, suffix):
    text = AGENCIES.replace(",", delimiter)
    path = tmp_path / f"agencies{suffix}"
    path.write_text(text, encoding="utf-8")
    raw, problems = read_file(path)
    assert problems == [] and records(raw) == EXPECTED


def test_a_comma_inside_semicolon_separated_values_stays_in_its_cell(tmp_path):
    text = 'agency_id;name;sector;region\nA1;"Hope; Inc";faith;North\nA2;Smith, Jones & Co;business;South\n'
    (tmp_path / "agencies.csv").write_text(text)
    raw, problems = read_file(tmp_path / "agencies.csv")
    assert problems == [] and raw.frame["name"].tolist() == ["Hope; Inc", "Smith, Jones & Co"]


def test_quoted_newlines_trailing_blank_rows_and_leading_zeros(tmp_path):
    text = ('agency_id,name,sector,region\r\n'
            '007,"Harbor\r\nHouse, ""the"" shelter",nonprofit,North\r\n'
            '0042,Two,faith,South\r\n'
            ',,,\r\n;;;\r\n\r\n' .replace(";;;", ",,,"))
    (tmp_path / "agencies.csv").write_text(text, newline="")
    raw, problems = read_file(tmp_path / "agencies.csv")
    assert problems == []
    assert raw.frame["agency_id"].tolist() == ["007", "0042"]
    assert raw.frame["name"].tolist()[0] == 'Harbor\r\nHouse, "the" shelter'
    tables, found = validate.validate({"agencies": raw})
    assert found == [] and len(tables["agencies"]) == 2


def test_a_blank_row_in_the_middle_is_reported_where_it_is(tmp_path):
    (tmp_path / "agencies.csv").write_text("agency_id,name,sector,region\nA1,One,faith,North\n\nA2,Two,faith,South\n")
    raw, _ = read_file(tmp_path / "agencies.csv")
    _, problems = validate.validate({"agencies": raw})
    assert {(p.row, p.rule) for p in problems} == {(3, "required")}


@pytest.mark.parametrize("written, message", [
    ("03/01/2024", "YYYY-MM-DD"),  # day/month or month/day: never guessed
    ("2024-13-01", "No such date"),  # month 13: day and month swapped
    ("01-03-2024", "YYYY-MM-DD"),
    ("2024-02-30", "No such date"),
])
def test_ambiguous_and_swapped_dates_are_refused_with_a_clear_message(tmp_path, written, message):
    referrals = SMALL_COMMUNITY["referrals.csv"].replace("2024-01-02 09:00", written, 1)
    folder = write_files(tmp_path, dict(SMALL_COMMUNITY, **{"referrals.csv": referrals}))
    raw, problems = read_folder(folder)
    _, found = validate.validate(raw)
    [problem] = [p for p in found if p.severity == "error"]
    assert (problem.file, problem.row, problem.column, problem.value) == ("referrals.csv", 2, "referred_at", written)
    assert message in problem.message


def test_an_excel_workbook_is_read_with_excel_dates_and_numbers(tmp_path):
    path = write_xlsx(tmp_path / "March referrals.xlsx", {
        "Notes": [["Exported from the case system"]],
        "referrals": [
            REFERRALS_HEADER.split(","),
            ["R1", "C001", "A1", "A2", "medical", dt.datetime(2024, 1, 2, 9, 30), None,
             dt.datetime(2024, 1, 3, 10, 0), None, None, dt.date(2024, 1, 4), None],
            [2, 17, "A1", "A2", "medical", dt.date(2024, 1, 5), None, None, None, None, None, None],
        ]})
    raw, problems = read_file(path, "referrals")
    assert records(raw)[0] | {} == {
        "referral_id": "R1", "client_id": "C001", "from_agency_id": "A1", "to_agency_id": "A2",
        "service_type": "medical", "referred_at": "2024-01-02 09:30:00", "to_program_id": None,
        "accepted_at": "2024-01-03 10:00:00", "declined_at": None, "decline_reason": None,
        "started_at": "2024-01-04", "completed_at": None}
    assert raw.frame["referral_id"].tolist() == ["R1", "2"] and raw.frame["client_id"].tolist()[1] == "17"
    # the sheet named after the table is read; ids Excel stored as numbers are warned about
    assert sorted((p.rule, p.column) for p in problems) == [("id_as_number", "client_id"),
                                                           ("id_as_number", "referral_id")]
    tables, found = validate.validate({"referrals": raw})
    assert not [p for p in found if p.rule in ("timestamp_format", "date_format")]


def test_an_excel_month_column_and_the_first_sheet(tmp_path):
    path = write_xlsx(tmp_path / "capacity.xlsx", {"Sheet1": [["program_id", "month", "slots"],
                                                              ["P1", dt.date(2024, 3, 1), 12.0],
                                                              ["P1", dt.date(2024, 4, 15), 3]],
                                                   "Sheet2": [["x"], [1]]})
    raw, problems = read_file(path)
    assert raw.frame.to_dict("list") == {"program_id": ["P1", "P1"], "month": ["2024-03", "2024-04-15"],
                                         "slots": ["12", "3"]}
    assert [p.rule for p in problems] == ["sheet"]


@pytest.mark.parametrize("name, content, rule, says", [
    ("agencies.xlsx", AGENCIES.encode(), "not_xlsx", "agencies.csv"),  # a CSV renamed .xlsx
    ("agencies.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "not_xlsx", ".xls"),
    ("agencies.xlsx", None, "not_xlsx", "zip archive"),  # a zip that is not a workbook
    ("agencies.xlsx", b"PK\x03\x04" + bytes(100), "not_xlsx", "damaged"),
    ("agencies.csv", None, "not_csv", "zip archive"),  # a workbook renamed .csv
    ("agencies.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not_csv", "binary"),
    ("agencies.csv", b"%PDF-1.7\n%\xe2\xe3", "not_csv", "PDF"),
    ("agencies.parquet", AGENCIES.encode(), "not_parquet", "agencies.csv"),
])
def test_files_are_checked_by_content_not_by_name(tmp_path, name, content, rule, says):
    path = tmp_path / name
    if content is None and name.endswith(".xlsx"):
        import zipfile
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    elif content is None:
        write_xlsx(tmp_path / "book.xlsx", {"agencies": [["agency_id"], ["A1"]]}).rename(path)
    else:
        path.write_bytes(content)
    raw, problems = read_file(path)
    assert raw is None and [p.rule for p in problems] == [rule]
    assert says in problems[0].message


# ---- templates and staging -------------------------------------------------------------------------

@pytest.mark.parametrize("table", list(TABLES))
def test_each_template_has_the_header_an_example_row_and_a_guide(tmp_path, table):
    data = upload.template_csv(table)
    assert data.startswith(codecs.BOM_UTF8)
    path = tmp_path / f"{table}.csv"
    path.write_bytes(data)
    raw, problems = read_file(path)
    assert problems == [] and list(raw.frame.columns) == [c.name for c in TABLES[table].columns]
    assert len(raw.frame) == 1
    _, found = validate.parse(raw)
    assert found == [], f"the {table} example row follows the contract"
    guide = upload.column_guide(table)
    assert guide["column"].tolist() == [c.name for c in TABLES[table].columns]
    for column in TABLES[table].columns:
        for value in column.values:
            assert value in guide.set_index("column").loc[column.name, "format"]


@pytest.mark.parametrize("name, head, table", [
    ("referrals.csv", b"", "referrals"),
    ("Referrals March 2024.xlsx", b"", "referrals"),
    ("agency list.csv", b"", "agencies"),
    ("export (3).csv", b"program_id;month;slots\r\nP1;2024-01;3", "capacity"),
    ("export.csv", "\ufeffreferral_id,client_id,from_agency_id,to_agency_id,service_type,referred_at\n".encode(),
     "referrals"),
    ("export.csv", b"a,b,c\n1,2,3", None),
])
def test_which_table_a_file_holds_is_guessed(name, head, table):
    assert upload.guess_table(name, head) == table


def test_staging_keeps_names_safe_and_bounds_the_size(tmp_path):
    staging = upload.stage([("../../etc/agencies.csv", b"a"), ("agencies.csv", b"b"), (".hidden.csv", b"c"),
                            ("huge.csv", b"x" * 2048)], max_bytes=1024, root=tmp_path)
    assert [f.name for f in staging.files] == ["agencies.csv", "agencies (2).csv", "hidden.csv"]
    assert all(p.parent == staging.directory for p in staging.directory.iterdir())
    assert [(p.file, p.rule) for p in staging.problems] == [("huge.csv", "file_too_large")]
    assert not (tmp_path / "huge.csv").exists()
    staging.discard()
    assert not staging.directory.exists()


# ---- review and confirm ----------------------------------------------------------------------------

def uploads(files: dict[str, str | bytes]) -> list[tuple[str, bytes]]:
    return [(name, text if isinstance(text, bytes) else text.encode()) for name, text in files.items()]


@pytest.fixture
def base_db(small_db, tmp_path) -> Path:
    path = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    return path


def test_a_bad_upload_gets_a_full_report_and_changes_nothing(base_db, tmp_path):
    before = base_db.read_bytes()
    referrals = (SMALL_COMMUNITY["referrals.csv"].replace("2024-01-03 09:00", "03/01/2024")
                 .replace(",A4,A1,", ",A9,A1,").replace("R13,C11", "=HYPERLINK(1),C11"))
    staging = upload.stage(uploads(dict(SMALL_COMMUNITY, **{"referrals.csv": referrals})), root=tmp_path)
    done = upload.review(staging, base_db, TEST_KEY, mode="replace")
    assert not done.ok and done.errors == 2
    report = done.report()
    assert list(report.columns) == ["file", "row", "column", "value", "problem and how to fix it", "what",
                                    "rule", "severity"]
    assert {(r.file, r.row, r.column, r.value, r.rule) for r in report.itertuples()} == {
        ("referrals.csv", 2, "accepted_at", "03/01/2024", "timestamp_format"),
        ("referrals.csv", 8, "from_agency_id", "A9", "reference")}
    assert done.rule_counts().set_index("rule")["rows"].to_dict() == {"reference": 1, "timestamp_format": 1}
    csv = done.report_csv().decode("utf-8-sig")
    assert "problem and how to fix it" in csv and "03/01/2024" in csv
    with pytest.raises(importer.ImportRejected):
        upload.confirm(done, base_db, TEST_KEY)
    assert base_db.read_bytes() == before
    assert not list(base_db.parent.glob(".*building*"))


def test_a_formula_in_a_reported_value_is_inert_in_the_download(base_db, tmp_path):
    agencies = SMALL_COMMUNITY["agencies.csv"].replace("nonprofit,North,false", "=cmd|' /C calc'!A0,North,false", 1)
    staging = upload.stage(uploads({"agencies.csv": agencies}), root=tmp_path)
    done = upload.review(staging, base_db, TEST_KEY, mode="append")
    text = done.report_csv().decode("utf-8-sig")
    assert "'=cmd" in text and ",=cmd" not in text


def test_upload_replace_then_history(base_db, tmp_path):
    files = dict(SMALL_COMMUNITY)
    files["Agency list.csv"] = files.pop("agencies.csv").replace(",", ";")
    staging = upload.stage(uploads(files), root=tmp_path)
    done = upload.review(staging, base_db, TEST_KEY, mode="replace")
    assert done.ok, upload.report_frame(done.problems)
    assert done.changes().set_index("table").loc["agencies", "file"] == "Agency list.csv"
    result = upload.confirm(done, base_db, TEST_KEY)
    assert result.row_counts["referrals"] == 13 and not staging.directory.exists()
    with Atlas(base_db) as db:
        history = upload.history_frame(db.query("import_history"))
    assert history["how"].tolist() == ["replaced the data"]
    assert "Agency list.csv" in history["files"][0] and "referrals: 13 rows" in history["what changed"][0]
    assert "13 referrals" in upload.result_message(result)


def test_replace_needs_agencies_and_referrals(base_db, tmp_path):
    staging = upload.stage(uploads({"programs.csv": SMALL_COMMUNITY["programs.csv"]}), root=tmp_path)
    done = upload.review(staging, base_db, TEST_KEY, mode="replace")
    assert sorted(p.file for p in done.problems if p.rule == "missing_file") == ["agencies.csv", "referrals.csv"]


def test_a_file_whose_table_is_unknown_is_left_out_or_chosen(base_db, tmp_path):
    staging = upload.stage(uploads({"export.csv": SMALL_COMMUNITY["capacity.csv"].replace("program_id,month", "prog,mon")}),
                           root=tmp_path)
    assert staging.files[0].table is None
    left_out = upload.review(staging, base_db, TEST_KEY, mode="append")
    assert [p.rule for p in left_out.problems] == ["unrecognised_file"]
    chosen = upload.review(staging, base_db, TEST_KEY, mode="append", tables={"export.csv": "capacity"})
    assert "missing_column" in {p.rule for p in chosen.problems}


def test_two_files_for_one_table_are_refused(base_db, tmp_path):
    staging = upload.stage(uploads({"referrals.csv": SMALL_COMMUNITY["referrals.csv"],
                                    "referrals-2.csv": SMALL_COMMUNITY["referrals.csv"]}), root=tmp_path)
    done = upload.review(staging, base_db, TEST_KEY, mode="append")
    assert [(p.file, p.rule) for p in done.problems] == [("referrals-2.csv", "duplicate_file")]


def test_an_import_in_between_is_noticed_at_confirm(base_db, tmp_path, small_files):
    staging = upload.stage(uploads({"referrals.csv": REFERRALS_HEADER + "\nR50,C50,A1,A2,medical,2024-04-01,,,,,,\n"}),
                           root=tmp_path)
    done = upload.review(staging, base_db, TEST_KEY, mode="append")
    assert done.ok
    time.sleep(0.01)
    importer.import_folder(small_files, base_db, TEST_KEY)  # someone else replaces the data
    with pytest.raises(importer.DatabaseChanged):
        upload.confirm(done, base_db, TEST_KEY)
    again = upload.review(staging, base_db, TEST_KEY, mode="append")
    assert upload.confirm(again, base_db, TEST_KEY).changes["referrals"].added == 1


def test_checking_and_importing_uploads_report_their_progress(base_db, tmp_path):
    from atlas.progress import Progress

    staging = upload.stage(uploads(SMALL_COMMUNITY), root=tmp_path)
    checked, imported = [], []
    done = upload.review(staging, base_db, TEST_KEY, progress=Progress(checked.append, every=0))
    assert done.ok
    assert [s.done for s in checked] == sorted(s.done for s in checked) and checked[-1].done == 1.0
    assert any(s.doing == "Reading referrals.csv" for s in checked)
    assert any(s.doing == "Checking referrals.csv" for s in checked)
    assert checked[-1].rules_total > 50 and checked[-1].rows == sum(
        text.count("\n") - 1 for name, text in SMALL_COMMUNITY.items() if name.endswith(".csv"))
    upload.confirm(done, base_db, TEST_KEY, progress=Progress(imported.append, every=0))
    assert [s.done for s in imported] == sorted(s.done for s in imported) and imported[-1].done == 1.0
    assert any(s.doing == "Writing referrals" for s in imported)
    assert any(s.doing == "Building the model: journey facts" for s in imported)


# ---- append --------------------------------------------------------------------------------------

NEXT_MONTH = REFERRALS_HEADER + """
R03,C3,A1,A3,mental_health,2024-01-10 08:00,,2024-01-20 08:00,,,,
R05,C5,A5,A1,shelter,2024-02-10 12:00,,,,,,
R20,C12,A1,A2,medical,2024-04-02 09:00,P4,,,,,
R21,C1,A2,A4,housing,2024-04-03 09:00,,2024-04-04 09:00,,,,
"""


def test_append_adds_new_rows_fills_in_progress_and_keeps_the_log(base_db, tmp_path):
    folder = write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH})
    result = importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    assert result.written
    assert result.changes["referrals"] == importer.Change(rows=4, added=2, updated=1, unchanged=1)
    assert rows(base_db, "select count(*) from referrals") == [(15,)]
    # R03 was pending: the new export's acceptance fills it in; R05's stored program stays
    assert rows(base_db, "select accepted_at from referrals where referral_id = 'R03'") == [
        (dt.datetime(2024, 1, 20, 8),)]
    assert rows(base_db, "select to_program_id from referrals where referral_id = 'R05'") == [("P1",)]
    # the same client links across imports (same key, same pseudonym)
    assert rows(base_db, "select count(distinct client_id) from referrals where referral_id in ('R01', 'R21')") == [(1,)]
    log = rows(base_db, "select mode, changes from imports order by imported_at, mode desc")
    assert [mode for mode, _ in log] == ["replace", "append"]
    assert json.loads(log[1][1])["referrals"] == {"added": 2, "updated": 1, "unchanged": 1}


def test_appending_the_same_files_again_changes_nothing_at_all(base_db, tmp_path):
    folder = write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH})
    importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    after_first = base_db.read_bytes()
    again = importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    assert not again.written and again.changes["referrals"].added == 0
    assert base_db.read_bytes() == after_first  # byte for byte: not even a log row


def test_a_conflict_stops_an_append_unless_the_files_should_win(base_db, tmp_path):
    before = base_db.read_bytes()
    changed = REFERRALS_HEADER + "\nR01,C1,A1,A2,medical,2024-01-02 09:00,P4,2024-01-04 09:00,,,2024-01-05 09:00,2024-01-20 09:00\n"
    changed += "R02,C99,A1,A3,mental_health,2024-01-05 10:00,P2,2024-01-15 10:00,,,2024-01-20 10:00,\n"
    folder = write_files(tmp_path / "fix", {"referrals.csv": changed})
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    located = sorted((p.row, p.column, p.value, p.rule) for p in rejected.value.problems)
    assert located == [(2, "accepted_at", "2024-01-04 09:00", "append_conflict"),
                       (3, "client_id", "C99", "append_conflict")]
    by_column = {p.column: p.message for p in rejected.value.problems}
    assert "referral_id R01" in by_column["accepted_at"] and "'2024-01-03 09:00:00'" in by_column["accepted_at"]
    assert "pseudonymised" in by_column["client_id"] and "key" in by_column["client_id"]
    assert base_db.read_bytes() == before

    result = importer.import_folder(folder, base_db, TEST_KEY, mode="append", on_conflict="update")
    assert {p.rule for p in result.warnings} == {"append_conflict"}
    assert result.changes["referrals"].updated == 2
    assert rows(base_db, "select accepted_at from referrals where referral_id = 'R01'") == [
        (dt.datetime(2024, 1, 4, 9),)]


def test_append_checks_references_against_what_is_stored(base_db, tmp_path):
    month = REFERRALS_HEADER + "\nR30,C30,A1,A7,medical,2024-04-01,,,,,,\nR31,C31,A1,A3,mental_health,2024-04-01,P1,,,,,\n"
    folder = write_files(tmp_path / "m", {"referrals.csv": month})
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    assert sorted((p.row, p.column, p.rule) for p in rejected.value.problems) == [
        (2, "to_agency_id", "reference"), (3, "to_program_id", "program_agency_mismatch")]
    # with the new agency in the same append, it goes through
    folder = write_files(tmp_path / "m", {"agencies.csv": "agency_id,name,sector,region\nA7,New Place,community,East\n",
                                          "referrals.csv": month.replace(",P1,", ",P2,")})
    result = importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    assert result.changes["agencies"].added == 1 and result.changes["referrals"].added == 2


def test_append_matches_partnerships_either_way_round_and_outcomes_by_their_facts(base_db, tmp_path):
    partnerships = ("agency_a_id,agency_b_id,kind,instrument,started_on,ended_on,trust,value\n"
                    "A2,A1,formal,mou,2023-01-01,2024-06-30,4,4\n"     # A1-A2 mou: now ended
                    "A5,A4,informal,personal,2024-04-01,,,\n")         # new
    outcomes = "client_id,agency_id,program_id,outcome,achieved_on\nC1,A2,P4,health_connected,2023-12-15\nC1,A1,P1,housed_permanent,2024-04-01\n"
    folder = write_files(tmp_path / "p", {"partnerships.csv": partnerships, "outcomes.csv": outcomes})
    result = importer.import_folder(folder, base_db, TEST_KEY, mode="append")
    assert result.changes["partnerships"] == importer.Change(2, added=1, updated=1, unchanged=0)
    assert result.changes["outcomes"] == importer.Change(2, added=1, updated=0, unchanged=1)
    assert rows(base_db, "select count(*), count(ended_on) from partnerships") == [(6, 2)]
    assert rows(base_db, "select count(*) from outcomes") == [(96,)]


def test_append_needs_a_database(tmp_path):
    folder = write_files(tmp_path / "in", {"referrals.csv": NEXT_MONTH})
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_folder(folder, tmp_path / "none.duckdb", TEST_KEY, mode="append")
    assert [p.rule for p in rejected.value.problems] == ["no_database"]
    assert not (tmp_path / "none.duckdb").exists()


def test_the_cli_appends(base_db, tmp_path):
    from test_import import run_atlas

    folder = write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH})
    out = run_atlas("import", str(folder), "--db", str(base_db), "--append")
    assert out.returncode == 0, out.stderr
    assert "2 new and 1 updated referrals" in out.stdout
    out = run_atlas("import", str(folder), "--db", str(base_db), "--append")
    assert out.returncode == 0 and "Nothing new" in out.stdout


# ---- atomic while people browse ----------------------------------------------------------------------

def test_a_reader_keeps_the_old_data_until_it_reopens(base_db, tmp_path):
    reader = Atlas(base_db)
    assert reader.query("data_extent")["referrals"].iloc[0] == 13
    importer.import_folder(write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH}), base_db, TEST_KEY,
                           mode="append")
    assert not reader.is_current()
    assert reader.query("data_extent")["referrals"].iloc[0] == 13  # still works, on the old file
    with Atlas(base_db) as fresh:  # reopening sees the new file, though the old one is still open
        assert fresh.query("data_extent")["referrals"].iloc[0] == 15
        assert fresh.version != reader.version
    reader.close()


def test_readers_keep_working_during_imports(base_db, tmp_path, small_files):
    errors, counts, stop = [], set(), threading.Event()

    def browse():
        while not stop.is_set():
            try:
                with Atlas(base_db) as db:
                    counts.add(int(db.query("data_extent")["referrals"].iloc[0]))
                    db.query("referral_funnel")
            except Exception as error:  # any failure is the test's failure
                errors.append(error)

    threads = [threading.Thread(target=browse) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            importer.import_folder(write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH}), base_db,
                                   TEST_KEY, mode="append")
            importer.import_folder(small_files, base_db, TEST_KEY)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert counts <= {13, 15} and 13 in counts


def test_the_app_reopens_the_swapped_file(base_db, tmp_path, monkeypatch):
    from atlas import app

    monkeypatch.setenv("ATLAS_DB", str(base_db))
    first = app.database()
    assert first.query("data_extent")["referrals"].iloc[0] == 13
    importer.import_folder(write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH}), base_db, TEST_KEY,
                           mode="append")
    second = app.database()
    assert second is not first and second.query("data_extent")["referrals"].iloc[0] == 15


def test_an_interrupted_build_leaves_the_database_byte_identical(base_db, tmp_path, monkeypatch):
    before = base_db.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(importer, "_log", broken)
    with pytest.raises(OSError):
        importer.import_folder(write_files(tmp_path / "april", {"referrals.csv": NEXT_MONTH}), base_db,
                               TEST_KEY, mode="append")
    assert base_db.read_bytes() == before
    assert not [p for p in base_db.parent.iterdir() if "building" in p.name]


# ---- a big file ----------------------------------------------------------------------------------

def big_community(n: int) -> dict[str, str]:
    agencies = "agency_id,name,sector,region\n" + "".join(
        f"A{i:03d},Agency {i},nonprofit,R{i % 6}\n" for i in range(200))
    lines = [REFERRALS_HEADER]
    start = dt.datetime(2023, 1, 1)
    for i in range(n):
        at = start + dt.timedelta(minutes=7 * i)
        accepted = (at + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M") if i % 3 else ""
        lines.append(f"R{i:07d},C{i % 40000:06d},A{i % 200:03d},A{(i * 7 + 1) % 200:03d},housing,"
                     f"{at:%Y-%m-%d %H:%M},,{accepted},,,,")
    return {"agencies.csv": agencies, "referrals.csv": "\n".join(lines) + "\n"}


def test_a_100000_row_file_validates_and_imports(tmp_path):
    """Functional at size (its timing is for `make bench`, not for tests)."""
    files = big_community(100_000)
    database = tmp_path / "big.duckdb"
    staging = upload.stage(uploads(files), root=tmp_path)
    done = upload.review(staging, database, TEST_KEY, mode="replace")
    assert done.ok, done.report().head()
    result = upload.confirm(done, database, TEST_KEY)
    assert result.row_counts["referrals"] == 100_000
    # append the next 1,000 on top, and a broken copy that must change nothing
    more = big_community(101_000)["referrals.csv"].splitlines()
    month = "\n".join([more[0], *more[100_001:]]) + "\n"
    appended = importer.import_folder(write_files(tmp_path / "more", {"referrals.csv": month}), database,
                                      TEST_KEY, mode="append")
    assert appended.changes["referrals"].added == 1_000
    before = database.read_bytes()
    broken = files["referrals.csv"].replace(",housing,2023-01-01 00:07,", ",housing,01/01/2023,")
    with pytest.raises(importer.ImportRejected):
        importer.import_folder(write_files(tmp_path / "bad", dict(files, **{"referrals.csv": broken})), database,
                               TEST_KEY)
    assert database.read_bytes() == before


def test_every_rule_the_code_reports_has_a_plain_title():
    import re

    root = Path(__file__).resolve().parent.parent / "atlas" / "ingest"
    source = "".join(path.read_text() for path in sorted(root.rglob("*.py")))  # every importer's rules, every format
    rules = (set(re.findall(r'None, "([a-z_]+)"', source)) | set(re.findall(r'refuse\("([a-z_]+)"', source))
             | set(re.findall(r'(?:_rows|_listed)\([^,]+, [^,]+, "([a-z_]+)"', source)))
    assert {"append_conflict", "encoding", "not_xlsx", "hsds_unit", "unique"} <= rules
    assert sorted(rules - set(upload.RULE_TITLES)) == []
