"""The floor of the benchmark: a bare two-page Streamlit app, one plotly chart and one table per page.
What Streamlit itself costs to load and to switch pages, measured beside Atlas in the same run (bench/tab.py)."""

import streamlit as st

st.set_page_config(page_title="Floor", layout="wide")
st.navigation([st.Page("pages/one.py", title="One", default=True), st.Page("pages/two.py", title="Two")]).run()
