"""The Data page's column mapping as widgets: for each uploaded file, the table it holds or, for a file in its
own columns, the form that maps them (which source column feeds each contract column, how its dates are
written, what its coded values mean, a status column in place of stage dates, agencies from names), to
download or keep for next month. Layer: the Streamlit glue (atlas.app); what is proposed and made is
decided in atlas.app.column_mapper."""

from __future__ import annotations

import streamlit as st

import atlas.app.column_mapper as cm
from atlas import config, escape
from atlas.app.widgets import table as show_table
from atlas.contract import TABLES
from atlas.ingest import upload
from atlas.ingest.formats import columns


def map_files(staging: upload.Staging, generation: int) -> tuple[dict, dict]:
    """Ask which table each staged file holds, or map the columns of a file in its own columns. Returns the
    tables chosen (file name -> table or None) and the finished column mappings (file name -> mapping)."""
    chosen, column_maps = {}, {}
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
        known = cm.known_mapping(cm.header(frame), uploaded_maps, config.mappings_folder())
        mapped = column_mapper(frame, staged_file, f"map_{generation}_{staged_file.name}", known,
                               others={f.table for f in staging.files if f is not staged_file})
        if mapped is not None:
            column_maps[staged_file.name] = mapped
    return chosen, column_maps


def column_mapper(frame, staged_file, k: str, known, others: set):
    """The column mapping of one file in its own columns: which source column feeds each contract column,
    how its dates are written, what its coded values mean, a status column in place of stage dates,
    agencies from names; saved for next month. Returns the mapping, or None while unfinished."""
    header = cm.header(frame)
    with st.container(border=True):
        st.markdown(f"**Map the columns of {escape.markdown(staged_file.uploaded_as)}**: its columns are its own, "
                    "not the template's. Say once which column holds what; the mapping can be kept for next "
                    "month's export of the same shape.")
        if known is not None:
            st.success(f"Recognised: this file has the columns of the saved mapping "
                       f"“{escape.markdown(known.name)}”, which is applied below. Change anything that is no longer "
                       "right.", icon=":material/bookmark_added:")
        show_table(st, frame.head(5))
        tables = list(TABLES)
        table = st.selectbox("Which table it holds", tables, key=f"{k}_table",
                             index=tables.index(cm.first_table(known, staged_file.table)))
        start = known if known is not None and known.table == table else None
        proposal = columns.propose(frame, table)
        proposed_status = columns.propose_status(frame, proposal)
        use_status = table == "referrals" and st.toggle(
            "One status column and a status date, instead of accepted / declined / started / completed dates",
            value=bool(start.status) if start else proposed_status[0] is not None, key=f"{k}_use_status")
        by_name = table == "referrals" and "agencies" not in others and st.toggle(
            "The agency columns hold agency names (build the agencies from them)",
            value=start.agencies is not None if start else True, key=f"{k}_by_name")
        draft = cm.Draft(table, header)
        for column in cm.to_map(table, use_status):
            _map_column(frame, draft, column, k, start, proposal, by_name)
        if use_status:
            draft.status = _status_form(frame, draft, k, start, proposed_status)
        if by_name:
            draft.agencies = _agency_table(frame, [draft.columns.get(c) for c in cm.AGENCY_COLUMNS],
                                           f"{k}_agencies", start.agencies if start else None)
        draft.name = st.text_input("Name of this mapping", value=cm.first_name(start, staged_file.uploaded_as),
                                   key=f"{k}_name")
        return _finish(draft, k)


def _map_column(frame, draft: cm.Draft, column, k: str, start, proposal: dict, by_name: bool) -> None:
    """One contract column's row of the form: its source, a sample of it, and what the source needs (a date
    format, a time column, a table of its coded values)."""
    first, first_date = cm.first_source(start, proposal, column.name)
    left, middle, right = st.columns([3, 3, 4])
    options = [None, *draft.header]
    source = left.selectbox(
        f"{column.name}" + (" (required)" if column.required else ""), options,
        index=cm.index_of(options, first_date), key=f"{k}_col_{column.name}",
        format_func=lambda h: "— leave empty" if h is None else h, help=column.doc or None)
    if source is None:
        return
    middle.caption(cm.example(frame, source))
    if column.type in cm.DATED:
        draft.columns[column.name] = _dated(frame, draft, column, source, first, right, k, start)
    elif column.values and not (by_name and column.name in cm.AGENCY_COLUMNS):
        draft.columns[column.name] = source
        draft.values[column.name] = _value_table(frame[source], column.values, f"{k}_values_{column.name}",
                                                 start.values.get(column.name) if start else None)
    else:
        draft.columns[column.name] = source


