"""What a person waits for: page switches in one open Chromium tab, beside the floor Streamlit itself costs.

For each audience (director, board, funder) a fresh server is started and one tab is opened on it:

* **first load**: a new tab opening the app until the landing page is drawn;
* **first visit**: a click in the navigation until the page is drawn, each page once, in a server that has
  drawn nothing of that page yet (what a person meets after an import or a restart);
* **repeat**: the same tour again, nothing changed (what a person meets going back to a page), three times,
  each page's median;
* **after a filter change**: the filter changed once (the region for a director, the reporting period for
  a board member or funder), then the tour again: every page's first visit for a choice nobody looked at.

"Drawn" is what a person sees as done: the click's script run has begun and ended (the app's root says so),
no element is still a placeholder and no Running widget shows, and the state holds 300 ms later (the time
is taken when it was first reached); on the Network map its map has drawn itself. The **top**
is when the page's first heading and its first figure or chart are on screen, which a person reads first.

The **floor** is a bare two-page Streamlit app (bench/floor/: one plotly chart and one table per page) served
by the same Streamlit on the same machine in the same run: its first load and its page switches are what
Streamlit itself costs, and every Atlas figure is also given as a multiple of it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from bench.data import CACHE, ROOT, SCALES

sys.path[:0] = [str(ROOT / "tests")]

from browser import MAP_DRAWN  # noqa: E402 - tests/ is on the path from here; the map drawn in its shadow root

# (navigation title, url path) of each page, in the navigation's order, and who may open it
HEADINGS = {"overview": "Collaboration Atlas"}  # a page's title where it is not its navigation title
PAGES = {"overview": "Overview", "bottlenecks": "Bottlenecks", "need_capacity": "Need vs capacity",
         "accountability": "Who holds the case", "survey": "Survey", "network": "Network map", "outcomes": "Outcomes",
         "data": "Data"}
AUDIENCES = {"director": list(PAGES), "board": ["overview", "network"], "funder": ["overview", "outcomes"]}
FLOOR = ROOT / "bench" / "floor"

# Installed once per tab: the times at which the app's script state changes (a MutationObserver sees
# every change, however short the run).
OBSERVE = """() => {
  if (window.__runs) return;
  window.__runs = [];
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => window.__runs.push([app.getAttribute('data-test-script-state'), performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
# The run that began after `since` has ended, and nothing is a placeholder.
RAN = """since => {
  const runs = window.__runs || [];
  const began = runs.findIndex(([s, t]) => t >= since && s === 'running');
  if (began < 0) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  return app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]');
}"""
# a script run began after `since`
BEGAN = """since => (window.__runs || []).some(([s, t]) => t >= since && s === 'running')"""
SETTLED = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') === 'notRunning'
  && !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')"""
# the top of a page: its heading and its first figure, chart or table (not a stale one from the page before)
TOP = """heading => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return false;
  const fresh = el => !el.closest('[data-stale="true"]');
  const h = [...main.querySelectorAll('h1')].some(el => fresh(el) && el.textContent.trim().startsWith(heading));
  const f = [...main.querySelectorAll('[data-testid="stMetricValue"], .js-plotly-plot, [data-testid="stDataFrame"], [data-testid="stBidiComponentIsolated"]')].some(fresh);
  return h && f;
}"""
CLICK = """title => {
  const links = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')];
  const link = links.find(a => a.textContent.trim() === title || a.textContent.trim().endsWith(title));
  if (!link) return false;
  link.click();
  return true;
}"""


def _settle(tab, condition: str, arg, page: str | None, timeout_ms: int, started: float) -> float:
    """Seconds from `started` until `condition` holds (and still holds 300 ms later), the map drawn on its page."""
    while True:
        tab.wait_for_function(condition, arg=arg, timeout=timeout_ms, polling="raf")
        if page == "network":
            tab.wait_for_function(MAP_DRAWN, timeout=timeout_ms, polling="raf")
        reached = time.perf_counter() - started
        tab.wait_for_timeout(300)
        if tab.evaluate(SETTLED):
            return reached


LOST_AFTER_MS = 15_000  # a click whose run has not begun by then is taken as lost, and clicked again


def switch(tab, page: str, timeout_ms: int) -> dict:
    """Click `page` in the navigation of the open tab: seconds to its top, and to all of it drawn.

    A click whose script run has not begun within LOST_AFTER_MS is lost (seen a few times in hundreds of
    switches, once in the bare floor app too): it is reported on stderr and in the result (`lost_clicks`), and
    the page is clicked again, the times counted from that click."""
    lost = 0
    while True:
        since = tab.evaluate("performance.now()")
        started = time.perf_counter()
        if not tab.evaluate(CLICK, PAGES[page]):
            raise RuntimeError(f"no navigation link {PAGES[page]!r}")
        try:
            tab.wait_for_function(BEGAN, arg=since, timeout=min(LOST_AFTER_MS, timeout_ms), polling="raf")
            break
        except Exception:  # no run began: the click was lost
            lost += 1
            print(f"[bench] tab: the click on {PAGES[page]!r} began no run in {LOST_AFTER_MS / 1000:.0f} s; "
                  "clicking again", file=sys.stderr, flush=True)
            if lost > 2:
                raise
    top = None
    try:
        tab.wait_for_function(f"([since, heading]) => ({RAN})(since) || ({TOP})(heading)",
                              arg=[since, HEADINGS.get(page, PAGES[page])], timeout=timeout_ms, polling="raf")
        top = time.perf_counter() - started
    except Exception:  # the whole-page wait below reports the failure
        pass
    drawn = _settle(tab, RAN, since, page, timeout_ms, started)
    return {"top_s": min(top, drawn) if top is not None else drawn, "drawn_s": drawn,
            **({"lost_clicks": lost} if lost else {})}


def first_load(browser, url: str, page: str, timeout_ms: int):
    """A new tab opened on the app: seconds until its landing page is drawn; returns (tab, seconds)."""
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    started = time.perf_counter()
    tab.goto(url)
    tab.wait_for_function(TOP, arg=HEADINGS.get(page, PAGES[page]), timeout=timeout_ms, polling="raf")
    seconds = _settle(tab, SETTLED, None, page, timeout_ms, started)
    tab.evaluate(OBSERVE)
    return tab, seconds


def change_filter(tab, audience: str, timeout_ms: int) -> str:
    """Change the sidebar's filter once (a director's region, a board's or funder's reporting period) and
    wait for the page to be drawn again; returns what was chosen."""
    expand = tab.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button')
    if expand.count() and expand.first.is_visible():
        expand.first.click()
    boxes = tab.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
    box = boxes.nth(1 if audience == "director" else 0)
    option = tab.locator('[role="option"]').nth(1)
    for _ in range(5):
        box.click()
        try:
            option.wait_for(timeout=5_000)
            break
        except Exception:  # a click undone by a redraw: try again
            tab.keyboard.press("Escape")
            tab.wait_for_timeout(500)
    chosen = option.inner_text().strip()
    since = tab.evaluate("performance.now()")
    option.click()
    _settle(tab, RAN, since, None, timeout_ms, time.perf_counter())
    return chosen


def tour(tab, pages: list[str], timeout_ms: int) -> dict:
    out = {}
    for page in pages:
        try:
            out[page] = switch(tab, page, timeout_ms)
        except Exception as error:  # a timeout is reported as such, the run goes on
            print(f"[bench] tab: {page} not drawn: {type(error).__name__}: {str(error)[:200]}", file=sys.stderr,
                  flush=True)
            out[page] = None
    return out


REPEATS = 3  # repeat tours, each page's median taken: the floor's switch is a median of 12 too


def median_tour(tours: list[dict]) -> dict:
    """Each page's median over the tours (its top and drawn), `samples` the drawn times; None where a tour lost
    the page every time."""
    out = {}
    for page in tours[0]:
        seen = [t[page] for t in tours if t.get(page)]
        out[page] = None if not seen else {
            "top_s": statistics.median(m["top_s"] for m in seen),
            "drawn_s": statistics.median(m["drawn_s"] for m in seen),
            "samples": [round(m["drawn_s"], 3) for m in seen]}
    return out


def audience_run(browser, db: Path, audience: str, timeout_ms: int, root: Path = ROOT) -> dict:
    from browser import served

    pages = AUDIENCES[audience]
    landing = pages[0]
    with served(db, CACHE / f"tab_{audience}.log", env={"ATLAS_LOCAL_ROLE": audience}, root=root) as url:
        tab, load = first_load(browser, url, landing, timeout_ms)
        try:
            # the landing page was drawn by the first load; the tour starts on the page after it and ends on it
            order = pages[1:] + [landing]
            first = tour(tab, order, timeout_ms)
            repeat = median_tour([tour(tab, order, timeout_ms) for _ in range(REPEATS)])
            chosen = change_filter(tab, audience, timeout_ms)
            after = tour(tab, order, timeout_ms)
        finally:
            tab.close()
        second_tab, second_load = first_load(browser, url, landing, timeout_ms)  # a new tab, the server warm
        second_tab.close()
    return {"first_load_s": load, "warm_server_first_load_s": second_load, "first": first, "repeat": repeat,
            "filter": chosen, "after_filter": after}


def floor_served(log: Path):
    """The bare two-page Streamlit app of bench/floor, on a free loopback port."""
    from browser import free_port, serving

    port = free_port()
    return serving([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                    "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
                   FLOOR, {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}, log, port)


def floor_run(browser, timeout_ms: int, rounds: int = 3) -> dict:
    """The floor: first load in a new tab (median of `rounds` tabs), then switches between its two pages."""
    global PAGES, HEADINGS
    saved = PAGES, HEADINGS
    PAGES, HEADINGS = {"one": "One", "two": "Two"}, {"one": "Page one", "two": "Page two"}
    try:
        with floor_served(CACHE / "tab_floor.log") as url:
            loads, switches = [], []
            for _ in range(rounds):
                tab, load = first_load(browser, url, "one", timeout_ms)
                loads.append(load)
                for page in ("two", "one", "two", "one"):
                    switches.append(switch(tab, page, timeout_ms)["drawn_s"])
                tab.close()
    finally:
        PAGES, HEADINGS = saved
    return {"first_load_s": statistics.median(loads), "switch_s": statistics.median(switches),
            "switch_max_s": max(switches)}


def run(db: Path, audiences=tuple(AUDIENCES), timeout_s: int = 300, root: Path = ROOT) -> dict:
    """One tab run: the floor, each audience's tour served by the code at `root`, the floor again."""
    from browser import chromium

    timeout_ms = timeout_s * 1000
    with chromium() as browser:
        out = {"floor": floor_run(browser, timeout_ms)}
        for audience in audiences:
            try:
                out[audience] = audience_run(browser, db, audience, timeout_ms, root)
            except Exception as error:  # reported, the rest of the run stands
                out[audience] = {"error": f"{type(error).__name__}: {str(error)[-800:]}"}
        out["floor_after"] = floor_run(browser, timeout_ms)  # the same floor at the end: how the machine changed
    return out


if __name__ == "__main__":  # python -m bench.tab DB [audience ...]: one run, printed as JSON
    import json

    database = Path(sys.argv[1])
    print(json.dumps(run(database, tuple(sys.argv[2:]) or tuple(AUDIENCES)), indent=1))


# ------------------------------------------------------------------------------------------------
# docs/benchmarks.md: what a person waits for
# ------------------------------------------------------------------------------------------------

# seconds for a page's first visit (issue 18); the continuum, smaller than 100k, is held to the smaller scales' second
TARGETS = {"100k": 1.0, "1m": 1.0, "10m": 2.0, "continuum": 1.0}
NAMES = {"100k": "100k", "1m": "1M", "10m": "10M",
         "continuum": f"The continuum profile: {SCALES['continuum'].agencies:,} agencies, "
                      f"{SCALES['continuum'].referrals:,}"}


def _cell(m: dict | None, floor: float | None, key: str = "drawn_s") -> str:
    if not m:
        return "not drawn"
    value = m[key]
    return f"{value:.2f} s" + (f" ({value / floor:.1f}×)" if floor else "")


def table(results: dict) -> list[str]:
    runs = results.get("tab")
    if not runs:
        return []
    lines = ["## What a person waits for: one open tab (issue 18)", "",
             "`python -m bench --only-tab` (`bench/tab.py`): for each audience a fresh server and one Chromium tab "
             "(1400 × 900), clicking from page to page in the navigation as a person does. **First visit**: each page "
             "once, in a server that has drawn nothing of it yet; **repeat**: the same tour again, nothing changed (three "
             "tours, each page's median); "
             "**after a filter change**: the region (director) or the reporting period (board, funder) changed once, "
             "then the tour again. A page is **drawn** when the click's script run has ended, no element is a "
             "placeholder (and, on the Network map, the map has drawn itself), held for 300 ms; **top** "
             "is when its heading and first figure or chart show. Each time is also given as a multiple (×) of the "
             "**floor**: a bare two-page Streamlit app with one plotly chart and one table per page "
             "(`bench/floor/`), served by the same Streamlit in the same run, switching pages. Targets: a first "
             "visit within 1 s at 1M referrals (and on the continuum profile) and 2 s at 10M, a repeat within 1.5× "
             "the floor, the first load within 1.2× the floor's.", ""]
    for label, run in runs.items():
        if "error" in run:
            lines += [f"### {NAMES.get(label, label)} referrals: not measured ({run['error'][:200]})", ""]
            continue
        floor = run.get("floor", {})
        switch, load = floor.get("switch_s"), floor.get("first_load_s")
        after = run.get("floor_after", {})
        machine_load = f", 1-minute load {run['load'][0]:.2f}" if run.get("load") else ""
        lines += [f"### {NAMES.get(label, label)} referrals (measured {run.get('date', '?')}, commit "
                  f"{run.get('commit', '?')}{machine_load})", "",
                  f"Floor: page switch {switch or 0:.2f} s (slowest {floor.get('switch_max_s', 0):.2f} s), first load "
                  f"{load or 0:.2f} s; again at the end of the run: {after.get('switch_s', 0):.2f} s and "
                  f"{after.get('first_load_s', 0):.2f} s.", "",
                  "| audience | page | top | first visit | repeat | after a filter change | target met |",
                  "|---|---|---|---|---|---|---|"]
        target = TARGETS.get(label, 2.0)
        for audience in AUDIENCES:
            a = run.get(audience)
            if not a:
                continue
            if "error" in a:
                lines.append(f"| {audience} | — | failed: {a['error'][:120]} | | | | |")
                continue
            lines.append(f"| {audience} | first load (new tab) | | {_cell({'drawn_s': a['first_load_s']}, load)} | "
                         f"{_cell({'drawn_s': a['warm_server_first_load_s']}, load)} | | "
                         + ("yes" if load and a["warm_server_first_load_s"] <= 1.2 * load else "no") + " |")
            for page in a["first"]:
                first, repeat, changed = a["first"][page], a["repeat"].get(page), a["after_filter"].get(page)
                met = (first and changed and repeat and max(first["drawn_s"], changed["drawn_s"]) <= target
                       and switch and repeat["drawn_s"] <= 1.5 * switch)
                lines.append(f"| {audience} | {PAGES[page]} | {_cell(first, switch, 'top_s')} | {_cell(first, switch)} "
                             f"| {_cell(repeat, switch)} | {_cell(changed, switch)} | {'yes' if met else 'no'} |")
        lines.append("")
    return lines


def measure(db: Path, commit: str | None = None) -> dict:
    """One run with when and where it was measured, for bench/results.json."""
    import datetime as dt

    load = os.getloadavg()
    out = run(db)
    out.update(date=dt.datetime.now().isoformat(timespec="minutes"), commit=commit, load=load)
    return out
