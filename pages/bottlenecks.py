"""Directors — Bottlenecks: where referrals wait, who turns them away, and what to fix first."""

import streamlit as st

from atlas import app, bottlenecks

db = app.require_database()
filters = app.current_filters()

st.title("Bottlenecks")
st.caption(f"Where referrals wait or are turned away — {filters.describe()}. "
           "Region and sector are those of the receiving agency.")

view = bottlenecks.build(db, filters, focus=st.session_state.get("bottleneck_focus"))

if view.agencies.empty:
    st.info("No referrals match these filters.")
    st.stop()

for line in view.reading:
    st.markdown(f"- {line}")

st.subheader("Referral path")
left, right = st.columns([3, 1])
left.plotly_chart(view.funnel_chart, width="stretch")
declined, pending = (view.funnel.set_index("stage").loc[s] for s in ("declined", "pending"))
right.metric("Declined", f"{declined['referrals']:,.0f}",
             delta=None if declined["previous"] is None else f"{declined['referrals'] - declined['previous']:+,.0f}",
             delta_color="inverse", delta_description="vs previous period", border=True)
right.metric("Still pending", f"{pending['referrals']:,.0f}", border=True,
             help="Neither accepted nor declined yet (older periods have had longer to resolve, so no comparison).")

st.subheader("Receiving agencies")
st.caption("Highlighted: agencies (with at least 20 referrals) where the share of stalled referrals is at least "
           "twice the network's, or the median time to accept at least twice the typical agency's. "
           "Click a heading to sort.")
st.dataframe(view.agency_table, hide_index=True, width="stretch")

st.subheader("Time in stage")
names = dict(zip(view.agencies["agency_id"], view.agencies["name"]))
st.selectbox("Compare the network with", list(names), index=list(names).index(view.focus),
             format_func=names.get, key="bottleneck_focus")
if view.durations_chart is not None:
    st.plotly_chart(view.durations_chart, width="stretch")
if view.trend_chart is not None:
    st.plotly_chart(view.trend_chart, width="stretch")

st.subheader(f"Stalled referrals ({len(view.stalled):,})")
st.caption("Neither accepted nor declined, and waiting longer than 14 days — longest wait first. "
           "Clients appear only as pseudonyms.")
st.dataframe(view.stalled, hide_index=True, width="stretch", height=320,
             column_config={"Referred": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                            "Days waiting": st.column_config.NumberColumn(format="%.1f")})
st.download_button("Download the stalled list (CSV)", view.stalled_csv, file_name="stalled_referrals.csv",
                   mime="text/csv", disabled=view.stalled.empty)
