"""SQL-injection strings, and values of the wrong type, through every parameter of every named query
and through every filter and page widget: each either runs as plain data or is refused with a clear
error, and the database is never changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from atlas import catalog, contract
from atlas.catalog import QueryError
from atlas.db import Atlas

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGES = ["pages/overview.py", "pages/bottlenecks.py", "pages/need_capacity.py", "pages/accountability.py",
         "pages/survey.py", "pages/network.py", "pages/outcomes.py", "pages/data.py"]

INJECTIONS = (
    "'; drop table referrals; --",
    "North' or '1'='1",
    "North\" or \"1\"=\"1",
    "x') union select agency_id, name, region, sector, 1, 1 from agencies --",
    "1; delete from agencies",
    "2024-01-01'); drop table agencies; --",
    "$start",
    "'||(select count(*) from referrals)||'",
    "\\'; attach '/tmp/x.db' as x; --",
    "North\x00' or 1=1 --",
    "1 or 1=1",
    "0 union all select 1",
)
WRONG_TYPES = (["North"], {"a": 1}, object(), b"North", float("nan"), float("inf"), 10**30, -(10**30), True,
               dt.timedelta(days=1), ("2024-01-01", "2024-02-01"))
NO_MATCH = {"text": "no such value anywhere", "int": None, "number": None, "date": None, "timestamp": None}


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_type = 'BASE TABLE'").fetchall()]
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def database(small_db, tmp_path_factory) -> Path:
    """A copy of the small community's database that only these tests open."""
    path = tmp_path_factory.mktemp("injection") / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    return path


@pytest.fixture(scope="module")
def before(database):
    return checksum(database), row_counts(database)


def _frame(result: pd.DataFrame) -> list[str]:
    return sorted(map(repr, result.astype(str).itertuples(index=False)))


@pytest.mark.parametrize("name", sorted(catalog.catalog()))
def test_every_query_parameter_takes_injection_as_data(name, database, before):
    """Text parameters bind hostile strings as values: the result is the one an unknown value gives.
    Typed parameters refuse them with QueryError. Nothing in the file changes."""
    query = catalog.get(name)
    with Atlas(database) as db:
        for param in query.params:
            for value in INJECTIONS:
                if param.type == "text":
                    got = db.query(name, **{param.name: value})
                    unknown = db.query(name, **{param.name: NO_MATCH["text"]})
                    assert _frame(got) == _frame(unknown), (name, param.name, value)
                else:
                    with pytest.raises(QueryError, match=param.name):
                        db.query(name, **{param.name: value})
            for value in WRONG_TYPES:
                try:
                    db.query(name, **{param.name: value})
                except QueryError as error:
                    assert param.name in str(error)
                except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException,
                        duckdb.NotImplementedException, duckdb.BinderException) as error:
                    assert "Parser" not in type(error).__name__, error  # bound, never parsed as SQL
        # a parameter nobody declared, however named, is refused before any SQL runs
        for bad in ("x; drop table referrals", "start or 1=1"):
            with pytest.raises(QueryError):
                db.query(name, **{bad: "1"})
    assert (checksum(database), row_counts(database)) == before


def test_a_query_name_is_never_sql(database, before):
    with Atlas(database) as db:
        for value in ("referral_funnel; drop table referrals", "../queries/referral_funnel", "select 1", INJECTIONS[0]):
            with pytest.raises(QueryError):
                db.query(value)
    assert (checksum(database), row_counts(database)) == before


def test_the_database_is_attached_read_only(database, before):
    """Even a statement that got through could not write: the connection attaches the file read-only."""
    with Atlas(database) as db:
        with pytest.raises(duckdb.Error):
            db._con.execute("drop table referrals")
        with pytest.raises(duckdb.Error):
            db._con.execute("delete from agencies")
    assert (checksum(database), row_counts(database)) == before


def test_an_injection_that_matches_nothing_matches_nothing(database):
    """The classic tautology neither widens nor errors: a region filter of `North' or '1'='1` finds
    no referral, where `North` finds some."""
    with Atlas(database) as db:
        north = db.query("referral_funnel", region="North")
        hostile = db.query("referral_funnel", region="North' or '1'='1")
    assert north.set_index("stage")["referrals"].sum() > 0
    assert hostile.set_index("stage")["referrals"].sum() == 0


# ---- filters and widgets, through the app --------------------------------------------------------

FILTER_KEYS = ("filter_region", "filter_service", "filter_sector")
WIDGET_KEYS = {
    "pages/bottlenecks.py": ("bottleneck_focus", "pathway_sector"),
    "pages/need_capacity.py": ("need_region", "need_service", "need_measure"),
    "pages/accountability.py": (),
    "pages/survey.py": ("survey_round", "survey_section", "survey_new_id", "survey_new_name", "survey_base_url"),
    "pages/network.py": ("map_focus", "map_closure"),
    "pages/outcomes.py": ("outcomes_funder",),
    "pages/overview.py": (),
    "pages/data.py": (),
}


@pytest.mark.parametrize("page", PAGES)
def test_hostile_filters_widget_state_and_url_parameters_break_no_page(page, database, before, monkeypatch):
    """Every page run with every sidebar filter and page widget preset to an injection string and a
    hostile query string in the URL: it runs without an exception and the data is unchanged."""
    monkeypatch.setenv("ATLAS_DB", str(database))
    for value in (INJECTIONS[0], INJECTIONS[1]):
        at = AppTest.from_file(DASHBOARD, default_timeout=60)
        for key in FILTER_KEYS + WIDGET_KEYS[page]:
            at.session_state[key] = value
        for key in ("region", "x", "filter_region", "page"):
            at.query_params[key] = value
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, value, at.exception)
    assert (checksum(database), row_counts(database)) == before


def test_contract_tables_are_all_counted(before):
    """The row counts compared above cover every table of the contract."""
    assert set(contract.TABLES) <= set(before[1])
