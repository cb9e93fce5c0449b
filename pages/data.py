"""Data: load the community's own files (templates, upload, validation report, import), check the
data's quality, and see the imports that built the database."""

import pandas as pd
import streamlit as st

from atlas import app, config, escape, quality
from atlas.ingest import importer, upload
from atlas.ingest.contract import TABLES

app.page_audience("data")
damaged = app.unreadable_database()  # a file that cannot be read: this page can replace it
db = None if damaged else app.database_or_none()  # None before the first import: it happens here
database = config.database_path()

st.title("Data")
if db:  # the entrypoint drew the filters: say why they change nothing here
    st.sidebar.caption("The filters above apply to the other pages: this one is about the files and all the data.")
st.caption("Load your community's own files, see what is wrong with them before anything changes, "
           "and check the quality of what the dashboard holds.")

extent = db.query("data_extent").iloc[0] if db else None
if damaged:
    st.error(damaged + app.replace_hint("below"), icon=":material/broken_image:")
elif extent is None:
    st.info("The dashboard holds no data yet. Load your community's files below: once they import, every "
            "page opens on them.", icon=":material/info:")
elif extent["referrals"]:
    st.markdown(
        f"The dashboard holds **{extent['referrals']:,} referrals** "
        f"({pd.Timestamp(extent['first_referral']):%d %b %Y} – {pd.Timestamp(extent['last_referral']):%d %b %Y}), "
        f"**{extent['agencies']:,} agencies**, {extent['programs']:,} programs, "
        f"{extent['partnerships']:,} partnerships, {extent['outcomes']:,} exits, "
        f"{extent['capacity_rows']:,} capacity rows and {extent['need_rows']:,} need rows.")
else:
    st.markdown(f"The dashboard holds **{extent['agencies']:,} agencies** and {extent['programs']:,} "
                "programs but **no referrals yet**: add a referrals file below.")

