"""HUD HMIS CSV exports (FY2024), written here from the specification (tests/hmis_export.py), imported
for real: the mapping checked by hand, every Event code and ReferralResult, location matching, deleted
records, every check of the spec in one pass, zips read as untrusted input, append, and privacy."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_KEY
from hmis_export import MAPPING, Export, small_export
from test_import import run_atlas

from atlas.ingest import archive
from atlas.ingest.formats import hmis


@pytest.fixture
def mapping(tmp_path) -> dict:
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING)
    return hmis.load_mapping(path)


def frame_rows(export: hmis.HmisExport, table: str) -> list[tuple]:
    frame = export.tables[table].frame.astype(object)
    return [tuple(None if v is None or v != v else v for v in row) for row in frame.itertuples(index=False)]


def everything_in(path: Path) -> str:
    """Every value of every column of every table of the database, as one text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = []
        for (name,) in con.execute("select table_name from information_schema.tables").fetchall():
            for row in con.execute(f'select * from "{name}"').fetchall():
                parts.append("|".join(map(str, row)))
        return "\n".join(parts)
    finally:
        con.close()


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_the_small_export_maps_as_checked_by_hand(tmp_path, mapping, as_zip):
    x = small_export()
    path = x.zip(tmp_path / "export.zip") if as_zip else x.write(tmp_path / "export" / "nested")
    export = hmis.read_export(path if as_zip else tmp_path / "export", mapping)
    assert [p for p in export.problems if p.severity == "error"] == []

    assert frame_rows(export, "agencies") == [
        ("O1", "Harbor Access Point", "nonprofit", "Riverton", "false"),
        ("O2", "Bayside Services", "nonprofit", "Port Ash", "false"),  # Port Ash twice, Riverton once
        ("O3", "Safe Harbor", "nonprofit", "XX-501", "true"),  # no City: the CoC code; VictimServiceProvider 1
        ("O4", "Hillside Housing", "government", "Lakeside", "false"),  # the mapping's sector
    ]  # O9 is deleted
    assert frame_rows(export, "programs") == [
        ("P1", "O1", "Coordinated Entry Hub", "case_management", None),
        ("P2", "O2", "Bayside Emergency Shelter", "shelter", "City Shelter Fund"),  # latest grant: 46, OtherFunder
        ("P3", "O3", "Safe Harbor Shelter", "shelter", None),
        ("P4", "O4", "Hillside Rapid Rehousing", "housing", "HUD: CoC – Rapid Re-Housing"),
        ("P5", "O2", "Bayside Street Outreach", "case_management", None),
    ]  # P6 deleted, P9 of a deleted organization
    assert frame_rows(export, "capacity") == [  # I4 deleted, I9 of a deleted project
        ("P2", "2024-01", "20"), ("P2", "2024-02", "25"), ("P2", "2024-03", "25"),
        ("P4", "2024-01", "10"), ("P4", "2024-02", "10"),
    ]
    assert frame_rows(export, "outcomes") == [  # X2 from Coordinated Entry, X5 of a deleted project, X7 deleted
        ("PID-001", "O2", "P2", "housed_permanent", "2024-02-15"),
        ("PID-007", "O2", "P5", "housed_temporary", "2024-02-01"),  # Street Outreach to shelter: a success
        ("PID-002", "O4", "P4", "exited_to_street", "2024-03-01"),
        ("PID-008", "O2", "P2", "returned_to_homelessness", "2024-01-25"),  # shelter to shelter
    ]
    assert frame_rows(export, "referrals") == [
        ("V1", "PID-001", "O1", "O2", "shelter", "2024-01-05", "P2", "2024-01-08", None, None, "2024-01-10",
         "2024-02-15"),  # accepted; started and completed by PID-001's stay in P2
        ("V2", "PID-002", "O1", "O4", "housing", "2024-01-06", "P4", "2024-01-20", None, None, "2024-02-01",
         "2024-03-01"),  # by the alias "Hillside RRH"
        ("V3", "PID-003", "O1", "O3", "shelter", "2024-01-07", "P3", None, "2024-01-09", "client_declined", None, None),
        ("V6", "PID-004", "O1", "O2", "shelter", "2024-01-10", "P2", None, "2024-01-11", "other", None, None),
        ("V7", "PID-001", "O1", "O4", "housing", "2024-01-12", "P4", None, None, None, None, None),  # pending
    ]

    report = export.report
    files = report.files.set_index("file")
    assert files.loc["Event.csv", ["rows read", "deleted", "of a deleted record", "imported"]].tolist() == [11, 1, 1, 5]
    assert files.loc["Exit.csv", ["rows read", "deleted", "of a deleted record", "imported"]].tolist() == [7, 1, 1, 4]
    assert files.loc["Project.csv", ["rows read", "deleted", "of a deleted record", "imported"]].tolist() == [7, 1, 1, 5]
    assert files.loc["Organization.csv", "deleted"] == 1
    assert report.events["events"].tolist() == [5, 2, 2]  # imported, not a referral, location not matched
    assert report.unmatched_locations.to_dict("records") == [
        {"location": "Unknown Place", "events": 2, "why": "no project of the export has this name"}]
    assert report.aliases.to_dict("records") == [{"alias": "Hillside RRH", "ProjectID": "P4", "events": 1}]
    assert {"Client.csv", "Services.csv", "Assessment.csv", "User.csv"} <= set(report.ignored)
    assert report.victim_service == 1
    assert report.period == "2024-01-01 to 2024-03-31"
    text = report.text()
    assert "Unknown Place" in text and "Coordinated Entry" in text and "PID-" not in text


