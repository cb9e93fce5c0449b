-- Every answer of a round (the demo writes its own rounds again).
delete from answers where round_id = $round_id
