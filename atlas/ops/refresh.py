"""`python -m atlas refresh INBOX`: import the newest export dropped in an inbox folder, all or nothing,
and record what came of it.

One run: take the inbox's turn (one refresh of an inbox at a time), pick its newest export
(`atlas.ops.inbox`), and unless that very export (by checksum) was imported before, import it in its
format with the usual checks, replacing the data (an export is whole) or, with `append`, adding to it.
Then the export moves under its own name to `INBOX/done/`, or to `INBOX/failed/` with its report beside
it. A failure the export is not to blame for (no pseudonymisation key, a fault of the server) leaves it in
the inbox for the next run. Every run that takes an export is recorded in the refresh log beside the
database (`atlas.config.refresh_log`): first as running, then its result; the Data page and
`atlas status` read it. A failed refresh is told to the directors by e-mail when SMTP is configured.

The database is only ever changed by the importer, which builds a new file and swaps it in whole, so a
refresh that fails, or is killed, leaves the data exactly as it was, and its export still in the inbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import inspect
import os
import shutil
import socket
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from atlas import config
from atlas.contract import TABLES
from atlas.exports import safe_csv
from atlas.ingest import archive, importer, sources, upload
from atlas.ingest.problems import Problem, format_report
from atlas.ops import inbox as box
from atlas.ops import mail, records
from atlas.progress import NOWHERE, Part, Progress

SETTLE = 60.0  # seconds an export must have been left unchanged before a refresh reads it
IMPORTED = ("imported", "unchanged")  # results whose export counts as imported (never imported again)


class Refused(Exception):
    """The export cannot be imported as it is: it goes to failed/ with its report."""

    def __init__(self, message: str, problems: list[Problem], report: str | None = None):
        super().__init__(message)
        self.problems = problems
        self.report = report


@dataclass
class Run:
    """One refresh under way: where, which export, and its record as it will be written."""

    inbox: Path
    database: Path
    entry: Path
    record: dict
    log: Path
    say: object = print
    notes: list[str] = field(default_factory=list)


def accept_dropped() -> bool:
    """`[refresh] accept_dropped` (or $ATLAS_REFRESH_ACCEPT_DROPPED): whether an HMIS export that leaves out
    more rows than the import's safeguard allows is imported all the same (false by default)."""
    value = config.setting("refresh", "accept_dropped", False)
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "yes", "1", "on", "false", "no", "0", "off", ""):
        return str(value).strip().lower() in ("true", "yes", "1", "on")
    raise config.ConfigError(f"[refresh] accept_dropped must be true or false, not {value!r}")


def import_options(function) -> dict:
    """The refresh's settings that the import function takes, by name: the one place they are passed, so an
    import that gains such a parameter (accept_dropped) receives it with no change here."""
    settings = {"accept_dropped": accept_dropped()}
    taken = inspect.signature(function).parameters
    return {name: value for name, value in settings.items() if name in taken}


@contextlib.contextmanager
def _turn(inbox: Path):
    """True while this process holds the inbox's turn; False (at once) when another refresh holds it."""
    with open(inbox / ".refresh.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(inbox: Path, database: Path, *, mode: str = "replace", settle: float = SETTLE,
        progress: Progress | Part = NOWHERE, say=print) -> int:
    """Refresh `database` from the newest export in `inbox`; the exit status (0: imported, nothing to do or
    already imported; 1: the refresh failed). Raises NotADirectoryError when `inbox` is not a folder."""
    inbox, database = Path(inbox), Path(database)
    if not inbox.is_dir():
        raise NotADirectoryError(f"{inbox} is not a folder")
    with _turn(inbox) as mine:
        if not mine:
            say(f"Another refresh of {inbox} is running: nothing done.")
            return 0
        waiting = box.entries(inbox)
        if not waiting:
            say(f"Nothing to import: {inbox} holds no export.")
            return 0
        entry = waiting[0]
        if not box.settled(entry, settle):
            say(f"{entry.name} changed less than {settle:.0f} s ago (still being copied?): left for the next "
                "refresh.")
            return 0
        record = {"id": uuid.uuid4().hex, "started_at": records.now(), "pid": os.getpid(),
                  "host": socket.gethostname(), "inbox": str(inbox), "database": str(database),
                  "entry": entry.name, "mode": mode, "result": "running", "checksum": box.checksum(entry)}
        current = Run(inbox, database, entry, record, config.refresh_log(database), say)
        if _seen_before(current):
            return 0
        record["format"] = box.kind(entry)
        records.put(current.log, record)
        return _refresh(current, waiting[1:], mode, progress)


