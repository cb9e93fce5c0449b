"""The directors' Survey page's widgets (issue 32): choosing, opening, closing and rekeying a round, its links
and e-mails, who has answered, and a responses file in and out. Layer: the Streamlit glue (atlas.app); what
is worked out is atlas.survey's (the store and its rules) and atlas.views.survey's (the figures), each section
here only asks one of them and draws the answer.

A change to a round (opened, closed, rekeyed, answers imported) is written by atlas.survey before its call
returns; the page then runs again so that every section reads the round as it now stands."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from atlas import config, escape, exports, formats
from atlas.app.cache import opened
from atlas.app.widgets import table
from atlas.survey import Surveys, contacts_from_csv
from atlas.views import survey

STATUS = {"scheduled": "not open yet", "open": "open", "closed": "closed"}
RESULTS = {"sent": "sent", "refused": "refused by the server", "failed": "not sent (the server could not be reached)",
           "no_address": "no address", "answered": "answered already (no reminder)"}
CLOSES_AFTER = dt.timedelta(days=21)  # a new round's closing date, unless the director sets another
UPLOAD_LIMIT = 20 * 1024 * 1024  # bytes of a contacts or responses file read from an upload


def surveys() -> Surveys:
    """The rounds and answers kept beside the database in use."""
    return Surveys(Path(config.database_path()))


def _done(message: str, round_id: str | None = None, forget: tuple[str, ...] = ()) -> None:
    """Say what was done on the next run, choose `round_id` in the picker, clear the widgets of `forget` (a
    confirmation given once), and run the page again."""
    st.session_state["survey_done"] = message
    st.session_state["survey_forget"] = forget
    if round_id is not None:
        st.session_state["survey_pending_round"] = round_id
    st.rerun()


def said() -> None:
    """What the last action did (set by `_done`), once."""
    for key in st.session_state.pop("survey_forget", ()):
        st.session_state.pop(key, None)  # before the widget is drawn again: it starts unticked
    message = st.session_state.pop("survey_done", None)
    if message:
        st.success(escape.markdown(message), icon=":material/check_circle:")


def describe(chosen) -> str:
    # the status before the period: on a phone the picker cuts the end of its line, and whether a round is open
    # is what the page's every section turns on
    return (f"{chosen.name} ({STATUS.get(chosen.status, chosen.status)}) — "
            f"{formats.span(chosen.period_start, chosen.period_end)}")


def choose_round(store: Surveys):
    """The round picker (newest period first); None when there is no round yet."""
    rounds = {r.round_id: r for r in store.rounds()}
    pending = st.session_state.pop("survey_pending_round", None)
    if pending in rounds:
        st.session_state["survey_round"] = pending
    if not rounds:
        st.info("No survey round yet: open the first one below.", icon=":material/info:")
        return None
    if st.session_state.get("survey_round") not in rounds:
        st.session_state["survey_round"] = next(iter(rounds))
    chosen = rounds[st.selectbox("Round", list(rounds), key="survey_round", format_func=lambda r: describe(rounds[r]))]
    dates = (f"open from {formats.date(chosen.opens_on)}, closed on {formats.date(chosen.closed_on)}"
             if chosen.closed_on else
             f"open from {formats.date(chosen.opens_on)} to {formats.date(chosen.closes_on)}")
    st.caption(f"Round **{escape.markdown(chosen.round_id)}**: {len(chosen.members):,} members, {dates}.")
    return chosen


def round_actions(store: Surveys, chosen) -> None:
    """Close the round, or give it a new secret (each behind a confirmation)."""
    if chosen.status == "closed":
        return
    close, rekey = st.columns(2)
    with close:
        sure = st.checkbox("No more answers are to be taken: I want to close this round", key="survey_close_sure")
        if st.button("Close the round", icon=":material/lock:", disabled=not sure, key="survey_close"):
            store.close(chosen.round_id)
            _done(f"Round {chosen.round_id} is closed: its links no longer open the form.",
                  forget=("survey_close_sure",))
    with rekey:
        sure = st.checkbox("Every link sent so far is to stop working", key="survey_rekey_sure")
        if st.button("Give the round new links", icon=":material/key:", disabled=not sure, key="survey_rekey"):
            store.rekey(chosen.round_id)
            _done(f"Round {chosen.round_id} has new links: send them again (the old ones open nothing).",
                  forget=("survey_rekey_sure",))


def _agencies() -> pd.DataFrame:
    agencies = opened().query("network_agencies")
    return agencies.sort_values("name", key=lambda c: c.astype(str).str.casefold())


def open_round(store: Surveys) -> None:
    """The form that opens a round: id, name, the period it describes, its dates and its members (by default
    the agencies active in the period, victim-service agencies left out unless added)."""
    today = dt.date.today()
    first, second = st.columns(2)
    round_id = first.text_input("Round id", key="survey_new_id", help="Short and unique, e.g. 2026.")
    name = second.text_input("Name", key="survey_new_name",
                             help="As members will read it, e.g. Partnership survey 2026.")
    dates = st.columns(4)
    start = dates[0].date_input("Period from", dt.date(today.year - 1, 1, 1), key="survey_new_start")
    end = dates[1].date_input("Period to", dt.date(today.year - 1, 12, 31), key="survey_new_end")
    opens = dates[2].date_input("Opens on", today, key="survey_new_opens")
    closes = dates[3].date_input("Closes on", today + CLOSES_AFTER, key="survey_new_closes")
    agencies = _agencies()
    names = dict(zip(agencies["agency_id"], agencies["name"].astype(str)))
    victim = set(agencies.loc[agencies["is_victim_service"], "agency_id"])
    default = [a for a in store.default_members(start, end) if a in names] if start <= end else []
    members = st.multiselect(
        f"Members ({len(default):,} active in the period by default)", list(names), default=default,
        key=f"survey_new_members_{start}_{end}",  # a new period gives its own default
        format_func=lambda a: names[a] + (" (victim service)" if a in victim else ""),
        help="Every member gets a link and rates the others. Victim-service agencies are left out unless you add "
             "them: they can answer, but are never listed for others to rate.")
    if st.button("Open the round", icon=":material/add_circle:", key="survey_open", type="primary"):
        try:
            made = store.open_round(round_id.strip(), name.strip(), start, end, closes, opens_on=opens,
                                    members=members)
        except (ValueError, KeyError) as refused:
            st.error(escape.markdown(refused.args[0] if refused.args else refused), icon=":material/error:")
        else:
            # the form folds and starts empty again: left open with the round just made, a second click would
            # only be told that the round id is taken
            _done(f"Round {made.round_id} is open to {len(made.members):,} members: its links are below.",
                  made.round_id, forget=tuple(k for k in st.session_state if str(k).startswith("survey_new_")))


def base_url() -> str:
    """The address the form's links start with: by default the address this page is served at."""
    here = st.context.url
    if here:
        return here.split("?")[0].rstrip("/").removesuffix("/survey")
    path = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"http://localhost:{st.get_option('server.port')}" + (f"/{path}" if path else "")


