-- How many answer rows a round holds.
select count(*) from answers where round_id = $round_id
