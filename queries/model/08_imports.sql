-- imports: one row per import that built this database (what was loaded, when, and its checksum).
-- mode is replace (the files were the whole data set) or append (added to what was there); changes
-- says, per table, how many rows were added, updated or already there (JSON).
create table imports (
    imported_at timestamp not null,
    source varchar not null,
    files varchar not null,
    row_counts varchar not null,
    checksum varchar not null,
    mode varchar not null default 'replace',
    changes varchar
)
