"""`atlas import` end to end: keyed pseudonyms, all-or-nothing writes, idempotence, the demo round trip."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, table, write_files

from atlas import config
from atlas.db import Atlas
from atlas.ingest import importer

ROOT = Path(__file__).resolve().parent.parent


def run_atlas(*args, key: str | None = TEST_KEY.decode()):
    env = {k: v for k, v in os.environ.items() if k not in ("ATLAS_HMAC_KEY", "ATLAS_DB")}
    if key:
        env["ATLAS_HMAC_KEY"] = key
    return subprocess.run([sys.executable, "-m", "atlas", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_client_ids_are_keyed_pseudonyms_and_the_raw_value_is_stored_nowhere(tmp_path):
    raw = "RAW-CLIENT-7f3a9"
    files = dict(SMALL_COMMUNITY)
    files["referrals.csv"] = files["referrals.csv"].replace(",C1,", f",{raw},")
    files["outcomes.csv"] = files["outcomes.csv"].replace("\nC1,", f"\n{raw},")
    db = tmp_path / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "in", files), db, TEST_KEY)

    expected = hmac.new(TEST_KEY, raw.encode(), hashlib.sha256).hexdigest()[:32]
    plain = hashlib.sha256(raw.encode()).hexdigest()[:32]
    in_referrals = {r[0] for r in table(db, "select client_id from referrals where referral_id in ('R01', 'R06')")}
    in_outcomes = {r[0] for r in table(db, "select client_id from outcomes where agency_id = 'A2'")}
    assert in_referrals == in_outcomes == {expected}  # the same client links across tables
    assert expected != plain  # a keyed HMAC, not a hash anyone could recompute
    data = db.read_bytes()
    assert raw.encode() not in data and raw.encode("utf-16-le") not in data


def test_a_malformed_set_is_reported_in_one_pass_and_the_database_is_untouched(tmp_path):
    db = tmp_path / "atlas.duckdb"
    assert run_atlas("import", str(write_files(tmp_path / "good", SMALL_COMMUNITY)), "--db", str(db)).returncode == 0
    before = db.read_bytes()

    bad = dict(SMALL_COMMUNITY)
    bad["referrals.csv"] = bad["referrals.csv"].replace("2024-01-03 09:00", "03/01/2024").replace(",A4,A1,", ",A9,A1,")
    bad["capacity.csv"] = bad["capacity.csv"].replace("P1,2024-03,12", "P1,2024-03,999")
    out = run_atlas("import", str(write_files(tmp_path / "bad", bad)), "--db", str(db))
    assert out.returncode == 1
    report = out.stderr
    assert "referrals.csv" in report and "accepted_at" in report and "03/01/2024" in report
    assert "from_agency_id" in report and "A9" in report
    assert "capacity.csv" in report and "999" in report
    assert "unchanged" in report
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".*building*"))


def test_import_refuses_without_a_key_and_says_how_to_set_one(tmp_path, monkeypatch, capsys):
    from atlas.cli import main

    monkeypatch.delenv("ATLAS_HMAC_KEY", raising=False)
    monkeypatch.setattr(config, "SECRETS_FILE", tmp_path / "no-secrets.toml")
    files = write_files(tmp_path / "in", SMALL_COMMUNITY)
    assert main(["import", str(files), "--db", str(tmp_path / "x.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "ATLAS_HMAC_KEY" in err and "secrets.toml" in err
    assert not (tmp_path / "x.duckdb").exists()


def test_key_from_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('atlas_hmac_key = "0123456789abcdef0123456789abcdef-from-file"\n')
    monkeypatch.delenv("ATLAS_HMAC_KEY", raising=False)
    monkeypatch.setattr(config, "SECRETS_FILE", secrets)
    assert config.hmac_key() == b"0123456789abcdef0123456789abcdef-from-file"
    secrets.write_text('atlas_hmac_key = "short"\n')
    with pytest.raises(config.ConfigError, match="too short"):
        config.hmac_key()


def test_reimporting_the_same_files_is_idempotent(small_files, tmp_path):
    db = tmp_path / "atlas.duckdb"
    first = importer.import_folder(small_files, db, TEST_KEY)
    rows = table(db, "select * from referrals order by referral_id")
    second = importer.import_folder(small_files, db, TEST_KEY)
    assert table(db, "select * from referrals order by referral_id") == rows
    assert first.checksum == second.checksum and first.row_counts == second.row_counts
    assert table(db, "select count(*) from imports") == [(1,)]  # the database is rebuilt whole


def test_demo_csv_round_trips_through_import(tmp_path):
    built, imported, csv = tmp_path / "demo.duckdb", tmp_path / "imported.duckdb", tmp_path / "csv"
    out = run_atlas("demo", "--db", str(built), "--csv", str(csv), "--referrals", "5000", "--agencies", "100")
    assert out.returncode == 0, out.stderr
    bar = [line for line in out.stderr.splitlines() if line.startswith("[")]  # progress, a line per tenth
    assert any("Building the model: journey facts" in line for line in bar) and "100%" in bar[-1]
    assert sorted(p.name for p in csv.iterdir()) == sorted([f"{t}.csv" for t in (
        "agencies", "programs", "partnerships", "referrals", "outcomes", "capacity", "needs")] + ["datapackage.json"])
    out = run_atlas("import", str(csv), "--db", str(imported))
    assert out.returncode == 0, out.stderr
    for name in ("agencies", "programs", "partnerships", "referrals", "outcomes", "capacity", "needs"):
        sql = f"select * from {name} order by all"
        assert table(built, sql) == table(imported, sql), name
    with Atlas(built) as a, Atlas(imported) as b:
        assert a.query("agency_bottlenecks").equals(b.query("agency_bottlenecks"))


def outdate(path: Path) -> None:
    """Make a database look as if an earlier version of the data model built it."""
    con = duckdb.connect(str(path))
    try:
        con.execute("update model_version set fingerprint = 'an-older-model'")
        con.execute("drop macro table need_cells")
    finally:
        con.close()


def test_an_outdated_database_is_refused_with_instructions_and_upgrade_keeps_the_data(small_files, tmp_path):
    from atlas.db import DatabaseOutdated

    db = tmp_path / "atlas.duckdb"
    importer.import_folder(small_files, db, TEST_KEY)
    rows = {name: table(db, f"select * from {name} order by all") for name in ("referrals", "outcomes", "imports")}
    outdate(db)
    with pytest.raises(DatabaseOutdated, match="python -m atlas upgrade"):
        Atlas(db)
    out = run_atlas("query", "need_vs_capacity", "--db", str(db))
    assert out.returncode == 2 and "atlas upgrade" in out.stderr and "Traceback" not in out.stderr

    out = run_atlas("upgrade", "--db", str(db))
    assert out.returncode == 0 and "Rebuilt the data model" in out.stdout
    bar = [line for line in out.stderr.splitlines() if line.startswith("[")]
    assert any("Copying the stored referrals" in line for line in bar) and " 100% " in bar[-1] and bar[-1].endswith("Upgraded")
    for name, before in rows.items():  # every row, client pseudonyms and the import log as they were
        assert table(db, f"select * from {name} order by all") == before
    with Atlas(db) as atlas:
        assert len(atlas.query("need_vs_capacity")) == 12
    assert "up to date" in run_atlas("upgrade", "--db", str(db)).stdout
