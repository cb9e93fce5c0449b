"""`python -m atlas` as a person runs it: listing and running named queries, and its error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def atlas(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atlas", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


def test_queries_lists_every_named_query_with_its_documentation():
    out = atlas("queries")
    assert out.returncode == 0
    for name in ("referral_funnel", "agency_bottlenecks", "network_edges", "partnership_activity",
                 "need_vs_capacity", "outcomes_by_program"):
        assert f"{name}: " in out.stdout
    assert "--param stall_days=<number> = 14" in out.stdout
    assert "grain: one row per stage" in out.stdout


def test_query_json_is_records_with_nulls_and_iso_dates(small_db):
    out = atlas("query", "need_vs_capacity", "--db", str(small_db), "--param", "region=South", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and rows
    housing = next(r for r in rows if r["service_type"] == "housing")
    assert housing == {"region": "South", "service_type": "housing", "month": "2024-02-01", "need": 10,
                       "demand": 1, "capacity": 5, "unmet_need": 5, "utilization": 0.2}
    shelter = next(r for r in rows if r["service_type"] == "shelter")
    assert shelter["utilization"] is None


def test_query_csv_and_table(small_db):
    csv = atlas("query", "referral_funnel", "--db", str(small_db), "--format", "csv")
    assert csv.stdout.splitlines()[:2] == ["position,stage,referrals", "1,referred,13"]
    table = atlas("query", "referral_funnel", "--db", str(small_db), "--param", "start=2024-01-01")
    assert "referred" in table.stdout and "12" in table.stdout


def test_unknown_query_is_a_clear_error(small_db):
    out = atlas("query", "referal_funnel", "--db", str(small_db))
    assert out.returncode == 2
    assert "no query named 'referal_funnel'" in out.stderr and "referral_funnel" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_or_malformed_parameter_is_a_clear_error(small_db):
    out = atlas("query", "referral_funnel", "--db", str(small_db), "--param", "stall_days=3")
    assert out.returncode == 2 and "has no parameter 'stall_days'" in out.stderr
    out = atlas("query", "referral_funnel", "--db", str(small_db), "--param", "start=01/02/2024")
    assert out.returncode == 2 and "must be a date YYYY-MM-DD" in out.stderr
    out = atlas("query", "referral_funnel", "--db", str(small_db), "--param", "start")
    assert out.returncode == 2 and "KEY=VALUE" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_database_says_how_to_make_one(tmp_path):
    out = atlas("query", "referral_funnel", "--db", str(tmp_path / "nothing.duckdb"))
    assert out.returncode == 2
    assert "python -m atlas demo" in out.stderr and "Traceback" not in out.stderr


def test_demo_refuses_a_size_it_cannot_tell_its_story_at(tmp_path):
    out = atlas("demo", "--db", str(tmp_path / "x.duckdb"), "--agencies", "10")
    assert out.returncode == 2 and "agencies must be at least" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "x.duckdb").exists()


def test_demo_loads_no_rows_that_break_the_contract(tmp_path, monkeypatch, capsys):
    """The demo's rows are checked against the import contract before they are written: a generator that broke the
    contract is reported with the file, row and column, and no database is built (nor left half built)."""
    from atlas import demo
    from atlas.cli import main
    from atlas.db import Atlas

    real = demo.generate

    def broken(**kwargs):
        tables = real(**kwargs)
        tables["referrals"].loc[2, "to_agency_id"] = "NOWHERE"  # a referral to an agency that does not exist
        return tables

    monkeypatch.setattr(demo, "generate", broken)
    target = tmp_path / "demo.duckdb"
    assert main(["demo", "--db", str(target), "--referrals", "5000"]) == 1
    err = capsys.readouterr().err
    assert "referrals (demo)" in err and "to_agency_id" in err and "NOWHERE" in err
    assert list(tmp_path.iterdir()) == []  # no database, no half-built file

    monkeypatch.setattr(demo, "generate", real)
    assert main(["demo", "--db", str(target), "--referrals", "5000"]) == 0  # the real generator keeps it
    with Atlas(target) as db:
        assert int(db.query("data_extent").iloc[0]["referrals"]) == 5000


def test_query_json_suppressed_cells_are_null(small_db):
    out = atlas("query", "outcomes_by_program", "--db", str(small_db), "--format", "json",
                "--param", "start=2024-01-01", "--param", "end=2024-03-31")
    assert out.returncode == 0, out.stderr
    p2 = next(r for r in json.loads(out.stdout) if r["program_id"] == "P2")
    assert p2["suppressed"] is True and p2["exits"] is None and p2["rate"] is None
