"""Typed tables to the contract's text formats, for writing contract files (the demo's `--csv`).

The inverse of parsing: timestamps as `YYYY-MM-DD HH:MM:SS`, dates as `YYYY-MM-DD`, months as
`YYYY-MM`, booleans as `true`/`false`, integers without decimals, nulls as empty cells. A folder
written here imports back unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atlas.contract import TABLES

_DATETIME_FORMATS = {"timestamp": "%Y-%m-%d %H:%M:%S", "date": "%Y-%m-%d", "month": "%Y-%m"}


def to_contract_text(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A copy of a canonical typed frame with every cell as contract text (or missing)."""
    out = {}
    for column in TABLES[table].columns:
        values = frame[column.name]
        if column.type in _DATETIME_FORMATS:
            out[column.name] = values.dt.strftime(_DATETIME_FORMATS[column.type])
        elif column.type == "bool":
            out[column.name] = values.map({True: "true", False: "false"}, na_action="ignore")
        else:
            out[column.name] = values.astype("string")
    return pd.DataFrame(out, index=frame.index)


def write_folder(tables: dict[str, pd.DataFrame], directory: Path) -> list[Path]:
    """Write each table as `<table>.csv` in the contract format, with the Frictionless `datapackage.json`
    that describes them; returns the files written."""
    from atlas.ingest import datapackage

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = directory / f"{name}.csv"
        to_contract_text(frame, name).to_csv(path, index=False, na_rep="", lineterminator="\n")
        written.append(path)
    written.append(datapackage.write(directory, list(tables)))
    return written
