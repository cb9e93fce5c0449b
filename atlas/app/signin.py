"""Who is looking: sign-in (or the local single-user session), the audience of this run, and the check at
the top of every page. Layer: the Streamlit glue (atlas.app), over the pure roles of atlas.audience."""

from __future__ import annotations

import streamlit as st

from atlas import audience, config, escape
from atlas.audience import Audience


def _streamlit_has_auth() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sign_in_required() -> bool:
    """Sign-in is on when either our secrets file or Streamlit's secrets configure a provider."""
    return config.auth_configured() or _streamlit_has_auth()


def _local_session() -> Audience:
    """The local single-user session, which says in the sidebar whose view it shows."""
    local = audience.local(config.local_roles())
    roles = " and ".join(sorted(r.value for r in local.roles))
    view = f"the {roles}'s view" if len(local.roles) == 1 else f"what the {roles} roles share"
    st.sidebar.warning(
        f"**Local single-user session** — you see {view} and no one signs in. Set up "
        "sign-in before sharing this dashboard (docs/security.md).", icon=":material/person:")
    return local


def _sign_in_page() -> None:
    """The page a stranger sees: what the dashboard holds and the sign-in button; nothing else runs."""
    st.title("Collaboration Atlas")
    st.markdown("This dashboard holds information about people the community's agencies serve. "
                "Sign in with your organisation's account to continue.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
    st.stop()


def viewer() -> Audience:
    """The person at the screen and what they may see; draws the sign-in or no-access page and stops
    when there is nobody (yet) to show anything to. Called once per run, by the entrypoint."""
    if not sign_in_required():
        return _local_session()
    if not st.user.is_logged_in:
        _sign_in_page()
    groups = st.user.get("groups") or []
    person = audience.signed_in(st.user.get("email"), groups if isinstance(groups, list) else [groups],
                                config.role_mapping())
    st.sidebar.caption(f"Signed in as {escape.markdown(person.describe())}")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")
    if len(person.pages) == 1 and len(person.roles) > 1:  # Streamlit draws no navigation for one page
        st.sidebar.caption("Your roles share this one page only: where roles differ, the narrower view "
                           "applies.")
    if not person.pages:
        st.title("Collaboration Atlas")
        st.error(f"Your account ({person.who}) has no role in Collaboration Atlas, or its roles share no page. "
                 "Ask the administrator to add you as a director, board member or funder.",
                 icon=":material/block:")
        st.stop()
    return person


def current_audience() -> Audience:
    """The audience the entrypoint established for this run (established here if no entrypoint ran)."""
    return st.session_state.get("atlas_audience") or viewer()


def through_the_entrypoint() -> None:
    """Run again through dashboard.py a page Streamlit ran on its own because a browser asked for its address.

    `streamlit run dashboard.py` finds pages/ beside the entrypoint and, until the entrypoint first calls
    st.navigation, serves the folder as a legacy multipage app: a server's first visit straight to a page's
    address (a bookmark of /network) runs that page alone, under Streamlit's list of the page files, and
    leaves the server in that mode for whoever comes next. Turning the mode off, as `python -m atlas serve`
    does before the server starts, and running again puts this visit and every later one through the
    entrypoint: its sign-in, navigation and filters. Only a run asked for by address (a page name) is run
    again: AppTest's switch_page asks for a page by its hash and keeps running the page alone, as the page
    tests expect (tests/test_pages.py)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    if not PagesManager.uses_pages_directory:
        return
    run = get_script_run_ctx()
    if run is not None and run.pages_manager.intended_page_name:
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_audience(page: str) -> Audience:
    """The audience of this run, checked at the top of every page: a page that is not part of the
    person's view says so and stops, however it was reached (the entrypoint's navigation only lists
    allowed pages; this also holds when a page runs on its own, as in Streamlit's legacy pages/ mode)."""
    through_the_entrypoint()
    person = current_audience()
    if not person.can_open(page):
        st.error("This page is not part of your view of Collaboration Atlas.", icon=":material/lock:")
        st.stop()
    return person
