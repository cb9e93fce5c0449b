"""Data: load the community's own files (templates, upload, validation report, import), check the
data's quality, and see the imports that built the database."""

import streamlit as st

from atlas import app, config, escape, formats
from atlas.app import mapping_form, refreshes, upload_report
from atlas.contract import TABLES
from atlas.ingest import importer, upload
from atlas.views import quality

app.page_audience("data")
damaged = app.unreadable_database()  # a file that cannot be read: this page can replace it
db = None if damaged else app.database_or_none()  # None before the first import: it happens here
database = config.database_path()
app.keep_choices("quality_stale_days", "quality_ended_days")  # made in a tab that may be closed

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
        f"({formats.span(extent['first_referral'], extent['last_referral'])}), "
        f"**{extent['agencies']:,} agencies**, {extent['programs']:,} programs, "
        f"{extent['partnerships']:,} partnerships, {extent['outcomes']:,} exits, "
        f"{extent['capacity_rows']:,} capacity rows and {extent['need_rows']:,} need rows.")
else:
    st.markdown(f"The dashboard holds **{extent['agencies']:,} agencies** and {extent['programs']:,} "
                "programs but **no referrals yet**: add a referrals file below.")

if db:
    refreshes.show_last_refresh()  # what the scheduled refresh from the inbox last did

done = st.session_state.pop("upload_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

# The quality checks and the history are worked out only when their tab is open; the upload flow is always
# drawn, so a file being checked is not lost by a look at another tab.
load, check, history = st.tabs(["Load your data", "Data quality", "Import history"], key="data_section",
                               on_change="rerun") if db else (st.container(), None, None)

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
            app.table(st, upload.column_guide(name))
            st.download_button(f"Download the {name} template (CSV)", upload.template_csv(name),
                               file_name=f"{name}.csv", mime="text/csv", key=f"template_{name}",
                               icon=":material/download:", on_click="ignore")

    st.download_button("Download the whole contract as a Frictionless Data Package (datapackage.json)",
                       upload.datapackage_json(), file_name="datapackage.json", mime="application/json",
                       key="template_datapackage", icon=":material/data_object:", on_click="ignore")
    st.caption("Every table's columns, types, allowed values and keys in the open Frictionless format: put it "
               "beside your files and check them with any Frictionless tool before loading them.")

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
        chosen, column_maps = {}, {}
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
            chosen, column_maps = mapping_form.map_files(staging, generation)
        how = st.radio(
            "What should happen to the data already loaded?",
            ["append", "replace"], index=None, key=f"upload_mode_{generation}",
            format_func={"append": "Add these files to it (new rows are added, changed rows are matched by id)",
                         "replace": "Replace all of it with these files"}.get) if db else "replace"
        update = how == "append" and st.checkbox(
            "Where a row differs from the stored one, use the file's values (otherwise the import stops "
            "and lists the differences)", key=f"upload_update_{generation}")
        unmapped = [f.uploaded_as for f in staging.files if staging.format == "contract"
                    and f.name not in column_maps and f.name not in chosen and f.name not in staging.column_mappings]
        if unmapped:
            st.warning("Finish mapping the columns of " + ", ".join(escape.markdown(n) for n in unmapped)
                       + " (every required column, and how each date column is written) before checking.",
                       icon=":material/table_edit:")
        if st.button("Check the files", type="primary", disabled=how is None or bool(unmapped),
                     icon=":material/fact_check:"):
            try:
                key = config.hmac_key(required=False)
            except config.ConfigError:
                key = None
            with app.progress_bar("Reading and checking every row…") as progress:
                st.session_state["upload_review"] = upload.review(
                    staging, database, key, mode=how, on_conflict="update" if update else "refuse",
                    tables=chosen, mappings=column_maps, progress=progress)

    reviewed = st.session_state.get("upload_review")
    if staged and reviewed is not None and reviewed.staging is staged[1]:
        st.subheader("3. The report")
        upload_report.review_report(reviewed)
        accepted = upload_report.accept_left_out(reviewed, generation)

        if (reviewed.ok or accepted) and reviewed.changes_anything:
            st.subheader("4. Import")
            needs_key = importer.holds_client_ids(reviewed.tables)  # a service directory holds no client
            try:
                key = config.hmac_key(required=needs_key)
            except config.ConfigError:
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
            if st.button("Import", type="primary", disabled=(needs_key and key is None) or not sure,
                         icon=":material/upload:"):
                try:
                    st.caption("Other people keep seeing the current data until the import is done.")
                    with app.progress_bar("Importing…") as progress:
                        result = upload.confirm(reviewed, database, key, accept_dropped=accepted, progress=progress)
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
if check.open:
    with check:
        left, right = st.columns(2)
        stale_days = left.number_input("An open referral is stale after (days without an update)", min_value=1,
                                       max_value=3650, value=quality.DEFAULT_STALE_DAYS, key="quality_stale_days")
        ended_days = right.number_input("An agency has ended after (days without referral activity)", min_value=1,
                                        max_value=3650, value=quality.DEFAULT_ENDED_DAYS, key="quality_ended_days")
        found = quality.report(db, stale_days=stale_days, ended_days=ended_days)
        figures = st.container(horizontal=True, gap="medium")  # the figures wrap, never cut, in a narrow window
        for item in found.checks:
            figures.metric(item.short, f"{item.count:,}", help=item.title, width="content")
        for item in found.checks:
            with st.expander(f"{item.title}: {item.count:,} {item.unit}", expanded=False):
                st.markdown(f"{escape.markdown(item.what)}  \n**What to do:** {escape.markdown(item.fix)}")
                if item.count:
                    app.table(st, item.rows.head(500), column_config={
                        "days_since_update": st.column_config.NumberColumn("days since update", format="%.1f")})
                    st.download_button(f"Download the {item.count:,} affected ids (CSV)", item.download(),
                                       file_name=f"{item.key}.csv", mime="text/csv", key=f"quality_{item.key}",
                                       icon=":material/download:", on_click="ignore")
        st.markdown("**Completeness**: how many rows of each column have a value.")
        app.table(st, formats.as_percent(found.completeness, ["share_filled"]),
                  column_config={
                      "table_name": "Table", "column_name": "Column", "total_rows": "Rows",
                      "filled_rows": "With a value", "required": "Required",
                      "share_filled": st.column_config.ProgressColumn("Filled", format=formats.PERCENT_PRINTF,
                                                                      min_value=0, max_value=100)})

# ---- history ---------------------------------------------------------------------------------------
if history.open:
    with history:
        st.markdown("Every import that built the data the dashboard shows, newest first.")
        imports = upload.history_frame(db.query("import_history"))
        app.table(st, imports,
                  column_config={c: c[:1].upper() + c[1:] for c in imports.columns})  # "Imported at"
