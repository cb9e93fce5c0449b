"""`python -m atlas backup DIR` / `restore DIR` and `python -m atlas status`, on real DuckDB files.

* A backup made while the database is held open as the server holds it, restored onto a new path, gives
  every table (of the data and of the model built over it) row for row, every view and macro, and the
  kept mappings and the refresh and delivery logs byte for byte; the restored database opens as the app
  opens it.
* A damaged backup is refused before anything at the database's path changes; a backup is never
  written over another; a restore over a database keeps what was there aside.
* `status` gives one line a monitor reads, and exits 1 when the last refresh failed or the data is older
  than the limit, 2 when there is no database.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

from atlas import config
from atlas.cli import main
from atlas.db import Atlas
from atlas.ingest import importer
from atlas.ops import backup, records


@pytest.fixture
def kept(tmp_path, monkeypatch):
    """The small community's database with a kept mapping and both logs beside it."""
    monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "secrets.toml"))
    monkeypatch.delenv("ATLAS_DB", raising=False)
    database = tmp_path / "live" / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "files", SMALL_COMMUNITY), database, TEST_KEY)
    mappings = config.mappings_folder(database)
    mappings.mkdir()
    (mappings / "case_tool.toml").write_text('name = "Case tool"\ntable = "referrals"\n', encoding="utf-8")
    records.put(config.refresh_log(database), {"id": "r1", "started_at": "2026-12-01 06:00:00",
                                               "finished_at": "2026-12-01 06:00:09", "entry": "march",
                                               "result": "imported", "rows": 80})
    records.put(config.delivery_log(database), {"id": "d1", "at": "2026-10-05 07:00:00", "period": "2026 Q3",
                                                "audience": "board", "result": "sent", "recipients": ["a@b.org"]})
    return database


