-- The invitation addresses of a round's members.
select agency_id, email from contacts where round_id = $round_id order by agency_id
