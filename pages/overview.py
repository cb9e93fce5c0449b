"""Overview: the network's headline figures for the chosen period, against the period before."""

import streamlit as st

from atlas import app, config, escape

viewer = app.page_audience("overview")
app.require_database()
filters = app.current_filters(viewer)

st.title("Collaboration Atlas")
view = app.view("overview.build", filters, min_cell=config.min_cell() if viewer.restricted else None)
before = filters.previous() if view.compared else None
st.caption(f"How the community's agencies work together — {escape.markdown(filters.describe())}"
           + (f", against {escape.markdown(before.describe_period())}" if before else "") + ".")
app.missing_data("overview")

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
        help=figure.help + previous + (f" Hidden: it rests on fewer than {view.min_cell} people, or on a total "
                                       "that would reveal such a number." if figure.withheld else ""),
        border=True,
    )
if not view.compared:
    st.caption("There is no period before this one to compare with." if viewer.restricted else
               "Choose a period other than “All data” to compare with the period before.")
if view.min_cell:
    st.caption(view.note())

passed = app.view("accountability.headline", filters, min_cell=view.min_cell)
sentence = passed.sentence(view.min_cell)
if sentence:  # who holds the case, at network level (for every audience, small cells hidden for board and funder)
    st.markdown(":material/family_restroom: " + sentence + (
        " Journeys are counted by the period and region only, not by service or sector."
        if filters.service_type or filters.sector else "") + (
        " The **Who holds the case** page has the detail." if viewer.can_open("accountability") else ""))

if view.trend_chart is None:
    st.info("No referrals match these filters.")
else:
    app.chart(st, view.trend_chart, width="stretch")
