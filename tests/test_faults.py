"""Faults on loopback: an import while the dashboard serves, an import killed mid-write, and a
damaged or missing database file.

* The dashboard keeps answering page runs while `python -m atlas import` builds a larger data set into
  the database it serves; once the import is done a new session sees the new data.
* `python -m atlas import`, SIGKILLed at several points (while reading the files, as the new file
  appears, during the write), leaves the previous database byte for byte as it was: it opens, with
  the same rows; the lock is free and the next import succeeds and leaves no temporary file behind.
* A damaged file at the database path (random bytes, a truncated database, an empty file, a CSV named
  .duckdb) and a missing one each give a page in a real browser that names the path and says how to
  recover, with no traceback on it; putting the database back brings the pages back. The command
  line (`atlas query`, and `atlas upgrade`, which `make run` runs first) says the same, with no traceback.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from browser import ROOT, served
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_load import StreamlitSession

from atlas.db import Atlas
from atlas.ingest import importer

BIG_REFERRALS = 100_000  # the larger data set imported over the small community


@pytest.fixture(scope="module")
def big_files(tmp_path_factory) -> Path:
    """A larger community as contract CSV files (the demo generator's), for imports to chew on."""
    from atlas.cli import main

    root = tmp_path_factory.mktemp("big")
    assert main(["demo", "--db", str(root / "scratch.duckdb"), "--csv", str(root / "files"),
                 "--referrals", str(BIG_REFERRALS), "--agencies", "150"]) == 0
    return root / "files"


def small_database(path: Path) -> Path:
    importer.import_folder(write_files(path.parent / "small_files", SMALL_COMMUNITY), path, TEST_KEY)
    return path


def start_import(files: Path, database: Path) -> subprocess.Popen:
    env = {**os.environ, "ATLAS_HMAC_KEY": TEST_KEY.decode()}
    return subprocess.Popen([sys.executable, "-m", "atlas", "import", str(files), "--db", str(database)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def snapshot(database: Path) -> tuple[str, dict[str, int]]:
    """(sha256 of the file, row count of every stored table), read after opening it as the app does."""
    with Atlas(database) as atlas:  # opens: readable, built by this model
        assert len(atlas.query("data_extent")) == 1
    con = duckdb.connect()
    try:
        con.execute("attach $path as stored (read_only)", {"path": str(database)})
        counts = {name: con.execute(f"select count(*) from stored.{name}").fetchone()[0]
                  for name in importer.STORED_TABLES}
    finally:
        con.close()
    return hashlib.sha256(database.read_bytes()).hexdigest(), counts


def leftovers(database: Path) -> list[str]:
    """Temporary files an import builds beside the database (the lock file is not one: it stays)."""
    return sorted(p.name for p in database.parent.glob(f".{database.name}.*.building*"))


def lock_is_free(database: Path) -> bool:
    with open(database.with_name(f".{database.name}.lock"), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


# ---- (a) the dashboard keeps serving while an import runs ---------------------------------------

def held_referrals(run) -> int:
    """The referral count the Data page states ("The dashboard holds **N referrals** ...")."""
    found = re.search(r"holds \*\*([\d,]+) referrals\*\*", run.text())
    assert found, run.texts[:6]
    return int(found.group(1).replace(",", ""))


def test_the_dashboard_serves_while_an_import_runs(big_files, tmp_path):
    database = small_database(tmp_path / "atlas.duckdb")

    async def scenario(url: str):
        async with StreamlitSession(url) as reader:
            before = await reader.run("data")
            assert before.ok, before.errors
            assert held_referrals(before) == 13
            await reader.run("")  # warm: the Overview's queries are cached for the small data

            importing = start_import(big_files, database)
            during, pages = [], ["", "data", "bottlenecks", "outcomes"]
            while importing.poll() is None:
                run = await reader.run(pages[len(during) % len(pages)])
                if importing.poll() is None:  # it finished while the import was still running
                    during.append(run)
                else:
                    break
            output = importing.communicate(timeout=120)[0].decode()
            assert importing.returncode == 0, output
            assert during, "no page run completed while the import ran"
            assert all(run.ok for run in during), [(r.page, r.errors) for r in during if not r.ok]

            async with StreamlitSession(url) as newcomer:
                after = await newcomer.run("data")
                assert after.ok, after.errors
                assert held_referrals(after) == BIG_REFERRALS
                overview = await newcomer.run("")
                assert overview.ok, overview.errors
            again = await reader.run("data")  # the session that was open all along sees it too
            assert held_referrals(again) == BIG_REFERRALS
            return during

    with served(database, tmp_path / "streamlit.log") as url:
        during = asyncio.run(asyncio.wait_for(scenario(url), 150))
    print(f"\n{len(during)} page runs completed while the import ran: "
          + ", ".join(f"/{r.page} {r.seconds:.2f} s" for r in during))
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text(errors="replace")


# ---- (b) a killed import leaves the previous data intact ----------------------------------------

def _wait_for_building(database: Path, proc: subprocess.Popen, then: float = 0.0) -> None:
    """Until this import's new database file appears (not one an earlier killed import left), then `then` s."""
    deadline = time.monotonic() + 60
    while not building(database, proc) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(then)


def building(database: Path, proc: subprocess.Popen) -> bool:
    """Whether the import `proc` has begun writing its new database file."""
    return any(name.startswith(f".{database.name}.{proc.pid}.") for name in leftovers(database))


KILL_POINTS = {
    "0.3 s after start (starting up)": lambda db, proc: time.sleep(0.3),
    "1.2 s after start (reading and checking the files)": lambda db, proc: time.sleep(1.2),
    "as the new database file appears": lambda db, proc: _wait_for_building(db, proc),
    "0.3 s into writing the new file": lambda db, proc: _wait_for_building(db, proc, 0.3),
    "0.8 s into writing the new file": lambda db, proc: _wait_for_building(db, proc, 0.8),
}


def test_a_killed_import_leaves_the_previous_data_intact(big_files, tmp_path):
    database = small_database(tmp_path / "atlas.duckdb")
    original = snapshot(database)
    report = []
    for point, wait in KILL_POINTS.items():
        before = snapshot(database)
        proc = start_import(big_files, database)
        wait(database, proc)
        writing = building(database, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        after = snapshot(database)
        if proc.returncode == -signal.SIGKILL and after == before:
            report.append((point, "killed", writing))
        else:  # it got to swap the new file in before the signal: then the new data is all there
            assert after[1]["referrals"] == BIG_REFERRALS, (point, proc.returncode, after[1])
            report.append((point, f"finished first (exit {proc.returncode})", writing))
        assert lock_is_free(database), point

    print("\nkill points: " + "; ".join(f"{p}: {outcome}{', mid-write' if w else ''}"
                                         for p, outcome, w in report))
    killed = [r for r in report if r[1] == "killed"]
    assert len(killed) >= 3, report
    assert any(writing for _, _, writing in killed), "no kill landed while the new file was written"
    if len(killed) == len(report):  # none got as far as swapping its file in: still the first data
        assert snapshot(database) == original

    # the next import is not blocked, and sweeps away what the killed ones left half-written
    print(f"left by the killed imports: {leftovers(database)}")
    proc = start_import(big_files, database)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 0, output
    assert snapshot(database)[1]["referrals"] == BIG_REFERRALS
    assert leftovers(database) == []


# ---- (c) a damaged or missing database gives a clear page ----------------------------------------

TRACEBACK_SIGNS = re.compile(r"Traceback|File \"|\b[A-Za-z_.]*(Error|Exception)\b: |duckdb\.|_duckdb|"
                             r"site-packages|line \d+, in ")


def damaged_files(good: bytes) -> dict[str, bytes]:
    return {
        "random bytes": os.urandom(256 * 1024),
        "a truncated database (first half)": good[: len(good) // 2],
        "a truncated database (last block cut short)": good[: len(good) - 100_000],
        "an empty file": b"",
        "a CSV file named .duckdb": SMALL_COMMUNITY["agencies.csv"].encode(),
    }


def page_text(browser, url: str, wait_for: str) -> tuple[str, int]:
    """The visible text of a page once `wait_for` shows, and the number of exception boxes on it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url)
        try:
            page.get_by_text(wait_for).first.wait_for(timeout=30_000)
        except PlaywrightTimeout:  # the page says something else: the assertions show what
            pass
        page.wait_for_timeout(500)  # let the run finish drawing
        return page.locator("body").inner_text(), page.locator('[data-testid="stException"]').count()
    finally:
        page.close()


def test_a_damaged_database_gives_a_clear_page(demo_db, browser, tmp_path):
    database = tmp_path / "db_dir" / "atlas.duckdb"  # underscores: the page must show the path as it is
    database.parent.mkdir()
    good = demo_db.read_bytes()
    shutil.copyfile(demo_db, database)
    with served(database, tmp_path / "streamlit.log") as url:
        text, exceptions = page_text(browser, url, "Median days to accept")
        assert exceptions == 0
        for case, content in damaged_files(good).items():
            swap = database.with_name("incoming")
            swap.write_bytes(content)
            os.replace(swap, database)  # as an import would: a new file, which the app reopens
            for path in ("", "/bottlenecks") if case == "random bytes" else ("",):  # a deep link too
                text, exceptions = page_text(browser, url + path, "could not be read")
                assert str(database) in text, (case, path, text[:600])
                assert f"python -m atlas import DIR --db {database}" in text, (case, path, text[:600])
                assert not TRACEBACK_SIGNS.search(text), (case, path, TRACEBACK_SIGNS.search(text), text[:800])
                assert exceptions == 0, (case, path)
        shutil.copyfile(demo_db, database.with_name("incoming"))
        os.replace(database.with_name("incoming"), database)  # restored from the backup: pages are back
        text, exceptions = page_text(browser, url + "/bottlenecks", "Receiving agencies")
        assert exceptions == 0 and "could not be read" not in text
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text(errors="replace")


def test_a_director_replaces_an_unreadable_database_on_the_data_page(browser, tmp_path, monkeypatch):
    """A director without a shell: the Data page is offered over a file that cannot be read, says what is
    wrong and how to recover, and a replace import from uploaded files brings every page back."""
    from playwright.sync_api import expect

    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    database = tmp_path / "atlas.duckdb"
    database.write_bytes(os.urandom(256 * 1024))
    files = write_files(tmp_path / "files", SMALL_COMMUNITY)
    with served(database, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)  # only the Data page is offered
        page.get_by_text("Or replace it here").wait_for(timeout=60_000)
        expect(page.locator('[data-testid="stMain"]')).to_contain_text(f"{database} could not be read")
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("The database file cannot be read")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            sorted(str(p) for p in files.iterdir()))
        page.get_by_role("button", name="Check the files").click()
        page.get_by_text("No problems: these files can be imported").wait_for(timeout=60_000)
        expect(page.get_by_role("button", name="Import")).to_be_disabled()  # not before saying yes
        page.get_by_text("Yes, replace the unreadable file").click()
        page.get_by_role("button", name="Import").click()
        page.get_by_text("Imported: the data now holds").wait_for(timeout=60_000)
        page.get_by_text("The dashboard holds 13 referrals").wait_for(timeout=30_000)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        page.goto(url + "/bottlenecks")  # and every page is back
        page.get_by_role("heading", name="Receiving agencies").wait_for(timeout=60_000)
        assert not errors, errors
        page.close()
    with Atlas(database) as db:
        assert db.query("data_extent")["referrals"].iloc[0] == 13
        assert db.query("import_history")["mode"].tolist() == ["replace"]


@pytest.fixture(scope="module")
def missing(tmp_path_factory):
    """The dashboard served with no file at its database path: (url, path, server log)."""
    root = tmp_path_factory.mktemp("missing")
    database = root / "not_yet" / "atlas.duckdb"
    with served(database, root / "streamlit.log") as url:
        yield url, database, root / "streamlit.log"


def test_a_missing_database_gives_a_clear_page(browser, missing):
    url, database, log = missing
    for path in ("", "/bottlenecks"):
        text, exceptions = page_text(browser, url + path, "No data yet")
        assert "python -m atlas demo" in text, (path, text[:600])
        assert "Load your community's files" in text  # the Data page, where the first import happens
        assert not TRACEBACK_SIGNS.search(text), (path, TRACEBACK_SIGNS.search(text), text[:800])
        assert exceptions == 0, path
    assert "Traceback" not in log.read_text(errors="replace")


def test_a_missing_database_page_names_the_path(browser, missing):
    url, database, _ = missing
    text, _ = page_text(browser, url, "No data yet")
    assert str(database) in text, text[:600]


@pytest.mark.parametrize("command", ["query", "upgrade", "import --append"])
def test_the_command_line_explains_a_damaged_database(command, demo_db, tmp_path, capsys, monkeypatch):
    """`make run` upgrades before it serves; `atlas query` opens the same file; an append reads the stored
    rows first: none dumps a traceback, and an append onto a damaged file leaves it as it was."""
    from atlas.cli import main

    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    files = write_files(tmp_path / "files", SMALL_COMMUNITY)
    argv = {"query": ["query", "data_extent"], "upgrade": ["upgrade"],
            "import --append": ["import", str(files), "--append"]}[command]
    good = demo_db.read_bytes()
    for case, content in damaged_files(good).items():
        database = tmp_path / "atlas.duckdb"
        database.write_bytes(content)
        assert main([*argv, "--db", str(database)]) == 2, case
        err = capsys.readouterr().err
        assert f"{database} could not be read" in err and "python -m atlas import DIR" in err, (case, err)
        assert database.read_bytes() == content, case
        left = {p.name for p in tmp_path.iterdir()} - {"atlas.duckdb", "files", ".atlas.duckdb.lock"}
        assert not left, (case, left)  # nothing half-built beside it (the lock file is the flock's, kept)
