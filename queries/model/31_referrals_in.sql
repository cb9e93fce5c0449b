-- referrals_in(start, end, region, service_type, sector): referral_facts filtered by the common
-- parameters. The period is inclusive on referred_at; region and sector are the receiving agency's.
-- A null argument means "all".
create macro referrals_in(p_start, p_end, p_region, p_service_type, p_sector) as table
select *
from main.referral_facts
where (p_start is null or referred_at >= cast(p_start as timestamp))
    and (p_end is null or referred_at < cast(p_end as timestamp) + interval 1 day)
    and (p_region is null or to_region = p_region)
    and (p_service_type is null or service_type = p_service_type)
    and (p_sector is null or to_sector = p_sector)
