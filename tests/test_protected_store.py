"""The board's and funders' protected sets kept beside the database (issue 30): `atlas.protection.store` and
`python -m atlas prepare`.

- On the continuum, a set read back from the store is the set worked out afresh, figure by figure, for both
  audiences, a quarter and its year; reading it runs no audit.
- A stored pattern is read only for the very database it was worked out from: a re-import (a new file) or a new
  algorithm makes it unread, and the next write replaces it.
- A damaged store file reads as empty: the set is worked out again, the file replaced, and the page works.
- `python -m atlas prepare` through the real command on a small demo stores every period the board and funders
  choose, and a served page (AppTest) then reads a year from the store without protecting anything.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files
from streamlit.testing.v1 import AppTest

from atlas.db import Atlas
from atlas.filters import Filters, board_periods
from atlas.ingest import importer
from atlas.protection import store
from atlas.views import suppression
from atlas.views.network import published as board
from atlas.views.outcomes import published as funders

M = 11
ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")


def forget() -> None:
    """Forget the sets this process keeps in memory, so the next ask reads the store or works them out."""
    funders._KEPT.clear()
    board._cache.clear()


@pytest.fixture
def audits(monkeypatch) -> list[str]:
    """Every protection run from now on (the board's LP audit, the funders' quarter and year protections),
    counted by wrapping the real functions: they still run."""
    calls: list[str] = []

    def counted(name, real):
        def run(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(board, "protect", counted("board", board.protect))
    monkeypatch.setattr(suppression, "protect", counted("funders quarter", suppression.protect))
    monkeypatch.setattr(suppression, "protect_nested", counted("funders year", suppression.protect_nested))
    return calls


def latest_days(db) -> tuple[dt.date, dt.date]:
    extent = db.query("data_extent").iloc[0]
    return tuple(pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))


def latest(db) -> tuple[dt.date, dt.date, Filters, Filters]:
    """The data's first and last day, its latest whole quarter and latest whole year."""
    extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))
    periods = board_periods(first, last)
    quarter = next(Filters(s, e, aligned=n) for _, s, e, n in periods if n == "quarter")
    year = next(Filters(s, e, aligned=n) for _, s, e, n in periods if n == "year")
    return first, last, quarter, year


def assert_same_board(one: board.PeriodSet, other: board.PeriodSet) -> None:
    assert (one.start, one.end, one.total) == (other.start, other.end, other.total)
    pd.testing.assert_frame_equal(one.flows, other.flows)
    for by in board.GROUPINGS:
        pd.testing.assert_frame_equal(one.pairs[by], other.pairs[by])
        pd.testing.assert_frame_equal(one.volumes[by], other.volumes[by])


def assert_same_funders(one: funders.PeriodSet, other: funders.PeriodSet) -> None:
    assert (one.start, one.end, one.length, one.people, one.min_cell) == (
        other.start, other.end, other.length, other.people, other.min_cell)
    pd.testing.assert_frame_equal(one.cells, other.cells)
    pd.testing.assert_frame_equal(one.lines, other.lines)


