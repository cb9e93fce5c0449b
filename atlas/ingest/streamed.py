"""Importing a folder of contract files batch by batch, for a state's data: ten million referrals in
bounded memory, with progress.

`importer.import_folder` replaces a database this way. The agencies and programs, which every other table
refers to, are read and checked whole first. Each other file is then read a batch at a time
(`sources.Batches`: about 250,000 referral rows of a CSV file); each batch is checked by the same rules
as a whole file (`validate.parse` and `validate.check`, with the agencies and programs to refer to) and,
while no error has been found, written into the new database, its client ids pseudonymised inside DuckDB
on the way (queries/ingest/). A table's keys are checked for repeats over the whole file once it is
read, and each rule's problems are bounded as for a whole file (`problems.combine`), so the report is the
same as `validate.validate` gives. Any error leaves the new database unfinished and removed: nothing is
written, and the old database stays as it was (`store.building`).

Progress: the share done is the share of the files' bytes read, then of the model's build steps; the
report counts the rows read and checked, the rules checked and the problems found.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from atlas import catalog
from atlas import progress as progress_
from atlas.contract import TABLES
from atlas.ingest import sources, store, validate
from atlas.ingest.problems import Problem, combine, shifted
from atlas.ingest.pseudonym import pads

WHOLE = ("agencies", "programs")  # read whole, first: the other tables refer to them
READING = 0.7  # share of the whole import taken by reading, checking and writing the files (then the model)
CHECKSUM = 0.03  # of which the checksum of the files


def import_folder(directory: str | Path, database: str | Path, key: bytes, *,
                  progress: progress_.Progress = progress_.NOWHERE,
                  block_bytes: int = sources.BLOCK_BYTES) -> store.ImportResult:
    """Replace `database` with the contract files of `directory`, read and checked in batches; raises
    store.ImportRejected with every problem (and writes nothing) if any is an error."""
    directory = Path(directory)
    paths, problems = sources.list_folder(directory, required=store.REQUIRED_FOR_REPLACE)
    files = {name: path.name for name, path in paths.items()}
    progress.report(0.0, "Reading the files' checksum")
    checksum = store.checksum_files(directory / f for f in sorted(files.values()))
    reading = _Reading(paths, progress.part(CHECKSUM, READING), problems, block_bytes)
    with store.import_lock(database):
        with store.building(database, progress.part(READING, 1.0)) as con:
            con.execute(catalog.ingest_statement("pseudonym"))
            writer = _Writer(con, pads(key))
            try:
                reading.run(writer)
            finally:
                writer.close()
            if reading.errors:
                progress.report(doing="Found problems: nothing was imported")
                raise store.ImportRejected(reading.problems)
            store.log(con, "replace", str(directory), files, reading.rows,
                          {name: {"added": n} for name, n in reading.rows.items()}, checksum)
    progress.finish(f"Imported {sum(reading.rows.values()):,} rows")
    changes = {name: store.Change(n, n) for name, n in reading.rows.items()}
    return store.ImportResult(Path(database), reading.rows, checksum, reading.warnings, "replace", changes)


class _Writer:
    """Writes checked rows into the new database, on a thread of its own so that DuckDB writes one batch
    (pseudonymising its client ids) while the next is read and checked; at most two batches wait."""

    def __init__(self, con, pads: dict[str, bytes]):
        self.con = con
        self.pads = pads
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="atlas-import-write")
        self._pending: deque[Future] = deque()

    def write(self, name: str, typed: pd.DataFrame) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(store.write_rows, self.con, name, typed, self.pads))

    def close(self) -> None:
        """Wait for every write (raising the first that failed); the connection is then free."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _ahead(items, depth: int = 2):
    """`items` iterated on a thread of its own, up to `depth` ahead of the caller (reading the next batch of
    a file while this one is checked); the thread's errors are raised here."""
    handoff: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def hand(error, item) -> bool:
        """Hand an item (or an error) to the caller, unless the caller has stopped; True if handed."""
        while not stop.is_set():
            try:
                handoff.put((error, item), timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            for item in items:
                if not hand(None, item):
                    return
            hand(None, end)
        except BaseException as error:  # handed to the caller
            hand(error, None)

    thread = threading.Thread(target=run, name="atlas-import-read", daemon=True)
    thread.start()
    try:
        while True:
            error, item = handoff.get()
            if error is not None:
                raise error
            if item is end:
                return
            yield item
    finally:
        stop.set()
        thread.join()


class _Reading:
    """Reading and checking every file, batch by batch; what was found and how many rows."""

    def __init__(self, paths: dict[str, Path], progress: progress_.Part, problems: list[Problem],
                 block_bytes: int = sources.BLOCK_BYTES):
        self.paths = paths
        self.block_bytes = block_bytes
        self.progress = progress
        self.problems = list(problems)
        self.files = {name: path.name for name, path in paths.items()}
        self.rows: dict[str, int] = {}
        self.total_bytes = max(1, sum(path.stat().st_size for path in paths.values()))
        self.done_bytes = 0
        self.rules_total = sum(validate.rule_count(name) for name in paths)
        self.rules_done = 0
        self.typed: dict[str, pd.DataFrame] = {}  # the tables read whole, typed
        self.text: dict[str, pd.DataFrame] = {}  # and as written

    @property
    def errors(self) -> int:
        return sum(p.count for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    def _report(self, doing: str, table_bytes: int = 0, table_rules: float = 0.0) -> None:
        self.progress.report((self.done_bytes + table_bytes) / self.total_bytes, doing,
                             rows=sum(self.rows.values()), rules=int(self.rules_done + table_rules),
                             rules_total=self.rules_total, problems=self.errors)

    def run(self, writer: _Writer) -> None:
        whole = [name for name in WHOLE if name in self.paths]
        for name in whole:
            self._report(f"Reading and checking {self.files[name]}")
            raw, found = sources.read_file(self.paths[name], name)
            self.problems += found
            if raw is not None:
                self.typed[name], found = validate.parse(raw)
                self.problems += found
                self.text[name] = _unique_columns(raw.frame)
                self.rows[name] = len(raw.frame)
            self.done_bytes += self.paths[name].stat().st_size
        self.problems += validate.check(self.typed, self.files, written=self.text)
        self.rules_done += sum(validate.rule_count(name) for name in whole)
        for name in whole:
            if name in self.typed and not self.errors:
                writer.write(name, self.typed[name])
        for name in TABLES:
            if name in self.paths and name not in WHOLE:
                self._stream(name, writer)

    def _stream(self, name: str, writer: _Writer) -> None:
        file = self.files[name]
        table = TABLES[name]
        batches = sources.Batches(self.paths[name], name, self.block_bytes)
        found: list[Problem] = []
        keys: list[pd.DataFrame] = []
        key_text: list[pd.DataFrame] = []
        rows = 0
        rules = validate.rule_count(name)
        doing = f"Reading and checking {file}"
        self.rows[name] = 0
        self._report(doing)
        for offset, frame in _ahead(batches):
            raw = sources.RawTable(name, file, frame)
            typed, parsed = validate.parse(raw, header=not rows)
            text = _unique_columns(frame)
            parsed += validate.check({**self.typed, name: typed}, self.files, written={**self.text, name: text},
                                     only=[name], keys=False)
            found += shifted(parsed, offset)
            if table.key:
                keys.append(typed[list(table.key)])
                key_text.append(pd.DataFrame({c: text[c] if c in text.columns else typed[c] for c in table.key}))
            rows += len(frame)
            self.rows[name] = rows
            if not self.errors and not _errors(found):
                writer.write(name, typed)
            share = min(1.0, rows / max(1, batches.estimated_rows or 1))
            self._report(doing, int(batches.size * share), rules * share)
        if batches.unreadable is not None:  # the rows read are not the file's: only say why
            self.problems += batches.unreadable
            self.rows.pop(name)
        else:
            if not rows and batches.header is not None:  # a header and no row: the header's problems
                empty = pd.DataFrame({c: pd.Series(dtype="str") for c in batches.header})
                found += validate.parse(sources.RawTable(name, file, empty))[1]
            if keys:
                found += validate.duplicate_keys(name, pd.concat(keys, ignore_index=True),
                                                 pd.concat(key_text, ignore_index=True), file)
            self.problems += batches.warnings + combine(found)
        self.done_bytes += batches.size
        self.rules_done += rules
        self._report(doing)


def _unique_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as written, a repeated column's first copy only (as `validate.parse` reads it)."""
    return frame if frame.columns.is_unique else frame.loc[:, ~frame.columns.duplicated()]


def _errors(problems: list[Problem]) -> int:
    return sum(p.count for p in problems if p.severity == "error")
