"""Board — Network map: the declared partnerships and the referral flows that really run."""

import streamlit as st

from atlas import app

db = app.require_database()
filters = app.current_filters()

st.title("Network map")
st.caption(f"Declared partnerships and whether they carry referrals — {filters.describe()}.")
st.info(
    "Coming to this page: the interactive map of formal ties, informal ties and referral flows, "
    "network scores, resilience and change over time."
)
table = db.query("partnership_activity", **filters.params_for("partnership_activity"))
st.dataframe(table, hide_index=True, width="stretch")