def _seen_before(current: Run) -> bool:
    """An export imported before (the same checksum) is moved to done/ without importing it again."""
    earlier = next((r for r in reversed(records.read(current.log))
                    if r.get("checksum") == current.record["checksum"] and r.get("result") in IMPORTED), None)
    if earlier is None:
        return False
    moved = box.move(current.entry, current.inbox / box.DONE)
    current.record.update(
        result="skipped", finished_at=records.now(), rows=0, moved_to=str(moved.relative_to(current.inbox)),
        message=f"Already imported on {earlier.get('finished_at')} (as {earlier.get('entry')}): moved to "
                f"{box.DONE}/ without importing it again.")
    records.put(current.log, current.record)
    current.say(f"{current.entry.name}: {current.record['message']}")
    return True


def _refresh(current: Run, older: list[Path], mode: str, progress) -> int:
    try:
        result, report = import_entry(current.entry, current.record["format"], current.database, mode, progress)
    except Refused as refused:
        return _failed(current, str(refused), refused.problems, refused.report, keep=False)
    except config.ConfigError as error:  # the server's setting, not the export: it stays for the next run
        return _failed(current, str(error), [], None, keep=True)
    except Exception as error:  # a fault of the server (a full disk, a bug): recorded and told, then raised
        _failed(current, f"{type(error).__name__}: {error}", [], None, keep=True)
        raise
    return _imported(current, older, mode, result, report)


def import_entry(entry: Path, kind: str | None, database: Path, mode: str,
                 progress: Progress | Part = NOWHERE) -> tuple[importer.ImportResult, str | None]:
    """Import one inbox entry of the given kind (`inbox.kind`): the result, and the HMIS export's report.
    Raises Refused for an export that cannot be imported (every problem with it), config.ConfigError when
    the server lacks a setting the import needs."""
    from atlas.ingest.formats import hmis

    if kind is None:
        raise Refused(f"{entry.name} is not an export the refresh reads", [Problem(
            entry.name, None, None, None, "unrecognised_file",
            "Not an export the refresh reads: drop an HMIS export (its zip or folder), a folder or zip of "
            "contract files, an HSDS directory, or a CSV, Excel or Parquet file a kept column mapping fits.")])
    key = config.hmac_key(required=kind != "hsds")  # a service directory holds no client id to pseudonymise
    try:
        if kind == "hmis":
            result, report = hmis.import_export(entry, database, key, mode=mode, progress=progress,
                                                **import_options(hmis.import_export))
            return result, report.text()
        if entry.is_dir():
            return _folder(entry, kind, database, key, mode, progress), None
        with _unpacked(entry, kind) as folder:
            return _folder(folder, kind, database, key, mode, progress), None
    except hmis.HmisRejected as rejected:
        raise Refused(_found(rejected.problems), rejected.problems,
                      rejected.report.text() if rejected.report is not None else None) from None
    except importer.ImportRejected as rejected:
        raise Refused(_found(rejected.problems), rejected.problems) from None
    except archive.ArchiveRefused as refused:
        raise Refused(f"The archive was not read: {refused}", [refused.problem]) from None


def _found(problems: list[Problem]) -> str:
    errors = sum(p.count for p in problems if p.severity == "error")
    return f"{errors:,} {'problem' if errors == 1 else 'problems'} found in the export"


