"""Board — Network map: the declared network (formal and informal ties) over the real one (referral flows)."""

import streamlit as st

from atlas import app, config, escape, formats
from atlas.packs import board
from atlas.views import network, resilience
from atlas.vocab import group_label

viewer = app.page_audience("network")
app.require_database()
filters = app.current_filters(viewer)
# made in sections, or in the focus picker, that may be closed
app.keep_choices("map_closure", "map_tie_min", "map_focus", "map_steps")
min_cell = config.min_cell() if viewer.restricted else None

st.title("Network map")
st.caption(f"Who works with whom, on paper and in practice — {escape.markdown(filters.describe())}. "
           "Agencies are coloured by sector; arrows are referral flows, lines declared ties."
           + (" Another reporting period: open the sidebar (the » at the top left)." if viewer.restricted else ""))
app.missing_data("network")

mode = st.segmented_control(
    "View", ["region", "sector", "agencies"], default="region" if viewer.restricted else "agencies", key="map_view",
    format_func={"region": "Summary by region", "sector": "Summary by sector", "agencies": "Agency map"}.get,
    help="The summary draws one dot per region or sector and the referrals between them; the agency map draws "
         "every agency.") or ("region" if viewer.restricted else "agencies")
group = None
if mode in network.SUMMARY_BY:
    summary = app.view("network.summary_view", filters, by=mode, min_cell=min_cell)
    app.network_map(summary.drawing, key=f"map_summary_drawing_{mode}")
    kind = network.SUMMARY_BY[mode].lower()
    st.caption(f"Referrals between and within each {kind}'s agencies, as the agency map counts them"
               + ("" if min_cell is None else f" (flows of at least {min_cell} referrals; \"hidden\" where "
                                              f"every flow behind a figure is smaller)") + ".")
    with app.folded(f"The map as a table: each {kind} and the referrals between them", key=f"map_summary_table_{mode}",
                    icon=":material/table:") as opened:
        if opened:
            app.table(st, summary.table)
            st.markdown(f"**Referrals from one {kind}'s agencies to another's** (the arrows, {len(summary.between):,})")
            app.table(st, summary.flows_table)
    groups = list(summary.nodes["group"])
    opened = st.selectbox(f"Open the agency map of one {kind}", [""] + groups, key=f"map_group_{mode}",
                          format_func=lambda g: f"Every {kind} (the whole network)" if not g else
                          group_label(mode, g))
    group = (mode, opened) if opened else None
    if group is not None:
        st.subheader(f"Agencies of {escape.markdown(group_label(mode, opened))}")

with st.expander("Map settings: layers, sizes, how many flows", expanded=not viewer.restricted):
    # two rows, so that every pill and every choice reads whole at a laptop's width (in one row of five the
    # third layer's pill slid under the next column)
    controls = st.columns([3, 2]) + st.columns(3)
    layers = controls[0].pills("Show", list(network.LAYERS), selection_mode="multi", default=list(network.LAYERS),
                               format_func=network.LAYERS.get, key="map_layers")
    size_by = controls[2].selectbox("Size agencies by", list(network.SIZE_MEASURES),
                                    format_func=network.SIZE_MEASURES.get, key="map_size")
    default = network.default_choice(min_cell)
    min_referrals = controls[3].number_input("Minimum referrals per flow", min_cell or 1, 10_000,
                                             default.min_referrals, key="map_min", help=None if min_cell is None else
                                             f"Flows of fewer than {min_cell} referrals are never shown in this view.")
    top_edges = controls[4].number_input("Strongest flows drawn", 10, 5_000, default.top_edges, step=50, key="map_top",
                                         help="At most this many flows are drawn, the strongest, and as many declared "
                                              "ties (dormant agreements first). Scores always use every flow.")
    cluster_by = controls[1].selectbox("Group agencies by", list(network.CLUSTER_BY), format_func=network.CLUSTER_BY.get,
                                       key="map_cluster", help="Agencies of a group are drawn together, apart from "
                                       "the other groups: communities are worked out from who refers to whom.")
focus_at = st.container()  # the focus picker, once the view says which agencies there are
choice = network.MapChoice(layers=tuple(layers or ()), size_by=size_by, min_referrals=int(min_referrals),
                           top_edges=int(top_edges), focus=st.session_state.get("map_focus") or None,
                           steps=int(st.session_state.get("map_steps", 1)), group=group, cluster_by=cluster_by)

view = app.view("network.build", filters, choice, min_cell=min_cell)

