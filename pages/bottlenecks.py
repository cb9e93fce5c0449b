"""Directors — Bottlenecks: where referrals wait, who turns them away, and what to fix first."""

import streamlit as st

from atlas import app, escape, formats
from atlas.views import bottlenecks

viewer = app.page_audience("bottlenecks")
app.require_database()
filters = app.current_filters(viewer)
app.keep_choices("bottleneck_focus", "pathway_sector")  # made in sections that may be closed

st.title("Bottlenecks")
st.caption(f"Where referrals wait or are turned away — {escape.markdown(filters.describe())}. "
           "Region and sector are those of the receiving agency.")
app.missing_data("bottlenecks")

view = app.view("bottlenecks.build", filters, focus=st.session_state.get("bottleneck_focus"),
                pathway_sector=st.session_state.get("pathway_sector") or None)

if view.agencies.empty:
    st.info("No referrals match these filters.")
    st.stop()

for line in view.reading:
    st.markdown(f"- {line}")

st.subheader("Referral path")
left, right = st.columns([3, 1])
app.chart(left, view.funnel_chart, width="stretch")
declined, pending = (view.funnel.set_index("stage").loc[s] for s in ("declined", "pending"))
right.metric("Declined", f"{declined['referrals']:,.0f}",
             delta=None if declined["previous"] is None else f"{declined['referrals'] - declined['previous']:+,.0f}",
             delta_color="inverse", delta_description="vs previous period", border=True)
right.metric("Still pending", f"{pending['referrals']:,.0f}", border=True,
             help="Neither accepted nor declined yet (older periods have had longer to resolve, so no comparison).")

section, container = app.sections(bottlenecks.SECTIONS, key="bottlenecks_section")
with container:
    if section == "Receiving agencies":
        st.subheader("Receiving agencies")
        st.caption(f"**{bottlenecks.FLAG_COLUMN}**: agencies (with at least 20 referrals) where the share of stalled "
                   "referrals is at least twice the network's (*stalls*), or the median time to accept at least twice "
                   "the typical agency's (*slow to accept*). Click a heading to sort.")
        app.table(st, view.agency_table, column_config={
            bottlenecks.FLAG_COLUMN: st.column_config.TextColumn(width="medium"),
            "Acceptance rate": st.column_config.NumberColumn(format=formats.PERCENT_PRINTF),
            **{c: st.column_config.NumberColumn(format="%.1f") for c in bottlenecks.DAY_COLUMNS},
            **{c: st.column_config.NumberColumn(format="localized") for c in bottlenecks.COUNT_COLUMNS}})
    elif section == "Time in stage":
        st.subheader("Time in stage")
        names = view.agency_names
        st.selectbox("Compare the network with", list(names), index=list(names).index(view.focus),
                     format_func=names.get, key="bottleneck_focus")
        if view.durations_chart is not None:
            app.chart(st, view.durations_chart, width="stretch")
        if view.trend_chart is not None:
            app.chart(st, view.trend_chart, width="stretch")
    elif section == "Stalled referrals":
        st.subheader(f"Stalled referrals ({len(view.stalled):,})")
        st.caption("Neither accepted nor declined, and waiting longer than 14 days — longest wait first. "
                   "Clients appear only as pseudonyms.")
        app.work_list(st, view.stalled, "stalled referrals", height=320,
                  column_config={"Referred": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                                 "Days waiting": st.column_config.NumberColumn(format="%.1f")})
        st.download_button("Download the stalled list (CSV)", view.stalled_csv, file_name="stalled_referrals.csv",
                           mime="text/csv", disabled=view.stalled.empty,
                           on_click="ignore")
    elif section == "Why referrals fail":
        st.subheader("Why referrals fail")
        st.caption("Decline reasons of referrals made in the period. “No capacity” (red) is a capacity signal: "
                   "the service exists but had no room.")
        left, right = st.columns(2)
        if view.declines_by_agency is None:
            left.info("No referral was declined.")
        else:
            app.chart(left, view.declines_by_agency, width="stretch")
            app.chart(right, view.declines_by_service, width="stretch")
        if not view.capacity_signal.empty:
            st.markdown("**Where most declines are for lack of capacity**")
            app.table(st, formats.styled(view.capacity_signal, ["No-capacity share"]))
    elif section == "Pathways":
        st.subheader("Pathways")
        st.selectbox("Show the agencies of one receiving sector", view.receiving_sectors, key="pathway_sector",
                     format_func=lambda s: s.capitalize() if s else "All sectors (no agency detail)")
        if view.pathways is None:
            st.info("No referrals between agencies match these filters.")
        else:
            app.chart(st, view.pathways, width="stretch")
    elif section == "Queues":
        st.subheader("Queues")
        st.caption("Per receiving agency over the period: arrivals and decisions (accepted or declined) per week, the "
                   "backlog of undecided referrals at the start and end, and the wait Little's law implies "
                   "(backlog ÷ decisions per week). Referrals nobody will ever answer stay in the backlog and "
                   "lengthen the implied wait: read it with the lost referrals below.")
        if view.queue_chart is not None:
            app.chart(st, view.queue_chart, width="stretch")
        app.table(st, view.queues, height=320)
    elif section == "Ping-pong and lost clients":
        st.subheader("Ping-pong and lost clients")
        bounced, lost = st.columns(2)
        bounced.metric("Clients bounced", f"{view.ping_pong.clients:,}", border=True,
                       help="Referred three or more times within 30 days without any service starting.")
        lost.metric("Referrals never acknowledged", f"{int(view.lost['Never answered'].sum()):,}",
                    border=True, help="Neither accepted nor declined more than 30 days after being made.")
        bounced.markdown("**Agencies most involved in bounced clients**")
        app.table(bounced, formats.styled(view.ping_pong.agencies, ["share_of_clients"]), column_config={
            "agency_id": None, "agency": "Agency", "clients": "Clients", "share_of_clients": "Share"})
        lost.markdown("**Where referrals go unanswered**")
        app.table(lost, formats.styled(view.lost, ["Share"]),
                  column_config={"Oldest wait (days)": st.column_config.NumberColumn(format="%.0f"),
                                 "Median wait (days)": st.column_config.NumberColumn(format="%.0f")})
        with st.expander(f"The {view.ping_pong.clients:,} bounced clients (pseudonyms)"):
            app.work_list(st, view.ping_pong_clients, "bounced clients")
            st.download_button("Download the bounced clients (CSV)", view.ping_pong_clients_csv,
                               file_name="bounced_clients.csv", mime="text/csv",
                               disabled=view.ping_pong_clients.empty, on_click="ignore")
