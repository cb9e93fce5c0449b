-- import_left_out: the rows of the last import's files that it left out, or read with a documented value
-- (an HMIS export: an empty Destination read as unknown, say), one per row and fault. Ids and columns
-- only, never a value: file (as named in the export), file_row (as numbered in the file, the header being 1),
-- id_column and record_id (the row's own id, e.g. EventID V12), column_name, fault, action. Each import
-- that writes the database replaces these rows; contract files, loaded all or nothing, leave none.
create table import_left_out (
    file varchar not null,
    file_row integer not null,
    id_column varchar not null,
    record_id varchar,
    column_name varchar not null,
    fault varchar not null,
    action varchar not null
)
