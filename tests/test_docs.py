"""The documentation says what the code does: the contract doc names every column and allowed value."""

from pathlib import Path

from atlas.contract import TABLES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_import_contract_doc_covers_every_table_column_and_value():
    text = (DOCS / "import-contract.md").read_text()
    model = (DOCS / "data-model.md").read_text()
    for table in TABLES.values():
        assert f"### {table.name}" in text and f"## {table.name}" in model
        for column in table.columns:
            assert f"`{column.name}`" in text, f"{table.name}.{column.name} is not documented"
            for value in column.values:
                assert value in text, f"{table.name}.{column.name} value {value} is not documented"


def test_every_named_query_is_documented_in_metrics_md():
    from atlas import catalog

    headings = [line for line in (DOCS / "metrics.md").read_text().splitlines() if line.startswith("### ")]
    for name in catalog.catalog():
        assert any(name in heading for heading in headings), f"docs/metrics.md has no section for {name}"


def test_every_path_and_module_the_docs_name_exists():
    """A file, folder or module named in README.md or docs/ (in backticks) is where the docs say: the
    architecture page is only useful while it is true. The benchmarks' profiles name functions of the
    commit they measured, so docs/benchmarks.md is left out."""
    import importlib
    import re

    root = DOCS.parent
    texts = {path.name: path.read_text(encoding="utf-8") for path in [root / "README.md", *DOCS.glob("*.md")]
             if path.name != "benchmarks.md"}
    missing = []
    for name, text in texts.items():
        for found in re.findall(r"`((?:atlas|pages|queries|tests|bench|docs|deploy)/[\w./*-]+)", text):
            path = found.split(":")[0].rstrip("/.")
            if "NAME" not in path and not any(root.glob(path)):
                missing.append(f"{name}: {found}")
        for found in re.findall(r"`(atlas(?:\.\w+)+)", text):
            parts = found.split(".")
            for cut in range(len(parts), 1, -1):  # the longest importable prefix, then attributes of it
                try:
                    obj = importlib.import_module(".".join(parts[:cut]))
                except ModuleNotFoundError:
                    continue
                try:
                    for attribute in parts[cut:]:
                        obj = getattr(obj, attribute)
                except AttributeError:
                    missing.append(f"{name}: {found}")
                break
            else:
                missing.append(f"{name}: {found}")
    assert not missing
