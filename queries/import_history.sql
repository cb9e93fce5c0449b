-- name: import_history
-- purpose: The imports that built this database: when, replace or append (mode), from where, which files, rows per file, what changed per table, checksum.
-- grain: one row per import, newest first (databases built before mode and changes were logged lack those columns)
-- params:
with

imports as (select * from imports),

final as (
    select * from imports
)

select * from final order by imported_at desc
