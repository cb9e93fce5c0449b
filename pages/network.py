"""Board — Network map: the declared network (formal and informal ties) over the real one (referral flows)."""

import streamlit as st

from atlas import app, config, escape, formats
from atlas.packs import board
from atlas.views import network, resilience
from atlas.vocab import group_label

TABLE = ":material/table:"


def draw_formal_real(view, names):
    real = view.formal_real
    st.caption("Where the declared network and the real one part ways, over the flows scored (of at least "
               f"{view.choice.min_referrals:,} referrals in the period).")
    figures = st.container(horizontal=True, gap="medium")  # the figures wrap, never cut, in a narrow window
    for name, value, meaning in network.formal_real_figures(real):
        figures.metric(name, value, width="content", help=meaning)
    with app.folded("Between regions: over a formal agreement or without one", key="map_region_formal_open",
                    icon=TABLE) as opened:
        if opened and view.region_pairs is not None:
            st.caption(network.region_formal_caption(view, min_cell))
            app.table(st, view.region_formal)
    # the lists are built only when opened: their three tables were a third of each visit of the page
    with app.folded(f"Flows without an agreement ({real.unagreed_flows:,}), heaviest first",
                    key="map_informal_open", icon=TABLE) as opened:
        if opened:
            st.caption(network.informal_caption(len(view.informal_flows), real.unagreed_flows))
            app.table(st, view.informal_flows)
    with app.folded(f"Dormant agreements ({real.dormant:,})", key="map_dormant_open", icon=TABLE) as opened:
        if opened:
            app.table(st, view.dormant, column_config={"Since": st.column_config.DateColumn(format=formats.DATE_MOMENT)})
    with app.folded(f"One-way pairs ({real.one_way:,}), heaviest first", key="map_one_way_open", icon=TABLE) as opened:
        if opened:
            app.work_list(st, view.one_way, "one-way pairs")  # tens of thousands in a state's network
            st.download_button("Download the one-way pairs (CSV)", lambda: network.one_way_csv(view),
                               file_name="one_way_pairs.csv", mime="text/csv", on_click="ignore")


def draw_quality(view, names):
    quality = app.view("ties.build", filters, min_cell=min_cell)
    st.caption(network.QUALITY_WORDS)
    figures = st.container(horizontal=True, gap="medium")  # the survey's round-level figures join them
    for name, value, meaning in network.quality_figures(quality.scores, quality.survey):
        figures.metric(name, value, width="content", help=meaning)
    strained, idle, rated_by = st.tabs([f"Low trust, heavy flows ({len(quality.strained):,})",
                                        f"High trust, no flows ({len(quality.idle):,})", "How partners rate each agency"])
    strained.caption(network.strained_caption(min_cell))
    app.table(strained, quality.strained)
    idle.caption("Ties rated 3 or 4 in trust that carried no referral either way: goodwill not yet used.")
    app.table(idle, quality.idle)
    rated_by.caption("Each agency's rated ties, lowest mean trust first (a tie rates both its agencies).")
    app.table(rated_by, quality.ratings, column_config={
        "Mean trust": st.column_config.NumberColumn(format="%.1f"), "Mean value": st.column_config.NumberColumn(format="%.1f")})


def draw_scores(view, names):
    s = view.summary
    figures = st.columns(5)
    figures[0].metric("Agencies", formats.count(s["agencies"]), help="Agencies drawn (victim-service agencies are not).")
    figures[1].metric("Density", formats.percent(s["density"]),
                      help="Share of all possible directed agency pairs that carry at least one referral flow.")
    figures[2].metric("Reciprocity", formats.percent(s["reciprocity"]),
                      help="Share of flows that are returned: B also refers to A when A refers to B.")
    figures[3].metric("Centralization", "—" if s["centralization"] is None else f"{s['centralization']:.2f}",
                      help="0 when every agency has as many partners as the best-connected one; 1 when one hub "
                           "is tied to everyone and nobody else is tied (a star).")
    figures[4].metric("Cut points", f"{s['cut_points']:,}", help="Agencies whose closure would split the network.")
    st.caption(network.scores_words(s["exact_betweenness"]))
    app.table(st, view.scores, height=360,
              column_config={"Brokerage (betweenness)": st.column_config.NumberColumn(format="%.3f")})
    if not view.cut_points.empty:
        st.markdown("**Cut points: if this agency closed, the agencies on the map that would lose every tie to the rest**")
        app.table(st, view.cut_points, column_config={
            "agency_id": None, "agency": "Agency", "cut_off": st.column_config.NumberColumn("Agencies cut off"),
            "agencies_cut_off": st.column_config.TextColumn("Which", width="large")})
    if viewer.restricted:
        st.info(network.RESTRICTED_SCORES, icon=":material/lock:")


