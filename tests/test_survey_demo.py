"""The demo's survey rounds, as `python -m atlas demo` writes them (the demo_db fixture runs the real
command): two closed rounds a year apart with something for every part of the Survey page, drawn the
same way every time."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from atlas.db import Atlas
from atlas.survey import Surveys
from atlas.survey import demo as survey_demo


@pytest.fixture(scope="module")
def figures(demo_db):
    with Atlas(demo_db) as db:
        rounds = db.query("survey_rounds")
        found = {"rounds": rounds}
        for round_id in rounds["round_id"]:
            found[round_id] = {name: db.query(name, round_id=round_id) for name in (
                "survey_summary", "survey_agencies", "survey_seen_differently", "survey_agreements", "survey_change")}
            found[round_id]["both"] = db.query("survey_ties", round_id=round_id, rule="both")
    return found


def test_two_closed_rounds_a_year_apart(figures, demo_db):
    rounds = figures["rounds"]
    assert len(rounds) == 2 and set(rounds["status"]) == {"closed"}
    new, old = rounds.iloc[0], rounds.iloc[1]
    assert (new["period_start"] - old["period_start"]).days in (365, 366)
    assert new["period_end"].month == 12 and new["period_end"].day == 31
    for round_ in Surveys(demo_db).rounds():
        assert round_.status == "closed" and round_.closed_on is not None


def test_every_part_of_the_page_has_something_to_show(figures):
    for round_id in figures["rounds"]["round_id"]:
        summary = figures[round_id]["survey_summary"].iloc[0]
        assert 0.65 <= summary["response_rate"] <= 0.85, "about three members in four answer"
        assert summary["ties_both"] < summary["ties_either"], "ties seen from one side only"
        assert len(figures[round_id]["both"]) == summary["ties_both"] > 0
        assert len(figures[round_id]["survey_seen_differently"]) >= 1
        findings = set(figures[round_id]["survey_agreements"]["finding"])
        assert findings == {"no_but_on_paper", "yes_not_on_paper"}, "agreements nobody remembers, and believed ones"
        assert summary["mean_trust"] > 0 and summary["mean_value"] > 0
    newest = figures["rounds"]["round_id"].iloc[0]
    assert set(figures[newest]["survey_change"]["change"]) == {"gained", "lost"}


def test_a_victim_service_member_answers_and_nobody_names_it(figures, demo_db):
    for round_id in figures["rounds"]["round_id"]:
        progress = Surveys(demo_db).progress(round_id)
        victims = progress[progress["victim_service"]]
        assert len(victims) == 1 and victims["responded"].all() and victims["partners_named"].iloc[0] > 0
        agencies = figures[round_id]["survey_agencies"].set_index("agency_id")
        assert agencies.loc[victims["agency_id"].iloc[0], "named_by"] == 0


def test_the_demo_rounds_are_drawn_the_same_every_time_and_replace_only_themselves(demo_db, tmp_path):
    database = tmp_path / "atlas.duckdb"
    shutil.copyfile(demo_db, database)
    shutil.copyfile(demo_db.with_name("atlas.survey.duckdb"), tmp_path / "atlas.survey.duckdb")
    surveys = Surveys(database)
    ids = [r.round_id for r in surveys.rounds()]
    first = {r: tmp_path / f"{r}.first.csv" for r in ids}
    for round_id, path in first.items():
        surveys.export_responses(round_id, path)
    surveys.open_round("mine", "Mine", dt.date(2025, 1, 1), dt.date(2025, 3, 31), dt.date.today(),
                       members=list(surveys.round(ids[0]).members[:3]))
    survey_demo.write(database, 7)
    assert sorted(r.round_id for r in surveys.rounds()) == sorted([*ids, "mine"])
    for round_id, path in first.items():
        again = tmp_path / f"{round_id}.again.csv"
        surveys.export_responses(round_id, again)
        assert again.read_bytes() == path.read_bytes()
