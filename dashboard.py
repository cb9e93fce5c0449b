"""Collaboration Atlas: the Streamlit entrypoint. Establishes who is looking, declares the pages they
may open, and draws the shared filters."""

import streamlit as st

from atlas import app, config
from atlas.app import survey_form

app.warm_up()  # the slow imports, in the background while this first page is drawn (once per server process)
st.set_page_config(page_title="Collaboration Atlas", page_icon="🕸️", layout="wide")

# The pages, in the order of the navigation: the whole network first, then the directors' pages, the board's map,
# the funders' outcomes and the data. The navigation is one flat list: Streamlit draws grouped navigation (a dict
# of sections) as a <ul> whose children are <div>s, which assistive technology cannot read as a list (axe: list,
# listitem; WCAG 1.3.1), and the groups cannot be given list semantics from the app (docs/accessibility.md).
PAGES = {  # url path (the page keys of atlas.audience): the page
    "overview": dict(page="pages/overview.py", title="Overview", icon=":material/dashboard:"),
    "bottlenecks": dict(page="pages/bottlenecks.py", title="Bottlenecks", icon=":material/hourglass_top:"),
    "need_capacity": dict(page="pages/need_capacity.py", title="Need vs capacity", icon=":material/balance:"),
    "accountability": dict(page="pages/accountability.py", title="Who holds the case",
                           icon=":material/family_restroom:"),
    "survey": dict(page="pages/survey.py", title="Survey", icon=":material/forum:"),
    "network": dict(page="pages/network.py", title="Network map", icon=":material/hub:"),
    "outcomes": dict(page="pages/outcomes.py", title="Outcomes", icon=":material/verified:"),
    "data": dict(page="pages/data.py", title="Data", icon=":material/database:"),
}


def pages(allowed: set[str]) -> list:
    """The navigation of the pages this person may open, in order; the first is the default."""
    paths = [path for path in PAGES if path in allowed]
    return [st.Page(PAGES[path]["page"], title=PAGES[path]["title"], icon=PAGES[path]["icon"], url_path=path,
                    default=i == 0) for i, path in enumerate(paths)]


with app.configured():  # a configuration mistake says what it is, on the page
    if survey_form.requested():  # a member's survey link: its form alone, before sign-in and any data or sidebar
        survey_form.serve()
    viewer = app.viewer()  # signs in (or stops) first: nothing else runs for a stranger
    st.session_state["atlas_audience"] = viewer
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

    if viewer.restricted and viewer.can_open("network"):  # the board: the map first, on a tablet too; the
        st.set_page_config(initial_sidebar_state="collapsed")  # reporting period and sign-out are one click away
    # (only over data: a collapsed sidebar holding nothing to focus is a scrollable region no keyboard can reach)
    navigation = st.navigation(pages(set(viewer.pages)))
    db = app.require_database()
    st.session_state["atlas_filters"] = app.sidebar_filters(db, viewer)
    navigation.run()
    app.prepare_ahead(viewer)  # once this page is drawn: the other pages' first views, built in the background