@pytest.fixture(scope="module")
def continuum(tmp_path_factory) -> Path:
    """The continuum built by the real command (no set stored beside it yet)."""
    db = tmp_path_factory.mktemp("continuum_store") / "atlas.duckdb"
    done = subprocess.run([sys.executable, "-m", "atlas", "demo", "--profile", "continuum", "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not store.store_path(db).exists()
    return db


def test_a_set_read_back_from_the_store_is_the_set_worked_out(continuum, audits):
    forget()
    with Atlas(continuum) as db:
        _, last, quarter, year = latest(db)
        fresh = {"board quarter": board.published(db, quarter, M), "board year": board.published(db, year, M),
                 "funders quarter": funders.period_set(db, quarter, M, last),
                 "funders year": funders.period_set(db, year, M, last)}
        assert {"board", "funders quarter", "funders year"} <= set(audits), "worked out afresh"
        kept = store.stored(db.version)
        rows = set(zip(kept["audience"], kept["length"], pd.to_datetime(kept["period_start"]).dt.date))
        for audience in ("board", "funders"):
            assert (audience, "year", year.start) in rows
            # the year's own quarters are stored with it, each as it reads alone
            assert {(audience, "quarter", dt.date(year.start.year, m, 1)) for m in (1, 4, 7, 10)} <= rows
        forget()
        audits.clear()
        read = {"board quarter": board.published(db, quarter, M), "board year": board.published(db, year, M),
                "funders quarter": funders.period_set(db, quarter, M, last),
                "funders year": funders.period_set(db, year, M, last)}
        assert audits == [], "read from the store, nothing protected again"
    for name in ("board quarter", "board year"):
        assert_same_board(read[name], fresh[name])
    for name in ("funders quarter", "funders year"):
        assert_same_funders(read[name], fresh[name])
    assert fresh["board year"].hidden_count() > 0 and fresh["funders year"].lines["hidden"].any(), \
        "the sets compared hide something"


def test_a_year_worked_out_over_its_stored_quarters_is_the_year_worked_out_afresh(continuum):
    """A year reuses the patterns its quarters stored (the board's hidden keys, the funders' quarter patterns
    read back): the same as protecting the year and its quarters together afresh, without the store."""
    with Atlas(continuum) as db:
        _, last, _, year = latest(db)
        quarters = board._year_quarters(db, year.start.year)
        assert len(store.stored(db.version)) >= 10, "the year and its quarters are stored (the test before)"
        forget()
        over_stored = board._worked_out(db, db.version, year, M)
        afresh = board._protected(db, quarters, (year.start, year.end), M)[-1]
        assert_same_board(over_stored, afresh)
        forget()
        cells = funders._year(db, year.start.year, M, last)
        patterns = [funders._quarter_pattern(db, s, M, last) for s, _ in cells.quarters]  # read back
        nested = suppression.protect_nested(cells.values, cells.lines, M, year_cells=True)
        stored_year = funders._stored(db, year.start, year.end, "year", M, cells)
    for q, pattern in enumerate(nested.quarters):
        assert (pattern.hidden == patterns[q].hidden).all() and (pattern.primary == patterns[q].primary).all()
        assert (pattern.lines_hidden == patterns[q].lines_hidden).all()
    assert (stored_year[0] == nested.year_cells_hidden).all()
    assert (stored_year[2] == nested.year_hidden[len(cells.universe):]).all()


def small_community(path: Path, tmp: Path, change: bool = False) -> Path:
    files = dict(SMALL_COMMUNITY)
    if change:  # one more referral: other data, another file
        lines = files["referrals.csv"].rstrip("\n").splitlines()
        extra = lines[-1].split(",")
        extra[0] = extra[0] + "X"
        files["referrals.csv"] = "\n".join([*lines, ",".join(extra)]) + "\n"
    importer.import_folder(write_files(tmp / ("files2" if change else "files"), files), path, TEST_KEY)
    return path


def test_a_pattern_is_read_only_for_the_database_and_algorithm_it_was_worked_out_from(tmp_path, monkeypatch):
    path = small_community(tmp_path / "atlas.duckdb", tmp_path)
    forget()
    with Atlas(path) as db:
        _, _, quarter, _ = latest(db)
        board.published(db, quarter, 1)
        before = db.version
    assert store.load(before, "board", quarter.start, quarter.end, "quarter", 1) is not None
    small_community(path, tmp_path, change=True)  # re-imported: a new file
    forget()
    with Atlas(path) as db:
        assert db.version != before
        assert store.load(db.version, "board", quarter.start, quarter.end, "quarter", 1) is None, "another file"
        assert store.stored(db.version).empty
        again = board.published(db, quarter, 1)
        assert len(store.stored(db.version)) == 1
        monkeypatch.setattr(store, "ALGORITHM", store.ALGORITHM + 1)
        store.algorithm.cache_clear()
        try:
            assert store.load(db.version, "board", quarter.start, quarter.end, "quarter", 1) is None, \
                "another algorithm"
        finally:
            monkeypatch.undo()
            store.algorithm.cache_clear()
        assert store.load(db.version, "board", quarter.start, quarter.end, "quarter", 1) is not None
    assert store.load(before, "board", quarter.start, quarter.end, "quarter", 1) is None, "replaced, not kept"
    forget()
    with Atlas(path) as db:
        assert_same_board(board.published(db, quarter, 1), again)


def test_a_damaged_store_is_worked_out_again_and_the_page_works(tmp_path, monkeypatch):
    path = small_community(tmp_path / "atlas.duckdb", tmp_path)
    damaged = store.store_path(path)
    damaged.write_bytes(b"not a database, or half of one" * 500)
    forget()
    with Atlas(path) as db:
        _, _, quarter, _ = latest(db)
        assert store.load(db.version, "board", quarter.start, quarter.end, "quarter", M) is None
        assert store.stored(db.version).empty
        board.published(db, quarter, M)
        assert len(store.stored(db.version)) == 1, "the damaged file replaced by a store holding the set"
    damaged.unlink()
    other = duckdb.connect(str(damaged))  # a DuckDB file of another layout (an older store, say)
    other.execute("create table sets (audience varchar, pattern integer)")
    other.close()
    forget()
    with Atlas(path) as db:
        assert store.load(db.version, "board", quarter.start, quarter.end, "quarter", M) is None
        board.published(db, quarter, M)
        assert len(store.stored(db.version)) == 1, "replaced by a store of this layout"
    damaged.write_bytes(b"\0" * 8192)
    forget()
    monkeypatch.setenv("ATLAS_DB", str(path))
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", "board")
    monkeypatch.setenv("ATLAS_MIN_CELL", str(M))
    at = AppTest.from_file(DASHBOARD, default_timeout=120)
    at.session_state["filter_reporting_period"] = f"{quarter.start.year} Q{(quarter.start.month + 2) // 3}"
    at.switch_page("pages/network.py")
    at.run()
    assert not at.exception, at.exception
    with Atlas(path) as db:
        assert len(store.stored(db.version)) >= 1


def test_prepare_through_the_command_stores_every_period_the_board_and_funders_choose(tmp_path):
    """On the small community (its one whole quarter: the board's and funders' sets), by the real command."""
    db_path = small_community(tmp_path / "atlas.duckdb", tmp_path)
    command = [sys.executable, "-m", "atlas", "prepare", "--db", str(db_path), "--min-cell", "3"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with Atlas(db_path) as db:
        first, last = latest_days(db)
        kept = store.stored(db.version)
    periods = board_periods(first, last)
    assert periods, "the small community holds a whole quarter"
    chosen = {(a, s, n) for _, s, _, n in periods for a in ("board", "funders")}
    rows = set(zip(kept["audience"], pd.to_datetime(kept["period_start"]).dt.date, kept["length"]))
    assert chosen <= rows
    # besides: the quarters a year was protected with that the board cannot choose (before the data's first day)
    assert all(n == "quarter" and (a, dt.date(s.year, 1, 1), "year") in rows for a, s, n in rows - chosen)
    assert set(kept["min_cell"]) == {3}
    lines = [line.split() for line in done.stdout.splitlines() if line.strip().endswith("worked out")]
    assert len(lines) == 2 * len(periods), done.stdout
    assert lines[0][:3] == [*periods[0][0].split(), "board"], "the latest quarter first"
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("read from the store") == 2 * len(periods)
    assert f"0 worked out, {2 * len(periods)} already stored" in again.stdout


def test_a_served_page_reads_a_prepared_year_without_protecting_it(continuum, tmp_path, monkeypatch, audits):
    copy = tmp_path / "atlas.duckdb"
    for source in (continuum, store.store_path(continuum), continuum.with_name("atlas.survey.duckdb")):
        shutil.copy2(source, tmp_path / source.name)  # the file's times kept: the same stamp
    with Atlas(copy) as db:
        _, _, _, year = latest(db)
        assert store.load(db.version, "board", year.start, year.end, "year", M) is not None
    loads: list[tuple] = []
    real_load = store.load

    def load(version, audience, start, end, length, min_cell):
        found = real_load(version, audience, start, end, length, min_cell)
        loads.append((audience, length, start, found is not None))
        return found

    monkeypatch.setattr(store, "load", load)
    monkeypatch.setenv("ATLAS_DB", str(copy))
    monkeypatch.setenv("ATLAS_MIN_CELL", str(M))
    forget()
    for role, page in (("board", "pages/network.py"), ("funder", "pages/outcomes.py")):
        monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
        at = AppTest.from_file(DASHBOARD, default_timeout=120)
        # a run started with switch_page does not apply the sidebar's widgets (tests/test_pages.py): the period
        # the sidebar would have drawn is preset as well
        at.session_state["filter_reporting_period"] = str(year.start.year)
        at.session_state["atlas_filters"] = year
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    assert ("board", "year", year.start, True) in loads
    assert ("funders", "year", year.start, True) in loads
    assert audits == [], "the year was read from the store, not protected again"


def test_a_refresh_prepares_the_sets_of_the_data_it_imported(tmp_path, monkeypatch, capsys):
    from atlas.cli import main

    monkeypatch.setenv("ATLAS_HMAC_KEY", TEST_KEY.decode())
    monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "secrets.toml"))
    monkeypatch.setenv("ATLAS_MIN_CELL", "3")
    inbox, database = tmp_path / "inbox", tmp_path / "data" / "atlas.duckdb"
    write_files(inbox / "march", SMALL_COMMUNITY)
    assert main(["refresh", str(inbox), "--db", str(database), "--settle", "0"]) == 0
    printed = capsys.readouterr().out
    with Atlas(database) as db:
        first, last = latest_days(db)
        kept = store.stored(db.version)
    chosen = {(a, s, n) for _, s, _, n in board_periods(first, last) for a in ("board", "funders")}
    assert chosen <= set(zip(kept["audience"], pd.to_datetime(kept["period_start"]).dt.date, kept["length"]))
    assert "Prepared" in printed and "worked out" in printed


def test_a_served_app_prepares_every_period_in_the_background_and_its_child_ends_with_it(tmp_path, browser):
    from browser import served, wait_drawn

    path = small_community(tmp_path / "atlas.duckdb", tmp_path)
    with Atlas(path) as db:
        first, last = latest_days(db)
        version = db.version
    chosen = {(a, s, n) for _, s, _, n in board_periods(first, last) for a in ("board", "funders")}

    def stored() -> set:
        kept = store.stored(version)
        return set(zip(kept["audience"], pd.to_datetime(kept["period_start"]).dt.date, kept["length"]))

    with served(path, tmp_path / "serve.log", env={"ATLAS_MIN_CELL": str(M)}) as url:
        page = browser.new_page()
        page.goto(url)
        wait_drawn(page)  # the first run starts the warm-up thread
        deadline = time.monotonic() + 180
        while not chosen <= stored() and time.monotonic() < deadline:
            time.sleep(0.5)
        page.close()
        assert chosen <= stored(), "every period of both audiences prepared by the server, without a visit to it"
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", f"atlas prepare --db {path}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the server's prepare child ends with the server"
