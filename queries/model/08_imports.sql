-- imports: one row per import that built this database (what was loaded, when, and its checksum).
create table imports (
    imported_at timestamp not null,
    source varchar not null,
    files varchar not null,
    row_counts varchar not null,
    checksum varchar not null
)
