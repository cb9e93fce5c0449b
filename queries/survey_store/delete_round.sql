-- A round itself (its members, answers and contacts are deleted first).
delete from rounds where round_id = $round_id
