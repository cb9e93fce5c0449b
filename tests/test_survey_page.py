"""The directors' Survey page (issue 32), the map's informal (survey) layer and the board's share of the survey,
run headless with Streamlit's AppTest on a real demo database whose answers file holds real rounds.

The rounds are made through the survey's own API (`atlas.survey.Surveys`) in a copy of the demo database: two
closed rounds a year apart, about three in four members answering, a victim-service member among them and one
respondent naming nobody; the demo's own rounds, where the demo writes some, are used as they are."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import each_section
from streamlit.testing.v1 import AppTest

from atlas.db import Atlas
from atlas.filters import Filters
from atlas.survey import Answer, Surveys
from atlas.survey.store import answers_path
from atlas.views import network, survey, ties

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGE = "pages/survey.py"
RESULTS = ["Ties", "Agencies", "Seen differently", "Agreements on paper and in mind", "Change since the previous round"]


def _answers(respondent: str, partners: list[str], seed: int) -> list[Answer]:
    """A respondent's answers about its partners: levels and ratings spread over their ranges, some ratings left
    unanswered, some agreements said yes."""
    out = []
    for k, partner in enumerate(partners):
        n = seed + k
        full = n % 4 != 0
        out.append(Answer(partner, frequency=1 + n % 5, level=1 + (n * 3) % 5, agreement=("yes", "no", "unsure")[n % 3],
                          trust_reliable=1 + n % 4, trust_mission=1 + (n + 1) % 4 if full else None,
                          trust_open=1 + (n + 2) % 4, value_influence=1 + (n + 3) % 4, value_involvement=1 + n % 4,
                          value_resources=1 + (n + 1) % 4))
    return out


def seed_round(store: Surveys, round_id: str, start: dt.date, end: dt.date, members: list[str], victim: str | None,
               shift: int) -> None:
    """A round of `members` (and the victim-service agency, if given), three in four answering, one naming nobody,
    then closed."""
    today = dt.date.today()
    invited = members + ([victim] if victim else [])
    store.open_round(round_id, f"Partnership survey {round_id}", start, end, today + dt.timedelta(days=30),
                     opens_on=today, members=invited)
    ordinary = [m for m in members]
    for i, respondent in enumerate(invited):
        if i % 4 == 3:
            continue  # one in four does not answer
        if i == 1:
            store.save(round_id, respondent, [], named_nobody=True)
            continue
        # k = 1 and k = -1 - 2 shift: pairs that name each other
        partners = [ordinary[(i + shift + k) % len(ordinary)] for k in (1, 2, 5, -1 - 2 * shift)]
        store.save(round_id, respondent, _answers(respondent, [p for p in partners if p != respondent], i + shift))
    store.close(round_id)


@pytest.fixture(scope="module")
def survey_db(demo_db, tmp_path_factory) -> Path:
    """A copy of the demo database with two closed rounds a year apart beside it (the demo's own, if it wrote any)."""
    path = tmp_path_factory.mktemp("survey") / "atlas.duckdb"
    shutil.copy(demo_db, path)
    if answers_path(demo_db).exists():
        shutil.copy(answers_path(demo_db), answers_path(path))
    store = Surveys(path)
    if not any(r.status == "closed" for r in store.rounds()):
        with Atlas(path) as db:
            last = pd.Timestamp(db.query("data_extent").iloc[0]["last_referral"]).date()
            agencies = db.query("network_agencies")
        victim = agencies.loc[agencies["is_victim_service"], "agency_id"].iloc[0]
        now_start, now_end = last - dt.timedelta(days=364), last
        then_start, then_end = now_start - dt.timedelta(days=365), now_start - dt.timedelta(days=1)
        seed_round(store, "then", then_start, then_end, store.default_members(then_start, then_end)[:40], None, 0)
        seed_round(store, "now", now_start, now_end, store.default_members(now_start, now_end)[:40], victim, 1)
    return path


@pytest.fixture
def run_page(survey_db, monkeypatch):
    monkeypatch.setenv("ATLAS_DB", str(survey_db))

    def run(page: str = PAGE, role: str = "director", **state) -> AppTest:
        monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
        at = AppTest.from_file(DASHBOARD, default_timeout=120)
        for key, value in state.items():
            at.session_state[key] = value
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
        return at

    return run


def latest(survey_db: Path):
    return next(r for r in Surveys(survey_db).rounds() if r.status == "closed")


def test_every_section_is_drawn_and_the_figures_are_the_named_queries(run_page, survey_db):
    chosen = latest(survey_db)
    at = run_page(survey_round=chosen.round_id)
    headers = [h.value for h in at.header]
    assert headers == ["Rounds", "Links and invitations", "Progress", "Results"]
    with Atlas(survey_db) as db:
        summary = db.query("survey_summary", round_id=chosen.round_id).iloc[0].to_dict()
        either = db.query("survey_ties", round_id=chosen.round_id, rule="either")
        both = db.query("survey_ties", round_id=chosen.round_id, rule="both")
        agencies = db.query("survey_agencies", round_id=chosen.round_id)
    shown = {m.label: m.value for m in at.metric}
    for name, value, _ in survey.summary_figures(summary):
        assert shown[name] == value, name
    assert shown["Answered"] == f"{int(summary['responded']):,} of {int(summary['invited']):,}"
    assert shown["Invited"] == f"{int(summary['invited']):,}" and int(summary["responded"]) > 0
    # the reading guidance of the response rate, as the spec words it
    level, sentence = survey.guidance(summary["response_rate"])
    assert any(sentence in box.value for box in [*at.success, *at.warning, *at.error])
    drawn = []
    for name in each_section(at, "survey_section", RESULTS):
        drawn.append(name)
        assert at.subheader[-1].value == name
        if name == "Ties":
            frames = [d.value for d in at.dataframe if "Named by (1 or 2)" in d.value.columns]
            assert len(frames) == 1 and len(frames[0]) == len(either)
            assert sorted(frames[0]["Level (1–5)"].dropna().round(1)) == sorted(either["level"].round(1))
        if name == "Agencies":
            frame = next(d.value for d in at.dataframe if "Raters" in d.value.columns)
            assert len(frame) == len(agencies) and frame["Raters"].sum() == agencies["raters"].sum()
    assert drawn == RESULTS
    at.session_state["survey_section"] = "Ties"
    at.session_state["survey_rule"] = "both"
    at.run()
    frames = [d.value for d in at.dataframe if "Named by (1 or 2)" in d.value.columns]
    assert len(frames[0]) == len(both) < len(either) and set(frames[0]["Named by (1 or 2)"]) == {2}


def test_progress_lists_who_answered_and_who_has_not(run_page, survey_db):
    chosen = latest(survey_db)
    progress = Surveys(survey_db).progress(chosen.round_id)
    at = run_page(survey_round=chosen.round_id)
    answered = next(d.value for d in at.dataframe if "Last saved" in d.value.columns)
    waiting = next(d.value for d in at.dataframe if "Victim-service" in d.value.columns)
    assert sorted(answered["Member"]) == sorted(progress.loc[progress["responded"], "name"])
    assert sorted(waiting["Member"]) == sorted(progress.loc[~progress["responded"], "name"])


def test_opening_and_closing_a_round_through_the_page(run_page, survey_db, tmp_path, monkeypatch):
    path = copied(survey_db, tmp_path)
    monkeypatch.setenv("ATLAS_DB", str(path))
    store = Surveys(path)
    today = dt.date.today()
    at = run_page(survey_new_open=True)
    at.text_input(key="survey_new_id").set_value("next")
    at.text_input(key="survey_new_name").set_value("Partnership survey, next year")
    at.date_input(key="survey_new_start").set_value(today - dt.timedelta(days=200))
    at.date_input(key="survey_new_end").set_value(today)
    at.run()
    members = next(m for m in at.multiselect if m.key.startswith("survey_new_members_"))
    default = store.default_members(today - dt.timedelta(days=200), today)
    assert sorted(members.value) == sorted(default) and default
    at.button(key="survey_open").click()
    at.run()
    assert not at.exception, at.exception
    opened = store.round("next")
    assert opened.status == "open" and sorted(opened.members) == sorted(default)
    assert at.selectbox(key="survey_round").value == "next"
    assert "is open to" in at.success[0].value
    # the new-round form folded and emptied: a second click cannot only meet "the round id is taken"
    assert not at.session_state["survey_new_open"] and not [t for t in at.text_input if t.key == "survey_new_id"]
    at.session_state["survey_new_open"] = True
    at.run()
    assert at.text_input(key="survey_new_id").value == "" and at.text_input(key="survey_new_name").value == ""
    assert [m.value for m in at.markdown if "answered yet" in m.value][0].startswith("**Not answered yet**")
    # closing needs the confirmation first
    assert at.button(key="survey_close").disabled
    at.checkbox(key="survey_close_sure").check()
    at.run()
    at.button(key="survey_close").click()
    at.run()
    assert not at.exception, at.exception
    assert store.round("next").status == "closed"
    assert "is closed" in at.success[0].value
    closed_on = dt.date.today()
    assert any(f"closed on {closed_on.day} {closed_on:%b %Y}." in c.value for c in at.caption)
    assert any(m.value.startswith("**Did not answer** (") for m in at.markdown)  # no longer "yet"


def test_a_refused_round_says_why_and_writes_nothing(run_page, survey_db):
    before = [r.round_id for r in Surveys(survey_db).rounds()]
    at = run_page(survey_new_open=True)
    at.text_input(key="survey_new_id").set_value(before[0])  # an id in use
    at.text_input(key="survey_new_name").set_value("Again")
    at.button(key="survey_open").click()
    at.run()
    assert any("already a survey round" in e.value for e in at.error)
    assert [r.round_id for r in Surveys(survey_db).rounds()] == before


def copied(survey_db: Path, tmp_path: Path) -> Path:
    """A copy of the database and its answers, for a test that changes the rounds."""
    path = tmp_path / "atlas.duckdb"
    shutil.copy(survey_db, path)
    shutil.copy(answers_path(survey_db), answers_path(path))
    return path


def test_an_open_round_offers_its_links_from_the_address_given(run_page, survey_db, tmp_path, monkeypatch):
    path = copied(survey_db, tmp_path)
    monkeypatch.setenv("ATLAS_DB", str(path))
    store = Surveys(path)
    chosen = latest(path)
    store.open_round("links", "Links", chosen.period_start, chosen.period_end, dt.date.today() + dt.timedelta(days=9),
                     members=list(chosen.members))
    at = run_page(survey_round="links")
    assert [b.proto.label for b in at.get("download_button")][:1] == ["Links for a mail merge (CSV)"]
    at.text_input(key="survey_base_url").set_value("ftp://atlas.example.org/")
    at.run()
    assert "must start with https://" in at.error[0].value
    assert "Links for a mail merge (CSV)" not in [b.proto.label for b in at.get("download_button")]
    links = store.links("links", "https://atlas.example.org/")
    assert len(links) == len(chosen.members) and links["link"].nunique() == len(links)
    assert all(link.startswith("https://atlas.example.org/respond?t=") for link in links["link"])
    # without an [smtp] table the page says how to send by e-mail
    assert any("[smtp]" in i.value for i in at.info)


def _period(chosen) -> Filters:
    return Filters(chosen.period_start, chosen.period_end)


def test_the_map_draws_the_survey_ties_with_ratings_for_directors_only(survey_db):
    chosen = latest(survey_db)
    with Atlas(survey_db) as db:
        agencies = db.query("network_agencies")
        victim = set(agencies.loc[agencies["is_victim_service"], "agency_id"])
        victim_names = set(agencies.loc[agencies["is_victim_service"], "name"])
        every = db.query("survey_ties", round_id=chosen.round_id, rule="either")
        director = network.build(db, _period(chosen), network.MapChoice(layers=("survey",), top_edges=5_000))
        board = network.build(db, _period(chosen), network.MapChoice(layers=("survey",), top_edges=5_000), min_cell=11)
    expected = every[~(every["agency_a_id"].isin(victim) | every["agency_b_id"].isin(victim))]
    assert len(expected) < len(every), "the victim-service member named partners: its ties are in the figures"
    for view in (director, board):
        assert view.survey_round["round_id"] == chosen.round_id
        drawn = [e for e in view.drawing.edges if str(e.get("title", "")).startswith("Informal")]
        assert len(drawn) == len(expected)
        assert not {e["from"] for e in drawn} & victim and not {e["to"] for e in drawn} & victim
        table = view.map_ties
        assert (table["Kind"] == "Informal (survey)").sum() == len(expected)
        assert not (set(table["Agency A"]) | set(table["Agency B"])) & victim_names
    assert any("trust" in e["title"] for e in director.drawing.edges)
    assert not any(word in e["title"] for e in board.drawing.edges for word in ("trust", "value", "level", "of 4"))
    board_survey = board.map_ties[board.map_ties["Kind"] == "Informal (survey)"]
    assert set(board_survey["Trust"]) == {"—"} and set(board_survey["Value"]) == {"—"}
    assert "Level" not in board.map_ties.columns
    assert ("Informal (survey)", "#8a5a9e", "dashed") in director.drawing.lines


def test_partnership_quality_reads_the_survey_and_the_board_gets_round_level_figures_and_published_agencies(
        survey_db):
    chosen = latest(survey_db)
    with Atlas(survey_db) as db:
        summary = db.query("survey_summary", round_id=chosen.round_id).iloc[0]
        director = ties.build(db, _period(chosen))
        board = ties.build(db, _period(chosen), min_cell=11)
        figures = survey.board(db, _period(chosen))
        published = db.query("survey_agencies_published", round_id=chosen.round_id)
        victim = set(db.query("network_agencies").query("is_victim_service")["agency_id"])
    assert director.survey["round_id"] == chosen.round_id and director.scores["round"] == chosen.name
    assert len(director.ratings) and director.ratings["Mean trust"].between(1, 4).all()
    assert board.survey["round_id"] == chosen.round_id
    assert board.ties["trust"].isna().all() and board.ties["value"].isna().all()
    assert board.strained.empty and board.idle.empty
    # the board's agencies as partners rate them: only from 3 or more raters, victim-service respondents' ratings
    # left out (survey_agencies_published), never a victim-service agency (the board read none before issue 32's
    # polish: this assertion changed on purpose)
    assert len(board.ratings) and (board.ratings["Rated ties"] >= 3).all()
    shown = published[published["trust_received"].notna()]
    assert len(board.ratings) == len(shown) and not victim & set(published["agency_id"])
    assert list(board.ratings["Mean trust"]) == pytest.approx(sorted(shown["trust_received"]))
    assert board.ratings["Mean value"].isna().sum() == (shown["value_raters"] < 3).sum()
    assert board.scores == director.scores  # means and spreads over every tie shown: round-level
    for key in survey.BOARD_FIGURES:
        assert board.survey["summary"][key] == pytest.approx(summary[key]), key
    names = [name for name, _, _ in network.quality_figures(board.scores, board.survey)]
    assert {"Response rate", "Reciprocity", "Density"} <= set(names)
    assert figures.round["round_id"] == chosen.round_id
    assert set(figures.summary) == set(survey.BOARD_FIGURES)
    assert dict((k, figures.summary[k]) for k in ("invited", "responded")) == {
        "invited": summary["invited"], "responded": summary["responded"]}


def test_the_network_page_shows_the_survey_layer(run_page, survey_db):
    state = dict(map_table=True, map_view="agencies")  # the open period (AppTest), or the board's latest whole one
    for role in ("director", "board"):
        at = run_page("pages/network.py", role=role, **state)
        captions = " ".join(c.value for c in at.caption)
        assert "informal (survey) lines" in captions
        table = next(d.value for d in at.dataframe if "Kind" in d.value.columns and "Agency A" in d.value.columns)
        assert (table["Kind"] == "Informal (survey)").any()
        assert ("Level" in table.columns) == (role == "director")


def test_the_board_pack_carries_the_round_level_figures_and_the_ties_without_ratings(survey_db):
    from atlas.packs import board

    chosen = latest(survey_db)
    with Atlas(survey_db) as db:
        extent = db.query("data_extent").iloc[0]
        first, last = (pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))
        period = board.board_period(first, last, "quarter")
        pack = board.build(db, period, min_cell=11)
        summary = db.query("survey_summary", round_id=chosen.round_id).iloc[0]
        agencies = db.query("network_agencies")
    assert pack.survey is not None and pack.survey.round["round_id"] == chosen.round_id
    text = board.html(pack)
    assert "Partnership survey: " in text and f"{int(summary['invited']):,}" in text
    assert survey.guidance(summary["response_rate"])[1] in text.replace("&#39;", "'")
    for name in agencies.loc[agencies["is_victim_service"], "name"]:
        assert name not in text
    rated = pack.quality.ratings  # the pack's "How partners rate each agency": three raters or more only
    assert len(rated) and (rated["Rated ties"] >= 3).all()
    assert "only where three or more members rated it" in text
    # the quality section speaks of the survey's ties, not of declared partnerships, when the round rates them
    assert "ties named in the survey." in text and not re.search(r"\d partnerships in force\.", text)
    assert "a tie rates both its agencies" not in text
    picture = board.agency_picture(pack.network, "map")
    lines = [t for t in picture.data if t.name == "Informal (survey)"]
    assert len(lines) == 1 and lines[0].hoverinfo == "skip" and not lines[0].text
    drawn = pack.network.layout.ties
    assert (drawn["kind"] == "survey").sum() * 3 == len(lines[0].x)  # each tie a segment: two ends and a break
    assert drawn.loc[drawn["kind"] == "survey", ["trust", "value", "level", "frequency"]].isna().all().all()


