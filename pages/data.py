"""Data: load the community's own files (templates, upload, validation report, import), check the
data's quality, and see the imports that built the database."""

import pandas as pd
import streamlit as st

from atlas import app, config, escape, formats
from atlas.contract import TABLES
from atlas.ingest import columns, importer, upload
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

done = st.session_state.pop("upload_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

# The quality checks and the history are worked out only when their tab is open; the upload flow is always
# drawn, so a file being checked is not lost by a look at another tab.
load, check, history = st.tabs(["Load your data", "Data quality", "Import history"], key="data_section",
                               on_change="rerun") if db else (st.container(), None, None)

def hmis_report(report) -> None:
    """What was read from an HMIS export, what was placed on the network and the mapping applied."""
    st.markdown(f"**The HMIS export** (period {escape.markdown(report.period)}): each file, its rows, those "
                "ignored as deleted (or belonging to a deleted record), and what was imported.")
    app.table(st, report.files)
    st.markdown("**Referral events**")
    app.table(st, report.events)
    if len(report.unmatched_locations):
        st.warning("Some referrals name a location that is no project of the export, so they cannot be placed "
                   "on the network. Fix the names in the HMIS, or add them to `[locations]` in a mapping file "
                   "(see the import guide), and check the files again.", icon=":material/wrong_location:")
        app.table(st, report.unmatched_locations)
    with st.expander("The mapping applied"):
        st.markdown("**Events by code**")
        app.table(st, report.event_codes)
        st.markdown("**Project types → service types**")
        app.table(st, report.project_types)
        st.markdown("**Exit destinations → outcomes**")
        app.table(st, report.destinations)
        st.markdown("**Sectors** (HMIS records none: set them per organization in a mapping file)")
        app.table(st, report.sectors)
        if len(report.aliases):
            st.markdown("**Location aliases used**")
            app.table(st, report.aliases)
    if report.ignored:
        st.caption("Not read: " + escape.markdown(", ".join(report.ignored)))


def column_mapper(frame, staged_file, k: str, known, others: set):
    """The Data page's column mapping of one file in its own columns: which source column feeds each
    contract column, how its dates are written, what its coded values mean, a status column in place of
    stage dates, agencies from names; saved for next month. Returns the mapping, or None while unfinished."""
    header = [str(c).strip() for c in frame.columns]
    with st.container(border=True):
        st.markdown(f"**Map the columns of {escape.markdown(staged_file.uploaded_as)}**: its columns are its own, "
                    "not the template's. Say once which column holds what; the mapping can be kept for next "
                    "month's export of the same shape.")
        if known is not None:
            st.success(f"Recognised: this file has the columns of the saved mapping "
                       f"“{escape.markdown(known.name)}”, which is applied below. Change anything that is no longer "
                       "right.", icon=":material/bookmark_added:")
        app.table(st, frame.head(5))
        tables = list(TABLES)
        table = st.selectbox("Which table it holds", tables, key=f"{k}_table",
                             index=tables.index(known.table if known else staged_file.table or "referrals"))
        start = known if known is not None and known.table == table else None
        proposal = columns.propose(frame, table)
        status_col, status_date = columns.propose_status(frame, proposal)
        use_status = table == "referrals" and st.toggle(
            "One status column and a status date, instead of accepted / declined / started / completed dates",
            value=bool(start.status) if start else status_col is not None, key=f"{k}_use_status")
        by_name = table == "referrals" and "agencies" not in others and st.toggle(
            "The agency columns hold agency names (build the agencies from them)",
            value=start.agencies is not None if start else True, key=f"{k}_by_name")
        chosen, formats, values = {}, {}, {}
        stage_columns = {"accepted_at", "declined_at", "decline_reason", "started_at", "completed_at"}
        for column in TABLES[table].columns:
            if use_status and column.name in stage_columns:
                continue
            first = start.columns.get(column.name) if start else proposal.get(column.name)
            first_date = first if isinstance(first, str) or first is None else first[0]
            left, middle, right = st.columns([3, 3, 4])
            source = left.selectbox(
                f"{column.name}" + (" (required)" if column.required else ""), [None, *header],
                index=([None, *header].index(first_date) if first_date in header else 0), key=f"{k}_col_{column.name}",
                format_func=lambda h: "— leave empty" if h is None else h, help=column.doc or None)
            if source is None:
                continue
            sample = frame[source].dropna().astype(str).head(3).tolist()
            middle.caption("e.g. " + escape.markdown(", ".join(sample) or "(empty)"))
            if column.type in ("date", "timestamp", "month"):
                fmt = date_format(frame, source, right, k, start)
                time_column = None
                if column.type == "timestamp":
                    second = (first[1] if isinstance(first, list) and len(first) > 1 else None) if start else \
                        columns.propose_time(frame, source)
                    time_column = right.selectbox(f"{column.name}: time in another column", [None, *header],
                                                  index=[None, *header].index(second) if second in header else 0,
                                                  key=f"{k}_time_{column.name}",
                                                  format_func=lambda h: "— none" if h is None else h)
                    if time_column:
                        tfmt = date_format(frame, time_column, right, k, start, time=True)
                        if tfmt:
                            formats[time_column] = tfmt
                if fmt:
                    formats[source] = fmt
                chosen[column.name] = [source, time_column] if time_column else source
            elif column.values and not (by_name and column.name in ("from_agency_id", "to_agency_id")):
                chosen[column.name] = source
                values[column.name] = value_table(frame[source], column.values, f"{k}_values_{column.name}",
                                                  start.values.get(column.name) if start else None)
            else:
                chosen[column.name] = source
        status = None
        if use_status:
            st.markdown("**The status column**: the stage each status means, reached on the status date.")
            left, right = st.columns(2)
            first = start.status if start and start.status else {"column": status_col, "date": status_date}
            column = left.selectbox("Status column", header, key=f"{k}_status",
                                    index=header.index(first["column"]) if first["column"] in header else 0)
            date_first = first["date"] if isinstance(first["date"], str) or first["date"] is None else first["date"][0]
            date = right.selectbox("Status date column", header, key=f"{k}_status_date",
                                   index=header.index(date_first) if date_first in header else 0)
            fmt = date_format(frame, date, right, k, start)
            if fmt:
                formats[date] = fmt
            status = {"column": column, "date": date,
                      "values": stage_table(frame[column], f"{k}_stages", start.status["values"]
                                            if start and start.status else None)}
        agencies = None
        if by_name:
            agencies = agency_table(frame, [chosen.get("from_agency_id"), chosen.get("to_agency_id")],
                                    f"{k}_agencies", start.agencies if start else None)
        name = st.text_input("Name of this mapping", value=start.name if start else
                             f"{staged_file.uploaded_as.rsplit('.', 1)[0]} columns", key=f"{k}_name")
        missing = [c.name for c in TABLES[table].columns if c.required and c.name not in chosen]
        undated = [s for c, s in chosen.items() if TABLES[table].column(c).type in ("date", "timestamp", "month")
                   and (s if isinstance(s, str) else s[0]) not in formats]
        if status and status["date"] not in formats:
            undated.append(status["date"])
        if missing or undated:
            st.caption("Still to do: " + "; ".join(
                ([f"choose the column of {', '.join(missing)}"] if missing else [])
                + ([f"choose how {', '.join(escape.markdown(u) for u in undated)} is written"] if undated else [])))
            return None
        mapping = columns.ColumnMapping(table, header, chosen, formats, values, status, agencies, name)
        try:
            mapping.check(name)
        except columns.MappingError as error:
            st.error(f"{escape.markdown(str(error))}", icon=":material/error:")
            return None
        left, right = st.columns(2)
        left.download_button("Download this mapping (TOML)", mapping.to_toml().encode(), key=f"{k}_download",
                             file_name=f"{columns.agency_slug(name)}.toml", mime="application/toml",
                             icon=":material/download:", on_click="ignore")
        if right.button("Keep it for next month's export", key=f"{k}_keep", icon=":material/bookmark_add:"):
            folder = config.mappings_folder()
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{columns.agency_slug(name)}.toml").write_text(mapping.to_toml(), encoding="utf-8")
            st.success("Kept: next month's export with these columns is mapped the same way.",
                       icon=":material/bookmark_added:")
        return mapping


def date_format(frame, source: str, where, k: str, start, time: bool = False):
    """A format chosen for a date (or time) column, with how its first values read under it."""
    fitting = columns.fitting_formats(frame[source], time=time)
    options = list(columns.TIME_FORMATS if time else columns.DATETIME_FORMATS)
    options = fitting + [o for o in options if o not in fitting]
    first = start.formats.get(source) if start else (fitting[0] if len(fitting) == 1 else None)
    fmt = where.selectbox(f"How {source} is written", options, key=f"{k}_format_{source}",
                          index=options.index(first) if first in options else None,
                          placeholder="Choose the format (never guessed)")
    if fmt:
        sample = frame[source].dropna().astype(str).head(3)
        read = columns.parse_dates(sample, fmt)
        where.caption("Reads as: " + ", ".join(
            f"{escape.markdown(s)} → {r:%H:%M}" if time and pd.notna(r) else
            f"{escape.markdown(s)} → {formats.moment(r)}" if pd.notna(r) else
            f"{escape.markdown(s)} → does not fit" for s, r in zip(sample, read)))
    return fmt


def value_table(values, allowed, k: str, known) -> dict:
    """The distinct values of a coded column, each mapped to an allowed value (proposed, then edited)."""
    table = columns.propose_values(values, allowed)
    if known:
        table["becomes"] = [known.get(v, b) for v, b in zip(table["value"], table["becomes"])]
    edited = st.data_editor(table, key=k, hide_index=True, width="stretch", disabled=["value", "rows"],
                            column_config={"becomes": st.column_config.SelectboxColumn(options=list(allowed))})
    return {str(v): b for v, b in zip(edited["value"], edited["becomes"]) if isinstance(b, str)}


def stage_table(values, k: str, known) -> dict:
    """The distinct statuses, each with the stage it means (proposed by its words, then edited)."""
    counts = values.dropna().astype(str).value_counts()
    stages = [(known or {}).get(v) or columns.propose_stage(v) for v in counts.index]
    edited = st.data_editor(pd.DataFrame({"status": list(counts.index), "rows": counts.to_numpy(), "stage": stages}),
                            key=k, hide_index=True, width="stretch", disabled=["status", "rows"],
                            column_config={"stage": st.column_config.SelectboxColumn(
                                options=list(columns.STAGE_CHOICES), required=True)})
    return {str(s): g for s, g in zip(edited["status"], edited["stage"]) if isinstance(g, str)}


def agency_table(frame, sources: list, k: str, known) -> dict:
    """The agencies as named in the referrals: spellings merged (proposed), sector and region set."""
    st.markdown("**Agencies**: each name as written, the agency it is (spellings of one agency merged), its "
                "sector and region.")
    names = columns.distinct_names(frame, [s if isinstance(s, str) else s[0] for s in sources if s])
    known = known or {}
    spelled = known.get("spellings") or {}
    names["agency"] = [spelled.get(w, a) for w, a in zip(names["written"], names["agency"])]
    names["sector"] = [(known.get("sectors") or {}).get(a, "community") for a in names["agency"]]
    names["region"] = [(known.get("regions") or {}).get(a, "") for a in names["agency"]]
    edited = st.data_editor(names, key=k, hide_index=True, width="stretch", disabled=["written", "referrals"],
                            column_config={"sector": st.column_config.SelectboxColumn(
                                options=list(TABLES["agencies"].column("sector").values), required=True)})
    spellings = {w: a for w, a in zip(edited["written"], edited["agency"]) if isinstance(a, str) and a.strip()
                 and a.strip() != w}
    sectors, regions = {}, {}
    for agency, sector, region in zip(edited["agency"], edited["sector"], edited["region"]):
        if isinstance(agency, str) and agency.strip():
            sectors.setdefault(agency.strip(), sector)
            if isinstance(region, str) and region.strip():
                regions.setdefault(agency.strip(), region.strip())
    return {"default_sector": "community", "default_region": "Unassigned", "spellings": spellings,
            "sectors": sectors, "regions": regions}


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
        chosen = {}
        column_maps = {}
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
            uploaded_maps = staging.column_mappings
            for staged_file in staging.files:
                if staged_file.name in uploaded_maps:
                    st.caption(f"{escape.markdown(staged_file.uploaded_as)}: a column mapping, applied to the file "
                               "it was made for.")
                    continue
                frame = staging.frame(staged_file.name)
                own_columns = frame is not None and upload.needs_mapping(frame, staged_file.table)
                if not own_columns:
                    chosen[staged_file.name] = st.selectbox(
                        escape.markdown(staged_file.uploaded_as), options,
                        index=options.index(staged_file.table), key=f"upload_table_{generation}_{staged_file.name}",
                        format_func=lambda t: "(not imported)" if t is None else t)
                    continue
                header = [str(c).strip() for c in frame.columns]
                known = next((m for m in uploaded_maps.values() if m.matches(header)), None)
                saved = None if known else columns.saved_mapping(header, config.mappings_folder())
                known = known or (saved[1] if saved else None)
                mapped = column_mapper(frame, staged_file, f"map_{generation}_{staged_file.name}", known,
                                       others={f.table for f in staging.files if f is not staged_file})
                if mapped is not None:
                    column_maps[staged_file.name] = mapped
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
            app.table(st, changes)
        if reviewed.hmis_report is not None:
            hmis_report(reviewed.hmis_report)
        if reviewed.problems:
            st.markdown("**Problems by kind** (rows affected)")
            app.table(st, reviewed.rule_counts())
            shown = upload.readable(reviewed.problems, limit=10)
            st.markdown("**First things to fix**\n\n" + "\n".join(f"- {escape.markdown(line)}" for line in shown))
            st.markdown("**Every problem**: the row is as numbered in your file, with the header as row 1.")
            app.table(st, reviewed.report(),
                      column_config={"problem and how to fix it": st.column_config.TextColumn(width="large")})
            st.download_button("Download the report (CSV)", reviewed.report_csv(), file_name="import-report.csv",
                               mime="text/csv", icon=":material/download:", key="upload_report", on_click="ignore")

        if reviewed.ok and reviewed.changes_anything:
            st.subheader("4. Import")
            try:
                key = config.hmac_key()
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
            if st.button("Import", type="primary", disabled=key is None or not sure, icon=":material/upload:"):
                try:
                    st.caption("Other people keep seeing the current data until the import is done.")
                    with app.progress_bar("Importing…") as progress:
                        result = upload.confirm(reviewed, database, key, progress=progress)
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
