"""The respondent's form of a partnership survey (issue 32) at a member's own link, on a real demo database
with rounds opened through `Surveys.open_round`: AppTest for what the form saves and when it thanks, the
served dashboard in Chromium for what a visitor can see and do (the form alone, in the local director session
and with sign-in configured; answers that survive a reload; the keyboard alone; a 390 px phone; axe; hostile
agency names in the partner list)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path

import axe
import pytest
from browser import ROOT, free_port, served, serving, wait_drawn
from conftest import HOSTILE_NAME, SMALL_COMMUNITY, TEST_KEY, table, write_files
from streamlit.testing.v1 import AppTest

from atlas.app import survey_form
from atlas.escape import WORD_JOINER
from atlas.ingest import importer
from atlas.survey import Answer, Surveys

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
TODAY = dt.date.today()
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
ROUNDS = {  # id: (name, opens_on, closes_on, closed)
    "form-open": ("Partnerships 2025", TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=30), False),
    "form-closed": ("Closed round 2025", TODAY - dt.timedelta(days=5), TODAY + dt.timedelta(days=30), True),
    "form-expired": ("Expired round 2025", TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=1), False),
    "form-later": ("Later round 2025", TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=30), False),
    "form-closing": ("Closing round 2025", TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=30), False),
}
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NEUTRAL_TOKENS = ("wrong", "closed", "expired", "not yet open")


class Round:
    """The rounds of a copy of the demo database, and the members the tests answer for."""

    def __init__(self, database: Path):
        self.database = database
        self.surveys = Surveys(database)
        agencies = table(database, "select agency_id, name, is_victim_service from agencies order by agency_id")
        self.names = {a: n for a, n, _ in agencies}
        ordinary = [a for a, _, victim in agencies if not victim][:9]
        self.victim = next(a for a, _, victim in agencies if victim)
        self.members = [*ordinary, self.victim]
        for round_id, (name, opens, closes, closed) in ROUNDS.items():
            self.surveys.open_round(round_id, name, *PERIOD, closes_on=closes, opens_on=opens, members=self.members)
            if closed:
                self.surveys.close(round_id)

    def token(self, member: int, round_id: str = "form-open") -> str:
        return self.surveys.token(round_id, self.members[member])

    def answers(self, member: int, round_id: str = "form-open") -> dict[str, Answer]:
        return {a.partner_agency_id: a for a in self.surveys.answers(round_id, self.members[member])}

    def neutral_tokens(self) -> dict[str, str]:
        """A token of each kind of link that opens nothing."""
        return {"wrong": secrets.token_urlsafe(32), "closed": self.token(0, "form-closed"),
                "expired": self.token(0, "form-expired"), "not yet open": self.token(0, "form-later")}


@pytest.fixture(scope="module")
def rounds(demo_db, tmp_path_factory) -> Round:
    """A copy of the demo database (so its answers file is this module's own) with four rounds of ten members."""
    path = tmp_path_factory.mktemp("survey_form") / "atlas.duckdb"
    shutil.copy(demo_db, path)
    return Round(path)


def run_form(database: Path, token: str | None, monkeypatch) -> AppTest:
    monkeypatch.setenv("ATLAS_DB", str(database))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    if token is not None:
        at.query_params[survey_form.TOKEN] = token
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    """Every text the run drew, in the main area and the sidebar."""
    found = []
    for element in (*at.main, *at.sidebar):
        for attribute in ("value", "label", "body"):
            value = getattr(element, attribute, None)
            if isinstance(value, str):
                found.append(value)
    return found


# --- AppTest: what the form says and saves ------------------------------------------------------------------------


def test_every_link_that_opens_nothing_gets_the_same_neutral_page_naming_nothing(rounds, monkeypatch):
    pages = {kind: texts(run_form(rounds.database, token, monkeypatch))
             for kind, token in {**rounds.neutral_tokens(), "empty": "", "hostile": "<script>alert(1)</script>' or 1=1"}.items()}
    first = pages["wrong"]
    assert any(survey_form.NEUTRAL in t for t in first), first
    assert all(page == first for page in pages.values()), pages
    shown = " ".join(first)
    for name, *_ in ROUNDS.values():
        assert name not in shown
    assert not [n for n in rounds.names.values() if n in shown], "no member is named"


def test_the_form_lists_the_other_members_by_name_never_itself_or_a_victim_service_agency(rounds, monkeypatch):
    at = run_form(rounds.database, rounds.token(0), monkeypatch)
    assert at.title[0].value == "Partnership survey"
    assert not at.sidebar.children, "nothing in the sidebar"
    options = at.multiselect[0].options
    expected = sorted(rounds.names[a] for a in rounds.members[1:] if a != rounds.victim)
    assert sorted(options) == expected
    intro = " ".join(m.value for m in at.markdown)
    assert rounds.names[rounds.members[0]] in intro and "1 Jan 2025 to 31 Dec 2025" in intro
    assert f"{TODAY + dt.timedelta(days=30):%b %Y}" in intro, "the closing date, in the product's format"


def test_each_answer_is_saved_at_once_and_a_partner_without_its_required_answers_stays_a_draft(rounds, monkeypatch):
    me, partners = 1, [rounds.members[2], rounds.members[3]]
    at = run_form(rounds.database, rounds.token(me), monkeypatch)
    at.multiselect[0].set_value(partners).run()
    assert set(rounds.answers(me)) == set(partners) and not any(a.complete for a in rounds.answers(me).values())
    first = sorted(partners, key=rounds.names.get)[0]
    for label, value in (("How often", 4), ("How closely", 3), ("Do you have a formal agreement", "unsure")):
        radio = next(r for r in at.radio if r.label.startswith(label))
        radio.set_value(value).run()
    radio = next(r for r in at.radio if r.label.startswith("Can you rely"))
    radio.set_value(survey_form.UNSAID).run()
    saved = rounds.answers(me)[first]
    assert (saved.frequency, saved.level, saved.agreement, saved.trust_reliable) == (4, 3, "unsure", None)
    assert saved.complete and not rounds.answers(me)[next(p for p in partners if p != first)].complete
    status = " ".join(m.value for m in at.markdown if m.value.startswith("**Saved**"))
    assert "Still to answer for 1 of them" in status and rounds.names[next(p for p in partners if p != first)] in status

    button(at, "Send my answers").click().run()
    assert not at.success, "no thank-you while a partner lacks a required answer"
    assert any("still lack a required answer" in w.value for w in at.warning)

    at.multiselect[0].set_value([first]).run()  # removing a partner removes its answers
    assert set(rounds.answers(me)) == {first}


def test_working_with_nobody_is_an_answer_of_its_own(rounds, monkeypatch):
    me = 4
    at = run_form(rounds.database, rounds.token(me), monkeypatch)
    at.checkbox[0].check().run()
    assert rounds.surveys.named_nobody("form-open", rounds.members[me]) and rounds.answers(me) == {}
    assert at.multiselect[0].disabled
    at.button[0].click().run()
    assert "none of the listed organizations" in at.success[0].value
    again = run_form(rounds.database, rounds.token(me), monkeypatch)  # the link reopened finds it
    assert again.checkbox[0].value and "**Saved**" in " ".join(m.value for m in again.markdown)


def test_the_thank_you_comes_only_after_the_answers_are_committed(rounds, monkeypatch):
    me, partner = 5, rounds.members[6]
    at = run_form(rounds.database, rounds.token(me, "form-closing"), monkeypatch)
    at.multiselect[0].set_value([partner]).run()
    for label, value in (("How often", 2), ("How closely", 5), ("Do you have a formal agreement", "yes")):
        next(r for r in at.radio if r.label.startswith(label)).set_value(value).run()
    rounds.surveys.close("form-closing")  # the round closes before the person sends
    button(at, "Send my answers").click().run()
    assert not at.success, "a save the round refused gets no thank-you"
    assert any("has closed" in w.value for w in at.warning)

    at = run_form(rounds.database, rounds.token(me), monkeypatch)  # in an open round
    at.multiselect[0].set_value([partner]).run()
    for label, value in (("How often", 2), ("How closely", 5), ("Do you have a formal agreement", "yes")):
        next(r for r in at.radio if r.label.startswith(label)).set_value(value).run()
    button(at, "Send my answers").click().run()
    assert "Thank you" in at.success[0].value
    assert rounds.answers(me)[partner] == Answer(partner, frequency=2, level=5, agreement="yes")
    button(at, "Change my answers").click().run()  # revising after sending works until the round closes
    next(r for r in at.radio if r.label.startswith("How often")).set_value(3).run()
    assert rounds.answers(me)[partner].frequency == 3


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# --- Chromium: what a visitor sees and does -----------------------------------------------------------------------

FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return '';
    const group = e.closest('[role=radiogroup]'); const block = e.closest('[class*="st-key-survey-partner-"]');
    const where = block ? [...block.classList].find(c => c.startsWith('st-key-survey-partner-')) + ' ' : '';
    return where + (group ? 'radio of ' + group.getAttribute('aria-label') : (e.getAttribute('role') || e.tagName.toLowerCase())
        + ': ' + (e.getAttribute('aria-label') || e.innerText || '').trim()); }"""


@pytest.fixture(scope="module")
def site(rounds, tmp_path_factory):
    """The dashboard served on the rounds' database, in the local (director) session."""
    with served(rounds.database, tmp_path_factory.mktemp("form_site") / "streamlit.log") as url:
        yield url


