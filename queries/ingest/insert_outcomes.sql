-- insert_outcomes: one batch of checked outcome rows (the pandas frame registered as `batch`, in the
-- contract's columns) written into outcomes, each client id replaced by its keyed pseudonym on the way, so
-- no raw id is ever stored. Params: $inner_pad, $outer_pad (blobs, from atlas.ingest.pseudonym.pads).
insert into outcomes by name
select * replace (pseudonym(client_id, $inner_pad, $outer_pad) as client_id)
from batch
