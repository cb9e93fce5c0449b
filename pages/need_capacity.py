"""Directors — Need vs capacity: where demand outruns the slots the network offers."""

import streamlit as st

from atlas import app

db = app.require_database()
filters = app.current_filters()

st.title("Need vs capacity")
st.caption(f"Need, referral demand and capacity by region, service and month — {filters.describe()}.")
st.info(
    "Coming to this page: the need-versus-capacity chart, the gap heatmap, utilization, "
    "no-capacity declines, a three-month outlook and where to invest. The sector filter does not apply here."
)
table = db.query("need_vs_capacity", **filters.params_for("need_vs_capacity"))
st.dataframe(table, hide_index=True, width="stretch")
