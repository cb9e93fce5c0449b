-- name: referral_pathways
-- purpose: Where referrals go and how far they get: flows from the referring sector to the receiving sector (or, for one focus sector, its agencies) by the stage each referral reached.
-- grain: one row per (referring sector, receiving node, stage reached) with at least one referral between different agencies made in the period; the receiving node is the receiving agency's sector, or the agency itself when it is in focus_sector
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   focus_sector text: receiving agencies in this sector are shown one by one instead of as their sector; empty = sectors only
with

referrals as (
    select * from referrals_in($start, $end, $region, $service_type, $sector)
    where not is_internal
),

agencies as (select * from agencies),

stage_order as (
    select * from (values
        ('completed', 1), ('started', 2), ('accepted', 3), ('declined', 4), ('pending', 5)
    ) as t(stage, stage_position)
),

routed as (
    select
        r.from_sector,
        r.to_sector,
        case when r.to_sector = $focus_sector then 'agency' else 'sector' end as to_kind,
        case when r.to_sector = $focus_sector then r.to_agency_id end as to_agency_id,
        r.status as stage
    from referrals as r
),

flows as (
    select
        from_sector,
        to_kind,
        to_sector,
        to_agency_id,
        stage,
        count(*) as referrals
    from routed
    group by all
),

final as (
    select
        f.from_sector,
        f.to_kind,
        f.to_sector,
        f.to_agency_id,
        coalesce(a.name, f.to_sector) as to_node,
        coalesce(a.is_victim_service, false) as to_victim_service,
        f.stage,
        s.stage_position,
        f.referrals
    from flows as f
    inner join stage_order as s on s.stage = f.stage
    left join agencies as a on a.agency_id = f.to_agency_id
)

select * from final order by from_sector, to_kind, to_node, to_agency_id, stage_position
