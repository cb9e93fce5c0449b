"""Loading validated tables into a Collaboration Atlas database, all or nothing.

A database is always built whole into a new file beside the target and moved over it in one
`os.replace`, so a failed or interrupted import leaves the old database exactly as it was, and a
reader that has the old file open keeps reading it until it reopens. Client ids are pseudonymised
before anything is written. One import runs at a time per database (a lock file beside it), so two
people importing at once cannot lose each other's rows.

Two modes:

* **replace**: the files are the whole data set; the new database holds them and nothing else
  (its import log starts again).
* **append**: the files are added to what the database holds. Each file row is matched to a stored
  row by `validate.APPEND_KEYS`; a new row is added, a matched row may fill in cells the database
  has empty (a referral accepted since the last export), and a value that differs from a stored
  one is a conflict: reported, and by default nothing is imported (`on_conflict="update"` lets the
  file win). Nothing stored is deleted. The new database carries the old import log forward.
  Appending files that add and change nothing writes nothing at all, so re-importing is idempotent.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from atlas import catalog, db
from atlas.contract import TABLES
from atlas.ingest import sources, store, streamed, validate
from atlas.ingest.problems import Problem
from atlas.ingest.pseudonym import pads, pseudonymise
from atlas.ingest.store import (
    REQUIRED_FOR_REPLACE,
    Change,
    ImportRejected,
    ImportResult,
    arrow_table,
    building,
    checksum_files,
    identity,
    import_lock,
    prepare,
    write_rows,
)
from atlas.progress import NOWHERE, Part, Progress

# Both builds write the import log through this module's name, so a test can break the log's write
# here to interrupt a build.
_log = store.log

MODES = ("replace", "append")
ON_CONFLICT = ("refuse", "update")


class DatabaseChanged(RuntimeError):
    """The database was replaced between checking the files and importing them: check them again."""


@dataclass
class ImportPlan:
    """Everything an import will do, worked out without writing anything."""

    mode: str
    tables: dict[str, pd.DataFrame]  # typed rows to write (append: merged, client ids pseudonymised)
    problems: list[Problem]
    changes: dict[str, Change]
    files: dict[str, str]  # table -> file name
    source: str
    checksum: str
    base: tuple[int, int] | None = None  # (mtime_ns, size) of the database an append was planned on
    stored_rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # append: rows replaced

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changes_anything(self) -> bool:
        return self.mode == "replace" or any(c.added or c.updated for c in self.changes.values())


def import_folder(directory: str | Path, database: str | Path, key: bytes, *, mode: str = "replace",
                  on_conflict: str = "refuse", progress: Progress = NOWHERE) -> ImportResult:
    """Validate every file in `directory` against the contract and, only if all is valid, load it
    into `database` (see the module doc for the modes); raises ImportRejected with every problem.

    A replace reads the files in batches (atlas.ingest.streamed: bounded memory, with `progress`); an
    append compares every row with the stored ones, so it reads the files whole."""
    if mode == "replace":
        return streamed.import_folder(directory, database, key, progress=progress)
    directory = Path(directory)
    raw, problems = sources.read_folder(directory, required=REQUIRED_FOR_REPLACE if mode == "replace" else ())
    files = {name: raw[name].file for name in raw}
    checksum = checksum_files(directory / f for f in sorted(files.values()))
    return import_tables(raw, problems, database, key, mode=mode, on_conflict=on_conflict,
                         source=str(directory), checksum=checksum)


def holds_client_ids(tables: Iterable[str]) -> bool:
    """Whether any of these contract tables holds client ids, which an import pseudonymises with the key: a
    service directory (agencies, programs, capacity) holds none, so it is imported without a key."""
    return any(name in store.PSEUDONYMISED for name in tables)


def import_tables(raw: Mapping[str, sources.RawTable], problems: list[Problem],
                  database: str | Path, key: bytes | None, *, mode: str, source: str, checksum: str,
                  on_conflict: str = "refuse", required: Iterable[str] = (),
                  expect: tuple[int, int] | None = None, left_out: pd.DataFrame | None = None,
                  progress: Progress | Part = NOWHERE) -> ImportResult:
    """Plan and, if nothing is wrong, write an import of tables read from files, under the
    database's lock. `problems` are those met reading the files. With `expect` (the `base` of a
    plan shown to someone), raises DatabaseChanged if the database is no longer that one. `left_out`
    (a foreign format's rows left out, see store.write_left_out) is stored with the import. `progress`
    follows the checking, then the writing and the model's build."""
    with import_lock(database):
        if expect is not None and identity(database) != expect:
            raise DatabaseChanged("The data changed since your files were checked (someone else "
                                  "imported): check them again.")
        plan = plan_import(raw, problems, database, key, mode=mode, on_conflict=on_conflict,
                           source=source, checksum=checksum, required=required, progress=progress.part(0, 0.4))
        if not plan.ok:
            progress.report(doing="Found problems: nothing was imported",
                            problems=sum(p.count for p in plan.errors))
            raise ImportRejected(plan.problems)
        result = write(plan, database, key, progress=progress.part(0.4, 1.0), left_out=left_out)
        progress.finish("Imported")
        return result


def plan_import(raw: Mapping[str, sources.RawTable], problems: list[Problem],
                database: str | Path, key: bytes | None, *, mode: str, source: str, checksum: str,
                on_conflict: str = "refuse", required: Iterable[str] = (),
                progress: Progress | Part = NOWHERE) -> ImportPlan:
    """Validate tables read from files for an import in `mode`, writing nothing.

    In append mode the file rows are compared with the stored ones (which needs the key, to
    pseudonymise client ids as the stored ones are) and checked together with them.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if on_conflict not in ON_CONFLICT:
        raise ValueError(f"on_conflict must be one of {ON_CONFLICT}, not {on_conflict!r}")
    problems = list(problems) + _missing(raw, problems, required)
    files = {name: r.file for name, r in raw.items()}
    database = Path(database)
    if mode == "replace":
        tables, found = validate.validate(raw, progress=progress)
        changes = {name: Change(len(frame), len(frame)) for name, frame in tables.items()}
        return ImportPlan(mode, tables, problems + found, changes, files, source, checksum)

    if not database.exists():
        problems.append(Problem(
            "", None, None, None, "no_database",
            "There is no data yet to add these files to: replace (load a whole data set) first."))
        tables = {}
        for name, table in raw.items():  # still report what is wrong in the files themselves
            tables[name], found = validate.parse(table)
            problems += found
        return ImportPlan(mode, tables, problems, {}, files, source, checksum)
    if key is None and holds_client_ids(raw):
        raise ValueError("an append needs the pseudonymisation key, to match client ids")
    base = identity(database)
    parsed: dict[str, pd.DataFrame] = {}
    rows = 0
    for i, (name, table) in enumerate(raw.items()):
        progress.report(0.5 * i / len(raw), f"Checking {table.file}", rows=rows)
        parsed[name], found = validate.parse(table)
        problems += found
        rows += len(table.frame)
    progress.report(0.5, "Comparing the rows with the stored ones", rows=rows)
    wanted = set(parsed) | {"agencies", "programs"}
    stored = read_stored(database, wanted)
    merged, changes, stored_rows = {}, {}, {}
    written = {name: r.frame if r.frame.columns.is_unique
               else r.frame.loc[:, ~r.frame.columns.duplicated()] for name, r in raw.items()}
    for name, frame in parsed.items():
        frame = _pseudonymised(name, frame, key)
        comparison = validate.compare_stored(name, frame, stored[name], files[name], written=written[name],
                                             update=on_conflict == "update")
        problems += comparison.problems
        merged[name] = comparison.merged
        stored_rows[name] = comparison.stored_row
        changes[name] = Change(len(frame), comparison.added, comparison.updated, comparison.unchanged)
    context = {name: stored[name] for name in ("agencies", "programs")}
    problems += validate.check(merged, files, written=written, context=context)
    return ImportPlan(mode, merged, problems, changes, files, source, checksum, base, stored_rows)


def _missing(raw: Mapping[str, sources.RawTable], problems: list[Problem], required: Iterable[str]
             ) -> list[Problem]:
    """A problem for each required table that is neither read nor already reported missing or repeated."""
    return [Problem(f"{name}.csv", None, None, None, "missing_file",
                    f"The {name} table is needed to replace the data: add {name}.csv (or .xlsx or "
                    ".parquet), or add the files to the current data instead.")
            for name in required
            if name not in raw and not any(p.rule in ("missing_file", "duplicate_file") and
                                           p.file.startswith(f"{name}.") for p in problems)]


def write(plan: ImportPlan, database: str | Path, key: bytes | None, progress: Progress | Part = NOWHERE,
          left_out: pd.DataFrame | None = None) -> ImportResult:
    """Carry out a valid plan: build the new database beside `database` and swap it in, with the rows the
    import left out (`left_out`, if any).

    An append that adds and changes nothing leaves the database untouched.
    """
    if not plan.ok:
        raise ImportRejected(plan.problems)
    database = Path(database)
    counts = {name: change.rows for name, change in plan.changes.items()}
    if plan.mode == "replace":
        build_database(plan.tables, database, key, source=plan.source, files=plan.files,
                       checksum=plan.checksum, progress=progress, left_out=left_out)
    elif plan.changes_anything:
        if identity(database) != plan.base:
            raise DatabaseChanged("The database changed after the files were checked: check them again.")
        _build_appended(plan, database, progress, left_out)
    return ImportResult(database, counts, plan.checksum, plan.warnings, plan.mode, plan.changes,
                        plan.changes_anything)


def build_database(
    tables: dict[str, pd.DataFrame],
    database: str | Path,
    key: bytes | None,
    *,
    source: str,
    files: dict[str, str],
    checksum: str,
    progress: Progress | Part = NOWHERE,
    release: bool = False,
    left_out: pd.DataFrame | None = None,
) -> dict[str, int]:
    """Build a new database from canonical typed tables and swap it in atomically; returns row counts. With
    `release`, the caller hands the tables over: each is dropped from `tables` once written, so its memory is
    free before the model is built (the demo at 10M referrals: 1.9 GB). Without a key (None), the tables must
    hold no client: rows written without the key's pads are stored as they are."""
    if key is None and holds_client_ids(name for name, frame in tables.items() if len(frame)):
        raise ValueError("the tables hold client ids, which are pseudonymised with the key: there is none")
    key_pads = pads(key) if key is not None else None
    counts: dict[str, int] = {}
    total = max(1, sum(len(tables[name]) for name in TABLES if name in tables))
    with building(database, progress.part(0.5, 1.0)) as con:
        con.execute(catalog.ingest_statement("pseudonym"))
        for name in TABLES:
            if name in tables:
                progress.report(0.5 * sum(counts.values()) / total, f"Writing {name}")
                write_rows(con, name, tables[name], key_pads)
                counts[name] = len(tables[name])
                if release:
                    del tables[name]
        _log(con, "replace", source, files, counts, {name: {"added": n} for name, n in counts.items()},
             checksum)
        store.write_left_out(con, left_out)
    return counts


# the tables that hold data (the rest of the model is derived); import_left_out is absent from databases
# built before it was kept, so an upgrade copies it only when it is there
STORED_TABLES = (*TABLES, "imports", "import_left_out")


@contextlib.contextmanager
def _rebuilding(database: Path, progress: Part | None = None):
    """`_building`, with the database being replaced attached (read-only) as `atlas_before`."""
    with building(database, progress) as con:
        con.execute("attach $path as atlas_before (read_only)", {"path": str(database)})
        yield con
        con.execute("detach atlas_before")


def _allowed(name: str) -> str:
    """A stored table's name, checked: an identifier cannot be bound as a parameter, so it is allow-listed."""
    if name not in STORED_TABLES:
        raise ValueError(f"not a stored table: {name!r}")
    return name


def _copy_stored(con, name: str) -> None:
    """Copy a table of `atlas_before` into the new database as it is (columns matched by name), if it has it."""
    there = con.execute("select count(*) from duckdb_tables() where database_name = 'atlas_before' "
                        "and table_name = $name", {"name": _allowed(name)}).fetchone()[0]
    if there:
        con.execute(f"insert into {_allowed(name)} by name select * from atlas_before.{_allowed(name)}")


def _read_stored(con, name: str) -> pd.DataFrame:
    return con.execute(f"select * from atlas_before.{_allowed(name)}").df()


def _build_appended(plan: ImportPlan, database: Path, progress: Progress | Part = NOWHERE,
                    left_out: pd.DataFrame | None = None) -> None:
    """The stored database with the plan's rows added or updated (and this import's rows left out), built new
    and swapped in."""
    with _rebuilding(database, progress.part(0.5, 1.0)) as con:
        for i, name in enumerate(TABLES):
            progress.report(0.5 * i / len(TABLES), f"Writing {name}")
            if name not in plan.tables:
                _copy_stored(con, name)
                continue
            stored = _read_stored(con, name)
            rows = plan.stored_rows[name]
            keep = np.ones(len(stored), dtype=bool)
            keep[rows[rows >= 0]] = False  # matched rows are written again, as merged
            # every file row is written, as merged: new, updated and unchanged alike
            frame = pd.concat([_as_contract(name, stored[keep]), prepare(name, plan.tables[name])],
                              ignore_index=True)
            con.from_df(frame).insert_into(name)
        _copy_stored(con, "imports")
        changes = {name: {"added": c.added, "updated": c.updated, "unchanged": c.unchanged}
                   for name, c in plan.changes.items()}
        _log(con, "append", plan.source, plan.files, {n: c.rows for n, c in plan.changes.items()},
             changes, plan.checksum)
        store.write_left_out(con, left_out)


def built_model(database: str | Path) -> str | None:
    """The fingerprint of the data model that built `database` (None: built before fingerprints)."""
    con = duckdb.connect()
    try:
        con.execute("attach $path as stored (read_only)", {"path": str(database)})
        try:
            return con.execute("select fingerprint from stored.model_version").fetchone()[0]
        except duckdb.CatalogException:
            return None
    finally:
        con.close()


def upgrade(database: str | Path, progress: Progress | Part = NOWHERE) -> bool:
    """Rebuild the current data model over a database's stored rows when another version of the
    model built it (atomically, like an import); True when it did. Client ids are copied as stored."""
    if built_model(database) == catalog.model_fingerprint():
        return False
    with import_lock(database), _rebuilding(Path(database), progress.part(0.4, 1.0)) as con:
        for i, name in enumerate(STORED_TABLES):
            progress.report(0.4 * i / len(STORED_TABLES), f"Copying the stored {name}")
            _copy_stored(con, name)
    progress.finish("Upgraded")
    return True


def read_stored(database: str | Path, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The stored rows of the named tables, typed as `validate.parse` types file rows.

    The file is attached to a connection of its own rather than opened through DuckDB's shared
    instance, so this reads the file now on disk even while the app holds an older one open. A file
    that is not a whole database raises db.DatabaseUnreadable, which says how to recover.
    """
    con = duckdb.connect()
    try:
        db.attach_read_only(con, Path(database))
        return {name: _as_contract(name, con.execute(f"select * from atlas.{_allowed(name)}").df())
                for name in names}
    except (duckdb.IOException, duckdb.InternalException, duckdb.FatalException) as error:
        raise db.unreadable(Path(database), error) from error  # not a database, or a block lost
    finally:
        con.close()


def _as_contract(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Stored rows with the contract's columns and canonical dtypes (see validate.DTYPES)."""
    frame = frame.reset_index(drop=True)
    return pd.DataFrame({c.name: frame[c.name].astype(validate.DTYPES[c.type]) for c in TABLES[name].columns})


def _pseudonymised(name: str, frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    columns = [c.name for c in TABLES[name].columns if c.pseudonymise]
    if not columns:
        return frame
    frame = frame.copy()
    for column in columns:
        frame[column] = pseudonymise(frame[column], key)
    return frame


def frames_checksum(tables: dict[str, pd.DataFrame]) -> str:
    """A checksum of in-memory tables (for data that did not come from files, such as the demo): of each table's
    name and its columns' types and values as Arrow writes them (its IPC stream), in name order; the same tables
    built the same way give the same checksum. At 10M referrals it takes 1 s (hashing pandas' rows took 11 s)."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        table = arrow_table(tables[name])
        with pa.ipc.new_stream(_Digesting(digest), table.schema) as stream:
            stream.write_table(table)
    return digest.hexdigest()


class _Digesting:
    """A write-only file that feeds what is written to a hash."""

    closed = False

    def __init__(self, digest):
        self.digest = digest

    def write(self, data) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
