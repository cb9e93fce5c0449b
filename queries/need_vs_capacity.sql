-- name: need_vs_capacity
-- purpose: Assessed need, referral demand and service capacity side by side, by region, service and month.
-- grain: one row per (region, service_type, month) present in needs, referrals or capacity
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: region (of the need, of the receiving agency, of the program's agency); empty = all
--   service_type text: service type; empty = all
with

needs as (
    select region, service_type, month, cast(sum(people_in_need) as bigint) as need
    from needs
    group by all
),

demand as (
    select to_region as region, service_type, referred_month as month, count(*) as demand
    from referral_facts
    group by all
),

capacity as (
    select region, service_type, month, cast(sum(slots) as bigint) as capacity
    from capacity_facts
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
    where ($start is null or month >= cast($start as date))
        and ($end is null or month <= cast($end as date))
        and ($region is null or region = $region)
        and ($service_type is null or service_type = $service_type)
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

select * from final order by region, service_type, month
