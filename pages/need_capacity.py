"""Directors — Need vs capacity: where need and demand outrun the slots on offer, and where they will next."""

import streamlit as st

from atlas import app, escape
from atlas.views import need

viewer = app.page_audience("need_capacity")
app.require_database()
filters = app.current_filters(viewer)
app.keep_choices("need_measure")  # made in sections that may be closed

st.title("Need vs capacity")
st.caption(f"Assessed need, referral demand and service slots by region, service and month — {escape.markdown(filters.describe())}. "
           "Need is assessed by region, so the sector filter does not apply here, except to the list of agencies "
           "running over capacity. Referrals count in the month they were made, at the receiving agency's region.")
app.missing_data("need_capacity")


def _pick_cell():
    """A cell chosen in the gap grid is the cell the charts follow (before the selectboxes are drawn): its row's
    region and its column's service; a service's heading chooses the service alone."""
    chosen = st.session_state["need_grid"].selection
    region, service = need.grid_cell(chosen.cells, chosen.columns, st.session_state["need_grid_axes"])
    if region:
        st.session_state["need_region"] = region
    if service:
        st.session_state["need_service"] = service


view = app.view("need.build", filters, region=st.session_state.get("need_region"),
                service=st.session_state.get("need_service"),
                measure=st.session_state.get("need_measure", "unmet_share"))

if view.gaps.empty:
    st.info("No need, referrals or slots match these filters.")
    st.stop()

for line in view.reading:
    st.markdown(f"- {line}")

st.subheader("Need, referrals and slots")
for key, value in (("need_region", view.region), ("need_service", view.service)):
    if st.session_state.get(key) != value:  # a filter change can leave an old choice out of reach
        st.session_state[key] = value
left, right = st.columns(2)
left.selectbox("Region shown", view.regions, key="need_region")
right.selectbox("Service shown", view.services, format_func=need.service_label, key="need_service")
if view.cell_chart is not None:
    app.chart(st, view.cell_chart, width="stretch")
    st.caption("The shaded band is the unmet need: people in need beyond the slots on offer that month. "
               "Referrals are the demand that reached an agency; need counts everyone assessed, referred or not.")
else:
    st.info("Nothing is recorded for this region and service in the period.")

section, container = app.sections(need.SECTIONS, key="need_section")
with container:
    if section == 'Where the gaps are':
        st.subheader("Where the gaps are")
        st.radio("Colour the cells by", list(need.MEASURES), format_func=need.MEASURES.get, horizontal=True,
                 key="need_measure")
        st.caption("Share of need unmet: unmet need over people in need, month by month, across the period; the darker "
                   "red, the more is unmet. Utilization: referrals over slots (above 100 %, more people were sent than "
                   "there were places); teal below 100 %, red above. \"No slots\" on grey: need, and no program of the "
                   "service in the region. Regions and services with the largest gaps come first. Choose a cell (or a "
                   "service's heading), or pick it above, to follow it in the charts.")
        if view.grid is not None:
            # the chosen cell is the grid's selection, however it was chosen (a click here or the selectboxes)
            st.session_state["need_grid_axes"] = view.grid_axes
            chosen = view.grid_selection
            held = st.session_state.get("need_grid", {}).get("selection", {})
            if list(held.get("cells", [])) != chosen["selection"]["cells"] or held.get("columns"):
                st.session_state["need_grid"] = chosen
            app.table(st, view.grid, key="need_grid", on_select=_pick_cell, selection_mode=["single-cell", "single-column"],
                      placeholder="", alt=f"{need.MEASURES[view.measure]} by region and service")
            if view.figures:
                st.markdown(view.figures)
    elif section == 'Utilization':
        st.subheader("Utilization")
        st.markdown("**Agency service lines over capacity** — referrals received against the slots of the agency's programs "
                    "of that service.")
        if view.over.empty:
            st.info("No agency received more referrals than it had slots in the period.")
        else:
            app.table(st, need.styled(view.over), height=min(400, 38 + 35 * len(view.over)))
        if view.unrecorded:
            st.caption(f"{view.unrecorded:,} agency service lines received referrals with no slots recorded; "
                       "they are left out, since their capacity is unknown.")
        st.markdown("**Slots that could move** — slots a month beyond both the region's own need and its referrals, while "
                    "need for the same service goes unmet in another region: a shift of slots, not new money.")
        if view.shifts.empty:
            st.info("No spare slots sit beside unmet need elsewhere in the period.")
        else:
            app.table(st, need.styled(view.shifts))
            if filters.region:
                st.caption("Every region of a service is shown, since slots move between regions.")
    elif section == 'Two signals of scarcity':
        st.subheader("Two signals of scarcity")
        st.caption("Full slots (from capacity records) and referrals declined for 'no capacity' (from the referral "
                   "system) are recorded independently; where both are high, the shortage is real.")
        if view.signals_chart is not None:
            app.chart(st, view.signals_chart, width="stretch")
            if view.agreement:
                st.markdown(view.agreement)
            app.table(st, need.styled(need.signal_table(view.signals)), height=250)
        else:
            st.info("No referrals and slots to compare in the period.")
    elif section == 'Outlook':
        st.subheader("Outlook")
        if view.outlook_chart is None:
            st.info("Not enough complete months to look ahead.")
        else:
            st.caption(
                f"Forecast for {view.quarter}, from every complete month up to {view.origin:%B %Y}. Method: each coming "
                "month is the same month in up to three past years, each brought up to date by the average year-on-year "
                "change over the last 12 months (a seasonal naive forecast with drift). With less than 13 months of "
                "history it is the average of the last three. The band is an 80 % range, sized from how far the same rule "
                "missed over the last 12 months." + ("" if view.method == "seasonal" else
                                                    " This history is short, so the forecast is the recent average."))
            app.chart(st, view.outlook_chart, width="stretch")
            st.markdown(f"**Where the gap will be largest in {view.quarter}** — forecast need against forecast slots "
                        "(the last month's, carried forward), with the last three months beside it. Ranked by how sure the "
                        "gap is (the low end of the unmet share's 95% interval), so a large share of a few people can rank "
                        "below a smaller share of many.")
            if view.outlook.empty:
                st.info("No gap is forecast for the next three months.")
            else:
                app.table(st, need.styled(view.outlook))
    elif section == 'Where to invest':
        st.subheader("Where to invest")
        if view.invest.empty and view.no_slots.empty:
            st.info("No gap between need and slots persisted through the last months of the period.")
        else:
            st.caption(f"Gaps sustained over {view.window}: need exceeded the slots in at least 3 of those "
                       f"{view.window_months} months (the last of the period). "
                       "Ranked by the share of need unmet, discounted for small numbers (the lower end of its 95 % "
                       "confidence interval), so a few people cannot outrank a large gap. The slots to add are the unmet "
                       "need of the typical month (rounded up) and of the worst. Click a heading to sort.")
            if not view.invest.empty:
                app.table(st, need.styled(view.invest))
            if not view.no_slots.empty:
                st.markdown("**Need with no slots in the region** — no program of this service there; clients may be "
                            "referred to another region, or not served at all.")
                app.table(st, need.styled(view.no_slots))
            st.download_button("Download the sustained gaps (CSV)", view.invest_csv, file_name="sustained_gaps.csv",
                               mime="text/csv", on_click="ignore")
