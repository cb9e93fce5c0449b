"""The foreign formats a community's data arrives in, each mapped onto the import contract in a home of
its own: `hmis` (HUD HMIS CSV exports, FY2024), `hsds` (Open Referral service directories) and `columns`
(any export of the contract's tables whose columns a kept mapping names). Each reads its files, maps
them to the contract's tables with its choices in a documented mapping file beside it, reports every
problem through `atlas.ingest.problems`, and hands the tables to `atlas.ingest.importer`.

A new format is one more module (or package) here; nothing outside the import side imports them except
the command line and the Data page.
"""
