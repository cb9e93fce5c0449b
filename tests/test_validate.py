"""Reading contract files from a folder and validating them: every rule, on real files.

Each test writes files into a fresh folder, reads it with `read_folder` and validates what was read,
as `atlas import` does. Rows are numbered as in the file: the header is row 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas.contract import TABLES
from atlas.ingest.problems import Problem, format_report, problems_frame, summary
from atlas.ingest.sources import read_file, read_folder
from atlas.ingest.validate import check, validate

# A small valid import: every table, every optional column used somewhere, an internal referral
# (R3, from A3 to A3), an id with leading zeros (007) and each accepted timestamp form.
VALID = {
    "agencies.csv": """\
agency_id,name,sector,region,is_victim_service
007,Harbor Shelter,nonprofit,North,false
A2,County Health,health,South,
A3,Safe Haven,community,North,TRUE
""",
    "programs.csv": """\
program_id,agency_id,name,service_type,funder
P1,007,Family shelter,shelter,City
P2,A2,Clinic,medical,
""",
    "partnerships.csv": """\
agency_a_id,agency_b_id,kind,instrument,started_on,ended_on,trust,value
007,A2,formal,mou,2023-01-15,,3,4
A2,A3,informal,personal,2022-06-01,2024-01-31,,
""",
    "referrals.csv": """\
referral_id,client_id,from_agency_id,to_agency_id,service_type,referred_at,to_program_id,accepted_at,declined_at,decline_reason,started_at,completed_at
R1,C001,007,A2,medical,2024-01-02 09:30,P2,2024-01-03,,,2024-01-04 10:00:00,2024-02-01T12:00:00.5
R2,C002,A2,007,shelter,2024-01-05,,,2024-01-06 08:00,no_capacity,,
R3,C001,A3,A3,case_management,2024-02-01 10:00:00,,,,,,
""",
    "outcomes.csv": """\
client_id,agency_id,program_id,outcome,achieved_on
C001,A2,P2,health_connected,2024-02-01
C002,007,,unknown,2024-03-01
""",
    "capacity.csv": """\
program_id,month,slots
P1,2024-01,20
P1,2024-02,0
""",
    "needs.csv": """\
region,service_type,month,people_in_need,source
North,shelter,2024-01,40,211 line
South,medical,2024-01,12,
""",
}


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write files (text as UTF-8) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def with_cell(text: str, row: int, column: str, value: str) -> str:
    """CSV `text` with one cell replaced; `row` as in the file (header = 1)."""
    rows = list(csv.reader(io.StringIO(text)))
    rows[row - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def load(folder: Path, **kwargs) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read and validate a folder, as an import does: every problem of both steps."""
    raw, problems = read_folder(folder)
    tables, found = validate(raw, **kwargs)
    return tables, problems + found


def located(problems: list[Problem]) -> list[tuple]:
    """Problems as (file, row, column, value, rule), the part the tests compare exactly, sorted."""
    return sorted(((p.file, p.row, p.column, p.value, p.rule) for p in problems),
                  key=lambda p: (p[0], p[1] or 0, p[2] or "", p[4]))


def errors(problems: list[Problem]) -> list[tuple]:
    return located([p for p in problems if p.severity == "error"])


