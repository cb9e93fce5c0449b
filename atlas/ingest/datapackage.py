"""The import contract as an open standard: a Frictionless Data Package with a Table Schema per table.

`descriptor()` states the contract in the Frictionless specifications' terms, so a community's files
can be checked with any Frictionless tool (`frictionless validate datapackage.json`) before they reach
the dashboard, and other tools can read what the dashboard exports: each table's fields with their
types and formats, required columns, allowed values and bounds, the keys (primaryKey) and the
references between tables (foreignKeys). It is written beside the templates (the Data page's download)
and beside `atlas demo --csv` output. Pure: the contract in, a dict out.
"""

from __future__ import annotations

import json
from pathlib import Path

from atlas.contract import REFERENCES, TABLES, Column

# Contract type -> Table Schema type (and format). Timestamps are written as `atlas demo --csv` writes
# them; the contract also accepts HH:MM without seconds, which a Frictionless pattern cannot say as well.
_TYPES = {
    "id": ("string", None), "text": ("string", None), "enum": ("string", None), "bool": ("boolean", None),
    "int": ("integer", None), "date": ("date", None), "month": ("yearmonth", None),
    "timestamp": ("datetime", "%Y-%m-%d %H:%M:%S"),
}


def _field(column: Column) -> dict:
    kind, fmt = _TYPES[column.type]
    field = {"name": column.name, "type": kind}
    if fmt:
        field["format"] = fmt
    if column.doc:
        field["description"] = column.doc
    constraints = {}
    if column.required:
        constraints["required"] = True
    if column.values:
        constraints["enum"] = list(column.values)
    if column.min is not None:
        constraints["minimum"] = column.min
    if column.max is not None:
        constraints["maximum"] = column.max
    if constraints:
        field["constraints"] = constraints
    if column.type == "bool":
        field["trueValues"], field["falseValues"] = ["true", "1", "yes", "t"], ["false", "0", "no", "f"]
    return field


def descriptor(tables: list[str] | None = None) -> dict:
    """The Data Package of the contract's tables (all, or `tables`), one CSV resource each."""
    names = [name for name in TABLES if tables is None or name in tables]
    resources = []
    for name in names:
        table = TABLES[name]
        schema = {"fields": [_field(c) for c in table.columns], "missingValues": [""]}
        if table.key:
            schema["primaryKey"] = list(table.key)
        keys = [{"fields": ref.column, "reference": {"resource": ref.target_table, "fields": ref.target_column}}
                for ref in REFERENCES if ref.table == name and ref.target_table in names
                and TABLES[ref.target_table].key == (ref.target_column,)]
        if keys:
            schema["foreignKeys"] = keys
        resources.append({"name": name, "path": f"{name}.csv", "profile": "tabular-data-resource",
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                          "description": table.doc, "schema": schema})
    return {"name": "collaboration-atlas-import", "title": "Collaboration Atlas import contract",
            "description": "A community's agencies, programs, partnerships, referrals, outcomes, capacity and "
                           "needs, one CSV file per table, as Collaboration Atlas imports them "
                           "(docs/import-contract.md). Client ids are pseudonymised at import.",
            "profile": "tabular-data-package", "resources": resources}


def write(directory: str | Path, tables: list[str] | None = None) -> Path:
    """Write `datapackage.json` for the tables into `directory`; returns its path."""
    path = Path(directory) / "datapackage.json"
    path.write_text(json.dumps(descriptor(tables), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
