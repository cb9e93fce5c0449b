"""Mapping files of the foreign formats: a documented default (TOML) beside the format's module, with
a file of the user's own put over it. Each format says how the two merge and what a valid mapping is."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path


def load(default: Path, path: str | Path | None, merge: Callable[[dict, dict], dict],
         check: Callable[[dict], None], error: type[Exception]) -> dict:
    """The default mapping, with the file at `path` (if any) merged over it, checked; raises `error`
    for a file that is not TOML (and `check` raises it for a mapping that is not usable)."""
    with default.open("rb") as fh:
        mapping = tomllib.load(fh)
    if path is not None:
        try:
            with Path(path).open("rb") as fh:
                override = tomllib.load(fh)
        except tomllib.TOMLDecodeError as problem:
            raise error(f"{Path(path).name} is not valid TOML: {problem}") from None
        mapping = merge(mapping, override)
    check(mapping)
    return mapping
