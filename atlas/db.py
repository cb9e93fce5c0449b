"""The one place that opens DuckDB and runs SQL.

`Atlas` is the data-access object: it holds one connection to a database file and runs a named
query (see `atlas.catalog`) on a cursor of its own, with every value bound and the result fetched in
full, so no unfetched result can block the connection and concurrent callers do not share state.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

import atlas.survey.store
from atlas import catalog, config


class DatabaseMissing(FileNotFoundError):
    """No database at the configured path; the message says how to make one."""


class DatabaseOutdated(RuntimeError):
    """The database was built by another version of the data model; the message says how to upgrade."""


class DatabaseUnreadable(RuntimeError):
    """The file at the database path is not a readable Collaboration Atlas database (damaged, truncated,
    or another kind of file); the message says how to recover."""


def unreadable(path: Path, why: str | Exception) -> DatabaseUnreadable:
    """The error for a file at `path` that is not a readable database, saying how to recover."""
    why = type(why).__name__ if isinstance(why, Exception) else why
    return DatabaseUnreadable(
        f"{path} could not be read as a Collaboration Atlas database ({why}). "
        f"It may be damaged or not a database at all. Restore it from your backup, or rebuild it: "
        f"re-import your files with `python -m atlas import DIR --db {path}` (or "
        f"`python -m atlas demo --db {path}` for the demo).")


def attach_read_only(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Attach the database file at `path` read-only as `atlas`, refusing one that is not whole.

    A damaged file can attach (its header is intact) and fail only when a query reads a lost block.
    A DuckDB file is its three 4 kB headers and then whole blocks, so one shorter than its header
    says was cut short: that is checked here, at no cost. A block failing its checksum shows when a
    query reads it, and `Atlas.query` turns that into the same DatabaseUnreadable. (Reading every table
    through at open would find it sooner, but costs seconds at ten million referrals, on every start.)
    Raises DatabaseUnreadable, or duckdb.Error when the file cannot be attached at all.
    """
    size = Path(path).stat().st_size
    con.execute("attach $path as atlas (read_only)", {"path": str(path)})
    block_size, blocks = con.execute(
        "select block_size, total_blocks from pragma_database_size() where database_name = 'atlas'").fetchone()
    expected = 3 * 4096 + block_size * blocks
    if size < expected:
        raise unreadable(path, f"cut short: {size:,} of {expected:,} bytes")


class Atlas:
    """Read access to one Collaboration Atlas database."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise DatabaseMissing(
                f"No database at {self.path}. Build the demo with `python -m atlas demo --db {self.path}` "
                f"or load your files with `python -m atlas import DIR --db {self.path}`."
            )
        stat = self.path.stat()
        # Identifies the data this connection sees: an import swaps in a new file, which changes it.
        self.version = (str(self.path.resolve()), stat.st_mtime_ns, stat.st_size)
        # Attached to a connection of its own, not opened with duckdb.connect(path): DuckDB shares one
        # instance per path in a process, so after an import swapped in a new file, connect(path)
        # would hand back the old file while any old connection is still open.
        memory = config.query_memory()
        self._con = duckdb.connect()
        try:
            # bounded memory: a query that needs more spills to disk rather than growing the server
            self._con.execute("set memory_limit = $limit", {"limit": memory})
            self._con.execute("set temp_directory = $dir", {"dir": str(Path(tempfile.gettempdir()) / "atlas-duckdb")})
            attach_read_only(self._con, self.path)
            self._con.execute("use atlas")
        except duckdb.Error as error:
            self._con.close()
            raise unreadable(self.path, error) from error
        except DatabaseUnreadable:
            self._con.close()
            raise
        self._check_model()

    def _check_model(self) -> None:
        try:
            built = self._con.execute("select fingerprint from model_version").fetchall()
        except duckdb.CatalogException:
            built = []
        if [row[0] for row in built] != [catalog.model_fingerprint()]:
            self._con.close()
            raise DatabaseOutdated(
                f"{self.path} was built by another version of Collaboration Atlas. Rebuild its data model "
                f"over the same data with `python -m atlas upgrade --db {self.path}` (nothing is lost), "
                f"or run `make run`, which does it."
            )

    def __reduce__(self):
        # A view that reads its sections when they are opened keeps the database it reads from; a copy of
        # such a view (a pickle) opens the same file again rather than carrying a connection.
        return (type(self), (self.path,))

    def query(self, name: str, /, **params: Any) -> pd.DataFrame:
        """Run the named query with its parameters bound; unknown names or parameters raise QueryError."""
        named = catalog.get(name)
        values = named.bind(params)
        if named.path.parent == catalog.SURVEY_DIR:
            # the survey's answers live in a file of their own beside the database, attached for the query
            with atlas.survey.store.attached(self._con, self.path):
                return self._run(named.sql, values)
        return self._run(named.sql, values)

    def _run(self, sql: str, values: dict[str, Any]) -> pd.DataFrame:
        cursor = self._con.cursor()
        try:
            cursor.execute("use atlas")  # a cursor starts in the in-memory catalog
            return cursor.execute(sql, values).df()
        except (duckdb.IOException, duckdb.InternalException, duckdb.FatalException) as error:
            # a block that cannot be read (lost, or failing its checksum): the file is damaged
            raise unreadable(self.path, f"{type(error).__name__} while reading") from error
        finally:
            cursor.close()

    def is_current(self) -> bool:
        """False once the file on disk has been replaced (by an import) since this was opened."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False
        return (stat.st_mtime_ns, stat.st_size) == self.version[1:]

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Atlas:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
