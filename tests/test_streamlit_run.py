"""`streamlit run dashboard.py`, as a Streamlit user starts it, on a fresh server whose first visit goes straight
to a page's address (a bookmark): the dashboard's own navigation, sign-in banner and filters, as under
`python -m atlas serve`, never Streamlit's list of the page files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from browser import free_port, serving, wait_drawn

ROOT = Path(__file__).resolve().parent.parent
# The dashboard's navigation, by the titles dashboard.PAGES gives the pages.
TITLES = {"Overview", "Bottlenecks", "Need vs capacity", "Who holds the case", "Survey", "Network map", "Outcomes", "Data"}


def links(page) -> tuple[int, set[str]]:
    """How many links the navigation has, and the lines they read (an icon's name is text too)."""
    texts = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    return len(texts), {line.strip() for text in texts for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("first, title", [("/network", "Network map"), ("/need_capacity", "Need vs capacity"),
                                          ("/", "Collaboration Atlas")])
def test_a_first_visit_to_any_address_gets_the_dashboards_navigation(first, title, demo_db, browser, tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAS_", "STREAMLIT_"))}
    env["ATLAS_DB"] = str(demo_db)
    with serving(argv, ROOT, env, tmp_path / "streamlit.log", port) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + first)
        page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
        wait_drawn(page)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == title
        count, lines = links(page)  # not the page files (dashboard, network, need capacity, …)
        assert count == len(TITLES) and TITLES <= lines, (count, lines)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Local single-user session").count() == 1  # the banner, once
        assert sidebar.get_by_text("Period", exact=True).count() == 1  # the entrypoint's filters
        # and the server stays so for whoever comes next, at any address
        again = browser.new_page(viewport={"width": 1400, "height": 1000})
        again.goto(url + "/outcomes")
        again.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
        wait_drawn(again)
        count, lines = links(again)
        assert count == len(TITLES) and TITLES <= lines, (count, lines)
        assert not errors, errors
        page.close()
        again.close()
