"""Hostile text in every free-text field and every identifier of every contract table, loaded through
the real importer, then every page rendered in real headless Chromium: nothing it carries may run,
load from elsewhere or reach a spreadsheet as a formula, and it must still read as the text it is.

What is hostile here: HTML that runs script (`<img onerror>`, `</script><script>`, `javascript:`
links, attribute break-outs of the kind a tooltip carries), Markdown that links or loads an image,
SQL fragments, and the spreadsheet formula prefixes `= + - @` (tab and CR too, which the importer
strips as surrounding whitespace). Enumerations are the contract's fixed words: the validator must
refuse hostile text there, which is tested before anything is served.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from browser import DRAWN_MAP, open_expander, open_expanders, served, wait_drawn
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files
from playwright.sync_api import expect

from atlas import contract
from atlas.ingest import importer

# An address no test machine reaches (TEST-NET-3): a request to it is a leak, caught by the page's route.
ELSEWHERE = "http://203.0.113.9"

# Each names a distinct alert number, so a dialog says which payload ran.
PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    '<a href="javascript:alert(3)">x</a>',
    'tip" title="t" href="javascript:alert(4)" onmouseover="alert(4)',  # an attribute break-out, tooltip style
    f"[md link](javascript:alert(5)) ![md image]({ELSEWHERE}/pixel.png) <{ELSEWHERE}/autolink>",
    "'; drop table referrals; --",
    "<svg onload=alert(7)><b>bold</b>",
    '"><iframe srcdoc="<script>parent.alert(8)</script>">',
)
FORMULAS = ("=1+1", "+1", "-1", "@SUM(1)", "\t=2+2", "\r=3+3", "=HYPERLINK(\"http://203.0.113.9\")")


def hostile(i: int, tag: str) -> str:
    """The i-th hostile string: a formula prefix, then an HTML/Markdown/SQL payload, then a tag
    that keeps it unique and says where it came from."""
    return f"{FORMULAS[i % len(FORMULAS)]} {PAYLOADS[i % len(PAYLOADS)]} {tag}"


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _ids(frame: pd.DataFrame, prefix: str, offset: int) -> dict[str, str]:
    return {old: f"{FORMULAS[(offset + i) % len(FORMULAS)]}{old}{PAYLOADS[(offset + i) % len(PAYLOADS)]}"
            for i, old in enumerate(frame[prefix])}


def client(old: str) -> str:
    """A hostile client id, the same wherever the client appears (so referrals and exits still link)."""
    i = int(old[1:])
    return f"{FORMULAS[i % len(FORMULAS)]}{old}{PAYLOADS[i % len(PAYLOADS)]}"


def free_text_columns() -> dict[str, list[str]]:
    """Every column of the contract a community may fill with any text: `text` and `id` columns."""
    return {name: [c.name for c in table.columns if c.type in ("text", "id")]
            for name, table in contract.TABLES.items()}


def hostile_files() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The small community with every text and id column rewritten hostile (ids consistently across
    tables, regions consistently between agencies and needs); also the maps old value -> new."""
    tables = {name.removesuffix(".csv"): _read(text) for name, text in SMALL_COMMUNITY.items()}
    agency_ids = _ids(tables["agencies"], "agency_id", 0)
    program_ids = _ids(tables["programs"], "program_id", 3)
    referral_ids = _ids(tables["referrals"], "referral_id", 1)
    regions = {old: hostile(i + 4, f"region {old}") for i, old in enumerate(sorted(set(tables["agencies"]["region"])))}
    funders = {old: hostile(i + 5, f"funder {old}") for i, old in
               enumerate(sorted(set(tables["programs"]["funder"]) - {""}))}
    maps = {"agency_id": agency_ids, "program_id": program_ids, "referral_id": referral_ids,
            "region": regions, "funder": funders}

    def by_row(frame: pd.DataFrame, column: str, tag: str, offset: int = 0) -> None:
        frame[column] = [hostile(i + offset, f"{tag} {n}") if v != "" else v
                         for n, (i, v) in enumerate(enumerate(frame[column]), 1)]

    a = tables["agencies"]
    by_row(a, "name", "agency")
    a["region"] = a["region"].map(regions)
    a["agency_id"] = a["agency_id"].map(agency_ids)
    p = tables["programs"]
    by_row(p, "name", "program", 4)
    p["funder"] = p["funder"].map(lambda f: funders.get(f, f))
    p["program_id"] = p["program_id"].map(program_ids)
    p["agency_id"] = p["agency_id"].map(agency_ids)
    t = tables["partnerships"]
    by_row(t, "instrument", "instrument", 1)
    for c in ("agency_a_id", "agency_b_id"):
        t[c] = t[c].map(agency_ids)
    r = tables["referrals"]
    r["referral_id"] = r["referral_id"].map(referral_ids)
    r["client_id"] = r["client_id"].map(client)
    for c in ("from_agency_id", "to_agency_id"):
        r[c] = r[c].map(agency_ids)
    r["lead_agency_id"] = [a if i % 3 == 0 else "" for i, a in enumerate(r["from_agency_id"])]  # a recorded lead
    r["to_program_id"] = r["to_program_id"].map(lambda v: program_ids.get(v, v))
    o = tables["outcomes"]
    o["client_id"] = o["client_id"].map(client)
    o["agency_id"] = o["agency_id"].map(agency_ids)
    o["program_id"] = o["program_id"].map(lambda v: program_ids.get(v, v))
    tables["capacity"]["program_id"] = tables["capacity"]["program_id"].map(program_ids)
    n = tables["needs"]
    n["region"] = n["region"].map(regions)
    by_row(n, "source", "source", 2)

    # every text and id column of every table was rewritten: a new contract column fails here first
    for name, columns in free_text_columns().items():
        for column in columns:
            filled = tables[name][column][tables[name][column] != ""]
            original = _read(SMALL_COMMUNITY[f"{name}.csv"])
            before = original[column] if column in original else pd.Series([], dtype=str)  # a column added here
            assert len(filled) and not filled.isin(before).any(), (name, column)
    return {f"{name}.csv": frame.to_csv(index=False, quoting=csv.QUOTE_ALL) for name, frame in tables.items()}, maps


