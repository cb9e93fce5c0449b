"""Getting a community's data in: the import contract and every format that reaches it.

Bottom of the import side:
- `problems`: a problem of an import, a rule's rows listed and counted, the report and its table.
- `store`: the database file an import writes (the lock, the build swapped in whole, the import log)
  and what an import gives back.

The contract's own files:
- `sources`: reading files (CSV, Excel, Parquet) into tables of text, checked by content.
- `validate`: every rule of the contract (`atlas.contract`), all problems in one pass.
- `importer`: pseudonymisation and the all-or-nothing build of the database (replace or append);
  `streamed` replaces a database from large files a batch at a time.
- `contract_files`: typed tables written back out as contract files (the demo's `--csv`).
- `pseudonym`: the keyed HMAC that replaces client ids.

Foreign formats, each in a home of its own under `formats/`, mapped onto the contract and loaded through
the importer:
- `formats.hsds` (Open Referral directories, with `hsds_mapping.toml` beside it);
- `formats.hmis` (HUD HMIS CSV exports, with `hmis_mapping.toml`): `files` reads an export's files,
  `tables` maps them;
- `formats.columns` (an export of any shape, through a column mapping).
Shared by the formats: `archive` reads an export's zip safely; `mappings` loads the mapping files.

- `upload`: the Data page's flow (staging, review, confirm) without Streamlit.
"""