def test_valid_set_passes_with_canonical_types(tmp_path):
    tables, problems = load(write(tmp_path, VALID))
    assert problems == []
    assert set(tables) == set(TABLES)
    dtypes = {"id": "string", "text": "string", "enum": "string", "bool": "boolean", "int": "Int64",
              "date": "datetime64[us]", "month": "datetime64[us]", "timestamp": "datetime64[us]"}
    for name, table in TABLES.items():
        frame = tables[name]
        assert list(frame.columns) == [c.name for c in table.columns]
        assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
        assert {c.name: str(frame[c.name].dtype) for c in table.columns} == {
            c.name: dtypes[c.type] for c in table.columns}
    agencies, referrals = tables["agencies"], tables["referrals"]
    assert agencies["agency_id"].tolist() == ["007", "A2", "A3"]  # leading zeros kept
    assert agencies["is_victim_service"].tolist() == [False, pd.NA, True]
    assert referrals["referred_at"].tolist() == [
        pd.Timestamp("2024-01-02 09:30"), pd.Timestamp("2024-01-05"), pd.Timestamp("2024-02-01 10:00")]
    assert referrals["completed_at"][0] == pd.Timestamp("2024-02-01 12:00:00.5")
    assert tables["capacity"]["month"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert tables["capacity"]["slots"].tolist() == [20, 0]


def test_absent_optional_columns_and_files_are_fine(tmp_path):
    files = {"agencies.csv": "agency_id,name,sector,region\nA1,One,faith,North\n",
             "referrals.csv": "referral_id,client_id,from_agency_id,to_agency_id,service_type,referred_at\n"
                              "R1,C1,A1,A1,food,2024-05-01\n"}
    tables, problems = load(write(tmp_path, files))
    assert problems == []
    assert tables["agencies"]["is_victim_service"].isna().all()
    assert str(tables["agencies"]["is_victim_service"].dtype) == "boolean"
    assert tables["referrals"]["accepted_at"].isna().all()
    assert list(tables["referrals"].columns) == [c.name for c in TABLES["referrals"].columns]


# One defect each: (file, row as in the file, column, value written, expected rule). The problem must
# come back at exactly that place, with the value as written, and be the only problem.
CELL_DEFECTS = [
    ("referrals.csv", 2, "referral_id", "", "required"),
    ("referrals.csv", 4, "referred_at", "   ", "required"),  # whitespace only is empty
    ("agencies.csv", 3, "sector", "charity", "enum"),
    ("agencies.csv", 3, "sector", "Health", "enum"),
    ("referrals.csv", 3, "decline_reason", "full", "enum"),
    ("agencies.csv", 2, "is_victim_service", "maybe", "bool_format"),
    ("referrals.csv", 2, "accepted_at", "2024-13-01", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "01/02/2024", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "2024/01/02", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "2024-1-2", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "2024-02-30", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "2024-01-03 25:00", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "2024-01-03T10:00:00Z", "timestamp_format"),
    ("referrals.csv", 2, "accepted_at", "2024-01-03 10:00+01:00", "timestamp_format"),
    ("partnerships.csv", 2, "started_on", "2023-01-15 10:00", "date_format"),
    ("outcomes.csv", 3, "achieved_on", "2023-02-29", "date_format"),
    ("capacity.csv", 3, "month", "2024-02-01", "month_format"),
    ("needs.csv", 2, "month", "2024-13", "month_format"),
    ("capacity.csv", 2, "slots", "12.5", "int_format"),
    ("needs.csv", 3, "people_in_need", "many", "int_format"),
    ("partnerships.csv", 2, "trust", "5", "int_range"),
    ("capacity.csv", 2, "slots", "-1", "int_range"),
    ("capacity.csv", 2, "slots", "999", "sentinel"),
    ("referrals.csv", 3, "referral_id", "R1", "unique"),
    ("referrals.csv", 2, "to_agency_id", "A9", "reference"),
    ("referrals.csv", 3, "to_program_id", "P7", "reference"),
    ("outcomes.csv", 2, "agency_id", "A9", "reference"),
    ("needs.csv", 3, "region", "West", "reference"),
    ("capacity.csv", 3, "program_id", "P9", "reference"),
    ("partnerships.csv", 3, "ended_on", "2021-12-31", "order"),
    ("referrals.csv", 2, "accepted_at", "2024-01-01 23:59", "order"),
    ("referrals.csv", 2, "completed_at", "2024-01-04 09:00", "order"),
    ("referrals.csv", 4, "decline_reason", "other", "decline_reason_without_decline"),
    ("referrals.csv", 4, "started_at", "2024-02-02", "started_needs_accepted"),
    ("referrals.csv", 4, "completed_at", "2024-02-02", "completed_needs_started"),
    ("referrals.csv", 2, "to_program_id", "P1", "program_agency_mismatch"),
    ("outcomes.csv", 2, "program_id", "P1", "program_agency_mismatch"),
    ("partnerships.csv", 2, "agency_b_id", "007", "self_partnership"),
]


@pytest.mark.parametrize("file, row, column, value, rule", CELL_DEFECTS)
def test_each_cell_defect_is_reported_where_it_is(tmp_path, file, row, column, value, rule):
    files = dict(VALID, **{file: with_cell(VALID[file], row, column, value)})
    _, problems = load(write(tmp_path, files))
    shown = value.strip() or None
    assert located(problems) == [(file, row, column, shown, rule)]
    assert problems[0].severity == "error" and problems[0].message


def test_messages_say_the_contract_format(tmp_path):
    files = dict(VALID, **{"referrals.csv": with_cell(VALID["referrals.csv"], 2, "accepted_at", "01/02/2024"),
                           "agencies.csv": with_cell(VALID["agencies.csv"], 3, "sector", "Health")})
    _, problems = load(write(tmp_path, files))
    by_rule = {p.rule: p.message for p in problems}
    assert "YYYY-MM-DD HH:MM" in by_rule["timestamp_format"]
    assert "health" in by_rule["enum"] and "government, nonprofit" in by_rule["enum"]


def test_duplicate_key_names_the_first_row(tmp_path):
    capacity = VALID["capacity.csv"] + "P2,2024-01,5\nP1,2024-01,7\n"
    _, problems = load(write(tmp_path, dict(VALID, **{"capacity.csv": capacity})))
    assert located(problems) == [("capacity.csv", 5, "program_id, month", "P1 / 2024-01", "unique")]
    assert "row 2" in problems[0].message


def test_accepted_and_declined(tmp_path):
    referrals = with_cell(VALID["referrals.csv"], 3, "accepted_at", "2024-01-05 12:00")
    _, problems = load(write(tmp_path, dict(VALID, **{"referrals.csv": referrals})))
    assert located(problems) == [
        ("referrals.csv", 3, "declined_at", "2024-01-06 08:00", "accepted_and_declined")]


def test_declined_without_reason(tmp_path):
    referrals = with_cell(VALID["referrals.csv"], 3, "decline_reason", "")
    _, problems = load(write(tmp_path, dict(VALID, **{"referrals.csv": referrals})))
    assert located(problems) == [("referrals.csv", 3, "decline_reason", None, "decline_reason_required")]


def test_a_bad_value_is_reported_once(tmp_path):
    """A cell that fails to parse still counts as filled for the rules about cells that go together."""
    referrals = with_cell(VALID["referrals.csv"], 2, "accepted_at", "yesterday")
    referrals = with_cell(referrals, 3, "decline_reason", "full")
    _, problems = load(write(tmp_path, dict(VALID, **{"referrals.csv": referrals})))
    assert located(problems) == [("referrals.csv", 2, "accepted_at", "yesterday", "timestamp_format"),
                                 ("referrals.csv", 3, "decline_reason", "full", "enum")]


def test_missing_required_column_is_one_problem(tmp_path):
    agencies = "agency_id,name,Sector,region\n007,Harbor,nonprofit,North\nA2,Health,health,South\n" \
               "A3,Haven,community,North\n"
    _, problems = load(write(tmp_path, dict(VALID, **{"agencies.csv": agencies})))
    assert located(problems) == [("agencies.csv", None, "Sector", None, "unknown_column"),
                                 ("agencies.csv", None, "sector", None, "missing_column")]
    assert "rename 'Sector' to sector" in problems[1].message


def test_repeated_and_unnamed_columns(tmp_path):
    programs = ("program_id,agency_id,name,service_type,name,\n"
                "P1,007,Shelter,shelter,Other,\nP2,A2,Clinic,medical,,\n")
    tables, problems = load(write(tmp_path, dict(VALID, **{"programs.csv": programs})))
    assert located(problems) == [("programs.csv", None, "", None, "unknown_column"),
                                 ("programs.csv", None, "name", None, "duplicate_column")]
    assert tables["programs"]["name"].tolist() == ["Shelter", "Clinic"]  # the first one is read


def test_unknown_column_is_a_warning(tmp_path):
    programs = VALID["programs.csv"].replace("funder\n", "funder,notes\n").replace(
        "City\n", "City,weekdays only\n").replace(",medical,\n", ",medical,,\n")
    _, problems = load(write(tmp_path, dict(VALID, **{"programs.csv": programs})))
    assert located(problems) == [("programs.csv", None, "notes", None, "unknown_column")]
    assert problems[0].severity == "warning"


@pytest.mark.parametrize("header", ["client_name", "Date of Birth", "phone", "E-mail", "home_address", "zip"])
def test_personal_data_column_is_refused(tmp_path, header):
    outcomes = "client_id,agency_id,program_id,outcome,achieved_on," + header + "\n" \
               "C001,A2,P2,health_connected,2024-02-01,x\n"
    _, problems = load(write(tmp_path, dict(VALID, **{"outcomes.csv": outcomes})))
    assert errors(problems) == [("outcomes.csv", None, header, None, "pii_column")]
    assert len(problems) == 1


def test_agencies_may_have_their_own_phone(tmp_path):
    agencies = VALID["agencies.csv"].replace("is_victim_service\n", "is_victim_service,phone\n")
    agencies = agencies.replace("false\n", "false,555\n").replace(",\n", ",,\n").replace("TRUE\n", "TRUE,\n")
    _, problems = load(write(tmp_path, dict(VALID, **{"agencies.csv": agencies})))
    assert [(p.column, p.rule, p.severity) for p in problems] == [("phone", "unknown_column", "warning")]


def test_reference_into_a_table_not_supplied(tmp_path):
    files = {name: text for name, text in VALID.items() if name != "programs.csv"}
    # capacity and outcomes.program_id point at programs and have values; referrals.to_program_id too.
    files["capacity.csv"] = "program_id,month,slots\n"
    files["outcomes.csv"] = with_cell(VALID["outcomes.csv"], 2, "program_id", "")
    _, problems = load(write(tmp_path, files))
    assert located(problems) == [("referrals.csv", None, "to_program_id", None, "reference")]
    assert "programs" in problems[0].message


def test_many_defects_in_several_files_in_one_pass(tmp_path):
    referrals = VALID["referrals.csv"]
    for row, column, value in [(2, "referred_at", "02/01/2024"), (3, "service_type", "food bank"),
                               (4, "from_agency_id", "A404"), (4, "referral_id", "R2")]:
        referrals = with_cell(referrals, row, column, value)
    agencies = with_cell(VALID["agencies.csv"], 3, "region", "")
    capacity = with_cell(VALID["capacity.csv"], 3, "slots", "9999")
    files = dict(VALID, **{"referrals.csv": referrals, "agencies.csv": agencies, "capacity.csv": capacity,
                           "notes.txt": "not data"})
    del files["needs.csv"]  # optional: no problem
    _, problems = load(write(tmp_path, files))
    assert located(problems) == located([Problem(*p, message="") for p in [
        ("agencies.csv", 3, "region", None, "required"),
        ("capacity.csv", 3, "slots", "9999", "sentinel"),
        ("notes.txt", None, None, None, "ignored_file"),
        ("referrals.csv", 2, "referred_at", "02/01/2024", "timestamp_format"),
        ("referrals.csv", 3, "service_type", "food bank", "enum"),
        ("referrals.csv", 4, "from_agency_id", "A404", "reference"),
        ("referrals.csv", 4, "referral_id", "R2", "unique"),
    ]])


def test_row_numbers_are_as_in_the_file(tmp_path):
    """A blank line and a quoted line break inside a row still count as in a spreadsheet."""
    agencies = ('agency_id,name,sector,region\n'
                '007,"Harbor\nShelter",nonprofit,North\n'
                '\n'
                'A2,County Health,health,South\n'
                'A3,Safe Haven,communty,North\n'
                ',,,\n\n')  # trailing blank rows are dropped
    _, problems = load(write(tmp_path, dict(VALID, **{"agencies.csv": agencies})))
    assert errors(problems) == [
        ("agencies.csv", 3, "agency_id", None, "required"),
        ("agencies.csv", 3, "name", None, "required"),
        ("agencies.csv", 3, "region", None, "required"),
        ("agencies.csv", 3, "sector", None, "required"),
        ("agencies.csv", 5, "sector", "communty", "enum"),
    ]


def test_leading_zeros_bom_crlf_and_whitespace(tmp_path):
    agencies = "\ufeff agency_id ,name,sector,region\r\n 007 ,Harbor,nonprofit,North\r\n0042,Two,faith,South\r\n"
    write(tmp_path, {"agencies.csv": agencies})
    raw, problems = read_file(tmp_path / "agencies.csv")
    assert problems == []
    assert raw.file == "agencies.csv" and raw.table == "agencies"
    assert list(raw.frame.columns) == ["agency_id", "name", "sector", "region"]
    assert raw.frame["agency_id"].tolist() == ["007", "0042"]
    assert all(isinstance(v, str) for v in raw.frame.stack())


def test_binary_file_named_csv_is_refused(tmp_path):
    files = dict(VALID, **{"programs.csv": b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256))})
    _, problems = load(write(tmp_path, files))
    assert errors(problems) == [("capacity.csv", None, "program_id", None, "reference"),
                                ("outcomes.csv", None, "program_id", None, "reference"),
                                ("programs.csv", None, None, None, "not_csv"),
                                ("referrals.csv", None, "to_program_id", None, "reference")]