def test_real_export_text_quoted_crlf_with_a_byte_order_mark_or_without(tmp_path):
    x = small_export()
    raw = x.csv("Organization")
    assert raw.startswith(b"\xef\xbb\xbf\"OrganizationID\",") and b'"\r\n"O1","Harbor Access Point",' in raw
    plain = x.write(tmp_path / "plain", bom=False, crlf=False)
    crlf = x.write(tmp_path / "crlf")
    read = [hmis.read_export(folder) for folder in (plain, crlf)]
    assert frame_rows(read[0], "referrals") == frame_rows(read[1], "referrals")
    assert frame_rows(read[0], "agencies")[0] == ("O1", "Harbor Access Point", "nonprofit", "Riverton", "false")


def test_nothing_of_client_csv_and_no_raw_personal_id_reaches_the_database(tmp_path):
    x = small_export()
    zipped = x.zip(tmp_path / "export.zip")
    database = tmp_path / "atlas.duckdb"
    result, report = hmis.import_export(zipped, database, TEST_KEY)
    assert result.row_counts["referrals"] == 4  # without the alias, V2 is not placed
    stored = everything_in(database)
    for row in x.rows["Client"]:
        for column, value in row.items():
            if value and column not in ("DateCreated", "DateUpdated", "UserID", "ExportID", "NameDataQuality",
                                        "SSNDataQuality", "DOBDataQuality", "VeteranStatus"):
                assert value not in stored, f"Client.csv {column} reached the database"
    assert "PID-" not in stored
    assert b"PID-00" not in database.read_bytes() and b"Quartermaine" not in database.read_bytes()
    con = duckdb.connect(str(database), read_only=True)
    try:
        clients = con.execute("select count(distinct client_id), min(length(client_id)) from referrals").fetchone()
        linked = con.execute("select count(distinct client_id) from outcomes o join referrals r using (client_id)").fetchone()[0]
    finally:
        con.close()
    assert clients == (3, 32)  # pseudonyms, one per client
    assert linked == 1  # PID-001's exit links to PID-001's referrals under the same key


def access_and_beds() -> Export:
    """An access point (agency A) and a shelter (agency B, "Beds Shelter"), with client P at the access point."""
    x = Export()
    x.add("Organization", OrganizationID="A", OrganizationName="Access", VictimServiceProvider=0)
    x.add("Organization", OrganizationID="B", OrganizationName="Beds", VictimServiceProvider=0)
    x.add("Project", ProjectID="PA", OrganizationID="A", ProjectName="Access Point", ProjectType=14)
    x.add("Project", ProjectID="PB", OrganizationID="B", ProjectName="Beds Shelter", ProjectType=1)
    x.add("Enrollment", EnrollmentID="E", PersonalID="P", ProjectID="PA", EntryDate="2024-01-01")
    return x


