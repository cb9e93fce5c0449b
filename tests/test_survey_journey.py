"""A survey round from end to end, as a director and two members meet it, served for real and driven in
Chromium on the demo (`atlas demo`, its two closed rounds beside it): the director opens a round on the Survey
page and downloads the links CSV; two members open their links on a 390 px phone, each in a browser of its
own; one names two partners, closes the tab half-way and finds the answers on reopening, the other names
nobody; both send. The page's progress shows them, the director closes the round, and the results, the Network
map's "Informal (survey)" layer (named after the round) and the board's map read it: the board's ties drawn
without any rating."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest
from browser import map_texts, served, wait_drawn

from atlas.survey import Answer, Surveys
from atlas.survey.store import answers_path

PHONE = {"width": 390, "height": 844}
ROUND, NAME = "h2", "Partnerships, second half of 2025"
START, END = dt.date(2025, 7, 1), dt.date(2025, 12, 31)


@pytest.fixture
def site(demo_db, tmp_path) -> Path:
    path = tmp_path / "atlas.duckdb"
    shutil.copy(demo_db, path)
    shutil.copy(answers_path(demo_db), answers_path(path))
    return path


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def set_date(page, label: str, day: dt.date) -> None:
    """A date typed into Streamlit's date field (year, month, day), as a keyboard user does."""
    for part, text in (("year", f"{day:%Y}"), ("month", f"{day:%m}"), ("day", f"{day:%d}")):
        page.get_by_role("spinbutton", name=f"{part}, {label}", exact=True).click()
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    wait_drawn(page)