names = dict(zip(view.agencies["agency_id"], view.agencies["name"]))
# the list of every agency is built only while the picker is open: thousands of options cost the browser
# a tenth of a second on every visit of the page (an expander, not a popover: its content follows its
# button in the page, where Tab goes next)
focused = names.get(view.choice.focus)
with focus_at:
    with app.folded("Focus on an agency", key="map_focus_open", icon=":material/center_focus_strong:") as opened:
        if opened:
            pick, steps = st.columns([3, 1])
            pick.selectbox("Focus on an agency (its partners highlighted)", [""] + sorted(names, key=names.get),
                           format_func=lambda a: names.get(a, "No focus"), key="map_focus",
                           help="The agency and its partners are drawn in colour on the map, the rest greyed, and its "
                                "partners are listed under the map.")
            steps.radio("Steps out", [1, 2], horizontal=True, key="map_steps",
                        help="Its partners (1), or their partners too (2).")
    if focused:  # said beside the picker, open or closed (its label stays put, so the keyboard's place is kept)
        st.caption(f"The map is focused on **{escape.markdown(focused)}**: it and its partners "
                   f"{'' if view.choice.steps == 1 else 'and their partners '}are in colour, the rest greyed.")

if mode == "agencies" or group is not None:
    app.network_map(view.drawing, key="map_drawing")
else:
    st.info("Open the agency map of one region or sector above, or choose **Agency map** to draw every agency. The "
            "tables below are the whole network's.", icon=":material/hub:")
st.caption(f"{view.flows_drawn:,} of {view.flows_total:,} flows drawn (the strongest); hover an agency or a line "
           "for its figures, scroll to zoom, drag to pan. "
           + (f"{view.hidden_referrals:,} referrals to or from victim-service agencies are counted in the totals "
              "but never drawn. " if view.hidden_referrals else "")
           + ("" if min_cell is None else f"Victim-service agencies are never drawn, and flows of fewer than "
              f"{min_cell} referrals are left out of the map, its figures and its exports. ")
           + (f"{view.not_drawn:,} agencies with no flow or tie on the map are left out of it (they are in the "
              "scores table below)." if view.not_drawn else ""))
if mode == "agencies" or group is not None:
    with app.folded("The map as a table: its agencies and the lines between them", key="map_table",
                    icon=":material/table:") as opened:
        if opened:
            st.caption("What the map draws, as its tooltips say it"
                       + ("" if min_cell is None else f": referrals count flows of at least {min_cell}, and read "
                                                      "\"hidden\" where every flow behind them is smaller") + ".")
            st.markdown(f"**Agencies on the map** ({len(view.layout.agencies):,})")
            app.table(st, view.map_agencies)
            if "flows" in view.choice.layers:
                st.markdown(f"**Referral flows** (the arrows, {view.flows_drawn:,})")
                app.table(st, view.map_flows)
            if {"formal", "informal"} & set(view.choice.layers):
                ties = view.map_ties
                st.markdown(f"**Declared ties** (the lines without arrows, {len(ties):,}; trust and value as partners "
                            "rate them, 1 to 4)")
                app.table(st, ties)

if not view.focus_partners.empty:
    st.subheader(f"Partners of {escape.markdown(names[view.choice.focus])}")
    app.table(st, view.focus_partners)

section, container = app.sections(network.SECTIONS + ([] if viewer.restricted else network.DIRECTOR_SECTIONS),
                                  key="network_section")
