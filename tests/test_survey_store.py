"""The survey's store and rounds, for real: an answers file beside a database imported from the small
community, two processes saving at once, the file outliving imports that replace the database, and
the links' tokens."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from atlas.survey import Answer, RoundClosed, Surveys
from atlas.survey.store import answers_path, lock_path

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
PERIOD = (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
MEMBERS = ["A1", "A2", "A3", "A4", "A5", "A6"]


@pytest.fixture
def database(small_db, tmp_path) -> Path:
    """A copy of the small community's database of its own (its answers file beside it starts empty)."""
    path = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, path)
    return path


def open_round(surveys: Surveys, round_id: str = "r1", **changes):
    values = dict(name="Spring 2024", period_start=PERIOD[0], period_end=PERIOD[1],
                  closes_on=TODAY + dt.timedelta(days=14), members=MEMBERS)
    values.update(changes)
    return surveys.open_round(round_id, **values)


def test_the_answers_live_beside_the_database_in_a_file_of_their_own(database):
    assert answers_path(database) == database.with_name("atlas.survey.duckdb")
    assert answers_path(Path("/x/other.duckdb")) == Path("/x/other.survey.duckdb")
    surveys = Surveys(database)
    assert surveys.rounds() == []
    assert not answers_path(database).exists(), "reading an empty store writes nothing"
    assert not lock_path(answers_path(database)).exists(), "not even its lock file"
    round_ = open_round(surveys)
    assert answers_path(database).is_file() and lock_path(answers_path(database)).is_file()
    assert round_.status == "open" and round_.members == tuple(MEMBERS) and round_.opens_on == TODAY
    # the imported database holds nothing of the survey
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert not tables & {"rounds", "members", "answers", "contacts"}
    # every write is checkpointed: the main file holds it, no write-ahead log is left behind
    assert not answers_path(database).with_name("atlas.survey.duckdb.wal").exists()


def test_default_members_are_the_active_agencies_of_the_period_without_victim_services(database):
    surveys = Surveys(database)
    assert surveys.default_members(*PERIOD) == ["A1", "A2", "A3", "A4", "A5"]  # A6 is victim-service
    # 2023: the referral R11 (A1 -> A3) and the ties in force then (A1-A2, A1-A3, A1-A5)
    assert surveys.default_members(dt.date(2023, 6, 1), dt.date(2023, 6, 30)) == ["A1", "A2", "A3", "A5"]
    round_ = surveys.open_round("r0", "Default", *PERIOD, closes_on=TODAY)
    assert round_.members == ("A1", "A2", "A3", "A4", "A5")


def test_opening_refuses_what_a_round_cannot_be_naming_it(database):
    surveys = Surveys(database)
    open_round(surveys)
    with pytest.raises(ValueError, match="already a survey round 'r1'"):
        open_round(surveys)
    with pytest.raises(ValueError, match="starts .2024-03-31. after it ends"):
        open_round(surveys, "r2", period_start=PERIOD[1], period_end=PERIOD[0])
    with pytest.raises(ValueError, match="opens .* after it closes"):
        open_round(surveys, "r2", opens_on=TODAY, closes_on=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="not agencies of .*'ZZ'"):
        open_round(surveys, "r2", members=["A1", "ZZ"])
    with pytest.raises(ValueError, match="round id"):
        open_round(surveys, "../r2")
    assert [r.round_id for r in surveys.rounds()] == ["r1"]
    with pytest.raises(KeyError, match="no survey round 'nope'"):
        surveys.round("nope")


def test_rounds_newest_period_first_and_members_editable_until_an_answer_is_in(database):
    surveys = Surveys(database)
    open_round(surveys, "old", period_start=dt.date(2023, 1, 1), period_end=dt.date(2023, 12, 31))
    open_round(surveys, "new")
    assert [r.round_id for r in surveys.rounds()] == ["new", "old"]
    assert surveys.set_members("new", ["A1", "A2", "A3"]).members == ("A1", "A2", "A3")
    surveys.save("new", "A1", [Answer("A2", 3, 3, "yes")])
    with pytest.raises(ValueError, match="already holds 1 answers"):
        surveys.set_members("new", ["A1", "A2"])


