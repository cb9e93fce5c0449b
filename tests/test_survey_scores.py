"""Every figure of the survey's named queries against numbers worked out by hand, on two small rounds
built here over the small community of conftest.py (A6 is the victim-service agency).

Formal partnerships in force in the first quarter of 2024: A1-A2 (mou) and A2-A4 (mou); A1-A3's
protocol ended on 2023-12-31.

Round r1 (2024-01-01..2024-03-31), members A1-A6:
    A1 -> A2  freq 4, level 4, yes,    trust 4,4,4 (4),   value 3,3,3 (3)
    A1 -> A3  freq 2, level 2, yes,    trust 3,2,- (null: partial), value 2,2,2 (2)
    A2 -> A1  freq 3, level 2, yes,    trust 2,2,2 (2),   value -     (null)
    A2 -> A4  freq 1, level 1, no,     trust 3,3,3 (3),   value 4,4,4 (4)
    A6 -> A1  freq 5, level 5, unsure, trust 4,4,3 (11/3), value 4,4,4 (4)   (the victim-service member)
    A3 -> A4  a draft (frequency only): counts nowhere, and A3 has not answered
    A5        named nobody
    A4        did not answer
Round r0 (2023), members A1-A4: A1 -> A3 (trust 4), A3 -> A4, A2 -> A1 (trust 1).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from atlas.db import Atlas
from atlas.survey import Answer, Surveys

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
SOON = TODAY + dt.timedelta(days=7)


@pytest.fixture(scope="module")
def database(small_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("survey_scores") / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    surveys = Surveys(path)
    surveys.open_round("r0", "2023", dt.date(2023, 1, 1), dt.date(2023, 12, 31), SOON, members=["A1", "A2", "A3", "A4"])
    surveys.save("r0", "A1", [Answer("A3", 1, 1, "yes", 4, 4, 4)])
    surveys.save("r0", "A3", [Answer("A4", 2, 2, "no")])
    surveys.save("r0", "A2", [Answer("A1", 1, 1, "no", 1, 1, 1)])
    surveys.close("r0")
    surveys.open_round("r1", "2024 Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31), SOON,
                       members=["A1", "A2", "A3", "A4", "A5", "A6"])
    surveys.save("r1", "A1", [Answer("A2", 4, 4, "yes", 4, 4, 4, 3, 3, 3), Answer("A3", 2, 2, "yes", 3, 2, None, 2, 2, 2)])
    surveys.save("r1", "A2", [Answer("A1", 3, 2, "yes", 2, 2, 2), Answer("A4", 1, 1, "no", 3, 3, 3, 4, 4, 4)])
    surveys.save("r1", "A6", [Answer("A1", 5, 5, "unsure", 4, 4, 3, 4, 4, 4)])
    surveys.save("r1", "A3", [Answer("A4", frequency=5)])
    surveys.save("r1", "A5", [], named_nobody=True)
    return path


def rows(database: Path, name: str, **params) -> list[dict]:
    with Atlas(database) as db:
        frame = db.query(name, **params)
    return [{k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()}
            for r in frame.astype(object).to_dict("records")]


def close(found: dict, expected: dict) -> None:
    assert list(found) == list(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert found[key] == pytest.approx(value), key
        else:
            assert found[key] == value, key


def test_summary(database):
    [summary] = rows(database, "survey_summary", round_id="r1")
    close(summary, {"invited": 6, "responded": 4, "response_rate": 4 / 6, "ties_either": 4, "ties_both": 1,
                    "reciprocity": 0.25, "density": 4 / 15, "mean_trust": (4 + 2 + 3 + 11 / 3) / 4,
                    "mean_value": (3 + 2 + 4 + 4) / 4})


def test_ties_under_either_and_both(database):
    either = rows(database, "survey_ties", round_id="r1")
    expected = [
        {"agency_a_id": "A1", "agency_b_id": "A2", "reports": 2, "level": 3.0, "frequency": 3.5, "trust": 3.0, "value": 3.0},
        {"agency_a_id": "A1", "agency_b_id": "A3", "reports": 1, "level": 2.0, "frequency": 2.0, "trust": None, "value": 2.0},
        {"agency_a_id": "A1", "agency_b_id": "A6", "reports": 1, "level": 5.0, "frequency": 5.0, "trust": 11 / 3, "value": 4.0},
        {"agency_a_id": "A2", "agency_b_id": "A4", "reports": 1, "level": 1.0, "frequency": 1.0, "trust": 3.0, "value": 4.0},
    ]
    assert len(either) == len(expected)
    for found, wanted in zip(either, expected):
        close(found, wanted)
    assert rows(database, "survey_ties", round_id="r1", rule="either") == either
    [both] = rows(database, "survey_ties", round_id="r1", rule="both")
    close(both, expected[0])
    assert rows(database, "survey_ties", round_id="r1", rule="neither") == []


def test_agencies(database):
    found = rows(database, "survey_agencies", round_id="r1")
    expected = [
        {"agency_id": "A1", "responded": True, "partners_named": 2, "named_by": 2, "trust_received": (2 + 11 / 3) / 2,
         "value_received": 4.0, "raters": 2},
        {"agency_id": "A2", "responded": True, "partners_named": 2, "named_by": 1, "trust_received": 4.0,
         "value_received": 3.0, "raters": 1},
        {"agency_id": "A3", "responded": False, "partners_named": 0, "named_by": 1, "trust_received": None,
         "value_received": 2.0, "raters": 0},
        {"agency_id": "A4", "responded": False, "partners_named": 0, "named_by": 1, "trust_received": 3.0,
         "value_received": 4.0, "raters": 1},
        {"agency_id": "A5", "responded": True, "partners_named": 0, "named_by": 0, "trust_received": None,
         "value_received": None, "raters": 0},
        {"agency_id": "A6", "responded": True, "partners_named": 1, "named_by": 0, "trust_received": None,
         "value_received": None, "raters": 0},
    ]
    assert len(found) == len(expected)
    for got, wanted in zip(found, expected):
        close(got, wanted)


def test_seen_differently_and_agreements_on_paper_and_in_mind(database):
    [differ] = rows(database, "survey_seen_differently", round_id="r1")
    assert differ == {"agency_a_id": "A1", "agency_a_name": "Harbor House", "agency_b_id": "A2",
                      "agency_b_name": "City Hospital", "level_by_a": 4, "level_by_b": 2, "difference": 2,
                      "frequency_by_a": 4, "frequency_by_b": 3}
    found = rows(database, "survey_agreements", round_id="r1")
    assert found == [
        {"respondent_agency_id": "A2", "respondent_name": "City Hospital", "partner_agency_id": "A4",
         "partner_name": "Housing Authority", "said": "no", "on_paper": "mou", "finding": "no_but_on_paper"},
        {"respondent_agency_id": "A1", "respondent_name": "Harbor House", "partner_agency_id": "A3",
         "partner_name": "Riverside Counselling", "said": "yes", "on_paper": None, "finding": "yes_not_on_paper"},
    ]


def test_change_since_the_previous_round(database):
    assert rows(database, "survey_change", round_id="r1") == [
        {"agency_a_id": "A2", "agency_a_name": "City Hospital", "agency_b_id": "A4",
         "agency_b_name": "Housing Authority", "change": "gained", "previous_round_id": "r0"},
        {"agency_a_id": "A3", "agency_a_name": "Riverside Counselling", "agency_b_id": "A4",
         "agency_b_name": "Housing Authority", "change": "lost", "previous_round_id": "r0"},
    ]
    trust = {r["agency_id"]: r for r in rows(database, "survey_trust_change", round_id="r1")}
    assert sorted(trust) == ["A1", "A2", "A3", "A4"]  # A5 and A6 were not members of r0
    close(trust["A1"], {"agency_id": "A1", "name": "Harbor House", "trust_before": 1.0, "raters_before": 1,
                        "trust_now": 17 / 6, "raters_now": 2, "trust_change": 17 / 6 - 1, "previous_round_id": "r0"})
    assert (trust["A2"]["trust_before"], trust["A2"]["trust_now"], trust["A2"]["trust_change"]) == (None, 4.0, None)
    assert (trust["A3"]["trust_before"], trust["A3"]["raters_now"]) == (4.0, 0)
    assert rows(database, "survey_change", round_id="r0") == []  # no round before it
    assert rows(database, "survey_trust_change", round_id="r0") == []


def test_rounds_and_the_round_standing_for_a_period(database):
    listed = rows(database, "survey_rounds")
    assert [(r["round_id"], r["status"], r["invited"], r["responded"]) for r in listed] == [
        ("r1", "open", 6, 4), ("r0", "closed", 4, 3)]
    assert "secret" not in listed[0]
    # an open round stands for no period yet; the closed one for its own
    assert rows(database, "survey_round_for_period", start="2024-02-01", end="2024-02-29") == []
    [r0] = rows(database, "survey_round_for_period", start="2023-06-01", end="2024-02-29")
    assert r0["round_id"] == "r0"
    assert rows(database, "survey_round_for_period", start="2022-01-01", end="2022-12-31") == []


def test_an_unknown_round_and_a_database_without_answers_give_empty_figures(database, small_db):
    [summary] = rows(database, "survey_summary", round_id="nope")
    assert summary["invited"] == 0 and summary["responded"] == 0 and summary["response_rate"] is None
    assert rows(database, "survey_ties", round_id="nope") == []
    assert not small_db.with_name("atlas.survey.duckdb").exists()
    assert rows(small_db, "survey_rounds") == []
    assert rows(small_db, "survey_agencies", round_id="r1") == []
    assert not small_db.with_name("atlas.survey.duckdb").exists(), "reading writes no answers file"


def test_the_scores_run_through_the_query_command(database):
    run = subprocess.run([sys.executable, "-m", "atlas", "query", "survey_summary", "--db", str(database),
                          "--param", "round_id=r1", "--format", "json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    [summary] = json.loads(run.stdout)
    assert (summary["invited"], summary["responded"], summary["ties_either"]) == (6, 4, 4)
    run = subprocess.run([sys.executable, "-m", "atlas", "query", "survey_ties", "--db", str(database),
                          "--param", "round_id=r1", "--param", "rule=both", "--format", "csv"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.splitlines() == ["agency_a_id,agency_b_id,reports,level,frequency,trust,value",
                                       "A1,A2,2,3.0,3.5,3.0,3.0"]


def test_hostile_parameters_are_data_and_the_answers_file_never_changes(database):
    """The survey's queries attach the answers read-only: a hostile round id or rule is a value like any
    other (it finds no round), and neither the answers nor the database change."""
    import hashlib

    from atlas.survey.store import answers_path

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    before = digest(answers_path(database)), digest(database)
    hostile = ("r1' or '1'='1", "r1'; delete from survey.answers; --", "'; detach survey; --",
               "r1\x00", "\\'; attach '/tmp/x.db' as x; --")
    with Atlas(database) as db:
        for value in hostile:
            assert db.query("survey_summary", round_id=value).iloc[0]["invited"] == 0
            assert db.query("survey_ties", round_id="r1", rule=value).empty
            assert db.query("survey_agencies", round_id=value).empty
        with pytest.raises(duckdb.CatalogException):  # the answers are attached only for the length of a query
            db._con.execute("delete from survey.answers")
    assert (digest(answers_path(database)), digest(database)) == before
    assert len(rows(database, "survey_ties", round_id="r1")) == 4


@pytest.fixture(scope="module")
def rated(small_db, tmp_path_factory) -> Path:
    """Round r2, members A1-A6, built so that the board's rule shows: A1 is rated by A2 (trust 4, value 3), A3
    (2, 2), A4 (3, no value), A5 (partial trust, value 4) and the victim-service A6 (1, 1); A2 by A1 (4, 4), A3
    (3, 4), A4 (2, no value) and a draft of A5's (trust 1, counted nowhere); A3 by A2 only (4, 4)."""
    path = tmp_path_factory.mktemp("survey_published") / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    surveys = Surveys(path)
    surveys.open_round("r2", "2024 Q2", dt.date(2024, 4, 1), dt.date(2024, 6, 30), SOON,
                       members=["A1", "A2", "A3", "A4", "A5", "A6"])
    surveys.save("r2", "A1", [Answer("A2", 3, 3, "yes", 4, 4, 4, 4, 4, 4)])
    surveys.save("r2", "A2", [Answer("A1", 3, 3, "yes", 4, 4, 4, 3, 3, 3), Answer("A3", 2, 2, "no", 4, 4, 4, 4, 4, 4)])
    surveys.save("r2", "A3", [Answer("A1", 2, 2, "no", 2, 2, 2, 2, 2, 2), Answer("A2", 2, 2, "no", 3, 3, 3, 4, 4, 4)])
    surveys.save("r2", "A4", [Answer("A1", 1, 1, "no", 3, 3, 3), Answer("A2", 1, 1, "no", 2, 2, 2)])
    surveys.save("r2", "A5", [Answer("A1", 4, 4, "unsure", 3, 3, None, 4, 4, 4), Answer("A2", 5, None, None, 1, 1, 1)])
    surveys.save("r2", "A6", [Answer("A1", 5, 5, "no", 1, 1, 1, 1, 1, 1)])
    return path