def _dated(frame, draft: cm.Draft, column, source: str, first, where, k: str, start):
    """A dated column's format and, for a timestamp, a time column and its format; returns its source."""
    fmt = _date_format(frame, source, where, k, start)
    time_column = None
    if column.type == "timestamp":
        second = cm.first_time(start, first, frame, source)
        options = [None, *draft.header]
        time_column = where.selectbox(f"{column.name}: time in another column", options,
                                      index=cm.index_of(options, second), key=f"{k}_time_{column.name}",
                                      format_func=lambda h: "— none" if h is None else h)
        if time_column:
            tfmt = _date_format(frame, time_column, where, k, start, time=True)
            if tfmt:
                draft.formats[time_column] = tfmt
    if fmt:
        draft.formats[source] = fmt
    return [source, time_column] if time_column else source


def _status_form(frame, draft: cm.Draft, k: str, start, proposed: tuple) -> dict:
    """The status column, its date column and the stage each status means."""
    st.markdown("**The status column**: the stage each status means, reached on the status date.")
    left, right = st.columns(2)
    first = cm.first_status(start, proposed)
    column = left.selectbox("Status column", draft.header, key=f"{k}_status",
                            index=cm.index_of(draft.header, first["column"]))
    date = right.selectbox("Status date column", draft.header, key=f"{k}_status_date",
                           index=cm.index_of(draft.header, cm.date_column(first["date"])))
    fmt = _date_format(frame, date, right, k, start)
    if fmt:
        draft.formats[date] = fmt
    return {"column": column, "date": date,
            "values": _stage_table(frame[column], f"{k}_stages", start.status["values"]
                                   if start and start.status else None)}


def _finish(draft: cm.Draft, k: str):
    """What is still to do, or the mapping made, to download or keep; returns it, or None while unfinished."""
    todo = draft.still_to_do()
    if todo:
        st.caption(todo)
        return None
    try:
        mapping = draft.mapping()
    except columns.MappingError as error:
        st.error(f"{escape.markdown(str(error))}", icon=":material/error:")
        return None
    left, right = st.columns(2)
    left.download_button("Download this mapping (TOML)", mapping.to_toml().encode(), key=f"{k}_download",
                         file_name=cm.file_name(draft.name), mime="application/toml",
                         icon=":material/download:", on_click="ignore")
    if right.button("Keep it for next month's export", key=f"{k}_keep", icon=":material/bookmark_add:"):
        cm.keep(mapping, draft.name, config.mappings_folder())
        st.success("Kept: next month's export with these columns is mapped the same way.",
                   icon=":material/bookmark_added:")
    return mapping


def _date_format(frame, source: str, where, k: str, start, time: bool = False):
    """A format chosen for a date (or time) column, with how its first values read under it."""
    options, first = cm.format_choices(frame, source, start, time=time)
    fmt = where.selectbox(f"How {source} is written", options, key=f"{k}_format_{source}",
                          index=cm.index_of(options, first, None),
                          placeholder="Choose the format (never guessed)")
    if fmt:
        where.caption(cm.reads_as(frame, source, fmt, time=time))
    return fmt


def _value_table(values, allowed, k: str, known) -> dict:
    """The distinct values of a coded column, each mapped to an allowed value (proposed, then edited)."""
    edited = st.data_editor(cm.value_rows(values, allowed, known), key=k, hide_index=True, width="stretch",
                            disabled=["value", "rows"],
                            column_config={"becomes": st.column_config.SelectboxColumn(options=list(allowed))})
    return cm.chosen_values(edited)


def _stage_table(values, k: str, known) -> dict:
    """The distinct statuses, each with the stage it means (proposed by its words, then edited)."""
    edited = st.data_editor(cm.stage_rows(values, known), key=k, hide_index=True, width="stretch",
                            disabled=["status", "rows"],
                            column_config={"stage": st.column_config.SelectboxColumn(
                                options=list(columns.STAGE_CHOICES), required=True)})
    return cm.chosen_stages(edited)


def _agency_table(frame, sources: list, k: str, known) -> dict:
    """The agencies as named in the referrals: spellings merged (proposed), sector and region set."""
    st.markdown("**Agencies**: each name as written, the agency it is (spellings of one agency merged), its "
                "sector and region.")
    edited = st.data_editor(cm.agency_rows(frame, sources, known), key=k, hide_index=True, width="stretch",
                            disabled=["written", "referrals"],
                            column_config={"sector": st.column_config.SelectboxColumn(
                                options=list(TABLES["agencies"].column("sector").values), required=True)})
    return cm.agency_settings(edited)
