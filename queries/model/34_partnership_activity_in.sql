-- partnership_activity_in(start, end, region, service_type, sector): every declared partnership in
-- force in the period, with the referrals between its two agencies in the period in either
-- direction (internal referrals excluded; service_type filters the referrals counted), and status
-- `dormant` when there were none, else `active`. region and sector keep partnerships where either
-- agency is in that region or sector.
create macro partnership_activity_in(p_start, p_end, p_region, p_service_type, p_sector) as table
with

partnerships as (
    select * from partnerships_in(p_start, p_end)
),

scoped as (
    select p.*
    from partnerships as p
    inner join main.agencies as a on a.agency_id = p.agency_a_id
    inner join main.agencies as b on b.agency_id = p.agency_b_id
    where (p_region is null or a.region = p_region or b.region = p_region)
        and (p_sector is null or a.sector = p_sector or b.sector = p_sector)
),

pair_referrals as (
    select
        least(from_agency_id, to_agency_id) as agency_lo,
        greatest(from_agency_id, to_agency_id) as agency_hi,
        cast(sum(referrals) as bigint) as referrals
    from flows_in(p_start, p_end, null, p_service_type, null)
    group by all
),

final as (
    select
        s.agency_a_id,
        s.agency_b_id,
        s.kind,
        s.instrument,
        s.started_on,
        s.ended_on,
        coalesce(r.referrals, 0) as referrals,
        case when coalesce(r.referrals, 0) = 0 then 'dormant' else 'active' end as status
    from scoped as s
    left join pair_referrals as r
        on r.agency_lo = s.agency_lo and r.agency_hi = s.agency_hi
)

select * from final