with container:
    if section == "Formal versus real":
        st.subheader("Formal versus real")
        real = view.formal_real
        st.caption("Where the declared network and the real one part ways, over the flows scored (of at least "
                   f"{view.choice.min_referrals:,} referrals in the period).")
        figures = st.container(horizontal=True, gap="medium")  # the figures wrap, never cut, in a narrow window
        figures.metric("Flows without an agreement", formats.count(real.unagreed_flows), width="content",
                       help="Referral flows, one agency to another, with no formal agreement in force between the "
                            "two: an informal tie or no declared tie.")
        figures.metric("Referrals, no agreement", formats.percent(real.unagreed_share), width="content",
                       help=f"{real.unagreed_referrals:,} of the {real.referrals:,} referrals of the flows scored run "
                            "with no formal agreement behind them.")
        figures.metric("Dormant agreements", f"{real.dormant:,} of {real.ties:,}", width="content",
                       help="Declared partnerships, formal or informal, in force in the period that carried no "
                            "referral either way.")
        figures.metric("One-way pairs", formats.count(real.one_way), width="content",
                       help=f"Pairs where at least {real.one_way_min:,} referrals went one way and none came back.")
        # the lists are built only when opened: their three tables were a third of each visit of the page
        with app.folded(f"Flows without an agreement ({real.unagreed_flows:,}), heaviest first",
                        key="map_informal_open", icon=":material/table:") as opened:
            if opened:
                listed = len(view.informal_flows)
                st.caption("The heaviest are candidates for an MOU."
                           + (f" The first {listed:,} of {real.unagreed_flows:,} are listed here."
                              if listed < real.unagreed_flows else ""))
                app.table(st, view.informal_flows)
        with app.folded(f"Dormant agreements ({real.dormant:,})", key="map_dormant_open",
                        icon=":material/table:") as opened:
            if opened:
                app.table(st, view.dormant,
                          column_config={"Since": st.column_config.DateColumn(format=formats.DATE_MOMENT)})
        with app.folded(f"One-way pairs ({real.one_way:,}), heaviest first", key="map_one_way_open",
                        icon=":material/table:") as opened:
            if opened:
                app.work_list(st, view.one_way, "one-way pairs")  # tens of thousands in a state's network
                st.download_button("Download the one-way pairs (CSV)", lambda: network.one_way_csv(view),
                                   file_name="one_way_pairs.csv", mime="text/csv", on_click="ignore")
    elif section == "Partnership quality":
        st.subheader("Partnership quality")
        quality = app.view("ties.build", filters, min_cell=min_cell)
        q = quality.scores
        st.caption("How partners rate their ties in partner surveys (trust and value, 1 to 4, in the manner of the PARTNER "
                   "tool), beside the referrals the ties really carry. On the map, a tie rated 1 or 2 in trust is dotted.")
        rated = st.columns(3)
        rated[0].metric("Ties rated", f"{q['rated_trust']:,} of {q['ties']:,}",
                        help="Declared partnerships in force in the period with a trust rating (victim-service ties aside).")
        for column, name in ((rated[1], "trust"), (rated[2], "value")):
            column.metric(f"Mean {name}", "—" if q[f"mean_{name}"] is None else f"{q[f'mean_{name}']:.1f} of 4",
                          help=None if q[f"sd_{name}"] is None else
                          f"Spread (standard deviation) {q[f'sd_{name}']:.2f} over {q[f'rated_{name}']:,} rated ties.")
        strained, idle, rated_by = st.tabs([f"Low trust, heavy flows ({len(quality.strained):,})",
                                            f"High trust, no flows ({len(quality.idle):,})",
                                            "How partners rate each agency"])
        strained.caption("Ties rated 1 or 2 in trust that carry referrals, heaviest first: work done in spite of the "
                         "relationship." + ("" if min_cell is None else f" Only ties carrying at least {min_cell} referrals "
                                            "are listed, without their count."))
        app.table(strained, quality.strained)
        idle.caption("Ties rated 3 or 4 in trust that carried no referral either way: goodwill not yet used.")
        app.table(idle, quality.idle)
        rated_by.caption("Each agency's rated ties, lowest mean trust first (a tie rates both its agencies).")
        app.table(rated_by, quality.ratings, column_config={
            "Mean trust": st.column_config.NumberColumn(format="%.1f"), "Mean value": st.column_config.NumberColumn(format="%.1f")})
    elif section == "Network scores":
        st.subheader("Network scores")
        s = view.summary
        figures = st.columns(5)
        figures[0].metric("Agencies", formats.count(s["agencies"]),
                          help="Agencies drawn (victim-service agencies are not).")
        figures[1].metric("Density", formats.percent(s["density"]),
                          help="Share of all possible directed agency pairs that carry at least one referral flow.")
        figures[2].metric("Reciprocity", formats.percent(s["reciprocity"]),
                          help="Share of flows that are returned: B also refers to A when A refers to B.")
        figures[3].metric("Centralization", "—" if s["centralization"] is None else f"{s['centralization']:.2f}",
                          help="0 when every agency has as many partners as the best-connected one; 1 when one hub "
                               "is tied to everyone and nobody else is tied (a star).")
        figures[4].metric("Cut points", f"{s['cut_points']:,}", help="Agencies whose closure would split the network.")
        st.caption(
            "Per agency: **referred in by / refers out to** count partner agencies; **referrals in / out** count referrals; "
            "**brokerage** (betweenness) is the share of shortest referral paths between other agencies that pass through "
            "it — high brokers connect parts of the network that would otherwise be far apart"
            + ("" if s["exact_betweenness"] else " (estimated from paths of up to three steps in a network this large)")
            + "; **community** groups agencies that refer mostly among themselves; a **cut point** is an agency whose "
            "closure would cut others off."
        )
        app.table(st, view.scores, height=360,
                  column_config={"Brokerage (betweenness)": st.column_config.NumberColumn(format="%.3f")})
        if not view.cut_points.empty:
            st.markdown("**Cut points: if this agency closed, the agencies on the map that would lose every tie to "
                        "the rest**")
            app.table(st, view.cut_points, column_config={
                "agency_id": None, "agency": "Agency", "cut_off": st.column_config.NumberColumn("Agencies cut off"),
                "agencies_cut_off": st.column_config.TextColumn("Which", width="large")})
        if viewer.restricted:
            st.info("Which referrals an agency's closure would leave without a destination, who could absorb them, and how "
                    "ties changed since the period before are worked out referral by referral: they are on the directors' "
                    "view of this page. The cut points above use only the flows drawn on this map.", icon=":material/lock:")
    elif section == "If an agency closed":
        st.subheader("If an agency closed")
        closing = st.selectbox("Choose an agency to see what its closure would cut", [""] + sorted(names, key=names.get),
                               format_func=lambda a: names.get(a, "Choose an agency"), key="map_closure")
        if closing:
            closure = app.view("resilience.closure", filters, closing)
            for line in closure.summary:
                st.markdown(f"- {line}")
            st.caption("Judged over the whole network in the period and service type: a region or sector filter does not "
                       "narrow it. An agency is a referrer's **usual destination** for a service when it receives at least "
                       "half of that referrer's referrals of the service. **Shared referrers** are the closing agency's "
                       "referrers that already send the same service to the other agency. An agency is **cut off** when "
                       "all its referrals in the period, either way, were with the closing agency.")
            lost_tab, absorb_tab, referrers_tab, cut_tab = st.tabs([
                f"Referrals that lose their destination ({closure.total_referrals:,})",
                f"Who could absorb them ({len(closure.absorbers):,})",
                f"Referring agencies ({len(closure.referrers):,})",
                f"Agencies cut off ({len(closure.disconnected):,})"])
            shares = ["Acceptance rate", "Share of all such referrals", "Share sent here"]
            app.table(lost_tab, formats.styled(closure.received_table, shares))
            app.table(absorb_tab, formats.styled(closure.absorbers_table, shares))
            app.table(referrers_tab, formats.styled(closure.referrers_table, shares))
            app.table(cut_tab, closure.disconnected_table)
    elif section == "Change since the previous period":
        st.subheader("Change since the previous period")
        tie_min = st.number_input("Referrals that make a tie (both ways, in a period)", 1, 10_000, resilience.MIN_REFERRALS,
                                  key="map_tie_min")
        moved = app.view("resilience.change", filters, min_referrals=int(tie_min))
        if not moved.comparable:
            st.info(moved.reason)
        else:
            for line in moved.summary:
                st.markdown(f"- {line}")
            if moved.chart is not None:
                app.chart(st, moved.chart, width="stretch")
            gained_tab, lost_tab, centre_tab, edge_tab = st.tabs([
                f"Ties gained ({len(moved.gained):,})", f"Ties lost ({len(moved.lost):,})",
                f"Moved to the centre ({len(moved.to_centre):,})", f"Moved to the edge ({len(moved.to_edge):,})"])
            app.table(gained_tab, moved.gained_table)
            app.table(lost_tab, moved.lost_table)
            app.table(centre_tab, moved.to_centre_table)
            app.table(edge_tab, moved.to_edge_table)