@pytest.mark.parametrize("content", [
    "agency_id,name,sector,region\nA1,Caf\u00e9,faith,North\n".encode("utf-16-le"),  # UTF-16 without its BOM
    b"\x00\x01\x02binary",
    parquet_bytes(pa.table({"agency_id": ["A1"]})),
])
def test_files_that_are_not_csv(tmp_path, content):
    write(tmp_path, {"agencies.csv": content})
    raw, problems = read_file(tmp_path / "agencies.csv")
    assert raw is None and located(problems) == [("agencies.csv", None, None, None, "not_csv")]


def test_csv_named_parquet_is_refused(tmp_path):
    write(tmp_path, {"agencies.parquet": VALID["agencies.csv"]})
    raw, problems = read_file(tmp_path / "agencies.parquet")
    assert raw is None and located(problems) == [("agencies.parquet", None, None, None, "not_parquet")]
    assert "agencies.csv" in problems[0].message


def test_row_with_wrong_number_of_values(tmp_path):
    agencies = VALID["agencies.csv"] + "A4,Hope, Inc,faith,North,\nA5,Five,faith\n"
    write(tmp_path, {"agencies.csv": agencies})
    raw, problems = read_file(tmp_path / "agencies.csv")
    assert raw is None
    assert located(problems) == [("agencies.csv", 5, None, "A4,Hope, Inc,faith,North,", "field_count"),
                                 ("agencies.csv", 6, None, "A5,Five,faith", "field_count")]


