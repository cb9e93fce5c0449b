"""Overview: the network's headline figures for the chosen period, against the period before."""

import streamlit as st

from atlas import app, overview

db = app.require_database()
filters = app.current_filters()

st.title("Collaboration Atlas")
st.caption(f"How the community's agencies work together — {filters.describe()}.")

view = overview.build(db, filters)

columns = st.columns(3) + st.columns(3)
for column, figure in zip(columns, view.figures):
    previous = f" Previous period: {figure.text(figure.previous)}." if figure.previous is not None else ""
    column.metric(
        figure.label,
        figure.text(),
        delta=figure.change_text(),
        delta_color=figure.delta_color,
        delta_arrow="off" if figure.unchanged else "auto",
        delta_description="vs previous period" if view.compared else None,
        help=figure.help + previous,
        border=True,
    )
if not view.compared:
    st.caption("Choose a period other than “All data” to compare with the period before.")

if view.trend_chart is None:
    st.info("No referrals match these filters.")
else:
    st.plotly_chart(view.trend_chart, width="stretch")