def visit(browser, url: str, viewport=VIEWPORT):
    page = browser.new_page(viewport=viewport)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    wait_drawn(page)
    return page


def only_the_form(page) -> None:
    """The page holds the survey and nothing of the dashboard: no sidebar, no navigation, no figure, no other
    page's words, and no link anywhere."""
    wait_drawn(page)
    assert page.locator("h1").first.inner_text().strip() == "Partnership survey"
    for part in ("stSidebar", "stSidebarNav", "stSidebarNavLink", "stTopNavLink", "stMetric", "stPlotlyChart",
                 "stDataFrame", "stPageLink"):
        assert page.locator(f'[data-testid="{part}"]').count() == 0, part
    text = page.locator('[data-testid="stApp"]').inner_text()
    for word in ("Collaboration Atlas", "Local single-user session", "Referrals", "Bottlenecks", "Overview",
                 "Network map", "Sign in"):
        assert word not in text, word
    assert page.locator('[data-testid="stMain"] a[href]').count() == 0


def choose_partner(page, name: str) -> None:
    box = page.get_by_role("combobox", name=re.compile("^The organizations you worked with"))
    box.click()
    box.fill(name)
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")
    section_drawn(page, name)


def section_drawn(page, name: str) -> None:
    """Wait for the partner's section: the save and the redraw a choice in the partner list starts."""
    page.wait_for_function("""name => [...document.querySelectorAll('[class*="st-key-survey-partner-"] h3')]
        .some(h => h.innerText.replaceAll('\u2060', '').trim() === name)""", arg=name, timeout=30_000)
    wait_drawn(page)