def test_empty_file(tmp_path):
    write(tmp_path, {"agencies.csv": ""})
    _, problems = read_file(tmp_path / "agencies.csv")
    assert [p.rule for p in problems] == ["empty_file"]


def test_parquet_is_read_as_contract_text(tmp_path):
    write(tmp_path, {name: text for name, text in VALID.items() if name != "partnerships.csv"})
    pq.write_table(pa.table({
        "agency_a_id": ["007", "A2"],
        "agency_b_id": ["A2", "A3"],
        "kind": pa.array(["formal", "informal"]).dictionary_encode(),
        "instrument": ["mou", "personal"],
        "started_on": pa.array([pd.Timestamp("2023-01-15"), pd.Timestamp("2022-06-01")], pa.timestamp("ns")),
        "ended_on": pa.array([None, dt.date(2024, 1, 31)], pa.date32()),
        "trust": pa.array([3, None], pa.int64()),
        "value": pa.array([4.0, None], pa.float64()),
    }), tmp_path / "partnerships.parquet")
    raw, problems = read_folder(tmp_path)
    assert problems == []
    frame = raw["partnerships"].frame
    assert raw["partnerships"].file == "partnerships.parquet"
    assert frame["started_on"].tolist() == ["2023-01-15", "2022-06-01"]
    assert frame["ended_on"].tolist()[1] == "2024-01-31"
    assert frame["trust"].tolist()[0] == "3" and frame["value"].tolist()[0] == "4"
    tables, found = validate(raw)
    assert found == []
    assert tables["partnerships"]["trust"].tolist() == [3, pd.NA]


