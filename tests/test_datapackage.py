"""The import contract published as a Frictionless Data Package: the demo's contract files validate
against it with the Frictionless tools, and a file that breaks the contract does not."""

from __future__ import annotations

import json

import pytest
from conftest import TEST_KEY
from frictionless import Package

from atlas.cli import main
from atlas.contract import TABLES
from atlas.ingest import datapackage, importer, upload


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_csv")
    assert main(["demo", "--db", str(root / "atlas.duckdb"), "--csv", str(root / "csv"), "--referrals", "3000",
                 "--agencies", "90"]) == 0
    return root / "csv"


def errors(folder) -> list[tuple[str, str]]:
    report = Package(str(folder / "datapackage.json")).validate()
    return [(task.name, e.type) for task in report.tasks for e in task.errors]


def test_the_demo_csv_output_carries_a_data_package_its_files_satisfy(demo_csv):
    described = json.loads((demo_csv / "datapackage.json").read_text())
    assert [r["name"] for r in described["resources"]] == list(TABLES)
    referrals = next(r for r in described["resources"] if r["name"] == "referrals")["schema"]
    assert referrals["primaryKey"] == ["referral_id"]
    assert {"fields": "from_agency_id", "reference": {"resource": "agencies", "fields": "agency_id"}} in \
        referrals["foreignKeys"]
    reason = next(f for f in referrals["fields"] if f["name"] == "decline_reason")
    assert "no_capacity" in reason["constraints"]["enum"] and "required" not in reason["constraints"]
    assert errors(demo_csv) == []
    assert upload.datapackage_json() == (json.dumps(datapackage.descriptor(), indent=2) + "\n").encode()


def test_a_file_that_breaks_the_contract_fails_the_frictionless_check_too(demo_csv, tmp_path):
    import shutil

    broken = tmp_path / "csv"
    shutil.copytree(demo_csv, broken)
    agencies = (broken / "agencies.csv").read_text().splitlines()
    agencies[1] = agencies[1].replace(",nonprofit,", ",charity,").replace(",health,", ",charity,") \
        .replace(",government,", ",charity,").replace(",faith,", ",charity,").replace(",community,", ",charity,") \
        .replace(",education,", ",charity,").replace(",justice,", ",charity,").replace(",business,", ",charity,")
    (broken / "agencies.csv").write_text("\n".join(agencies) + "\n")
    referrals = (broken / "referrals.csv").read_text().splitlines()
    fields = referrals[1].split(",")
    fields[2] = "NO-SUCH-AGENCY"  # from_agency_id
    referrals[1] = ",".join(fields)
    (broken / "referrals.csv").write_text("\n".join(referrals) + "\n")
    found = errors(broken)
    assert ("agencies", "constraint-error") in found and ("referrals", "foreign-key") in found


def test_a_folder_with_its_data_package_imports_without_a_warning_about_it(demo_csv, tmp_path):
    result = importer.import_folder(demo_csv, tmp_path / "atlas.duckdb", TEST_KEY)
    assert not [w for w in result.warnings if "datapackage" in w.file]
