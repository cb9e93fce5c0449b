"""`python -m atlas refresh INBOX`: real exports dropped in a real inbox folder, imported into a real DuckDB
file, with a real SMTP server (aiosmtpd) for the directors' e-mail.

* The newest export replaces the data and moves to done/ (older ones waiting are superseded); the same
  export dropped again is not imported again; an append adds to the data.
* An HMIS zip, and one file in its own columns for a column mapping kept on the Data page, are
  recognised and imported.
* A rejected export goes to failed/ with its report, leaves every contract table exactly as it was,
  exits 1 and tells the directors by e-mail, without a cell's value in the message.
* A refresh SIGKILLed halfway (while reading, and while writing the new database file) leaves the data
  as it was and the export in the inbox; `status` calls it interrupted; the next refresh imports it.
* The Data page shows the last refresh, and a failed one as a warning.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files
from smtp_server import secrets, smtp_server

from atlas import config
from atlas.cli import main
from atlas.contract import TABLES
from atlas.db import Atlas
from atlas.ingest import importer
from atlas.ops import records, refresh

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """An inbox, a database path beside it and a secrets file of its own (none of the developer's)."""
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "secrets.toml"))
    monkeypatch.delenv("ATLAS_DB", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox, tmp_path / "data" / "atlas.duckdb"


def run(inbox: Path, database: Path, *extra: str) -> int:
    # the protected sets it prepares after (minutes for the big export's year) are tested in test_protected_store
    return main(["refresh", str(inbox), "--db", str(database), "--settle", "0", "--no-prepare", *extra])


def aged(path: Path, seconds_ago: float) -> Path:
    """Set the modification time of a file, or of a folder and its files, `seconds_ago` in the past."""
    when = time.time() - seconds_ago
    for item in [path, *path.rglob("*")]:
        os.utime(item, (when, when))
    return path


def contents(database: Path) -> dict[str, list[tuple]]:
    """Every row of every contract table, in a fixed order."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log(database: Path) -> list[dict]:
    return records.read(config.refresh_log(database))


def with_referral(files: dict[str, str], row: str) -> dict[str, str]:
    return {**files, "referrals.csv": files["referrals.csv"] + row + "\n"}


def test_the_newest_export_replaces_the_data_and_older_ones_are_superseded(site, capsys):
    inbox, database = site
    fewer = {**SMALL_COMMUNITY, "referrals.csv": "\n".join(SMALL_COMMUNITY["referrals.csv"].splitlines()[:5]) + "\n"}
    aged(write_files(inbox / "export-2024-02", fewer), 3600)
    write_files(inbox / "export-2024-03", SMALL_COMMUNITY)
    (inbox / "export-2024-04.zip.part").write_bytes(b"PK\x03\x04 still being copied")  # left alone
    assert run(inbox, database) == 0

    assert len(contents(database)["referrals"]) == 13  # the newest export's, not the older one's 4
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["export-2024-02", "export-2024-03"]
    assert sorted(p.name for p in inbox.iterdir()) == [".refresh.lock", "done", "export-2024-04.zip.part"]
    [record] = log(database)
    assert record["result"] == "imported" and record["entry"] == "export-2024-03"
    assert record["format"] == "contract" and record["mode"] == "replace"
    assert record["rows"] == sum(record["row_counts"].values()) and record["row_counts"]["referrals"] == 13
    assert record["superseded"] == ["export-2024-02"] and record["moved_to"] == "done/export-2024-03"
    out = capsys.readouterr().out
    assert "Imported export-2024-03" in out and "export-2024-02" in out

    with Atlas(database) as db:  # what the Data page reads
        last = db.query("last_refresh", log=str(config.refresh_log(database))).iloc[0]
        assert (last["result"], last["entry"], last["rows"]) == ("imported", "export-2024-03", record["rows"])
        assert db.query("last_refresh").empty  # the default log is empty

    assert run(inbox, database) == 0  # nothing left: nothing done, nothing recorded
    assert "holds no export" in capsys.readouterr().out and len(log(database)) == 1


def test_the_same_export_is_never_imported_twice(site, capsys):
    inbox, database = site
    write_files(inbox / "march", SMALL_COMMUNITY)
    assert run(inbox, database) == 0
    before = digest(database)
    shutil.copytree(inbox / "done" / "march", inbox / "march-again")  # dropped again, under another name
    assert run(inbox, database) == 0
    assert digest(database) == before, "not imported again"
    assert (inbox / "done" / "march-again").is_dir() and not (inbox / "march-again").exists()
    first, second = log(database)
    assert second["result"] == "skipped" and second["checksum"] == first["checksum"]
    assert "Already imported" in second["message"] and "march" in second["message"]

    write_files(inbox / "march", SMALL_COMMUNITY)  # the same name again next month: kept beside the first
    assert run(inbox, database) == 0
    assert (inbox / "done" / "march (2)").is_dir()


def test_an_append_adds_the_new_rows(site):
    inbox, database = site
    importer.import_folder(write_files(database.parent / "first", SMALL_COMMUNITY), database, TEST_KEY)
    later = with_referral(SMALL_COMMUNITY, "R14,C12,A1,A2,medical,2024-03-28 09:00,,,,,,")
    write_files(inbox / "april", later)
    assert run(inbox, database, "--append") == 0
    assert len(contents(database)["referrals"]) == 14
    [record] = log(database)
    assert (record["result"], record["mode"], record["rows"]) == ("imported", "append", 1)


def test_an_hmis_zip_and_a_file_for_a_kept_column_mapping_are_recognised(site):
    from hmis_export import small_export
    from test_columns import CASE_TOOL, CASE_TOOL_MAPPING

    inbox, database = site
    small_export().zip(inbox / "HMIS export 2024-03.zip")
    assert run(inbox, database) == 0
    [record] = log(database)
    assert (record["format"], record["result"]) == ("hmis", "imported")
    assert (inbox / "done" / "HMIS export 2024-03.zip").is_file()
    assert "HMIS export" in (inbox / "done" / "HMIS export 2024-03.zip.report.txt").read_text()

    mappings = config.mappings_folder(database)
    mappings.mkdir()
    (mappings / "case_tool.toml").write_text(CASE_TOOL_MAPPING.to_toml(), encoding="utf-8")
    (inbox / "case tool export.csv").write_text(CASE_TOOL, encoding="utf-8")
    assert run(inbox, database) == 0
    record = log(database)[-1]
    assert (record["format"], record["result"]) == ("file", "imported"), record
    tables = contents(database)
    assert len(tables["referrals"]) == 6 and len(tables["agencies"]) == 3  # the HMIS data replaced

    (inbox / "another tool.csv").write_text("Ref,Who,When\n1,C-1,2024-03-01\n", encoding="utf-8")
    assert run(inbox, database) == 1  # no kept mapping fits: said so, nothing changed
    assert len(contents(database)["referrals"]) == 6
    assert "No kept column mapping fits" in (inbox / "failed" / "another tool.csv.report.txt").read_text()


def test_a_rejected_export_changes_nothing_goes_to_failed_and_is_told_to_the_directors(site, tmp_path, capsys):
    inbox, database = site
    importer.import_folder(write_files(tmp_path / "first", SMALL_COMMUNITY), database, TEST_KEY)
    before, tables = digest(database), contents(database)
    bad = with_referral(SMALL_COMMUNITY, "R14,C12,A1,A2,medical,31/02/2024-SECRET-VALUE,,,,,,")
    bad = {**bad, "capacity.csv": bad["capacity.csv"] + "P1,2024-13,-5\n"}
    shutil.make_archive(str(inbox / "march"), "zip", write_files(tmp_path / "bad", bad))
    with smtp_server() as (port, server):
        Path(os.environ["ATLAS_SECRETS"]).write_text(secrets(port), encoding="utf-8")
        assert run(inbox, database) == 1

    assert digest(database) == before and contents(database) == tables
    assert not (inbox / "march.zip").exists() and (inbox / "failed" / "march.zip").is_file()
    report = (inbox / "failed" / "march.zip.report.txt").read_text()
    assert "referrals.csv" in report and "row 15" in report and "referred_at" in report
    assert "SECRET-VALUE" in report  # the report beside the export says what the cell held
    assert (inbox / "failed" / "march.zip.problems.csv").read_bytes().count(b"\n") >= 3
    [record] = log(database)
    assert record["result"] == "failed" and record["problems"] >= 2
    assert record["notified"] == ["director@example.org"]
    assert "Nothing was imported" in record["message"] and "march.zip.report.txt" in record["message"]
    assert "failed" in capsys.readouterr().err

    [mail] = server.received
    assert mail.rcpt_tos == ["director@example.org"] and mail.message["To"] == "director@example.org"
    assert "march.zip" in mail.message["Subject"] and "failed" in mail.message["Subject"]
    body = mail.message.get_body(("plain",)).get_content()
    assert "referrals.csv, row 15, column referred_at" in body and "march.zip.report.txt" in body
    assert "SECRET-VALUE" not in body and "31/02/2024" not in body  # no cell's value leaves by e-mail


def test_the_directors_are_told_over_starttls_with_a_login(site, tmp_path, monkeypatch, capsys):
    """As through a mail provider's submission port: STARTTLS required, then a login (the password from the
    environment, kept out of the secrets file); a wrong password is said, and the refresh still fails alone."""
    from smtp_server import certificate

    inbox, database = site
    cert, key = certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's own certificate
    with smtp_server(tls=(cert, key), login=("atlas", "s3cret pass")) as (port, server):
        Path(os.environ["ATLAS_SECRETS"]).write_text(
            f'[smtp]\nhost = "localhost"\nport = {port}\nusername = "atlas"\nstarttls = true\n'
            'sender = "Atlas <atlas@example.org>"\n\n[delivery]\ndirectors = ["director@example.org"]\n')
        monkeypatch.setenv("ATLAS_SMTP_PASSWORD", "s3cret pass")
        (inbox / "notes.txt").write_text("not an export", encoding="utf-8")
        assert run(inbox, database) == 1
        assert [m.rcpt_tos for m in server.received] == [["director@example.org"]]
        assert server.logins == [("PLAIN", True)]
        assert log(database)[-1]["notified"] == ["director@example.org"]

        monkeypatch.setenv("ATLAS_SMTP_PASSWORD", "wrong")
        (inbox / "more notes.txt").write_text("not an export either", encoding="utf-8")
        assert run(inbox, database) == 1
        assert len(server.received) == 1 and log(database)[-1]["notified"] is None
    assert "The directors could not be told by e-mail" in capsys.readouterr().err


def test_a_setting_missing_on_the_server_leaves_the_export_in_the_inbox(site, monkeypatch, capsys):
    inbox, database = site
    monkeypatch.delenv("ATLAS_HMAC_KEY")
    write_files(inbox / "march", SMALL_COMMUNITY)
    assert run(inbox, database) == 1
    assert (inbox / "march").is_dir() and not database.exists()
    [record] = log(database)
    assert record["result"] == "failed" and "left in the inbox" in record["message"]
    assert record["notified"] is None  # no SMTP configured: nobody to tell, and no error for it
    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    assert run(inbox, database) == 0  # the same export, once the key is set
    assert log(database)[-1]["result"] == "imported"


def test_what_is_not_an_export_fails_and_what_is_still_being_copied_waits(site, capsys):
    inbox, database = site
    (inbox / "minutes.pdf").write_bytes(b"%PDF-1.4 not an export")
    assert run(inbox, database) == 1
    assert (inbox / "failed" / "minutes.pdf").is_file()
    assert "not an export the refresh reads" in log(database)[-1]["message"]

    write_files(inbox / "march", SMALL_COMMUNITY)  # just written: a refresh that waits a minute leaves it
    assert main(["refresh", str(inbox), "--db", str(database)]) == 0
    assert "left for the next refresh" in capsys.readouterr().out and (inbox / "march").is_dir()


def test_the_accept_dropped_setting_reaches_an_import_that_takes_it(site, monkeypatch):
    from atlas.ingest.formats import hmis

    def takes_it(path, database, key, *, mode="replace", accept_dropped=False):
        return accept_dropped

    monkeypatch.setenv("ATLAS_REFRESH_ACCEPT_DROPPED", "true")
    assert refresh.import_options(takes_it) == {"accept_dropped": True}
    has_it = "accept_dropped" in inspect.signature(hmis.import_export).parameters
    assert refresh.import_options(hmis.import_export) == ({"accept_dropped": True} if has_it else {})
    Path(os.environ["ATLAS_SECRETS"]).write_text("[refresh]\naccept_dropped = false\n", encoding="utf-8")
    monkeypatch.delenv("ATLAS_REFRESH_ACCEPT_DROPPED")
    assert refresh.import_options(takes_it) == {"accept_dropped": False}
    Path(os.environ["ATLAS_SECRETS"]).write_text("[refresh]\naccept_dropped = \"maybe\"\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="accept_dropped"):
        refresh.import_options(takes_it)


def test_an_hsds_directory_is_refreshed_without_the_hmac_key(site, monkeypatch):
    """A service directory holds no client id: the refresh asks for no key to import it."""
    inbox, database = site
    monkeypatch.delenv("ATLAS_HMAC_KEY")
    shutil.copytree(ROOT / "tests" / "data" / "hsds-example", inbox / "directory")
    assert run(inbox, database) == 0
    assert log(database)[-1]["format"] == "hsds"
    assert contents(database)["agencies"]


def test_a_refresh_stops_an_export_that_leaves_too_many_rows_out_unless_the_setting_accepts_it(site, capsys):
    """The HMIS safeguard (more than 5 % of a file's rows left out) stops a refresh as it stops an import;
    `[refresh] accept_dropped = true` lets the same export through, the rows left out reported."""
    from test_hmis import access_and_beds

    inbox, database = site
    export = access_and_beds()
    for i in range(94):
        export.add("Event", EventID=f"G{i}", EnrollmentID="E", PersonalID="P", EventDate="2024-01-02", Event=10,
                   LocationCrisisOrPHHousing="Beds Shelter")
    for i in range(6):  # naming an enrollment the export does not hold: left out
        export.add("Event", EventID=f"B{i}", EnrollmentID="E404", PersonalID="P", EventDate="2024-01-02", Event=10,
                   LocationCrisisOrPHHousing="Beds Shelter")
    export.zip(inbox / "HMIS export 2024-01.zip")
    assert run(inbox, database) == 1
    assert not database.exists()
    assert "6 of its 100 rows" in (inbox / "failed" / "HMIS export 2024-01.zip.report.txt").read_text()

    shutil.move(inbox / "failed" / "HMIS export 2024-01.zip", inbox / "HMIS export 2024-01.zip")
    Path(os.environ["ATLAS_SECRETS"]).write_text("[refresh]\naccept_dropped = true\n", encoding="utf-8")
    assert run(inbox, database) == 0
    assert len(contents(database)["referrals"]) == 94
    assert log(database)[-1]["result"] == "imported"


# ---- a refresh killed halfway ----------------------------------------------------------------------

BIG_REFERRALS = 100_000


@pytest.fixture(scope="module")
def big_files(tmp_path_factory) -> Path:
    """A larger community as contract files (the demo generator's), for a refresh to be killed in."""
    root = tmp_path_factory.mktemp("big")
    assert main(["demo", "--db", str(root / "scratch.duckdb"), "--csv", str(root / "files"),
                 "--referrals", str(BIG_REFERRALS), "--agencies", "150"]) == 0
    return root / "files"


def start_refresh(inbox: Path, database: Path) -> subprocess.Popen:
    env = {**os.environ, "ATLAS_HMAC_KEY": TEST_KEY.decode()}
    return subprocess.Popen([sys.executable, "-m", "atlas", "refresh", str(inbox), "--db", str(database),
                             "--settle", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def writing(database: Path, proc: subprocess.Popen) -> bool:
    """Whether the refresh `proc` has begun writing the new database file."""
    return any(database.parent.glob(f".{database.name}.{proc.pid}.*.building*"))


def until_writing(database: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not writing(database, proc) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # into the write, well before it ends


def until_reading(database: Path, proc: subprocess.Popen) -> None:
    """Until the refresh has recorded itself as running (its export found and checksummed), then 0.3 s."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not any(
            r.get("pid") == proc.pid for r in log(database)):
        time.sleep(0.01)
    time.sleep(0.3)


KILL_POINTS = {"reading the export": until_reading, "writing the new database file": until_writing}


def test_a_refresh_killed_halfway_leaves_the_data_and_the_export_where_they_were(site, big_files, tmp_path):
    inbox, database = site
    importer.import_folder(write_files(tmp_path / "first", SMALL_COMMUNITY), database, TEST_KEY)
    before, tables = digest(database), contents(database)
    shutil.copytree(big_files, inbox / "export-big")
    for point, wait in KILL_POINTS.items():
        proc = start_refresh(inbox, database)
        wait(database, proc)
        mid_write = writing(database, proc)
        assert proc.poll() is None, f"the refresh ended before it was killed {point}: {proc.communicate()[0]}"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert digest(database) == before and contents(database) == tables, point
        assert (inbox / "export-big").is_dir() and not (inbox / "done").exists(), point
        last = log(database)[-1]
        assert (last["result"], last["pid"]) == ("running", proc.pid), point
        assert main(["status", "--db", str(database), "--max-age", "100000"]) == 1
        if point.startswith("writing"):
            assert mid_write, "the kill landed while the new file was written"

    assert run(inbox, database) == 0  # the next refresh takes the same export, and sweeps up the half-built file
    assert len(contents(database)["referrals"]) == BIG_REFERRALS
    assert (inbox / "done" / "export-big").is_dir()
    assert not list(database.parent.glob(f".{database.name}.*.building*"))
    assert [r["result"] for r in log(database)] == ["running", "running", "imported"]


# ---- the Data page ---------------------------------------------------------------------------------

def test_the_data_page_shows_the_last_refresh(site, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    inbox, database = site
    write_files(inbox / "march", SMALL_COMMUNITY)
    assert run(inbox, database) == 0
    monkeypatch.setenv("ATLAS_DB", str(database))

    def data_page() -> AppTest:
        at = AppTest.from_file(DASHBOARD, default_timeout=60)
        at.switch_page("pages/data.py")
        at.run()
        assert not at.exception, at.exception
        return at

    at = data_page()
    assert any("Last refresh from the inbox" in c.value and "march" in c.value for c in at.caption)
    assert not [w for w in at.warning if "refresh" in w.value]  # (the local session's banner is one)

    (inbox / "april *bold* [link](javascript:x).csv").write_text("not,an,export\n1,2,3\n", encoding="utf-8")
    assert run(inbox, database) == 1
    at = data_page()
    [warning] = [w for w in at.warning if "refresh" in w.value]
    assert "The last refresh from the inbox failed" in warning.value
    assert r"\*bold\*" in warning.value and r"\[link\]\(javascript" in warning.value  # the name is text


def test_the_refresh_log_is_json_lines_rewritten_whole(tmp_path):
    path = tmp_path / "atlas.refreshes.jsonl"
    records.put(path, {"id": "a", "result": "running"})
    records.put(path, {"id": "b", "result": "running"})
    records.put(path, {"id": "a", "result": "imported"})
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"id": "a", "result": "imported", "seq": 1}, {"id": "b", "result": "running", "seq": 2}]
    assert not list(tmp_path.glob(".*.new"))
