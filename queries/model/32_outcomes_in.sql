-- outcomes_in(start, end, region, service_type, sector): outcome_facts filtered by the common
-- parameters. The period is inclusive on achieved_on; region and sector are the exiting agency's,
-- service_type the program's (exits recorded without a program have none).
create macro outcomes_in(p_start, p_end, p_region, p_service_type, p_sector) as table
select *
from main.outcome_facts
where (p_start is null or achieved_on >= cast(p_start as date))
    and (p_end is null or achieved_on <= cast(p_end as date))
    and (p_region is null or region = p_region)
    and (p_service_type is null or service_type = p_service_type)
    and (p_sector is null or sector = p_sector)