def test_parquet_timestamps_and_month_dates(tmp_path):
    pq.write_table(pa.table({
        "program_id": ["P1", "P1"],
        "month": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 15)], pa.date32()),
        "slots": pa.array([20, 5], pa.int32()),
    }), tmp_path / "capacity.parquet")
    raw, _ = read_file(tmp_path / "capacity.parquet")
    assert raw.frame["month"].tolist() == ["2024-01", "2024-02-15"]  # the 15th is not a month: refused
    pq.write_table(pa.table({
        "referred_at": pa.array([dt.datetime(2024, 1, 2, 9, 30, 15, 250000), None], pa.timestamp("us")),
        "accepted_at": pa.array([dt.datetime(2024, 1, 3, 10), None], pa.timestamp("us", tz="UTC")),
    }), tmp_path / "referrals.parquet")
    raw, _ = read_file(tmp_path / "referrals.parquet")
    assert raw.frame["referred_at"].tolist()[0] == "2024-01-02 09:30:15"
    _, problems = validate({"referrals": raw})
    zoned = [p for p in problems if p.column == "accepted_at"]
    assert located(zoned) == [
        ("referrals.parquet", 2, "accepted_at", "2024-01-03 10:00:00Z", "timestamp_format")]
    assert "time zone" in zoned[0].message


