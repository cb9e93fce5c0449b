"""`python -m atlas backup DIR` and `python -m atlas restore DIR`: a consistent copy of everything the
dashboard keeps, and bringing it back.

What the dashboard keeps (`kept`): the database (its contract tables, the model built over them and its
own import log), and beside it the column mappings people kept on the Data page, the refresh log and
the delivery log. A new store kept beside the database joins `kept`, and every backup holds it.

The database is copied by DuckDB itself (`COPY FROM DATABASE`, from the file attached read-only), so a
backup can run while the server reads the database; it is taken under the database's import lock, so no
import swaps the file, and no refresh writes its log, halfway through. Every table's rows are counted in
the copy against the original before the backup is called done, and `manifest.json`, written last, lists
each file with its checksum and each table with its rows: a folder without it is not a whole backup.

A restore checks those checksums first, then puts the database in place at DB in one move (as an import
does, so a server reading DB sees either the old data or the restored data), with what belongs beside it.
What was at DB before is moved aside, to `DB.before-restore/`, not deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb

from atlas import catalog, config, db
from atlas.ingest import store
from atlas.ops import records
from atlas.survey import store as survey_store

MANIFEST = "manifest.json"
FORMAT = 1  # the backup folder's layout
SURVEY = "survey.duckdb"  # the survey's answers, in a backup


class BackupError(RuntimeError):
    """The backup or restore could not be made; nothing was changed at the database's path."""


