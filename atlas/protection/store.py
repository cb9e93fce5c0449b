"""Where the board's and funders' protected sets are kept once worked out: a DuckDB file beside the database,
`<db stem>.protected.duckdb`, so a server restart, a pack made from the command line or a second server process
reads a set's pattern instead of running the suppression audit again (a year's can take minutes).

A row holds, for one audience ("board" or "funders"), period (start, end, length) and min_cell, the set's
**pattern**: which of its figures are hidden, as JSON (the board's hidden figure keys, the funders' hidden cells
and lines). It holds no count: the published modules rebuild the set's figures from the named queries over the
database and apply the pattern. Every row is stamped with what it was worked out from: the database file's
modification time (ns) and size, as `atlas.db.Atlas.version` has them, the data model's fingerprint, and the
protection's algorithm (`algorithm()`: ALGORITHM and a digest of the code and queries that decide a pattern). A
row with another stamp is never read, and the next write deletes it: an import swaps in a new file (a new
stamp), so no pattern outlives the data it protects.

The file follows the survey's answers file (`atlas.survey.store`): opened only for one operation, under a
process lock and an `fcntl` lock on `<file>.lock` (shared to read, exclusive to write), a write one transaction
committed and checkpointed before it returns. It is a cache: a file that cannot be read (damaged, from another
DuckDB, in a folder the server may not write) reads as empty, and a write replaces a damaged file; neither is
ever an error for a visitor. Its statements are the files of `queries/protected_store/`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from atlas import catalog

STATEMENTS = catalog.QUERIES_DIR / "protected_store"
# Bump when a set's pattern would differ for the same data (the digest below also changes with the code, but a
# change elsewhere, e.g. a library's solver, may need saying so).
ALGORITHM = 1
# What decides a pattern besides the database: the protection's code and the named queries the sets read.
_DECIDING = ("atlas/views/suppression.py", "atlas/views/privacy.py", "atlas/views/network/audit.py",
             "atlas/views/network/published.py", "atlas/views/outcomes/published.py", "atlas/filters.py",
             "queries/network_edges.sql", "queries/network_agencies.sql", "queries/network_summary.sql",
             "queries/group_flows.sql", "queries/outcome_mix.sql", "queries/exit_people.sql",
             "queries/data_extent.sql")

_PROCESS_LOCK = threading.RLock()  # DuckDB opens a file once per process: threads take turns
log = logging.getLogger(__name__)


def store_path(database: Path | str) -> Path:
    """The protected sets of the database at `database`: `<stem>.protected.duckdb` beside it."""
    database = Path(database)
    return database.with_name(f"{database.stem}.protected.duckdb")


def lock_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".lock")


@cache
def statement(name: str) -> str:
    """The store's statement `queries/protected_store/NAME.sql`."""
    return catalog.statement_in(STATEMENTS, name, "protected store")


@cache
def algorithm() -> str:
    """The protection's version: ALGORITHM and a digest of what decides a pattern (the code and queries of
    _DECIDING), so a pattern worked out by other code is never read."""
    digest = hashlib.sha256(str(ALGORITHM).encode())
    root = catalog.QUERIES_DIR.parent
    for name in _DECIDING:
        digest.update(name.encode())
        digest.update((root / name).read_bytes())
    return f"{ALGORITHM}-{digest.hexdigest()[:16]}"


def version_of(db) -> tuple | None:
    """The database file's identity (`Atlas.version`: path, mtime_ns, size) of an `Atlas` or of the app's cached
    database wrapping one (`.db`), or None for a source without one (nothing is then kept or stored)."""
    for source in (db, getattr(db, "db", None)):
        version = getattr(source, "version", None)
        if version is not None:
            return version
    return None


def stamp(version: tuple) -> dict:
    """What a row is stamped with, from a database's `Atlas.version` (path, mtime_ns, size)."""
    return {"mtime_ns": int(version[1]), "size": int(version[2]), "model": catalog.model_fingerprint(),
            "algorithm": algorithm()}


def _key(audience: str, start: dt.date, end: dt.date, length: str, min_cell: int) -> dict:
    return {"audience": audience, "period_start": start, "period_end": end, "length": length,
            "min_cell": int(min_cell)}