def test_read_file_refuses_what_is_not_a_contract_file(tmp_path):
    write(tmp_path, {"clients.csv": "a\n1\n", "agencies.txt": "a\n1\n"})
    with pytest.raises(ValueError, match="not a contract table"):
        read_file(tmp_path / "clients.csv")
    with pytest.raises(ValueError, match="readable extensions"):
        read_file(tmp_path / "agencies.txt")
    raw, problems = read_file(tmp_path / "clients.csv", table="agencies")  # named by the caller
    assert problems == [] and raw.table == "agencies" and raw.file == "clients.csv"


def test_folder_level_problems(tmp_path):
    files = {"referrals.csv": VALID["referrals.csv"], "referrals.parquet": b"PAR1",
             "programs.pdf": b"%PDF-1.4", "README.md": "hello", ".DS_Store": b"\x00"}
    raw, problems = read_folder(write(tmp_path, files))
    assert raw == {}
    assert located(problems) == [
        ("README.md", None, None, None, "ignored_file"),
        ("agencies.csv", None, None, None, "missing_file"),
        ("programs.pdf", None, None, None, "ignored_file"),
        ("referrals.csv", None, None, None, "duplicate_file"),
    ]
    assert {p.rule: p.severity for p in problems} == {"duplicate_file": "error", "ignored_file": "warning",
                                                     "missing_file": "error"}


def test_long_lists_are_bounded_but_counted(tmp_path):
    rows = "".join(f"R{i},C{i},007,A2,medical,2024-13-{i % 28 + 1:02d},,,,,,\n" for i in range(250))
    referrals = VALID["referrals.csv"].split("\n", 1)[0] + "\n" + rows
    _, problems = load(write(tmp_path, dict(VALID, **{"referrals.csv": referrals})), limit=10)
    formats = [p for p in problems if p.rule == "timestamp_format"]
    assert [p.row for p in formats] == list(range(2, 12)) + [None]
    assert formats[-1].count == 240
    counts = summary(problems)
    assert counts.set_index("rule")["count"].to_dict() == {"timestamp_format": 250}