# ---- served, in Chromium ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from browser import chromium

    with chromium() as instance:
        yield instance


@pytest.mark.parametrize("role", ["director", "board"])
def test_served_the_page_is_axe_clean_and_the_map_draws_the_survey_layer(survey_db, browser, tmp_path, role):
    """The Survey page served to a director (every section opened, axe clean) and the Network map's survey
    layer as vis-network draws it: its legend line, and a tooltip per tie, with ratings for directors only; the
    board cannot open the page."""
    import axe
    from browser import map_texts, served, wait_drawn

    with served(survey_db, tmp_path / "streamlit.log", env={"ATLAS_LOCAL_ROLE": role}) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{url}/survey")
            wait_drawn(page)
            if role == "director":
                page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
                for name in RESULTS:
                    page.get_by_role("tab", name=name, exact=True).click()
                    wait_drawn(page)
                    page.get_by_role("heading", name=name, exact=True).wait_for(timeout=60_000)
                    assert not axe.blocking(axe.run(page)), (name, axe.describe(axe.blocking(axe.run(page))))
                assert not page.locator('[data-testid="stException"]').count()
            else:
                assert not page.get_by_role("heading", name="Results").count()
            page.goto(f"{url}/network")
            wait_drawn(page)
            if role == "board":  # the board's map opens on the summary by region: the agency map is one click on
                page.get_by_role("radio", name="Agency map").click()
                wait_drawn(page)
            drawn = map_texts(page)
        finally:
            page.close()
    agency_map = next(m for m in drawn if any(str(e["title"] or "").startswith("Informal (survey") for e in m["edges"]))
    assert "Informal (survey)" in agency_map["legend"]
    survey_tips = [e["title"] for e in agency_map["edges"] if str(e["title"] or "").startswith("Informal (survey")]
    assert survey_tips
    rated = [t for t in survey_tips if "trust" in t or "level" in t]
    assert (len(rated) > 0) == (role == "director"), survey_tips[:3]


