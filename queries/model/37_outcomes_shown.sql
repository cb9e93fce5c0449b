-- outcomes_shown(start, end, region, service_type, sector, min_cell): outcomes_in(...) as an audience
-- may see them: with min_cell above 0 (any view but a director's) victim-service agencies' exits are
-- left out, so they are never named nor countable there. The rule every outcome query shares.
create macro outcomes_shown(p_start, p_end, p_region, p_service_type, p_sector, p_min_cell) as table
select *
from outcomes_in(p_start, p_end, p_region, p_service_type, p_sector)
where p_min_cell = 0 or not is_victim_service