def stored(value: str) -> str:
    """A value as the importer stores it (cells are stripped of surrounding whitespace)."""
    return value.strip()


@pytest.fixture(scope="module")
def hostile_community(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile_all")
    files, maps = hostile_files()
    path = root / "atlas.duckdb"
    importer.import_folder(write_files(root / "files", files), path, TEST_KEY)
    survey_rounds(path)
    return path, files, maps


def survey_rounds(path: Path) -> None:
    """Two partnership-survey rounds of the hostile community beside its database (issue 32): a closed one, which
    the map draws as its informal (survey) layer, and an open one, newer, which the Survey page shows first with
    its links, progress and results; every member names two partners, so every hostile name is on both."""
    import datetime as dt

    from atlas.db import Atlas
    from atlas.survey import Answer, Surveys

    store = Surveys(path)
    with Atlas(path) as db:
        extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[c]).date() for c in ("first_referral", "last_referral"))
    today = dt.date.today()
    for round_id, start, end in (("closed", first, last), ("open", first + dt.timedelta(days=1), last + dt.timedelta(days=1))):
        members = store.default_members(first, last)
        store.open_round(round_id, f"<b>{round_id}</b> =1+1 <img src=x onerror=alert(1)>", start, end,
                         today + dt.timedelta(days=30), opens_on=today, members=members)
        for i, member in enumerate(members):
            partners = [m for m in members if m != member][i % 2:i % 2 + 2]
            store.save(round_id, member, [Answer(p, 3, 2 + i % 3, "yes", 3, 2, 4, 2, 3, 1) for p in partners])
    store.close("closed")


def test_every_text_and_id_column_is_hostile_and_stored_as_written(hostile_community):
    path, files, _ = hostile_community
    with duckdb.connect(str(path), read_only=True) as con:
        for name, columns in free_text_columns().items():
            written = _read(files[f"{name}.csv"])
            for column in columns:
                if contract.TABLES[name].column(column).pseudonymise:
                    continue  # replaced by a keyed pseudonym: checked below
                values = {v for (v,) in con.execute(f'select distinct "{column}" from {name}').fetchall()
                          if v is not None}
                assert values == {stored(v) for v in written[column] if v}, (name, column)
        # client ids are pseudonyms: no hostile byte of them reaches the database
        clients = {v for (v,) in con.execute("select client_id from referrals union select client_id from outcomes").fetchall()}
        assert clients and all(re.fullmatch(r"[A-Za-z0-9_\-]+", c) for c in clients), sorted(clients)[:3]