@contextlib.contextmanager
def _unpacked(entry: Path, kind: str):
    """A zip's readable files (or the one file of a "file" entry) in a private folder, removed after."""
    if kind == "file":
        with tempfile.TemporaryDirectory(prefix="atlas-refresh-") as folder:
            shutil.copy2(entry, Path(folder) / entry.name)
            yield Path(folder)
        return
    with archive.open_export(entry, box.readable) as found:
        errors = [p for p in found.problems if p.severity == "error"]
        if errors:
            raise importer.ImportRejected(errors)
        if not found.files:
            raise Refused(f"{entry.name} holds no file to import", [Problem(
                entry.name, None, None, None, "missing_file",
                "The archive holds no CSV, Excel or Parquet file: zip the export's files themselves.")])
        yield next(iter(found.files.values())).parent


def _folder(folder: Path, kind: str, database: Path, key: bytes | None, mode: str, progress) -> importer.ImportResult:
    """A folder of contract files (some perhaps in their own columns, for a kept column mapping), or an
    HSDS directory, imported."""
    from atlas.ingest.formats import agency_ids, columns, hsds

    if kind == "hsds":
        return hsds.import_directory(folder, database, key, mode=mode, progress=progress,
                                     **import_options(hsds.import_directory))
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in sources.READERS)
    own = [p for p in files if p.stem.lower() not in TABLES]
    if not own:  # contract files only: the batched import, as `atlas import DIR`
        return importer.import_folder(folder, database, key, mode=mode, progress=progress,
                                      **import_options(importer.import_folder))
    kept = _kept_mappings(own, config.mappings_folder(database))
    required = importer.REQUIRED_FOR_REPLACE if mode == "replace" else ()
    raw, problems = columns.read_folder(folder, list(kept.values()), required, agency_ids.stored_agency_ids(database))
    for name, mapping in kept.items():
        problems = mapping.locate(problems, name)
    return importer.import_tables(raw, problems, database, key, mode=mode, source=f"refresh of {folder.name}",
                                  checksum=importer.checksum_files(files), progress=progress,
                                  **import_options(importer.import_tables))


def _kept_mappings(own: list[Path], folder: Path) -> dict:
    """The kept column mapping (newest first) fitting each file in its own columns, by file name; Refused
    when a file has none."""
    from atlas.ingest.formats import columns

    found, problems = {}, []
    for path in own:
        frame, read = sources.read_text(path)
        if frame is None:
            problems += read
            continue
        kept = columns.saved_mapping([str(c).strip() for c in frame.columns], folder)
        if kept is None:
            problems.append(Problem(path.name, None, None, None, "unrecognised_file", (
                "No kept column mapping fits this file's columns, and it is not named after a contract table: "
                "map its columns once on the Data page and keep the mapping, then drop the export in the inbox "
                "again.")))
        else:
            found[path.name] = kept[1]
    if problems:
        raise Refused(f"{len(problems):,} {'file' if len(problems) == 1 else 'files'} of the export could not be "
                      "read as the contract's tables", problems)
    return found


def _rows(result: importer.ImportResult) -> int:
    """Rows the import wrote: every row of a replace; the new and changed rows of an append."""
    if result.mode == "append":
        return sum(c.added + c.updated for c in result.changes.values()) if result.written else 0
    return sum(result.row_counts.values())


def _imported(current: Run, older: list[Path], mode: str, result: importer.ImportResult, report: str | None) -> int:
    record, inbox = current.record, current.inbox
    moved = box.move(current.entry, inbox / box.DONE)
    # A replace loads a whole export: one waiting that is older than it would take the data back in time.
    superseded = [box.move(entry, inbox / box.DONE).name for entry in older] if mode == "replace" else []
    if report or result.warnings:
        _write_report(moved, record, result.warnings, report)
    rows = _rows(result)
    if not result.written:
        what = "nothing new: every row was already there, and the data is unchanged"
    elif mode == "append":
        what = "added to the data: " + ", ".join(f"{c.added:,} new and {c.updated:,} updated {name}"
                                                  for name, c in result.changes.items())
    else:
        what = "replaced the data: " + ", ".join(f"{n:,} {name}" for name, n in result.row_counts.items())
    record.update(result="imported" if result.written else "unchanged", finished_at=records.now(), rows=rows,
                  row_counts=result.row_counts, warnings=sum(p.count for p in result.warnings),
                  moved_to=str(moved.relative_to(inbox)), superseded=superseded,
                  message=f"{box.KINDS.get(record['format'], 'export')} {what}.")
    records.put(current.log, record)
    current.say(f"Imported {current.entry.name} into {current.database}: {what}. Moved to {moved}.")
    if superseded:
        current.say(f"Older exports moved to {inbox / box.DONE} without importing them (this one replaces "
                    f"them): {', '.join(superseded)}")
    elif older:
        current.say(f"{len(older)} older export(s) still wait in {inbox}: the next refresh adds the newest of them.")
    return 0


