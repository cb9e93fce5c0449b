"""Open Referral HSDS 3 directories: the published example tables, and larger HSDS-shaped data built
here, read into agencies, programs and capacity through the documented, overridable mapping."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files
from test_import import run_atlas

from atlas.db import Atlas
from atlas.ingest import importer, sources, upload
from atlas.ingest.formats import hsds

EXAMPLE = Path(__file__).resolve().parent / "data" / "hsds-example"


def rows(path: Path, sql: str):
    con = duckdb.connect()
    try:
        con.execute("attach $p as db (read_only)", {"p": str(path)})
        con.execute("use db")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def csv_text(header: list[str], records: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in r] for r in records])
    return out.getvalue()


def test_the_published_example_imports(tmp_path):
    database = tmp_path / "atlas.duckdb"
    out = run_atlas("import", "--format", "hsds", str(EXAMPLE), "--db", str(database))
    assert out.returncode == 0, out.stderr
    assert "1 agencies, 1 programs" in out.stdout
    bar = [line for line in out.stderr.splitlines() if line.startswith("[")]  # its progress, step by step
    assert "Reading and mapping the HSDS directory" in bar[0] and " 100% " in bar[-1]
    assert rows(database, "select * from agencies") == [
        ("d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "Example Organization Inc.", "nonprofit", "Unassigned", False)]
    [(program_id, agency_id, name, service_type, funder)] = rows(database, "select * from programs")
    assert (program_id, agency_id, name, service_type) == (
        "ac148810-d857-441c-9679-408f346de14b", "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "Community Counselling",
        "mental_health")
    assert funder.startswith("This service is funded partially by the MyCity local government")
    assert rows(database, "select count(*) from referrals") == [(0,)]
    [(mode, source)] = rows(database, "select mode, source from imports")
    assert mode == "replace" and source.startswith("HSDS directory")


def test_the_example_through_the_upload_page_logic(tmp_path):
    files = [(p.name, p.read_bytes()) for p in sorted(EXAMPLE.iterdir()) if p.suffix == ".csv"]
    staging = upload.stage(files, root=tmp_path)
    assert staging.format == "hsds"
    done = upload.review(staging, tmp_path / "atlas.duckdb", TEST_KEY, mode="replace")
    assert done.ok, done.report()
    assert done.changes()[["table", "file", "rows"]].values.tolist() == [
        ["agencies", "organizations.csv → agencies", 1], ["programs", "services.csv → programs", 1]]
    result = upload.confirm(done, tmp_path / "atlas.duckdb", TEST_KEY)
    assert result.row_counts == {"agencies": 1, "programs": 1}


# ---- a larger HSDS-shaped directory, built here ------------------------------------------------------

ORGS = 300
SERVICES_PER_ORG = 3


def directory(folder: Path, *, singular: bool = False) -> Path:
    """An HSDS directory of 300 organizations, 900 services, their locations, addresses, taxonomy
    terms, funding and capacity, with known answers for the mapping to reach."""
    names = ["Riverside Baptist Church", "County Hospital", "Northgate School", "City of Springfield Council",
             "Harbor Legal Aid", "Hope Women's Aid", "Acme Staffing LLC", "Neighbourhood Table"]
    orgs, services, locations, addresses, links, capacity, funding = [], [], [], [], [], [], []
    for o in range(ORGS):
        org = f"org-{o:04d}"
        orgs.append([org, f"{names[o % len(names)]} {o}", "", "", "", ""])
        location = f"loc-{o:04d}"
        locations.append([location, "physical", org if o % 2 == 0 else "", f"Site {o}"])
        addresses.append([f"addr-{o:04d}", location, f"District {o % 5}" if o % 3 else "",
                          f"Town {o % 4}", "State", "physical"])
        for s in range(SERVICES_PER_ORG):
            service = f"svc-{o:04d}-{s}"
            status = "defunct" if (o, s) == (7, 2) else "active"
            name = ["Emergency shelter beds", "Job club", "Food pantry"][s]
            services.append([service, org, "", name, "", status])
            if o % 2:  # odd organizations reach their location only through their services
                links.append([f"sal-{o}-{s}", service, location])
            capacity.append([f"cap-{o}-{s}-a", service, "u-bed", "", "10", "2024-03-02T10:00:00Z"])
            capacity.append([f"cap-{o}-{s}-b", service, "u-bed", "5", "12", "2024-03-20T10:00:00+01:00"])
        funding.append([f"fund-{o}", org, "", f"Funder {o % 3}"])
    capacity.append(["cap-kg", "svc-0000-2", "u-kg", "300", "", "2024-03-05"])
    capacity.append(["cap-undated", "svc-0001-0", "u-bed", "4", "", ""])
    services.append(["svc-orphan", "org-9999", "", "Stray service", "", "active"])  # unknown organization
    attributes = [["att-1", "svc-0002-1", "term-mh", "service"], ["att-2", "svc-0003-1", "term-tx", "service"]]
    terms = [["term-mh", "RP-1400", "Mental Health Support"], ["term-tx", "BT-4500", "Transportation"]]
    tables = {
        "organizations": (["id", "name", "description", "legal_status", "tax_status", "email"], orgs),
        "services": (["id", "organization_id", "program_id", "name", "description", "status"], services),
        "locations": (["id", "location_type", "organization_id", "name"], locations),
        "addresses": (["id", "location_id", "region", "city", "state_province", "address_type"], addresses),
        "service_at_location": (["id", "service_id", "location_id"], links),
        "service_capacity": (["id", "service_id", "unit_id", "available", "maximum", "updated"], capacity),
        "units": (["id", "name"], [["u-bed", "Beds"], ["u-kg", "Kilogram"]]),
        "attributes": (["id", "link_id", "taxonomy_term_id", "link_type"], attributes),
        "taxonomy_terms": (["id", "code", "name"], terms),
        "funding": (["id", "organization_id", "service_id", "source"], funding),
    }
    files = {}
    for table, (header, records) in tables.items():
        name = table.rstrip("s") if singular and table in ("organizations", "services") else table
        files[f"{name}.csv"] = csv_text(header, records)
    return write_files(folder, files)


def test_a_larger_directory_maps_every_field(tmp_path):
    read = hsds.read_directory(directory(tmp_path / "hsds"))
    agencies = read.tables["agencies"].frame.set_index("agency_id")
    assert len(agencies) == ORGS
    assert agencies.loc["org-0000", "sector"] == "faith"
    assert agencies.loc["org-0001", "sector"] == "health"
    assert agencies.loc["org-0002", "sector"] == "education"
    assert agencies.loc["org-0003", "sector"] == "government"
    assert agencies.loc["org-0004", "sector"] == "community"  # nothing tells: the default
    assert agencies.loc["org-0006", "sector"] == "business"
    assert agencies["is_victim_service"].value_counts().to_dict() == {"false": 263, "true": 37}  # Hope Women's Aid
    # region: own location (even) or through a service's location (odd); empty region -> city
    assert agencies.loc["org-0001", "region"] == "District 1"
    assert agencies.loc["org-0003", "region"] == "Town 3"
    assert agencies.loc["org-0004", "region"] == "District 4"
    programs = read.tables["programs"].frame.set_index("program_id")
    assert len(programs) == ORGS * SERVICES_PER_ORG - 1 + 1  # one defunct left out, the orphan kept
    assert "svc-0007-2" not in programs.index
    assert programs.loc["svc-0000-0", "service_type"] == "shelter"
    assert programs.loc["svc-0000-1", "service_type"] == "employment"
    assert programs.loc["svc-0000-2", "service_type"] == "food"
    assert programs.loc["svc-0002-1", "service_type"] == "mental_health"  # taxonomy before the name
    assert programs.loc["svc-0003-1", "service_type"] == "transportation"
    assert programs.loc["svc-0005-0", "funder"] == "Funder 2"
    capacity = read.tables["capacity"].frame
    assert len(capacity) == ORGS * SERVICES_PER_ORG - 1  # the later March row of each service but the defunct
    assert capacity.iloc[0].to_dict() == {"program_id": "svc-0000-0", "month": "2024-03", "slots": "12"}
    assert sorted({(p.rule, p.severity) for p in read.problems}) == [
        ("hsds_capacity_month", "error"), ("hsds_capacity_superseded", "warning"),
        ("hsds_skipped_service", "warning"), ("hsds_unit", "warning")]
    [undated] = [p for p in read.problems if p.rule == "hsds_capacity_month"]
    assert (undated.file, undated.row, undated.column) == ("service_capacity.csv", 2 * 900 + 3, "updated")


def test_an_hsds_2_directory_gets_its_regions_as_a_3_one_does(tmp_path):
    """HSDS 1.x/2.0 name the addresses physical_addresses.csv (with no address_type) and the links
    services_at_location.csv."""
    folder = directory(tmp_path / "hsds2")
    (folder / "addresses.csv").rename(folder / "physical_addresses.csv")
    (folder / "service_at_location.csv").rename(folder / "services_at_location.csv")
    older = hsds.read_directory(folder).tables["agencies"].frame.set_index("agency_id")["region"]
    newer = hsds.read_directory(directory(tmp_path / "hsds3")).tables["agencies"].frame.set_index("agency_id")["region"]
    assert older.loc["org-0001"] == "District 1" and older.loc["org-0003"] == "Town 3"  # through services_at_location
    assert older.equals(newer)


def test_problems_are_reported_in_the_hsds_files(tmp_path):
    folder = directory(tmp_path / "hsds")
    with pytest.raises(importer.ImportRejected) as rejected:
        hsds.import_directory(folder, tmp_path / "atlas.duckdb", TEST_KEY)
    located = {(p.file, p.row, p.column, p.rule) for p in rejected.value.problems if p.severity == "error"}
    assert located == {
        ("services.csv", 902, "organization_id", "reference"),  # the orphan, row 902 of services.csv
        ("service_capacity.csv", 1803, "updated", "hsds_capacity_month"),
    }
    assert not (tmp_path / "atlas.duckdb").exists()


def test_a_fixed_directory_imports_and_appends_onto_a_community(tmp_path, small_db):
    folder = directory(tmp_path / "hsds", singular=True)
    (folder / "service_capacity.csv").write_text(
        "\n".join(line for line in (folder / "service_capacity.csv").read_text().splitlines()
                  if not line.startswith("cap-undated")) + "\n")
    (folder / "service.csv").write_text(
        "\n".join(line for line in (folder / "service.csv").read_text().splitlines()
                  if not line.startswith("svc-orphan")) + "\n")
    database = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, database)
    result = hsds.import_directory(folder, database, TEST_KEY, mode="append")
    assert result.changes["agencies"].added == ORGS and result.changes["capacity"].added == 899
    assert rows(database, "select count(*) from referrals") == [(13,)]  # the community's referrals stay
    assert rows(database, "select count(*) from agencies") == [(6 + ORGS,)]
    again = hsds.import_directory(folder, database, TEST_KEY, mode="append")
    assert not again.written
    with Atlas(database) as db:
        assert len(db.query("quality_programs_without_capacity")) == 2  # P2 and P4; the directory's have it


def test_a_directory_alone_then_referrals_added(tmp_path):
    database = tmp_path / "atlas.duckdb"
    hsds.import_directory(EXAMPLE, database, TEST_KEY)
    org, service = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "ac148810-d857-441c-9679-408f346de14b"
    referrals = SMALL_COMMUNITY["referrals.csv"].split("\n", 1)[0] + f"\nR1,C1,{org},{org},mental_health,2024-01-02,{service},,,,,\n"
    importer.import_folder(write_files(tmp_path / "in", {"referrals.csv": referrals}), database, TEST_KEY,
                           mode="append")
    assert rows(database, "select count(*) from referrals") == [(1,)]


def test_the_mapping_is_overridable(tmp_path):
    mapping = tmp_path / "ours.toml"
    mapping.write_text('[agencies]\ndefault_region = "Greater MyCity"\ndefault_sector = "health"\n\n'
                       '[programs]\ndefault_service_type = "case_management"\n'
                       'service_type = [{ service_type = "legal", pattern = "counsel" }]\n')
    database = tmp_path / "atlas.duckdb"
    out = run_atlas("import", "--format", "hsds", str(EXAMPLE), "--db", str(database), "--mapping", str(mapping))
    assert out.returncode == 0, out.stderr
    assert rows(database, "select sector, region from agencies") == [("nonprofit", "Greater MyCity")]
    assert rows(database, "select service_type from programs") == [("legal",)]


@pytest.mark.parametrize("text, says", [
    ('[agencies]\ndefault_sector = "charity"\n', "default_sector"),
    ('[programs]\nservice_type = [{ service_type = "housing", pattern = "(" }]\n', "regular expression"),
    ('[nonsense]\nx = 1\n', "unknown mapping section"),
    ('[agencies]\nnot_a_setting = 1\n', "no setting"),
    ("not toml [", "not valid TOML"),
])
def test_a_bad_mapping_is_refused_with_a_reason(tmp_path, text, says):
    mapping = tmp_path / "bad.toml"
    mapping.write_text(text)
    with pytest.raises(hsds.MappingError, match=says):
        hsds.load_mapping(mapping)
    out = run_atlas("import", "--format", "hsds", str(EXAMPLE), "--db", str(tmp_path / "x.duckdb"),
                    "--mapping", str(mapping))
    assert out.returncode == 2 and says in out.stderr


def test_a_mapping_uploaded_with_the_directory_is_used(tmp_path):
    files = [(p.name, p.read_bytes()) for p in sorted(EXAMPLE.iterdir()) if p.suffix == ".csv"]
    files.append(("mapping.toml", b'[agencies]\ndefault_region = "Uploaded Region"\n'))
    staging = upload.stage(files, root=tmp_path)
    done = upload.review(staging, tmp_path / "atlas.duckdb", TEST_KEY, mode="replace")
    assert done.ok and done.tables["agencies"].frame["region"].tolist() == ["Uploaded Region"]
    assert not [p for p in done.problems if p.file == "mapping.toml"]


def test_the_default_mapping_is_documented():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text()
    mapping = hsds.load_mapping()
    for section, values in mapping.items():
        for name in values:
            assert f"`{name}`" in doc, f"docs/import.md does not explain [{section}] {name}"


def test_a_directory_needs_no_key_which_is_asked_for_only_where_files_hold_client_ids(tmp_path, small_files):
    """A service directory holds no client: nothing to pseudonymise, so no HMAC key is asked for it, on the
    command line or on the Data page; contract files with client ids still need one, and the importer never
    writes a client id without it."""
    database = tmp_path / "atlas.duckdb"
    out = run_atlas("import", "--format", "hsds", str(EXAMPLE), "--db", str(database), key=None)
    assert out.returncode == 0, out.stderr
    assert "1 agencies, 1 programs" in out.stdout
    assert rows(database, "select count(*) from agencies") == [(1,)]
    # added to a database that holds clients, too: their stored pseudonyms are copied as they are
    community = tmp_path / "community.duckdb"
    importer.import_folder(small_files, community, TEST_KEY)
    pseudonyms = rows(community, "select referral_id, client_id from referrals order by 1")
    out = run_atlas("import", "--format", "hsds", str(EXAMPLE), "--db", str(community), "--append", key=None)
    assert out.returncode == 0, out.stderr
    assert rows(community, "select referral_id, client_id from referrals order by 1") == pseudonyms
    assert rows(community, "select count(*) from agencies") == [(7,)]
    # the Data page's import of the same directory, without a key
    staging = upload.stage([(p.name, p.read_bytes()) for p in sorted(EXAMPLE.iterdir()) if p.suffix == ".csv"],
                           root=tmp_path / "staged")
    done = upload.review(staging, tmp_path / "page.duckdb", None, mode="replace")
    assert done.ok and not importer.holds_client_ids(done.tables), done.report()
    assert upload.confirm(done, tmp_path / "page.duckdb", None).row_counts == {"agencies": 1, "programs": 1}
    # files that hold client ids: the key is asked for, and nothing is written
    refused = run_atlas("import", str(small_files), "--db", str(tmp_path / "clients.duckdb"), key=None)
    assert refused.returncode == 2 and "no key is set" in refused.stderr
    assert not (tmp_path / "clients.duckdb").exists()
    raw, problems = sources.read_folder(small_files)
    with pytest.raises(ValueError, match="client ids"):
        importer.import_tables(raw, problems, tmp_path / "unkeyed.duckdb", None, mode="replace", source="test",
                               checksum="test")
    assert not (tmp_path / "unkeyed.duckdb").exists()
