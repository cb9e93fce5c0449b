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
