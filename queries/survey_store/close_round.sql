-- A round closed on a day.
update rounds set closed_on = $closed_on where round_id = $round_id
