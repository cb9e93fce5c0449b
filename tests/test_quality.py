"""The data-quality panel on the small community, whose answers are worked out by hand below.

The data's as-of moment is R13's completion, 2024-03-31 12:00. Last referral activity per agency:
A1 and A2 2024-03-31, A5 2024-03-21, A3 and A6 2024-03-14 09:00 (R10), A4 2024-03-01 09:00 (R07).
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

from atlas.db import Atlas
from atlas.ingest import importer
from atlas.views import quality


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The small community plus an agency that never referred (A7)."""
    files = dict(SMALL_COMMUNITY)
    files["agencies.csv"] += "A7,Quiet Corner,community,East,false\nA8,Hidden Refuge,nonprofit,East,true\n"
    root = tmp_path_factory.mktemp("quality")
    importer.import_folder(write_files(root / "files", files), root / "atlas.duckdb", TEST_KEY)
    with Atlas(root / "atlas.duckdb") as atlas:
        yield atlas


def by_key(report: quality.Report) -> dict[str, quality.Check]:
    return {check.key: check for check in report.checks}


def test_stale_referrals_are_open_ones_not_updated_for_n_days(db):
    checks = by_key(quality.report(db, stale_days=60))
    stale = checks["stale_referrals"]
    # R03 pending since 2024-01-10 08:00 (81.2 days); R02 started 2024-01-20 10:00 (71.1 days)
    assert stale.rows["referral_id"].tolist() == ["R03", "R02"]
    assert stale.rows["days_since_update"].round(2).tolist() == [81.17, 71.08]
    assert by_key(quality.report(db, stale_days=90))["stale_referrals"].count == 0
    assert stale.count == 2 and "60 days" in stale.what


def test_agencies_without_referrals_and_programs_without_capacity(db):
    checks = by_key(quality.report(db))
    agencies = checks["agencies_without_referrals"].rows
    assert agencies["agency_id"].tolist() == ["A7", "A8"]
    assert agencies["name"].tolist()[0] == "Quiet Corner" and pd.isna(agencies["name"].tolist()[1])  # victim service
    assert checks["programs_without_capacity"].rows["program_id"].tolist() == ["P2", "P4"]


def test_partnerships_with_ended_agencies(db):
    checks = by_key(quality.report(db, ended_days=25))
    ended = checks["ended_agency_partnerships"].rows
    assert ended[["agency_a_id", "agency_b_id", "ended_agency_id"]].values.tolist() == [["A4", "A2", "A4"]]
    checks = by_key(quality.report(db, ended_days=15))
    ended = checks["ended_agency_partnerships"].rows
    # A1-A3's protocol ended on 2023-12-31, before A3's last activity: not listed
    assert ended[["agency_a_id", "agency_b_id", "ended_agency_id"]].values.tolist() == [
        ["A3", "A1", "A3"], ["A4", "A2", "A4"]]
    # an agency with no referral activity at all has not "ended": it is in the no-referrals check
    assert "A7" not in set(ended["ended_agency_id"])


def test_outcomes_of_clients_never_referred_download_pseudonyms_only(db):
    check = by_key(quality.report(db))["outcomes_never_referred"]
    assert check.count == 94  # every exit but C1's (the only client also referred)
    download = pd.read_csv(io.BytesIO(check.download()), encoding="utf-8-sig", dtype=str)
    assert list(download.columns) == ["client_id"] and len(download) == 94
    assert download["client_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert not download["client_id"].isin(["C100", "C1"]).any()


def test_every_check_downloads_its_ids(db):
    for check in quality.report(db, stale_days=60, ended_days=15).checks:
        download = pd.read_csv(io.BytesIO(check.download()), encoding="utf-8-sig", dtype=str)
        assert list(download.columns) == list(check.ids)
        assert len(download) == len(check.rows[list(check.ids)].drop_duplicates())


def test_completeness_per_column(db):
    frame = quality.report(db).completeness.set_index(["table_name", "column_name"])
    assert frame.loc[("referrals", "accepted_at"), ["total_rows", "filled_rows"]].tolist() == [13, 8]
    assert frame.loc[("referrals", "accepted_at"), "share_filled"] == pytest.approx(8 / 13)
    assert frame.loc[("programs", "funder"), "filled_rows"] == 3
    assert bool(frame.loc[("referrals", "referral_id"), "required"]) is True
    assert bool(frame.loc[("referrals", "accepted_at"), "required"]) is False
    tables = frame.index.get_level_values(0).unique().tolist()
    assert tables == ["agencies", "programs", "partnerships", "referrals", "outcomes", "capacity", "needs"]
    assert frame.loc["referrals"].index.tolist()[:3] == ["referral_id", "client_id", "from_agency_id"]


def test_an_empty_database_has_nothing_to_report(tmp_path):
    database = tmp_path / "atlas.duckdb"
    from test_hsds import EXAMPLE

    from atlas.ingest.formats import hsds

    hsds.import_directory(EXAMPLE, database, TEST_KEY)  # a directory: agencies and programs, no referrals
    with Atlas(database) as atlas:
        report = quality.report(atlas)
    checks = by_key(report)
    assert checks["agencies_without_referrals"].count == 1 and checks["stale_referrals"].count == 0
    assert report.completeness.set_index(["table_name", "column_name"]).loc[
        ("referrals", "referral_id"), "total_rows"] == 0
