-- name: import_history
-- purpose: The imports that built this database: when, from where, which files, how many rows, checksum.
-- grain: one row per import, newest first
-- params:
with

final as (
    select imported_at, source, files, row_counts, checksum
    from imports
)

select * from final order by imported_at desc
