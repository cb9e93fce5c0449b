"""The database file an import writes, and what an import gives back: the lock that lets one import
of a database run at a time, the new file built beside the database and swapped in over it whole,
the rows written into it, the import log, the checksums of what was read, and the outcome types
(`ImportRejected`, `Change`, `ImportResult`).

The import side's storage layer, below the importer and the batched import (`atlas.ingest.importer`,
`atlas.ingest.streamed`), which both write through it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import glob
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from atlas import catalog
from atlas.contract import TABLES
from atlas.ingest.problems import Problem
from atlas.progress import Part
from atlas.vocab import HOUSING_OUTCOMES, OUTCOMES, outcome_polarity

REQUIRED_FOR_REPLACE = tuple(t.name for t in TABLES.values() if t.mandatory)


class ImportRejected(ValueError):
    """The files broke the contract; nothing was written. `problems` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = sum(p.severity == "error" for p in problems)
        super().__init__(f"{errors} problem(s) found; nothing was imported.")


@dataclass
class Change:
    """What an import does to one table: rows in the files, and for an append how many are new,
    change a stored row, or are already stored as they are."""

    rows: int
    added: int
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    database: Path
    row_counts: dict[str, int]
    checksum: str
    warnings: list[Problem] = field(default_factory=list)
    mode: str = "replace"
    changes: dict[str, Change] = field(default_factory=dict)
    written: bool = True  # False: an append that found nothing new, so the database was not touched


BUILD_MEMORY = "3GB"  # DuckDB's share of memory while building (beyond it, it spills to disk beside the file)


@contextlib.contextmanager
def building(database: str | Path, progress: Part | None = None):
    """A connection to a new database file holding the data model, swapped in over `database` when
    the block ends without an error, and removed otherwise. `progress` follows the model's build steps."""
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    new_file = database.with_name(f".{database.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.building")
    try:
        con = duckdb.connect(str(new_file), config={"memory_limit": BUILD_MEMORY})
        try:
            for _, sql in catalog.model_statements():
                con.execute(sql)
            con.executemany(
                "insert into outcome_kinds values ($1, $2, $3)",
                [(o, outcome_polarity(o), o in HOUSING_OUTCOMES) for o in OUTCOMES],
            )
            con.execute("insert into model_version values ($fingerprint)",
                        {"fingerprint": catalog.model_fingerprint()})
            yield con
            rollups = catalog.rollup_statements()
            for i, (name, sql) in enumerate(rollups):  # derived from the rows just written
                if progress is not None:
                    progress.report(i / (len(rollups) + 1), f"Building the model: {_step(name)}")
                con.execute(sql)
            if progress is not None:
                progress.report(len(rollups) / (len(rollups) + 1), "Saving the database")
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(new_file, database)
    finally:
        new_file.unlink(missing_ok=True)
        new_file.with_name(new_file.name + ".wal").unlink(missing_ok=True)


def _step(file: str) -> str:
    """A rollup's file name in words: "10_referral_facts.sql" -> "referral facts"."""
    return Path(file).stem.split("_", 1)[-1].replace("_", " ")


def log(con, mode: str, source: str, files: dict[str, str], counts: dict[str, int],
         changes: dict[str, dict[str, int]], checksum: str) -> None:
    """One row of the import log."""
    con.execute(
        "insert into imports (imported_at, mode, source, files, row_counts, changes, checksum) "
        "values ($imported_at, $mode, $source, $files, $row_counts, $changes, $checksum)",
        {
            "imported_at": dt.datetime.now().replace(microsecond=0),
            "mode": mode,
            "source": source,
            "files": json.dumps(files, sort_keys=True, ensure_ascii=False),
            "row_counts": json.dumps(counts, sort_keys=True),
            "changes": json.dumps(changes, sort_keys=True),
            "checksum": checksum,
        },
    )


LEFT_OUT_COLUMNS = ("file", "file_row", "id_column", "record_id", "column_name", "fault", "action")


def write_left_out(con, rows: pd.DataFrame | None) -> None:
    """The rows an import left out of its files (columns LEFT_OUT_COLUMNS; None: none) into import_left_out."""
    if rows is None or not len(rows):
        return
    frame = pd.DataFrame({c: rows[c].astype("int64" if c == "file_row" else "object") for c in LEFT_OUT_COLUMNS})
    con.from_df(frame).insert_into("import_left_out")


@contextlib.contextmanager
def import_lock(database: str | Path):
    """Held while an import reads and replaces `database`: imports of one database run one at a time.

    Taking it also removes what a killed import left half-built beside the database (see
    `_remove_abandoned`): the lock itself is an flock, which the system frees when its holder dies.
    """
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(f".{database.name}.lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            _remove_abandoned(database)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_abandoned(database: Path) -> None:
    """Delete the new-database files (`building`) of builds whose process is gone: a killed import
    leaves one, as big as the database and holding its data. A live process's build is left alone."""
    prefix = f".{database.name}."
    for path in database.parent.glob(f"{glob.escape(prefix)}*.building*"):
        pid = path.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def identity(database: str | Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of the database file, as `Atlas.version` and the app see it; None if absent."""
    try:
        stat = Path(database).stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def prepare(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the table stores it: contract columns in order, missing booleans false."""
    table = TABLES[name]
    frame = frame[[c.name for c in table.columns]].copy()
    for column in table.columns:
        if column.type == "bool":
            frame[column.name] = frame[column.name].fillna(False).astype(bool)
    return frame


PSEUDONYMISED = tuple(name for name, table in TABLES.items() if any(c.pseudonymise for c in table.columns))


def write_rows(con, name: str, typed: pd.DataFrame, key_pads: dict[str, bytes] | None) -> None:
    """Typed contract rows of table `name` into the database of `con`, in the contract's columns; client
    ids pseudonymised inside DuckDB (queries/ingest/insert_<table>.sql) with `key_pads` (None: they already
    are). The pseudonym macro (queries/ingest/pseudonym.sql) must be defined on `con`."""
    rows = arrow_table(prepare(name, typed))  # DuckDB scans Arrow in parallel (a pandas frame: 40% slower at 10M)
    if key_pads is not None and name in PSEUDONYMISED:
        con.register("batch", rows)
        try:
            con.execute(catalog.ingest_statement(f"insert_{name}"), key_pads)
        finally:
            con.unregister("batch")
    else:
        con.from_arrow(rows).insert_into(name)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table (without copying its Arrow-backed columns), without pandas' metadata."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def checksum_files(paths: Iterable[Path]) -> str:
    """A checksum of files' names and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
