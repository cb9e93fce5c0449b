"""WCAG 2.1 AA, checked as an auditor would: axe-core (the pinned npm package in tests/a11y, rules tagged wcag2a,
wcag2aa, wcag21a, wcag21aa) run in Chromium on every page of the served demo, for every audience, in every state a
test can reach (expanders opened, each tab, a focus agency chosen on the map, the summary maps, the empty install,
a damaged database, a configuration error, the sign-in page), the maps with them, and on the HTML packs. Any
serious or critical violation fails. docs/accessibility.md reports what these checks cover and what remains."""

from __future__ import annotations

import json
import os
from pathlib import Path

import axe
import pytest
from browser import MAPS_DRAWN, map_texts, open_expander, served, wait_drawn
from browser import choose as browser_choose
from browser import open_expanders as browser_open_expanders

from atlas import audience

VIEWPORT = {"width": 1280, "height": 900}  # the width the dashboard is designed for (docs/accessibility.md)
ROLES = ("director", "board", "funder")
# the text of each metric's label or value that a box of its cuts short (Streamlit ends it with an ellipsis)
CUT_FIGURES = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stMetricValue"]')]
    .flatMap(m => [m, ...m.querySelectorAll('div, p, span')])
    .filter(e => getComputedStyle(e).overflow !== 'visible' && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""
PAGES = [p for p in audience.PAGES]


class Audit:
    """Every state scanned: the serious or critical violations found in it, the figures it cuts short and any
    error it shows instead of the page."""

    def __init__(self):
        self.found: dict[str, list[dict]] = {}
        self.cut: dict[str, list[str]] = {}
        self.errors: dict[str, list[str]] = {}

    def scan(self, page, state: str) -> None:
        """Scan `page` (the maps with it: each is drawn in its component's open shadow root, which axe reads),
        and read its figures: a metric whose label or value is cut short (an ellipsis) loses what it says."""
        self.found[state] = axe.blocking(axe.run(page))
        self.cut[state] = page.evaluate(CUT_FIGURES)
        self.errors[state] = page.locator('[data-testid="stException"]').all_inner_texts()  # a state that failed

    def failures(self) -> str:
        return "\n\n".join([f"{state}:\n{axe.describe(v)}" for state, v in self.found.items() if v]
                           + [f"{state}: figures cut short: {cut}" for state, cut in self.cut.items() if cut]
                           + [f"{state}: an error instead of the page: {e}" for state, e in self.errors.items() if e])

    def record(self, name: str) -> None:
        """With $ATLAS_A11Y_REPORT set, write the count of failing elements per state there (for the docs)."""
        folder = os.environ.get("ATLAS_A11Y_REPORT")
        if folder:
            counts = {state: sum(len(v["nodes"]) for v in found) for state, found in self.found.items()}
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{name}.json").write_text(json.dumps(counts, indent=1))

    def assert_clean(self, name: str) -> None:
        self.record(name)
        assert self.found, "nothing was scanned"
        assert not any(self.found.values()) and not any(self.cut.values()) and not any(self.errors.values()), \
            self.failures()


def open_page(browser, url: str, path: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{url}/{path}" if path != "overview" else url)  # the Overview is the default page, at /
    wait_drawn(page)
    return page


def settle(page) -> None:
    wait_drawn(page)
    # an element left from the run before is faded (data-stale) until the new run replaces or removes it: a
    # scan must not read it (it failed a contrast check on a busy machine)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_function(MAPS_DRAWN, timeout=30_000)  # a map says when vis-network has drawn it


def open_expanders(page) -> int:
    return browser_open_expanders(page, settle=settle)


def tabs(page):
    return page.locator("[data-testid=stTabs] [role=tab]")


def choose(page, combobox, index: int) -> str:
    return browser_choose(page, combobox, index, settle=settle)


def walk(page, audit: Audit, name: str) -> None:
    """Scan the page as it opens, with its expanders open, and on each of its tabs."""
    visit(page, name, lambda state: audit.scan(page, state))


def visit(page, name: str, look) -> None:
    """Call look(state) on the page as it opens, with its expanders open, and on each of its tabs (with that tab's
    expanders open)."""
    settle(page)
    look(name)
    if open_expanders(page):
        look(f"{name}, expanders open")
    seen = {t.inner_text().strip() for t in tabs(page).all() if t.get_attribute("aria-selected") == "true"}
    for _ in range(40):  # a page's sections are drawn when opened, with tabs of their own: look again after each
        waiting = [t for t in tabs(page).all() if t.is_visible() and t.get_attribute("aria-selected") != "true"
                   and t.inner_text().strip() not in seen]
        if not waiting:
            break
        label = waiting[0].inner_text().strip()
        seen.add(label)
        waiting[0].click()
        settle(page)
        open_expanders(page)
        look(f"{name}, tab {label!r}")


@pytest.fixture(scope="module", params=ROLES)
def role_site(request, demo_db, browser, tmp_path_factory):
    log = tmp_path_factory.mktemp(f"a11y-{request.param}") / "streamlit.log"
    with served(demo_db, log, env={"ATLAS_LOCAL_ROLE": request.param}) as url:
        yield request.param, url, browser


def test_axe_version_is_the_pinned_one(browser):
    pinned = json.loads((Path(axe.AXE).parent.parent.parent / "package.json").read_text())["dependencies"]["axe-core"]
    page = browser.new_page()
    try:
        assert axe.version(page) == pinned
    finally:
        page.close()


def test_every_page_of_every_audience(role_site):
    role, url, browser = role_site
    allowed = audience.ROLE_PAGES[audience.Role(role)]
    audit = Audit()
    for path in [p for p in PAGES if p in allowed]:
        page = open_page(browser, url, path)
        try:
            page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
            walk(page, audit, f"{role} {path}")
            if path == "network":
                network_states(page, audit, role)
        finally:
            page.close()
    assert len(audit.found) >= len(allowed)
    audit.assert_clean(f"pages-{role}")


def test_tables_keep_their_key_column_in_view_at_1280_px(role_site):
    """At 1,280 x 900, on every page of every audience, on every tab and with every expander open (the agency map of
    one region too, for the board): every data grid fits the main column, and its first column, which says what a
    row is about, stays in view when the grid is scrolled sideways (app.table pins it)."""
    role, url, browser = role_site
    allowed = audience.ROLE_PAGES[audience.Role(role)]
    problems, seen, wide = [], set(), []
    for path in [p for p in PAGES if p in allowed]:
        page = open_page(browser, url, path)

        def look(state: str, page=page) -> None:
            problems.extend(key_column_stays_in_view(page, state, seen, wide))
        try:
            page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
            visit(page, f"{role} {path}", look)
            if path == "network" and role != "director":
                region = choose(page, page.get_by_role("combobox", name="Open the agency map of one region"), 1)
                open_expanders(page)
                look(f"{role} network, agency map of {region}")
        finally:
            page.close()
    assert seen, "no table was measured"
    if role == "director":  # the widest tables do scroll sideways at this width: the check has something to check
        assert len(wide) >= 3, wide
    assert not problems, "\n".join(problems)


def network_states(page, audit: Audit, role: str) -> None:
    """The map with a focus agency chosen, and (for the board, which opens on the summary) the agency map of one
    region and the summary by sector."""
    open_expander(page, "Focus on an agency", settle=settle)  # the picker, drawn once opened
    focus = page.get_by_role("combobox", name="Focus on an agency (its partners highlighted)")
    agency = choose(page, focus, 1)
    audit.scan(page, f"{role} network, focus on {agency}")
    if role != "director":
        region = choose(page, page.get_by_role("combobox", name="Open the agency map of one region"), 1)
        audit.scan(page, f"{role} network, agency map of {region}")
        if open_expanders(page):  # the agency map's own "The map as a table", drawn with it
            audit.scan(page, f"{role} network, agency map of {region}, expanders open")
        page.get_by_role("radio", name="Summary by sector").click()
        settle(page)
        audit.scan(page, f"{role} network, summary by sector")


# Each data grid shown, in the main column: where it is, how far it scrolls sideways, and the columns its ARIA grid
# holds (Streamlit's grid draws on a canvas; the ARIA grid under it holds the columns in view, by aria-colindex).
GRIDS = """() => {
    const main = document.querySelector('[data-testid=stMainBlockContainer]');
    const style = getComputedStyle(main), box = main.getBoundingClientRect();
    const column = [box.left + parseFloat(style.paddingLeft), box.right - parseFloat(style.paddingRight)];
    return [...document.querySelectorAll('[data-testid=stMain] [data-testid=stDataFrame]')].map((grid, i) => {
        const r = grid.getBoundingClientRect(), scroller = grid.querySelector('.dvn-scroller');
        const heads = [...grid.querySelectorAll('th[role=columnheader]')];
        const visible = r.width > 0 && r.height > 0 && grid.checkVisibility() && !grid.closest('details:not([open])');
        return {i, visible, left: r.left, right: r.right, column,
                overflow: scroller ? scroller.scrollWidth - scroller.clientWidth : 0,
                rows: grid.querySelector('table[role=grid]')?.getAttribute('aria-rowcount'),
                columns: heads.map(h => [h.getAttribute('aria-colindex'), h.innerText.trim()])};
    });
}"""
SCROLL = "([i, x]) => { const s = document.querySelectorAll('[data-testid=stMain] [data-testid=stDataFrame]')[i]" \
         ".querySelector('.dvn-scroller'); s.scrollLeft = x < 0 ? s.scrollWidth : x; }"


def grid_columns(page, i: int) -> list:
    return next(g for g in page.evaluate(GRIDS) if g["i"] == i)["columns"]


def key_column_stays_in_view(page, state: str, seen: set, wide: list) -> list[str]:
    """For each data grid shown: it does not overflow the page's main column, and its first (key) column is in view
    both as it opens and when the grid is scrolled sideways to its last column: the ARIA grid still holds column 1
    under the same heading, and the grid's left edge (48 px of that column, header and rows) is the same picture."""
    problems = []
    for grid in page.evaluate(GRIDS):
        if not grid["visible"]:
            continue
        element = page.locator("[data-testid=stMain] [data-testid=stDataFrame]").nth(grid["i"])
        element.scroll_into_view_if_needed()  # a grid draws its cells (and its ARIA grid) once in view
        try:
            element.locator("th[role=columnheader]").first.wait_for(state="attached", timeout=10_000)
        except Exception:  # reported below, with what the grid holds
            pass
        grid = next(g for g in page.evaluate(GRIDS) if g["i"] == grid["i"])
        heading = dict(grid["columns"]).get("1")
        key = (heading, tuple(c for _, c in grid["columns"][:3]), grid["rows"])
        if key in seen:  # the same table, met again in another state (expanders stay open across tabs)
            continue
        seen.add(key)
        where = f"{state}: table {heading!r}"
        left, right = grid["column"]
        if grid["left"] < left - 1 or grid["right"] > right + 1:
            problems.append(f"{where} overflows the main column: {grid['left']:.0f}-{grid['right']:.0f} outside "
                            f"{left:.0f}-{right:.0f}")
        if heading is None:
            problems.append(f"{where}: its first column is not in view as it opens ({grid['columns']})")
            continue
        if grid["overflow"] <= 1:
            continue
        wide.append(where)
        box = element.bounding_box()
        strip = {"x": box["x"] + 2, "y": box["y"] + 2, "width": 48, "height": min(box["height"], 300) - 4}
        before = page.screenshot(clip=strip)
        page.evaluate(SCROLL, [grid["i"], -1])
        page.wait_for_timeout(400)
        after_columns = dict(grid_columns(page, grid["i"]))
        after = page.screenshot(clip=strip)
        page.evaluate(SCROLL, [grid["i"], 0])
        if after_columns.get("1") != heading or before != after:
            problems.append(f"{where}: scrolled to its last column, the first is out of view (columns in view: "
                            f"{after_columns})")
    return problems


# The states outside the data: (state, role, what the database file holds, extra environment, text that says the
# page is drawn). "empty": no file yet; "damaged": a file that is not a database.
STATES = [
    ("empty install, director (the Data page)", "director", "empty", {}, "Load your community's files"),
    ("empty install, board", "board", "empty", {}, "There is no data to show yet"),
    ("damaged database, director", "director", "damaged", {}, "could not be read"),
    ("damaged database, funder", "funder", "damaged", {}, "could not be read"),
    ("configuration error", "board", "demo", {"ATLAS_MIN_CELL": "many"}, "configuration needs fixing"),
    ("sign-in page", None, "demo", "signin", "Sign in with your organisation's account"),
]


@pytest.mark.parametrize("state", STATES, ids=[s[0] for s in STATES])
def test_the_empty_install_the_error_pages_and_sign_in(state, demo_db, browser, tmp_path):
    name, role, database, env, drawn = state
    path = tmp_path / "atlas.duckdb"
    if database == "demo":
        path = demo_db
    elif database == "damaged":
        path.write_bytes(b"not a database\n" * 20_000)
    if env == "signin":  # a provider configured (never reached: the page is drawn before anyone clicks)
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text('[auth]\nredirect_uri = "http://127.0.0.1:9/oauth2callback"\n'
                                f'cookie_secret = "{"c" * 64}"\nclient_id = "atlas"\nclient_secret = "{"s" * 32}"\n'
                                'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n')
        env = {"ATLAS_SECRETS": str(secrets_file)}
    audit = Audit()
    with served(path, tmp_path / "streamlit.log", env={**env, **({"ATLAS_LOCAL_ROLE": role} if role else {})}) as url:
        page = browser.new_page(viewport=VIEWPORT)
        try:
            page.goto(url)
            page.get_by_text(drawn).first.wait_for(timeout=60_000)
            walk(page, audit, name)
        finally:
            page.close()
    audit.assert_clean(f"state-{name.split(',')[0].replace(' ', '-')}-{role}")


def test_a_page_outside_the_view_and_the_not_found_dialog(role_site):
    """A board member following a director's link: Streamlit's own "Page not found" dialog over the Overview."""
    role, url, browser = role_site
    if role != "board":
        pytest.skip("one audience is enough for Streamlit's dialog")
    audit = Audit()
    page = open_page(browser, url, "bottlenecks")
    try:
        page.get_by_text("Page not found").wait_for(timeout=30_000)
        audit.scan(page, "board, a director's page by URL")
    finally:
        page.close()
    audit.assert_clean("state-not-found-board")


@pytest.fixture(scope="module")
def packs(demo_db, tmp_path_factory):
    """The funder pack and the board pack, written by the command line as a person would."""
    from atlas.cli import main

    root = tmp_path_factory.mktemp("packs")
    assert main(["report", "--db", str(demo_db), "--out", str(root / "funder")]) == 0
    assert main(["report", "--board", "--db", str(demo_db), "--out", str(root / "board")]) == 0
    return {"funder": root / "funder", "board": root / "board"}


@pytest.mark.parametrize("kind", ["funder", "board"])
def test_the_html_packs(kind, packs, browser):
    audit = Audit()
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(packs[kind].with_suffix(".html").as_uri())
        page.locator("h1").wait_for()
        audit.scan(page, f"{kind} pack (HTML)")
        page.emulate_media(media="print")  # as it is printed to the PDF
        audit.scan(page, f"{kind} pack (print)")
    finally:
        page.close()
    audit.assert_clean(f"pack-{kind}")


def test_the_scan_fails_what_it_should(browser):
    """The check can fail: a low-contrast caption and a list of divs are found, with their rules."""
    page = browser.new_page()
    try:
        page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>Title</h1>'
                         '<p style="color:#828180;background:#fff">caption at 3.9:1</p>'
                         '<ul><div>not an item</div><li>item</li></ul></main></body></html>')
        found = {v["id"] for v in axe.blocking(axe.run(page))}
    finally:
        page.close()
    assert found == {"color-contrast", "list"}


# What the keyboard is on: the accessible name of the focused element (inside a component's shadow root, such
# as a map's: the focused element in it).
FOCUSED = """() => {
    let el = document.activeElement, where = '';
    while (el && el.shadowRoot && el.shadowRoot.activeElement) { where = 'shadow:'; el = el.shadowRoot.activeElement; }
    if (!el || el === document.body) return null;
    const labelled = el.getAttribute('aria-labelledby');
    const own = /^(A|BUTTON|SUMMARY|LABEL)$/.test(el.tagName) || /^(tab|radio|checkbox|option|link|button|switch)$/
        .test(el.getAttribute('role') || '');  // a container's text is everything in it: not its name
    const name = el.getAttribute('aria-label') || (labelled && document.getElementById(labelled)?.innerText)
        || (own && el.innerText) || el.value || el.getAttribute('title') || el.tagName;
    return where + (el.getAttribute('role') || el.tagName.toLowerCase()) + ': ' + name.trim().replace(/\\s+/g, ' ');
}"""


def tab_walk(page, presses: int) -> list[str]:
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    return seen


def test_keyboard_alone_reaches_the_navigation_the_filters_every_control_and_the_map_focus(demo_db, browser, tmp_path):
    """A keyboard-only walk on the director's Network map: Tab from the top reaches every page of the navigation,
    every filter, the map's controls, the focus agency, the map (which says what it shows) and the downloads below
    it (no trap in the map); the focus agency is then chosen with the keyboard alone, and the map redraws around it."""
    with served(demo_db, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport=VIEWPORT)
        try:
            page.goto(f"{url}/network")
            settle(page)
            seen = [s for s in tab_walk(page, 160) if s]
            text = "\n".join(seen)
            for title in ("Overview", "Bottlenecks", "Need vs capacity", "Who holds the case", "Network map",
                          "Outcomes", "Data"):
                assert any(s.startswith("a: ") and s.endswith(f" {title}") for s in seen), (title, seen)
            for control in ("Period", "Region", "Service type", "Sector", "Focus on an agency", "Summary by region",
                            "Size agencies by", "Minimum referrals per flow", "Map (HTML)", "Board pack (PDF)"):
                assert control in text, (control, seen)
            focus_at = next(i for i, s in enumerate(seen) if "Focus on an agency" in s)
            map_at = next(i for i, s in enumerate(seen) if s.startswith("shadow:img: Network map: "))
            assert focus_at < map_at, "the map is reached after its controls, and says what it shows"
            assert any("Map (HTML)" in s for s in seen[map_at:]), "the walk goes on past the map"

            # choose the focus agency with the keyboard: from the top, Tab to its box, type, Enter
            page.goto(f"{url}/network")
            settle(page)
            map_before = map_texts(page)
            for _ in range(160):
                page.keyboard.press("Tab")
                if "Focus on an agency" in (page.evaluate(FOCUSED) or ""):
                    break
            else:
                pytest.fail("the focus agency box was not reached by Tab")
            page.keyboard.press("Enter")  # the focus picker opens, its list drawn once it is open, after it
            settle(page)
            box = page.get_by_role("combobox", name="Focus on an agency (its partners highlighted)")
            for _ in range(10):
                if box.evaluate("b => b === document.activeElement"):
                    break
                page.keyboard.press("Tab")
            else:
                pytest.fail("Tab does not reach the agency box in the open focus picker")
            page.keyboard.press("ArrowDown")
            page.locator("[role=option]").nth(1).wait_for(timeout=10_000)
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            settle(page)
            assert box.input_value() not in ("", "No focus")
            assert "Focus on an agency (its" in (page.evaluate(FOCUSED) or ""), "the keyboard's place is kept"
            assert page.get_by_text(f"The map is focused on {box.input_value()}").count() == 1
            for _ in range(50):  # the map redraws around the chosen agency (its partners named)
                if map_texts(page) != map_before:
                    break
                page.wait_for_timeout(200)
            else:
                pytest.fail("the map did not redraw around the chosen agency")
            assert page.locator(".atlas-map").count() == 1, "the map redrawn in place of the one before"
        finally:
            page.close()


PDF_TITLES = {"funder": "Outcomes report", "board": "Board pack"}


@pytest.mark.parametrize("kind", ["funder", "board"])
def test_the_pdf_packs_are_tagged_with_title_language_structure_and_alternatives(kind, packs):
    """A screen reader reads the PDF packs: tagged (a structure tree in reading order, headings first), a title,
    the language, tables as tables, and each chart a Figure with its alternative text."""
    import re
    import subprocess

    pdf = packs[kind].with_suffix(".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    assert re.search(rf"^Title:\s+{PDF_TITLES[kind]}", info, re.M), info
    raw = pdf.read_bytes()
    assert re.search(rb"/Lang\s*\(en\)", raw), "the document's language"
    structure = subprocess.run(["pdfinfo", "-struct-text", str(pdf)], capture_output=True, text=True).stdout
    roles = re.findall(r"^\s*(H1|H2|H3|Table|Figure|L)\b", structure, re.M)
    assert roles and roles[0] == "H1", roles[:5]
    assert "Table" in roles and "H2" in roles
    html = packs[kind].with_suffix(".html").read_text(encoding="utf-8")
    images = len(re.findall(r"<img\b", html))
    assert roles.count("Figure") >= images and len(re.findall(rb"/Alt\s*\(", raw)) >= images
    # reading order: the headings come in the order the HTML has them
    h2_pdf = [m.strip().strip('"') for m in re.findall(r"^\s*H2 \(block\)\n(?:\s*\"\"\n)?(?:\s*NonStruct\n)*\s*(\".*\")",
                                                       structure, re.M)]
    h2_html = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]
    assert h2_pdf and h2_pdf == [h.replace("&amp;", "&") for h in h2_html][:len(h2_pdf)], (h2_pdf, h2_html)


# Colour-vision deficiencies simulated with Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab(hex_colour: str, matrix=None):
    import numpy as np

    srgb = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        linear = np.clip(np.array(matrix) @ linear, 0, 1)
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    import math

    (L1, a1, b1), (L2, a2, b2) = lab1, lab2
    cbar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(cbar ** 7 / (cbar ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1 = math.degrees(math.atan2(b1, a1p)) % 360
    h2 = math.degrees(math.atan2(b2, a2p)) % 360
    dh = 0.0 if c1p * c2p == 0 else (h2 - h1 - 360 if h2 - h1 > 180 else h2 - h1 + 360 if h2 - h1 < -180 else h2 - h1)
    d_l, d_c = L2 - L1, c2p - c1p
    d_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lbar, cbarp = (L1 + L2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbar = h1 + h2
    elif abs(h1 - h2) <= 180:
        hbar = (h1 + h2) / 2
    else:
        hbar = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hbar - 30)) + 0.24 * math.cos(math.radians(2 * hbar))
         + 0.32 * math.cos(math.radians(3 * hbar + 6)) - 0.20 * math.cos(math.radians(4 * hbar - 63)))
    rc = 2 * math.sqrt(cbarp ** 7 / (cbarp ** 7 + 25 ** 7))
    rt = -math.sin(math.radians(60 * math.exp(-(((hbar - 275) / 25) ** 2)))) * rc
    sl = 1 + 0.015 * (lbar - 50) ** 2 / math.sqrt(20 + (lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    return math.sqrt((d_l / sl) ** 2 + (d_c / sc) ** 2 + (d_h / sh) ** 2 + rt * (d_c / sc) * (d_h / sh))


def closest_pair(palette: dict[str, str], matrix=None) -> tuple[float, tuple[str, str]]:
    import itertools

    labs = {k: _lab(v, matrix) for k, v in palette.items()}
    return min((ciede2000(labs[a], labs[b]), (a, b)) for a, b in itertools.combinations(palette, 2))


def test_ciede2000_against_published_pairs():
    """Sharma, Wu & Dalal's test data (pairs 1, 7 and 17): the formula is the published one."""
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


MIN_DELTA_E = 10  # well apart at a glance (2.3 is just noticeable)


def test_palettes_are_told_apart_with_each_colour_vision_deficiency():
    """The map's sectors and flows and the charts' referral statuses stay at least MIN_DELTA_E apart under simulated
    protanopia, deuteranopia and tritanopia (and with typical vision); the sectors also differ by shape."""
    from atlas.views import charts, network

    palettes = {"sectors": network.SECTOR_COLOURS, "flows": network.FLOW_COLOURS,
                "statuses": {k: charts.COLORS[k] for k in ("accepted", "declined", "pending")}}
    found = {(name, vision): closest_pair(palette, matrix) for name, palette in palettes.items()
             for vision, matrix in [("typical", None), *CVD.items()]}
    too_close = {k: v for k, v in found.items() if v[0] < MIN_DELTA_E}
    assert not too_close, too_close
    shapes = [("cross" if s in network.DASHED_SECTORS else network.SECTOR_SHAPES[s]) for s in network.SECTOR_COLOURS]
    assert len(set(shapes)) == len(shapes), "every sector has a shape of its own"
    assert len({network.plotly_symbol(s) for s in network.SECTOR_COLOURS}) == len(network.SECTOR_COLOURS)
    # the palette that shipped before failed this: education and community 4.2 apart with deuteranopia
    old = {"education": "#f4a261", "community": "#e9c46a"}
    assert closest_pair(old, CVD["deuteranopia"])[0] < MIN_DELTA_E


def test_every_chart_has_a_title_and_its_figures_as_a_table(demo_db):
    """A person who cannot see a chart gets its figures: every chart the pages draw has a title that says what it
    shows and a table of its figures (atlas.views.charts.figure_table, one click under the chart through app.chart), and
    the table holds the figures the chart draws, written as the pages write them."""
    import datetime as dt
    import re

    import plotly.graph_objects as go

    from atlas import formats
    from atlas.db import Atlas
    from atlas.filters import Filters
    from atlas.views import accountability, bottlenecks, charts, need, outcomes, overview

    with Atlas(demo_db) as db:
        extent = db.query("data_extent").iloc[0]
        last = pd_date(extent["last_referral"])
        period = Filters(dt.date(last.year - 1, last.month, 1), last)
        built = {"overview": overview.build(db, period), "bottlenecks": bottlenecks.build(db, period),
                 "accountability": accountability.build(db, period), "need": need.build(db, period),
                 "outcomes": outcomes.build(db, period, min_cell=11)}
        figures = {}  # read while the database is open: a view's sections are built the first time they are read
        for page, view in built.items():
            for name in dir(view):
                value = getattr(view, name, None)
                if isinstance(value, go.Figure):
                    figures[f"{page}.{name}"] = value
    outcome_view = built["outcomes"]
    for key in ("by_service_type", "trend", "mix_service_type", "returns", "pathways"):
        if outcome_view.figure(key) is not None:
            figures[f"outcomes.{key}"] = outcome_view.figure(key)
    assert len(figures) >= 15, sorted(figures)
    for name, fig in figures.items():
        assert (fig.layout.title.text or "").strip(), f"{name} has no title"
        table = charts.figure_table(fig)
        assert table is not None and len(table), f"{name} has no table of its figures"
        assert all(str(c).strip() for c in table.columns), f"{name}: every column is named"
    # the figures are the chart's: the Overview's months and counts, written as the pages write them
    trend = charts.figure_table(built["overview"].trend_chart)
    accepted = next(t for t in built["overview"].trend_chart.data if t.name == "Accepted")
    assert trend["Accepted"].tolist() == [formats.count(v) for v in accepted.y]
    assert trend["Month"].tolist() == [formats.month(m) for m in accepted.x]
    rates = charts.figure_table(outcome_view.figure("trend"))
    assert all(re.fullmatch(r"\d{1,3}\.\d%|—", v) for v in rates.iloc[:, 1])


def pd_date(value):
    import pandas as pd

    return pd.Timestamp(value).date()