def every_table(database: Path) -> dict[str, list[tuple]]:
    """Every row of every table in the file (the contract's, the model's, the import log), in a fixed order."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        names = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
        return {f"{s}.{t}": sorted(con.execute(f'select * from "{s}"."{t}"').fetchall(), key=repr)
                for s, t in names}
    finally:
        con.close()


def catalog_objects(database: Path) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return sorted(con.execute(
            "select 'view', view_name, sql from duckdb_views() where not internal union all "
            "select function_type, function_name, macro_definition from duckdb_functions() "
            "where not internal and database_name = current_database()").fetchall(), key=repr)
    finally:
        con.close()


def test_a_backup_taken_while_served_restores_every_table_onto_a_new_path(kept, tmp_path, capsys):
    folder = tmp_path / "backups" / "2026-12-06"
    with Atlas(kept) as served:  # the database held open, as the server holds it
        assert main(["backup", str(folder), "--db", str(kept)]) == 0
        assert served.query("data_extent").iloc[0]["referrals"] == 13
    assert "Backed up" in capsys.readouterr().out
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {"atlas.duckdb", "mappings/case_tool.toml", "refreshes.jsonl",
                                      "deliveries.jsonl"}
    assert manifest["tables"]["main.referrals"] == 13 and manifest["tables"]["main.imports"] == 1

    restored = tmp_path / "elsewhere" / "restored.duckdb"
    assert main(["restore", str(folder), "--db", str(restored)]) == 0
    tables = every_table(kept)
    assert every_table(restored) == tables and len(tables) > 10  # the data, the model's tables, the log
    assert catalog_objects(restored) == catalog_objects(kept) and catalog_objects(kept)
    for original, copy in ((config.mappings_folder(kept) / "case_tool.toml",
                            config.mappings_folder(restored) / "case_tool.toml"),
                           (config.refresh_log(kept), config.refresh_log(restored)),
                           (config.delivery_log(kept), config.delivery_log(restored))):
        assert copy.read_bytes() == original.read_bytes(), copy
    with Atlas(restored) as db, Atlas(kept) as before:  # opens as the app opens it: the same model, same figures
        for query in ("data_extent", "network_summary", "import_history"):
            assert db.query(query).equals(before.query(query)), query


def test_a_damaged_backup_is_refused_and_nothing_changes(kept, tmp_path, capsys):
    folder = tmp_path / "backup"
    assert main(["backup", str(folder), "--db", str(kept)]) == 0
    assert main(["backup", str(folder), "--db", str(kept)]) == 2  # never over another backup
    assert "not empty" in capsys.readouterr().err

    target = tmp_path / "target" / "atlas.duckdb"
    with (folder / "refreshes.jsonl").open("a") as fh:
        fh.write('{"id": "forged"}\n')
    assert main(["restore", str(folder), "--db", str(target)]) == 2
    assert "damaged" in capsys.readouterr().err and not target.parent.exists()
    (folder / "manifest.json").unlink()
    assert main(["restore", str(folder), "--db", str(target)]) == 2
    assert "not a whole backup" in capsys.readouterr().err


def test_a_restore_over_a_database_keeps_what_was_there_aside(kept, tmp_path, capsys):
    folder = tmp_path / "backup"
    assert backup.backup(kept, folder)["tables"]
    other = tmp_path / "other" / "atlas.duckdb"
    files = {**SMALL_COMMUNITY, "referrals.csv": "\n".join(SMALL_COMMUNITY["referrals.csv"].splitlines()[:3]) + "\n"}
    importer.import_folder(write_files(tmp_path / "few", files), other, TEST_KEY)
    before = other.read_bytes()
    records.put(config.refresh_log(other), {"id": "x", "result": "failed"})

    with Atlas(other) as served:  # a server reading the old file keeps reading it
        assert main(["restore", str(folder), "--db", str(other)]) == 0
        assert served.query("data_extent").iloc[0]["referrals"] == 2
    assert "kept in" in capsys.readouterr().out
    aside = other.with_name("atlas.duckdb.before-restore")
    assert (aside / "atlas.duckdb").read_bytes() == before
    assert records.read(aside / "atlas.refreshes.jsonl") == [{"id": "x", "result": "failed", "seq": 1}]
    assert every_table(other) == every_table(kept)
    assert records.read(config.refresh_log(other))[0]["id"] == "r1"
    shutil.rmtree(aside)


# ---- status --------------------------------------------------------------------------------------

def status(database: Path, *extra: str, capsys) -> tuple[int, str]:
    code = main(["status", "--db", str(database), *extra])
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line
    return code, out.strip()


def test_status_is_one_line_and_says_what_needs_a_person(kept, tmp_path, capsys):
    code, line = status(kept, "--max-age", "100000", capsys=capsys)
    assert code == 0 and line.startswith("OK ")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    assert fields["data_as_of"] == "2024-03-31" and fields["refresh"] == "imported"
    assert fields["last_refresh"] == "2026-12-01T06:00:09"
    assert (fields["last_delivery"], fields["delivered"]) == ("2026-10-05T07:00:00", "2026-Q3")
    assert fields["db_size"].endswith("MB")

    code, line = status(kept, capsys=capsys)  # the default limit: 45 days
    assert code == 1 and line.startswith("PROBLEM ") and "days old (limit 45)" in line

    records.put(config.refresh_log(kept), {"id": "r2", "started_at": "2026-12-02 06:00:00",
                                           "finished_at": "2026-12-02 06:00:03", "entry": "april.zip",
                                           "result": "failed"})
    code, line = status(kept, "--max-age", "100000", capsys=capsys)
    assert code == 1 and "refresh=failed" in line and 'problem="the last refresh failed (april.zip)"' in line

    code, line = status(tmp_path / "missing.duckdb", capsys=capsys)
    assert code == 2 and line.startswith("PROBLEM database=missing")
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 1000)
    code, line = status(broken, capsys=capsys)
    assert code == 2 and "database=unreadable" in line


# ---- the survey's answers ------------------------------------------------------------------------

def test_the_surveys_answers_are_backed_up_and_restored(kept, tmp_path, capsys):
    import datetime as dt

    from atlas.survey import Answer, Surveys
    from atlas.survey.store import answers_path

    surveys = Surveys(kept)
    surveys.open_round("r1", "Spring", dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date.today() + dt.timedelta(days=9),
                       members=["A1", "A2", "A3"])
    surveys.save("r1", "A1", [Answer("A2", 3, 4, "yes", 4, 4, 4)])
    surveys.save("r1", "A2", [], named_nobody=True)
    exported = tmp_path / "before.csv"
    surveys.export_responses("r1", exported)

    folder = tmp_path / "backup"
    assert main(["backup", str(folder), "--db", str(kept)]) == 0
    assert "survey.duckdb" in json.loads((folder / "manifest.json").read_text())["files"]

    restored = tmp_path / "elsewhere" / "restored.duckdb"
    assert main(["restore", str(folder), "--db", str(restored)]) == 0
    again = tmp_path / "restored.csv"
    Surveys(restored).export_responses("r1", again)
    assert again.read_bytes() == exported.read_bytes()
    assert Surveys(restored).token("r1", "A1") == surveys.token("r1", "A1"), "the links still work"
    with Atlas(restored) as db:
        assert db.query("survey_summary", round_id="r1").iloc[0]["responded"] == 2

    # a restore over a database whose answers changed since brings the backed-up answers back, the others aside
    surveys.save("r1", "A3", [Answer("A1", 1, 1, "no")])
    assert main(["restore", str(folder), "--db", str(kept)]) == 0
    assert not Surveys(kept).progress("r1").set_index("agency_id").loc["A3", "responded"]
    aside = kept.with_name("atlas.duckdb.before-restore")
    assert (aside / answers_path(kept).name).is_file()
    capsys.readouterr()
