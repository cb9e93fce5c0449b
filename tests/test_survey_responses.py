"""The responses file and the `survey` commands, run for real (`python -m atlas survey ...` in a process of
its own, over a copy of the small community's database): every rule of the spec reported with row,
column, value and rule, nothing written on any problem, and export -> import -> export byte identical."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from atlas.survey import Answer, Surveys
from atlas.survey.store import answers_path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("round_id,respondent_agency_id,partner_agency_id,frequency,level,agreement,trust_reliable,trust_mission,"
          "trust_open,value_influence,value_involvement,value_resources,submitted_at")
FAR = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def survey(database: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atlas", "survey", *args, "--db", str(database)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def database(small_db, tmp_path) -> Path:
    path = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    members = tmp_path / "members.csv"
    members.write_text("agency_id\nA1\nA2\nA3\nA4\nA5\nA6\n", encoding="utf-8")
    run = survey(path, "open", "r1", "--name", "Spring 2024", "--period", "2024-01-01", "2024-03-31",
                 "--closes", FAR, "--members", str(members))
    assert run.returncode == 0, run.stderr
    assert "6 members" in run.stdout
    return path


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_open_defaults_and_refusals_through_the_command(small_db, tmp_path):
    path = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    run = survey(path, "open", "d", "--name", "D", "--period", "2024-01-01", "2024-03-31", "--closes", FAR)
    assert run.returncode == 0 and "5 members" in run.stdout  # the active agencies, A6 (victim-service) left out
    assert Surveys(path).round("d").opens_on == dt.date.today()
    run = survey(path, "open", "d", "--name", "D", "--period", "2024-01-01", "2024-03-31", "--closes", FAR)
    assert run.returncode == 2 and "already a survey round 'd'" in run.stderr and "Traceback" not in run.stderr
    run = survey(path, "open", "e", "--name", "E", "--period", "2024-03-31", "2024-01-01", "--closes", FAR)
    assert run.returncode == 2 and "after it ends" in run.stderr
    members = tmp_path / "m.csv"
    members.write_text("agency_id\nA1\nNOPE\n", encoding="utf-8")
    run = survey(path, "open", "e", "--name", "E", "--period", "2024-01-01", "2024-03-31", "--closes", FAR,
                 "--members", str(members))
    assert run.returncode == 2 and "'NOPE'" in run.stderr
    run = survey(path, "close", "nope")
    assert run.returncode == 2 and "no survey round 'nope'" in run.stderr
    missing = survey(tmp_path / "none.duckdb", "open", "x", "--name", "X", "--period", "2024-01-01", "2024-03-31",
                     "--closes", FAR)
    assert missing.returncode == 2 and "No database" in missing.stderr


def test_links_are_a_formula_safe_csv_of_each_members_own_link(database, tmp_path):
    out = tmp_path / "links.csv"
    run = survey(database, "links", "r1", "--base-url", "https://atlas.example.org/", "--out", str(out))
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [r["agency_id"] for r in rows] == ["A2", "A1", "A4", "A3", "A6", "A5"]  # by name
    surveys = Surveys(database)
    for row in rows:
        assert row["link"] == surveys.link("r1", row["agency_id"], "https://atlas.example.org")
        assert surveys.resolve(row["link"].split("?t=")[1]).agency_id == row["agency_id"]
    assert rows[1]["name"] == "Harbor House"


def test_every_rule_is_reported_with_row_column_value_and_nothing_is_written(database, tmp_path):
    Surveys(database).save("r1", "A1", [Answer("A2", 1, 1, "no")])
    before = answers_path(database).read_bytes()
    bad = write(tmp_path / "survey_responses.csv",
                "r1,A1,A2,3,4,yes,4,4,4,,,,2024-04-01 10:00:00",    # 2: fine
                "r1,A1,A2,3,4,yes,,,,,,,2024-04-01 10:00:00",       # 3: the pair again
                "r1,A9,A2,3,4,yes,,,,,,,",                          # 4: respondent not a member
                "r1,A2,A9,3,4,yes,,,,,,,",                          # 5: partner not a member
                "r1,A3,A3,3,4,yes,,,,,,,",                          # 6: itself
                "r1,A4,A6,3,4,yes,,,,,,,",                          # 7: a victim-service partner
                "r1,A5,A1,6,0,yes,5,,,,,,",                         # 8: out of range (three cells)
                "r1,A5,A2,,4,,,,,,,,",                              # 9: required missing (two cells)
                "r1,A5,A3,2,2,maybe,,,,,,,",                        # 10: agreement word
                "r1,A5,A4,2,2,no,,,,,,,2024-04-31 10:00",           # 11: submitted_at
                "r2,A6,,,,,,,,,,,")                                 # 12: another round
    run = survey(database, "import", "r1", str(bad))
    assert run.returncode == 1
    found = {re.split(r": | — ", line)[0] for line in run.stderr.splitlines() if line.startswith("survey_responses.csv row")}
    expected = {
        "survey_responses.csv row 3, column partner_agency_id",
        "survey_responses.csv row 4, column respondent_agency_id",
        "survey_responses.csv row 5, column partner_agency_id",
        "survey_responses.csv row 6, column partner_agency_id",
        "survey_responses.csv row 7, column partner_agency_id",
        "survey_responses.csv row 8, column frequency", "survey_responses.csv row 8, column level",
        "survey_responses.csv row 8, column trust_reliable",
        "survey_responses.csv row 9, column frequency", "survey_responses.csv row 9, column agreement",
        "survey_responses.csv row 10, column agreement",
        "survey_responses.csv row 11, column submitted_at",
        "survey_responses.csv row 12, column round_id",
    }
    assert found == expected
    for rule in ("duplicate_pair", "not_a_member", "partner_is_respondent", "victim_service_partner", "out_of_range",
                 "required", "agreement_word", "timestamp_format", "unknown_round"):
        assert rule in run.stderr
    assert "value 'maybe'" in run.stderr and "value '2024-04-31 10:00'" in run.stderr and "value 'A9'" in run.stderr
    assert "Nothing was imported" in run.stderr
    assert answers_path(database).read_bytes() == before


@pytest.mark.parametrize("content, rule", [
    (HEADER.replace("level,", "levels,").encode() + b"\nr1,A1,A2,3,4,yes,,,,,,,\n", "header"),
    (HEADER.replace(",submitted_at", "").encode() + b"\n", "header"),
    ((HEADER + "\nr1,A1,A2,3,4,yes,,,,,,,\n").encode("utf-16"), "not_utf8"),
    (HEADER.encode() + b"\nr1,A1,A2,3,4,yes,,,,,,,\n" + "r1,A2,A1,3,4,oui,,,,,,,\n".encode("latin-1")
     + "é".encode("latin-1"), "not_utf8"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(database, tmp_path, content, rule):
    path = tmp_path / "survey_responses.csv"
    path.write_bytes(content)
    run = survey(database, "import", "r1", str(path))
    assert run.returncode == 1 and rule in run.stderr and "Traceback" not in run.stderr
    assert Surveys(database).progress("r1")["responded"].sum() == 0


def test_an_unknown_round_is_reported(database, tmp_path):
    path = write(tmp_path / "f.csv", "nope,A1,A2,3,4,yes,,,,,,,")
    run = survey(database, "import", "nope", str(path))
    assert run.returncode == 1 and "unknown_round" in run.stderr and "no survey round 'nope'" in run.stderr


def test_import_replaces_the_respondents_in_the_file_and_export_import_export_is_identical(database, tmp_path):
    surveys = Surveys(database)
    surveys.save("r1", "A1", [Answer("A3", 1, 1, "no")])
    surveys.save("r1", "A4", [Answer("A2", 2, 2, "unsure", 1, 2, 3)])
    surveys.save("r1", "A5", [Answer("A1", frequency=2)])  # a draft: never exported
    path = write(tmp_path / "paper.csv",
                 "r1,A1,A2,3,4,yes,4,4,4,,,,2024-04-01 10:00:00",
                 "r1,A1,A5,1,2,no,1,,3,2,2,2,2024-04-01 10:05:00",
                 "r1,A6,A1,5,5,unsure,4,4,3,4,4,4,2024-04-02 09:00:00",
                 "r1,A2,,,,,,,,,,,2024-04-03 08:00:00")
    run = survey(database, "import", "r1", str(path))
    assert run.returncode == 0, run.stderr
    assert "4 rows" in run.stdout and "3 respondents" in run.stdout
    assert surveys.answers("r1", "A1") == [Answer("A2", 3, 4, "yes", 4, 4, 4), Answer("A5", 1, 2, "no", 1, None, 3, 2, 2, 2)]
    assert surveys.answers("r1", "A4") == [Answer("A2", 2, 2, "unsure", 1, 2, 3)]  # not in the file: kept
    assert surveys.named_nobody("r1", "A2")
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert survey(database, "export", "r1", str(first)).returncode == 0
    lines = first.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER
    assert lines[1:] == ["r1,A1,A2,3,4,yes,4,4,4,,,,2024-04-01 10:00:00",
                         "r1,A1,A5,1,2,no,1,,3,2,2,2,2024-04-01 10:05:00",
                         "r1,A2,,,,,,,,,,,2024-04-03 08:00:00",
                         lines[4],
                         "r1,A6,A1,5,5,unsure,4,4,3,4,4,4,2024-04-02 09:00:00"]
    assert lines[4].startswith("r1,A4,A2,2,2,unsure,1,2,3,,,,")
    assert survey(database, "import", "r1", str(first)).returncode == 0
    assert survey(database, "export", "r1", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_close_rekey_and_list(database):
    surveys = Surveys(database)
    old = surveys.token("r1", "A1")
    run = survey(database, "rekey", "r1")
    assert run.returncode == 0 and surveys.resolve(old) is None
    run = survey(database, "list")
    assert run.returncode == 0 and run.stdout.startswith("r1\topen\t2024-01-01 to 2024-03-31")
    assert "0/6 answered" in run.stdout
    run = survey(database, "close", "r1")
    assert run.returncode == 0 and "closed on" in run.stdout
    assert surveys.round("r1").status == "closed" and surveys.resolve(surveys.token("r1", "A1")) is None


def test_an_id_a_spreadsheet_would_run_is_exported_inert_and_read_back_as_it_was(tmp_path):
    from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

    from atlas.ingest import importer

    files = {name: text.replace("A2", "=A2") for name, text in SMALL_COMMUNITY.items()}
    database = tmp_path / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "files", files), database, TEST_KEY)
    surveys = Surveys(database)
    surveys.open_round("r1", "R", dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date.today(),
                       members=["A1", "=A2", "A3"])
    surveys.save("r1", "=A2", [Answer("A1", 2, 3, "no")])
    surveys.save("r1", "A1", [Answer("=A2", 4, 4, "yes")])
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    surveys.export_responses("r1", first)
    assert "r1,'=A2,A1,2,3,no" in first.read_text(encoding="utf-8")
    assert "r1,A1,'=A2,4,4,yes" in first.read_text(encoding="utf-8")
    assert surveys.import_responses("r1", first).ok
    assert surveys.answers("r1", "=A2") == [Answer("A1", 2, 3, "no")]
    surveys.export_responses("r1", second)
    assert second.read_bytes() == first.read_bytes()
