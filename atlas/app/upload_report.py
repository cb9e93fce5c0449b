"""The Data page's report of the files checked: whether they can be imported, what would change, what was
read from an HMIS export and the mapping applied, and every problem with how to fix it. Layer: the
Streamlit glue (atlas.app), drawing what atlas.ingest.upload's review found."""

from __future__ import annotations

import streamlit as st

from atlas import escape
from atlas.app.widgets import table
from atlas.ingest import upload


def review_report(reviewed: upload.Review) -> None:
    """The verdict on the files checked, the changes they would make, and their problems."""
    if reviewed.held_by_safeguard:
        st.warning("**Too many rows of a file would be left out** (the problems below say which file and why). "
                   "Nothing has been changed. Fix the rows in the HMIS and export again, or import without them: "
                   "the confirmation is below the report.", icon=":material/warning:")
    elif reviewed.errors:
        st.error(f"**{reviewed.errors:,} {'problem' if reviewed.errors == 1 else 'problems'}** must be "
                 "fixed before these files can be imported. "
                 "Nothing has been changed. Fix them in your files (the report says where and how), "
                 "then upload the files again.", icon=":material/error:")
    elif not reviewed.changes_anything:
        st.info("Every row of these files is already in the dashboard: there is nothing new to add.",
                icon=":material/info:")
    else:
        st.success("No problems: these files can be imported."
                   + (f" {reviewed.warnings:,} warnings are listed below: read them first."
                      if reviewed.warnings else ""), icon=":material/check_circle:")
    changes = reviewed.changes()
    if len(changes):
        table(st, changes)
    if reviewed.hmis_report is not None:
        hmis_report(reviewed.hmis_report)
    if reviewed.problems:
        st.markdown("**Problems by kind** (rows affected)")
        table(st, reviewed.rule_counts())
        shown = upload.readable(reviewed.problems, limit=10)
        st.markdown("**First things to fix**\n\n" + "\n".join(f"- {escape.markdown(line)}" for line in shown))
        st.markdown("**Every problem**: the row is as numbered in your file, with the header as row 1.")
        table(st, reviewed.report(),
              column_config={"problem and how to fix it": st.column_config.TextColumn(width="large")})
        st.download_button("Download the report (CSV)", reviewed.report_csv(), file_name="import-report.csv",
                           mime="text/csv", icon=":material/download:", key="upload_report", on_click="ignore")


def hmis_report(report) -> None:
    """What was read from an HMIS export, what was placed on the network and the mapping applied."""
    st.markdown(f"**The HMIS export** (period {escape.markdown(report.period)}): each file, its rows, those "
                "ignored as deleted (or belonging to a deleted record), those left out by a fault, and what was imported.")
    table(st, report.files)
    st.markdown("**Referral events**")
    table(st, report.events)
    if len(report.unmatched_locations):
        st.warning("Some referrals name a location that is no project of the export, so they cannot be placed "
                   "on the network. Fix the names in the HMIS, or add them to `[locations]` in a mapping file "
                   "(see the import guide), and check the files again.", icon=":material/wrong_location:")
        table(st, report.unmatched_locations)
    with st.expander("The mapping applied"):
        st.markdown("**Events by code**")
        table(st, report.event_codes)
        st.markdown("**Project types → service types**")
        table(st, report.project_types)
        st.markdown("**Exit destinations → outcomes**")
        table(st, report.destinations)
        st.markdown("**Sectors** (HMIS records none: set them per organization in a mapping file)")
        table(st, report.sectors)
        if len(report.aliases):
            st.markdown("**Location aliases used**")
            table(st, report.aliases)
    left_out(report)
    if report.ignored:
        st.caption("Not read: " + escape.markdown(", ".join(report.ignored)))


def left_out(report) -> None:
    """The rows an HMIS export's import leaves out or reads with a documented value, by fault, with every one
    of them to download (ids and columns, never a value)."""
    if not len(report.affected):
        return
    st.markdown(f"**Rows left out, and values read by a rule**: {report.left_out:,} rows are left out. "
                "Fix them in the HMIS (the download lists every row by its id) before the next export.")
    table(st, report.faults)
    st.download_button("Download every affected row (CSV)", report.affected_csv(), file_name="hmis-left-out.csv",
                       mime="text/csv", icon=":material/download:", key="upload_left_out", on_click="ignore")


def accept_left_out(reviewed: upload.Review, generation: int) -> bool:
    """Whether the person accepts importing an HMIS export without the rows it leaves out, when only that holds
    the import back (asked beside the report; nothing is written until the import is confirmed)."""
    if not reviewed.held_by_safeguard:
        return False
    return st.checkbox("Import without the rows left out (they are listed above, and stay listed in the data "
                       "quality panel)", key=f"upload_accept_dropped_{generation}")
