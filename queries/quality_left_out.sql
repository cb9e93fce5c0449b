-- name: quality_left_out
-- purpose: The rows the last import left out of its files, or read with a documented value, and why: what a coordinator fixes in the HMIS before the next export.
-- grain: one row per file row and fault, by file and row (empty after an import of contract files)
-- params:
with

left_out as (select * from import_left_out),

final as (
    select file, file_row, id_column, record_id, column_name, fault, action
    from left_out
)

select * from final order by file, file_row, column_name, fault
