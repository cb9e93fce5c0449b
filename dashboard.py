"""Collaboration Atlas: the Streamlit entrypoint. Establishes who is looking, declares the pages they
may open, and draws the shared filters."""

import streamlit as st

from atlas import app, config

st.set_page_config(page_title="Collaboration Atlas", page_icon="🕸️", layout="wide")

PAGES = {  # (group, url path): the page; url paths are the page keys of atlas.audience
    ("Atlas", "overview"): dict(page="pages/overview.py", title="Overview", icon=":material/dashboard:"),
    ("Directors", "bottlenecks"): dict(page="pages/bottlenecks.py", title="Bottlenecks",
                                       icon=":material/hourglass_top:"),
    ("Directors", "need_capacity"): dict(page="pages/need_capacity.py", title="Need vs capacity",
                                         icon=":material/balance:"),
    ("Directors", "accountability"): dict(page="pages/accountability.py", title="Who holds the case",
                                          icon=":material/family_restroom:"),
    ("Board", "network"): dict(page="pages/network.py", title="Network map", icon=":material/hub:"),
    ("Funders", "outcomes"): dict(page="pages/outcomes.py", title="Outcomes", icon=":material/verified:"),
    ("Data", "data"): dict(page="pages/data.py", title="Data", icon=":material/database:"),
}


def pages(allowed: set[str]) -> dict:
    """The navigation of the pages this person may open, in their groups; the first is the default."""
    groups: dict[str, list] = {}
    for (group, path), spec in PAGES.items():
        if path in allowed:
            first = not groups
            groups.setdefault(group, []).append(st.Page(spec["page"], title=spec["title"], icon=spec["icon"],
                                                        url_path=path, default=first))
    return groups


with app.configured():  # a configuration mistake says what it is, on the page
    viewer = app.viewer()  # signs in (or stops) first: nothing else runs for a stranger
    st.session_state["atlas_audience"] = viewer
    if viewer.restricted and viewer.can_open("network"):  # the board: the map first, on a tablet too; the
        st.set_page_config(initial_sidebar_state="collapsed")  # reporting period and sign-out are one click away

    damaged = app.unreadable_database()  # a file at the path that cannot be read: the Data page can replace it
    if damaged or not app.has_database():
        if not viewer.can_open("data"):
            st.title("Collaboration Atlas")
            if damaged:
                st.error(damaged, icon=":material/broken_image:")
            else:
                st.info("There is no data to show yet. A director loads the community's files first.")
            st.stop()
        # Before the first import, or when the file cannot be read, only the Data page is offered: it is where
        # an import happens.
        navigation = st.navigation(pages({"data"}))
        if damaged:
            st.sidebar.error("The database file cannot be read: the Data page says how to replace it.",
                             icon=":material/broken_image:")
        else:
            st.sidebar.info(f"No data yet at `{config.database_path()}`: load your community's files on the Data "
                            f"page, or build the demo with this command:\n\n"
                            f"`python -m atlas demo --db {config.database_path()}`")
        navigation.run()
        st.stop()

    navigation = st.navigation(pages(set(viewer.pages)))
    db = app.require_database()
    st.session_state["atlas_filters"] = app.sidebar_filters(db, viewer)
    navigation.run()
    app.prepare_ahead(viewer)  # once this page is drawn: the other pages' first views, built in the background
