"""Directors — Who holds the case: families passed between agencies with no one taking them on, dropped
hand-offs and the sectors that turn each other down."""

import streamlit as st

from atlas import app, escape, formats
from atlas.views import accountability

viewer = app.page_audience("accountability")
app.require_database()
filters = app.current_filters(viewer)

st.title("Who holds the case")
st.caption(f"When several agencies are involved with one family, does one of them hold the case? — "
           f"{escape.markdown(filters.describe())}. A client's referrals less than 30 days apart form one journey; "
           "region is that of the agency that made its first referral (service type and sector filters do not "
           "apply here). Definitions: docs/metrics.md, “Who holds the case”.")
app.missing_data("accountability")

view = app.view("accountability.build", filters)
for line in view.reading:
    st.markdown(f"- {line}")

summary = view.summary
figures = st.columns(2) + st.columns(2)  # two by two: each label reads whole at a laptop's width
figures[0].metric("Client journeys", f"{int(summary['journeys']):,}", border=True)
figures[1].metric("Multi-agency journeys", f"{int(summary['multi_agency']):,}", border=True,
                  help="Journeys whose referrals reached two or more receiving agencies.")
figures[2].metric("With an agency holding the case", formats.percent(view.lead_share), border=True,
                  help=f"Multi-agency journeys with a lead agency: {int(summary['multi_agency_with_lead']):,}. "
                       f"Recorded by the referrer on {int(summary['lead_recorded']):,} journeys; otherwise the first "
                       "agency to accept.")
figures[3].metric("Passed around, no one took them on", f"{int(summary['unheld']):,}", border=True,
                  help="Multi-agency journeys with no lead agency in which a referral was declined or is stalled.")

st.subheader("Is someone holding the case?")
if view.trend_chart is not None:
    app.chart(st, view.trend_chart, width="stretch")

section, container = app.sections(accountability.SECTIONS, key="accountability_section")
with container:
    if section == "Families no one took on":
        st.subheader(f"Families no one took on ({len(view.unheld):,})")
        st.caption("Unheld multi-agency journeys, the longest untouched first. Clients appear only as pseudonyms.")
        app.work_list(st, view.unheld, "families", height=360, column_config={
            "First referral": st.column_config.DatetimeColumn(format="YYYY-MM-DD"),
            "Last recorded step": st.column_config.DatetimeColumn(format="YYYY-MM-DD"),
            "Days since": st.column_config.NumberColumn(format="%.0f")})
        st.download_button("Download the list (CSV)", view.unheld_csv, file_name="unheld_journeys.csv",
                           mime="text/csv", disabled=view.unheld.empty, icon=":material/download:", on_click="ignore")
    elif section == "Dropped hand-offs":
        st.subheader("Dropped hand-offs")
        st.caption("A declined referral is dropped when nobody refers the client again within 14 days; it is charged to "
                   "the referrer, who still held the client. Declines less than 14 days old are still open. Ranked are "
                   "referrers with at least 20 closed declines.")
        if view.referrers_chart is not None:
            app.chart(st, view.referrers_chart, width="stretch")
        app.table(st, view.referrers, column_config={
            "Dropped share": st.column_config.NumberColumn(format=formats.PERCENT_PRINTF)})
    elif section == "Sectors that turn each other down":
        st.subheader("Sectors that turn each other down")
        st.caption("Each cell: how many times likelier than the network's referrals a referral from the row's sector to "
                   "the column's was declined, over referrals decided in the period. ⇄ marks a mutual friction pair: at "
                   "least 30 decided referrals each way and at least 1.5× both ways.")
        if view.friction_chart is not None:
            app.chart(st, view.friction_chart, width="stretch")