# ---- e-mail, the responses file and fresh figures, through the page -----------------------------------------

def _open_round(path: Path, round_id: str, members: int) -> tuple[Surveys, list[str]]:
    store = Surveys(path)
    chosen = latest(path)
    invited = list(chosen.members[:members])
    store.open_round(round_id, f"Survey {round_id}", chosen.period_start, chosen.period_end,
                     dt.date.today() + dt.timedelta(days=9), members=invited)
    return store, invited


def test_contacts_invitations_and_reminders_through_the_page(run_page, survey_db, tmp_path, monkeypatch):
    """Addresses uploaded (a bad row named, nothing kept; then kept), invitations sent to a real SMTP server
    (aiosmtpd) with each member's own link, then reminders to those who have not answered only."""
    from smtp_server import secrets, smtp_server

    path = copied(survey_db, tmp_path)
    monkeypatch.setenv("ATLAS_DB", str(path))
    monkeypatch.delenv("ATLAS_SMTP_HOST", raising=False)
    store, invited = _open_round(path, "mail", 4)
    addresses = {a: f"member{i}@members.example.org" for i, a in enumerate(invited)}
    with smtp_server() as (port, server):
        (tmp_path / "secrets.toml").write_text(secrets(port), encoding="utf-8")
        monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "secrets.toml"))
        at = run_page(survey_round="mail", survey_contacts_open=True, survey_base_url="https://atlas.example.org")
        rows = "".join(f"{a},{e}\n" for a, e in addresses.items())
        bad = "agency_id,email\n" + rows + f"{invited[0]},not an address\n"
        at.file_uploader(key="survey_contacts_file").set_value(("contacts.csv", bad.encode(), "text/csv")).run()
        problems = next(d.value for d in at.dataframe if "Rule" in d.value.columns)
        assert list(problems["Row"]) == [6, 6] and set(problems["Column"]) == {"agency_id", "email"}
        assert store.contacts("mail") == {}
        good = "agency_id,email\n" + "".join(f"{a},{e}\n" for a, e in addresses.items())
        at.file_uploader(key="survey_contacts_file").set_value(("contacts.csv", good.encode(), "text/csv")).run()
        at.button(key="survey_contacts_keep").click().run()
        assert not at.exception, at.exception
        assert store.contacts("mail") == addresses
        at.button(key="survey_invite").click().run()
        assert not at.exception, at.exception
        assert any(s.value.startswith("4 messages sent") for s in at.success)
        assert sorted(m.rcpt_tos[0] for m in server.received) == sorted(addresses.values())
        for mail in server.received:
            agency = next(a for a, e in addresses.items() if e == mail.rcpt_tos[0])
            assert store.link("mail", agency, "https://atlas.example.org") in mail.message.get_content()
        store.save("mail", invited[0], [Answer(invited[1], 3, 3, "yes")])
        server.received.clear()
        at.button(key="survey_remind").click().run()
        assert not at.exception, at.exception
        assert sorted(m.rcpt_tos[0] for m in server.received) == sorted(addresses[a] for a in invited[1:])


