-- name: stage_durations
-- purpose: How long referrals wait in each stage: days from referral to acceptance and to service start, binned, with quartiles.
-- grain: one row per (stage, bin) with at least one referral; stage is days_to_accept or days_to_start
-- params:
--   start date: first day of the period, on referred_at (inclusive); empty = from the first referral
--   end date: last day of the period, on referred_at (inclusive); empty = to the last referral
--   region text: region of the receiving agency; empty = all
--   service_type text: service type of the referral; empty = all
--   sector text: sector of the receiving agency; empty = all
--   agency_id text: only referrals to this receiving agency; empty = all
with

referrals as (
    select *
    from referrals_in($start, $end, $region, $service_type, $sector)
    where $agency_id is null or to_agency_id = $agency_id
),

durations as (
    select 'days_to_accept' as stage, days_to_accept as days from referrals where days_to_accept is not null
    union all
    select 'days_to_start', days_to_start from referrals where days_to_start is not null
),

bins as (
    select * from (values
        (1, 0, 1, '< 1 day'), (2, 1, 2, '1–2 days'), (3, 2, 3, '2–3 days'), (4, 3, 5, '3–5 days'),
        (5, 5, 7, '5–7 days'), (6, 7, 14, '1–2 weeks'), (7, 14, 30, '2–4 weeks'),
        (8, 30, 60, '1–2 months'), (9, 60, 1e9, '2 months +')
    ) as t(bin, low, high, label)
),

stats as (
    select
        stage,
        count(*) as stage_total,
        quantile_cont(days, 0.25) as q1,
        quantile_cont(days, 0.5) as median,
        quantile_cont(days, 0.75) as q3,
        quantile_cont(days, 0.9) as p90
    from durations
    group by stage
),

binned as (
    select d.stage, b.bin, b.label, count(*) as referrals
    from durations as d
    inner join bins as b on d.days >= b.low and d.days < b.high
    group by d.stage, b.bin, b.label
),

final as (
    select
        b.stage,
        b.bin,
        b.label,
        b.referrals,
        b.referrals / s.stage_total as share,
        s.stage_total,
        s.q1,
        s.median,
        s.q3,
        s.p90
    from binned as b
    inner join stats as s using (stage)
)

select * from final order by stage, bin
