-- name: need_vs_capacity
-- purpose: Assessed need, referral demand and service capacity side by side, by region, service and month.
-- grain: one row per (region, service_type, month) present in needs, referrals or capacity
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: region (of the need, of the receiving agency, of the program's agency); empty = all
--   service_type text: service type; empty = all
with

final as (
    select * from need_cells($start, $end, $region, $service_type)
)

select * from final order by region, service_type, month
