-- name: need_gaps
-- purpose: How far assessed need outran service capacity in each region and service over the period, with referral demand and utilization.
-- grain: one row per (region, service_type) with need, referrals or capacity in a month of the period
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: region (of the need, of the receiving agency, of the program's agency); empty = all
--   service_type text: service type; empty = all
with

monthly as (
    select * from need_cells($start, $end, $region, $service_type)
),

period as (
    select date_diff('month', min(month), max(month)) + 1 as months
    from monthly
),

per_cell as (
    select
        m.region,
        m.service_type,
        any_value(p.months) as months,
        count(*) filter (where m.unmet_need > 0) as short_months,
        count(*) filter (where m.demand > m.capacity) as over_months,
        cast(sum(m.need) as bigint) as need,
        cast(sum(m.demand) as bigint) as demand,
        cast(sum(m.capacity) as bigint) as capacity,
        cast(sum(m.unmet_need) as bigint) as unmet_need
    from monthly as m
    cross join period as p
    group by m.region, m.service_type
),

final as (
    select
        *,
        unmet_need / nullif(need, 0) as unmet_share,
        -- lower end of the 95 % Wilson interval of unmet_share (each person in need in a month one
        -- trial): the ranking measure, so a handful of people cannot outrank a large gap
        wilson_low(unmet_need, need) as unmet_share_low,
        need / nullif(capacity, 0) as need_per_slot,
        demand / nullif(capacity, 0) as utilization,
        capacity = 0 as no_slots
    from per_cell
)

select * from final
order by no_slots, unmet_share_low desc nulls last, unmet_need desc, region, service_type
