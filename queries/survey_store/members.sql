-- Every round's members, by round and agency.
select round_id, agency_id, name, victim_service
from members
order by round_id, agency_id
