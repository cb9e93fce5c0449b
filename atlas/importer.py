"""Loading validated tables into a Collaboration Atlas database, all or nothing.

A database is always built whole into a new file beside the target and moved over it in one
`os.replace`, so a failed or interrupted import leaves the old database exactly as it was, and a
reader that has the old file open keeps reading it until it reopens. Client ids are pseudonymised
before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from atlas import catalog, sources, validate
from atlas.contract import OUTCOMES, TABLES, HOUSING_OUTCOMES, outcome_polarity
from atlas.pseudonym import pseudonymise


class ImportRejected(ValueError):
    """The files broke the contract; nothing was written. `problems` lists every one."""

    def __init__(self, problems: list[validate.Problem]):
        self.problems = problems
        errors = sum(p.severity == "error" for p in problems)
        super().__init__(f"{errors} problem(s) found; nothing was imported.")


@dataclass
class ImportResult:
    database: Path
    row_counts: dict[str, int]
    checksum: str
    warnings: list[validate.Problem] = field(default_factory=list)


def import_folder(directory: str | Path, database: str | Path, key: bytes) -> ImportResult:
    """Validate every file in `directory` against the contract and, only if all is valid, build `database`."""
    directory = Path(directory)
    raw, problems = sources.read_folder(directory)
    tables, found = validate.validate(raw)
    problems = problems + found
    if any(p.severity == "error" for p in problems):
        raise ImportRejected(problems)
    files = {name: raw[name].file for name in raw}
    checksum = _checksum(directory / f for f in sorted(files.values()))
    counts = build_database(tables, database, key, source=str(directory), files=files, checksum=checksum)
    return ImportResult(Path(database), counts, checksum, [p for p in problems if p.severity != "error"])


def build_database(
    tables: dict[str, pd.DataFrame],
    database: str | Path,
    key: bytes,
    *,
    source: str,
    files: dict[str, str],
    checksum: str,
) -> dict[str, int]:
    """Build a new database from canonical typed tables and swap it in atomically; returns row counts."""
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    building = database.with_name(f".{database.name}.{os.getpid()}.building")
    building.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(building))
        try:
            for _, sql in catalog.model_statements():
                con.execute(sql)
            con.executemany(
                "insert into outcome_kinds values ($1, $2, $3)",
                [(o, outcome_polarity(o), o in HOUSING_OUTCOMES) for o in OUTCOMES],
            )
            for name in TABLES:
                if name in tables:
                    frame = _prepare(name, tables[name], key)
                    con.from_df(frame).insert_into(name)
                    counts[name] = len(frame)
            con.execute(
                "insert into imports values ($imported_at, $source, $files, $row_counts, $checksum)",
                {
                    "imported_at": dt.datetime.now().replace(microsecond=0),
                    "source": source,
                    "files": json.dumps(files, sort_keys=True),
                    "row_counts": json.dumps(counts, sort_keys=True),
                    "checksum": checksum,
                },
            )
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(building, database)
    finally:
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
    return counts


def _prepare(name: str, frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """The frame as the table stores it: contract columns in order, client ids pseudonymised."""
    table = TABLES[name]
    frame = frame[[c.name for c in table.columns]].copy()
    for column in table.columns:
        if column.pseudonymise:
            frame[column.name] = pseudonymise(frame[column.name], key)
        if column.type == "bool":
            frame[column.name] = frame[column.name].fillna(False).astype(bool)
    return frame


def _checksum(paths) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def frames_checksum(tables: dict[str, pd.DataFrame]) -> str:
    """A checksum of in-memory tables (for data that did not come from files, such as the demo)."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(tables[name], index=False).values.tobytes())
    return digest.hexdigest()
