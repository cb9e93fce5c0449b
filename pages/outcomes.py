"""Funders — Outcomes: what the network's programs achieve for people, small numbers suppressed, and
the funder pack to take away."""

import streamlit as st

from atlas import app, config, escape, formats
from atlas.packs import funder as report
from atlas.views import outcomes, suppression

viewer = app.page_audience("outcomes")
app.require_database()
filters = app.current_filters(viewer)
app.keep_choices("outcomes_compare", "outcomes_mix")  # made in sections that may be closed

st.title("Outcomes")
st.caption(f"What the programs achieve for people — {escape.markdown(filters.describe())}. Region and sector are those of the "
           "agency the client left; service type that of the program.")
app.missing_data("outcomes")

view = app.view("outcomes.build", filters, funder=st.session_state.get("outcomes_funder") or None,
                min_cell=config.min_cell())
if st.session_state.get("outcomes_funder") and view.funder is None:
    st.session_state["outcomes_funder"] = ""  # that funder has no exits in this period
st.selectbox("Funder", [""] + view.funders, key="outcomes_funder",
             format_func=lambda f: f or "All funders (the whole network)",
             help="Narrow the tables, the trend and the pack to the programs one funder supports.")

if view.empty:
    st.info("No exits match these filters.")
    st.stop()

for line in view.reading:
    st.markdown(f"- {line}")

sel, net = view.selection, view.network
hidden = bool(sel.get("hidden", False))
first, second, third, fourth = st.columns(4)
first.metric("Exits", suppression.figure_text(sel["exits"], hidden, "{:,}".format), border=True,
             help=f"From the {view.suppressed.programs:,} programs with exits in the period.")
if "people" in net:  # a whole quarter or year: the published set
    second.metric("People", suppression.figure_text(net["people"], net["people"] is None, "{:,}".format), border=True,
                  help="Distinct clients who left the network's programs in the period (the whole network).")
else:
    second.metric("Whole network", outcomes.pct(net["rate"]), border=True,
                  help=f"{net['exits']:,} exits from every program shown in the period, whatever the filters.")
third.metric("Positive-exit rate", suppression.figure_text(sel["rate"], hidden, outcomes.pct), border=True,
             help=f"95% interval {outcomes.interval(sel)} (Wilson)." if not hidden else None)
fourth.metric("Programs hidden", f"{view.suppressed.programs_hidden:,} of {view.suppressed.programs:,}",
              border=True, help=f"Fewer than {view.min_cell} exits, or hidden to protect one that was.")

with st.container(border=True):
    st.markdown("**Small numbers: what is hidden, and why**")
    st.markdown("\n".join(f"- {note}" for note in view.notes))

percent = {c: st.column_config.NumberColumn(format=formats.PERCENT_PRINTF) for c in outcomes.PERCENT_COLUMNS}
# An empty cell is a hidden count (the row's Note says why): it reads "hidden", never a bare dash or "None".
TABLE = dict(column_config=percent, placeholder=suppression.HIDDEN)

section, container = app.sections(outcomes.SECTIONS, key="outcomes_section")
with container:
    if section == 'Against the network':
        st.subheader("Positive-exit rate against the network")
        dimensions = [d for d in outcomes.DIMENSIONS if d in view.by]
        if st.session_state.get("outcomes_compare") not in dimensions:
            st.session_state["outcomes_compare"] = dimensions[0]  # agencies are not in a whole period's set
        choice = st.radio("Compare by", dimensions, horizontal=True, key="outcomes_compare",
                          format_func=outcomes.DIMENSIONS.get)
        if view.figure(f"by_{choice}") is not None:
            app.chart(st, view.figure(f"by_{choice}"), width="stretch")
        app.table(st, outcomes.display(view.by[choice], choice), **TABLE,
                  height=320 if len(view.by[choice]) > 10 else "auto")
    elif section == 'Trend by quarter':
        st.subheader("Trend by quarter")
        st.caption("The whole network's programs over the period" + (f", and {escape.markdown(view.funder)}'s" if view.funder
                                                                     else "")
                   + ". The trend, returns and referral routes ignore the region, service and sector filters, so that two "
                     "filter choices cannot be compared to work out a small number.")
        if view.figure("trend") is not None:
            app.chart(st, view.figure("trend"), width="stretch")
        else:
            st.info("Every quarter is hidden: too few exits.")
    elif section == 'Outcome mix':
        st.subheader("Outcome mix")
        by = st.radio("Show the mix by", ["service_type", "program"], horizontal=True, key="outcomes_mix",
                      format_func={"service_type": "Service type", "program": "Program (largest 20)"}.get)
        if view.figure(f"mix_{by}") is not None:
            app.chart(st, view.figure(f"mix_{by}"), width="stretch")
        else:
            st.info("The outcome mix is in the directors' view only: it is not part of what is published for a "
                    "whole quarter or year.")
        st.caption("Shares of each group's exits. “Outcome not shown” holds outcome counts too small to itemise "
                   "(with the next smallest, where needed, so they cannot be worked out).")
    elif section == 'Returns to homelessness':
        st.subheader("Returns to homelessness")
        st.caption("Clients whose first positive housing exit fell in the window shown, back in homelessness (at any "
                   "agency) within 6, 12 or 24 months. Each window ends that long before the data's end, so everyone "
                   "counted was followed for the whole time.")
        if view.figure("returns") is not None:
            app.chart(st, view.figure("returns"), width="stretch")
        app.table(st, outcomes.display(view.returns, "returns"), **TABLE)
    elif section == 'Pathways':
        st.subheader("Pathways: outcomes by referring agency")
        st.caption("Exits grouped by the agency that last referred the client to the agency they left.")
        if view.figure("pathways") is not None:
            app.chart(st, view.figure("pathways"), width="stretch")
        else:
            st.info("Outcomes by referring agency are in the directors' view only.")
        app.table(st, outcomes.display(view.pathways, "pathways"), **TABLE,
                  height=320)
    elif section == 'Programs':
        st.subheader("Programs")
        app.table(st, outcomes.display(view.programs, "program"), **TABLE,
                  height=360)

st.subheader("Funder pack")
st.caption("The figures above, to attach to a board paper: an HTML report and a PDF (charts, tables, definitions "
           "and this note on small numbers) and a CSV of every table. Preparing the HTML or PDF takes a few seconds.")
html_data, pdf_data, csv_data = report.deferred(view)
stem = report.file_stem(view)
one, two, three = st.columns(3)
one.download_button("Report (HTML)", html_data, file_name=f"{stem}.html", mime="text/html", icon=":material/article:",
                    on_click="ignore", width="stretch")
two.download_button("Report (PDF)", pdf_data, file_name=f"{stem}.pdf", mime="application/pdf",
                    icon=":material/picture_as_pdf:", on_click="ignore", width="stretch")
three.download_button("Tables (CSV)", csv_data, file_name=f"{stem}.csv", mime="text/csv",
                      icon=":material/table:", on_click="ignore", width="stretch")