@pytest.mark.parametrize("table, column", [(t.name, c.name) for t in contract.TABLES.values()
                                           for c in t.columns if c.type in ("enum", "bool")])
def test_hostile_text_in_an_enumeration_is_refused(table, column, tmp_path):
    """Enumerations (and booleans) accept only the contract's words: hostile text there is an error
    naming the file, row and column, and nothing is written."""
    files = dict(SMALL_COMMUNITY)
    frame = _read(files[f"{table}.csv"])
    frame.loc[0, column] = PAYLOADS[0] + PAYLOADS[5]
    if column == "decline_reason":  # a reason needs a decline on the same row
        frame.loc[0, "declined_at"], frame.loc[0, ["accepted_at", "started_at", "completed_at"]] = \
            frame.loc[0, "referred_at"], ""
    files[f"{table}.csv"] = frame.to_csv(index=False, quoting=csv.QUOTE_ALL)
    database = tmp_path / "atlas.duckdb"
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_folder(write_files(tmp_path / "files", files), database, TEST_KEY)
    assert [(p.file, p.row, p.column) for p in rejected.value.problems if p.severity == "error"] == \
        [(f"{table}.csv", 2, column)]
    assert not database.exists()


# ---- the served dashboard, in Chromium ---------------------------------------------------------------

PAGES = {"": "Collaboration Atlas", "bottlenecks": "Bottlenecks", "need_capacity": "Need vs capacity",
         "accountability": "Who holds the case", "survey": "Survey", "network": "Network map", "outcomes": "Outcomes",
         "data": "Data"}
NAV = {"": "Overview", **{k: v for k, v in PAGES.items() if k}}

# Namespace and DTD identifiers are names, never fetched: the only http(s) URLs a served page or an
# export may hold besides its own origin.
NAMESPACES = {
    "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.w3.org/2000/xmlns/", "http://www.w3.org/1998/Math/MathML",
    "http://graphml.graphdrawing.org/xmlns", "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
    "http://gexf.net/1.2", "http://www.gexf.net/1.2draft", "http://gexf.net/1.2/gexf.xsd",
    "http://www.gexf.net/1.2draft/gexf.xsd", "http://www.gexf.net/1.2draft/viz", "http://gexf.net/1.2/viz",
}
# A material-icon page_icon makes Streamlit's client fetch the favicon from Google's font CDN;
# dashboard.py uses an emoji (a data: URL) instead, and test_no_request_leaves_the_served_origin keeps it so.
FAVICON = "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/hub/default/24px.svg"
# Pages where a payload is known to get through, until the owner of the page fixes it (none today).
KNOWN: dict[str, str] = {}
URL = re.compile(r"https?://[^\s\"'<>()\\&]+", re.I)

# The document and every open shadow root in it (the maps are drawn in their components' shadow roots), as `roots`.
OPEN_ROOTS = r"""
  const roots = [document];
  for (let i = 0; i < roots.length; i++)
    for (const el of roots[i].querySelectorAll('*')) if (el.shadowRoot) roots.push(el.shadowRoot);
"""

# Run in the page and in every frame: elements or attributes that only a payload could have made.
INJECTED = r"""() => {
  const found = [];
  const say = (el, why) => found.push(why + ': <' + el.tagName.toLowerCase() + ' ' +
      Array.from(el.attributes, a => a.name + '="' + a.value.slice(0, 60) + '"').join(' ') + '>');
""" + OPEN_ROOTS + r"""
  const all = selector => roots.flatMap(root => [...root.querySelectorAll(selector)]);
  for (const el of all('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase(), value = a.value.trim().toLowerCase();
      if (name.startsWith('on')) say(el, 'inline handler');
      if (['href', 'src', 'xlink:href', 'action', 'formaction', 'data', 'srcdoc'].includes(name)
          && (value.startsWith('javascript:') || value.includes('alert(') || value.includes('203.0.113.9')))
        say(el, 'payload in ' + name);
    }
  }
  for (const s of all('script')) if (/^\s*(parent\.)?alert\(\d+\)\s*$/.test(s.textContent)) say(s, 'injected script');
  for (const el of all('img[src="x"], img[alt="md image"], svg[onload], iframe[srcdoc]')) say(el, 'injected element');
  for (const a of all('a')) {
    const text = a.textContent.trim();
    if (text === 'md link' || text === 'x' || text.includes('203.0.113.9')) say(a, 'injected link');
  }
  return found;
}"""

