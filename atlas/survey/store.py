"""Where the survey's answers live, and how they are opened: the plumbing under `atlas.survey`.

The answers are kept in their own DuckDB file beside the database in use (`answers_path`), apart from
the imported data, so an import that replaces the database never touches them. The file is opened only
for the length of one operation, never held: a server process can save while another reads, and no
DuckDB instance in any process keeps it open between requests.

Every operation runs under two locks: a process-wide `threading.RLock` (DuckDB refuses to open one file
twice with different settings in one process, and threads of one server must take turns) and an
`fcntl` lock on `<answers>.lock`, shared to read and exclusive to write, so two server processes saving
at the same moment take turns and lose nothing. A write is one transaction, committed and checkpointed
before the call returns: once it returns, the answer is on disk in the main file.

The statements are files of `queries/survey_store/` (one statement a file); the scoring queries are
named queries of `queries/survey/`, which `atlas.db` runs with this file attached as `survey`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from atlas import catalog
from atlas.survey.model import ANSWER_FIELDS

STATEMENTS = catalog.QUERIES_DIR / "survey_store"
ALIAS = "survey"  # the schema the named queries read the answers from

_PROCESS_LOCK = threading.RLock()
_HELD = threading.local()  # how deep this thread is in the locks, and in which mode


def answers_path(database: Path) -> Path:
    """The answers file of the database at `database`: `<stem>.survey.duckdb` beside it."""
    database = Path(database)
    return database.with_name(f"{database.stem}.survey.duckdb")


def lock_path(answers: Path) -> Path:
    return Path(answers).with_name(Path(answers).name + ".lock")


@cache
def statement(name: str) -> str:
    """The store's statement `queries/survey_store/NAME.sql`."""
    return catalog.statement_in(STATEMENTS, name, "survey store")


def schema() -> list[str]:
    """The statements that make an empty store (each `create table if not exists`)."""
    return [statement(p.stem) for p in sorted(STATEMENTS.glob("schema_*.sql"))]


@contextlib.contextmanager
def locked(answers: Path, exclusive: bool) -> Iterator[bool]:
    """Hold the store's locks: this process's, then the file lock (shared, or exclusive to write). Yields
    whether there is an answers file to open (a reader that found none holds no file lock, and must not
    open one that appears meanwhile).

    Re-entrant within a thread for the same mode or a read inside a write; a write inside a read would
    deadlock on the file lock, so it is refused."""
    with _PROCESS_LOCK:
        depth = getattr(_HELD, "depth", 0)
        if depth:
            if exclusive and not _HELD.exclusive:
                raise RuntimeError("a survey write was started inside a read of the store")
            _HELD.depth = depth + 1
            try:
                yield _HELD.file
            finally:
                _HELD.depth = depth
            return
        path = lock_path(answers)
        if not exclusive and not Path(answers).exists():
            # nothing to read yet, and a reader writes nothing: not even the lock file (so a page asking
            # for survey figures beside a database in a read-only folder still opens)
            _HELD.depth, _HELD.exclusive, _HELD.file = 1, False, False
            try:
                yield False
            finally:
                _HELD.depth = 0
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            _HELD.depth, _HELD.exclusive, _HELD.file = 1, exclusive, True
            try:
                yield True
            finally:
                _HELD.depth = 0
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def reading(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the answers of `database`, read-only, for one operation (an empty store in memory
    when there is no file yet)."""
    answers = answers_path(database)
    with locked(answers, exclusive=False) as held:
        if held:
            con = duckdb.connect(str(answers), read_only=True)
        else:
            con = duckdb.connect()
            for sql in schema():
                con.execute(sql)
        try:
            yield con
        finally:
            con.close()


@contextlib.contextmanager
def writing(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the answers of `database` inside one transaction, committed and checkpointed when
    the block ends without an error (rolled back, nothing written, when it raises)."""
    answers = answers_path(database)
    with locked(answers, exclusive=True):
        con = duckdb.connect(str(answers))
        try:
            for sql in schema():
                con.execute(sql)
            con.execute("begin transaction")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")
            con.execute("checkpoint")
        finally:
            con.close()


@contextlib.contextmanager
def attached(con: duckdb.DuckDBPyConnection, database: Path) -> Iterator[None]:
    """The answers of `database` attached read-only to `con` as `survey` for one query, under the store's
    shared lock, and detached after: an empty store in memory when there is no file yet."""
    answers = answers_path(database)
    # a cursor of its own: threads share the connection, and attaching is seen by all its cursors alike
    cursor = con.cursor()
    try:
        with locked(answers, exclusive=False) as held:
            if held:
                cursor.execute("attach $path as survey (read_only)", {"path": str(answers)})
            else:
                cursor.execute("attach ':memory:' as survey")
                maker = con.cursor()  # `use survey` there, so this cursor can detach it after
                try:
                    maker.execute("use survey")
                    for sql in schema():
                        maker.execute(sql)
                finally:
                    maker.close()
            try:
                yield
            finally:
                cursor.execute("detach survey")
    finally:
        cursor.close()


def version(database: Path) -> tuple[int, int] | None:
    """What identifies the answers beside `database` as they stand (a cache of scores keyed by it is
    refreshed by the next save): the file's modification time and size, None when there is none yet."""
    try:
        stat = answers_path(database).stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def copy(database: Path, target: Path) -> bool:
    """A consistent copy of the answers of `database` at `target`, taken under the store's shared lock
    (no save halfway through); False when there are no answers to copy."""
    answers = answers_path(database)
    with locked(answers, exclusive=False) as held:
        if not held:
            return False
        con = duckdb.connect()
        try:
            con.execute("attach $path as source (read_only)", {"path": str(answers)})
            con.execute("attach $path as target", {"path": str(target)})
            con.execute("copy from database source to target")
            con.execute("checkpoint target")
            con.execute("detach target")
        finally:
            con.close()
    return True


def put_back(source: Path, database: Path) -> None:
    """Put a copy made by `copy` back as the answers of `database`, in one move, under the store's lock."""
    answers = answers_path(database)
    with locked(answers, exclusive=True):
        new = answers.with_name(f".{answers.name}.{os.getpid()}.restoring")
        shutil.copyfile(source, new)
        os.replace(new, answers)


COLUMNS = ("round_id", "respondent_agency_id", *ANSWER_FIELDS, "submitted_at")


def replace(con, round_id: str, respondents: list[str], rows: list[dict]) -> None:
    """Inside a write: the answers of `respondents` in the round replaced by `rows` (dicts of COLUMNS)."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in ANSWER_FIELDS[1:]:
        if name != "agreement":
            frame[name] = frame[name].astype("Int64")
    frame["partner_agency_id"] = frame["partner_agency_id"].astype(object)
    frame["agreement"] = frame["agreement"].astype(object)
    con.register("respondents", pd.DataFrame({"agency_id": list(respondents)}, dtype=object))
    con.register("new_answers", frame)
    try:
        con.execute(statement("delete_answers_of"), {"round_id": round_id})
        con.execute(statement("insert_answers"))
    finally:
        con.unregister("respondents")
        con.unregister("new_answers")