def test_check_on_typed_frames_alone(tmp_path):
    """Without the written text (e.g. tables generated in memory), values are shown from the types."""
    tables, _ = load(write(tmp_path, VALID))
    tables["partnerships"].loc[1, "ended_on"] = pd.Timestamp("2021-12-31")
    problems = check(tables, {name: f"{name} (memory)" for name in tables})
    assert located(problems) == [("partnerships (memory)", 3, "ended_on", "2021-12-31", "order")]
    assert "(2022-06-01)" in problems[0].message


def test_problems_frame_and_report(tmp_path):
    referrals = with_cell(VALID["referrals.csv"], 4, "referred_at", "2024-13-01")
    referrals = with_cell(referrals, 2, "service_type", "x" * 200)
    needs = "region,service_type,month,people_in_need,client_email\nNorth,shelter,2024-01,40,\n"
    files = dict(VALID, **{"referrals.csv": referrals, "needs.csv": needs})
    _, problems = load(write(tmp_path, files))
    frame = problems_frame(problems)
    assert list(frame.columns) == ["file", "row", "column", "value", "rule", "message", "severity"]
    assert frame["file"].tolist() == ["needs.csv", "referrals.csv", "referrals.csv"]
    assert frame["row"].tolist() == [pd.NA, 2, 4] and str(frame["row"].dtype) == "Int64"
    assert frame["rule"].tolist() == ["pii_column", "enum", "timestamp_format"]
    assert len(frame["value"][1]) == 80
    report = format_report(problems)
    assert report.splitlines()[0] == "3 errors, 0 warnings"
    assert ("referrals.csv row 4, column referred_at: value '2024-13-01' — No such date or time"
            in report)
    assert format_report([]).startswith("No problems")
    assert format_report(problems, limit=1).splitlines()[-1] == "… 2 more lines not shown."


def test_report_counts_what_it_does_not_list(tmp_path):
    rows = "".join(f"P{i},007,Program {i},housing,\n" for i in range(3, 8))
    programs = VALID["programs.csv"] + rows.replace("housing", "housng")
    _, problems = load(write(tmp_path, dict(VALID, **{"programs.csv": programs})), limit=2)
    lines = format_report(problems).splitlines()
    assert lines[:2] == ["5 errors, 0 warnings", "  enum            5"]
    assert lines[-1] == ("programs.csv, column service_type — "
                         "… and 3 more rows with this problem (5 in all).")


def test_text_lookups_in_arrow_agree_with_pandas():
    """References, program owners and repeated keys are looked up in Arrow's hash tables when the columns are text;
    on random ids with gaps and repeats they find what pandas' isin and factorize find (which other columns use)."""
    import numpy as np

    from atlas.ingest import validate

    rng = np.random.default_rng(18)
    for _ in range(50):
        ids = [f"R{n}" for n in rng.integers(0, 40, size=int(rng.integers(0, 80)))]
        ids = [None if rng.random() < 0.1 else i for i in ids]
        known = [f"R{n}" for n in rng.integers(0, 40, size=int(rng.integers(0, 30)))] + [None]
        for dtype in ("string", object):
            values = pd.Series(ids, dtype=dtype)
            expected = (values.notna() & values.isin([k for k in known if k is not None])).to_numpy(dtype=bool)
            assert (validate.among(values, [pd.Series(known, dtype=dtype)]) & values.notna().to_numpy()
                    == expected).all()
        frame = pd.DataFrame({"referral_id": pd.Series(ids, dtype="string"),
                              "n": pd.Series(rng.integers(0, 3, size=len(ids)))})
        rows = np.flatnonzero(frame["referral_id"].notna().to_numpy())
        first = validate._first_of_each(frame, ("referral_id",), rows)
        by_pandas = validate._first_of_each(frame, ("referral_id", "n"), rows)  # two columns: pandas numbers them
        keyed = frame["referral_id"].iloc[rows].tolist()
        assert [keyed.index(k) for k in keyed] == first.tolist()
        pairs = list(zip(keyed, frame["n"].iloc[rows]))
        assert [pairs.index(p) for p in pairs] == by_pandas.tolist()
