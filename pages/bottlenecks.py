"""Directors — Bottlenecks: where referrals wait, and who turns them away."""

import streamlit as st

from atlas import app

db = app.require_database()
filters = app.current_filters()

st.title("Bottlenecks")
st.caption(f"Receiving agencies ranked by stalled referrals — {filters.describe()}.")
st.info(
    "Coming to this page: the referral funnel against the previous period, time in stage, "
    "the stalled-referral work list, decline reasons, pathways and queueing."
)
table = db.query("agency_bottlenecks", **filters.params_for("agency_bottlenecks"))
st.dataframe(table, hide_index=True, width="stretch")
