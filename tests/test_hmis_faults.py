"""HMIS exports as they really come (tests/hmis_export.py): each row-level fault alone and several together
handled by their rule, the figures of what is kept checked by hand; the safeguard at and just over 5 % of a
file; header-only and empty files; an export without Enrollment.csv; the victim-service default; the list of
affected rows in the database, the data-quality panel and the command line; and a structural fault that
still writes nothing."""

from __future__ import annotations

import duckdb
import pytest
from conftest import TEST_KEY
from hmis_export import lossy_export, padded_export, row_of, small_export
from test_hmis import access_and_beds, frame_rows
from test_import import run_atlas

from atlas.db import Atlas
from atlas.ingest.formats import hmis
from atlas.views import quality

# What the small continuum maps to without the alias mapping (checked by hand in tests/test_hmis.py).
REFERRALS = {
    "V1": ("V1", "PID-001", "O1", "O2", "shelter", "2024-01-05", "P2", "2024-01-08", None, None, "2024-01-10",
           "2024-02-15"),
    "V3": ("V3", "PID-003", "O1", "O3", "shelter", "2024-01-07", "P3", None, "2024-01-09", "client_declined", None,
           None),
    "V6": ("V6", "PID-004", "O1", "O2", "shelter", "2024-01-10", "P2", None, "2024-01-11", "other", None, None),
    "V7": ("V7", "PID-001", "O1", "O4", "housing", "2024-01-12", "P4", None, None, None, None, None),
}
OUTCOMES = {
    "X1": ("PID-001", "O2", "P2", "housed_permanent", "2024-02-15"),
    "X3": ("PID-007", "O2", "P5", "housed_temporary", "2024-02-01"),
    "X4": ("PID-002", "O4", "P4", "exited_to_street", "2024-03-01"),
    "X6": ("PID-008", "O2", "P2", "returned_to_homelessness", "2024-01-25"),
}
CAPACITY = [("P2", "2024-01", "20"), ("P2", "2024-02", "25"), ("P2", "2024-03", "25"),
            ("P4", "2024-01", "10"), ("P4", "2024-02", "10")]
AGENCIES = [("O1", "Harbor Access Point", "nonprofit", "Riverton", "false"),
            ("O2", "Bayside Services", "nonprofit", "Port Ash", "false"),
            ("O3", "Safe Harbor", "nonprofit", "XX-501", "true"),
            ("O4", "Hillside Housing", "nonprofit", "Lakeside", "false")]


def referrals(*ids, **changed) -> list[tuple]:
    return sorted(changed.get(i, REFERRALS[i]) for i in ids)


def outcomes(*ids, **changed) -> list[tuple]:
    return sorted(changed.get(i, OUTCOMES[i]) for i in ids)


def _set(x, file, key, value, **cells):
    row_of(x, file, key, value).update({k: str(v) for k, v in cells.items()})


def _copy_later(x, event_id, updated, **cells):
    """A second row with the same EventID, updated at `updated`, at the end of Event.csv; its row number."""
    x.rows["Event"].append({**row_of(x, "Event", "EventID", event_id), "DateUpdated": updated,
                            **{k: str(v) for k, v in cells.items()}})
    return len(x.rows["Event"]) + 1