def links(store: Surveys, chosen) -> str | None:
    """The links CSV for a mail merge (formula-safe), from the address given; returns that address (None when it
    is not one)."""
    base = st.text_input("Address of the dashboard the links start with", base_url(), key="survey_base_url",
                         help="Where members reach this dashboard; each link is this address and a token of its own.")
    if not base.startswith(("https://", "http://")):
        st.error("The address must start with https:// (or http:// on a local network).", icon=":material/error:")
        return None
    st.download_button("Links for a mail merge (CSV)",
                       lambda: exports.safe_csv(store.links(chosen.round_id, base)[["agency_id", "name", "link"]]),
                       file_name=f"survey_links_{chosen.round_id}.csv", mime="text/csv", icon=":material/link:",
                       on_click="ignore", key="survey_links")
    return base


def _uploaded_text(upload) -> str | None:
    """The upload's text when it is a UTF-8 text file (checked by its content, not its name); else says why."""
    data = upload.getvalue()
    if len(data) > UPLOAD_LIMIT or b"\x00" in data:
        st.error(f"{escape.markdown(upload.name)} is not a CSV text file.", icon=":material/error:")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        st.error(f"{escape.markdown(upload.name)} is not UTF-8 text: save it as CSV UTF-8 and upload it again.",
                 icon=":material/error:")
        return None


def as_file(text: str, suffix: str = ".csv") -> Path:
    """The uploaded text written to a private temporary file, for the atlas.survey readers that take a path."""
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8", newline="") as out:
        out.write(text)
    return Path(out.name)


def problems_frame(found) -> pd.DataFrame:
    """Problems as a table, in the order of the file: (row, column, value, rule) tuples (a contacts file's), or
    problems with those fields and a message (atlas.ingest.problems.Problem, a responses file's)."""
    fields = ("row", "column", "value", "rule", "message")
    rows = [dict(zip(fields, p)) if isinstance(p, tuple) else {f: getattr(p, f, None) for f in fields}
            for p in found]
    frame = pd.DataFrame(rows, columns=list(fields)).astype({"row": "Int64"})
    frame = frame.sort_values("row", na_position="first", kind="stable").dropna(axis=1, how="all")
    return frame.rename(columns=str.capitalize).reset_index(drop=True)


def problems_list(error: Exception) -> None:
    """Every problem a file was refused for, as the Data page lists an upload's problems."""
    found = getattr(error, "problems", None)
    st.error(f"**Nothing was changed.** {escape.markdown(str(error).splitlines()[0] if str(error) else error)}",
             icon=":material/error:")
    if found:
        table(st, problems_frame(found))
    elif "\n" in str(error):
        st.markdown("\n".join(f"- {escape.markdown(line)}" for line in str(error).splitlines()[1:] if line.strip()))