# Every text node (scripts and styles aside), hidden ones too, shadow roots' too: what the page shows as text.
TEXT = r"""() => {""" + OPEN_ROOTS + r"""
  const out = [];
  for (const root of roots) {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const p = walk.currentNode.parentElement;
      if (p && !['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(p.tagName)) out.push(walk.currentNode.nodeValue);
    }
  }
  for (const i of document.querySelectorAll('input, textarea')) out.push(i.value);
  return out.join('\n');
}"""


class Visit:
    """One browser tab on the served app, recording every dialog, script error, and request that
    leaves the served origin (those are refused, so nothing is ever fetched from elsewhere)."""

    def __init__(self, browser, url: str, height: int = 5000):
        self.url = url
        self.dialogs, self.errors, self.elsewhere = [], [], []
        self.context = browser.new_context(viewport={"width": 1500, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.context.route(lambda u: not u.startswith(url), self._refuse)

    def _refuse(self, route):
        self.elsewhere.append(route.request.url)
        route.abort()

    def settle(self, title: str) -> None:
        page = self.page
        page.locator('[data-testid="stApp"]').wait_for(timeout=60_000)
        page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
        wait_drawn(page)

    def injected(self) -> list[str]:
        return [f"{frame.url[:40]}: {f}" for frame in self.page.frames for f in frame.evaluate(INJECTED)]

    def text(self) -> str:
        return "\n".join(frame.evaluate(TEXT) for frame in self.page.frames).replace("\u2060", "")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def site(hostile_community, browser, tmp_path_factory):
    log = tmp_path_factory.mktemp("hostile_server") / "streamlit.log"
    with served(hostile_community[0], log) as url:
        yield url


def _expand_everything(visit: Visit) -> None:
    """Open every expander and click through every tab (the last tab clicked stays open)."""
    page = visit.page
    open_expanders(page)
    for tab in page.get_by_role("tab").all():
        if tab.is_visible() and not tab.evaluate(IN_SECTIONS):  # sections: opened one by one by _sections
            tab.click()
            page.wait_for_timeout(150)


# a tab of a page's sections (app.sections, keyed "<page>_section"), not a tab inside one of them
IN_SECTIONS = """t => {
  const keyed = t.closest('[class*="st-key-"][class*="_section"]');
  if (!keyed) return false;
  const own = keyed.matches('[data-testid="stTabs"]') ? keyed : keyed.querySelector('[data-testid="stTabs"]');
  return own === t.closest('[data-testid="stTabs"]');
}"""


# an element in a section's panel (app.sections, or a page's always-drawn tab keyed "<page>_section") that is
# not the open one
IN_CLOSED_SECTION = """el => {
  const panel = '[data-testid="stTabPanel"], [role="tabpanel"]';
  for (let p = el.closest(panel); p; p = p.parentElement && p.parentElement.closest(panel)) {
    const keyed = p.closest('[class*="st-key-"][class*="_section"]');
    if (!keyed) return false;
    const own = keyed.matches('[data-testid="stTabs"]') ? keyed : keyed.querySelector('[data-testid="stTabs"]');
    if (own === p.closest('[data-testid="stTabs"]')) return !p.checkVisibility();
  }
  return false;
}"""


def _sections(visit: Visit, title: str):
    """Open each of the page's sections (app.sections: tabs drawn only when opened) in turn, yielding
    once with each open; once for a page without them."""
    tabs = visit.page.locator('[class*="st-key-"][class*="_section"] [role="tab"]')
    labels = [t.inner_text().strip() for t in tabs.all() if t.evaluate(IN_SECTIONS)]
    if not labels:
        yield
        return
    for label in labels:
        tab = visit.page.get_by_role("tab", name=label, exact=True).first
        if tab.get_attribute("aria-selected") != "true":
            tab.click()
            visit.settle(title)
        yield label


def _choose(visit: Visit, label: str, option_text: str, title: str) -> None:
    """Pick the option containing `option_text` in the selectbox labelled `label`."""
    box = visit.page.get_by_role("combobox", name=label)
    box.click()
    visit.page.get_by_role("option").filter(has_text=option_text).first.click()
    visit.settle(title)


def _downloads(visit: Visit, title: str) -> dict[str, bytes]:
    """Click every download button the page shows (open tabs and expanders first) and keep each file."""
    files = {}
    page = visit.page
    buttons = page.locator('[data-testid="stDownloadButton"] button')
    for i in range(buttons.count()):
        button = buttons.nth(i)
        if button.evaluate(IN_CLOSED_SECTION):
            continue  # taken while its section is open (_sections opens each in turn)
        for tab in [None, *[t for t in page.get_by_role("tab").all() if not t.evaluate(IN_SECTIONS)]]:
            # show the tab it is in, and open its expander
            if tab is not None and not button.is_visible():
                tab.click()
            details = button.locator("xpath=ancestor::details[1]")
            if details.count() and details.first.is_visible() and not details.first.evaluate("d => d.open"):
                details.first.locator("summary").first.click()
            if button.is_visible():
                break
        assert button.is_visible(), f"download button {i} of {title} cannot be reached"
        try:  # a button is disabled while its page reruns; one that stays disabled has nothing to give
            expect(button).to_be_enabled(timeout=45_000)  # a busy machine reruns slowly
        except AssertionError:
            continue
        with page.expect_download(timeout=90_000) as download:
            button.click()
        files[download.value.suggested_filename] = Path(download.value.path()).read_bytes()
        visit.settle(title)
    return files


def _hover_map(visit: Visit) -> list[str]:
    """Hover every agency and every declared tie of the network map; the tooltips shown, as text."""
    page = visit.page
    expect(page.locator(DRAWN_MAP)).to_have_count(1, timeout=60_000)
    drawn_map = page.locator(DRAWN_MAP).first  # in its component's shadow root
    drawn_map.scroll_into_view_if_needed()
    box = drawn_map.locator(".map").bounding_box()  # the legend sits above the map
    spots = drawn_map.evaluate("""m => {
        const network = m.visNetwork, r = m.querySelector(".map").getBoundingClientRect();
        const at = p => { const d = network.canvasToDOM(p); return {x: d.x + r.left, y: d.y + r.top}; };
        const pos = network.getPositions();
        const nodes = Object.values(pos).map(at);
        const ties = network.body.data.edges.get().filter(e => e.smooth === false).map(e =>
            at({x: (pos[e.from].x + pos[e.to].x) / 2, y: (pos[e.from].y + pos[e.to].y) / 2}));
        return nodes.concat(ties);
    }""")
    tips = []
    for spot in spots:
        page.mouse.move(box["x"] + 1, box["y"] + 1)
        page.wait_for_timeout(150)
        page.mouse.move(spot["x"], spot["y"])
        tooltip = drawn_map.locator("div.vis-tooltip")
        try:
            expect(tooltip).to_be_visible(timeout=3_000)
        except AssertionError:
            continue
        tips.append(tooltip.inner_text())
    return tips


@pytest.fixture(scope="module")
def tour(site, browser):
    """Every page of the hostile community visited once with all data: tabs and expanders opened, the
    network map's agencies and ties hovered, the agency choices that draw more text made, and every
    download taken. Returns per page what was seen."""
    seen = {}
    for path, title in PAGES.items():
        visit = Visit(browser, site)
        visit.page.goto(f"{site}/{path}")
        visit.settle(title)
        tips = []
        if path == "network":
            tips = _hover_map(visit)
            open_expander(visit.page, "Focus on an agency", settle=lambda page: visit.settle(title))
            _choose(visit, "Focus on an agency", "agency 5", title)
            visit.page.get_by_role("heading", name="Partners of").wait_for(timeout=30_000)
            visit.page.get_by_role("tab", name="If an agency closed").click()  # a section, drawn when opened
            visit.settle(title)
            _choose(visit, "Choose an agency to see what its closure would cut", "agency 1", title)
        text, injected, files = [], [], {}
        for _ in _sections(visit, title):  # a page's sections are drawn only when opened: open each in turn
            _expand_everything(visit)
            text.append(visit.text())
            injected += visit.injected()
            files.update(_downloads(visit, title))
        text = "\n".join(text)
        seen[path] = dict(text=text, injected=injected + visit.injected(), files=files, tips=tips,
                          dialogs=list(visit.dialogs), errors=list(visit.errors), elsewhere=list(visit.elsewhere),
                          exceptions=visit.page.locator('[data-testid="stException"]').count(),
                          html=visit.page.content())
        visit.close()
    return seen


def hostile_texts(files: dict[str, str]) -> set[str]:
    """Every hostile value of every text and id column, as stored (client ids aside: never shown)."""
    return {stored(v) for name, columns in free_text_columns().items() for column in columns
            if not contract.TABLES[name].column(column).pseudonymise
            for v in _read(files[f"{name}.csv"])[column] if v}


def _formula_cells(data: bytes) -> list[str]:
    """Cells a spreadsheet would run: text beginning = + @ tab CR, or - when it is not a plain number."""
    bad = []
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        for cell in row:
            if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not re.fullmatch(r"-\d+(\.\d+)?(e-?\d+)?", cell)):
                bad.append(cell)
    return bad


def _urls(text: str, origin: str = "", allowed: frozenset = frozenset()) -> list[str]:
    return sorted({u for u in URL.findall(text) if u.rstrip("/.,;") not in NAMESPACES | allowed | {FAVICON}
                   and not (origin and u.startswith(origin))})


def _library_urls() -> frozenset:
    """URLs written in the vis-network library the map inlines (licence notes, error hints): text in a
    script, never fetched (opening the map is checked to make no request)."""
    import pyvis

    lib = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    return frozenset(u.rstrip("/.,;") for f in ("vis-network.min.js", "vis-network.css")
                     for u in URL.findall((lib / f).read_text(encoding="utf-8")))


def _pages():
    return [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN[p])) if p in KNOWN else p
            for p in PAGES]


