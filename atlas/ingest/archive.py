"""Finding the files of an export in a folder or a zip archive, read as untrusted input.

An HMIS exports its CSV files as one zip, sometimes with the files in a folder inside it. `open_export`
gives the files a format wants, by name, from either a folder (searched with its subfolders) or a zip.

A zip comes from outside and is treated as hostile:

- a member's name never becomes a path: a wanted member is written under the name the format gives it
  (`Event.csv`), in a private temporary folder made for this read and removed after it, so `../` or
  an absolute name leads nowhere; members that are not wanted are never unpacked at all;
- the archive is refused, before anything is unpacked, when a member is encrypted, when it holds an
  archive (a zip inside the zip, by name or by content), when it has too many members, or when what
  the wanted members declare would unpack to more than `max_bytes` or at a compression ratio no
  text file reaches (a zip bomb);
- while unpacking, the bytes written are counted, so a member whose header understates its size is
  stopped at the size it declared, and the read refused.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from atlas.ingest.problems import Problem

MAX_MEMBERS = 10_000  # entries in the archive's directory
MAX_BYTES = 16 * 2**30  # what the wanted members may unpack to, together
MAX_RATIO = 250  # unpacked / packed size of one member: CSV text stays far below; a bomb far above
_CHUNK = 1 << 20
_ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".zst")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")


class ArchiveRefused(ValueError):
    """The archive is not read at all; `problem` says why and what to do."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Found:
    """The wanted files of an export, by the name the format gives them, and what was not read."""

    files: dict[str, Path]  # canonical name (e.g. "Event.csv") -> a readable path
    ignored: list[str] = field(default_factory=list)  # names of entries that were not wanted
    problems: list[Problem] = field(default_factory=list)  # e.g. two files for one name


def is_zip(path: str | Path) -> bool:
    """Whether the file at `path` is a zip archive, by its content."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


@contextlib.contextmanager
def open_export(path: str | Path, wanted: Callable[[str], str | None], *, max_bytes: int = MAX_BYTES,
                root: str | Path | None = None) -> Iterator[Found]:
    """The files of the export at `path` (a folder or a zip) that `wanted` names.

    `wanted(base_name)` returns the canonical name of a file the format reads (`"event.CSV"` ->
    `"Event.csv"`), or None for a file it does not. Raises ArchiveRefused for a zip that must not be
    read, NotADirectoryError for a path that is neither a folder nor a zip.
    """
    path = Path(path)
    if path.is_dir():
        yield _in_folder(path, wanted)
        return
    if not path.is_file() or not is_zip(path):
        raise NotADirectoryError(f"{path} is neither a folder nor a zip archive")
    private = Path(tempfile.mkdtemp(prefix="atlas-export-", dir=root))  # mode 0700: this user only
    try:
        yield _unzip(path, wanted, private, max_bytes)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _in_folder(folder: Path, wanted: Callable[[str], str | None]) -> Found:
    found = Found({})
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            entry = Path(directory) / name
            if name.startswith(".") or entry.is_symlink():
                continue
            _take(found, wanted(name), entry, str(entry.relative_to(folder)))
    return found


def _take(found: Found, canonical: str | None, entry: Path, shown: str) -> None:
    if canonical is None:
        found.ignored.append(shown)
    elif canonical in found.files:
        found.problems.append(Problem(
            canonical, None, None, None, "duplicate_file",
            f"The export holds {canonical} twice ({shown} and another): keep only the export's own copy."))
    else:
        found.files[canonical] = entry


def _refuse(archive: Path, message: str, rule: str = "unsafe_archive") -> ArchiveRefused:
    return ArchiveRefused(Problem(archive.name, None, None, None, rule, message))


def _unzip(archive: Path, wanted: Callable[[str], str | None], into: Path, max_bytes: int) -> Found:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise _refuse(archive, f"The archive lists {len(members):,} entries; an export has a few dozen. "
                                       "It is not read: export again from the HMIS.")
            chosen: list[tuple[zipfile.ZipInfo, str]] = []
            found = Found({})
            total = 0
            for info in members:
                if info.flag_bits & 0x1:
                    raise _refuse(archive, f"{info.filename} is encrypted (protected by a password). The archive "
                                           "is not read: export again without a password, or unzip it yourself "
                                           "and load the folder.")
                base = info.filename.replace("\\", "/").rstrip("/").rpartition("/")[2]
                if info.is_dir() or not base or base.startswith(".") or "__MACOSX" in info.filename:
                    continue
                if base.lower().endswith(_ARCHIVE_SUFFIXES):
                    raise _refuse(archive, f"{info.filename} is an archive inside the archive. Archives inside "
                                           "archives are not read: put the export's CSV files in one zip.")
                canonical = wanted(base)
                if canonical is None:
                    found.ignored.append(info.filename)
                    continue
                if canonical in {c for _, c in chosen}:
                    found.problems.append(Problem(
                        canonical, None, None, None, "duplicate_file",
                        f"The archive holds {canonical} twice (one is {info.filename}): keep only one."))
                    continue
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _CHUNK and ratio > MAX_RATIO:
                    raise _refuse(archive, f"{info.filename} would unpack to {info.file_size:,} bytes from "
                                           f"{info.compress_size:,} ({ratio:,.0f} times), far more than any CSV "
                                           "file compresses: the archive looks like a zip bomb and is not read.")
                total += info.file_size
                chosen.append((info, canonical))
            if total > max_bytes:
                raise _refuse(archive, f"The files to read would unpack to {total / 2**30:,.1f} GB, over the "
                                       f"limit of {max_bytes / 2**30:,.1f} GB. The archive is not read: export "
                                       "a shorter period, or raise the limit for this import.")
            for info, canonical in chosen:
                found.files[canonical] = _extract(zf, info, into / canonical, archive)
            return found
    except zipfile.BadZipFile as error:
        raise _refuse(archive, f"The zip archive is damaged and cannot be read ({error}): export it again.",
                      "not_zip") from None
    except NotImplementedError as error:  # a compression method zipfile does not know
        raise _refuse(archive, f"The archive uses a compression this reader does not know ({error}): "
                               "zip it again with the usual (deflate) compression.", "not_zip") from None


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, archive: Path) -> Path:
    """Unpack one member to `target`, stopping (and refusing) past the size it declared."""
    written = 0
    with zf.open(info) as source, open(target, "xb") as sink:
        os.chmod(target, 0o600)
        while True:
            block = source.read(_CHUNK)
            if not block:
                break
            if written == 0 and block.startswith(_ARCHIVE_MAGIC):
                raise _refuse(archive, f"{info.filename} is an archive inside the archive (its content is one). "
                                       "Archives inside archives are not read.")
            written += len(block)
            if written > info.file_size:
                raise _refuse(archive, f"{info.filename} unpacks to more than the {info.file_size:,} bytes "
                                       "it declares: the archive is damaged or forged and is not read.")
            sink.write(block)
    return target