def contacts(store: Surveys, chosen) -> None:
    """The members' e-mail addresses: a CSV (agency_id,email) checked by content, every bad row named."""
    kept = store.contacts(chosen.round_id)
    st.caption(f"{len(kept):,} of {len(chosen.members):,} members have an address for this round."
               " Upload a CSV with the columns agency_id and email to add or replace them.")
    upload = st.file_uploader("Members' e-mail addresses (CSV)", type=["csv"], key="survey_contacts_file")
    if upload is None:
        return
    text = _uploaded_text(upload)
    if text is None:
        return
    path = as_file(text)
    try:
        read = contacts_from_csv(path)
        if st.button(f"Keep these {len(read):,} addresses", key="survey_contacts_keep", icon=":material/save:"):
            store.set_contacts(chosen.round_id, read)
            _done(f"{len(read):,} addresses kept for round {chosen.round_id}.")
    except ValueError as refused:
        problems_list(refused)
    finally:
        path.unlink(missing_ok=True)


def mail(store: Surveys, chosen, base: str | None) -> None:
    """Invitations, and reminders to those who have not answered, when an SMTP server is configured."""
    from atlas.survey import mail as survey_mail  # the e-mail side loads only where a page offers it

    settings = survey_mail.settings()
    if settings is None:
        st.info("To send the links by e-mail, add an `[smtp]` table (host, port, username, password, sender, "
                "starttls) to the secrets file (docs/operations.md); until then, use the links CSV for a mail merge.",
                icon=":material/mail:")
        return
    if chosen.status != "open" or base is None:
        st.caption("Invitations and reminders are sent while the round is open.")
        return
    to = store.contacts(chosen.round_id)
    invite, remind = st.columns(2)
    sent = None
    if invite.button("Send invitations", icon=":material/send:", key="survey_invite", disabled=not to):
        sent = survey_mail.invite(store, chosen.round_id, base, settings, to=to, reminder=False)
    if remind.button("Send reminders to those who have not answered", icon=":material/notifications:",
                     key="survey_remind", disabled=not to):
        sent = survey_mail.invite(store, chosen.round_id, base, settings, to=to, reminder=True)
    if sent is not None:
        done = pd.DataFrame(sent, columns=["agency_id", "email", "result", "detail"])
        counts = done["result"].value_counts()
        st.success(f"{int(counts.get('sent', 0)):,} messages sent; "
                   + ", ".join(f"{RESULTS.get(k, k)}: {n:,}" for k, n in counts.items() if k != "sent") + ".",
                   icon=":material/check_circle:")
        table(st, done.assign(result=done["result"].map(lambda r: RESULTS.get(r, r))).rename(columns=str.capitalize))


def progress(store: Surveys, chosen) -> pd.DataFrame:
    """Answered of invited, who has answered and when, who has not; returns the progress frame."""
    frame = store.progress(chosen.round_id)
    answered, waiting = survey.progress_tables(frame)
    st.metric("Answered", f"{len(answered):,} of {len(frame):,}", border=True,
              help="Members that saved an answer, of the members invited.")
    done, missing = st.columns(2)
    done.markdown(f"**Answered** ({len(answered):,})")
    table(done, answered, column_config={"Last saved": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")})
    missing.markdown(f"**{'Did not answer' if chosen.status == 'closed' else 'Not answered yet'}** ({len(waiting):,})")
    table(missing, waiting)
    return frame


def import_responses(store: Surveys, chosen) -> None:
    """A responses file (the spec's survey_responses.csv) read into the round, checked whole first."""
    upload = st.file_uploader("Responses file (survey_responses.csv)", type=["csv"], key="survey_responses_file",
                              help="Paper answers typed up, or another tool's export: it replaces the answers of "
                                   "every respondent it holds. Nothing is changed if any row has a problem.")
    if upload is None:
        return
    text = _uploaded_text(upload)
    if text is None or not st.button("Import these responses", key="survey_import", icon=":material/upload:"):
        return
    path = as_file(text)
    try:
        report = store.import_responses(chosen.round_id, path)
    finally:
        path.unlink(missing_ok=True)
    if report.ok:
        _done(f"{report.rows:,} rows imported into round {chosen.round_id}: the answers of "
              f"{len(report.respondents):,} respondents replaced.")
    st.error(f"**{len(report.problems):,} {'problem' if len(report.problems) == 1 else 'problems'}** in "
             f"{escape.markdown(upload.name)}. Nothing was changed: fix them in the file (the row is as numbered in "
             "it, with the header as row 1) and upload it again.", icon=":material/error:")
    table(st, problems_frame(report.problems), column_config={"Message": st.column_config.TextColumn(width="large")})


def export_responses(store: Surveys, chosen) -> bytes:
    """The round's standing answers as the spec's survey_responses.csv."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "survey_responses.csv"
        store.export_responses(chosen.round_id, path)
        return path.read_bytes()
