"""Every named query's figures on a fixed demo community are those recorded in
tests/data/golden_figures.json: a refactoring leaves them exactly as they were, and a change that
alters figures on purpose rewrites the file in the same commit (`python -m tests.golden --write`)."""

import json

import golden


def test_every_named_query_gives_the_recorded_figures(tmp_path):
    recorded = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    found = golden.figures(golden.build(tmp_path / "golden.duckdb"))
    assert sorted(found) == sorted(recorded), "the catalog's queries or their parameters changed"
    changed = {name: (recorded[name], digest) for name, digest in found.items() if recorded[name] != digest}
    assert not changed, f"figures changed (recorded, now): {changed}"