@pytest.mark.parametrize("path", _pages())
def test_nothing_hostile_runs_on_any_page(tour, path):
    seen = tour[path]
    assert not seen["dialogs"], (path, seen["dialogs"])
    assert not seen["errors"], (path, seen["errors"])
    assert not seen["injected"], (path, seen["injected"])
    assert not seen["exceptions"], path


def test_hostile_text_reads_as_the_text_it_is(tour, hostile_community):
    """Names, regions, funders, instruments and ids show verbatim: in Markdown, in plotly charts and in
    the map's tooltips, not turned into markup, links or entities."""
    texts = hostile_texts(hostile_community[1])
    shown = {path: {t for t in texts if t in seen["text"]} for path, seen in tour.items()}
    for path in ("bottlenecks", "need_capacity", "network", "survey"):  # Outcomes hides these small programs
        assert shown[path], f"no hostile value shows as written on {path}"
    for path, seen in tour.items():
        for entity in ("&quot;", "&lt;", "&gt;", "&amp;", "&#"):
            assert entity not in seen["text"], (path, entity, seen["text"][seen["text"].index(entity) - 80:][:160])
    # every drawn agency's tooltip and the declared ties' tooltips carry the names and instruments as text
    _, files, _ = hostile_community
    agencies = _read(files["agencies.csv"])
    drawn = {stored(n) for n, v in zip(agencies["name"], agencies["is_victim_service"]) if v != "true"}
    tips = "\n".join(tour["network"]["tips"])
    assert drawn == {n for n in drawn if n in tips}, drawn - {n for n in drawn if n in tips}
    instruments = {stored(i) for i in _read(files["partnerships.csv"])["instrument"]}
    assert any(i in tips for i in instruments), tips


