-- One round's members, by name.
select agency_id, name, victim_service
from members
where round_id = $round_id
order by name, agency_id
