"""The inbox a refresh reads: what in it is an export, which is newest, its checksum, what kind of export
it is, and moving it out once it has been dealt with.

An entry of the inbox is a file or a folder at its top level. Left alone: names starting with a dot,
the `done/` and `failed/` folders, and names ending as a copy still in progress does (`.part`, `.tmp`,
...): whoever drops an export copies it under such a name, or elsewhere on the same disk, and renames
it into place, so a refresh never reads half a file. An entry changed less than `settle` seconds ago
is still left for the next refresh, for copies that cannot be renamed (scp into the folder).
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from pathlib import Path

from atlas.ingest import archive, sources
from atlas.ingest.formats import hsds
from atlas.ingest.formats.hmis import files as hmis_files

DONE, FAILED = "done", "failed"
IN_PROGRESS = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart", ".swp")
KINDS = {
    "hmis": "HMIS export",
    "hsds": "HSDS directory",
    "contract": "contract files",
    "file": "a file in its own columns",
}


def entries(inbox: Path) -> list[Path]:
    """The exports waiting in `inbox`, newest first (by modification time, then name)."""
    found = []
    for entry in inbox.iterdir():
        name = entry.name
        if name.startswith(".") or name in (DONE, FAILED) or name.lower().endswith(IN_PROGRESS) \
                or entry.is_symlink():
            continue
        if entry.is_file() or entry.is_dir():
            found.append(entry)
    return sorted(found, key=lambda e: (changed(e), e.name), reverse=True)


def _files(folder: Path) -> list[Path]:
    """The files of a folder entry, with its subfolders, in a fixed order (hidden ones left out)."""
    out = []
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        out += [Path(directory) / n for n in sorted(names) if not n.startswith(".")]
    return out


def changed(entry: Path) -> float:
    """When the entry last changed: a file's modification time, a folder's latest of itself and its files."""
    if entry.is_dir():
        return max([entry.stat().st_mtime, *(f.stat().st_mtime for f in _files(entry) if f.is_file())])
    return entry.stat().st_mtime


def settled(entry: Path, settle: float) -> bool:
    return time.time() - changed(entry) >= settle


def checksum(entry: Path) -> str:
    """SHA-256 of the entry: a file's bytes; a folder's files, each its path inside the folder and bytes."""
    digest = hashlib.sha256()
    items = [(f.relative_to(entry).as_posix(), f) for f in _files(entry)] if entry.is_dir() else [("", entry)]
    for name, path in items:
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def kind(entry: Path) -> str | None:
    """What the entry is, as the Data page recognises an upload: "hmis" (an HMIS CSV export, zipped or a
    folder), "hsds" (an Open Referral directory), "contract" (a folder or zip of contract files, some
    perhaps in their own columns for a kept column mapping), "file" (one table file, for a kept column
    mapping); None when it is none of these."""
    if entry.is_dir():
        names = [f.name for f in _files(entry)]
    elif archive.is_zip(entry):
        try:
            with zipfile.ZipFile(entry) as zf:
                names = [n.replace("\\", "/").rpartition("/")[2] for n in zf.namelist()]
        except zipfile.BadZipFile:
            return "contract"  # the import's own reading refuses it, saying why
    elif entry.suffix.lower() in sources.READERS:
        return "file"
    else:
        return None
    if hmis_files.is_hmis(names):
        return "hmis"
    return "hsds" if hsds.is_hsds(names) else "contract"


def readable(base_name: str) -> str | None:
    """For `archive.open_export`: every file a contract folder could hold (a table, or a file for a kept
    column mapping), unpacked under its own base name."""
    return base_name if Path(base_name).suffix.lower() in sources.READERS else None


def move(entry: Path, folder: Path) -> Path:
    """Move the entry into `folder` under its own name (" (2)", " (3)", ... before the suffix when the name
    is taken: the same name comes back every month); returns where it went."""
    folder.mkdir(exist_ok=True)
    stem, suffix = (entry.name, "") if entry.is_dir() else (entry.stem, entry.suffix)
    target, n = folder / entry.name, 1
    while target.exists() or target.is_symlink():
        n += 1
        target = folder / f"{stem} ({n}){suffix}"
    os.rename(entry, target)  # the same disk: one step, never a half-moved export
    return target