def answer(page, position: int, question: str, option: str) -> None:
    group = page.locator(f".st-key-survey-partner-{position}").get_by_role("radiogroup", name=re.compile("^" + question))
    group.get_by_text(option, exact=True).click()
    wait_drawn(page)


def checked(page, position: int, question: str) -> str | None:
    group = page.locator(f".st-key-survey-partner-{position}").get_by_role("radiogroup", name=re.compile("^" + question))
    selected = group.locator('[data-testid="stRadioOption"][data-selected="true"]')
    return selected.inner_text().strip() if selected.count() else None


def saved_soon(rounds: Round, me: int, partner: str, expected: Answer, seconds: float = 15) -> None:
    """The answer is in the answers file within moments of the last click (its save runs as the page redraws)."""
    deadline = time.monotonic() + seconds
    while rounds.answers(me).get(partner) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rounds.answers(me).get(partner) == expected


def test_the_form_and_the_neutral_page_show_only_themselves_in_the_local_director_session(rounds, site, browser):
    page = visit(browser, f"{site}/{survey_form.PAGE}?t={rounds.token(0)}")
    only_the_form(page)
    choose_partner(page, rounds.names[rounds.members[1]])  # a partner's section: still nothing else
    only_the_form(page)
    neutral = {}
    for kind, token in rounds.neutral_tokens().items():
        page.goto(f"{site}/{survey_form.PAGE}?t={token}")
        only_the_form(page)
        neutral[kind] = page.locator('[data-testid="stMain"]').inner_text()
    page.goto(f"{site}/{survey_form.PAGE}")  # the form's address without a token
    only_the_form(page)
    neutral["no token"] = page.locator('[data-testid="stMain"]').inner_text()
    assert len(set(neutral.values())) == 1 and survey_form.NEUTRAL in neutral["wrong"], neutral
    assert not page.dialogs
    page.close()