@contextlib.contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    """This process's lock, then the file lock (shared to read, exclusive to write). A reader that may not
    create the lock file (a folder the server only reads) reads without it: DuckDB itself refuses a read-only
    open while another process writes, and that reads as an empty store."""
    with _PROCESS_LOCK:
        try:
            handle = open(lock_path(path), "a+b")
        except OSError:
            if exclusive:
                raise
            yield
            return
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def load(version: tuple | None, audience: str, start: dt.date, end: dt.date, length: str,
         min_cell: int) -> dict | None:
    """The stored pattern of a set of the database with `version`, or None: none stored, one stamped otherwise
    (another import, another algorithm), or a store that cannot be read (treated as empty)."""
    if version is None:
        return None
    path = store_path(version[0])
    if not path.exists():
        return None
    try:
        with _locked(path, exclusive=False):
            con = duckdb.connect(str(path), read_only=True)
            try:
                row = con.execute(statement("pattern"),
                                  {**_key(audience, start, end, length, min_cell), **stamp(version)}).fetchone()
            finally:
                con.close()
        return None if row is None else json.loads(row[0])
    except (duckdb.Error, OSError, ValueError) as error:  # damaged or unreadable: as if empty
        log.warning("protected sets at %s not read (%s): worked out again", path, error)
        return None


def save(version: tuple | None, audience: str, start: dt.date, end: dt.date, length: str, min_cell: int,
         pattern: dict, seconds: float) -> bool:
    """Store a set's pattern worked out from the database with `version`, in one transaction, deleting every row
    stamped otherwise. Nothing is written when the database file is no longer the one the set was worked out
    from (an import swapped it meanwhile). False when nothing was written (also when the folder cannot be
    written: the set is then worked out again by the next process that needs it)."""
    if version is None or not _current(version):
        return False
    path = store_path(version[0])
    row = {**_key(audience, start, end, length, min_cell), **stamp(version),
           "pattern": json.dumps(pattern, default=_plain), "seconds": float(seconds)}
    try:
        with _locked(path, exclusive=True):
            try:
                _write(path, row)
            except duckdb.Error as error:
                # damaged, not a store, or a store of another layout: it only ever held what can be worked out
                # again, so it is replaced by a new store holding this set
                log.warning("protected sets at %s unreadable (%s): replaced", path, error)
                for damaged in (path, path.with_name(path.name + ".wal")):
                    damaged.unlink(missing_ok=True)
                _write(path, row)
        return True
    except (duckdb.Error, OSError) as error:
        log.warning("protected set not stored at %s (%s)", path, error)
        return False


def _write(path: Path, row: dict) -> None:
    """One transaction: rows stamped otherwise deleted, the set's row replaced; committed and checkpointed."""
    con = duckdb.connect(str(path))
    try:
        con.execute(statement("schema_1_sets"))
        con.execute("begin transaction")
        con.execute(statement("delete_stale"), {k: row[k] for k in ("mtime_ns", "size", "model", "algorithm")})
        con.execute(statement("delete_set"), {k: row[k] for k in ("audience", "period_start", "period_end",
                                                                  "length", "min_cell")})
        con.execute(statement("insert_set"), row)
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()


def stored(version: tuple | None) -> pd.DataFrame:
    """Every set stored for the database with `version` (audience, period_start, period_end, length, min_cell,
    seconds, made_at), newest period first; empty when there are none or the store cannot be read."""
    columns = ["audience", "period_start", "period_end", "length", "min_cell", "seconds", "made_at"]
    path = store_path(version[0]) if version is not None else None
    if path is None or not path.exists():
        return pd.DataFrame(columns=columns)
    try:
        with _locked(path, exclusive=False):
            con = duckdb.connect(str(path), read_only=True)
            try:
                return con.execute(statement("stored"), stamp(version)).df()
            finally:
                con.close()
    except (duckdb.Error, OSError) as error:
        log.warning("protected sets at %s not read (%s)", path, error)
        return pd.DataFrame(columns=columns)


def _current(version: tuple) -> bool:
    """Whether the database file is still the one `version` describes."""
    try:
        now = os.stat(version[0])
    except OSError:
        return False
    return (now.st_mtime_ns, now.st_size) == (int(version[1]), int(version[2]))


def _plain(value):
    """JSON for the numpy scalars a pattern's keys may hold."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a protected pattern")
