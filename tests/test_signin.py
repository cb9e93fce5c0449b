"""Sign-in end to end, in a real browser: the served dashboard against a local OpenID Connect provider
(`oidc-provider-mock`, on loopback, started here). Each person signs in through the provider's own
form; the role mapping in the secrets file decides what they see, and what they may not see stays
out of reach by navigation and by URL.
"""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest
from browser import free_port, served, wait_drawn
from playwright.sync_api import expect

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

PEOPLE = {
    "dana@example.org": {"email": "dana@example.org"},  # director, by e-mail
    "bo@example.org": {"email": "bo@example.org", "groups": ["trustees"]},  # board, by group
    "fay@example.org": {"email": "fay@example.org"},  # funder
    "two@example.org": {"email": "two@example.org", "groups": ["trustees"]},  # director by e-mail, board by group
    "both@example.org": {"email": "both@example.org"},  # board and funder
    "stranger@example.org": {"email": "stranger@example.org"},  # no role
}
ROLES = """
[atlas_roles]
"dana@example.org" = "director"
"group:trustees" = "board"
"FAY@example.org" = "funder"
"two@example.org" = "director"
"both@example.org" = ["board", "funder"]
"""

NAV = {"Overview", "Bottlenecks", "Need vs capacity", "Network map", "Outcomes", "Data"}


@contextmanager
def provider():
    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in PEOPLE.items()]
    with oidc_provider_mock.run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def site(demo_db, browser, tmp_path_factory):
    """The dashboard with sign-in configured, and a browser that can reach nothing but loopback."""
    root = tmp_path_factory.mktemp("signin")
    port = free_port()
    with provider() as issuer:
        secrets_file = root / "secrets.toml"
        secrets_file.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "collaboration-atlas"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
{ROLES}
""")
        with served(demo_db, root / "streamlit.log", env={"ATLAS_SECRETS": str(secrets_file)}, port=port) as url:
            yield url, browser


def loopback_only(route):
    host = urlparse(route.request.url).hostname
    return route.continue_() if host in ("127.0.0.1", "localhost") else route.abort()


def sign_in(site, who: str):
    """A fresh browser context signed in as `who` through the provider's form; returns the page."""
    url, browser = site
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", loopback_only)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize|/authorize"), timeout=30_000)
    page.locator(f'button[name="sub"][value="{who}"]').click()
    page.wait_for_url(re.compile(re.escape(url) + r"/?(\?.*)?$"), timeout=30_000)
    return page


def settle(page):
    """Wait until the page's script has drawn its title and stopped running."""
    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
    wait_drawn(page)


def nav(page) -> set[str]:
    links = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    return {line.strip() for text in links for line in text.splitlines()} & NAV  # (icons are text too)


def signed_in_as(who: str, roles: str) -> re.Pattern:
    """The sidebar's identity line (the Markdown renderer may put a word joiner before the @)."""
    name, domain = who.split("@")
    return re.compile(rf"Signed in as {re.escape(name)}\u2060?@{re.escape(domain)} \({roles}\)")


def title_of(page) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text().strip()


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_a_stranger_sees_only_the_sign_in_page(site):
    url, browser = site
    context = browser.new_context()
    context.route("**/*", loopback_only)
    page = context.new_page()
    for path in ("", "/bottlenecks", "/outcomes", "/data"):
        page.goto(url + path)
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        text = page.locator('[data-testid="stApp"]').inner_text()
        assert "Sign in with your organisation's account" in text
        assert not nav(page), "no navigation before sign-in"
        assert "Referrals" not in text and "Bottlenecks" not in text
    context.close()


def test_a_director_signs_in_and_sees_every_page(site):
    page = sign_in(site, "dana@example.org")
    settle(page)
    assert nav(page) == NAV
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(signed_in_as("dana@example.org", "director"))
    assert "Local single-user session" not in page.locator('[data-testid="stSidebar"]').inner_text()
    page.goto(site[0] + "/bottlenecks")
    settle(page)
    assert title_of(page) == "Bottlenecks"
    page.context.close()


@pytest.mark.parametrize("who, roles, pages", [
    ("bo@example.org", "board", {"Overview", "Network map"}),
    ("fay@example.org", "funder", {"Overview", "Outcomes"}),
    ("two@example.org", "board and director", {"Overview", "Network map"}),
    ("both@example.org", "board and funder", {"Overview"}),
])
def test_board_and_funder_see_their_pages_only_and_no_url_opens_another(site, who, roles, pages):
    page = sign_in(site, who)
    settle(page)
    # a second role never widens the first's view (Streamlit draws no navigation for a single page)
    assert nav(page) == (pages if len(pages) > 1 else set())
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(signed_in_as(who, roles))
    if len(pages) == 1:  # and with no navigation, the sidebar says why there is nothing else
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Your roles share this one page only")
    # whole reporting periods only: no free period, region, service or sector filter
    page.locator('[data-testid="stSidebar"]').get_by_text("Quarter or year", exact=True).wait_for(timeout=30_000)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Region" not in sidebar and "Sector" not in sidebar, sidebar
    for path, title in (("/bottlenecks", "Bottlenecks"), ("/need_capacity", "Need vs capacity"), ("/data", "Data"),
                        ("/network", "Network map"), ("/outcomes", "Outcomes")):
        if title in pages:
            continue
        page.goto(site[0] + path)
        settle(page)
        assert title_of(page) == "Collaboration Atlas", f"{who} reached {path}"  # the Overview instead
        assert title not in nav(page)
    assert not page.dialogs
    page.context.close()


def test_an_account_without_a_role_is_told_so_and_sees_nothing(site):
    page = sign_in(site, "stranger@example.org")
    page.get_by_text("has no role in Collaboration Atlas").wait_for(timeout=30_000)
    assert not nav(page)
    for path in ("/bottlenecks", "/outcomes", "/network"):
        page.goto(site[0] + path)
        page.get_by_text("has no role in Collaboration Atlas").wait_for(timeout=30_000)
        assert "Referrals" not in main_text(page)
    page.context.close()


def test_signing_out_ends_the_session(site):
    page = sign_in(site, "fay@example.org")
    settle(page)
    page.get_by_role("button", name="Sign out").click()
    # Streamlit ends the session at the provider too (OIDC RP-initiated logout): confirm there
    page.wait_for_url(re.compile(r"/end_session"), timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.goto(site[0] + "/outcomes")
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    assert "Positive-exit rate" not in page.locator('[data-testid="stApp"]').inner_text()
    page.context.close()
