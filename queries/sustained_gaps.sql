-- name: sustained_gaps
-- purpose: Gaps between need and capacity that persist (unmet need in most of the period's last months), with the slots that would close them.
-- grain: one row per (region, service_type) with unmet need in at least min_months of the last window_months months of the period
-- params:
--   start date: a month is in the period when its first day is on or after this date; empty = all
--   end date: a month is in the period when its first day is on or before this date; empty = all
--   region text: region (of the need, of the receiving agency, of the program's agency); empty = all
--   service_type text: service type; empty = all
--   window_months int = 4: the window is this many months, ending with the last month of the period
--   min_months int = 3: a gap is sustained when need exceeded capacity in at least this many months of the window
with

monthly as (
    select * from need_cells($start, $end, $region, $service_type)
),

bounds as (
    select
        max(month) as window_end,
        cast(greatest(min(month), max(month) - to_months(greatest($window_months, 1) - 1)) as date) as window_start
    from monthly
),

windowed as (
    select
        m.*,
        b.window_start,
        b.window_end,
        date_diff('month', b.window_start, b.window_end) + 1 as window_months
    from monthly as m
    cross join bounds as b
    where m.month >= b.window_start
),

gaps as (
    select
        region,
        service_type,
        any_value(window_start) as window_start,
        any_value(window_end) as window_end,
        any_value(window_months) as window_months,
        count(*) filter (where unmet_need > 0) as short_months,
        cast(sum(need) as bigint) as need,
        cast(sum(demand) as bigint) as demand,
        cast(sum(capacity) as bigint) as capacity,
        cast(sum(unmet_need) as bigint) as unmet_need,
        -- slots to add for the window's average month (months without a row count as 0), rounded up
        cast(ceil(sum(unmet_need) / any_value(window_months)) as bigint) as slots_typical,
        -- slots to add for the window's worst month
        max(unmet_need) as slots_worst
    from windowed
    group by region, service_type
),

final as (
    select
        region,
        service_type,
        window_start,
        window_end,
        window_months,
        short_months,
        need,
        demand,
        capacity,
        unmet_need,
        unmet_need / nullif(need, 0) as unmet_share,
        -- lower end of the 95 % Wilson interval of unmet_share (each person in need in a month one
        -- trial): the ranking measure, so a handful of people cannot outrank a large gap
        wilson_low(unmet_need, need) as unmet_share_low,
        need / nullif(capacity, 0) as need_per_slot,
        demand / nullif(capacity, 0) as utilization,
        slots_typical,
        slots_worst,
        capacity = 0 as no_slots
    from gaps
    where short_months >= $min_months
)

select * from final
order by no_slots, unmet_share_low desc nulls last, unmet_need desc, region, service_type
