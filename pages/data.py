"""Data: what the database holds and the imports that built it."""

import streamlit as st

from atlas import app

db = app.require_database()

st.title("Data")
st.caption("What this dashboard is reading, and where it came from.")
st.info(
    "Load a community's own files with `python -m atlas import DIR` (every problem is reported, "
    "nothing half-loads). Coming to this page: templates, upload with a validation report, and data quality."
)
st.dataframe(db.query("data_extent"), hide_index=True, width="stretch")
st.subheader("Imports")
st.dataframe(db.query("import_history"), hide_index=True, width="stretch")
