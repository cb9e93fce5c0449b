-- flows_in(start, end, region, service_type, sector): referrals between two different agencies in the
-- period, one row per (from_agency_id, to_agency_id) with referrals and accepted, as counting
-- referrals_in(...) where not is_internal gives them. The months wholly inside the period are read
-- from the flow_months rollup; only the part-months at either end of the period are counted from
-- referral_facts (in order of referral, so those scans skip the rest). A null argument means "all".
create macro flows_in(p_start, p_end, p_region, p_service_type, p_sector) as table
with

bounds as (
    select
        -- the first month wholly inside the period, and the month after the last one (null: open)
        case
            when p_start is null then null
            when day(cast(p_start as date)) = 1 then cast(p_start as date)
            else cast(date_trunc('month', cast(p_start as date)) + interval 1 month as date)
        end as whole_from,
        case
            when p_end is null then null
            when cast(p_end as date) = last_day(cast(p_end as date))
                then cast(date_trunc('month', cast(p_end as date)) + interval 1 month as date)
            else cast(date_trunc('month', cast(p_end as date)) as date)
        end as whole_to
),

whole_months as (
    select m.from_agency_id, m.to_agency_id, m.referrals, m.accepted
    from main.flow_months as m
    cross join bounds as b
    where (b.whole_from is null or m.referred_month >= b.whole_from)
        and (b.whole_to is null or m.referred_month < b.whole_to)
        and (p_region is null or m.to_region = p_region)
        and (p_service_type is null or m.service_type = p_service_type)
        and (p_sector is null or m.to_sector = p_sector)
),

part_months as (
    -- the period's referrals before its first whole month, or from the month after its last whole
    -- one on (with no whole month at all, that is every referral of the period, each once)
    select r.from_agency_id, r.to_agency_id, 1 as referrals, cast(r.accepted_at is not null as bigint) as accepted
    from main.referral_facts as r
    cross join bounds as b
    where not r.is_internal
        and (p_start is null or r.referred_at >= cast(p_start as timestamp))
        and (p_end is null or r.referred_at < cast(p_end as timestamp) + interval 1 day)
        and ((b.whole_from is not null and r.referred_at < b.whole_from)
            or (b.whole_to is not null and r.referred_at >= b.whole_to))
        and (p_region is null or r.to_region = p_region)
        and (p_service_type is null or r.service_type = p_service_type)
        and (p_sector is null or r.to_sector = p_sector)
),

final as (
    select from_agency_id, to_agency_id, cast(sum(referrals) as bigint) as referrals,
        cast(sum(accepted) as bigint) as accepted
    from (select * from whole_months union all select * from part_months)
    group by from_agency_id, to_agency_id
)

select * from final
