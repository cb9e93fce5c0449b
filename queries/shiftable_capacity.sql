-- name: shiftable_capacity
-- purpose: Slots left unused in one region while need for the same service goes unmet in another: a shift of slots, not new money.
-- grain: one row per (service_type, region) with spare slots or unmet need in a month of the period
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: keep the service types in which this region has spare slots or unmet need (every region of them stays, since slots move between regions); empty = all
--   service_type text: service type; empty = all
with

monthly as (
    select
        region,
        service_type,
        month,
        -- slots beyond both the region's own need and the referrals it received
        greatest(capacity - greatest(need, demand), 0) as spare,
        unmet_need as unmet
    from need_cells($start, $end, null, $service_type)
),

period as (
    select date_diff('month', min(month), max(month)) + 1 as months
    from monthly
),

service_months as (
    select service_type, month, least(sum(spare), sum(unmet)) as shiftable
    from monthly
    group by all
),

services as (
    select s.service_type, sum(s.shiftable) / any_value(p.months) as shiftable_slots
    from service_months as s
    cross join period as p
    group by s.service_type
),

per_region as (
    select
        m.service_type,
        m.region,
        sum(m.spare) / any_value(p.months) as spare_slots,
        sum(m.unmet) / any_value(p.months) as unmet_need
    from monthly as m
    cross join period as p
    group by m.service_type, m.region
    having sum(m.spare) > 0 or sum(m.unmet) > 0
),

kept as (
    select distinct service_type
    from per_region
    where $region is null or region = $region
),

final as (
    select
        r.service_type,
        r.region,
        p.months,
        r.spare_slots,
        r.unmet_need,
        s.shiftable_slots
    from per_region as r
    inner join kept using (service_type)
    inner join services as s using (service_type)
    cross join period as p
)

select * from final
order by shiftable_slots desc, service_type, spare_slots desc, unmet_need desc, region
