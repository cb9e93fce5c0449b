-- Every invitation address of a round (the demo writes its own rounds again).
delete from contacts where round_id = $round_id