# (break the export and say where the fault is, the table it changes, that table's rows by hand)
FAULTS = {
    "empty VictimServiceProvider": (
        lambda x: (_set(x, "Organization", "OrganizationID", "O2", VictimServiceProvider=""),
                   ("Organization.csv", 3, "VictimServiceProvider", "hmis_victim_service"))[1],
        "agencies", [AGENCIES[0], ("O2", "Bayside Services", "nonprofit", "Port Ash", "true"), *AGENCIES[2:]]),
    "an Event naming an enrollment not in the export": (
        lambda x: (_set(x, "Event", "EventID", "V3", EnrollmentID="E404"),
                   ("Event.csv", 4, "EnrollmentID", "hmis_reference"))[1],
        "referrals", referrals("V1", "V6", "V7")),
    "empty Destination": (
        lambda x: (_set(x, "Exit", "ExitID", "X1", Destination=""), ("Exit.csv", 2, "Destination", "hmis_destination"))[1],
        "outcomes", outcomes("X1", "X3", "X4", "X6", X1=("PID-001", "O2", "P2", "unknown", "2024-02-15"))),
    "empty InventoryStartDate": (
        lambda x: (_set(x, "Inventory", "InventoryID", "I3", InventoryStartDate=""),
                   ("Inventory.csv", 4, "InventoryStartDate", "hmis_empty_date"))[1],
        "capacity", CAPACITY[:3]),
    "empty BedInventory": (
        lambda x: (_set(x, "Inventory", "InventoryID", "I2", BedInventory=""),
                   ("Inventory.csv", 3, "BedInventory", "hmis_bad_count"))[1],
        "capacity", [("P2", "2024-01", "20"), ("P2", "2024-02", "20"), ("P2", "2024-03", "20"), *CAPACITY[3:]]),
    "negative BedInventory": (
        lambda x: (_set(x, "Inventory", "InventoryID", "I1", BedInventory=-3),
                   ("Inventory.csv", 2, "BedInventory", "hmis_negative"))[1],
        "capacity", [("P2", "2024-02", "5"), ("P2", "2024-03", "5"), *CAPACITY[3:]]),
    "a Funder code outside the FY2024 list": (
        lambda x: (_set(x, "Funder", "FunderID", "F3", Funder=99), ("Funder.csv", 4, "Funder", "hmis_code"))[1],
        "programs", [("P1", "O1", "Coordinated Entry Hub", "case_management", None),
                     ("P2", "O2", "Bayside Emergency Shelter", "shelter", "City Shelter Fund"),
                     ("P3", "O3", "Safe Harbor Shelter", "shelter", None),
                     ("P4", "O4", "Hillside Rapid Rehousing", "housing", None),
                     ("P5", "O2", "Bayside Street Outreach", "case_management", None)]),
    "an empty key": (
        lambda x: (_set(x, "Event", "EventID", "V6", EventID=""), ("Event.csv", 7, "EventID", "hmis_empty_id"))[1],
        "referrals", referrals("V1", "V3", "V7")),
    "an ambiguous date (its exit goes with it)": (
        lambda x: (_set(x, "Enrollment", "EnrollmentID", "E4", EntryDate="01/10/2024"),
                   ("Enrollment.csv", 5, "EntryDate", "hmis_bad_date"))[1],
        "outcomes", outcomes("X3", "X4", "X6")),
    "a date as DD-MON-YY is read": (
        lambda x: (_set(x, "Enrollment", "EnrollmentID", "E4", EntryDate="10-jan-24"),
                   ("Enrollment.csv", None, "EntryDate", "hmis_other_date_form"))[1],
        "referrals", referrals("V1", "V3", "V6", "V7")),
    "an exit before its entry": (
        lambda x: (_set(x, "Exit", "ExitID", "X4", ExitDate="2024-01-31"), ("Exit.csv", 5, "ExitDate", "hmis_order"))[1],
        "outcomes", outcomes("X1", "X3", "X6")),
    "a result before its event": (
        lambda x: (_set(x, "Event", "EventID", "V1", ResultDate="2024-01-04"),
                   ("Event.csv", 2, "ResultDate", "hmis_order"))[1],
        "referrals", referrals("V3", "V6", "V7")),
    "the same id twice: the later update stands": (
        lambda x: (_copy_later(x, "V3", "2024-04-02 09:00:00", ReferralResult=1, ResultDate="2024-01-09"),
                   ("Event.csv", 4, "EventID", "hmis_duplicate"))[1],
        "referrals", referrals("V1", "V3", "V6", "V7", V3=("V3", "PID-003", "O1", "O3", "shelter", "2024-01-07",
                                                             "P3", "2024-01-09", None, None, None, None))),
    "the same id twice: the earlier update is left out": (
        lambda x: ("Event.csv", _copy_later(x, "V3", "2024-03-01 09:00:00", ReferralResult=1, ResultDate="2024-01-09"),
                   "EventID", "hmis_duplicate"),
        "referrals", referrals("V1", "V3", "V6", "V7")),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_alone_is_handled_by_its_rule_and_the_rest_is_kept_exactly(tmp_path, fault):
    break_it, table, expected = FAULTS[fault]
    x = padded_export()
    where = break_it(x)
    export = hmis.read_export(x.write(tmp_path / "export"))
    assert [p for p in export.problems if p.severity == "error"] == []  # nothing stops the import
    warned = {(p.file, p.row, p.column, p.rule): p for p in export.problems}
    assert where in warned, sorted(map(str, warned))
    assert sorted(frame_rows(export, table)) == sorted(expected)
    affected = export.report.affected
    if where[1] is not None:  # a row fault: listed with its file, row and column, and what was done
        listed = affected[(affected["file"] == where[0]) & (affected["file_row"] == where[1])]
        assert listed["column_name"].tolist() == [where[2]]
        assert ("left out" in warned[where].message) == (listed["action"].iloc[0] == "left out")
    else:
        assert not len(affected)


def several_faults() -> tuple:
    """Several faults of the issue's list in one export, padded so that none reaches 5 % of its file."""
    x = padded_export(60)
    _set(x, "Event", "EventID", "V3", EnrollmentID="E404")  # names an enrollment not in the export
    _set(x, "Event", "EventID", "V6", EventID="")  # an empty key
    _copy_later(x, "V7", "2024-04-02 09:00:00", ReferralResult=1, ResultDate="2024-01-14")  # V7 again, answered
    _set(x, "Exit", "ExitID", "X6", Destination="")  # unknown outcome
    _set(x, "Inventory", "InventoryID", "I2", BedInventory="")  # no beds
    _set(x, "Enrollment", "EnrollmentID", "E4", EntryDate="01/10/2024")  # ambiguous: E4 and its exit X1 go
    _set(x, "Organization", "OrganizationID", "O2", VictimServiceProvider="")  # taken as victim service
    return x, {
        ("Enrollment.csv", 5, "EntryDate", "E4", "left out"),
        ("Event.csv", 4, "EnrollmentID", "V3", "left out"),
        ("Event.csv", 7, "EventID", None, "left out"),
        ("Event.csv", 8, "EventID", "V7", "left out"),
        ("Exit.csv", 2, "EnrollmentID", "X1", "left out"),
        ("Exit.csv", 7, "Destination", "X6", "outcome unknown"),
        ("Inventory.csv", 3, "BedInventory", "I2", "left out"),
        ("Organization.csv", 3, "VictimServiceProvider", "O2", "read as 1: a victim-service provider"),
    }


def test_several_faults_together_load_on_the_first_try_with_exact_figures_and_the_list_kept(tmp_path):
    x, listed = several_faults()
    database = tmp_path / "atlas.duckdb"
    result, report = hmis.import_export(x.zip(tmp_path / "export.zip"), database, TEST_KEY)
    files = report.files.set_index("file")
    assert files.loc["Event.csv", ["rows read", "deleted", "of a deleted record", "left out", "imported"]].tolist() == \
        [72, 1, 1, 3, 2]
    assert files.loc["Exit.csv", "left out"] == 1 and files.loc["Inventory.csv", "left out"] == 1
    con = duckdb.connect(str(database), read_only=True)
    try:
        assert con.execute("select referral_id, accepted_at::date::varchar, started_at from referrals "
                           "order by 1").fetchall() == [("V1", "2024-01-08", None), ("V7", "2024-01-14", None)]
        assert con.execute("select program_id, outcome from outcomes order by 1, 2").fetchall() == [
            ("P2", "unknown"), ("P4", "exited_to_street"), ("P5", "housed_temporary")]
        assert con.execute("select program_id, sum(slots) from capacity group by 1 order by 1").fetchall() == [
            ("P2", 60), ("P4", 20)]
        assert con.execute("select agency_id from agencies where is_victim_service order by 1").fetchall() == [
            ("O2",), ("O3",)]
        stored = set(con.execute("select file, file_row, column_name, record_id, action from import_left_out"
                                 ).fetchall())
    finally:
        con.close()
    assert stored == listed
    with Atlas(database) as db:  # the data-quality panel lists them afterwards, ids and columns only
        check = {c.key: c for c in quality.report(db).checks}["left_out"]
    assert check.count == len(listed)
    download = check.download().decode("utf-8-sig")
    assert "E404" not in download and "PID-" not in download and "01/10/2024" not in download
    grouped = report.faults
    assert grouped.loc[grouped["file"] == "Event.csv", "rows"].sum() == 3
    assert "Rows left out (6)" in report.text()


def test_the_safeguard_stops_just_over_5_percent_of_a_file_unless_accepted(tmp_path):
    def export(good: int, bad: int):
        x = access_and_beds()
        for i in range(good):
            x.add("Event", EventID=f"G{i}", EnrollmentID="E", PersonalID="P", EventDate="2024-01-02", Event=10,
                  LocationCrisisOrPHHousing="Beds Shelter")
        for i in range(bad):
            x.add("Event", EventID=f"B{i}", EnrollmentID="E404", PersonalID="P", EventDate="2024-01-02", Event=10,
                  LocationCrisisOrPHHousing="Beds Shelter")
        return x.zip(tmp_path / f"export-{bad}.zip")

    database = tmp_path / "atlas.duckdb"
    result, report = hmis.import_export(export(95, 5), database, TEST_KEY)  # 5 of 100: 5.0 %, not more
    assert result.row_counts["referrals"] == 95
    before = database.read_bytes()
    with pytest.raises(hmis.HmisRejected) as rejected:
        hmis.import_export(export(94, 6), database, TEST_KEY)  # 6 of 100: over
    assert database.read_bytes() == before
    stop = [p for p in rejected.value.problems if p.severity == "error"]
    assert [(p.file, p.rule) for p in stop] == [("Event.csv", "hmis_too_many_left_out")]
    assert "6 of its 100 rows (6.0 %)" in stop[0].message
    assert "'Names a record that is not in the export' (6 rows)" in stop[0].message
    result, report = hmis.import_export(export(94, 6), database, TEST_KEY, accept_dropped=True)
    assert result.row_counts["referrals"] == 94
    assert [p.severity for p in result.warnings if p.rule == "hmis_too_many_left_out"] == ["warning"]


def test_the_command_line_stops_says_why_and_takes_accept_dropped_and_a_dropped_report(tmp_path):
    zipped = lossy_export().zip(tmp_path / "export.zip")  # 2 of 16 events name an enrollment not in it
    database = tmp_path / "atlas.duckdb"
    stopped = run_atlas("import", "--format", "hmis", str(zipped), "--db", str(database),
                        "--dropped-report", str(tmp_path / "left-out.csv"))
    assert stopped.returncode == 1 and not database.exists()
    assert "2 of its 16 rows (12.5 %)" in stopped.stderr and "--accept-dropped" in stopped.stderr
    assert "Rows left out (2)" in stopped.stderr  # the report, grouped by fault
    done = run_atlas("import", "--format", "hmis", str(zipped), "--db", str(database), "--accept-dropped",
                     "--dropped-report", str(tmp_path / "left-out.csv"))
    assert done.returncode == 0, done.stderr
    assert "14 referrals" in done.stdout
    listed = (tmp_path / "left-out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert listed[0] == "file,file_row,id_column,record_id,column_name,fault,action"
    assert listed[1:] == ["Event.csv,16,EventID,G14,EnrollmentID,Names a record that is not in the export,left out",
                          "Event.csv,17,EventID,G15,EnrollmentID,Names a record that is not in the export,left out"]
    assert "PID-SECRET" not in (tmp_path / "left-out.csv").read_text(encoding="utf-8-sig")
    wrong = run_atlas("import", str(tmp_path), "--db", str(database), "--accept-dropped")
    assert wrong.returncode == 2 and "--format hmis" in wrong.stderr


@pytest.mark.parametrize("content", ["header, CRLF", "header, no line end", "0 bytes", "byte-order mark only"])
def test_header_only_and_empty_files_are_tables_with_no_rows(tmp_path, content):
    x = small_export()
    folder = x.write(tmp_path / "export")
    for name in ("Event", "Exit"):
        header = x.csv(name)[: x.csv(name).index(b"\r\n") + 2]
        (folder / f"{name}.csv").write_bytes({"header, CRLF": header, "header, no line end": header[:-2],
                                              "0 bytes": b"", "byte-order mark only": b"\xef\xbb\xbf"}[content])
    database = tmp_path / "atlas.duckdb"
    result, report = hmis.import_export(folder, database, TEST_KEY)
    assert [result.row_counts.get(k, 0) for k in ("referrals", "outcomes", "agencies")] == [0, 0, 4]
    files = report.files.set_index("file")
    assert files.loc["Event.csv", "rows read"] == 0 and files.loc["Exit.csv", "becomes"].startswith("outcomes")
    assert not any(p.rule == "hmis_no_events" for p in result.warnings)  # the file is there, with no rows


def test_an_export_without_enrollments_gives_the_directory_and_its_capacity(tmp_path):
    x = small_export()
    folder = x.write(tmp_path / "export", files=("Export", "Organization", "Project", "ProjectCoC", "Funder",
                                                 "Inventory", "Client"))
    database = tmp_path / "atlas.duckdb"
    result, report = hmis.import_export(folder, database, TEST_KEY)
    assert {k: result.row_counts.get(k, 0) for k in ("agencies", "programs", "capacity", "referrals", "outcomes")} \
        == {"agencies": 4, "programs": 5, "capacity": 5, "referrals": 0, "outcomes": 0}
    assert report.files.set_index("file").loc["Enrollment.csv", "becomes"] == "(not in the export)"


def test_a_structural_fault_still_writes_nothing(tmp_path):
    database = tmp_path / "atlas.duckdb"
    hmis.import_export(small_export().zip(tmp_path / "good.zip"), database, TEST_KEY)
    before = database.read_bytes()
    x, _ = several_faults()
    folder = x.write(tmp_path / "export")
    (folder / "Project.csv").write_text((folder / "Project.csv").read_text(encoding="utf-8-sig")
                                        .replace('"ProjectName"', '"Name"'))  # a required column missing
    with pytest.raises(hmis.HmisRejected) as rejected:
        hmis.import_export(folder, database, TEST_KEY, accept_dropped=True)
    assert {(p.file, p.column, p.rule) for p in rejected.value.problems if p.severity == "error"} == {
        ("Project.csv", "ProjectName", "missing_column")}
    assert database.read_bytes() == before


def test_an_unflagged_organization_stays_off_the_maps_until_the_mapping_says_otherwise(tmp_path):
    from atlas.filters import Filters
    from atlas.views import network

    x = small_export()
    _set(x, "Organization", "OrganizationID", "O2", VictimServiceProvider="")  # Bayside: shelter of V1 and V6
    views = {}
    for told in ("", '[agencies.victim_service]\n"O2" = false\n'):
        (tmp_path / "m.toml").write_text(told)
        database = tmp_path / f"atlas{len(views)}.duckdb"
        hmis.import_export(x.zip(tmp_path / "export.zip"), database, TEST_KEY,
                           mapping=hmis.load_mapping(tmp_path / "m.toml"))
        with Atlas(database) as db:
            views[told] = (network.build(db, Filters(), network.MapChoice(min_referrals=1)),
                           network.build(db, Filters(), network.MapChoice(min_referrals=1), min_cell=11))
    (director, board), (told_director, _) = views[""], views['[agencies.victim_service]\n"O2" = false\n']
    for view in (director, board):
        assert "Bayside" not in view.html and "O2" not in set(view.agencies["agency_id"])
    assert director.hidden_referrals == 3  # V1, V6 to Bayside; V3 to Safe Harbor
    assert "Bayside Services" in told_director.html and "O2" in set(told_director.agencies["agency_id"])


@pytest.mark.parametrize("built_before_the_list", [False, True], ids=["with its list", "before the list was kept"])
def test_an_upgrade_keeps_the_rows_left_out_and_takes_a_database_built_before_them(tmp_path, built_before_the_list):
    from atlas.ingest import importer

    database = tmp_path / "atlas.duckdb"
    hmis.import_export(lossy_export().zip(tmp_path / "export.zip"), database, TEST_KEY, accept_dropped=True)
    con = duckdb.connect(str(database))
    try:
        con.execute("update model_version set fingerprint = 'an-older-model'")
        if built_before_the_list:
            con.execute("drop table import_left_out")
    finally:
        con.close()
    assert importer.upgrade(database)
    with Atlas(database) as db:
        assert len(db.query("quality_left_out")) == (0 if built_before_the_list else 2)
        assert db.query("data_extent").iloc[0]["referrals"] == 14


def test_a_fault_in_a_deleted_record_is_neither_left_out_nor_reported(tmp_path):
    x = padded_export()
    _set(x, "Event", "EventID", "V9", EventDate="")  # V9 belongs to E7, which is deleted
    _set(x, "Event", "EventID", "V8", EventDate="")  # V8 is deleted itself
    export = hmis.read_export(x.write(tmp_path / "export"))
    assert not len(export.report.affected)
    assert not [p for p in export.problems if p.file == "Event.csv" and p.rule.startswith("hmis_empty")]
    files = export.report.files.set_index("file")
    assert files.loc["Event.csv", ["deleted", "of a deleted record", "left out"]].tolist() == [1, 1, 0]