def _failed(current: Run, why: str, problems: list[Problem], report: str | None, *, keep: bool) -> int:
    """Record a failed refresh, move its export to failed/ with its report (unless `keep`), tell the
    directors; the exit status 1."""
    record, inbox = current.record, current.inbox
    errors = sum(p.count for p in problems if p.severity == "error")
    record.update(result="failed", finished_at=records.now(), rows=0, problems=errors)
    if keep:
        record["message"] = (f"{why} The export was left in the inbox for the next refresh; the data is "
                             "unchanged.")
    else:
        moved = box.move(current.entry, inbox / box.FAILED)
        written = _write_report(moved, record, problems, report, why)
        record.update(moved_to=str(moved.relative_to(inbox)), report=str(written.relative_to(inbox)),
                      message=(f"{why.rstrip('.')}. Nothing was imported: the data is unchanged. The export is "
                               f"in {box.FAILED}/, with its report {written.name} beside it."))
    record["notified"] = _tell_directors(current, problems)
    records.put(current.log, record)
    print(f"Refresh of {current.entry.name} failed: {record['message']}", file=sys.stderr)
    for note in current.notes:
        print(note, file=sys.stderr)
    return 1


def _write_report(moved: Path, record: dict, problems: list[Problem], report: str | None, why: str = "") -> Path:
    """The export's report beside it (NAME.report.txt, and NAME.problems.csv listing every problem)."""
    path = moved.with_name(moved.name + ".report.txt")
    parts = [f"Refresh of {record['entry']} ({box.KINDS.get(record.get('format'), 'not recognised')}), "
             f"started {record['started_at']}, {record['mode']}" + (f": {why}" if why else "")]
    if report:
        parts += ["", report]
    if problems:
        parts += ["", format_report(problems)]
        moved.with_name(moved.name + ".problems.csv").write_bytes(safe_csv(upload.report_frame(problems)))
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def _tell_directors(current: Run, problems: list[Problem]) -> list[str] | None:
    """E-mail the directors that the refresh failed (no cell value of the export in it: where each problem
    is and what kind, never what the cell held). The addresses told, or None when it could not be."""
    try:
        settings, to = mail.smtp(), mail.recipients("directors")
    except config.ConfigError as error:
        current.notes.append(f"The directors were not told: {error}")
        return None
    if settings is None or not to:
        return None
    record = current.record
    lines = [f"The refresh of the Collaboration Atlas on {record['host']} failed at {record['finished_at']}.", "",
             f"Export: {record['entry']} (in {current.inbox})", f"What happened: {record['message']}", ""]
    if problems:
        counts = upload.rule_counts(problems)
        lines += ["Problems found, by kind (rows):"]
        lines += [f"  {row['what']} ({row['severity']}): {row['rows']:,}" for row in counts.to_dict("records")]
        listed = [p for p in problems if p.severity == "error" and p.count == 1][:10]
        lines += ["", "The first of them (file, row, column):"]
        lines += [f"  {p.file or '-'}, row {p.row if p.row is not None else '-'}, column {p.column or '-'}: "
                  f"{upload.RULE_TITLES.get(p.rule, p.rule)}" for p in listed]
        lines += [""]
    lines += [f"The database {current.database} still holds the data it held before."]
    try:
        subject = f"Collaboration Atlas: the refresh of {mail.plain(record['entry'])} failed"
        mail.send(settings, mail.message(settings, to, subject, "\n".join(lines) + "\n"))
    except mail.MailError as error:
        current.notes.append(f"The directors could not be told by e-mail: {error}")
        return None
    return to