def test_a_hostile_region_chosen_in_the_sidebar_runs_nothing_on_any_page(site, browser, hostile_community):
    """The region filter's options and every page's filter description carry the region's own text:
    chosen in the sidebar and carried from page to page by the session, it stays text everywhere."""
    region = stored(hostile_community[2]["region"]["North"])
    visit = Visit(browser, site)
    try:
        visit.page.goto(site)
        visit.settle(PAGES[""])
        _choose(visit, "Region", "region North", PAGES[""])
        for path, title in PAGES.items():
            if path:
                visit.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=NAV[path]).click()
                visit.settle(title)
            main = visit.page.locator('[data-testid="stMain"]')
            if path not in ("data", "survey"):  # the Data and Survey pages are about files and rounds, not a filtered view
                expect(main).to_contain_text("region North", timeout=30_000)
                shown = main.inner_text().replace("\u2060", "")  # escape.markdown's word joiners
                assert region in shown, (path, repr(shown[:400]))
            assert not visit.injected(), (path, visit.injected())
            assert not visit.page.locator('[data-testid="stException"]').count(), path
        assert not visit.dialogs and not visit.errors, (visit.dialogs, visit.errors)
        assert not visit.elsewhere, visit.elsewhere
    finally:
        visit.close()


def test_every_download_is_taken_and_csv_formula_cells_are_neutralised(tour):
    files = {name: data for seen in tour.values() for name, data in seen["files"].items()}
    expected = {"stalled_referrals.csv", "network_map.html", "network.gexf", "network.graphml", "network_scores.csv",
                "agencies.csv", "referrals.csv"}
    assert expected <= set(files), sorted(files)
    assert any(n.startswith("outcomes_") and n.endswith(ext) for n in files for ext in (".html", ".pdf", ".csv"))
    for name, data in files.items():
        if name.endswith(".csv"):
            assert not _formula_cells(data), (name, _formula_cells(data))
    # the hostile names did reach the exports that list agencies, neutralised
    assert "'=1+1 <img src=x onerror=alert(1)> agency 1" in files["network_scores.csv"].decode("utf-8-sig")
    assert "'-1 <a href=" in files["network_scores.csv"].decode("utf-8-sig")
    assert "'@SUM(1)" in files["stalled_referrals.csv"].decode("utf-8-sig")


