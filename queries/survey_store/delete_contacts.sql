-- A round's invitation addresses, all of them (before they are written again).
delete from contacts where round_id = $round_id
