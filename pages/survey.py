"""Directors — Survey: run the network's partnership survey (rounds, links, who has answered) and read its
results beside the rounds before (issue 32; docs/survey.md)."""

import streamlit as st

from atlas import app, escape, exports
from atlas.app import survey as rounds
from atlas.views import survey

TABLE = ":material/table:"

viewer = app.page_audience("survey")
app.require_database()
store = rounds.surveys()

st.title("Survey")
st.caption("The informal network, measured: each member organization rates every other it worked with — how often, "
           "how closely, whether on paper, how far it trusts them and what they bring. One round a year, compared "
           "with the year before. Each round has its own period: the sidebar's filters do not apply here.")
rounds.said()

st.header("Rounds")
chosen = rounds.choose_round(store)
if chosen is not None:
    rounds.round_actions(store, chosen)
with app.folded("Open a new round", key="survey_new_open", icon=":material/add_circle:",
                expanded=chosen is None) as opened:
    if opened:
        rounds.open_round(store)
if chosen is None:
    st.stop()

st.header("Links and invitations")
base = None
if chosen.status == "closed":
    st.caption("The round is closed: its links open nothing.")
else:
    base = rounds.links(store, chosen)
    with app.folded("Members' e-mail addresses", key="survey_contacts_open", icon=":material/contact_mail:") as opened:
        if opened:
            rounds.contacts(store, chosen)
    rounds.mail(store, chosen, base)

st.header("Progress")
rounds.progress(store, chosen)

st.header("Results")
rule = st.segmented_control("Ties", list(survey.RULES), default="either", key="survey_rule",
                            format_func=survey.RULES.get,
                            help="A pair counts as a tie when either named the other, or only when both did.") \
    or "either"
view = app.view("survey.build", chosen.round_id, rule)
if not view.answered:
    st.info("Nobody has answered yet: the results appear here from the first answer saved.", icon=":material/info:")
else:
    level, reading = view.reading
    (st.success if level == "individual" else st.warning if level == "patterns" else st.error)(
        reading, icon=":material/info:")
    figures = st.container(horizontal=True, gap="medium")
    for name, value, meaning in view.figures:
        figures.metric(name, value, width="content", help=meaning, border=True)
    section, container = app.sections(["Ties", "Agencies", "Seen differently", "Agreements on paper and in mind",
                                       "Change since the previous round"], key="survey_section")
    with container:
        st.subheader(section)
        if section == "Ties":
            st.caption(f"{len(view.ties):,} ties, {escape.markdown(survey.RULES[rule].lower())}: level and frequency "
                       "are the means of what each side reported; trust and value the means of each side's ratings "
                       "answered in full.")
            if view.level_chart is not None:
                app.chart(st, view.level_chart, width="stretch")
            app.work_list(st, view.ties_table, "ties", height=360 if len(view.ties) > 10 else "auto")
            st.download_button("Ties (CSV)", lambda: exports.safe_csv(view.ties_table),
                               file_name=f"survey_ties_{chosen.round_id}_{rule}.csv", mime="text/csv",
                               icon=":material/download:", on_click="ignore", key="survey_ties_csv")
        elif section == "Agencies":
            st.caption("Each member: whether it answered, the partners it named, the members that named it and the "
                       "trust and value they gave it (raters: how many rated it on all three trust items).")
            app.work_list(st, view.agencies_table, "members", height=360 if len(view.agencies) > 10 else "auto")
            st.download_button("Members (CSV)", lambda: exports.safe_csv(view.agencies_table),
                               file_name=f"survey_members_{chosen.round_id}.csv", mime="text/csv",
                               icon=":material/download:", on_click="ignore", key="survey_agencies_csv")
        elif section == "Seen differently":
            st.caption("Ties named by both sides whose two collaboration levels differ by 2 or more: for a "
                       "conversation, not a verdict.")
            app.table(st, view.table("seen_differently"))
        elif section == "Agreements on paper and in mind":
            st.caption("A member says it has a formal agreement with a partner and none is in force in the period's "
                       "partnerships, or says it has none and one is.")
            app.table(st, view.table("agreements"))
        else:
            if view.previous is None:
                st.info("There is no earlier round whose period ends before this one starts.", icon=":material/info:")
            else:
                st.caption(f"Against {escape.markdown(survey.period_words(view.previous))}: ties gained and lost "
                           "(named by either side) among agencies that were members of both rounds, and each "
                           "agency's trust received, then and now.")
                app.table(st, view.table("change"))
                app.table(st, view.table("trust_change"))

with app.folded("The responses file: import and export", key="survey_file_open", icon=TABLE) as opened:
    if opened:
        st.caption("The round's answers as one row per respondent and partner named (survey_responses.csv): every "
                   "figure above can be recomputed from it.")
        st.download_button("Export the responses (CSV)", lambda: rounds.export_responses(store, chosen),
                           file_name=f"survey_responses_{chosen.round_id}.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore", key="survey_export")
        rounds.import_responses(store, chosen)