def test_exported_html_and_graphs_hold_no_external_url_and_no_payload(tour, browser):
    files = {name: data for seen in tour.values() for name, data in seen["files"].items()}
    for name, data in files.items():
        if name.endswith((".html", ".gexf", ".graphml")):
            # the hostile values' own URLs are data shown as text: the browser check below proves no
            # attribute or request ever uses them
            text = data.decode("utf-8").replace(ELSEWHERE, "")
            assert not _urls(text, allowed=_library_urls()), (name, _urls(text, allowed=_library_urls()))
            for payload in ("<img src=x", "<script>alert", '<a href="javascript', "<svg onload", "<iframe"):
                assert payload not in text, (name, payload)
    # opened in a browser, the map and the funder pack run nothing of the data and fetch nothing
    for name, data in files.items():
        if name.endswith(".html"):
            page = browser.new_page()
            dialogs, requests = [], []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.set_content(data.decode("utf-8"))
            page.wait_for_timeout(500)
            injected = [f for frame in page.frames for f in frame.evaluate(INJECTED)]
            page.close()
            assert not dialogs and not injected, (name, dialogs, injected)
            assert not [r for r in requests if not r.startswith(("data:", "about:"))], (name, requests)


# PDF actions a document could take when opened or clicked: links out, scripts, launching or sending.
PDF_ACTIONS = re.compile(rb"/(URI|JavaScript|JS|Launch|SubmitForm|ImportData|GoToR|GoToE|OpenAction|AA|Annots|EmbeddedFile)\b")


def test_the_funder_pack_pdf_links_nowhere_and_runs_nothing(tour):
    """The pack's PDF is the pack's HTML printed by Chromium, which would turn any link that got into the
    HTML into a clickable link: the PDF's objects hold no link, script or other action."""
    files = {name: data for seen in tour.values() for name, data in seen["files"].items()}
    pdfs = [data for name, data in files.items() if name.startswith("outcomes_") and name.endswith(".pdf")]
    assert pdfs, sorted(files)
    for data in pdfs:
        assert data.startswith(b"%PDF-")
        assert b"/ObjStm" not in data  # no objects hidden in compressed streams: the check below sees them all
        objects = re.sub(rb"stream\r?\n.*?endstream", b"", data, flags=re.S)  # page contents, fonts, images
        assert not PDF_ACTIONS.findall(objects), PDF_ACTIONS.findall(objects)[:10]
        assert ELSEWHERE.encode() not in data


def test_served_pages_hold_no_external_url(tour, site):
    for path, seen in tour.items():
        # the hostile values' URLs show as text; test_nothing_hostile_runs_on_any_page proves no attribute uses them
        html = seen["html"].replace(ELSEWHERE, "")
        assert not _urls(html, site, _library_urls()), (path, _urls(html, site, _library_urls()))
        raw = urllib.request.urlopen(f"{site}/{path}", timeout=30).read().decode("utf-8")
        raw = re.sub(r"<!--.*?-->", "", raw, flags=re.S)  # Streamlit's licence comment
        assert not _urls(raw, site), (path, _urls(raw, site))


@pytest.mark.parametrize("path", _pages())
def test_no_hostile_url_is_ever_fetched(tour, path):
    seen = tour[path]
    assert not [u for u in seen["elsewhere"] if "203.0.113.9" in u], (path, seen["elsewhere"])


def test_no_request_leaves_the_served_origin(tour):
    for path, seen in tour.items():
        assert not [u for u in seen["elsewhere"] if "203.0.113.9" not in u], (path, seen["elsewhere"])
        assert FAVICON not in seen["html"], path