def test_answers_saved_as_typed_survive_a_reload_and_the_thank_you_follows_the_commit(rounds, site, browser):
    me = 2
    first, second = sorted([rounds.members[3], rounds.members[4]], key=rounds.names.get)
    page = visit(browser, f"{site}/{survey_form.PAGE}?t={rounds.token(me)}", PHONE)
    choose_partner(page, rounds.names[first])
    choose_partner(page, rounds.names[second])
    answer(page, 0, "How often", "About once a month")
    answer(page, 0, "How closely", "4. Coalition")
    answer(page, 0, "Do you have a formal agreement", "No")
    answer(page, 0, "Can you rely", "A great deal")
    saved_soon(rounds, me, first, Answer(first, frequency=3, level=4, agreement="no", trust_reliable=4))
    answer(page, 1, "How often", "Every day or nearly")

    page.reload()  # the tab closed and the link opened again
    wait_drawn(page)
    assert checked(page, 0, "How often") == "About once a month" and checked(page, 0, "Can you rely") == "A great deal"
    assert checked(page, 1, "How often") == "Every day or nearly" and checked(page, 1, "How closely") is None
    status = page.get_by_text(re.compile(r"^Saved.*Still to answer for 1 of them")).inner_text()
    assert rounds.names[second] in status and "level of collaboration" in status

    answer(page, 1, "How closely", "1. Networking")
    answer(page, 1, "Do you have a formal agreement", "Not sure")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Thank you.").wait_for(timeout=30_000)
    assert rounds.answers(me) == {first: Answer(first, frequency=3, level=4, agreement="no", trust_reliable=4),
                                  second: Answer(second, frequency=5, level=1, agreement="unsure")}
    assert not page.dialogs
    page.close()


