-- name: capacity_declines
-- purpose: Referrals declined for lack of capacity, by region and service: the referral side's signal of scarcity, to set beside utilization.
-- grain: one row per (region, service_type) with referrals in a month of the period (the receiving agency's region)
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: the receiving agency's region; empty = all
--   service_type text: service type; empty = all
with

referrals as (
    select * from referral_months
),

scoped as (
    select *
    from referrals
    where ($start is null or referred_month >= cast($start as date))
        and ($end is null or referred_month <= cast($end as date))
        and ($region is null or to_region = $region)
        and ($service_type is null or service_type = $service_type)
),

final as (
    select
        to_region as region,
        service_type,
        cast(sum(referrals) as bigint) as referrals,
        cast(sum(declined) as bigint) as declined,
        cast(sum(declined_no_capacity) as bigint) as no_capacity,
        sum(declined_no_capacity) / nullif(sum(declined), 0) as no_capacity_share,
        sum(declined_no_capacity) / sum(referrals) as no_capacity_rate
    from scoped
    group by all
)

select * from final
order by no_capacity_share desc nulls last, no_capacity desc, region, service_type
