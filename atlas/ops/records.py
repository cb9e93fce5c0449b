"""The records the operations keep beside the database: one JSON object a line, one line a refresh
(`atlas.config.refresh_log`) or a delivery (`atlas.config.delivery_log`).

They are kept outside the database file on purpose: a failed refresh must be recorded without touching
the data, a replace starts the database's own import log again, and the server holds the database
open while these are written. A record is written whole, by writing the file anew beside itself and
moving it over the old one, so a reader (the Data page's named query `last_refresh`, `atlas status`)
never meets half a line, and a writer killed halfway leaves the previous file. Writers of one file take
turns under a lock beside it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from pathlib import Path


def now() -> str:
    """The local time to the second, as the records write it (ISO 8601, no zone: the server's clock)."""
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


def read(path: str | Path) -> list[dict]:
    """Every record of the file, oldest first; none when there is no file yet. A line that is not a JSON
    object (edited by hand) is skipped rather than stopping the reader."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


@contextlib.contextmanager
def locked(path: Path):
    """Held while the file at `path` is written (or copied whole): writers take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def put(path: str | Path, record: dict) -> None:
    """Add `record` to the file, numbered (`seq`: 1, 2, ... in the order records are added), or replace the
    record with the same `id` (a refresh's "running" line becomes its result), keeping its number."""
    path = Path(path)
    with locked(path):
        records = read(path)
        ids = [r.get("id") for r in records]
        if record.get("id") is not None and record["id"] in ids:
            i = ids.index(record["id"])  # in its place and number: the file stays in the order they began
            records[i] = {**record, "seq": records[i].get("seq")}
        else:  # numbered, as two records can begin within the second their times are written to
            records.append({**record, "seq": max((r.get("seq") or 0 for r in records), default=0) + 1})
        _write(path, records)


def _write(path: Path, records: list[dict]) -> None:
    new = path.with_name(f".{path.name}.{os.getpid()}.new")
    with open(new, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(new, path)
