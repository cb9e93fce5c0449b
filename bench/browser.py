"""The served dashboard in headless Chromium: navigation to each page's main chart or map drawn.

For each page a fresh server (`python -m atlas serve`, tests/browser.py) is started and the page is
opened straight away (cold: the server's first page, nothing cached), then opened again in a new tab
(a repeat visit: Streamlit's cached query results are used). A last server visits every page in
turn, and its peak resident memory (VmHWM) is the server's peak after a whole tour. The network
map's HTML is also drawn on its own (from a file), to separate the browser's drawing from the server.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from bench.data import CACHE, ROOT

sys.path[:0] = [str(ROOT / "tests")]

from browser import DRAWN_MAP  # noqa: E402 - tests/ is on the path from here

PATHS = {"overview": "", "bottlenecks": "bottlenecks", "need": "need_capacity", "network": "network",
         "outcomes": "outcomes"}
MAIN = {"overview": ".js-plotly-plot", "bottlenecks": ".js-plotly-plot .funnellayer .point",
        "need": ".js-plotly-plot", "network": None, "outcomes": ".js-plotly-plot"}


def server_pid(url: str) -> int | None:
    """The pid of the `python -m atlas serve --port PORT` behind url (tests/browser.served does not say)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in argv and b"--port" in argv and port.encode() in argv:
                return int(proc.name)
    return None


def peak_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def drawn(tab, page: str, timeout_ms: int) -> None:
    if MAIN[page]:
        tab.locator(MAIN[page]).first.wait_for(state="visible", timeout=timeout_ms)
    else:  # vis-network draws the map in its component's shadow root and marks the map when it has drawn
        tab.locator(DRAWN_MAP).first.wait_for(state="attached", timeout=timeout_ms)


def visit(browser, url: str, page: str, timeout_ms: int) -> float | None:
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        started = time.perf_counter()
        tab.goto(f"{url}/{PATHS[page]}")
        drawn(tab, page, timeout_ms)
        return time.perf_counter() - started
    except Exception as error:  # a timeout: reported as such, the run goes on
        print(f"[bench] browser: {page} not drawn: {type(error).__name__}", file=sys.stderr, flush=True)
        return None
    finally:
        tab.close()


def map_draw(browser, html: str, repeats: int) -> float | None:
    """The map's self-contained HTML drawn on its own: the browser's share of the map's time."""
    path = CACHE / "network_map.html"
    path.write_text(html, encoding="utf-8")
    times = []
    for _ in range(repeats):
        tab = browser.new_page(viewport={"width": 1400, "height": 800})
        started = time.perf_counter()
        tab.goto(path.as_uri())
        tab.wait_for_selector(DRAWN_MAP, state="attached", timeout=120_000)
        times.append(time.perf_counter() - started)
        tab.close()
    return statistics.median(times) if times else None


def run(db: Path, pages=tuple(PATHS), timeout_s: int = 600) -> dict:
    from browser import chromium, served

    timeout_ms = timeout_s * 1000
    log = CACHE / "serve.log"
    out = {"pages": {}}
    with chromium() as browser:
        for page in pages:
            spawned = time.perf_counter()
            with served(db, log) as url:
                up = time.perf_counter() - spawned
                cold = visit(browser, url, page, timeout_ms)
                repeat = visit(browser, url, page, timeout_ms) if cold is not None else None
                out["pages"][page] = {"server_up_s": up, "cold_s": cold, "repeat_s": repeat,
                                      "since_start_s": None if cold is None else up + cold,
                                      "server_peak_mib": peak_mib(server_pid(url))}
                if page == "network" and cold is not None:
                    tab = browser.new_page(accept_downloads=True)
                    tab.goto(f"{url}/network")
                    drawn(tab, page, timeout_ms)
                    with tab.expect_download(timeout=timeout_ms) as download:  # the map as its own document
                        tab.get_by_role("button", name="Map (HTML)").click()
                    html = Path(download.value.path()).read_text(encoding="utf-8")
                    tab.close()
                    out["map_html_kib"] = len(html) // 1024
                    out["map_draw_only_s"] = map_draw(browser, html, 3)
        with served(db, log) as url:
            tour = {page: visit(browser, url, page, timeout_ms) for page in pages}
            out["tour"] = {"visits_s": tour, "server_peak_mib": peak_mib(server_pid(url))}
    return out