def test_save_replaces_the_respondents_state_and_keeps_drafts_apart(database):
    surveys = Surveys(database)
    open_round(surveys)
    result = surveys.save("r1", "A1", [Answer("A2", 3, 4, "yes", 4, 4, 3), Answer("A3", frequency=2)])
    assert (result.complete, result.drafts, result.named_nobody) == (1, 1, False)
    assert surveys.answers("r1", "A1") == [Answer("A2", 3, 4, "yes", 4, 4, 3), Answer("A3", frequency=2)]
    assert not surveys.answers("r1", "A1")[1].complete
    progress = surveys.progress("r1").set_index("agency_id")
    assert progress.loc["A1", "responded"] and progress.loc["A1", "partners_named"] == 1
    assert progress.loc["A1", "last_saved"] == result.saved_at
    # the latest save stands, whole
    surveys.save("r1", "A1", [Answer("A4", 1, 1, "no")])
    assert surveys.answers("r1", "A1") == [Answer("A4", 1, 1, "no")]
    # a respondent with drafts only has not answered
    surveys.save("r1", "A2", [Answer("A1", level=2)])
    assert not surveys.progress("r1").set_index("agency_id").loc["A2", "responded"]
    # named nobody
    nobody = surveys.save("r1", "A5", [], named_nobody=True)
    assert nobody.named_nobody and surveys.answers("r1", "A5") == [] and surveys.named_nobody("r1", "A5")
    progress = surveys.progress("r1").set_index("agency_id")
    assert progress.loc["A5", "responded"] and progress.loc["A5", "partners_named"] == 0
    assert list(surveys.progress("r1").columns) == ["agency_id", "name", "victim_service", "responded",
                                                    "partners_named", "last_saved"]
    assert progress.loc["A6", "victim_service"] and not progress.loc["A6", "responded"]


@pytest.mark.parametrize("answer, field", [
    (Answer("ZZ", 1, 1, "yes"), "partner_agency_id"),
    (Answer("A1", 1, 1, "yes"), "partner_agency_id"),  # itself
    (Answer("A6", 1, 1, "yes"), "partner_agency_id"),  # victim-service
    (Answer("A2", 6, 1, "yes"), "frequency"),
    (Answer("A2", 1, 0, "yes"), "level"),
    (Answer("A2", 1, 1, "maybe"), "agreement"),
    (Answer("A2", 1, 1, "yes", trust_open=5), "trust_open"),
    (Answer("A2", 1, 1, "yes", value_resources=True), "value_resources"),
])
def test_save_refuses_a_wrong_answer_naming_the_field_and_writes_nothing(database, answer, field):
    surveys = Surveys(database)
    open_round(surveys)
    surveys.save("r1", "A1", [Answer("A3", 2, 2, "no")])
    with pytest.raises(ValueError, match=f"^{field}:"):
        surveys.save("r1", "A1", [Answer("A4", 2, 2, "no"), answer])
    assert surveys.answers("r1", "A1") == [Answer("A3", 2, 2, "no")]


def test_a_closed_or_expired_round_takes_no_answers(database):
    surveys = Surveys(database)
    open_round(surveys)
    surveys.close("r1")
    assert surveys.round("r1").status == "closed" and surveys.round("r1").closed_on == TODAY
    with pytest.raises(RoundClosed):
        surveys.save("r1", "A1", [Answer("A2", 1, 1, "yes")])
    open_round(surveys, "past", opens_on=TODAY - dt.timedelta(days=9), closes_on=TODAY - dt.timedelta(days=1))
    with pytest.raises(RoundClosed):
        surveys.save("past", "A1", [])
    open_round(surveys, "later", opens_on=TODAY + dt.timedelta(days=1), closes_on=TODAY + dt.timedelta(days=9))
    assert surveys.round("later").status == "scheduled"
    with pytest.raises(RoundClosed):
        surveys.save("later", "A1", [])


def test_tokens_are_long_reproducible_and_die_with_a_new_secret(database):
    surveys = Surveys(database)
    open_round(surveys)
    token = surveys.token("r1", "A1")
    assert len(token) >= 22 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) * 6 >= 128
    assert token == surveys.token("r1", "A1") != surveys.token("r1", "A2")
    assert surveys.link("r1", "A1", "https://atlas.example.org/") == f"https://atlas.example.org/respond?t={token}"
    invitation = surveys.resolve(token)
    assert invitation.agency_id == "A1" and invitation.agency_name == "Harbor House"
    assert invitation.round.round_id == "r1"
    # partners: members without itself and without the victim-service A6, by name
    assert invitation.partners == [("A2", "City Hospital"), ("A4", "Housing Authority"),
                                   ("A3", "Riverside Counselling"), ("A5", "St Mark's Church")]
    surveys.rekey("r1")
    assert surveys.resolve(token) is None
    assert surveys.resolve(surveys.token("r1", "A1")).agency_id == "A1"
    # a token of one round is no token of another
    assert token not in {surveys.token("r1", m) for m in MEMBERS}


def test_wrong_closed_expired_and_not_yet_open_links_resolve_to_nothing(database):
    surveys = Surveys(database)
    open_round(surveys)
    open_round(surveys, "past", opens_on=TODAY - dt.timedelta(days=9), closes_on=TODAY - dt.timedelta(days=1))
    open_round(surveys, "later", opens_on=TODAY + dt.timedelta(days=1), closes_on=TODAY + dt.timedelta(days=9))
    expired, scheduled = surveys.token("past", "A1"), surveys.token("later", "A1")
    closing = surveys.token("r1", "A2")
    assert surveys.resolve(closing) is not None
    surveys.close("r1")
    for token in (closing, expired, scheduled, closing[:-1] + ("A" if closing[-1] != "A" else "B"), "", " ",
                  "x" * 43, "x" * 10_000, "' or 1=1 --", "\x00" * 43, "é" * 43, "../../etc/passwd", None, 42):
        assert surveys.resolve(token) is None