def test_a_partner_answered_with_the_keyboard_alone(rounds, site, browser):
    """From the top of the page: Tab to the partner list, type a name, Enter; Tab into the partner's questions and
    answer each with Space and the arrow keys; Tab to the send button, Enter: the thank-you, with the answers saved."""
    me, partner = 7, rounds.members[8]
    page = visit(browser, f"{site}/{survey_form.PAGE}?t={rounds.token(me)}")

    def tab_to(target: str, presses: int = 40) -> str:
        seen = []
        for _ in range(presses):
            page.keyboard.press("Tab")
            seen.append(page.evaluate(FOCUSED))
            if target in seen[-1]:
                return seen[-1]
        pytest.fail(f"Tab did not reach {target!r}: {seen}")

    tab_to("combobox: The organizations you worked with")
    page.keyboard.type(rounds.names[partner])
    page.get_by_role("option", name=rounds.names[partner], exact=True).wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    section_drawn(page, rounds.names[partner])
    keys = {"How often": ["Space", "ArrowDown", "ArrowDown"],  # about monthly (3)
            "How closely": ["Space", "ArrowDown"],  # cooperation (2)
            "Do you have a formal agreement": ["Space"],  # yes
            "Are they open to discussion": ["Space", "ArrowRight", "ArrowRight"]}  # a fair amount (3)
    for question, presses in keys.items():
        assert tab_to(f"radio of {question}").startswith("st-key-survey-partner-0 ")
        for key in presses:
            page.keyboard.press(key)
            wait_drawn(page)
        assert question in page.evaluate(FOCUSED), "the keyboard's place is kept as the answer is saved"
    saved_soon(rounds, me, partner, Answer(partner, frequency=3, level=2, agreement="yes", trust_open=3))
    assert tab_to("Send my answers", 60).startswith("button: ")
    page.keyboard.press("Enter")
    page.get_by_text("Thank you.").wait_for(timeout=30_000)
    page.close()


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["desktop", "phone"])
def test_the_form_passes_axe_and_fits_a_phone(rounds, site, browser, viewport):
    me = 6 if viewport is VIEWPORT else 8
    page = visit(browser, f"{site}/{survey_form.PAGE}?t={rounds.token(me)}", viewport)
    choose_partner(page, rounds.names[rounds.members[0]])
    answer(page, 0, "How often", "About once a week")
    states = {"form": page}
    neutral = visit(browser, f"{site}/{survey_form.PAGE}?t=nothing-at-all-0123456789", viewport)
    states["neutral"] = neutral
    found = {state: axe.blocking(axe.run(p)) for state, p in states.items()}
    assert not any(found.values()), "\n".join(f"{s}:\n{axe.describe(v)}" for s, v in found.items() if v)
    for p in states.values():  # nothing wider than the screen: no sideways scrolling on a phone
        wide = p.evaluate("""w => [...document.querySelectorAll('[data-testid="stMain"] *')]
            .filter(e => e.getBoundingClientRect().right > w + 1).map(e => e.tagName + '.' + e.className).slice(0, 5)""",
                          viewport["width"])
        assert not wide, wide
        p.close()


def test_a_first_visit_by_link_to_a_server_started_with_streamlit_run_opens_the_form_alone(rounds, browser, tmp_path):
    """`streamlit run dashboard.py` serves pages/ as Streamlit's legacy list of page files until the entrypoint
    first declares a navigation: a server's first visit by a survey link still gets the form alone."""
    port = free_port()
    argv = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAS_", "STREAMLIT_"))}
    env["ATLAS_DB"] = str(rounds.database)
    with serving(argv, ROOT, env, tmp_path / "streamlit.log", port) as url:
        page = visit(browser, f"{url}/{survey_form.PAGE}?t={rounds.token(0)}")
        only_the_form(page)
        assert page.get_by_role("combobox", name=re.compile("^The organizations you worked with")).count() == 1
        page.close()


