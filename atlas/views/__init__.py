"""Views: the figures, tables, charts and words each page shows, built from the named queries.

A view module loads through `atlas.db.Atlas` (privacy rules applied as the data is read), computes
with pure functions over frames, and presents (plotly figures, tables, sentences); the pages and
packs only lay these out. Nothing here imports Streamlit or the import side (`atlas.ingest`).
"""
