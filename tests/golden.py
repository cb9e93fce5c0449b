"""The figures of every named query on a fixed demo community, reduced to one digest per query and
parameter set: what `tests/test_golden_figures.py` compares with `tests/data/golden_figures.json`.

A change that is meant to leave every figure as it was (a refactoring) must leave this file as it
was; a change that alters figures on purpose rewrites it in the same commit:

    python -m tests.golden --write
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN = Path(__file__).resolve().parent / "data" / "golden_figures.json"
KEY = b"golden-figures-key-0123456789abcdef0123456789"
DEMO = dict(seed=7, referrals=20_000, agencies=150)

# The parameter sets each query is run with: its defaults, one quarter, one region over one year, and the
# demo's newer survey round (a parameter a query does not take is left out of its set).
VARIANTS = {
    "defaults": {},
    "quarter": {"start": "2025-07-01", "end": "2025-09-30", "as_of": "2025-09-30"},
    "region_year": {"start": "2025-01-01", "end": "2025-12-31", "region": "$region"},
    # the demo's newer survey round (the survey's queries), and its ties under the rule `both`
    "survey_round": {"round_id": "demo-2025"},
    "survey_both": {"round_id": "demo-2025", "rule": "both"},
}


def build(path: Path) -> Path:
    """The demo community, built and imported for real (a fixed key, so pseudonyms are stable), with the
    demo's survey rounds beside it."""
    from atlas import demo
    from atlas.ingest import importer
    from atlas.survey import demo as survey_demo

    tables = demo.generate(**DEMO)
    importer.build_database(tables, path, KEY, source="golden", files={n: n for n in tables},
                            checksum=importer.frames_checksum(tables))
    survey_demo.write(path, DEMO["seed"])
    return path


# Columns that say when the database was built, not what it holds.
BUILT_AT = ("imported_at",)


def _digest(frame: pd.DataFrame) -> str:
    """The frame's content, independent of row order among equals and of float noise past 9 digits."""
    out = frame.drop(columns=[c for c in BUILT_AT if c in frame.columns])
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values):
            out[column] = [None if pd.isna(v) else float(f"{v:.9g}") for v in values]
        out[column] = out[column].map(lambda v: "" if v is None or (not isinstance(v, (list, np.ndarray))
                                                                 and pd.isna(v)) else str(v))
    text = out.to_csv(index=False)
    lines = text.splitlines()
    body = "\n".join([lines[0], *sorted(lines[1:])])
    return hashlib.sha256(body.encode()).hexdigest()[:16] + f" {len(out)}x{len(out.columns)}"


def figures(path: Path) -> dict[str, str]:
    """{'query/variant': digest} for every named query of the catalog."""
    import duckdb

    from atlas import catalog
    from atlas.db import Atlas

    with duckdb.connect(str(path), read_only=True) as con:
        region = con.execute("select min(region) from agencies").fetchone()[0]
    out = {}
    with Atlas(path) as db:
        for name, query in sorted(catalog.catalog().items()):
            taken = {p.name for p in query.params}
            run = []
            for variant, values in VARIANTS.items():
                params = {k: (region if v == "$region" else v) for k, v in values.items() if k in taken}
                if variant != "defaults" and (not params or params in run):
                    continue
                run.append(params)
                out[f"{name}/{variant}"] = _digest(db.query(name, **params))
    return out


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        found = figures(build(Path(tmp) / "golden.duckdb"))
    if "--write" in argv:
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(found)} digests to {GOLDEN}")
        return 0
    print(json.dumps(found, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