@pytest.fixture(scope="module")
def signed_in_site(rounds, tmp_path_factory):
    """The dashboard on the rounds' database with sign-in configured, against the local OpenID provider of
    tests/test_signin.py."""
    signin = pytest.importorskip("test_signin")
    root = tmp_path_factory.mktemp("form_signin")
    port = free_port()
    with signin.provider() as issuer:
        secrets_file = root / "secrets.toml"
        secrets_file.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "collaboration-atlas"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
{signin.ROLES}
""")
        with served(rounds.database, root / "streamlit.log", env={"ATLAS_SECRETS": str(secrets_file)},
                    port=port) as url:
            yield url, signin.loopback_only


def test_with_sign_in_configured_the_link_opens_its_form_alone_and_nothing_else(rounds, signed_in_site, browser):
    url, loopback_only = signed_in_site
    me, partner = 3, rounds.members[0]
    context = browser.new_context(viewport=PHONE)
    context.route("**/*", loopback_only)
    page = context.new_page()
    page.goto(f"{url}/{survey_form.PAGE}?t={rounds.token(me)}")
    only_the_form(page)  # no sign-in asked, and no sign-in page either
    choose_partner(page, rounds.names[partner])
    answer(page, 0, "How often", "About once a quarter")
    saved_soon(rounds, me, partner, Answer(partner, frequency=2))
    page.goto(f"{url}/{survey_form.PAGE}?t=not-a-token-of-any-round-0123")
    only_the_form(page)
    assert survey_form.NEUTRAL in page.locator('[data-testid="stMain"]').inner_text()
    for path in ("/overview", "/network", "/data", ""):  # the anonymous visitor reaches nothing else
        page.goto(url + path)
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        text = page.locator('[data-testid="stApp"]').inner_text()
        assert "Sign in with your organisation's account" in text and "Partnership survey" not in text
        assert page.locator('[data-testid="stSidebarNavLink"]').count() == 0
    context.close()


# --- hostile agency names in the partner list ---------------------------------------------------------------------

ELSEWHERE = "203.0.113.9"  # TEST-NET-3: a request there is a leak
HOSTILE_NAMES = {
    "A2": HOSTILE_NAME,
    "A3": "<img src=x onerror=alert(3)> **bold** _em_ `code`",
    "A4": f"[md link](javascript:alert(4)) ![md image](http://{ELSEWHERE}/pixel.png) <http://{ELSEWHERE}/auto>",
    "A5": "<svg onload=alert(5)><b>tag</b></svg> # heading | cell | @SUM(1)",
}


@pytest.fixture(scope="module")
def hostile_round(tmp_path_factory):
    """The small community with hostile agency names (A6 a victim-service agency), imported for real, and an
    open round of all six; yields the served URL and A1's link."""
    root = tmp_path_factory.mktemp("form_hostile")
    frame = list(csv.DictReader(io.StringIO(SMALL_COMMUNITY["agencies.csv"])))
    for row in frame:
        row["name"] = HOSTILE_NAMES.get(row["agency_id"], row["name"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(frame[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(frame)
    database = root / "atlas.duckdb"
    importer.import_folder(write_files(root / "files", {**SMALL_COMMUNITY, "agencies.csv": out.getvalue()}),
                           database, TEST_KEY)
    surveys = Surveys(database)
    surveys.open_round("hostile", "Hostile round", *PERIOD, closes_on=TODAY + dt.timedelta(days=7),
                       opens_on=TODAY, members=["A1", "A2", "A3", "A4", "A5", "A6"])
    with served(database, root / "streamlit.log") as url:
        yield url, surveys.token("hostile", "A1"), surveys


def test_hostile_agency_names_in_the_partner_list_stay_inert_text(hostile_round, browser):
    url, token, surveys = hostile_round
    page = browser.new_page(viewport=VIEWPORT)
    dialogs, leaks = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route(f"http://{ELSEWHERE}/**", lambda route: (leaks.append(route.request.url), route.abort()))
    page.goto(f"{url}/{survey_form.PAGE}?t={token}")
    wait_drawn(page)
    box = page.get_by_role("combobox", name=re.compile("^The organizations you worked with"))
    box.click()
    options = page.get_by_role("option").all_inner_texts()
    assert sorted(o.replace(WORD_JOINER, "") for o in options) == sorted(HOSTILE_NAMES.values()), \
        "every other member listed by its name, as written, and the victim-service agency not at all"
    page.keyboard.press("Escape")
    for name in HOSTILE_NAMES.values():
        choose_partner(page, name)
    headings = [h.replace(WORD_JOINER, "") for h in page.locator('[class*="st-key-survey-partner-"] h3').all_inner_texts()]
    assert sorted(headings) == sorted(HOSTILE_NAMES.values()), headings
    answer(page, 0, "How often", "About once a week")
    labels = page.locator('[data-testid="stRadioGroup"]').evaluate_all("gs => gs.map(g => g.getAttribute('aria-label'))")
    assert not [label for label in labels if "\\" in label or "<" in label], "no data in a control's name"
    injected = page.evaluate("""() => [
        ...document.querySelectorAll('img[src="x"], img[src*="203.0.113.9"], svg[onload], [onerror], [onload],'
            + ' a[href^="javascript"], a[href*="203.0.113.9"], iframe'),
        ...[...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert'))
    ].map(e => e.outerHTML.slice(0, 120))""")
    assert not injected and not dialogs and not leaks, (injected, dialogs, leaks)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("b", has_text="tag").count() == 0 and main.locator("strong", has_text="bold").count() == 0
    assert {a.partner_agency_id for a in surveys.answers("hostile", "A1")} == set(HOSTILE_NAMES)
    page.close()