def test_every_event_code_and_every_referral_result(tmp_path):
    x = access_and_beds()
    for code in range(1, 19):
        x.add("Event", EventID=f"code{code}", EnrollmentID="E", PersonalID="P", EventDate="2024-01-02", Event=code,
              LocationCrisisOrPHHousing="Beds Shelter")
    for result, on in (("1", "2024-01-03"), ("2", "2024-01-04"), ("3", "2024-01-05"), ("", ""), ("7", "2024-01-06"),
                       ("1", "")):
        x.add("Event", EventID=f"result{result or 'none'}{on[-2:]}", EnrollmentID="E", PersonalID="P",
              EventDate="2024-01-02", Event=10, LocationCrisisOrPHHousing="beds shelter", ReferralResult=result,
              ResultDate=on)
    export = hmis.read_export(x.write(tmp_path / "export"))
    ids = {row[0] for row in frame_rows(export, "referrals")}
    assert sorted(c for c in range(1, 19) if f"code{c}" in ids) == [1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    codes = export.report.event_codes.set_index("Event")
    assert codes.loc["2", "treated as"] == "not a referral between agencies"
    assert codes.loc["2", "meaning"].startswith("Problem Solving")
    results = {row[0]: row[7:10] for row in frame_rows(export, "referrals") if row[0].startswith("result")}
    assert results == {
        "result103": ("2024-01-03", None, None),  # 1: accepted
        "result204": (None, "2024-01-04", "client_declined"),  # 2: client rejected
        "result305": (None, "2024-01-05", "other"),  # 3: provider rejected
        "resultnone": (None, None, None),  # empty: pending
        "result706": (None, None, None),  # not HUD's list: pending, with a warning
        "result1": (None, None, None),  # a result without its date: pending, with a warning
    }
    warned = {p.rule for p in export.problems if p.severity == "warning"}
    assert {"hmis_result", "hmis_result_date"} <= warned
    assert not [p for p in export.problems if p.severity == "error"]


def test_locations_match_by_name_common_name_case_and_spacing_and_by_alias(tmp_path):
    x = Export()
    x.add("Organization", OrganizationID="A", OrganizationName="Access", VictimServiceProvider=0)
    x.add("Project", ProjectID="PA", OrganizationID="A", ProjectName="Access Point", ProjectType=14)
    x.add("Project", ProjectID="P1", OrganizationID="A", ProjectName="North Family Shelter",
          ProjectCommonName="NFS", ProjectType=0)
    x.add("Project", ProjectID="P2", OrganizationID="A", ProjectName="Twin", ProjectType=0)
    x.add("Project", ProjectID="P3", OrganizationID="A", ProjectName="twin ", ProjectType=0)  # same name as P2
    x.add("Enrollment", EnrollmentID="E", PersonalID="P", ProjectID="PA", EntryDate="2024-01-01")
    written = {"name": "North Family Shelter", "common": "NFS", "case": "NORTH family SHELTER",
               "spacing": "  North   Family Shelter ", "alias": "the old north shelter", "ambiguous": "Twin",
               "typo": "Nort Family Shelter"}
    for why, where in written.items():
        x.add("Event", EventID=why, EnrollmentID="E", PersonalID="P", EventDate="2024-01-02", Event=10,
              LocationCrisisOrPHHousing=where)
    (tmp_path / "m.toml").write_text('[locations]\n"The  Old North Shelter" = "P1"\n"Twin" = "P9"\n')
    export = hmis.read_export(x.write(tmp_path / "export"), hmis.load_mapping(tmp_path / "m.toml"))
    placed = {row[0]: row[6] for row in frame_rows(export, "referrals")}
    assert placed == {"name": "P1", "common": "P1", "case": "P1", "spacing": "P1", "alias": "P1"}
    unmatched = export.report.unmatched_locations.set_index("location")["why"].to_dict()
    assert unmatched == {"Nort Family Shelter": "no project of the export has this name",
                         "Twin": "names more than one project of the export: add an alias"}


def broken_export() -> Export:
    """The small export with one break for each check of the spec."""
    x = small_export()
    rows = x.rows
    rows["Project"].append({**rows["Project"][1], "ProjectID": "PX", "OrganizationID": "O404", "ProjectName": "X",
                            "ProjectCommonName": ""})
    rows["Enrollment"][3]["EntryDate"] = "01/10/2024"  # E4: a US date
    rows["Enrollment"].append({**rows["Enrollment"][0], "EnrollmentID": "EX", "ProjectID": "P404"})
    rows["Exit"][0]["ExitDate"] = "2024-01-09"  # X1 before E4's entry (2024-01-10)... whose date is broken
    rows["Exit"][3]["ExitDate"] = "2024-01-31"  # X4: before E6's entry 2024-02-01
    rows["Exit"].append({**rows["Exit"][2], "ExitID": "XX", "EnrollmentID": "E404"})
    rows["Event"][0]["ResultDate"] = "2024-01-04"  # V1: a result before the event (2024-01-05)
    rows["Event"][1]["Event"] = "ten"  # V2: a code that is not a whole number
    rows["Event"].append({**rows["Event"][2], "EventID": "VX", "EnrollmentID": "E404"})
    rows["Inventory"][0]["BedInventory"] = "-3"
    rows["Inventory"].append({**rows["Inventory"][1], "InventoryID": "IX", "ProjectID": "P404"})
    rows["Funder"].append({**rows["Funder"][0], "FunderID": "FX", "ProjectID": "P404"})
    rows["ProjectCoC"].append({**rows["ProjectCoC"][0], "ProjectCoCID": "CX", "ProjectID": "P404"})
    rows["Project"][1]["DateUpdated"] = "yesterday"  # not read: no problem
    rows["Organization"][3]["VictimServiceProvider"] = "Y"
    return x


def test_every_row_fault_of_the_spec_is_reported_in_one_pass_and_the_safeguard_writes_nothing(tmp_path):
    """Row-level faults are handled by their rule and reported, all in one pass; on this small export they
    leave out more than 5 % of several files, so the import stops (nothing written) unless accepted."""
    good = tmp_path / "atlas.duckdb"
    hmis.import_export(small_export().zip(tmp_path / "good.zip"), good, TEST_KEY)
    before = good.read_bytes()
    broken = broken_export().zip(tmp_path / "broken.zip")
    with pytest.raises(hmis.HmisRejected) as rejected:
        hmis.import_export(broken, good, TEST_KEY)
    assert good.read_bytes() == before  # byte-identical
    problems = rejected.value.problems
    assert {p.rule for p in problems if p.severity == "error"} == {"hmis_too_many_left_out"}
    stopped = {p.file for p in problems if p.severity == "error"}
    assert {"Event.csv", "Exit.csv", "Inventory.csv", "Enrollment.csv", "Project.csv"} <= stopped
    found = {(p.file, p.row, p.column, p.rule) for p in problems if p.severity == "warning"}
    expected = {
        ("Project.csv", 9, "OrganizationID", "hmis_reference"),
        ("Enrollment.csv", 5, "EntryDate", "hmis_bad_date"),
        ("Enrollment.csv", 12, "ProjectID", "hmis_reference"),
        ("Exit.csv", 2, "EnrollmentID", "hmis_parent_left_out"),  # X1: its enrollment E4 is left out
        ("Exit.csv", 5, "ExitDate", "hmis_order"),
        ("Exit.csv", 9, "EnrollmentID", "hmis_reference"),
        ("Event.csv", 2, "ResultDate", "hmis_order"),
        ("Event.csv", 3, "Event", "hmis_code"),
        ("Event.csv", 13, "EnrollmentID", "hmis_reference"),
        ("Inventory.csv", 2, "BedInventory", "hmis_negative"),
        ("Inventory.csv", 7, "ProjectID", "hmis_reference"),
        ("Funder.csv", 5, "ProjectID", "hmis_reference"),
        ("ProjectCoC.csv", 9, "ProjectID", "hmis_reference"),
        ("Organization.csv", 5, "VictimServiceProvider", "hmis_victim_service"),
    }
    assert expected <= found, expected - found
    assert rejected.value.report is not None
    by_key = {(p.file, p.row, p.column): p for p in problems}
    assert by_key[("Enrollment.csv", 5, "EntryDate")].value == "01/10/2024"
    assert "YYYY-MM-DD" in by_key[("Enrollment.csv", 5, "EntryDate")].message
    result, report = hmis.import_export(broken, good, TEST_KEY, accept_dropped=True)
    assert result.row_counts["referrals"] == 3  # V3, V6, V7; V1 is left out (its result is before it)
    assert len(report.affected) == len(expected)


@pytest.mark.parametrize("break_it, expected", [
    (lambda x, d: (d / "Project.csv").unlink(), ("Project.csv", None, None, "missing_file")),
    (lambda x, d: (d / "Event.csv").write_text(
        (d / "Event.csv").read_text(encoding="utf-8-sig").replace('"ResultDate"', '"ResultWhen"')),
     ("Event.csv", 1, "ResultDate", "missing_column")),
    (lambda x, d: (d / "Project.csv").write_text("program_id,agency_id,name,service_type\nP1,A1,Shelter,shelter\n"),
     ("Project.csv", 1, None, "not_hmis")),
    (lambda x, d: (d / "Organization.csv").write_bytes(b"%PDF-1.4 binary"), ("Organization.csv", None, None, "not_csv")),
    (lambda x, d: (d / "Organization.csv").write_bytes(
        (d / "Organization.csv").read_bytes() + b'"O5","Cut short"\r\n'), ("Organization.csv", 7, None, "field_count")),
], ids=["no Project", "a column missing", "not HMIS", "binary", "row cut short"])
def test_a_broken_export_for_each_check(tmp_path, break_it, expected):
    x = small_export()
    folder = x.write(tmp_path / "export")
    break_it(x, folder)
    database = tmp_path / "atlas.duckdb"
    with pytest.raises(hmis.HmisRejected) as rejected:
        hmis.import_export(folder, database, TEST_KEY)
    assert expected in {(p.file, p.row, p.column, p.rule) for p in rejected.value.problems}
    assert not database.exists()


def test_a_problem_found_by_the_contract_is_placed_in_the_export(tmp_path):
    x = small_export()
    x.rows["Inventory"][0]["BedInventory"] = "999"  # I1: P2 has 999 beds in January, a placeholder by the contract
    with pytest.raises(hmis.HmisRejected) as rejected:
        hmis.import_export(x.write(tmp_path / "export"), tmp_path / "atlas.duckdb", TEST_KEY)
    placeholder = [p for p in rejected.value.problems if p.rule == "sentinel"]
    assert {(p.file, p.row, p.column) for p in placeholder} == {("Inventory.csv", 2, "BedInventory")}


def test_a_date_only_date_deleted_still_deletes(tmp_path):
    x = small_export()
    x.rows["Exit"][6]["DateDeleted"] = "2024-03-21"  # X7, written as a date: deleted all the same
    export = hmis.read_export(x.write(tmp_path / "export"))
    assert export.report.files.set_index("file").loc["Exit.csv", "deleted"] == 1
    assert not [p for p in export.problems if p.file == "Exit.csv"]


def test_contract_files_beside_the_export_load_with_it(tmp_path):
    partnerships = "agency_a_id,agency_b_id,kind,instrument,started_on\nO1,O2,formal,mou,2023-01-01\n"
    needs = "region,service_type,month,people_in_need\nRiverton,shelter,2024-01,40\n"
    zipped = small_export().zip(tmp_path / "export.zip", extra={"HMIS_Export_2024/partnerships.csv": partnerships,
                                                                 "needs.csv": needs})
    database = tmp_path / "atlas.duckdb"
    result, report = hmis.import_export(zipped, database, TEST_KEY)
    assert result.row_counts["partnerships"] == 1 and result.row_counts["needs"] == 1
    assert {"partnerships.csv", "needs.csv"} <= set(report.files["file"])


def test_append_takes_the_next_export_matched_by_id(tmp_path, mapping):
    database = tmp_path / "atlas.duckdb"
    first = small_export()
    hmis.import_export(first.zip(tmp_path / "first.zip"), database, TEST_KEY, mapping=mapping)
    second = small_export()
    v7 = next(r for r in second.rows["Event"] if r["EventID"] == "V7")
    v7.update(ReferralResult="1", ResultDate="2024-01-14")  # answered since the first export
    second.add("Event", EventID="V12", EnrollmentID="E5", PersonalID="PID-004", EventDate="2024-03-02", Event=10,
               LocationCrisisOrPHHousing="Bayside ES")
    result, _ = hmis.import_export(second.zip(tmp_path / "second.zip"), database, TEST_KEY, mapping=mapping,
                                   mode="append")
    assert (result.changes["referrals"].added, result.changes["referrals"].updated) == (1, 1)
    con = duckdb.connect(str(database), read_only=True)
    try:
        assert con.execute("select accepted_at::date::varchar from referrals where referral_id = 'V7'").fetchone() == \
            ("2024-01-14",)
        assert con.execute("select count(*) from referrals").fetchone() == (6,)
    finally:
        con.close()
    before = database.read_bytes()
    again, _ = hmis.import_export(second.zip(tmp_path / "again.zip"), database, TEST_KEY, mapping=mapping,
                                  mode="append")
    assert not again.written and database.read_bytes() == before


def zip_with(path: Path, members: dict[str, bytes], *, encrypted: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    if encrypted:  # zipfile cannot encrypt: set the member's "encrypted" flag in the central directory
        data = bytearray(path.read_bytes())
        at = data.find(b"PK\x01\x02")
        while at >= 0:
            length = int.from_bytes(data[at + 28:at + 30], "little")
            if data[at + 46:at + 46 + length].decode() == encrypted:
                data[at + 8] |= 0x1
            at = data.find(b"PK\x01\x02", at + 4)
        path.write_bytes(bytes(data))
    return path


def export_members() -> dict[str, bytes]:
    x = small_export()
    return {f"{name}.csv": x.csv(name) for name in ("Export", "Organization", "Project", "Enrollment", "Event")}


def test_a_zip_member_name_never_becomes_a_path_and_nested_files_are_found(tmp_path):
    members = {f"../../escape/{name}" if name == "Event.csv" else f"/abs/deep/{name}": content
               for name, content in export_members().items()}
    members["../../escape/evil.sh"] = b"#!/bin/sh\necho owned\n"
    zipped = zip_with(tmp_path / "inside" / "export.zip" if False else tmp_path / "export.zip", members)
    export = hmis.read_export(zipped)
    assert len(frame_rows(export, "referrals")) == 4
    assert not (tmp_path.parent / "escape").exists() and not Path("/abs").exists()
    assert "evil.sh" in export.report.ignored


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    members = export_members()
    members["Exit.csv"] = b'"ExitID"' + b" " * (300 * 2**20)  # 300 MB of spaces: a ratio of ~1000
    zipped = zip_with(tmp_path / "bomb.zip", members)
    assert zipped.stat().st_size < 2 * 2**20
    with pytest.raises(archive.ArchiveRefused, match="zip bomb"):
        hmis.read_export(zipped)
    with pytest.raises(archive.ArchiveRefused, match="over the limit"):
        with archive.open_export(zip_with(tmp_path / "big.zip", export_members()), hmis.wanted, max_bytes=100):
            pass


def test_an_encrypted_member_or_a_zip_inside_the_zip_is_refused(tmp_path):
    with pytest.raises(archive.ArchiveRefused, match="encrypted"):
        hmis.read_export(zip_with(tmp_path / "locked.zip", export_members(), encrypted="Event.csv"))
    inner = zip_with(tmp_path / "inner.zip", export_members()).read_bytes()
    with pytest.raises(archive.ArchiveRefused, match="archive inside the archive"):
        hmis.read_export(zip_with(tmp_path / "nested.zip", {**export_members(), "more/export.zip": inner}))
    with pytest.raises(archive.ArchiveRefused, match="archive inside the archive"):
        hmis.read_export(zip_with(tmp_path / "disguised.zip", {**export_members(), "Event.csv": inner}))
    (tmp_path / "damaged.zip").write_bytes(b"PK\x03\x04" + b"\0" * 64)
    with pytest.raises(archive.ArchiveRefused, match="damaged"):
        hmis.read_export(tmp_path / "damaged.zip")


def test_the_mapping_is_a_file_the_user_overrides_in_part(tmp_path):
    (tmp_path / "m.toml").write_text(
        '[programs.service_types]\n"13" = "income_support"\n'
        '[outcomes]\ndestinations = [{ outcome = "housed_temporary", codes = [116] }]\n')
    mapping = hmis.load_mapping(tmp_path / "m.toml")
    assert mapping["programs"]["service_types"]["0"] == "shelter"  # kept
    export = hmis.read_export(small_export().write(tmp_path / "export"), mapping)
    assert dict((r[0], r[3]) for r in frame_rows(export, "programs"))["P4"] == "income_support"
    outcomes = {r[0]: r[3] for r in frame_rows(export, "outcomes")}
    assert outcomes == {"PID-001": "unknown", "PID-007": "unknown", "PID-002": "housed_temporary",
                        "PID-008": "unknown"}  # the rules replaced as a whole; the rest is the default
    for bad, message in [('[agencies.sectors]\n"O1" = "church"\n', "not a sector"),
                         ('[programs.service_types]\n"x" = "housing"\n', "not a ProjectType"),
                         ('[outcomes]\ndestinations = [{ outcome = "rich" , codes = [1]}]\n', "outcome must be"),
                         ('[weather]\nrain = 1\n', "unknown mapping setting"),
                         ('not toml', "not valid TOML")]:
        (tmp_path / "bad.toml").write_text(bad)
        with pytest.raises(hmis.MappingError, match=message):
            hmis.load_mapping(tmp_path / "bad.toml")


def test_the_command_line_imports_a_zip_and_reports(tmp_path):
    zipped = small_export().zip(tmp_path / "export.zip")
    database = tmp_path / "atlas.duckdb"
    done = run_atlas("import", "--format", "hmis", str(zipped), "--db", str(database))
    assert done.returncode == 0, done.stderr
    assert "Unknown Place" in done.stdout and "Imported into" in done.stdout and "4 referrals" in done.stdout
    bar = [line for line in done.stderr.splitlines() if line.startswith("[")]  # its progress, step by step
    assert "Reading and mapping the HMIS export export.zip" in bar[0] and " 100% " in bar[-1]
    before = database.read_bytes()
    broken = broken_export().zip(tmp_path / "broken.zip")
    failed = run_atlas("import", "--format", "hmis", str(broken), "--db", str(database))
    assert failed.returncode == 1
    assert "Enrollment.csv row 5, column EntryDate: value '01/10/2024'" in failed.stderr and "is unchanged" in failed.stderr
    assert database.read_bytes() == before
    wrong = run_atlas("import", "--format", "hmis", str(tmp_path / "nothing.txt"), "--db", str(database))
    assert wrong.returncode == 2 and "neither" in wrong.stderr


def test_an_entry_before_the_recorded_acceptance_starts_on_the_acceptance(tmp_path):
    x = access_and_beds()
    x.add("Enrollment", EnrollmentID="S1", PersonalID="P", ProjectID="PB", EntryDate="2024-01-05")
    x.add("Exit", ExitID="X1", EnrollmentID="S1", PersonalID="P", ExitDate="2024-01-06", Destination=410)
    x.add("Enrollment", EnrollmentID="S0", PersonalID="P", ProjectID="PB", EntryDate="2023-12-01")  # before: not it
    # accepted on the 10th, recorded after the client had entered (the 5th) and even left (the 6th)
    x.add("Event", EventID="late", EnrollmentID="E", PersonalID="P", EventDate="2024-01-02", Event=10,
          LocationCrisisOrPHHousing="Beds Shelter", ReferralResult=1, ResultDate="2024-01-10")
    # another client, accepted, who never entered: accepted and not started
    x.add("Event", EventID="never", EnrollmentID="E", PersonalID="Q", EventDate="2024-01-02", Event=10,
          LocationCrisisOrPHHousing="Beds Shelter", ReferralResult=1, ResultDate="2024-01-03")
    export = hmis.read_export(x.write(tmp_path / "export"))
    rows = {row[0]: row[7:] for row in frame_rows(export, "referrals")}
    assert rows["late"] == ("2024-01-10", None, None, "2024-01-10", "2024-01-10")
    assert rows["never"] == ("2024-01-03", None, None, None, None)
    warned = [p for p in export.problems if p.rule == "hmis_entry_before_result"]
    assert [(p.file, p.row, p.column) for p in warned] == [("Event.csv", 2, "ResultDate")]
    database = tmp_path / "atlas.duckdb"
    hmis.import_export(x.write(tmp_path / "export"), database, TEST_KEY)  # the contract's order rules hold