def kept(database: Path) -> dict[str, Path]:
    """What is kept beside `database`, by its name in a backup: the kept column mappings (a folder), the
    refresh and delivery logs, and the survey's answers (`atlas.survey.store`)."""
    return {"mappings": config.mappings_folder(database), "refreshes.jsonl": config.refresh_log(database),
            "deliveries.jsonl": config.delivery_log(database), SURVEY: survey_store.answers_path(database)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_rows(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, int]:
    """Rows of every table of the attached database `alias` (schema-qualified names)."""
    names = con.execute("select schema_name, table_name from duckdb_tables() where database_name = $db "
                        "order by all", {"db": alias}).fetchall()
    return {f"{schema}.{table}": con.execute(
        f"select count(*) from {_quoted(alias)}.{_quoted(schema)}.{_quoted(table)}").fetchone()[0]
        for schema, table in names}


def _objects(con: duckdb.DuckDBPyConnection, alias: str) -> list[tuple]:
    """The database's own tables, views and macros, by schema and name (what a copy must also hold)."""
    return sorted(
        con.execute("select 'table', schema_name, table_name from duckdb_tables() where database_name = $db "
                    "union all select 'view', schema_name, view_name from duckdb_views() "
                    "where database_name = $db and not internal "
                    "union all select distinct function_type, schema_name, function_name from duckdb_functions() "
                    "where database_name = $db and not internal", {"db": alias}).fetchall())


def copy_database(source: Path, target: Path) -> dict[str, int]:
    """Copy the database at `source` into a new file `target` with DuckDB, checked: every table, view and
    macro is in the copy and every table has as many rows; the tables' rows."""
    con = duckdb.connect()
    try:
        db.attach_read_only(con, source)  # as `atlas`
        con.execute("attach $path as backup_copy", {"path": str(target)})
        con.execute("copy from database atlas to backup_copy")
        con.execute("checkpoint backup_copy")
        rows, copied = table_rows(con, "atlas"), table_rows(con, "backup_copy")
        missing = sorted(set(_objects(con, "atlas")) - set(_objects(con, "backup_copy")))
        con.execute("detach backup_copy")
    except (duckdb.IOException, duckdb.InternalException, duckdb.FatalException) as error:
        raise db.unreadable(source, error) from error
    finally:
        con.close()
    if missing or rows != copied:
        target.unlink(missing_ok=True)
        raise BackupError(f"the copy of {source} does not match it (missing {missing}, rows {rows} against "
                          f"{copied}): nothing was kept")
    return rows


def backup(database: Path, folder: Path) -> dict:
    """Write a backup of `database` and what is kept beside it into `folder` (new, or empty); its manifest."""
    database, folder = Path(database), Path(folder)
    if not database.exists():
        raise db.DatabaseMissing(f"No database at {database}: nothing to back up.")
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder (one per backup, such as one "
                          "named after the day)")
    folder.mkdir(parents=True, exist_ok=True)
    with store.import_lock(database):
        rows = copy_database(database, folder / "atlas.duckdb")
        for name, path in kept(database).items():
            if name == SURVEY:
                survey_store.copy(database, folder / name)  # under the store's lock: no save halfway through
            elif path.is_dir():
                shutil.copytree(path, folder / name, ignore=shutil.ignore_patterns(".*"))
            elif path.is_file():
                with records.locked(path):  # a whole log, not one a refresh is writing
                    shutil.copyfile(path, folder / name)
    files = {p.relative_to(folder).as_posix(): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "made_at": records.now(), "database": str(database.resolve()),
                "model": catalog.model_fingerprint(), "tables": rows, "files": files}
    new = folder / f".{MANIFEST}.new"
    new.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(new, folder / MANIFEST)  # last: a folder with a manifest holds a whole backup
    return manifest


def read_manifest(folder: Path) -> dict:
    """The backup's manifest, every file it lists checked against its checksum; BackupError otherwise."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no {MANIFEST}: it is not a whole backup made by `atlas backup`") from None
    except ValueError:
        raise BackupError(f"{path} is damaged: it is not JSON") from None
    if manifest.get("format") != FORMAT or "atlas.duckdb" not in manifest.get("files", {}):
        raise BackupError(f"{path} is not a manifest this version reads")
    for name, digest in manifest["files"].items():
        file = Path(folder) / name
        if not file.is_file() or _sha256(file) != digest:
            raise BackupError(f"{file} is missing or differs from the file backed up: the backup is damaged")
    return manifest


def restore(folder: Path, database: Path) -> tuple[dict, Path | None]:
    """Bring the backup in `folder` back as the database at `database`, with what belongs beside it; the
    manifest, and where what was there before was moved (None when nothing was)."""
    folder, database = Path(folder), Path(database)
    manifest = read_manifest(folder)
    database.parent.mkdir(parents=True, exist_ok=True)
    with store.import_lock(database):
        new = database.with_name(f".{database.name}.{os.getpid()}.restoring")
        try:
            shutil.copyfile(folder / "atlas.duckdb", new)  # a new file (and time): the server reopens it
            _check_rows(new, manifest["tables"])
            aside = _move_aside(database)
            os.replace(new, database)  # one move: a reader sees the old database or the restored one
        finally:
            new.unlink(missing_ok=True)
        for name, path in kept(database).items():
            source = folder / name
            if name == SURVEY and source.is_file():
                survey_store.put_back(source, database)
            elif source.is_dir():
                shutil.copytree(source, path)
            elif source.is_file():
                shutil.copyfile(source, path)
    return manifest, aside


def _check_rows(path: Path, expected: dict[str, int]) -> None:
    con = duckdb.connect()
    try:
        db.attach_read_only(con, path)
        found = table_rows(con, "atlas")
    finally:
        con.close()
    if found != expected:
        raise BackupError(f"the restored database's tables differ from the manifest's ({found} against {expected})")


def _move_aside(database: Path) -> Path | None:
    """Keep what is at `database` and beside it in DB.before-restore/ (replacing what an earlier restore
    kept there): the database as a second name of its file, so it stays in place until the restored one
    replaces it in one move; the rest moved. None when there is nothing."""
    present = [p for p in (database, *kept(database).values()) if p.exists()]
    if not present:
        return None
    aside = database.with_name(database.name + ".before-restore")
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    for path in present:
        if path == database:
            try:
                os.link(path, aside / path.name)
            except OSError:  # a file system without hard links
                shutil.copyfile(path, aside / path.name)
        else:
            os.rename(path, aside / path.name)
    return aside
