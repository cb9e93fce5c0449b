-- insert_referrals: one batch of checked referral rows (the pandas frame registered as `batch`, in the
-- contract's columns) written into referrals, each client id replaced by its keyed pseudonym on the way, so
-- no raw id is ever stored. Params: $inner_pad, $outer_pad (blobs, from atlas.ingest.pseudonym.pads).
insert into referrals by name
select * replace (pseudonym(client_id, $inner_pad, $outer_pad) as client_id)
from batch