done = st.session_state.pop("upload_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

load, check, history = st.tabs(["Load your data", "Data quality", "Import history"]) if db else \
    (st.container(), None, None)

def hmis_report(report) -> None:
    """What was read from an HMIS export, what was placed on the network and the mapping applied."""
    st.markdown(f"**The HMIS export** (period {escape.markdown(report.period)}): each file, its rows, those "
                "ignored as deleted (or belonging to a deleted record), and what was imported.")
    st.dataframe(report.files, hide_index=True, width="stretch")
    st.markdown("**Referral events**")
    st.dataframe(report.events, hide_index=True, width="stretch")
    if len(report.unmatched_locations):
        st.warning("Some referrals name a location that is no project of the export, so they cannot be placed "
                   "on the network. Fix the names in the HMIS, or add them to `[locations]` in a mapping file "
                   "(see the import guide), and check the files again.", icon=":material/wrong_location:")
        st.dataframe(report.unmatched_locations, hide_index=True, width="stretch")
    with st.expander("The mapping applied"):
        st.markdown("**Events by code**")
        st.dataframe(report.event_codes, hide_index=True, width="stretch")
        st.markdown("**Project types → service types**")
        st.dataframe(report.project_types, hide_index=True, width="stretch")
        st.markdown("**Exit destinations → outcomes**")
        st.dataframe(report.destinations, hide_index=True, width="stretch")
        st.markdown("**Sectors** (HMIS records none: set them per organization in a mapping file)")
        st.dataframe(report.sectors, hide_index=True, width="stretch")
        if len(report.aliases):
            st.markdown("**Location aliases used**")
            st.dataframe(report.aliases, hide_index=True, width="stretch")
    if report.ignored:
        st.caption("Not read: " + escape.markdown(", ".join(report.ignored)))


# ---- load ------------------------------------------------------------------------------------------
with load:
    st.subheader("1. Start from the templates")
    st.markdown(
        "One file per table, with the columns below (CSV, Excel .xlsx or Parquet). Only **agencies** and "
        "**referrals** are needed; each other table adds a page. Two other formats load as they are: "
        "a **HUD HMIS CSV export** (upload its zip file) and an Open Referral (HSDS) directory (select all "
        "its CSV files).")
    for name, table in TABLES.items():
        needed = "needed" if table.mandatory else "optional"
        with st.expander(f"**{name}** — {table.doc} ({needed})"):
            st.dataframe(upload.column_guide(name), hide_index=True, width="stretch")
            st.download_button(f"Download the {name} template (CSV)", upload.template_csv(name),
                               file_name=f"{name}.csv", mime="text/csv", key=f"template_{name}",
                               icon=":material/download:", on_click="ignore")

    st.subheader("2. Upload your files")
    limit = st.get_option("server.maxUploadSize")
    st.markdown(f"Each file can be up to **{limit} MB**. Files are read by their content, in UTF-8, "
                "Windows (Excel) or UTF-16 text, with commas, semicolons or tabs between values. "
                "Nothing is imported until you have seen the report and confirmed.")
    generation = st.session_state.setdefault("upload_generation", 0)
    uploaded = st.file_uploader("Files to load", type=["csv", "tsv", "xlsx", "parquet", "toml", "zip"],
                                accept_multiple_files=True, key=f"upload_files_{generation}")
    signature = tuple((f.name, f.size, f.file_id) for f in uploaded or [])
    staged = st.session_state.get("upload_staging")
    if staged is not None and staged[0] != signature:  # files removed or changed: the old copies go
        staged[1].discard()
        staged = None
        st.session_state.pop("upload_staging", None)
        st.session_state.pop("upload_review", None)
    if uploaded and staged is None:
        staging = upload.stage(((f.name, f.getvalue()) for f in uploaded), max_bytes=limit * 2**20)
        staged = (signature, staging)
        st.session_state["upload_staging"] = staged
        st.session_state.pop("upload_review", None)

    if staged:
        staging = staged[1]
        chosen = {}
        if staging.format == "hmis":
            st.info("This is a **HUD HMIS CSV export**: organizations become agencies, projects become programs, "
                    "bed inventory becomes monthly capacity, Coordinated Entry referral events become referrals "
                    "and exits become outcomes, by the mapping described in the import guide (upload your own "
                    "mapping .toml file with it to change it). Client.csv is never read. Partnerships and needs "
                    "are not in an HMIS: add partnerships.csv or needs.csv beside the zip to load them too.",
                    icon=":material/home_work:")
        elif staging.format == "hsds":
            st.info("These files are an **Open Referral HSDS directory**: organizations become agencies, "
                    "services become programs and service capacity becomes monthly capacity, by the mapping "
                    "described in the import guide (upload your own mapping .toml file with them to change it).",
                    icon=":material/account_tree:")
        else:
            st.markdown("Which table each file holds (guessed from its name or its columns):")
            options = [None, *TABLES]
            for staged_file in staging.files:
                chosen[staged_file.name] = st.selectbox(
                    escape.markdown(staged_file.uploaded_as), options,
                    index=options.index(staged_file.table), key=f"upload_table_{generation}_{staged_file.name}",
                    format_func=lambda t: "(not imported)" if t is None else t)
        how = st.radio(
            "What should happen to the data already loaded?",
            ["append", "replace"], index=None, key=f"upload_mode_{generation}",
            format_func={"append": "Add these files to it (new rows are added, changed rows are matched by id)",
                         "replace": "Replace all of it with these files"}.get) if db else "replace"
        update = how == "append" and st.checkbox(
            "Where a row differs from the stored one, use the file's values (otherwise the import stops "
            "and lists the differences)", key=f"upload_update_{generation}")
        if st.button("Check the files", type="primary", disabled=how is None, icon=":material/fact_check:"):
            try:
                key = config.hmac_key(required=False)
            except config.ConfigError:
                key = None
            with st.spinner("Reading and checking every row…"):
                st.session_state["upload_review"] = upload.review(
                    staging, database, key, mode=how, on_conflict="update" if update else "refuse",
                    tables=chosen)

    reviewed = st.session_state.get("upload_review")
    if staged and reviewed is not None and reviewed.staging is staged[1]:
        st.subheader("3. The report")
        if reviewed.errors:
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
            st.dataframe(changes, hide_index=True, width="stretch")
        if reviewed.hmis_report is not None:
            hmis_report(reviewed.hmis_report)
        if reviewed.problems:
            st.markdown("**Problems by kind** (rows affected)")
            st.dataframe(reviewed.rule_counts(), hide_index=True, width="stretch")
            shown = upload.readable(reviewed.problems, limit=10)
            st.markdown("**First things to fix**\n\n" + "\n".join(f"- {escape.markdown(line)}" for line in shown))
            st.markdown("**Every problem**: the row is as numbered in your file, with the header as row 1.")
            st.dataframe(reviewed.report(), hide_index=True, width="stretch",
                         column_config={"problem and how to fix it": st.column_config.TextColumn(width="large")})
            st.download_button("Download the report (CSV)", reviewed.report_csv(), file_name="import-report.csv",
                               mime="text/csv", icon=":material/download:", key="upload_report", on_click="ignore")

        if reviewed.ok and reviewed.changes_anything:
            st.subheader("4. Import")
            try:
                key = config.hmac_key()
            except config.ConfigError as error:
                key = None
                st.error("Client ids are pseudonymised with a secret key at import, and none is set. "
                         "Ask whoever runs the dashboard to set `ATLAS_HMAC_KEY` (see the README).",
                         icon=":material/key:")
            sure = True
            if reviewed.mode == "replace" and extent is not None:
                st.warning(f"Replacing removes everything the dashboard holds now ({extent['referrals']:,} "
                           "referrals and the rest) and keeps only these files.", icon=":material/warning:")
                sure = st.checkbox("Yes, replace all the data", key=f"upload_sure_{generation}")
            elif damaged:
                st.warning(f"Importing replaces the file that cannot be read ({escape.markdown(database)}): "
                           "keep a copy of it first if you may want to recover anything from it.",
                           icon=":material/warning:")
                sure = st.checkbox("Yes, replace the unreadable file", key=f"upload_sure_{generation}")
            if st.button("Import", type="primary", disabled=key is None or not sure, icon=":material/upload:"):
                try:
                    with st.spinner("Importing… other people keep seeing the current data until it is done."):
                        result = upload.confirm(reviewed, database, key)
                except importer.DatabaseChanged as error:
                    st.session_state.pop("upload_review", None)
                    st.error(f"{error}", icon=":material/sync_problem:")
                except importer.ImportRejected as rejected:
                    st.error(f"{rejected} Check the files again.", icon=":material/error:")
                else:
                    st.session_state["upload_done"] = upload.result_message(result)
                    st.session_state["upload_generation"] = generation + 1
                    for name in ("upload_staging", "upload_review"):
                        st.session_state.pop(name, None)
                    st.rerun()

if db is None:
    st.stop()  # nothing loaded yet: no quality to check, no history to show

# ---- data quality ----------------------------------------------------------------------------------
with check:
    left, right = st.columns(2)
    stale_days = left.number_input("An open referral is stale after (days without an update)", min_value=1,
                                   max_value=3650, value=quality.DEFAULT_STALE_DAYS, key="quality_stale_days")
    ended_days = right.number_input("An agency has ended after (days without referral activity)", min_value=1,
                                    max_value=3650, value=quality.DEFAULT_ENDED_DAYS, key="quality_ended_days")
    found = quality.report(db, stale_days=stale_days, ended_days=ended_days)
    columns = st.columns(len(found.checks))
    for column, item in zip(columns, found.checks):
        column.metric(item.short, f"{item.count:,}", help=item.title)
    for item in found.checks:
        with st.expander(f"{item.title}: {item.count:,} {item.unit}", expanded=False):
            st.markdown(f"{escape.markdown(item.what)}  \n**What to do:** {escape.markdown(item.fix)}")
            if item.count:
                st.dataframe(item.rows.head(500), hide_index=True, width="stretch", column_config={
                    "days_since_update": st.column_config.NumberColumn("days since update", format="%.1f")})
                st.download_button(f"Download the {item.count:,} affected ids (CSV)", item.download(),
                                   file_name=f"{item.key}.csv", mime="text/csv", key=f"quality_{item.key}",
                                   icon=":material/download:", on_click="ignore")
    st.markdown("**Completeness**: how many rows of each column have a value.")
    st.dataframe(found.completeness, hide_index=True, width="stretch", column_config={
        "table_name": "Table", "column_name": "Column", "total_rows": "Rows", "filled_rows": "With a value",
        "required": "Required",
        "share_filled": st.column_config.ProgressColumn("Filled", format="percent", min_value=0, max_value=1)})

# ---- history ---------------------------------------------------------------------------------------
with history:
    st.markdown("Every import that built the data the dashboard shows, newest first.")
    imports = upload.history_frame(db.query("import_history"))
    st.dataframe(imports, hide_index=True, width="stretch",
                 column_config={c: c[:1].upper() + c[1:] for c in imports.columns})  # "Imported at"