st.subheader("Board pack")
pack_period, pack_files = app.board_pack(filters)
if pack_files is None:
    st.caption("The board pack covers a whole calendar quarter or year, and the data does not hold one yet.")
else:
    st.caption(f"For a board meeting: the summary and agency maps as pictures, the network scores against the period "
               f"before, formal versus real and partnership quality, with a plain-language first page — for "
               f"**{escape.markdown(pack_period.describe_period())}**, the whole network, with the board's protections "
               f"(small flows hidden, victim-service agencies never named). Preparing it takes a few seconds.")
    pack_stem = board.file_stem(pack_period)
    pack_columns = st.columns(2)
    pack_columns[0].download_button("Board pack (PDF)", pack_files[1], file_name=f"{pack_stem}.pdf",
                                    mime="application/pdf", icon=":material/picture_as_pdf:", on_click="ignore",
                                    width="stretch")
    pack_columns[1].download_button("Board pack (HTML)", pack_files[0], file_name=f"{pack_stem}.html",
                                    mime="text/html", icon=":material/article:", on_click="ignore", width="stretch")

st.subheader("Take it away")  # the files are made when asked for (the graph formats take a second at 5,000 agencies)
downloads = st.columns(4)
downloads[0].download_button("Map (HTML)", lambda: view.html, file_name="network_map.html", mime="text/html",
                              on_click="ignore")
downloads[1].download_button("Graph (GEXF, for Gephi)", lambda: network.gexf(view), file_name="network.gexf",
                             mime="application/xml", on_click="ignore")
downloads[2].download_button("Graph (GraphML)", lambda: network.graphml(view), file_name="network.graphml",
                             mime="application/xml", on_click="ignore")
downloads[3].download_button("Scores (CSV)", lambda: network.scores_csv(view), file_name="network_scores.csv",
                             mime="text/csv", on_click="ignore")
