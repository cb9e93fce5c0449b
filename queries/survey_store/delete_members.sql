-- A round's members, all of them (before they are written again).
delete from members where round_id = $round_id
