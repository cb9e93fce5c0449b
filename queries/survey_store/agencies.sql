-- Every agency of the imported data, with its name and whether it is a victim-service provider.
select agency_id, name, is_victim_service as victim_service
from agencies
order by agency_id