def open_round(page, url: str) -> list[dict]:
    """The round opened through the page; returns the links CSV's rows."""
    page.goto(f"{url}/survey")
    wait_drawn(page)
    page.get_by_text("Open a new round").click()
    wait_drawn(page)
    page.get_by_role("textbox", name="Round id").fill(ROUND)
    page.get_by_role("textbox", name="Name", exact=True).fill(NAME)
    page.keyboard.press("Tab")
    wait_drawn(page)
    set_date(page, "Period from", START)
    set_date(page, "Period to", END)
    page.get_by_role("button", name="Open the round").click()
    page.get_by_text(re.compile(rf"Round {ROUND} is open to [\d,]+ members")).wait_for(timeout=30_000)
    wait_drawn(page)
    assert not page.get_by_role("textbox", name="Round id").count(), "the new-round form folds once used"
    with page.expect_download() as download:
        page.get_by_role("button", name="Links for a mail merge (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "agency_id,name,link"
    return list(csv.DictReader(io.StringIO(text)))


def pick(page, name: str) -> None:
    box = page.get_by_role("combobox", name=re.compile("^The organizations you worked with"))
    box.click()
    box.fill(name)
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("heading", name=name, exact=True).wait_for(timeout=30_000)
    wait_drawn(page)


def answer(page, position: int, question: str, option: str) -> None:
    part = page.locator(f".st-key-survey-partner-{position}")
    part.get_by_role("radiogroup", name=re.compile("^" + question)).get_by_text(option, exact=True).click()
    wait_drawn(page)


def checked(page, position: int, question: str) -> str | None:
    group = page.locator(f".st-key-survey-partner-{position}").get_by_role("radiogroup", name=re.compile("^" + question))
    selected = group.locator('[data-testid="stRadioOption"][data-selected="true"]')
    return selected.inner_text().strip() if selected.count() else None


def send(page) -> str:
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Thank you.").wait_for(timeout=30_000)
    return main_text(page)


def answer_two_partners(browser, link: str, first: str, second: str) -> str:
    """A member names two partners on a phone, closes the tab half-way, reopens the link and finishes."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(link)
    wait_drawn(page)
    pick(page, first)
    pick(page, second)
    answer(page, 0, "How often", "About once a month")
    answer(page, 0, "How closely", "3. Coordination")
    answer(page, 0, "Do you have a formal agreement", "Yes")
    answer(page, 0, "Can you rely", "A great deal")
    page.close()  # the tab closed half-way
    page = context.new_page()
    page.goto(link)
    wait_drawn(page)
    assert checked(page, 0, "How closely") == "3. Coordination" and checked(page, 0, "Can you rely") == "A great deal"
    assert "Still to answer for 1 of them" in main_text(page)
    answer(page, 1, "How often", "About once a week")
    answer(page, 1, "How closely", "2. Cooperation")
    answer(page, 1, "Do you have a formal agreement", "No")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing wider than the phone"
    thanks = send(page)
    context.close()
    return thanks


def answer_nobody(browser, link: str) -> str:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(link)
    wait_drawn(page)
    page.get_by_text("We worked with none of these organizations").click()
    wait_drawn(page)
    thanks = send(page)
    context.close()
    return thanks


def survey_ties_drawn(page) -> list[str]:
    drawn = map_texts(page)
    return [str(e["title"]) for m in drawn for e in m["edges"] if str(e["title"] or "").startswith("Informal (survey")]


def test_a_round_from_opening_to_the_board(site, browser, tmp_path):
    surveys = Surveys(site)
    with served(site, tmp_path / "director.log", env={"ATLAS_LOCAL_ROLE": "director"}) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        links = open_round(page, url)
        opened = surveys.round(ROUND)
        assert (opened.period_start, opened.period_end, opened.status) == (START, END, "open")
        assert [r["agency_id"] for r in links] != [] and {r["agency_id"] for r in links} == set(opened.members)
        by_id = {r["agency_id"]: r for r in links}
        one, other = links[0], links[1]
        first, second = sorted([links[2]["name"], links[3]["name"]])
        ids = {by_id[a]["name"]: a for a in by_id}

        assert "your answers about 2 partners" in answer_two_partners(browser, one["link"], first, second)
        assert "worked with none of the listed organizations" in answer_nobody(browser, other["link"])
        assert {a.partner_agency_id: a for a in surveys.answers(ROUND, one["agency_id"])} == {  # committed first
            ids[first]: Answer(ids[first], frequency=3, level=3, agreement="yes", trust_reliable=4),
            ids[second]: Answer(ids[second], frequency=4, level=2, agreement="no")}
        assert surveys.named_nobody(ROUND, other["agency_id"])

        page.reload()
        wait_drawn(page)
        text = main_text(page)
        assert f"2 of {len(links):,}" in text and "Answered (2)" in text and f"Not answered yet ({len(links) - 2:,})" in text
        page.get_by_text("No more answers are to be taken").click()
        wait_drawn(page)
        page.get_by_role("button", name="Close the round").click()
        page.get_by_text(f"Round {ROUND} is closed").wait_for(timeout=30_000)
        wait_drawn(page)
        text = main_text(page)
        assert surveys.round(ROUND).status == "closed"
        assert f"Did not answer ({len(links) - 2:,})" in text and "The round is closed: its links open nothing." in text
        assert "Responded\n\n2" in text and "Ties (either side)\n\n2" in text and "2 ties, named by either side" in text

        page.goto(f"{url}/network")  # the director's default period (the last 12 months of data) overlaps the round's
        wait_drawn(page)
        assert f"Informal (survey: {NAME})" in main_text(page)
        tips = survey_ties_drawn(page)
        assert len(tips) == 2 and all(t.startswith(f"Informal (survey, {NAME}): ") and "level" in t for t in tips)

        page.set_viewport_size(PHONE)  # the round picker on a phone says first whether the round is open
        page.goto(f"{url}/survey")
        wait_drawn(page)
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Round")
        assert picker.locator("input").input_value().startswith(f"{NAME} (closed) — ")
        page.close()

    with served(site, tmp_path / "board.log", env={"ATLAS_LOCAL_ROLE": "board"}) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/network")  # the board's latest whole quarter: the last of 2025, in the round's period
        wait_drawn(page)
        page.get_by_role("radio", name="Agency map").click()
        wait_drawn(page)
        tips = survey_ties_drawn(page)
        assert 0 < len(tips) <= 2 and set(tips) == {f"Informal (survey): named in {NAME}"}  # no tie's rating
        text = main_text(page)
        assert f"“{NAME}” (1 Jul 2025 to 31 Dec 2025), drawn without any tie's ratings" in text
        page.goto(f"{url}/survey")
        wait_drawn(page)
        assert "Links and invitations" not in main_text(page)  # the Survey page is the directors'
        page.close()