def test_a_responses_file_is_imported_whole_or_not_at_all_through_the_page(run_page, survey_db, tmp_path, monkeypatch):
    path = copied(survey_db, tmp_path)
    monkeypatch.setenv("ATLAS_DB", str(path))
    store = Surveys(path)
    chosen = latest(path)
    store.export_responses(chosen.round_id, tmp_path / "before.csv")
    before = (tmp_path / "before.csv").read_text(encoding="utf-8")
    lines = before.splitlines()
    header = lines[0].split(",")
    broken = lines[1].split(",")
    broken[header.index("level")] = "9"  # out of range
    text = "\n".join([lines[0], ",".join(broken), *lines[2:], lines[2]]) + "\n"  # and the last row twice
    at = run_page(survey_round=chosen.round_id, survey_file_open=True)
    at.file_uploader(key="survey_responses_file").set_value(("survey_responses.csv", text.encode(), "text/csv")).run()
    at.button(key="survey_import").click().run()
    assert not at.exception, at.exception
    assert any("Nothing was changed" in e.value for e in at.error)
    problems = next(d.value for d in at.dataframe if "Rule" in d.value.columns)
    assert {(2, "level"), (len(lines) + 1, "partner_agency_id")} <= set(zip(problems["Row"], problems["Column"]))
    store.export_responses(chosen.round_id, tmp_path / "after.csv")
    assert (tmp_path / "after.csv").read_text(encoding="utf-8") == before
    at.file_uploader(key="survey_responses_file").set_value(("survey_responses.csv", before.encode(), "text/csv")).run()
    at.button(key="survey_import").click().run()
    assert not at.exception, at.exception
    assert any("rows imported" in s.value for s in at.success)