# One saving process, as its own Python (not multiprocessing: a spawned child re-imports the parent's __main__,
# which after an AppTest in the same test session is a page script). It waits until the start file exists, then
# tells it is ready, then saves `times` different states, reading each back, and prints how many read back as written.
_SAVER = """
import sys, time
from pathlib import Path
from atlas.survey import Answer, Surveys
database, agency, start, times, partners = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
surveys = Surveys(Path(database))
Path(f"{start}.{agency}").touch()  # ready
while not start.exists():
    time.sleep(0.001)
kept = 0
for i in range(times):
    answers = [Answer(p, i % 5 + 1, (i + n) % 5 + 1, "yes", trust_open=n % 4 + 1) for n, p in enumerate(partners)]
    surveys.save("r1", agency, answers[: i % len(partners) + 1])
    kept += surveys.answers("r1", agency) == answers[: i % len(partners) + 1]
print(kept)
"""


def test_two_processes_saving_at_the_same_moment_lose_nothing(database, tmp_path):
    surveys = Surveys(database)
    open_round(surveys)
    start, times = tmp_path / "start", 50
    people = (("A1", ["A2", "A3", "A4"]), ("A2", ["A1", "A3", "A4", "A5"]))
    workers = {agency: subprocess.Popen([sys.executable, "-c", _SAVER, str(database), agency, str(start), str(times),
                                         *partners], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for agency, partners in people}
    while not all(Path(f"{start}.{agency}").exists() for agency in workers):  # both ready to save
        assert all(w.poll() is None for w in workers.values()), "a saving process ended before saving"
        time.sleep(0.01)
    start.touch()  # now both save at the same moment
    results = {}
    for agency, worker in workers.items():
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        results[agency] = int(out.strip())
    assert {w.pid for w in workers.values()}.isdisjoint({os.getpid()})
    assert results == {"A1": times, "A2": times}, "every save read back as it was written"
    last = times - 1
    assert surveys.answers("r1", "A1") == [Answer(p, last % 5 + 1, (last + n) % 5 + 1, "yes", trust_open=n % 4 + 1)
                                           for n, p in enumerate(["A2", "A3", "A4"])][: last % 3 + 1]
    assert surveys.answers("r1", "A2") == [Answer(p, last % 5 + 1, (last + n) % 5 + 1, "yes", trust_open=n % 4 + 1)
                                           for n, p in enumerate(["A1", "A3", "A4", "A5"])][: last % 4 + 1]


def test_answers_outlive_an_import_and_a_demo_that_replace_the_database(database, small_files):
    surveys = Surveys(database)
    open_round(surveys)
    surveys.save("r1", "A1", [Answer("A2", 3, 4, "yes", 4, 4, 3)])
    before = answers_path(database).read_bytes()
    env = {**os.environ, "ATLAS_HMAC_KEY": "k" * 40}
    run = subprocess.run([sys.executable, "-m", "atlas", "import", str(small_files), "--db", str(database)],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert answers_path(database).read_bytes() == before
    assert surveys.answers("r1", "A1") == [Answer("A2", 3, 4, "yes", 4, 4, 3)]
    run = subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(database), "--referrals", "5000",
                          "--agencies", "84"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert Surveys(database).answers("r1", "A1") == [Answer("A2", 3, 4, "yes", 4, 4, 3)]
    assert Surveys(database).round("r1").members == tuple(MEMBERS)


def test_scores_read_by_many_threads_while_answers_are_saved(database):
    """The server shares one Atlas between sessions: survey queries from several threads, each attaching the
    answers for its query, while another thread saves, all succeed and each sees a whole state."""
    import threading

    from atlas.db import Atlas
    from atlas.survey.store import version

    surveys = Surveys(database)
    open_round(surveys)
    assert version(database) is not None
    errors, seen = [], []
    with Atlas(database) as db:
        def read():
            try:
                for _ in range(15):
                    summary = db.query("survey_summary", round_id="r1").iloc[0]
                    seen.append(int(summary["ties_either"]))
                    db.query("network_summary")  # an ordinary query alongside, on the same connection
            except Exception as error:
                errors.append(error)

        def write():
            try:
                for i in range(15):
                    surveys.save("r1", "A1", [Answer(p, 1, 1, "no") for p in ["A2", "A3", "A4"][: i % 3 + 1]])
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=read) for _ in range(3)] + [threading.Thread(target=write)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors
    assert len(seen) == 45 and set(seen) <= {0, 1, 2, 3}
