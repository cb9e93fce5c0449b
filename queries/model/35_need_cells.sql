-- need_cells(start, end, region, service_type): need, referral demand and capacity side by side for
-- every (region, service_type, month) present in any of the three sources, the month in the period
-- when its first day is. need sums needs.people_in_need; demand counts referrals of the service made
-- that month to agencies in the region; capacity sums the slots of the region's programs of the
-- service. A missing source counts as 0. unmet_need = max(need - capacity, 0); utilization =
-- demand / capacity, null without capacity. The one definition need_vs_capacity and the Need page's
-- queries share. Null arguments mean all.
create macro need_cells(p_start, p_end, p_region, p_service_type) as table
with

needs as (
    select region, service_type, month, cast(sum(people_in_need) as bigint) as need
    from main.needs
    group by all
),

demand as (
    select to_region as region, service_type, referred_month as month, cast(sum(referrals) as bigint) as demand
    from main.referral_months
    group by all
),

capacity as (
    select region, service_type, month, cast(sum(slots) as bigint) as capacity
    from main.capacity_facts
    group by all
),

cells as (
    select region, service_type, month from needs
    union
    select region, service_type, month from demand
    union
    select region, service_type, month from capacity
),

scoped as (
    select *
    from cells
    where (p_start is null or month >= cast(p_start as date))
        and (p_end is null or month <= cast(p_end as date))
        and (p_region is null or region = p_region)
        and (p_service_type is null or service_type = p_service_type)
),

final as (
    select
        s.region,
        s.service_type,
        s.month,
        coalesce(n.need, 0) as need,
        coalesce(d.demand, 0) as demand,
        coalesce(c.capacity, 0) as capacity,
        greatest(coalesce(n.need, 0) - coalesce(c.capacity, 0), 0) as unmet_need,
        coalesce(d.demand, 0) / nullif(c.capacity, 0) as utilization
    from scoped as s
    left join needs as n using (region, service_type, month)
    left join demand as d using (region, service_type, month)
    left join capacity as c using (region, service_type, month)
)

select * from final
