"""Collaboration Atlas: the Streamlit entrypoint. Declares the navigation and the shared filters."""

import streamlit as st

from atlas import app

st.set_page_config(page_title="Collaboration Atlas", page_icon=":material/hub:", layout="wide")

DATA = st.Page("pages/data.py", title="Data", icon=":material/database:")

if not app.has_database():
    # Before the first import only the Data page is offered: it is where the first import happens.
    navigation = st.navigation({"Data": [DATA]})
    st.sidebar.info("No data yet: load your community's files on the Data page, or build the demo with "
                    "`python -m atlas demo`.")
    navigation.run()
    st.stop()

navigation = st.navigation(
    {
        "Atlas": [st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True)],
        "Directors": [
            st.Page("pages/bottlenecks.py", title="Bottlenecks", icon=":material/hourglass_top:"),
            st.Page("pages/need_capacity.py", title="Need vs capacity", icon=":material/balance:"),
        ],
        "Board": [st.Page("pages/network.py", title="Network map", icon=":material/hub:")],
        "Funders": [st.Page("pages/outcomes.py", title="Outcomes", icon=":material/verified:")],
        "Data": [DATA],
    }
)

db = app.require_database()
st.session_state["atlas_filters"] = app.sidebar_filters(db)
navigation.run()