def test_a_saved_answer_shows_on_the_next_run_though_the_database_is_unchanged(run_page, survey_db, tmp_path,
                                                                               monkeypatch):
    """The page's survey figures are cached by the answers file's state as well as the database's: an answer saved
    (by the form, here through the API) is counted on the next run."""
    path = copied(survey_db, tmp_path)
    monkeypatch.setenv("ATLAS_DB", str(path))
    store, invited = _open_round(path, "fresh", 5)
    store.save("fresh", invited[0], [Answer(invited[1], 3, 3, "yes")])
    database = path.stat().st_mtime_ns
    at = run_page(survey_round="fresh")
    assert {m.label: m.value for m in at.metric}["Responded"] == "1"
    store.save("fresh", invited[2], [Answer(invited[3], 2, 4, "no")])
    at.run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Responded"] == "2" and shown["Answered"] == "2 of 5" and shown["Ties (either side)"] == "2"
    assert path.stat().st_mtime_ns == database


def test_the_map_offers_the_survey_layer_only_for_a_period_a_closed_round_covers(run_page, survey_db):
    with Atlas(survey_db) as db:
        first = pd.Timestamp(db.query("data_extent").iloc[0]["first_referral"]).date()
    earliest = min(r.period_start for r in Surveys(survey_db).rounds() if r.status == "closed")
    assert first + dt.timedelta(days=30) < earliest, "the demo's data starts before its first round"
    at = run_page("pages/network.py", map_view="agencies")
    [pills] = [p for p in at.get("button_group") if p.label == "Show"]
    assert pills.options[2] == f"Informal (survey: {latest(survey_db).name})"
    assert "survey" in pills.value
    # the same session moves to a month no round covers: the layer is gone, and nothing says it is empty
    at.session_state["atlas_filters"] = Filters(first, first + dt.timedelta(days=30))
    at.run()
    assert not at.exception, at.exception
    [pills] = [p for p in at.get("button_group") if p.label == "Show"]
    assert list(pills.options) == ["Formal agreements", "Informal ties", "Referral flows"]
    assert "survey" not in pills.value and "flows" in pills.value
    assert not [c for c in at.caption if "survey" in c.value.lower()]