def draw_closure(view, names):
    closing = st.selectbox("Choose an agency to see what its closure would cut", [""] + sorted(names, key=names.get),
                           format_func=lambda a: names.get(a, "Choose an agency"), key="map_closure")
    if not closing:
        return
    closure = app.view("resilience.closure", filters, closing)
    for line in closure.summary:
        st.markdown(f"- {line}")
    st.caption(network.CLOSURE_WORDS)
    tabs = st.tabs([f"Referrals that lose their destination ({closure.total_referrals:,})",
                    f"Who could absorb them ({len(closure.absorbers):,})", f"Referring agencies ({len(closure.referrers):,})",
                    f"Agencies cut off ({len(closure.disconnected):,})"])
    for tab, table in zip(tabs, (closure.received_table, closure.absorbers_table, closure.referrers_table)):
        app.table(tab, formats.styled(table, network.CLOSURE_SHARES))
    app.table(tabs[3], closure.disconnected_table)


def draw_change(view, names):
    tie_min = st.number_input("Referrals that make a tie (both ways, in a period)", 1, 10_000, resilience.MIN_REFERRALS,
                              key="map_tie_min")
    moved = app.view("resilience.change", filters, min_referrals=int(tie_min))
    if not moved.comparable:
        st.info(moved.reason)
        return
    for line in moved.summary:
        st.markdown(f"- {line}")
    chart = moved.chart
    if chart is not None:
        app.chart(st, chart, width="stretch")
    tabs = st.tabs([f"Ties gained ({len(moved.gained):,})", f"Ties lost ({len(moved.lost):,})",
                    f"Moved to the centre ({len(moved.to_centre):,})", f"Moved to the edge ({len(moved.to_edge):,})"])
    for tab, table in zip(tabs, (moved.gained_table, moved.lost_table, moved.to_centre_table, moved.to_edge_table)):
        app.table(tab, table)


# what draws each section below the map (network.PAGE_SECTIONS), called with the view and its agencies' names
DRAW = {network.FORMAL_REAL: draw_formal_real, network.QUALITY: draw_quality, network.SCORES: draw_scores,
        network.CLOSURE: draw_closure, network.CHANGE: draw_change}

viewer = app.page_audience("network")
app.require_database()
filters = app.current_filters(viewer)
app.keep_choices("map_closure", "map_tie_min", "map_focus", "map_steps")  # made in sections or the focus picker
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
    st.caption(network.summary_caption(kind, min_cell, summary))
    with app.folded(f"The map as a table: each {kind} and the referrals between them", key=f"map_summary_table_{mode}",
                    icon=TABLE) as opened:
        if opened:
            app.table(st, summary.table)
            st.markdown(f"**Referrals from one {kind}'s agencies to another's** (the arrows, {len(summary.between):,})")
            app.table(st, summary.flows_table)
    opened = st.selectbox(f"Open the agency map of one {kind}", [""] + list(summary.nodes["group"]),
                          key=f"map_group_{mode}", format_func=lambda g: f"Every {kind} (the whole network)" if not g
                          else group_label(mode, g))
    group = (mode, opened) if opened else None
    if group is not None:
        st.subheader(f"Agencies of {escape.markdown(group_label(mode, opened))}")

with st.expander("Map settings: layers, sizes, how many flows", expanded=not viewer.restricted):
    # two rows: every pill and choice reads whole at a laptop's width
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
names = view.names
# the list of every agency is built only while the picker is open: thousands of options cost the browser
# a tenth of a second on every visit of the page (an expander, not a popover: its content follows its
# button in the page, where Tab goes next)
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
    if names.get(view.choice.focus):  # said beside the picker, open or closed (its label stays put: Tab keeps its place)
        st.caption(network.focus_caption(escape.markdown(names[view.choice.focus]), view.choice.steps))

agency_map = mode == "agencies" or group is not None
if agency_map:
    app.network_map(view.drawing, key="map_drawing")
else:
    st.info("Open the agency map of one region or sector above, or choose **Agency map** to draw every agency. The "
            "tables below are the whole network's.", icon=":material/hub:")
st.caption(network.drawn_caption(view, min_cell))
if agency_map:
    with app.folded("The map as a table: its agencies and the lines between them", key="map_table", icon=TABLE) as opened:
        if opened:
            st.caption(network.map_table_caption(min_cell))
            st.markdown(f"**Agencies on the map** ({len(view.layout.agencies):,})")
            app.table(st, view.map_agencies)
            if "flows" in view.choice.layers:
                st.markdown(f"**Referral flows** (the arrows, {view.flows_drawn:,})")
                app.table(st, view.map_flows)
            if set(network.TIE_KINDS) & set(view.choice.layers):
                ties = view.map_ties
                st.markdown(f"**Declared ties, and ties named in the survey** (the lines without arrows, {len(ties):,}; "
                            "trust and value as partners rate them, 1 to 4)")
                app.table(st, ties)

if not view.focus_partners.empty:
    st.subheader(f"Partners of {escape.markdown(names[view.choice.focus])}")
    app.table(st, view.focus_partners)

section, container = app.sections(network.section_titles(viewer.restricted), key="network_section")
with container:
    st.subheader(section)
    DRAW[section](view, names)

st.subheader("Board pack")
pack_period, pack_files = app.board_pack(filters)
if pack_files is None:
    st.caption("The board pack covers a whole calendar quarter or year, and the data does not hold one yet.")
else:
    st.caption(network.pack_words(escape.markdown(pack_period.describe_period())))
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
