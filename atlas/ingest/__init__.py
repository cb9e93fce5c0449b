"""Getting a community's data in: the import contract and every format that reaches it.

- `contract`: the import contract as data (tables, columns, rules); `formats` writes it back out.
- `sources`: reading files (CSV, Excel, Parquet) into tables of text, checked by content.
- `validate`: every rule of the contract, all problems in one pass.
- `importer`: pseudonymisation and the all-or-nothing build of the database (replace or append).
- `pseudonym`: the keyed HMAC that replaces client ids.
- foreign formats, one module each, mapped onto the contract: `hsds` (Open Referral directories)
  and `hmis` (HUD HMIS CSV exports), with `archive` reading an export's zip safely.
- `upload`: the Data page's flow (staging, review, confirm) without Streamlit.
"""
