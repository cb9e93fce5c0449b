"""Serving the dashboard for real and driving it in Debian's headless Chromium (for browser tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(database: Path, log: Path, env: dict | None = None, port: int | None = None, root: Path = ROOT):
    """`python -m atlas serve` on a (free) loopback port, reading `database`, with `env` added to the
    environment; yields the base URL. `root` is the checkout whose code serves (the benchmark's
    comparison serves an earlier commit's)."""
    port = port or free_port()
    with serving([sys.executable, "-m", "atlas", "serve", "--port", str(port), "--address", "127.0.0.1"], root,
                 {**os.environ, "ATLAS_DB": str(database), **(env or {})}, log, port) as url:
        yield url


@contextmanager
def serving(argv: list[str], cwd: Path, env: dict, log: Path, port: int):
    """A Streamlit server started by `argv` in `cwd`, once it answers its health check on `port` (within a
    minute); yields its base URL and stops it after."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not come up; see {log}:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@contextmanager
def chromium(args: tuple[str, ...] = ()):
    """A headless Chromium browser driven by playwright, with `args` added to its command line."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])
        try:
            yield browser
        finally:
            browser.close()


# The script run is over once the app's root says so; only then have all of the run's elements arrived.
RUN_OVER = "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
# Each kind of element is drawn by code the page fetches on first use, with a placeholder until it has
# come: on a fresh server, busy with its first run, that can take seconds after the run ends.
DRAWN = "() => !document.querySelector('[data-testid=\"stStatusWidget\"], [data-testid=\"stSkeleton\"]')"


def wait_drawn(page, timeout_ms: int = 60_000) -> None:
    """Wait until the page's script run has ended and every element it sent is drawn (not a placeholder).

    The "Running" widget alone is not enough: it shows only after a run has lasted a moment, and an
    element's placeholder can outlive the run."""
    page.wait_for_function(RUN_OVER, timeout=timeout_ms)
    page.wait_for_function(DRAWN, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_function(DRAWN, timeout=timeout_ms)


def open_expanders(page, settle=wait_drawn) -> int:
    """Open every expander in view, one at a time (one drawn when opened reruns the page, which may add others;
    those on other tabs are opened on their tab); returns how many."""
    closed = page.locator("[data-testid=stExpander] details:not([open]) > summary:visible")
    count = 0
    while closed.count() and count < 40:
        closed.first.click()
        settle(page)
        count += 1
    return count


def open_expander(page, label: str, settle=wait_drawn) -> None:
    """Open the expander whose summary reads `label`, if it is closed (an expander drawn when opened reruns the
    page), and wait for the page's redraw."""
    settle(page)
    details = page.locator('[data-testid="stExpander"] details').filter(
        has=page.locator("summary", has_text=label)).first
    if not details.evaluate("d => d.open"):
        details.locator("summary").first.click()
        settle(page)


def choose(page, combobox, index: int, settle=wait_drawn) -> str:
    """Pick option `index` of a Streamlit selectbox; returns its text. A click while the script still runs can be
    undone by its redraw: wait, then retry."""
    option = page.locator("[role=option]").nth(index)
    for _ in range(5):
        settle(page)
        combobox.click()
        try:
            option.wait_for(timeout=5_000)
            break
        except Exception:  # the list did not open: close it and try again
            page.keyboard.press("Escape")
    text = option.inner_text().strip()
    option.click()
    settle(page)
    return text


# A map vis-network has drawn: atlas.app.network_map draws each map in its component's shadow root and marks it
# when drawn. Playwright's locators reach into shadow roots; a script in the page starts from MAP_HOSTS.
DRAWN_MAP = '.atlas-map[data-drawn="true"]'
MAP_HOSTS = """[...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]"""

# a map of the page has drawn
MAP_DRAWN = f"() => {MAP_HOSTS}.some(h => !!h.shadowRoot?.querySelector('{DRAWN_MAP}'))"

# every map of the page that has begun to draw has drawn
MAPS_DRAWN = f"""() => {MAP_HOSTS}
  .every(h => !h.shadowRoot?.querySelector('.atlas-map') || !!h.shadowRoot.querySelector('{DRAWN_MAP}'))"""

# each drawn map's legend text, and the names and tooltips of what it draws, read from its vis-network instance
MAP_TEXTS = f"""() => {MAP_HOSTS}
  .map(h => h.shadowRoot?.querySelector('{DRAWN_MAP}')).filter(Boolean)
  .map(m => ({{legend: m.querySelector('.legend').textContent,
              nodes: m.visNetwork.body.data.nodes.get().map(n => ({{id: n.id, label: n.label ?? null, title: n.title ?? null}})),
              edges: m.visNetwork.body.data.edges.get().map(e => ({{from: e.from, to: e.to, title: e.title ?? null}}))}}))"""


def map_texts(page, timeout_ms: int = 60_000) -> list[dict]:
    """Every map drawn on the page, once drawn: {legend, nodes: [{id, label, title}], edges: [{from, to, title}]}."""
    page.locator(DRAWN_MAP).first.wait_for(state="attached", timeout=timeout_ms)
    return page.evaluate(MAP_TEXTS)
