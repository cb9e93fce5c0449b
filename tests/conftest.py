"""Shared fixtures: a small community written as contract files in code, imported for real.

The data is small enough to check every expected number by hand (see tests/test_queries.py); it is
not the demo. Timestamps are chosen so durations are round numbers of days.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from atlas.ingest import importer

TEST_KEY = b"test-key-0123456789abcdef0123456789abcdef"

AGENCIES = """agency_id,name,sector,region,is_victim_service
A1,Harbor House,nonprofit,North,false
A2,City Hospital,health,North,
A3,Riverside Counselling,health,South,false
A4,Housing Authority,government,South,false
A5,St Mark's Church,faith,North,false
A6,Safe Haven,nonprofit,South,true
"""

PROGRAMS = """program_id,agency_id,name,service_type,funder
P1,A1,Family Shelter,shelter,City Fund
P2,A3,Counselling,mental_health,
P3,A4,Rapid Rehousing,housing,State Housing Trust
P4,A2,ER Social Work,medical,
P5,A6,Refuge,shelter,City Fund
"""

PARTNERSHIPS = """agency_a_id,agency_b_id,kind,instrument,started_on,ended_on,trust,value
A1,A2,formal,mou,2023-01-01,,4,4
A1,A3,formal,referral_protocol,2023-01-01,2023-12-31,2,3
A1,A5,informal,personal,2022-06-01,,4,
A4,A2,formal,mou,2024-01-01,,,
A3,A1,informal,personal,2024-03-01,,3,3
"""

REFERRALS = """referral_id,client_id,from_agency_id,to_agency_id,service_type,referred_at,to_program_id,accepted_at,declined_at,decline_reason,started_at,completed_at
R01,C1,A1,A2,medical,2024-01-02 09:00,P4,2024-01-03 09:00,,,2024-01-05 09:00,2024-01-20 09:00
R02,C2,A1,A3,mental_health,2024-01-05 10:00,P2,2024-01-15 10:00,,,2024-01-20 10:00,
R03,C3,A1,A3,mental_health,2024-01-10 08:00,,,,,,
R04,C4,A1,A3,mental_health,2024-02-01 08:00,,,2024-02-03 08:00,no_capacity,,
R05,C5,A5,A1,shelter,2024-02-10 12:00,P1,2024-02-10 18:00,,,2024-02-11 12:00,
R06,C1,A1,A4,housing,2024-02-15 09:00,P3,2024-02-17 09:00,,,,
R07,C6,A4,A1,shelter,2024-03-01 09:00,,,,,,
R08,C7,A1,A1,case_management,2024-03-05 09:00,,2024-03-05 21:00,,,,
R09,C8,A2,A3,mental_health,2024-03-10 09:00,,,,,,
R10,C9,A3,A6,shelter,2024-03-12 09:00,P5,2024-03-14 09:00,,,,
R11,C2,A1,A3,mental_health,2023-06-01 09:00,P2,2023-06-05 09:00,,,2023-06-10 09:00,2023-08-01 09:00
R12,C10,A5,A2,medical,2024-03-20 09:00,,,2024-03-21 09:00,not_eligible,,
R13,C11,A2,A1,shelter,2024-03-25 09:00,P1,2024-03-25 15:00,,,2024-03-26 09:00,2024-03-31 12:00
"""

CAPACITY = """program_id,month,slots
P1,2024-01,10
P1,2024-02,10
P1,2024-03,12
P3,2024-02,5
P5,2024-03,0
"""

NEEDS = """region,service_type,month,people_in_need,source
North,shelter,2024-01,30,coordinated_entry
North,shelter,2024-02,25,coordinated_entry
South,housing,2024-02,8,coordinated_entry
South,housing,2024-02,2,211
South,mental_health,2024-03,4,community_survey
"""


def _outcomes() -> str:
    """Exits built to sit exactly on the small-cell thresholds (see test_queries)."""
    rows = ["client_id,agency_id,program_id,outcome,achieved_on"]
    # P1: 11 exits, all positive: shown at min_cell 11 (exactly at the threshold).
    rows += [f"C1{i:02d},A1,P1,housed_permanent,2024-02-{i + 1:02d}" for i in range(11)]
    # P2: 10 exits (5 positive): suppressed at min_cell 11.
    rows += [f"C2{i:02d},A3,P2,health_connected,2024-03-{i + 1:02d}" for i in range(5)]
    rows += [f"C2{i:02d},A3,P2,unknown,2024-03-{i + 10:02d}" for i in range(5, 10)]
    # P3: 22 exits, 11 positive and 11 not: shown.
    rows += [f"C3{i:02d},A4,P3,housed_permanent,2024-01-{i + 1:02d}" for i in range(11)]
    rows += [f"C3{i:02d},A4,P3,returned_to_homelessness,2024-03-{i + 1:02d}" for i in range(11, 22)]
    # A4 with no program: 21 exits, 11 positive, 10 not: suppressed (the complement is 10).
    rows += [f"C4{i:02d},A4,,employed,2024-02-{i + 1:02d}" for i in range(11)]
    rows += [f"C4{i:02d},A4,,exited_no_outcome,2024-02-{i + 1:02d}" for i in range(11, 21)]
    # P5 at a victim-service agency: 30 exits, 15 positive: only in the director view.
    rows += [f"C5{i:02d},A6,P5,housed_temporary,2024-03-{i + 1:02d}" for i in range(15)]
    rows += [f"C5{i:02d},A6,P5,exited_to_street,2024-03-{i + 1:02d}" for i in range(15, 30)]
    # One exit of a client who was referred (C1), in 2023: outside the 2024 period.
    rows.append("C1,A2,P4,health_connected,2023-12-15")
    return "\n".join(rows) + "\n"


SMALL_COMMUNITY = {
    "agencies.csv": AGENCIES,
    "programs.csv": PROGRAMS,
    "partnerships.csv": PARTNERSHIPS,
    "referrals.csv": REFERRALS,
    "outcomes.csv": _outcomes(),
    "capacity.csv": CAPACITY,
    "needs.csv": NEEDS,
}


def table(path: Path, sql: str, params: dict | None = None) -> list[tuple]:
    """Every row `sql` returns from the database file at `path`, opened read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def write_files(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


HOSTILE_NAME = '</script><img src=x onerror=alert(1)> <a href="javascript:alert(2)">href</a> =SUM(1)'


def hostile_community() -> dict[str, str]:
    """The small community with hostile text where agency names go (CSV-quoted)."""
    quoted = '"' + HOSTILE_NAME.replace('"', '""') + '"'
    files = dict(SMALL_COMMUNITY)
    files["agencies.csv"] = files["agencies.csv"].replace("City Hospital", quoted)
    return files


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory) -> Path:
    """The small community with a hostile agency name, imported for real."""
    root = tmp_path_factory.mktemp("hostile")
    path = root / "atlas.duckdb"
    importer.import_folder(write_files(root / "files", hostile_community()), path, TEST_KEY)
    return path


@pytest.fixture(scope="session")
def small_files(tmp_path_factory) -> Path:
    """The small community as a folder of contract CSV files."""
    return write_files(tmp_path_factory.mktemp("small") / "files", SMALL_COMMUNITY)


@pytest.fixture(scope="session")
def small_db(small_files, tmp_path_factory) -> Path:
    """The small community imported through the real importer into a DuckDB file."""
    path = tmp_path_factory.mktemp("small_db") / "atlas.duckdb"
    importer.import_folder(small_files, path, TEST_KEY)
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small demo community built by the real `atlas demo` command (for page and browser tests)."""
    from atlas.cli import main

    path = tmp_path_factory.mktemp("demo") / "atlas.duckdb"
    assert main(["demo", "--db", str(path), "--referrals", "20000", "--agencies", "150"]) == 0
    return path


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (playwright's sync API allows one instance at a time)."""
    from browser import chromium

    with chromium() as instance:
        yield instance


def each_section(at, key: str, names: list[str]):
    """Run an AppTest page again with each of its sections (app.sections, kept under `key`) open in turn;
    yields each section's name with the page drawn that way (sections are drawn only when open)."""
    for name in names:
        at.session_state[key] = name
        at.run()
        assert not at.exception, (name, at.exception)
        yield name