def test_agencies_as_the_board_may_see_them(rated):
    # A1: trust 4, 2, 3 (A5's partial and A6's left out) and value 3, 2, 4 (A4 gave none, A6's left out);
    # A2: trust 4, 3, 2 (A5's draft counts nowhere) but only two values: no value shown; A3: one rater, no row
    found = rows(rated, "survey_agencies_published", round_id="r2")
    assert len(found) == 2
    close(found[0], {"agency_id": "A1", "trust_received": 3.0, "value_received": 3.0, "raters": 3, "value_raters": 3})
    close(found[1], {"agency_id": "A2", "trust_received": 3.0, "value_received": None, "raters": 3, "value_raters": 2})
    # the directors' query counts the victim-service respondent: A1's figures differ there
    director = {r["agency_id"]: r for r in rows(rated, "survey_agencies", round_id="r2")}
    assert director["A1"]["raters"] == 4 and director["A1"]["trust_received"] == pytest.approx(2.5)
    assert rows(rated, "survey_agencies_published", round_id="nope") == []


def test_of_two_rounds_of_one_period_the_map_reads_the_one_closed_last(rated):
    from atlas.survey import store

    with store.writing(rated) as con:  # r2 closed a year and a half ago (the command closes only today)
        con.execute(store.statement("close_round"), {"round_id": "r2", "closed_on": dt.date(2024, 7, 15)})
    surveys = Surveys(rated)
    surveys.open_round("a-again", "2024 Q2, run again", dt.date(2024, 4, 1), dt.date(2024, 6, 30), SOON,
                       members=["A1", "A2", "A3"])
    surveys.close("a-again")  # closed today: the later, though its id sorts first
    [found] = rows(rated, "survey_round_for_period", start="2024-05-01", end="2024-05-31")
    assert found["round_id"] == "a-again"
